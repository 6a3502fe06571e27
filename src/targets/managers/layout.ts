import type {ManagerKind} from './backend.js'

/**
 * Where each key lives in a secret manager: one secret per key under a prefix (`names` turns
 * JWT_SECRET into jwt-secret where the platform or the team wants it), JSON secrets holding
 * several keys under fields of their own (`groups`), or one JSON secret holding every other key
 * under its own name (`secret`, Vault's usual layout). Pure: no platform is asked.
 */
export interface Layout {
  prefix: string
  names: 'key' | 'kebab'
  /** JSON secret name → key → field. */
  groups: Map<string, Map<string, string>>
  /** One JSON secret for every key not in a group; fields named by key. */
  secret?: string
}

/** Where one key lives: a secret, and the JSON field inside it for grouped keys. */
export interface Place {
  secret: string
  field?: string
}

/** Each kind's defaults, before the manifest's own options. */
export const LAYOUT_DEFAULTS: Record<ManagerKind, {prefix: string; names: Layout['names']; secret?: string}> = {
  aws: {prefix: '{project}/{environment}/', names: 'kebab'},
  vault: {prefix: '', names: 'key', secret: '{project}/{environment}'},
  gcp: {prefix: '{project}-{environment}-', names: 'key'},
  azure: {prefix: '{project}-{environment}-', names: 'kebab'},
}

/** The platform's rules for a secret name, without loading its client. */
const NAME_RULES: Record<ManagerKind, {pattern: RegExp; max: number; what: string}> = {
  aws: {pattern: /^[A-Za-z0-9/_+=.@-]+$/, max: 512, what: 'letters, digits and /_+=.@-'},
  vault: {pattern: /^(?!\/)(?!.*\/\/)(?!.*\/$)(?!(.*\/)?\.\.?(\/|$))[^\x00-\x1f\x7f#%*+?\\]+$/, max: 768, what: 'path segments without empty parts, . or .., control characters, or # % * + ? \\'},
  gcp: {pattern: /^[A-Za-z0-9_-]+$/, max: 255, what: 'letters, digits, hyphens (-) and underscores (_)'},
  azure: {pattern: /^[0-9A-Za-z-]+$/, max: 127, what: 'letters, digits and hyphens (-)'},
}

/** Why `name` cannot be a secret's name on this platform, or undefined. */
export function nameProblem(kind: ManagerKind, name: string): string | undefined {
  const rule = NAME_RULES[kind]
  if (name.length === 0) return 'the name is empty'
  if (name.length > rule.max) return `${name.length} characters, more than the ${rule.max} allowed`
  if (!rule.pattern.test(name)) return `names are ${rule.what}`
  return undefined
}

/** JWT_SECRET → jwt-secret (kebab) or JWT_SECRET (key). */
export function secretNameOf(layout: Layout, key: string): string {
  return layout.prefix + (layout.names === 'kebab' ? key.toLowerCase().replaceAll('_', '-') : key)
}

/** The key a one-per-key secret's name stands for (jwt-secret → JWT_SECRET), if it can be a key. */
export function keyOfName(layout: Layout, name: string): string | undefined {
  if (!name.startsWith(layout.prefix)) return undefined
  const rest = name.slice(layout.prefix.length)
  const key = layout.names === 'kebab' ? rest.toUpperCase().replaceAll('-', '_') : rest
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : undefined
}

export interface Collision {
  name: string
  keys: [string, string]
}

/**
 * Every key's place, or the first two keys that would share one (DB_URL and db_url are both
 * db-url in kebab names; a group field named twice).
 */
export function placesOf(layout: Layout, keys: readonly string[], options: {caseless?: boolean} = {}): {places: Map<string, Place>; collision?: Collision} {
  // Azure Key Vault names ignore case: Redis and redis are one secret there.
  const fold = (name: string) => (options.caseless ? name.toLowerCase() : name)
  const places = new Map<string, Place>()
  const grouped = new Map<string, {secret: string; field: string}>()
  for (const [secret, fields] of layout.groups) for (const [key, field] of fields) grouped.set(key, {secret, field})
  const taken = new Map<string, string>()
  /** Each JSON secret (name folded): its name as first written, and the first key in it. */
  const json = new Map<string, {name: string; key: string}>()
  for (const key of keys) {
    const place: Place = grouped.get(key) ?? (layout.secret === undefined ? {secret: secretNameOf(layout, key)} : {secret: layout.secret, field: key})
    const at = place.field === undefined ? place.secret : `${place.secret}#${place.field}`
    const secret = fold(place.secret)
    const slot = place.field === undefined ? secret : `${secret}#${place.field}`
    // A one-key secret may not be named like a JSON secret holding others: one would overwrite the other.
    // Two spellings of one JSON secret would be written apart, each over the other.
    const first = json.get(secret)
    const other = taken.get(slot) ?? (place.field === undefined ? first?.key : (taken.get(secret) ?? (first && first.name !== place.secret ? first.key : undefined)))
    if (other !== undefined) return {places, collision: {name: at, keys: [other, key]}}
    taken.set(slot, key)
    if (place.field !== undefined && !first) json.set(secret, {name: place.secret, key})
    places.set(key, place)
  }
  return {places}
}
