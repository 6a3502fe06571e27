import {EnvsyncError, type SourceLocation} from '../errors.js'
import type {ManagerKind, ManagerOptions} from '../targets/managers/backend.js'
import {LAYOUT_DEFAULTS, nameProblem, placesOf, type Layout} from '../targets/managers/layout.js'
import type {ManagerConfig} from '../targets/managers/target.js'
import type {Destination} from '../targets/target.js'
import type {Manifest, SecretDef} from './manifest.js'
import type {ManagerData} from './schema.js'

/** For people: "AWS Secrets Manager". */
export const MANAGER_NAMES: Record<ManagerKind, string> = {
  aws: 'AWS Secrets Manager',
  vault: 'Vault',
  gcp: 'Google Secret Manager',
  azure: 'Azure Key Vault',
}

export const isManagerKind = (kind: string): kind is ManagerKind => kind in MANAGER_NAMES

/** A secret manager place of an environment: the destination, and the keys it holds. */
export interface ManagerPlace {
  destination: Destination<ManagerConfig>
  keys: SecretDef[]
}

/**
 * The manager an environment keeps its values in, as one destination holding every key of the
 * environment, or undefined for a file store.
 */
export function storePlace(manifest: Manifest, env: string): ManagerPlace | undefined {
  const store = manifest.environment(env).store
  const kind = store && (Object.keys(store) as (keyof typeof store)[]).find((k): k is ManagerKind => store[k] !== undefined && k !== 'encrypted')
  if (!kind) return undefined
  const data = store[kind] as ManagerData
  const at = ['environments', env, 'store', kind]
  const keys = manifest.secretsFor(env)
  return {destination: place(manifest, env, kind, data, keys, manifest.serviceNames, at, undefined), keys}
}

/**
 * A manager target's destinations: one for the environment, or one per service when its names
 * carry {service}. `wanted` narrows them to the services a push selects.
 */
export function targetPlaces(manifest: Manifest, env: string, kind: ManagerKind, wanted: (service: string) => boolean): ManagerPlace[] {
  const data = manifest.environment(env).targets![kind] as ManagerData & {services?: string[]}
  const services = data.services ?? manifest.serviceNames
  const at = ['environments', env, 'targets', kind]
  const secrets = manifest.secretsFor(env)
  const perService = [data.prefix, data.secret, ...Object.keys(data.groups ?? {})].some((n) => n?.includes('{service}'))
  if (perService) {
    return services.filter(wanted).map((service) => {
      const keys = secrets.filter((s) => s.services.includes(service))
      return {destination: place(manifest, env, kind, data, keys, [service], at, service), keys}
    })
  }
  if (!services.some(wanted)) return []
  const keys = secrets.filter((s) => s.services.some((svc) => services.includes(svc)))
  return [{destination: place(manifest, env, kind, data, keys, services, at, undefined), keys}]
}

