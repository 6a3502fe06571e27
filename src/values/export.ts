import jsyaml from 'js-yaml'

import {EnvsyncError, ExitCode} from '../errors.js'
import {writeFileAtomic} from '../files.js'
import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {requireServices, resolveDestinations, secretLabels, secretName, valueOf} from '../manifest/resolve.js'
import {KubernetesTarget} from '../manifest/schema.js'
import {Secret} from '../secret.js'
import type {KubernetesConfig} from '../targets/kubernetes.js'
import {checkSecretData} from '../targets/kubernetes-data.js'
import {encodeOrThrow} from './dotenv.js'
import {collectEcs, type EcsBlock, formatEcs} from './export-ecs.js'
import {fillHint} from './generate.js'
import {readStore, type ValuesFile} from './store.js'

/**
 * `envsync export`: an environment's values in a format another tool reads. The one place (with
 * pull) where values are unwrapped for printing. Two steps, both pure: collectExport picks the
 * keys and values (manifest + values file → groups), formatExport turns them into text.
 */

export const exportFormats = ['dotenv', 'json', 'k8s', 'compose', 'ecs'] as const
export type ExportFormat = (typeof exportFormats)[number]

/** One block of output: the whole environment (dotenv, json) or one service (k8s, compose, ecs). */
interface ExportGroup {
  /** The service (k8s, compose); undefined for dotenv and json. */
  service?: string
  /** Key → value, in manifest order. */
  values: Map<string, Secret>
  /** Keys that belong here but have no value (left out). */
  missing: string[]
  /** k8s only: the Secret's metadata, as push uses it. */
  secret?: {name: string; namespace?: string; labels: Record<string, string>}
  /** ecs only: the secrets block (ARNs); `values` holds the plain config. */
  ecs?: EcsBlock
}

export interface ExportSelection {
  environment: string
  format: ExportFormat
  services?: string[]
  groups: ExportGroup[]
}

/** The name template push uses when the kubernetes target does not set one (schema default). */
const DEFAULT_SECRET_NAME = KubernetesTarget.parse({}).secretName

function group(keys: SecretDef[], store: ValuesFile, override?: 'docker' | 'kubernetes', service?: string): ExportGroup {
  const values = new Map<string, Secret>()
  const missing: string[] = []
  for (const spec of keys) {
    const v = valueOf(spec, store, override)
    if (v === undefined) missing.push(spec.key)
    else values.set(spec.key, v)
  }
  return {service, values, missing}
}

/**
 * Which keys and values an export holds. dotenv and json: every key of the environment (of one
 * service with `service`), the environment's own values. k8s: one Secret per service, named,
 * namespaced and labelled exactly as push does (from the environment's kubernetes target; without
 * one, the default name template and no namespace), values with `targets.kubernetes` literals.
 * compose: one `environment:` map per service, values with `targets.docker` literals.
 */
export function collectExport(manifest: Manifest, env: string, store: ValuesFile, options: {format: Exclude<ExportFormat, 'ecs'>; services?: string[]}): ExportSelection {
  const {format, services: only} = options
  const secrets = manifest.secretsFor(env) // throws UNKNOWN_ENVIRONMENT with a suggestion
  requireServices(manifest, only)
  const services = manifest.serviceNames.filter((s) => only === undefined || only.includes(s))
  const keysOf = (svc: string) => secrets.filter((s) => s.services.includes(svc))
  let groups: ExportGroup[]
  if (format === 'dotenv' || format === 'json') {
    groups = [group(secrets.filter((s) => s.services.some((svc) => services.includes(svc))), store)]
    if (groups[0].values.size === 0 && groups[0].missing.length === 0) groups = []
  } else if (format === 'compose') {
    groups = services.filter((svc) => keysOf(svc).length > 0).map((svc) => group(keysOf(svc), store, 'docker', svc))
  } else {
    groups = kubernetesGroups(manifest, env, store, services, only)
  }

  if (groups.length === 0) {
    throw new EnvsyncError(only ? `no key of ${env} goes to ${only.join(' or ')}` : `${env} has no keys`, {
      code: 'NOTHING_TO_EXPORT',
      suggestion: only ? `services with keys in ${env}: ${manifest.serviceNames.filter((s) => keysOf(s).length > 0).join(', ') || 'none'}` : `add keys under secrets: in the manifest`,
    })
  }
  if (groups.every((g) => g.values.size === 0)) {
    const missing = [...new Set(groups.flatMap((g) => g.missing))]
    throw new EnvsyncError(`nothing to export: none of the ${missing.length} key${missing.length === 1 ? '' : 's'} has a value in ${store.display}`, {
      code: 'NOTHING_TO_EXPORT',
      exitCode: ExitCode.failed,
      suggestion: fillHint(manifest, env, missing, store.display),
    })
  }
  return {environment: env, format, services: only, groups}
}

