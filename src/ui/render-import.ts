import type {ImportAction, ImportResult} from '../values/import.js'
import {visible} from '../redact.js'
import {renderProposals} from './render-pull.js'
import {plural, style, table} from './style.js'

const NOTE: Record<ImportAction, string> = {
  added: 'imported',
  updated: 'replaced by the file\'s value',
  unchanged: 'same as the store',
  'kept-local': 'differs: store value kept (--overwrite replaces it)',
  'other-environments': 'the manifest sets it only in other environments: not imported',
  'not-in-manifest': 'not in the manifest: not imported (entry below)',
}

export function renderImport(r: ImportResult): string[] {
  const file = visible(r.file)
  const rows = r.keys.map((k) => [k.action === 'added' || k.action === 'updated' ? style.green(k.key) : k.key, style.dim(NOTE[k.action])])
  const lines = table(rows)
  lines.push(...renderProposals(r.proposals))
  if (r.warnings.length > 0) {
    lines.push('')
    for (const w of r.warnings) lines.push(`${style.yellow('warning')} ${visible(w.message)}`, style.dim(`    → ${visible(w.hint)}`))
  }
  lines.push('', `${r.environment}: ${plural(r.written, 'value')} imported into ${visible(r.store)} from ${file} (${plural(r.keys.length, 'key')} read)`)
  if (r.written > 0) lines.push(style.dim(`${file} was left as it was: once you have checked the import, delete it (its values are in ${visible(r.store)} now)`))
  return lines
}
