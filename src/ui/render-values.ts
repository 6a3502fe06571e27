import type {Finding} from '../check/rules.js'
import {visible} from '../redact.js'
import type {SetResult} from '../values/set.js'
import type {UnsetResult} from '../values/unset.js'
import {plural, style} from './style.js'

/** check's words about a value, for stderr: its severity, message and what to do. */
export function renderFindings(findings: Finding[]): string[] {
  const err = process.stderr
  return findings.map((f) => `${f.severity === 'error' ? style.red('error', err) : style.yellow('warning', err)} ${visible(f.message)}\n  ${style.cyan('→', err)} ${visible(f.hint)}`)
}

export function renderSet(r: SetResult): string[] {
  return [`set ${r.key} in ${r.file} (${r.action}, fingerprint ${r.fingerprint})`]
}

export function renderUnset(r: UnsetResult): string[] {
  const lines = r.removed.length > 0 ? [`removed ${r.removed.join(', ')} from ${r.file}`] : [`nothing removed: ${r.file} has no value for ${r.absent.join(', ')}`]
  if (r.removed.length > 0 && r.absent.length > 0) lines.push(style.dim(`not there already: ${r.absent.join(', ')}`))
  return lines
}

/** A removed required key: check fails until it has a value again. */
export function renderRequiredNote(r: UnsetResult, hint: string): string[] {
  if (r.required.length === 0) return []
  const err = process.stderr
  return [`${style.yellow('warning', err)} ${plural(r.required.length, 'required key')} now without a value (${r.required.join(', ')}): \`envsync check ${r.environment}\` fails until ${r.required.length === 1 ? 'it has' : 'they have'} one`, `  ${style.cyan('→', err)} ${hint}`]
}