function place(manifest: Manifest, env: string, kind: ManagerKind, data: ManagerData, keys: SecretDef[], services: string[], at: string[], service: string | undefined): Destination<ManagerConfig> {
  const fill = (text: string, field: string) => {
    const out = text.replaceAll('{project}', manifest.project).replaceAll('{environment}', env)
    if (out.includes('{service}') && service === undefined) {
      throw new EnvsyncError(`${field} "${text}" uses {service}, but a store holds the values of every service`, {code: 'BAD_MANAGER_NAME', location: manifest.locate([...at, field]), suggestion: 'name the store\'s secrets with {project} and {environment} only'})
    }
    return service === undefined ? out : out.replaceAll('{service}', service)
  }
  const defaults = LAYOUT_DEFAULTS[kind]
  const names = kind === 'azure' ? 'kebab' : (data.names ?? defaults.names)
  if (kind === 'azure' && data.names === 'key') {
    throw new EnvsyncError('Azure Key Vault names cannot hold _: names must be kebab', {code: 'BAD_MANAGER_NAME', location: manifest.locate([...at, 'names']), suggestion: 'remove `names: key` (JWT_SECRET is stored as jwt-secret, and read back as JWT_SECRET)'})
  }
  // A layout given explicitly replaces the default one: `prefix` alone means one secret per key.
  const explicit = data.prefix !== undefined || data.secret !== undefined
  const secret = data.secret ?? (explicit ? undefined : defaults.secret)
  const layout: Layout = {
    prefix: fill(data.prefix ?? (explicit && data.secret !== undefined ? '' : defaults.prefix), 'prefix'),
    names,
    secret: secret === undefined ? undefined : fill(secret, 'secret'),
    groups: new Map(Object.entries(data.groups ?? {}).map(([name, fields]) => [fill(name, 'groups'), new Map(Object.entries(fields))])),
  }
  const known = new Set(manifest.secrets.map((s) => s.key))
  for (const [group, fields] of Object.entries(data.groups ?? {})) {
    for (const key of Object.keys(fields)) {
      if (!known.has(key)) throw new EnvsyncError(`groups.${group} maps ${key}, which is not a secret of the manifest`, {code: 'UNKNOWN_KEY', location: manifest.locate([...at, 'groups', group, key], {key: true}), suggestion: 'map keys listed under secrets:'})
    }
  }
  const {places, collision} = placesOf(layout, keys.map((s) => s.key), {caseless: kind === 'azure'})
  if (collision) {
    throw new EnvsyncError(`${collision.keys[0]} and ${collision.keys[1]} would both be ${MANAGER_NAMES[kind]} ${collision.name.includes('#') ? 'field' : 'secret'} ${collision.name}`, {
      code: 'MANAGER_NAME_CLASH',
      location: manifest.locate(['secrets', collision.keys[1]], {key: true}),
      suggestion: names === 'kebab' ? 'rename one of them: kebab names fold case and _ (DB_URL and db_url are both db-url)' : 'give each key its own field or secret',
    })
  }
  if (service !== undefined) refuseSharedNames(manifest, data, layout, places, at, defaults)
  for (const [key, p] of places) {
    const problem = nameProblem(kind, p.secret)
    if (problem) {
      const where: SourceLocation = manifest.locate(p.field === undefined ? [...at, ...(data.prefix === undefined ? [] : ['prefix'])] : [...at, ...(data.secret === p.secret ? ['secret'] : ['groups'])])
      throw new EnvsyncError(`${key} would be ${MANAGER_NAMES[kind]} secret "${p.secret}": ${problem}`, {code: 'BAD_MANAGER_NAME', location: where, suggestion: 'change the prefix, secret or group name in the manifest'})
    }
  }
  const options = optionsOf(kind, data)
  const where = [options.region ?? options.address ?? options.project ?? options.vault ?? '', options.mount].filter(Boolean).join('/')
  const what = layout.secret && places.size > 0 && [...places.values()].every((p) => p.secret === layout.secret) ? layout.secret : `${layout.prefix}*`
  return {
    id: `${kind}:${where}/${what}`,
    kind,
    label: `${MANAGER_NAMES[kind]} ${kind === 'vault' ? `${options.mount}/` : ''}${what}`,
    environment: env,
    services,
    config: {kind, options, marker: {project: manifest.project, environment: env}, layout, places},
  }
}

/**
 * With {service} in some names, each service is a destination of its own: a prefix or JSON
 * secret without it would be written by every service's push, each over (or pruning) the others'.
 */
function refuseSharedNames(manifest: Manifest, data: ManagerData, layout: Layout, places: Map<string, {secret: string; field?: string}>, at: string[], defaults: {prefix: string; secret?: string}): void {
  const used = [...places.values()]
  const templates: [string, string, (string | number)[]][] = []
  if (used.some((p) => p.field === undefined)) templates.push(['prefix', data.prefix ?? defaults.prefix, [...at, 'prefix']])
  if (layout.secret !== undefined && used.some((p) => p.secret === layout.secret)) templates.push(['secret', data.secret ?? defaults.secret ?? '', [...at, 'secret']])
  for (const group of Object.keys(data.groups ?? {})) templates.push([`group ${group}`, group, [...at, 'groups', group]])
  for (const [what, template, where] of templates) {
    if (template.includes('{service}')) continue
    throw new EnvsyncError(`the ${what} "${template}" has no {service}, but other names of this target do: every service's push would write it, each over the others'`, {
      code: 'BAD_MANAGER_NAME',
      location: manifest.locate(where, {key: what.startsWith('group')}),
      suggestion: 'put {service} in every prefix, secret and group name of the target, or in none',
    })
  }
}

function optionsOf(kind: ManagerKind, data: ManagerData): ManagerOptions {
  const d = data as ManagerOptions
  if (kind === 'aws') return {region: d.region, profile: d.profile}
  if (kind === 'vault') return {address: d.address, mount: d.mount ?? 'secret', namespace: d.namespace}
  if (kind === 'gcp') return {project: d.project}
  return {vault: d.vault}
}
