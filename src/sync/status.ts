import {placeholderKeys} from '../check/check.js'
import {now} from '../clock.js'
import {missing} from '../check/rules.js'
import {asEnvsyncError, EnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {displayPath} from '../paths.js'
import {resolveDestinations, valueOf, type Resolved} from '../manifest/resolve.js'
import type {KubernetesOptions} from '../targets/kubernetes.js'
import type {TargetKind} from '../targets/target.js'
import {parseEnv} from '../values/dotenv.js'
import {readStore, type ValuesFile} from '../values/store.js'
import {countActions} from './plan.js'
import {graceStates, rotationDates, type GraceInfo, type RotationInfo, type RotationState} from './rotation.js'
import {SyncState, type HistoryEntry} from './state.js'
import {planSync} from './sync.js'

/** An error as status reports it: per environment or destination, never fatal to the others. */
export type StatusError = ReturnType<EnvsyncError['toJSON']>

export interface StatusResult {
  environments: EnvironmentStatus[]
  /** Whether destinations were read (--live): drift is known only then. */
  live: boolean
}

export interface EnvironmentStatus {
  environment: string
  protected: boolean
  store: {
    file: string
    /** `plain` (a git-ignored .env file) or the manifest's store kind (`encrypted`). */
    kind: string
    exists: boolean
    /** An encrypted store this machine holds no key for: values unknown, the rest still shown. */
    locked: boolean
  }
  /** Required keys with no value (check's `missing`): undefined while the store cannot be read. */
  missing?: string[]
  /** Keys whose value is a placeholder (never pushed). */
  placeholders?: string[]
  /** Due dates of the keys with a rotation period (undefined while the store cannot be read). */
  rotation?: RotationSummary
  destinations: DestinationStatus[]
  /** The store or the manifest's targets could not be read (the store is damaged…). */
  error?: StatusError
}

/** An environment's rotation picture: how many keys are overdue or due soon, and which is next. */
export interface RotationSummary {
  overdue: number
  soon: number
  /** Keys whose last change was never recorded (check notes them). */
  unknown: number
  /** The earliest due date and its key: the most overdue, else the next to come. */
  next?: {key: string; due: string; state: RotationState}
  keys: RotationInfo[]
  /** Grace periods running now: previous values still delivered. */
  graces: GraceInfo[]
}

export interface DestinationStatus {
  id: string
  kind: TargetKind
  label: string
  /** The last push that wrote here (the shared change history). */
  lastPush?: Pick<HistoryEntry, 'time' | 'user' | 'ci' | 'status'>
  /** --live: what push would change here now, or why it could not be read. */
  drift?: {changes: number; add: number; update: number; remove: number} | {error: StatusError}
}

export interface StatusOptions {
  /** Read every destination and plan (what `diff` does), for drift. */
  live?: boolean
  kubernetes?: KubernetesOptions
  /** The time due dates are judged at (default: now(), ENVSYNC_NOW when set). */
  at?: Date
}

/**
 * Every environment (or those named) × its destinations at a glance: the store, values still
 * missing, placeholders, the last push to each destination and, when live, the drift. Reads,
 * never writes; one environment's failure (a locked or damaged store, an unreachable platform)
 * is reported in its place and the others go on.
 */
export async function status(manifest: Manifest, environments: string[] = [], options: StatusOptions = {}): Promise<StatusResult> {
  // Unknown names fail before anything is read (the manifest's own did-you-mean error).
  for (const env of environments) manifest.environment(env)
  const names = environments.length > 0 ? [...new Set(environments)] : manifest.environmentNames
  const history = new SyncState(manifest.dir).history()
  const seen = {last: lastPushes(history), history, at: options.at ?? now()}
  const out = await Promise.all(names.map((env) => environmentStatus(manifest, env, seen, options)))
  return {environments: out, live: options.live === true}
}

/** What every environment's status reads from the shared history, once. */
interface Seen {
  last: Map<string, HistoryEntry>
  history: HistoryEntry[]
  at: Date
}

async function environmentStatus(manifest: Manifest, env: string, {last, history, at}: Seen, options: StatusOptions): Promise<EnvironmentStatus> {
  const file = manifest.valuesFile(env)
  const result: EnvironmentStatus = {
    environment: env,
    protected: manifest.isProtected(env),
    store: {file: displayPath(file), kind: storeKind(manifest, env), exists: false, locked: false},
    destinations: [],
  }
  let store: ValuesFile
  try {
    store = await readStore(manifest, env)
    result.store = {...result.store, file: store.display, exists: store.exists}
    result.missing = missingKeys(manifest, env, store)
    result.placeholders = [...placeholderKeys(manifest, env, store)]
    result.rotation = rotationSummary(rotationDates(manifest, env, store, history, at), graceStates(manifest, env, history, at))
  } catch (error) {
    const e = asEnvsyncError(error)
    if (e.code !== 'STORE_LOCKED') result.error = e.toJSON()
    result.store = {...result.store, exists: true, locked: e.code === 'STORE_LOCKED'}
    // Destinations and their history do not need the values.
    store = emptyStore(file)
  }
  let resolved: Resolved[]
  try {
    resolved = manifest.targetsOf(env).length === 0 ? [] : resolveDestinations(manifest, env, store)
  } catch (error) {
    result.error ??= asEnvsyncError(error).toJSON()
    return result
  }
  // A destination the manifest no longer feeds is worth a line only if envsync wrote there.
  result.destinations = resolved
    .filter((r) => !r.optional || last.has(historyKey(env, r.destination.id)))
    .map(({destination: d}) => {
      const entry = last.get(historyKey(env, d.id))
      return {id: d.id, kind: d.kind, label: d.label, ...(entry ? {lastPush: {time: entry.time, user: entry.user, ...(entry.ci ? {ci: entry.ci} : {}), status: entry.status}} : {})}
    })
  if (options.live && !result.store.locked && !result.error && result.destinations.length > 0) await addDrift(manifest, env, store, result, options)
  return result
}

/** What push would change per destination (diff's plan), each destination's read error in its place. */
async function addDrift(manifest: Manifest, env: string, store: ValuesFile, result: EnvironmentStatus, options: StatusOptions): Promise<void> {
  try {
    const plan = await planSync(manifest, env, {store, kubernetes: options.kubernetes})
    const plans = new Map(plan.plans.map((p) => [p.destination.id, p]))
    for (const d of result.destinations) {
      const p = plans.get(d.id)
      if (!p) continue
      if (p.error) {
        d.drift = {error: asEnvsyncError(p.error).toJSON()}
        continue
      }
      const counts = countActions(p)
      d.drift = {changes: p.changes.length, add: counts.add, update: counts.update, remove: counts.remove}
    }
  } catch (error) {
    result.error = asEnvsyncError(error).toJSON()
  }
}

function rotationSummary(keys: RotationInfo[], graces: Map<string, GraceInfo>): RotationSummary {
  const count = (state: RotationState) => keys.filter((k) => k.state === state).length
  const dated = keys.filter((k) => k.due !== undefined).sort((a, b) => (a.due! < b.due! ? -1 : a.due! > b.due! ? 1 : 0))
  const next = dated[0] && {key: dated[0].key, due: dated[0].due!, state: dated[0].state}
  return {overdue: count('overdue'), soon: count('soon'), unknown: count('unknown'), ...(next ? {next} : {}), keys, graces: [...graces.values()].filter((g) => g.active)}
}

/** Required keys without a value, by check's own rule (a literal override for every target counts). */
function missingKeys(manifest: Manifest, env: string, store: ValuesFile): string[] {
  return manifest
    .secretsFor(env)
    .filter((spec) => missing(spec, {manifest, env, file: store.display, value: valueOf(spec, store), elsewhere: new Map()}))
    .map((spec) => spec.key)
}

/** `plain`, or the kind key of the manifest's `store:` option (`encrypted`, later a secret manager). */
function storeKind(manifest: Manifest, env: string): string {
  const option = manifest.environment(env).store
  return (option && Object.keys(option)[0]) ?? 'plain'
}

/** A store with no values, where the values cannot be read: destinations still resolve. */
function emptyStore(file: string): ValuesFile {
  const display = displayPath(file)
  return {file, display, exists: false, doc: parseEnv('', display), values: new Map(), duplicates: []}
}

const historyKey = (env: string, id: string) => `${env}\u0000${id}`

/** The newest history entry per environment and destination. */
function lastPushes(history: HistoryEntry[]): Map<string, HistoryEntry> {
  const out = new Map<string, HistoryEntry>()
  for (const e of history) {
    if ((e.action ?? 'push') !== 'push' || e.destination === undefined) continue
    const key = historyKey(e.environment, e.destination)
    const seen = out.get(key)
    if (!seen || seen.time <= e.time) out.set(key, e)
  }
  return out
}

/** Something could not be read: a store (other than locked) or, with --live, a destination. */
export function unreadable(r: StatusResult): boolean {
  return r.environments.some((e) => e.error !== undefined || e.destinations.some((d) => d.drift !== undefined && 'error' in d.drift))
}

/** Values missing, placeholders, secrets overdue for rotation, or (live) changes push would make: what --exit-code reports. */
export function needsAttention(r: StatusResult): boolean {
  return r.environments.some(
    (e) =>
      (e.missing?.length ?? 0) > 0 ||
      (e.placeholders?.length ?? 0) > 0 ||
      (e.rotation?.overdue ?? 0) > 0 ||
      e.destinations.some((d) => d.drift !== undefined && 'changes' in d.drift && d.drift.changes > 0),
  )
}
