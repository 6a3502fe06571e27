import type {Manifest, SecretDef} from '../manifest/manifest.js'
import type {KeyConditionData, RuleData} from '../manifest/schema.js'
import type {Secret} from '../secret.js'
import {recipeBits, recipeLength} from '../values/recipes.js'
import {lowEntropyReason} from './entropy.js'
import {boolValue, formatMatches, formatMismatch} from './format.js'
import {placeholderKind} from './placeholder.js'
import {BACKTRACK_HINT, REGEX_TIME_LIMIT_MS, type RegexOutcome} from './regex.js'
import {weak} from './weak.js'

export type Severity = 'error' | 'warning'

export interface Finding {
  severity: Severity
  rule: string
  /** The secret key, when the finding is about one. */
  key?: string
  /** What is wrong. Never contains a value. */
  message: string
  /** What to do about it. */
  hint: string
}

/** What a per-secret rule sees: the value (store, else manifest default) and its surroundings. */
export interface SecretContext {
  manifest: Manifest
  env: string
  /** The environment's values file as messages name it (.env.development). */
  file: string
  value: Secret | undefined
  /** The same key's value in each other environment that has a values file. */
  elsewhere: Map<string, Secret>
  /** Whether the value is in the key's format, when runCheck worked it out for all keys at once. */
  formatFits?: RegexOutcome
}

export type SecretRule = (spec: SecretDef, ctx: SecretContext) => Finding | undefined

const BUNDLER_PUBLIC = ['VITE_', 'NEXT_PUBLIC_', 'REACT_APP_', 'EXPO_PUBLIC_', 'NUXT_PUBLIC_', 'PUBLIC_', 'GATSBY_']

const fixCommand = (spec: SecretDef, env: string, file: string) =>
  spec.generate
    ? `run \`envsync generate ${env} ${spec.key} --force\``
    : `set a real value for ${spec.key} in ${file}`

/** The default minimum length of a generated secret: 32, or what its recipe makes if shorter. */
export function minLengthOf(spec: SecretDef): number | undefined {
  if (spec.minLength !== undefined) return spec.minLength
  if (spec.generate && spec.sensitive) return Math.min(32, recipeLength(spec.generate))
  return undefined
}

export const missing: SecretRule = (spec, {value, env, file, manifest}) => {
  if (!spec.required || (value && !value.isEmpty)) return undefined
  // Every target of the environment receives a literal override: no local value is needed.
  const targets = manifest.targetsOf(env)
  if (targets.length > 0 && targets.every((t) => spec.targets?.[t] !== undefined)) return undefined
  return {
    severity: 'error',
    rule: 'missing',
    key: spec.key,
    message: value ? `${spec.key} is empty` : `${spec.key} is required and has no value`,
    hint: spec.generate ? `run \`envsync generate ${env}\`` : `add ${spec.key}=… to ${file}`,
  }
}

export const placeholder: SecretRule = (spec, {value, env, file}) => {
  const kind = value && !value.isEmpty ? placeholderKind(value.reveal(), spec.sensitive) : undefined
  if (!kind) return undefined
  return {
    severity: 'error',
    rule: 'placeholder',
    key: spec.key,
    message: `${spec.key} looks like a placeholder (${kind})`,
    hint: fixCommand(spec, env, file),
  }
}

export const tooShort: SecretRule = (spec, {value, env, file}) => {
  const min = minLengthOf(spec)
  if (!value || value.isEmpty || min === undefined || value.length >= min) return undefined
  return {
    severity: 'error',
    rule: 'min-length',
    key: spec.key,
    message: `${spec.key} has ${value.length} characters; at least ${min} are required`,
    hint: spec.generate ? fixCommand(spec, env, file) : `use a value of at least ${min} characters`,
  }
}

export const format: SecretRule = (spec, {value, formatFits}) => {
  if (!spec.format || !value || value.isEmpty) return undefined
  const fits = formatFits ?? formatMatches(spec.format, value.reveal())
  if (fits === true) return undefined
  if (fits === 'timeout') {
    return {
      severity: 'error',
      rule: 'format',
      key: spec.key,
      message: `${spec.key}: its format regex ran over ${REGEX_TIME_LIMIT_MS} ms on the value and was stopped`,
      hint: BACKTRACK_HINT,
    }
  }
  const {why, hint} = formatMismatch(spec.format, value.reveal(), spec.key)
  return {severity: 'error', rule: 'format', key: spec.key, message: `${spec.key} ${why}`, hint}
}

export const lowEntropy: SecretRule = (spec, {value, env, file}) => {
  if (!spec.generate || !spec.sensitive || !value || value.isEmpty) return undefined
  const bits = recipeBits(spec.generate) / recipeLength(spec.generate)
  const reason = lowEntropyReason(value.reveal(), bits)
  if (!reason) return undefined
  return {
    severity: 'error',
    rule: 'entropy',
    key: spec.key,
    message: `${spec.key} does not look random: ${reason}`,
    hint: fixCommand(spec, env, file),
  }
}

