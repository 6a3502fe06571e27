import type {CheckResult} from '../check/check.js'
import {plural, style, table} from './style.js'

export function renderCheck(r: CheckResult): string[] {
  const lines: string[] = []
  if (r.findings.length > 0) {
    const rows = r.findings.map((f) => [
      f.severity === 'error' ? style.red('error') : style.yellow('warning'),
      f.key ?? '-',
      f.rule,
      f.message,
    ])
    const formatted = table([['SEVERITY', 'KEY', 'RULE', 'FINDING'].map((h) => style.dim(h)), ...rows])
    lines.push(formatted[0])
    r.findings.forEach((f, i) => {
      lines.push(formatted[i + 1])
      lines.push(style.dim(`    → ${f.hint}`))
    })
    lines.push('')
  }
  const verdict =
    r.errors > 0 ? style.red(`✗ ${r.environment}`) : r.warnings > 0 ? style.yellow(`! ${r.environment}`) : style.green(`✓ ${r.environment}`)
  lines.push(`${verdict}: ${plural(r.checked, 'secret')} checked in ${r.file} — ${plural(r.errors, 'error')}, ${plural(r.warnings, 'warning')}`)
  return lines
}
