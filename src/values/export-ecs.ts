import {EnvsyncError, ExitCode} from '../errors.js'
import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {requireServices, valueOf} from '../manifest/resolve.js'
import {type ManagerPlace, storePlace, targetPlaces} from '../manifest/resolve-managers.js'
import type {ManagerData} from '../manifest/schema.js'
import {mapLimit} from '../pool.js'
import {Secret} from '../secret.js'
import type {RemoteSecret} from '../targets/managers/backend.js'
import type {Place} from '../targets/managers/layout.js'
import {openBackend} from '../targets/managers/open.js'
import {fillHint} from './generate.js'
import type {ValuesFile} from './store.js'

/**
 * `export --format ecs`: one container's `secrets` (and `environment`) block of an ECS task
 * definition. Sensitive keys become `valueFrom` references to the AWS Secrets Manager secrets
 * that hold them (the environment's AWS store, else its aws target), so no secret value is
 * printed: ECS fetches them when a task starts. Plain config goes inline as `environment`.
 */

/** A ContainerDefinition `secrets` member (ECS API 2014-11-13: name and valueFrom required). */
export interface EcsSecret {
  name: string
  valueFrom: string
}

export interface EcsBlock {
  /** The one service (container) the block is for. */
  service: string
  secrets: EcsSecret[]
  /** Where the ARNs come from, for notes: "AWS Secrets Manager filot/production/*". */
  source: string
  role: 'store' | 'target'
}

/** Secrets looked up at once (one ListSecrets each): the target layer's own bound. */
const CONCURRENCY = 8

interface AwsPlace {
  role: 'store' | 'target'
  /** Services whose keys it holds. */
  serves: string[]
  place: (service: string) => ManagerPlace
}

/** The environment's AWS Secrets Manager: its store if it is one, else its aws target. */
function awsPlace(manifest: Manifest, env: string): AwsPlace {
  const store = storePlace(manifest, env)
  if (store?.destination.kind === 'aws') return {role: 'store', serves: manifest.serviceNames, place: () => store}
  if (manifest.targetsOf(env).includes('aws')) {
    const data = manifest.environment(env).targets!.aws as ManagerData & {services?: string[]}
    return {role: 'target', serves: data.services ?? manifest.serviceNames, place: (service) => targetPlaces(manifest, env, 'aws', (s) => s === service)[0]}
  }
  throw new EnvsyncError(`--format ecs refers to AWS Secrets Manager secrets by ARN, but ${env} has neither an AWS store nor an aws target`, {
    code: 'NO_AWS_PLACE',
    suggestion: `add environments.${env}.store.aws (values kept in AWS) or environments.${env}.targets.aws (values pushed to AWS) to the manifest, then push or set the values`,
  })
}

/** The one service: --service, or the only one the AWS place holds keys for. */
function serviceOf(manifest: Manifest, env: string, aws: AwsPlace, only: string[] | undefined, secrets: SecretDef[]): string {
  const withKeys = aws.serves.filter((svc) => secrets.some((s) => s.services.includes(svc)))
  const where = aws.role === 'store' ? `${env}'s AWS store` : `${env}'s aws target`
  if (only && only.length > 1) {
    throw new EnvsyncError(`--format ecs is the block of one container: got ${only.length} services (${only.join(', ')})`, {code: 'ONE_SERVICE', suggestion: `export each with its own --service: ${only.map((s) => `--service ${s}`).join(', ')}`})
  }
  if (only) {
    if (!aws.serves.includes(only[0])) {
      throw new EnvsyncError(`${where} does not hold the keys of ${only[0]}`, {code: 'NOTHING_TO_EXPORT', suggestion: `services it holds: ${aws.serves.join(', ') || 'none'}`})
    }
    return only[0]
  }
  if (withKeys.length === 1) return withKeys[0]
  if (withKeys.length === 0) throw new EnvsyncError(`no key of ${env} goes to a service that ${where} holds`, {code: 'NOTHING_TO_EXPORT', suggestion: 'add keys under secrets: for its services'})
  throw new EnvsyncError(`--format ecs is the block of one container, and ${where} holds the keys of ${withKeys.length} services (${withKeys.join(', ')})`, {
    code: 'SERVICE_REQUIRED',
    exitCode: ExitCode.usage,
    suggestion: `name one: envsync export ${env} --format ecs --service ${withKeys[0]}`,
  })
}

/**
 * The ARN of every secret these places name: one listing of the prefix for one-key secrets
 * (every page), and a listing by exact name for each JSON secret outside it. Deleted secrets are
 * not listed, so a secret scheduled for deletion counts as absent (ECS could not read it).
 */
async function arnsOf(aws: ManagerPlace, places: Place[]): Promise<{arns: Map<string, string>; fields: Map<string, Set<string>>}> {
  const {options, layout} = aws.destination.config
  const backend = await openBackend('aws', options)
  const wanted = new Set(places.map((p) => p.secret))
  const arns = new Map<string, string>()
  const take = (list: RemoteSecret[]) => {
    for (const s of list) {
      if (!wanted.has(s.name)) continue
      if (!s.id) throw new EnvsyncError(`${backend.service} listed secret ${s.name} without its ARN`, {code: 'MANAGER_ERROR', exitCode: ExitCode.failed})
      arns.set(s.name, s.id)
    }
  }
  const underPrefix = places.some((p) => p.field === undefined && p.secret.startsWith(layout.prefix))
  if (underPrefix) take(await backend.list(layout.prefix))
  const others = [...wanted].filter((name) => !(underPrefix && name.startsWith(layout.prefix)))
  await mapLimit(others, CONCURRENCY, async (name) => take(await backend.list(name)))
  // A JSON secret that exists but lacks a field: ECS would fail the task at start, so say it now.
  const fields = new Map<string, Set<string>>()
  const json = [...new Set(places.filter((p) => p.field !== undefined && arns.has(p.secret)).map((p) => p.secret))]
  if (json.length > 0) {
    const texts = await backend.read(json)
    for (const name of json) fields.set(name, fieldsOf(texts.get(name)) ?? new Set())
  }
  return {arns, fields}
}

