import {EnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {keysOfServices, manifestKeysOf, requireKeysOfServices, resolveDestinations} from '../manifest/resolve.js'
import {didYouMean} from '../manifest/suggest.js'
import type {Secret} from '../secret.js'
import type {KubernetesOptions} from '../targets/kubernetes.js'
import {Targets} from '../targets/registry.js'
import {WRITE_ONLY, type TargetKind} from '../targets/target.js'
import {readStore, writeStore} from '../values/store.js'
import {mapLimit} from '../pool.js'
import {CONCURRENCY} from './sync.js'

export type PullAction = 'added' | 'updated' | 'unchanged' | 'kept-local' | 'write-only' | 'conflict' | 'not-live' | 'manifest-literal' | 'not-text'

/** A manifest entry for a key the manifest does not have, to paste under secrets:. */
export interface Proposal {
  key: string
  services: string[]
  entry: string
}

/** The entry proposed for a key found outside the manifest (pull --include-unmanaged, import). */
export function proposeEntry(key: string, services: string[], origin: string): Proposal {
  return {key, services, entry: `  ${key}:\n    services: [${services.join(', ')}]\n    description: ${origin}`}
}

export interface PullResult {
  environment: string
  from: TargetKind
  file: string
  keys: {key: string; action: PullAction; from: string[]}[]
  /** --include-unmanaged: keys found live that the manifest does not have, with a manifest entry to paste. */
  proposals: Proposal[]
  written: number
  requests: number
}

export interface PullOptions {
  from: TargetKind
  services?: string[]
  keys?: string[]
  overwrite?: boolean
  includeUnmanaged?: boolean
  kubernetes?: KubernetesOptions
}

/**
 * Imports live values into the local store, for teams adopting envsync on an existing
 * deployment. Never replaces a differing local value without `overwrite`; a key whose live values
 * disagree between destinations is left alone. One atomic write; reports keys, never values.
 */
export async function pull(manifest: Manifest, env: string, options: PullOptions): Promise<PullResult> {
  const store = await readStore(manifest, env)
  const resolved = resolveDestinations(manifest, env, store, {targets: [options.from], services: options.services}).filter((r) => !r.optional)
  requireKeysOfServices(manifest, env, 'keys', options.keys, options.services)
  // A Docker directory holds every service's keys: -s pulls only the selected services' ones.
  const selected = keysOfServices(manifest, env, options.services)
  const outside = new Set(resolved.flatMap(manifestKeysOf).filter((k) => selected && !selected.has(k)))
  const manifestKeys = new Set(resolved.flatMap(manifestKeysOf).filter((k) => !outside.has(k)))
  const wanted = options.keys && options.keys.length > 0 ? new Set(options.keys) : undefined
  for (const key of wanted ?? []) {
    if (!manifestKeys.has(key) && !options.includeUnmanaged) {
      throw new EnvsyncError(`--keys ${key}: not a key of ${env} on ${options.from}`, {code: 'UNKNOWN_KEY', suggestion: didYouMean(key, manifestKeys) ?? 'pass --include-unmanaged to pull keys the manifest does not have'})
    }
  }
  const targets = new Targets(options.kubernetes)
  const target = await targets.get(options.from)
  const lives = await mapLimit(resolved, CONCURRENCY, (r) => target.read(r.destination))
  // key → live values by destination label
  const found = new Map<string, {value: Secret | typeof WRITE_ONLY; from: string; services: string[]}[]>()
  resolved.forEach((r, i) => {
    // Render secret files live under file names; only the manifest's own files are imported.
    const keyOf = r.names && new Map([...r.names].map(([key, name]) => [name, key]))
    const own = new Set(manifestKeysOf(r))
    for (const [name, value] of lives[i].values) {
      const key = keyOf ? keyOf.get(name) : name
      if (key === undefined) continue
      if ((wanted && !wanted.has(key)) || outside.has(key)) continue
      // A manifest key found where the manifest does not put it is a stray, not its value.
      if (!own.has(key) && (manifestKeys.has(key) || !options.includeUnmanaged)) continue
      // Copies within one destination (Docker env files) are compared as destinations are.
      const copies = lives[i].copies?.get(name)?.map((c) => ({value: c.value as Secret | typeof WRITE_ONLY, from: `${r.destination.label} (${c.where})`, services: r.destination.services}))
      found.set(key, [...(found.get(key) ?? []), ...(copies ?? [{value, from: r.destination.label, services: r.destination.services}])])
    }
  })

  const result: PullResult = {environment: env, from: options.from, file: store.display, keys: [], proposals: [], written: 0, requests: 0}
  const changes = new Map<string, string>()
  const keys = [...new Set([...(wanted ?? manifestKeys), ...found.keys()])].sort()
  // Keys whose value on this target is a literal in the manifest (a Railway reference such as
  // ${{Postgres.DATABASE_URL}}): what is live there is the manifest's, not the local value.
  const literal = new Set(manifest.secretsFor(env).filter((s) => s.targets?.[options.from] !== undefined).map((s) => s.key))
  for (const key of keys) {
    const seen = found.get(key) ?? []
    const from = seen.map((s) => s.from)
    const readable = seen.filter((s) => s.value !== WRITE_ONLY) as {value: Secret; from: string}[]
    if (literal.has(key)) {
      result.keys.push({key, action: 'manifest-literal', from})
      continue
    }
    if (seen.length === 0) {
      if (manifestKeys.has(key)) result.keys.push({key, action: 'not-live', from})
      continue
    }
    // Bytes that are not UTF-8 text (or strings with lone surrogates) cannot be stored in a
    // values file without changing them: never imported as something else.
    if (readable.some((s) => !s.value.isText)) {
      result.keys.push({key, action: 'not-text', from})
      continue
    }
    if (readable.length === 0) {
      result.keys.push({key, action: 'write-only', from})
      continue
    }
    if (readable.some((s) => !s.value.equals(readable[0].value))) {
      result.keys.push({key, action: 'conflict', from})
      continue
    }
    const live = readable[0].value
    const local = store.values.get(key)
    let action: PullAction = 'added'
    if (local?.equals(live)) action = 'unchanged'
    else if (local && !options.overwrite) action = 'kept-local'
    else if (local) action = 'updated'
    if (action === 'added' || action === 'updated') changes.set(key, live.reveal())
    result.keys.push({key, action, from})
    if (!manifestKeys.has(key)) {
      const services = [...new Set(seen.flatMap((s) => s.services))]
      result.proposals.push(proposeEntry(key, services, `pulled from ${options.from}`))
    }
  }
  if (changes.size > 0) await writeStore(store, changes, {action: 'pull'})
  result.written = changes.size
  result.requests = targets.requests
  return result
}