function kubernetesGroups(manifest: Manifest, env: string, store: ValuesFile, services: string[], only: string[] | undefined): ExportGroup[] {
  if (manifest.targetsOf(env).includes('kubernetes')) {
    // Exactly what push resolves: name template, namespace, labels, services and literals.
    // A service with no key (an optional destination, for push's removals) is no Secret here.
    // A service that target does not deploy is an error there, naming it.
    const resolved = resolveDestinations(manifest, env, store, {targets: ['kubernetes'], services: only}).filter((r) => !r.optional)
    return resolved.map((r) => {
      const c = r.destination.config as KubernetesConfig
      const missing = [...r.manifestKeys].filter((k) => !r.desired.has(k))
      return {service: r.destination.services[0], values: r.desired, missing, secret: {name: c.name, namespace: c.namespace, labels: c.labels}}
    })
  }
  const secrets = manifest.secretsFor(env)
  const out: ExportGroup[] = []
  for (const svc of services) {
    const keys = secrets.filter((s) => s.services.includes(svc))
    if (keys.length === 0) continue
    const name = secretName(DEFAULT_SECRET_NAME, manifest.project, svc, env)
    out.push({...group(keys, store, 'kubernetes', svc), secret: {name, namespace: undefined, labels: secretLabels(manifest.project, svc)}})
  }
  return out
}

/**
 * `export`: the environment's values in a format — written to `out` (mode 0600, atomically) or
 * returned as the text to print — with what it holds, for notes and --json.
 */
export async function exportEnvironment(
  manifest: Manifest,
  env: string,
  options: {format: ExportFormat; services?: string[]; out?: string},
): Promise<{selection: ExportSelection; valuesFile: string; text: string; summary: ExportSummary; fill: string}> {
  let selection: ExportSelection
  let valuesFile: string
  if (options.format === 'ecs') {
    // ARNs from AWS; the store is read only for plain config values.
    const ecs = await collectEcs(manifest, env, options.services, () => readStore(manifest, env))
    selection = {environment: env, format: 'ecs', services: options.services, groups: [{service: ecs.block.service, values: ecs.values, missing: ecs.missing, ecs: ecs.block}]}
    valuesFile = ecs.valuesFile
  } else {
    const store = await readStore(manifest, env)
    selection = collectExport(manifest, env, store, {...options, format: options.format})
    valuesFile = store.display
  }
  const text = formatExport(selection)
  if (options.out) writeFileAtomic(options.out, text, 0o600)
  const summary = summarizeExport(selection)
  return {selection, valuesFile, text, summary, fill: fillHint(manifest, env, summary.missing, valuesFile)}
}

export interface ExportSummary {
  keys: string[]
  missing: string[]
  secrets?: string[]
}

/** What an export holds, without values: keys written, keys left out, Secrets (k8s). */
function summarizeExport(selection: ExportSelection): ExportSummary {
  const filled = selection.groups.filter((g) => g.values.size > 0 || (g.ecs?.secrets.length ?? 0) > 0)
  return {
    keys: [...new Set(filled.flatMap((g) => [...(g.ecs?.secrets.map((s) => s.name) ?? []), ...g.values.keys()]))],
    missing: [...new Set(selection.groups.flatMap((g) => g.missing))],
    ...(selection.format === 'k8s' ? {secrets: filled.map((g) => `${g.secret!.namespace ? `${g.secret!.namespace}/` : ''}${g.secret!.name}`)} : {}),
  }
}

// ---- formats -------------------------------------------------------------------------------------

export function formatExport(selection: ExportSelection): string {
  switch (selection.format) {
    case 'dotenv':
      return formatDotenv(selection.groups.flatMap((g) => [...g.values]))
    case 'json':
      return formatJson(selection.groups.flatMap((g) => [...g.values]))
    case 'k8s':
      return selection.groups
        .filter((g) => g.values.size > 0)
        .map((g) => formatK8sSecret({...g.secret!, data: g.values}))
        .join('---\n')
    case 'compose':
      return formatCompose(selection.groups.filter((g) => g.values.size > 0).map((g) => ({service: g.service!, values: g.values})))
    case 'ecs':
      return formatEcs(selection.groups[0].ecs!.secrets, selection.groups[0].values)
  }
}

