import {EnvsyncError} from '../../errors.js'
import {mapLimit} from '../../pool.js'
import {registerSecret} from '../../redact.js'
import {Secret} from '../../secret.js'
import {plural} from '../../words.js'
import type {ApplyInput, Destination, LiveState, LiveValue, Target} from '../target.js'
import type {ManagerKind, ManagerOptions, Marker, RemoteSecret, SecretManagerBackend} from './backend.js'
import {keyOfName, type Layout, type Place} from './layout.js'
import {openBackend} from './open.js'

/**
 * A secret manager as a place values are read from and pushed to: the one adapter above the four
 * backends. It knows the layout (which secret, which JSON field holds a key), ownership markers,
 * and writes each secret once, only when its text changes: a new version on the platform is
 * history (and AWS asks for at most one write per secret per 10 minutes).
 */
export interface ManagerConfig {
  kind: ManagerKind
  options: ManagerOptions
  marker: Marker
  layout: Layout
  /** Every manifest key here → its place. */
  places: Map<string, Place>
}

/** Secrets read or written at once per destination: hides latency, stays under rate limits. */
const CONCURRENCY = 8
/**
 * Older versions looked at for a key's previous value: in a JSON secret holding several keys,
 * each other key's write is a version of its own (Vault keeps 10 by default).
 */
export const PREVIOUS_DEPTH = 10

interface Read {
  /** Every JSON secret read: its fields as stored (other tools' fields kept on write). */
  objects: Map<string, Record<string, unknown>>
  /** Texts as read, per secret: a write whose text is the same is skipped. */
  texts: Map<string, string>
  listed?: Map<string, RemoteSecret>
}

export class ManagerTarget implements Target<ManagerConfig> {
  readonly kind: ManagerKind
  private readonly backends = new Map<string, Promise<SecretManagerBackend>>()
  private readonly opened: SecretManagerBackend[] = []
  private readonly reads = new Map<string, Read>()

  constructor(kind: ManagerKind, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.kind = kind
  }

  get requests(): number {
    return this.opened.reduce((n, b) => n + b.requests, 0)
  }

  /** The backends' notes so far (see SecretManagerBackend.notes). */
  get notes(): string[] {
    return this.opened.flatMap((b) => b.notes ?? [])
  }

  /** One client per platform location (region, address, project, vault). */
  backend(config: ManagerConfig): Promise<SecretManagerBackend> {
    const at = JSON.stringify(config.options)
    let b = this.backends.get(at)
    if (!b) {
      b = openBackend(config.kind, config.options, this.env).then((backend) => {
        this.opened.push(backend)
        return backend
      })
      this.backends.set(at, b)
    }
    return b
  }

  async read(dest: Destination<ManagerConfig>): Promise<LiveState> {
    const {layout, places, marker} = dest.config
    const backend = await this.backend(dest.config)
    const perKey = [...places.values()].some((p) => p.field === undefined)
    // One-key secrets are found by listing the prefix: what exists, who owns it, and the ones
    // the manifest does not name (unmanaged, or envsync's and now stale).
    const listed = perKey ? new Map((await backend.list(layout.prefix)).map((s) => [s.name, s])) : undefined
    const jsonSecrets = new Set([...places.values()].filter((p) => p.field !== undefined).map((p) => p.secret))
    const single = new Map<string, string>()
    for (const [key, p] of places) if (p.field === undefined && (!listed || listed.has(p.secret))) single.set(p.secret, key)
    const strangers = new Map<string, string>()
    for (const [name, s] of listed ?? []) {
      if (single.has(name) || jsonSecrets.has(name)) continue
      // Under a prefix another environment's begins with (app-prod- and app-prod-eu-): its secrets
      // carry its marker, and are neither this destination's keys nor ever pruned from here.
      if (s.marker && (s.marker.project !== marker.project || s.marker.environment !== marker.environment)) continue
      const key = keyOfName(layout, name)
      if (key !== undefined && !places.has(key)) strangers.set(name, key)
    }
    const texts = await backend.read([...single.keys(), ...strangers.keys(), ...jsonSecrets])
    const read: Read = {objects: new Map(), texts, listed}
    this.reads.set(dest.id, read)

    const values = new Map<string, LiveValue>()
    const owned = new Set<string>()
    const ours = (name: string) => {
      const m = listed?.get(name)?.marker
      return m !== undefined && m.project === marker.project && m.environment === marker.environment
    }
    for (const [name, key] of [...single, ...strangers]) {
      const text = texts.get(name)
      if (text === undefined) continue
      if (backend.structured && strangers.has(name) && !('value' in parseObject(text, name, backend.service))) continue
      values.set(key, new Secret(backend.structured ? fieldOf(parseObject(text, name, backend.service), 'value', name, backend.service) ?? '' : text))
      if (ours(name)) owned.add(key)
    }
    for (const name of jsonSecrets) {
      const text = texts.get(name)
      if (text === undefined) continue
      const object = parseObject(text, name, backend.service)
      read.objects.set(name, object)
      const mapped = new Map([...places].filter(([, p]) => p.secret === name).map(([key, p]) => [p.field!, key]))
      for (const [field, raw] of Object.entries(object)) {
        // In the one secret holding every key, a field is a key; in a group only mapped fields are.
        const key = mapped.get(field) ?? (name === layout.secret && /^[A-Za-z_][A-Za-z0-9_]*$/.test(field) ? field : undefined)
        if (key === undefined) continue
        values.set(key, new Secret(fieldText(raw)))
        if (ours(name)) owned.add(key)
      }
    }
    // Ownership from the platform only when it was listed; otherwise the engine's own record.
    return {exists: true, values, ...(listed ? {owned} : {})}
  }

