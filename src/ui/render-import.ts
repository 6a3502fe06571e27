import type {ImportAction, ImportResult} from '../values/import.js'
import {shellPath} from '../paths.js'
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
  'invalid-name': 'not a valid manifest key (letters, digits and _, not first a digit): not imported',
}

export function renderImport(r: ImportResult): string[] {
  const file = visible(r.file)
  const rows = r.keys.map((k) => [
    k.action === 'added' || k.action === 'updated' ? style.green(k.key) : k.key,
    style.dim(k.rename === undefined ? NOTE[k.action] : `${NOTE[k.action]}; rename it to ${k.rename} in ${file}`),
  ])
  // concat, not push(...): a .env of 150k keys would overflow the call stack.
  let lines = table(rows).concat(renderProposals(r.proposals))
  if (r.warnings.length > 0) {
    lines.push('')
    for (const w of r.warnings) lines.push(`${style.yellow('warning')} ${visible(w.message)}`, style.dim(`    → ${visible(w.hint)}`))
  }
  lines.push('', `${r.environment}: ${plural(r.written, 'value')} imported into ${visible(r.store)} from ${file} (${plural(r.keys.length, 'key')} read)`)
  lines = lines.concat(leftBehind(r))
  return lines
}

/**
 * Whether the file can go: only when every manifest value in it is in the store now. Otherwise the
 * values kept back exist only in that file, and the user is told which and how to take them.
 */
function leftBehind(r: ImportResult): string[] {
  const file = visible(r.file)
  const kept = r.keys.filter((k) => k.action === 'kept-local').map((k) => k.key)
  const elsewhere = r.keys.some((k) => k.action !== 'added' && k.action !== 'updated' && k.action !== 'unchanged')
  if (kept.length === 0 && !elsewhere) {
    return r.keys.length > 0 ? [style.dim(`${file} was left as it was: every value in it is in ${visible(r.store)} now, so once you have checked the import you can delete it`)] : []
  }
  const lines = [style.dim(`${file} was left as it was; keep it: some of its values are not in ${visible(r.store)}`)]
  if (kept.length > 0) {
    lines.push(style.dim(`  kept back (the store's value differs): ${kept.join(', ')} — to take the file's: \`envsync import ${r.environment} ${shellPath(r.file)} --overwrite\``))
  }
  return lines
}
