import type {Secret} from '../secret.js'
import type {ManagerKind} from './managers/backend.js'

/**
 * The contract between the sync engine and a platform. Adapters know one platform; they never
 * print, prompt or read the manifest: they get plain data (a Destination) and return plain data.
 */

export type TargetKind = 'docker' | 'kubernetes' | 'railway' | 'render' | ManagerKind

/** A live value that exists but cannot be read back (a Railway sealed variable). */
export const WRITE_ONLY = Symbol('write-only')
export type LiveValue = Secret | typeof WRITE_ONLY

/** One concrete place values land. `config` is the adapter's own, resolved from the manifest. */
export interface Destination<C = unknown> {
  /** Stable id, also the key of the local ownership record: "kubernetes:ctx/ns/name". */
  id: string
  kind: TargetKind
  /** For people: "kubernetes secret acme-staging/acme-backend". */
  label: string
  environment: string
  /** The envsync services whose values land here. */
  services: string[]
  config: C
}

export interface LiveState {
  /** false: nothing there yet (no Secret, no directory); the first apply creates it. */
  exists: boolean
  values: Map<string, LiveValue>
  /**
   * Keys envsync put here, when the platform itself can say (Kubernetes managedFields, the
   * Docker directory's ownership file). Undefined: the engine uses its local record.
   */
  owned?: Set<string>
  /**
   * Keys another tool holds, with its names (Kubernetes managedFields: kubectl edit, helm…): a new
   * value there is a conflict the platform refuses unless forced.
   */
  conflicts?: Map<string, string[]>
  /**
   * Keys held here other than as the destination delivers them now (copies that disagree, such as
   * two services' Docker env files, or a value left in the other delivery): each copy and where it
   * is. The plan rewrites them (an update, never unchanged); pull compares the copies.
   */
  copies?: Map<string, {where: string; value: Secret}[]>
}

export type ChangeAction = 'add' | 'update' | 'remove'

export interface Change {
  key: string
  action: ChangeAction
  /** The new value for add/update. */
  value?: Secret
}

export interface ApplyInput {
  changes: Change[]
  /** Every key envsync manages here after the apply, with its value (for whole-object writes). */
  desired: Map<string, Secret>
  /** Keys envsync will own here after the apply (desired keys). */
  owned: Set<string>
  live: LiveState
}

/** One redeploy that follows the writes: done, failed, or left to the user (Docker: a command to run). */
export interface Redeploy {
  /** The destination whose values it delivers (its id). */
  destination: string
  /** The destination's label, for people. */
  label: string
  /** What was (or is to be) redeployed: "deployment/api restarted", "service api redeployed". */
  what: string
  status: 'applied' | 'failed' | 'todo'
  /** Docker: the command to run. */
  command?: string
  error?: string
}

export interface Target<C = unknown> {
  readonly kind: TargetKind
  read(dest: Destination<C>): Promise<LiveState>
  /** Makes the changes, in as few requests as the platform allows. Throws EnvsyncError on failure. */
  apply(dest: Destination<C>, input: ApplyInput): Promise<void>
  /**
   * Once after every destination of this kind was written: work that must follow all writes,
   * such as one redeploy per changed service (Railway, Render), a rollout restart of the
   * workloads that read a Secret (Kubernetes), the compose command to recreate containers
   * (Docker). `keys`: per destination id, the keys changed there (or rotated), for adapters that
   * redeploy only what reads them. Throwing fails every destination of the kind.
   */
  finish?(applied: Destination<C>[], keys?: ReadonlyMap<string, string[]>): Promise<Redeploy[] | void>
  /**
   * Before push writes anything anywhere: what would fail for certain (a Kubernetes namespace push
   * will not create). Throws EnvsyncError; problems a read reports anyway are left to the read.
   */
  preflight?(destinations: Destination<C>[]): Promise<void>
  /** Requests made so far (for benchmarks and "in-sync costs one read" tests). */
  readonly requests?: number
}