  /**
   * When each key's current value was written, for keys stored one per secret, from the last
   * read. A field of a JSON secret has no date of its own: any other field's write re-dates the
   * secret, so those keys are left to the change history.
   */
  async changedDates(dest: Destination<ManagerConfig>, keys: string[]): Promise<Map<string, Date>> {
    const read = this.reads.get(dest.id)
    const names = new Map<string, string>()
    for (const key of keys) {
      const p = dest.config.places.get(key)
      if (p && p.field === undefined && read?.texts.has(p.secret)) names.set(p.secret, key)
    }
    if (names.size === 0) return new Map()
    const dates = await (await this.backend(dest.config)).dates([...names.keys()])
    return new Map([...dates].map(([name, date]) => [names.get(name)!, date]))
  }

  /**
   * The value each key had before its current one, from the platform's version history (from
   * the last read): the newest older version whose value (the key's field, in a JSON secret)
   * differs from the current, so another key's write to the same JSON secret does not hide it.
   * A version without the field ends the search: the key did not exist before; so does one that
   * cannot be read (the backend's walk ends there), never skipped for an older value. Each secret's
   * versions are walked once, for all its keys, at most PREVIOUS_DEPTH deep.
   */
  async previousValues(dest: Destination<ManagerConfig>, keys: string[]): Promise<Map<string, Secret>> {
    const read = this.reads.get(dest.id)
    const backend = await this.backend(dest.config)
    const bySecret = new Map<string, {key: string; field?: string; now: string}[]>()
    for (const key of keys) {
      const p = dest.config.places.get(key)
      const text = p && read?.texts.get(p.secret)
      if (!p || text === undefined) continue
      const now = this.valueIn(text, p, backend)
      if (now === undefined) continue
      bySecret.set(p.secret, [...(bySecret.get(p.secret) ?? []), {key, field: p.field, now}])
    }
    const out = new Map<string, Secret>()
    await mapLimit([...bySecret], CONCURRENCY, async ([name, wanted]) => {
      let open = wanted
      for await (const text of backend.older(name, PREVIOUS_DEPTH)) {
        open = open.filter((w) => {
          const before = this.valueIn(text, {secret: name, field: w.field}, backend, true)
          if (before !== undefined && before !== w.now) out.set(w.key, new Secret(before))
          return before === w.now
        })
        if (open.length === 0) break
      }
    })
    return out
  }

  /** A key's value in a version's text: the JSON field, Vault's "value", or the text itself. `older`: another tool's text that is not JSON is no value. */
  private valueIn(text: string, place: Place, backend: SecretManagerBackend, older = false): string | undefined {
    const field = place.field ?? (backend.structured ? 'value' : undefined)
    if (field === undefined) return text
    let object: Record<string, unknown>
    try {
      object = parseObject(text, place.secret, backend.service)
    } catch (error) {
      if (older) return undefined
      throw error
    }
    return field in object ? fieldText(object[field]) : undefined
  }

