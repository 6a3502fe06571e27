import type {CheckResult} from '../check/check.js'
import {isFailed, isSkipped, type CheckAllResult} from '../check/check-all.js'
import {day, dueWords, minute} from '../check/rotation.js'
import {visible} from '../redact.js'
import {plural, style, table} from './style.js'

export function renderCheck(r: CheckResult): string[] {
  const lines: string[] = []
  // A to-do's `missing` finding is shown in the to-do list, not again as an error row.
  const todoKeys = new Set(r.todo.map((t) => t.key))
  const findings = r.findings.filter((f) => !(f.rule === 'missing' && f.key && todoKeys.has(f.key)))
  if (findings.length > 0) {
    const rows = findings.map((f) => [
      f.severity === 'error' ? style.red('error') : style.yellow('warning'),
      f.key ?? '-',
      f.rule,
      visible(f.message),
    ])
    const formatted = table([['SEVERITY', 'KEY', 'RULE', 'FINDING'].map((h) => style.dim(h)), ...rows])
    lines.push(formatted[0])
    findings.forEach((f, i) => {
      lines.push(formatted[i + 1])
      lines.push(style.dim(`    → ${visible(f.hint)}`))
    })
    lines.push('')
  }
  if (r.todo.length > 0) {
    lines.push(style.bold(`To fill in ${visible(r.file)}:`))
    const rows = r.todo.map((t) => [`  ${t.key}`, visible([t.description, t.expected].filter(Boolean).join(' — '))])
    lines.push(...table(rows), style.dim(`    → ${visible(r.todoHint ?? '')}`), '')
  }
  lines.push(...rotationSection(r))
  for (const note of r.notes) lines.push(visible(note))
  if (r.notes.length > 0) lines.push('')
  const verdict =
    r.errors > 0 ? style.red(`✗ ${r.environment}`) : r.warnings > 0 ? style.yellow(`! ${r.environment}`) : style.green(`✓ ${r.environment}`)
  // Values to fill in are errors (as --json and the exit code count them), said as what they are.
  const left = r.todo.length > 0 ? ` (${plural(r.todo.length, 'value')} to fill in)` : ''
  lines.push(`${verdict}: ${plural(r.checked, 'secret')} checked in ${visible(r.file)} — ${plural(r.errors, 'error')}${left}, ${plural(r.warnings, 'warning')}`)
  return lines
}

/** Each rotated key's due date and each grace period, a row each: `JWT_SECRET  every 90d  changed 2026-09-01  due 2026-11-30  overdue by 2 days`. */
function rotationSection(r: CheckResult): string[] {
  const rotation = r.rotation ?? []
  const graces = r.graces ?? []
  if (rotation.length === 0 && graces.length === 0) return []
  const state = {ok: style.green, soon: style.yellow, overdue: style.red, unknown: style.dim}
  const rows = [
    ...rotation.map((k) => [`  ${k.key}`, `every ${k.period}`, ...(k.changed && k.due ? [`changed ${day(k.changed)}`, `due ${day(k.due)}`] : []), state[k.state](dueWords(k))]),
    ...graces.map((g) => [`  ${g.previous}`, `grace of ${g.key}`, `since ${minute(g.since)}`, `until ${minute(g.until)}`, g.active ? style.yellow('running') : style.dim('ended')]),
  ]
  return [style.bold('Rotation:'), ...table(rows), '']
}

/** Every environment: a heading each, its findings as for one, then a line for the whole project. */
export function renderCheckAll(r: CheckAllResult): string[] {
  const lines: string[] = []
  for (const e of r.environments) {
    lines.push(style.bold(`── ${e.environment}`))
    if (isSkipped(e)) lines.push(style.dim(`- ${e.environment}: skipped — ${visible(e.skipped)}${e.suggestion ? ` (${visible(e.suggestion)})` : ''}`))
    else if (isFailed(e)) {
      const where = e.where ? `${e.where}: ` : ''
      lines.push(`${style.red(`✗ ${e.environment}`)}: not checked — ${where}${visible(e.error.message)}`)
      if (e.error.suggestion) lines.push(style.dim(`    → ${visible(e.error.suggestion)}`))
    } else lines.push(...renderCheck(e))
    lines.push('')
  }
  const checked = r.environments.length - r.skipped - r.failed
  // Named: a skipped environment was not audited at all, which a bare count hides.
  const names = (list: {environment: string}[]) => list.map((e) => e.environment).join(', ')
  const failed = r.failed > 0 ? `, ${r.failed} could not be read (${names(r.environments.filter(isFailed))})` : ''
  const skipped = r.skipped > 0 ? `, ${r.skipped} skipped: not checked, no key here (${names(r.environments.filter(isSkipped))})` : ''
  const verdict = r.errors > 0 || r.failed > 0 ? style.red('✗') : r.warnings > 0 || r.skipped > 0 ? style.yellow('!') : style.green('✓')
  lines.push(`${verdict} ${plural(checked, 'environment')} checked${failed}${skipped} — ${plural(r.errors, 'error')}, ${plural(r.warnings, 'warning')}`)
  return lines
}