/** KEY=value lines that the dotenv package reads back byte-exact; refuses a value it cannot hold. */
export function formatDotenv(entries: Iterable<[string, Secret]>): string {
  let out = ''
  for (const [key, value] of entries) {
    out += `${key}=${encodeOrThrow(key, value.reveal(), `export with --format json, or leave ${key} out with --service`, ExitCode.failed)}\n`
  }
  return out
}

/** One JSON object, keys in manifest order (own properties, whatever the key is called). */
export function formatJson(entries: Iterable<[string, Secret]>): string {
  const object = Object.fromEntries([...entries].map(([key, value]) => [key, value.reveal()]))
  return JSON.stringify(object, null, 2) + '\n'
}

// ---- k8s: byte-for-byte what `kubectl create secret generic --dry-run=client -o yaml` prints ----
//
// kubectl prints YAML through sigs.k8s.io/yaml, i.e. gopkg.in/yaml.v2: map keys in yaml.v2's own
// order (not plain byte order), strings plain unless they would read back as another type (then
// double-quoted), keys longer than 128 bytes as `? key` / `: value`.

interface K8sSecret {
  name: string
  namespace?: string
  labels: Record<string, string>
  data: Map<string, Secret>
}

export function formatK8sSecret(secret: K8sSecret): string {
  checkSecretData(secret.name, secret.data)
  const data: Record<string, string> = Object.fromEntries([...secret.data].map(([key, value]) => [key, Buffer.from(value.reveal(), 'utf8').toString('base64')]))
  const metadata: YamlMap = {name: secret.name}
  if (Object.keys(secret.labels).length > 0) metadata.labels = {...secret.labels}
  if (secret.namespace !== undefined) metadata.namespace = secret.namespace
  const doc: YamlMap = {apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque'}
  if (Object.keys(data).length > 0) doc.data = data // kubectl leaves an empty data map out
  return goYamlMap(doc, '')
}

type YamlMap = {[key: string]: string | YamlMap}

function goYamlMap(map: YamlMap, indent: string): string {
  let out = ''
  for (const key of Object.keys(map).sort(goYamlKeyCompare)) {
    const value = map[key]
    // yaml.v2 writes a key longer than 128 bytes as an explicit (complex) key.
    const k = Buffer.byteLength(key) > 128 ? `? ${goYamlScalar(key)}\n${indent}` : goYamlScalar(key)
    out += typeof value === 'string' ? `${indent}${k}: ${goYamlScalar(value)}\n` : `${indent}${k}:\n${goYamlMap(value, indent + '  ')}`
  }
  return out
}

const isLetter = (c: string) => /\p{L}/u.test(c)
const isDigit = (c: string) => /\p{Nd}/u.test(c)
const cp = (c: string) => c.codePointAt(0)!

/** yaml.v2's keyList.Less (sorter.go) for string keys: letters, digit runs compared as numbers. */
function goYamlKeyLess(a: string, b: string): boolean {
  const ar = [...a]
  const br = [...b]
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue
    const al = isLetter(ar[i])
    const bl = isLetter(br[i])
    if (al && bl) return cp(ar[i]) < cp(br[i])
    if (al || bl) return bl
    let an = 0n
    let bn = 0n
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1n
          bn = 1n
          break
        }
      }
    }
    let ai = i
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = BigInt.asIntN(64, an * 10n + BigInt(cp(ar[ai]) - 48))
    let bi = i
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = BigInt.asIntN(64, bn * 10n + BigInt(cp(br[bi]) - 48))
    if (an !== bn) return an < bn
    if (ai !== bi) return ai < bi
    return cp(ar[i]) < cp(br[i])
  }
  return ar.length < br.length
}

export const goYamlKeyCompare = (a: string, b: string): number => (goYamlKeyLess(a, b) ? -1 : goYamlKeyLess(b, a) ? 1 : 0)

/** Strings yaml.v2 reads as null, bool, float or merge: written quoted. */
const RESERVED = new Set([
  ...['', '~', 'null', 'Null', 'NULL', '<<'],
  ...['true', 'True', 'TRUE', 'false', 'False', 'FALSE'],
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'],
  ...['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF'],
])
const GO_INT = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|0([0-7]*)|([1-9][0-9]*))$/
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/