  async apply(dest: Destination<ManagerConfig>, input: ApplyInput): Promise<void> {
    const {layout, places, marker} = dest.config
    const backend = await this.backend(dest.config)
    const read = this.reads.get(dest.id) ?? (await this.read(dest), this.reads.get(dest.id)!)
    const writes = new Map<string, string | null>()
    const fields = new Map<string, Map<string, string | null>>()
    for (const c of input.changes) {
      const place = places.get(c.key) ?? strangerPlace(layout, c.key, read)
      const value = c.action === 'remove' ? null : c.value!.reveal()
      if (place.field === undefined) writes.set(place.secret, value === null ? null : backend.structured ? JSON.stringify({value}) : value)
      else {
        const f = fields.get(place.secret) ?? new Map<string, string | null>()
        f.set(place.field, value)
        fields.set(place.secret, f)
      }
    }
    for (const [secret, changed] of fields) {
      // Other fields (another tool's, or keys the manifest no longer maps) are written back as they were.
      const object: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, read.objects.get(secret))
      for (const [field, value] of changed) {
        if (value === null) delete object[field]
        else object[field] = value
      }
      writes.set(secret, JSON.stringify(object))
    }
    const failures: {name: string; error: unknown}[] = []
    await mapLimit([...writes], CONCURRENCY, async ([name, text]) => {
      try {
        if (text === null) await backend.remove(name)
        else if (read.texts.get(name) !== text) await backend.write(name, text, marker, exists(read, name))
        if (text === null) read.texts.delete(name)
        else read.texts.set(name, text)
      } catch (error) {
        failures.push({name, error})
      }
    })
    this.reads.delete(dest.id)
    if (failures.length === 0) return
    const first = failures[0].error
    if (failures.length === 1 && first instanceof EnvsyncError) throw first
    const message = first instanceof EnvsyncError ? first.message : String((first as Error)?.message ?? first)
    throw new EnvsyncError(`${backend.service}: ${plural(failures.length, 'secret')} of ${writes.size} not written (${failures.map((f) => f.name).slice(0, 5).join(', ')}${failures.length > 5 ? ', …' : ''}): ${message}`, {
      code: first instanceof EnvsyncError ? first.code : 'MANAGER_ERROR',
      exitCode: 1,
      suggestion: (first instanceof EnvsyncError && first.suggestion) || 'run push again: only what still differs is written',
    })
  }
}

/**
 * What the read says of a secret's existence: read (a JSON secret outside the listed prefix
 * included), listed, or not known. A wrong "no" would have a backend create it anew.
 */
function exists(read: Read, name: string): {exists?: boolean} {
  if (read.texts.has(name) || read.listed?.has(name)) return {exists: true}
  return read.listed ? {exists: false} : {}
}

/** A key found under the prefix that the manifest does not name: its own one-key secret. */
function strangerPlace(layout: Layout, key: string, read: Read): Place {
  for (const name of read.listed?.keys() ?? []) if (keyOfName(layout, name) === key) return {secret: name}
  return {secret: layout.prefix + key}
}

function parseObject(text: string, name: string, service: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EnvsyncError(`${service} secret ${name} does not hold a JSON object, so the keys the manifest maps into it cannot be read`, {
      code: 'MANAGER_NOT_JSON',
      exitCode: 1,
      suggestion: `store a JSON object in ${name} (e.g. {"url": "…"}), or take it out of the manifest's groups to read it as one key`,
    })
  }
  // Fields the manifest does not map (another tool's) are written back as they are: secrets too.
  for (const v of Object.values(parsed)) if (typeof v === 'string') registerSecret(v)
  return Object.assign(Object.create(null) as Record<string, unknown>, parsed)
}

function fieldOf(object: Record<string, unknown>, field: string, name: string, service: string): string | undefined {
  if (!(field in object)) {
    throw new EnvsyncError(`${service} secret ${name} has no "${field}" field`, {code: 'MANAGER_NOT_JSON', exitCode: 1, suggestion: `envsync keeps one key per secret as {"${field}": "…"}; put the value there`})
  }
  return fieldText(object[field])
}

/** A field written by another tool may be a number or an object: its JSON text is the value. */
function fieldText(raw: unknown): string {
  return typeof raw === 'string' ? raw : JSON.stringify(raw)
}
