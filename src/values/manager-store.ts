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
}

/**
 * The environment's values from its secret manager: the same adapter push uses, over one
 * destination holding every key of the environment. Keys the manifest does not name are not
 * values of the environment and are left out.
 */
export async function readManagerStore(place: ManagerPlace): Promise<ValuesFile> {
  const {ManagerTarget} = await import('../targets/managers/target.js')
  const target = new ManagerTarget(place.destination.kind as ManagerConfig['kind'])
  const live = await target.read(place.destination)
  const wanted = new Set(place.keys.map((s) => s.key))
  const values = new Map<string, Secret>()
  for (const [key, value] of live.values) if (wanted.has(key) && value instanceof Secret) values.set(key, value)
  const display = place.destination.label
  return {file: place.destination.id, display, exists: true, doc: parseEnv('', display), values, duplicates: [], remote: {target, destination: place.destination, live}}
}

/**
 * Writes the changed keys as new versions; a key set to the value it has is not written (a new
 * version is history, and platforms limit how often a secret may change).
 */
export async function writeManagerStore(store: ValuesFile, changes: Map<string, string | null>): Promise<void> {
  const {target, destination, live} = store.remote!
  const list: Change[] = []
  for (const [key, value] of changes) {
    const now = store.values.get(key)
    if (value === null) {
      if (now) list.push({key, action: 'remove'})
    } else if (!now || now.reveal() !== value) list.push({key, action: now ? 'update' : 'add', value: new Secret(value)})
  }
  if (list.length === 0) return
  const desired = new Map(store.values)
  for (const c of list) {
    if (c.value) desired.set(c.key, c.value)
    else desired.delete(c.key)
  }
  await target.apply(destination, {changes: list, desired, owned: new Set(desired.keys()), live})
  for (const [key, value] of desired) store.values.set(key, value)
  for (const c of list) if (c.action === 'remove') store.values.delete(c.key)
}
