import {runCheck} from '../check/check.js'
import type {Finding} from '../check/rules.js'
import {EnvsyncError, ExitCode} from '../errors.js'
import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {didYouMean} from '../manifest/suggest.js'
import {Secret} from '../secret.js'
import {applicableKey, fingerprintOf} from './key.js'
import {generate} from './recipes.js'
import {readStore, writeStore, type ValuesFile} from './store.js'

export interface SetPlan {
  environment: string
  spec: SecretDef
  store: ValuesFile
  value: Secret
  /** The key had a value already. */
  replaced: boolean
  /** What check would say about the new value (this key's findings only). */
  findings: Finding[]
}

export interface SetResult {
  environment: string
  key: string
  file: string
  action: 'added' | 'replaced'
  /** The new value's fingerprint (as diff shows it), never the value. */
  fingerprint: string
  /** check's warnings about the value (and its errors, when --force wrote it anyway). */
  findings: Finding[]
}

/** File-level findings say nothing about the value being set. */
const NOT_ABOUT_THE_VALUE = new Set(['unknown-key', 'duplicate'])

/**
 * What check would say if the key had this value: the same rules as `envsync check` (placeholder,
 * length, format, entropy, reuse, weak…), run on the store with the value in place, in memory.
 */
export async function planSet(manifest: Manifest, env: string, spec: SecretDef, value: string, store: ValuesFile): Promise<SetPlan> {
  const secret = new Secret(value)
  const proposed: ValuesFile = {...store, values: new Map(store.values).set(spec.key, secret)}
  const findings = (await runCheck(manifest, env, proposed)).findings.filter((f) => f.key === spec.key && !NOT_ABOUT_THE_VALUE.has(f.rule))
  return {environment: env, spec, store, value: secret, replaced: hasValue(store, spec.key), findings}
}

/** The store has a (non-empty) value for the key: setting it replaces one. */
export function hasValue(store: ValuesFile, key: string): boolean {
  return store.values.get(key)?.isEmpty === false
}

/** Writes the one value through the store (atomic, every store kind). */
export async function applySet(manifest: Manifest, plan: SetPlan): Promise<SetResult> {
  await writeStore(plan.store, new Map([[plan.spec.key, plan.value.reveal()]]), {action: 'set'})
  return {
    environment: plan.environment,
    key: plan.spec.key,
    file: plan.store.display,
    action: plan.replaced ? 'replaced' : 'added',
    fingerprint: fingerprintOf(manifest, plan.store, plan.value),
    findings: plan.findings,
  }
}

export interface SetRequest {
  environment: string
  key: string
  /** Words after the key on the command line: a value there is refused. */
  extra?: string[]
  /** Draw the value by the key's recipe instead of reading it. */
  generate: boolean
  /** Write a value check finds errors in. */
  force: boolean
}

/** What `set` asks of whoever runs it (the terminal, stdin): this module prompts and prints nothing. */
export interface SetIO {
  /** The manifest, loaded only once a value on the command line has been refused. */
  manifest(): Manifest
  /** Confirms replacing a value in a protected environment; throws when refused. */
  confirmReplace(action: string): Promise<void>
  /** The value, typed or piped in. */
  readValue(): Promise<string>
  /** check's findings about the value, told before it is written. */
  warn(findings: Finding[]): void
}

/**
 * `envsync set`: refuses a value on the command line, finds the key, asks before replacing a
 * protected value, takes the value from the recipe or io, refuses one check finds errors in
 * (unless force), then writes it.
 */
export async function setValue(request: SetRequest, io: SetIO): Promise<SetResult> {
  const {environment: env, key} = request
  if (request.extra !== undefined || key.includes('=')) {
    const name = key.split('=')[0]
    throw new EnvsyncError('a value on the command line is not accepted: it would be kept in shell history and shown by ps', {
      code: 'VALUE_IN_ARGV',
      exitCode: ExitCode.usage,
      suggestion: `run \`envsync set ${env} ${name}\` and type it, or pipe it: printf %s "$VALUE" | envsync set ${env} ${name}`,
    })
  }
  const manifest = io.manifest()
  const keys = manifest.secretsFor(env).map((s) => s.key)
  // A word that is no key and like none may be the value typed in the key's place: not repeated.
  if (!manifest.secret(key) && !didYouMean(key, keys)) throw new EnvsyncError('unknown key (not repeated: it may be a value)', {code: 'UNKNOWN_KEY', suggestion: `keys of ${env}: ${keys.join(', ') || 'none'}`})
  const spec = applicableKey(manifest, env, key)
  const store = await readStore(manifest, env)
  // Asked before the value is typed: a refusal after typing a secret wastes it.
  if (hasValue(store, key) && manifest.isProtected(env)) await io.confirmReplace(`Replace the value of ${key}`)
  const plan = await planSet(manifest, env, spec, await valueFor(spec, request, io), store)
  const errors = plan.findings.filter((f) => f.severity === 'error')
  if (errors.length > 0 && !request.force) {
    throw new EnvsyncError(`${key}: the new value fails check (${errors.map((f) => f.rule).join(', ')}); nothing was written (--force writes it anyway)`, {
      code: 'VALUE_REJECTED',
      problems: errors.length > 1 ? errors.map((f) => ({message: f.message, suggestion: f.hint})) : undefined,
      suggestion: `${errors[0].message}: ${errors[0].hint}; or pass --force to write it anyway`,
    })
  }
  io.warn(plan.findings)
  return applySet(manifest, plan)
}

/** The new value: drawn by the key's recipe with generate, else typed or piped in. */
async function valueFor(spec: SecretDef, request: SetRequest, io: SetIO): Promise<string> {
  if (!request.generate) return io.readValue()
  if (!spec.generate) throw new EnvsyncError(`${spec.key} has no generate recipe`, {code: 'NO_RECIPE', suggestion: `add \`generate: …\` to ${spec.key} in the manifest, or type or pipe its value`})
  return generate(spec.generate).reveal()
}
