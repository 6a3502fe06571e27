import type {ManagerPlace} from '../manifest/resolve-managers.js'
import {Secret} from '../secret.js'
import type {ManagerConfig, ManagerTarget} from '../targets/managers/target.js'
import type {Change, Destination, LiveState} from '../targets/target.js'
import {parseEnv} from './dotenv.js'
import type {ValuesFile} from './store.js'

/** A store that is a secret manager: what was read, and the adapter that writes it back. */
export interface RemoteStore {
  target: ManagerTarget
  destination: Destination<ManagerConfig>
  live: LiveState
  /** The previous keys (`previous:`): their values live in the platform's version history. */
  previous: Set<string>
  /** What the read could not look at (a previous value past a bound), for a warning; no values. */
  notes: string[]
}

export interface ManagerReadOptions {
  /** Keys in a running grace period → the key that holds their previous value. */
  grace?: Map<string, string>
}

/**
 * The environment's values from its secret manager: the same adapter push uses, over one
 * destination holding every key of the environment. Keys the manifest does not name are not
 * values of the environment and are left out. A previous key is no secret of its own here: during
 * its key's grace period it is the value before the current one, from the platform's versions
 * (AWSPREVIOUS, Vault, GCP and Azure versions); otherwise it has none. Keys with a rotation period
 * get the date their value was written, where the platform keeps one per key.
 */
export async function readManagerStore(place: ManagerPlace, options: ManagerReadOptions = {}): Promise<ValuesFile> {
  const {ManagerTarget} = await import('../targets/managers/target.js')
  const target = new ManagerTarget(place.destination.kind as ManagerConfig['kind'])
  const dest = place.destination
  const live = await target.read(dest)
  const previous = new Set(place.keys.filter((s) => s.previousOf !== undefined).map((s) => s.key))
  const wanted = new Set(place.keys.map((s) => s.key))
  const values = new Map<string, Secret>()
  for (const [key, value] of live.values) if (wanted.has(key) && !previous.has(key) && value instanceof Secret) values.set(key, value)
  const grace = [...(options.grace ?? [])].filter(([key, prev]) => values.has(key) && previous.has(prev))
  for (const [key, value] of await target.previousValues(dest, grace.map(([key]) => key))) values.set(new Map(grace).get(key)!, value)
  const dated = place.keys.filter((s) => s.rotate && values.has(s.key)).map((s) => s.key)
  const changed = dated.length > 0 ? await target.changedDates(dest, dated) : new Map<string, Date>()
  const display = dest.label
  return {file: dest.id, display, exists: true, doc: parseEnv('', display), values, duplicates: [], remote: {target, destination: dest, live, previous, notes: target.notes}, ...(changed.size > 0 ? {changed} : {})}
}

/**
 * Writes the changed keys as new versions; a key set to the value it has is not written (a new
 * version is history, and platforms limit how often a secret may change). A previous key is never
 * written: the version the new value replaces is where its value lives (a rotation writes only
 * the rotated key), and once the grace is over it is gone from what is read.
 */
export async function writeManagerStore(store: ValuesFile, changes: Map<string, string | null>): Promise<void> {
  const {target, destination, live, previous} = store.remote!
  const list: Change[] = []
  for (const [key, value] of changes) {
    if (previous.has(key)) continue
    const now = store.values.get(key)
    if (value === null) {
      if (now) list.push({key, action: 'remove'})
    } else if (!now || now.reveal() !== value) list.push({key, action: now ? 'update' : 'add', value: new Secret(value)})
  }
  if (list.length > 0) {
    const desired = new Map([...store.values].filter(([key]) => !previous.has(key)))
    for (const c of list) {
      if (c.value) desired.set(c.key, c.value)
      else desired.delete(c.key)
    }
    await target.apply(destination, {changes: list, desired, owned: new Set(desired.keys()), live})
    for (const [key, value] of desired) store.values.set(key, value)
    for (const c of list) if (c.action === 'remove') store.values.delete(c.key)
  }
  // What a read would now find: the previous key's value as the write meant it.
  for (const [key, value] of changes) {
    if (!previous.has(key)) continue
    if (value === null) store.values.delete(key)
    else store.values.set(key, new Secret(value))
  }
}