/** Go's strconv.ParseInt(s, 0, 64), falling back to ParseUint: does s read as an integer? */
function goInteger(s: string): boolean {
  const m = GO_INT.exec(s)
  if (!m) return false
  const [, sign, hex, bin, oct, oldOct, dec] = m
  const n = hex !== undefined ? BigInt('0x' + hex) : bin !== undefined ? BigInt('0b' + bin) : oct !== undefined ? BigInt('0o' + oct) : oldOct !== undefined ? (oldOct === '' ? 0n : BigInt('0o' + oldOct)) : BigInt(dec)
  if (sign === '-') return n <= 2n ** 63n
  return sign === '' ? n < 2n ** 64n : n < 2n ** 63n
}

function goDate(s: string): boolean {
  if (!/^\d{4}-/.test(s)) return false
  if (/^\d{4}-\d{1,2}-\d{1,2}[Tt ]/.test(s)) return true // a date with a time: quote (never in our strings)
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s)
  if (!m) return false
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (month < 1 || month > 12 || day < 1) return false
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** Would yaml.v2 read this plain scalar as something other than a string? (resolve.go) */
function goYamlResolvesNonString(s: string): boolean {
  if (RESERVED.has(s) || BASE60.test(s)) return true
  const c = s[0]
  if (c === '.') return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s)
  if (c !== '+' && c !== '-' && !(c >= '0' && c <= '9')) return false
  if (goDate(s)) return true
  const plain = s.replaceAll('_', '')
  if (goInteger(plain)) return true
  return YAML_FLOAT.test(plain) && Number.isFinite(Number(plain))
}

/** A scalar as yaml.v2 writes it, for the strings a Secret holds (base64, names, keys, labels). */
export function goYamlScalar(s: string): string {
  if (goYamlResolvesNonString(s)) return JSON.stringify(s)
  if (/^[A-Za-z0-9_][-A-Za-z0-9_./+=]*$/.test(s)) return s
  // Not reachable with validated names and keys; a double-quoted form any reader takes.
  return yamlDoubleQuoted(s)
}

// ---- compose -------------------------------------------------------------------------------------

/**
 * A compose file fragment with the values inline: `services: <svc>: environment: {KEY: value}`.
 * Compose interpolates `$`, so every `$` is written `$$`. Values are plain only when every YAML
 * reader (1.1 and 1.2) takes them as that string, else double-quoted with escapes.
 */
export function formatCompose(services: {service: string; values: Map<string, Secret>}[]): string {
  const lines = ['services:']
  for (const {service, values} of services) {
    lines.push(`  ${composeScalar(service)}:`, '    environment:')
    for (const [key, value] of values) lines.push(`      ${composeScalar(key)}: ${composeScalar(value.reveal().replaceAll('$', '$$$$'))}`)
  }
  return lines.join('\n') + '\n'
}

const WORDS = new Set(['y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off', 'null'])
/** Some YAML 1.1 readers take any of these for a float (even "e0"). */
const NUMBERISH = /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?$/

function readsAsItself(s: string): boolean {
  try {
    return jsyaml.load(s) === s
  } catch {
    return false
  }
}

export function composeScalar(s: string): string {
  // Plain: starts with a letter, _ or /; no space, #, quote, comma or bracket; no trailing colon.
  if (/^[A-Za-z_/][-A-Za-z0-9_./+=:@%~]*$/.test(s) && !s.endsWith(':') && !WORDS.has(s.toLowerCase()) && !NUMBERISH.test(s) && !goYamlResolvesNonString(s) && readsAsItself(s)) return s
  return yamlDoubleQuoted(s)
}

/**
 * A YAML double-quoted scalar on one line: `\` and `"` escaped, line breaks and every character
 * YAML does not allow raw (controls, DEL, C1, U+2028/2029 which YAML 1.1 takes as line breaks,
 * BOM, non-characters) as escapes. Read back the same by YAML 1.1 and 1.2 parsers.
 */
function yamlDoubleQuoted(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '\\') out += '\\\\'
    else if (ch === '"') out += '\\"'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\r') out += '\\r'
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += '\\x' + c.toString(16).padStart(2, '0')
    else if (c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) out += '\\u' + c.toString(16).padStart(4, '0')
    else out += ch
  }
  return out + '"'
}
