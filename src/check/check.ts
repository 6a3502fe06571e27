import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {valueOf} from '../manifest/resolve.js'
import {shellPath} from '../paths.js'
import {Secret} from '../secret.js'
import {fillHint} from '../values/generate.js'
import {inSecretManager, readStore, type ValuesFile} from '../values/store.js'
import {describeFormat, formatOutcomes} from './format.js'
import {dockerWarnings} from '../sync/warnings.js'
import {dockerDeliveryNotes} from './delivery.js'
import {encryptedGitFindings, gitFindings} from './git.js'
import {checkRule, minLengthOf, specRules, valueRules, type Finding} from './rules.js'
import {sameValueFindings} from './weak.js'
import {placeholderKind} from './placeholder.js'
import {asEnvsyncError} from '../errors.js'
import type {GraceInfo, RotationInfo} from '../sync/rotation.js'
import {auditRotation} from './rotation.js'

export interface CheckResult {
  environment: string
  file: string
  checked: number
  errors: number
  warnings: number
  /** Every finding, the to-do's `missing` ones included (errors counts them too). */
  findings: Finding[]
  /** Required keys never set in this environment: the values a person (or generate) must still provide. */
  todo: TodoItem[]
  /** How to give the to-do keys their values, in one line (generate, or the file to edit). */
  todoHint?: string
  /** Lines worth knowing that are not findings. */
  notes: string[]
  /** Each key with a rotation period and a value: when it changed and is due (when asked: CheckOptions.at). */
  rotation?: RotationInfo[]
  /** Rotations with a grace period: when the previous value may go. */
  graces?: GraceInfo[]
}

export interface CheckOptions {
  /**
   * Judge rotation due dates and grace periods at this time (`envsync check`). Absent: not judged —
   * push and set check the values they write, not how old the others are (an overdue key must not
   * block a hotfix push).
   */
  at?: Date
}

/** A value still to provide: what it is and how to set it. Its `missing` finding is in findings too. */
export interface TodoItem {
  key: string
  description?: string
  /** What a valid value looks like (its format or minimum length). */
  expected?: string
  hint: string
}

/** Values as the environment will see them: the store's, else the manifest default. */
export function effectiveValues(manifest: Manifest, env: string, store: ValuesFile): Map<string, Secret> {
  const out = new Map<string, Secret>()
  for (const spec of manifest.secretsFor(env)) {
    const v = valueOf(spec, store)
    if (v) out.set(spec.key, v)
  }
  return out
}

/** Keys whose value is a placeholder: never pushed (push holds them back, diff shows them so). */
export function placeholderKeys(manifest: Manifest, env: string, store: ValuesFile): Set<string> {
  const out = new Set<string>()
  for (const spec of manifest.secretsFor(env)) {
    const value = valueOf(spec, store)
    if (value && !value.isEmpty && placeholderKind(value.reveal(), spec.sensitive)) out.add(spec.key)
  }
  return out
}

