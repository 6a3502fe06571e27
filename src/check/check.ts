import type {Manifest} from '../manifest/manifest.js'
import {valueOf} from '../manifest/resolve.js'
import {Secret} from '../secret.js'
import {readValues, type ValuesFile} from '../values/store.js'
import {formatOutcomes} from './format.js'
import {dockerWarnings} from '../sync/warnings.js'
import {gitStatus} from './git.js'
import {checkRule, specRules, valueRules, type Finding} from './rules.js'
import {sameValueFindings} from './weak.js'
import {placeholderKind} from './placeholder.js'
import {asEnvsyncError} from '../errors.js'

export interface CheckResult {
  environment: string
  file: string
  checked: number
  errors: number
  warnings: number
  findings: Finding[]
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
export function runCheck(manifest: Manifest, env: string, store: ValuesFile = readValues(manifest.valuesFile(env))): CheckResult {
  const values = effectiveValues(manifest, env, store)
  const others = new Map<string, ValuesFile>()
  const findings: Finding[] = [...fileFindings(manifest, env, store), ...dockerWarnings(manifest, env).map((w) => ({severity: 'warning' as const, ...w}))]
  for (const other of manifest.environmentNames) {
    if (other === env || manifest.valuesFile(other) === store.file) continue
    try {
      const file = readValues(manifest.valuesFile(other))
      if (file.exists) others.set(other, file)
    } catch (error) {
      // Another environment's broken file must not stop this audit; it only limits the reuse rule.
      findings.push({
        severity: 'warning',
        rule: 'reused',
        message: `could not compare with ${other}: ${asEnvsyncError(error).message}`,
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
    const ctx = {manifest, env, value: values.get(spec.key), elsewhere, formatFits: formatFits.get(spec.key)}
    for (const rule of valueRules) {
      const f = rule(spec, ctx)
      if (f) findings.push(f)
      // Nothing more to say about a missing value.
      if (f?.rule === 'missing') break
    }
    for (const rule of specRules) {
      const f = rule(spec, ctx)
      if (f) findings.push(f)
    }
  }
  findings.push(...sameValueFindings(specs, values, env, manifest.isProtected(env)))
  for (const rule of manifest.data.rules) {
    const f = checkRule(rule, env, values, manifest)
    if (f) findings.push(f)
  }

  findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
  return {
    environment: env,
    file: store.display,
    checked: specs.length,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    findings,
  }
}

function fileFindings(manifest: Manifest, env: string, store: ValuesFile): Finding[] {
  const out: Finding[] = []
  if (!store.exists) return out
  if (store.mode !== undefined && (store.mode & 0o077) !== 0) {
    out.push({
      severity: 'error',
      rule: 'file-mode',
      message: `${store.display} is readable by other users (mode ${store.mode.toString(8).padStart(4, '0')})`,
      hint: `run \`chmod 600 ${store.display}\``,
    })
  }
  const git = gitStatus(store.file)
  if (git.tracked) {
    out.push({
      severity: 'error',
      rule: 'git-tracked',
      message: `${store.display} is committed to git: its values are in the repository history`,
      hint: `run \`git rm --cached ${store.display}\`, add it to .gitignore, and rotate every value in it`,
    })
  } else if (git.inRepo && !git.ignored) {
    out.push({
      severity: 'error',
      rule: 'git-ignore',
      message: `${store.display} is not git-ignored: \`git add .\` would commit it`,
      hint: `add ${store.display} (or .env.*) to .gitignore`,
    })
  }
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
        hint: `add ${key} under secrets: in the manifest, or remove it from the values file`,
      })
    } else if (!manifest.appliesTo(spec, env)) {
      out.push({
        severity: 'warning',
        rule: 'unknown-key',
        key,
        message: `${key} is in ${store.display} but applies only to ${spec.environments!.join(', ')}`,
        hint: `remove it from the values file, or add ${env} to its environments`,
      })
    }
  }
  return out
}
