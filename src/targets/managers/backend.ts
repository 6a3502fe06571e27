/**
 * A secret manager as envsync sees it: named secrets, each holding one text value (a JSON object
 * when several keys share it), with an ownership marker. One small interface for AWS Secrets
 * Manager, Vault KV v2, Google Secret Manager and Azure Key Vault, shared by both roles a manager
 * plays: the environment's store (src/values/store.ts) and a push destination (ManagerTarget in
 * ./target.ts). Naming, JSON groups, ownership and "write only what changed" live above this
 * interface, once (names are checked against each platform's rules in ./layout.ts, at manifest
 * load); a backend knows its platform's requests, paging, throttling and errors.
 *
 * Backends never print, prompt or read the manifest. Every failure is an EnvsyncError whose
 * message names the operation and the secret name, never a value; foreign text (an SDK's
 * message, a server's body) goes into it only through the EnvsyncError constructor, which
 * redacts. Every request is bounded in time, and a rate limit (429, ThrottlingException,
 * RESOURCE_EXHAUSTED) is waited out with backoff a bounded number of times, then reported.
 */

export type ManagerKind = 'aws' | 'vault' | 'gcp' | 'azure'

/** Who put a secret there: carried as AWS tags, Vault custom_metadata, GCP labels, Azure tags. */
export interface Marker {
  project: string
  environment: string
}

/** The marker as platform tags: lowercase names and values fit every platform's label rules. */
export function markerTags(marker: Marker): Record<string, string> {
  return {'managed-by': 'envsync', 'envsync-project': marker.project, 'envsync-environment': marker.environment}
}

/** The marker a secret's tags carry, if envsync put them there. */
export function markerOf(tags: Record<string, string> | undefined): Marker | undefined {
  if (!tags || tags['managed-by'] !== 'envsync') return undefined
  const project = tags['envsync-project']
  const environment = tags['envsync-environment']
  return project && environment ? {project, environment} : undefined
}

/** A secret as a list shows it: no value. */
export interface RemoteSecret {
  /** The full name (AWS name, Vault path under the mount, GCP secret id, Azure name). */
  name: string
  marker?: Marker
  /** The platform's own id where it has one beside the name: AWS ARN (ECS valueFrom). */
  id?: string
}

/** Platform options from the manifest, after defaults (each backend reads its own fields). */
export interface ManagerOptions {
  /** AWS region (else the SDK's chain: AWS_REGION, profile). */
  region?: string
  /** AWS named profile (else AWS_PROFILE / the default chain). */
  profile?: string
  /** Vault address (else VAULT_ADDR). */
  address?: string
  /** Vault KV v2 mount (default "secret"). */
  mount?: string
  /** Vault Enterprise namespace (else VAULT_NAMESPACE). */
  namespace?: string
  /** GCP project id (else GOOGLE_CLOUD_PROJECT / the credentials' project). */
  project?: string
  /** Azure Key Vault: a name (https://NAME.vault.azure.net) or the vault URL. */
  vault?: string
}

export interface SecretManagerBackend {
  readonly kind: ManagerKind
  /** For messages: "AWS Secrets Manager". */
  readonly service: string
  /** Requests sent so far (benchmarks, "in sync costs one read" tests). */
  readonly requests: number
  /**
   * Vault keeps a map of fields per secret, not one text: `true` means a value is always a JSON
   * object of string fields (a one-key secret is {"value": …}); false: any text.
   */
  readonly structured: boolean
  /** Every live secret whose name starts with `prefix` (every page), not deleted ones. */
  list(prefix: string): Promise<RemoteSecret[]>
  /**
   * Current values of these secrets, batched where the platform can; a name that does not exist
   * (or has no current version) is left out of the result, not an error.
   */
  read(names: string[]): Promise<Map<string, string>>
  /**
   * Stores `value` as a new version (history kept), creating the secret with the marker when it
   * does not exist. A name taken by a deleted-but-recoverable secret (AWS scheduled deletion,
   * Azure soft delete) is restored when the platform allows, else a clear error: never a loop.
   * `hint.exists` (from a list just made) saves a request: true means update first, false create.
   */
  write(name: string, value: string, marker: Marker, hint?: {exists?: boolean}): Promise<void>
  /** Deletes the secret (AWS: with its recovery window; Azure: soft delete). Absent: done. */
  remove(name: string): Promise<void>
  /**
   * When the current version of each secret read() returned was written (its creation date, not
   * a tag edit's). AWS, Vault and Azure sent it with the value (no request); GCP asks for each
   * version's metadata (one request per name). Names without a known date are left out.
   */
  dates(names: string[]): Promise<Map<string, Date>>
  /**
   * The texts of a secret's older versions, newest first, starting with the one the current
   * version read() saw replaced (never a newer one, such as AWSPENDING). A version that cannot be
   * read (deleted, disabled, destroyed) ends the walk: destroying it is how a leaked value is
   * withdrawn, so no older value may take its place. Lazy, and at most `limit` versions are
   * looked at: the caller stops once it has what it needs.
   */
  older(name: string, limit: number): AsyncGenerator<string>
  /** What a user should know that is no error: a previous value not looked for (a bound reached). No value in them. */
  readonly notes?: string[]
}

/** The dates a backend already holds for these names, read with their values: no request. */
export function knownDates(names: string[], dateOf: (name: string) => Date | undefined): Map<string, Date> {
  const out = new Map<string, Date>()
  for (const name of names) {
    const date = dateOf(name)
    if (date) out.set(name, date)
  }
  return out
}

/** Each backend module exports this; ./open.ts imports the module (and its SDK) only when used. */
export type CreateBackend = (options: ManagerOptions, env: NodeJS.ProcessEnv) => Promise<SecretManagerBackend>