/** The top-level fields of a JSON object secret, or undefined when it holds no object. */
function fieldsOf(text: string | undefined): Set<string> | undefined {
  if (text === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? new Set(Object.keys(parsed)) : undefined
  } catch {
    return undefined
  }
}

export interface EcsSelection {
  block: EcsBlock
  /** Plain config, inline (values of non-sensitive keys only). */
  values: Map<string, Secret>
  /** Plain config keys without a value (left out). */
  missing: string[]
  /** The store plain values came from (for the note on missing ones). */
  valuesFile: string
}

/**
 * What an ECS block holds: a valueFrom per sensitive key of the service (its secret's ARN, with
 * `:field::` for a key inside a JSON secret), and the plain config values. A sensitive key whose
 * secret (or field) is not in AWS yet is an error naming the keys: ECS would fail to start the
 * task. `readValues` is called only when there is plain config to print.
 */
export async function collectEcs(manifest: Manifest, env: string, only: string[] | undefined, readValues: () => Promise<ValuesFile>): Promise<EcsSelection> {
  const secrets = manifest.secretsFor(env)
  requireServices(manifest, only)
  const aws = awsPlace(manifest, env)
  const service = serviceOf(manifest, env, aws, only, secrets)
  const keys = secrets.filter((s) => s.services.includes(service))
  if (keys.length === 0) throw new EnvsyncError(`no key of ${env} goes to ${service}`, {code: 'NOTHING_TO_EXPORT', suggestion: `services with keys in ${env}: ${manifest.serviceNames.filter((svc) => secrets.some((s) => s.services.includes(svc))).join(', ') || 'none'}`})
  const sensitive = keys.filter((s) => s.sensitive !== false)
  const plain = keys.filter((s) => s.sensitive === false)

  const place = aws.place(service)
  const places = place.destination.config.places
  for (const spec of sensitive) {
    const field = places.get(spec.key)?.field
    // ECS splits valueFrom on ':' (arn:…:secret:NAME:json-key:stage:id): a field with one cannot be referenced.
    if (field?.includes(':')) {
      throw new EnvsyncError(`${spec.key} is field "${field}" of ${places.get(spec.key)!.secret}, and ECS cannot reference a JSON key containing ':'`, {code: 'BAD_MANAGER_NAME', suggestion: 'rename the field in the manifest\'s groups (and push again)'})
    }
  }
  const wanted = sensitive.map((s) => places.get(s.key)).filter((p): p is Place => p !== undefined)
  const {arns, fields} = sensitive.length > 0 ? await arnsOf(place, wanted) : {arns: new Map<string, string>(), fields: new Map<string, Set<string>>()}
  const out: EcsSecret[] = []
  const absent: string[] = []
  for (const spec of sensitive) {
    const p = places.get(spec.key)
    const arn = p && arns.get(p.secret)
    const hasField = p?.field === undefined || (fields.get(p.secret)?.has(p.field) ?? false)
    if (!arn || !hasField) absent.push(spec.key)
    else out.push({name: spec.key, valueFrom: p!.field === undefined ? arn : `${arn}:${p!.field}::`})
  }
  if (absent.length > 0) {
    const label = place.destination.label
    const at = (key: string) => {
      const p = places.get(key)
      return p ? `${key} (${p.secret}${p.field === undefined ? '' : `, field ${p.field}`})` : key
    }
    throw new EnvsyncError(`${absent.length === 1 ? `${at(absent[0])} is` : `${absent.length} keys are`} not in ${label} yet, so ECS could not read ${absent.length === 1 ? 'it' : 'them'}${absent.length === 1 ? '' : `: ${absent.map(at).join(', ')}`}`, {
      code: 'NOT_IN_AWS',
      exitCode: ExitCode.failed,
      suggestion: aws.role === 'target' ? `run \`envsync push ${env} --target aws\` first` : fillHint(manifest, env, absent, label),
    })
  }

  const values = new Map<string, Secret>()
  const missing: string[] = []
  let valuesFile = place.destination.label
  if (plain.length > 0) {
    const store = await readValues()
    valuesFile = store.display
    for (const spec of plain) {
      const v = valueOf(spec, store)
      if (v === undefined) missing.push(spec.key)
      else values.set(spec.key, v)
    }
  }
  if (out.length === 0 && values.size === 0) {
    throw new EnvsyncError(`nothing to export: none of the ${plural(missing.length, 'key')} of ${service} has a value in ${valuesFile}`, {code: 'NOTHING_TO_EXPORT', exitCode: ExitCode.failed, suggestion: fillHint(manifest, env, missing, valuesFile)})
  }
  return {block: {service, secrets: out, source: place.destination.label, role: aws.role}, values, missing, valuesFile}
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * The block as JSON, ready to merge into a container definition: `secrets` and `environment`,
 * each left out when empty (an empty list merged in would replace the container's own).
 */
export function formatEcs(secrets: EcsSecret[], values: Map<string, Secret>): string {
  const block: {secrets?: EcsSecret[]; environment?: {name: string; value: string}[]} = {}
  if (secrets.length > 0) block.secrets = secrets
  if (values.size > 0) block.environment = [...values].map(([name, value]) => ({name, value: value.reveal()}))
  return JSON.stringify(block, null, 2) + '\n'
}