/** Audits one environment's values against the manifest. Reads files; reports, never changes. */
/** `store`: the environment's, when the caller has read it already (or changed it in memory: set). */
export async function runCheck(manifest: Manifest, env: string, store?: ValuesFile, options: CheckOptions = {}): Promise<CheckResult> {
  store ??= await readStore(manifest, env)
  const values = effectiveValues(manifest, env, store)
  const others = new Map<string, ValuesFile>()
  const todo: TodoItem[] = []
  const findings: Finding[] = [...fileFindings(manifest, env, store), ...dockerWarnings(manifest, env).map((w) => ({severity: 'warning' as const, ...w}))]
  const notes: string[] = []
  for (const other of manifest.environmentNames) {
    if (other === env || manifest.valuesFile(other) === store.file) continue
    if (inSecretManager(manifest, other)) {
      notes.push(`not compared with ${other} for reused values: its values are in a secret manager (\`envsync check ${other}\` compares it with the others)`)
      continue
    }
    try {
      const file = await readStore(manifest, other)
      if (file.exists) others.set(other, file)
    } catch (error) {
      const e = asEnvsyncError(error)
      // A store this machine has no key for is normal in a team (production's): said, not a warning.
      if (e.code === 'STORE_LOCKED') {
        notes.push(`not compared with ${other} for reused values: no key for its encrypted store here`)
        continue
      }
      // Another environment's broken file must not stop this audit; it only limits the reuse rule.
      findings.push({
        severity: 'warning',
        rule: 'reused',
        message: `could not compare with ${other}: ${e.message}`,
        hint: `run \`envsync check ${other}\` to see what is wrong with that file`,
      })
    }
  }

  // Formats first, all keys at once: manifest regexes run in one time-bounded batch.
  const specs = manifest.secretsFor(env)
  const formatted = specs.filter((s) => s.format && values.get(s.key)?.isEmpty === false)
  const fits = formatOutcomes(formatted.map((s) => ({format: s.format!, value: values.get(s.key)!.reveal()})))
  const formatFits = new Map(formatted.map((s, i) => [s.key, fits[i]]))

  for (const spec of specs) {
    const elsewhere = new Map<string, Secret>()
    for (const [name, file] of others) {
      const v = file.values.get(spec.key)
      if (v) elsewhere.set(name, v)
    }
    const ctx = {manifest, env, file: store.display, value: values.get(spec.key), elsewhere, formatFits: formatFits.get(spec.key)}
    for (const rule of valueRules) {
      const f = rule(spec, ctx)
      if (f) findings.push(f)
      // Nothing more to say about a missing value; one never set is a to-do (an empty one is a mistake).
      if (f?.rule === 'missing') {
        if (!ctx.value) todo.push(todoItem(spec, f.hint))
        break
      }
    }
    for (const rule of specRules) {
      const f = rule(spec, ctx)
      if (f) findings.push(f)
    }
  }
  findings.push(...sameValueFindings(specs, values, env, store.display, manifest.isProtected(env)))
  for (const rule of manifest.data.rules) {
    const f = checkRule(rule, env, store.display, values, manifest)
    if (f) findings.push(f)
  }
  const dates = options.at ? auditRotation(manifest, env, store, options.at) : undefined
  if (dates) findings.push(...dates.findings)
  notes.push(...(dates?.notes ?? []))

  findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
  return {
    environment: env,
    file: store.display,
    // A previous key (held only during a grace) counts while it holds a value.
    checked: specs.filter((s) => !s.previousOf || values.has(s.key)).length,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    findings,
    todo,
    todoHint: todo.length > 0 ? fillHint(manifest, env, todo.map((t) => t.key), store.display) : undefined,
    notes: [...notes, ...dockerDeliveryNotes(manifest, env, options.at)],
    ...(dates ? {rotation: dates.rotation, graces: dates.graces} : {}),
  }
}

function todoItem(spec: SecretDef, hint: string): TodoItem {
  const min = minLengthOf(spec)
  // A generated value is right by construction: nothing to tell the person about its shape.
  const expected = spec.generate ? undefined : spec.format ? describeFormat(spec.format) : min === undefined ? undefined : `at least ${min} characters`
  return {key: spec.key, description: spec.description, expected, hint}
}

function fileFindings(manifest: Manifest, env: string, store: ValuesFile): Finding[] {
  const out: Finding[] = []
  if (!store.exists || store.remote) return out
  // An encrypted values file is meant to be committed: what matters is that git does not ignore it.
  if (store.encryption) out.push(...encryptedGitFindings(store.file, store.display))
  else if (store.mode !== undefined && (store.mode & 0o077) !== 0) {
    out.push({
      severity: 'error',
      rule: 'file-mode',
      message: `${store.display} is readable by other users (mode ${store.mode.toString(8).padStart(4, '0')})`,
      hint: `run \`chmod 600 ${shellPath(store.file)}\``,
    })
  }
  if (!store.encryption) out.push(...gitFindings(store.file, store.display))
  // One warning per key, naming the line that wins: the last one.
  const lastLine = new Map<string, number>()
  for (const dup of store.duplicates) lastLine.set(dup.key, dup.line)
  for (const [key, line] of lastLine) {
    out.push({
      severity: 'warning',
      rule: 'duplicate',
      key,
      message: `${key} is set more than once in ${store.display} (line ${line} wins)`,
      hint: 'remove the other lines',
    })
  }
  for (const key of store.values.keys()) {
    const spec = manifest.secret(key)
    if (!spec) {
      out.push({
        severity: 'warning',
        rule: 'unknown-key',
        key,
        message: `${key} is in ${store.display} but not in the manifest`,
        hint: `add ${key} under secrets: in the manifest, or remove it from ${store.display}`,
      })
    } else if (!manifest.appliesTo(spec, env)) {
      out.push({
        severity: 'warning',
        rule: 'unknown-key',
        key,
        message: `${key} is in ${store.display} but applies only to ${spec.environments!.join(', ')}`,
        hint: `remove it from ${store.display}, or add ${env} to its environments`,
      })
    }
  }
  return out
}