export const reused: SecretRule = (spec, {value, env, file, elsewhere, manifest}) => {
  if (!spec.sensitive || !value || value.isEmpty) return undefined
  const same = [...elsewhere].filter(([, other]) => value.equals(other)).map(([name]) => name)
  if (same.length === 0) return undefined
  return {
    // A value shared with a protected environment is a production secret sitting in a less
    // guarded file: an error on both sides. Between two unprotected environments, a warning.
    severity: [env, ...same].some((e) => manifest.isProtected(e)) ? 'error' : 'warning',
    rule: 'reused',
    key: spec.key,
    message: `${spec.key} in ${env} has the same value as in ${same.join(', ')}`,
    hint: spec.generate ? fixCommand(spec, env, file) : `give ${env} its own value`,
  }
}

export const publicExposure: SecretRule = (spec, {manifest}) => {
  if (!spec.sensitive) return undefined
  const exposed = spec.services.filter((s) => manifest.isPublicService(s))
  if (exposed.length === 0) return undefined
  return {
    severity: 'error',
    rule: 'public-service',
    key: spec.key,
    message: `${spec.key} is sensitive but goes to the public service ${exposed.join(', ')} (bundled into the browser)`,
    hint: `remove ${exposed.join(', ')} from its services, or set \`sensitive: false\` if the value is meant to be public`,
  }
}

export const publicPrefix: SecretRule = (spec) => {
  const prefix = BUNDLER_PUBLIC.find((p) => spec.key.startsWith(p))
  if (!prefix || !spec.sensitive) return undefined
  return {
    severity: 'error',
    rule: 'public-prefix',
    key: spec.key,
    message: `${spec.key} is marked sensitive, but bundlers inline ${prefix}* variables into browser code`,
    hint: `set \`sensitive: false\` if it is public config, or rename it without ${prefix} and keep it server-side`,
  }
}

/** Rules about the manifest entry itself: they hold whether or not there is a value. */
export const specRules: SecretRule[] = [publicExposure, publicPrefix]

/** Rules about the value, in the order their findings are listed; nothing follows `missing`. */
export const valueRules: SecretRule[] = [missing, placeholder, tooShort, format, lowEntropy, reused, weak]

// --- rules across keys -------------------------------------------------------------------------

const hasValue = (v: Secret | undefined) => v !== undefined && !v.isEmpty

function conditionHolds(c: KeyConditionData, values: Map<string, Secret>, manifest: Manifest): boolean {
  if (typeof c === 'string') return hasValue(values.get(c))
  const actual = values.get(c.key)?.reveal()
  if (actual === undefined) return false
  // A bool key equals "true" when it holds any spelling its format accepts (1, yes, on, TRUE).
  if (manifest.secret(c.key)?.format === 'bool') return boolValue(actual) === boolValue(c.equals)
  return actual === c.equals
}

const describeCondition = (c: KeyConditionData) => (typeof c === 'string' ? c : `${c.key}=${c.equals}`)

/** oneOf and requires rules; `values` holds effective values of the keys that apply to env. */
export function checkRule(rule: RuleData, env: string, file: string, values: Map<string, Secret>, manifest: Manifest): Finding | undefined {
  if (rule.environments && !rule.environments.includes(env)) return undefined
  const label = rule.description ? ` (${rule.description})` : ''
  if ('oneOf' in rule) {
    const members = rule.oneOf.filter((k) => manifest.appliesTo(manifest.secret(k)!, env))
    // None of the keys applies to this environment: nothing to ask of it.
    if (members.length === 0) return undefined
    const set = members.filter((k) => hasValue(values.get(k)))
    if (set.length === 0) {
      return {
        severity: 'error',
        rule: 'one-of',
        message: `none of ${members.join(', ')} is set${label}`,
        hint: `set one of them in ${file}`,
      }
    }
    if (rule.exclusive && set.length > 1) {
      return {
        severity: 'error',
        rule: 'one-of',
        message: `only one of ${members.join(', ')} may be set, but ${set.join(' and ')} are${label}`,
        hint: `remove all but one of ${set.join(', ')}`,
      }
    }
    return undefined
  }
  const applicable = rule.requires.filter((c) => manifest.appliesTo(manifest.secret(typeof c === 'string' ? c : c.key)!, env))
  if (applicable.length === 0 || applicable.some((c) => conditionHolds(c, values, manifest))) return undefined
  const alternatives = applicable.map(describeCondition)
  return {
    severity: 'error',
    rule: 'requires',
    message: `needs ${alternatives.join(', or ')}${label}`,
    hint: `set ${alternatives[0]}${alternatives.length > 1 ? ` (or another alternative)` : ''} in ${file}`,
  }
}
