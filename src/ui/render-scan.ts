import {MAX_SCAN_BYTES} from '../scan/files.js'
import {escapeControls} from '../scan/names.js'
import {MIN_VALUE_LENGTH} from '../scan/needles.js'
import type {Owner, ScanResult} from '../scan/scan.js'
import {visible} from '../redact.js'
import {plural} from '../words.js'
import {style, table} from './style.js'

const keysOf = (keys: Owner[]) => keys.map((k) => `${k.key} (${k.environment}${k.previousOf ? `, previous value of ${k.previousOf}` : ''})`).join(', ')
const formOf = (form: string) => (form === 'value' ? '' : style.dim(form))
/** A path (redacted already) on one row: a newline or ESC in a name must not forge or drive the output. */
const pathOf = escapeControls

/** Where each value was found (never the value), what to run, then what was and was not scanned. */
export function renderScan(r: ScanResult): string[] {
  const lines: string[] = []
  if (r.files.length > 0) {
    lines.push(...table(r.files.map((f) => [`  ${pathOf(f.file)}${f.inName ? ' (in its name)' : `:${f.line}:${f.column}`}`, keysOf(f.keys), formOf(f.form)])).map((l) => l.trimEnd()))
  }
  if (r.history && r.history.length > 0) {
    if (r.files.length > 0) lines.push('')
    lines.push(style.bold('In the git history:'))
    lines.push(...table(r.history.map((h) => [`  ${h.commit}`, `${pathOf(h.path)}${h.inName ? ' (in its name)' : `:${h.line}:${h.column}`}`, keysOf(h.keys), formOf(h.form)])).map((l) => l.trimEnd()))
  }
  if (r.unlisted > 0) lines.push(style.dim(`  … and ${plural(r.unlisted, 'more place')} (not listed)`))
  if (r.found > 0) {
    lines.push('', `${style.cyan('→')} these values are exposed: rotate them (removing the file or rewriting history does not unleak a copy):`)
    for (const step of r.next) lines.push(`    ${step}`)
    lines.push('')
  }
  for (const n of r.notScanned) lines.push(style.yellow(`not scanned for: ${n.environment} (${visible(n.reason)})`) + (n.suggestion ? style.dim(` → ${visible(n.suggestion)}`) : ''))
  const skipped: string[] = []
  if (r.skipped.byDesign.length > 0) skipped.push(`${plural(r.skipped.byDesign.length, 'file')} where envsync keeps values by design (${r.skipped.byDesign.slice(0, 5).map(pathOf).join(', ')}${r.skipped.byDesign.length > 5 ? ', …' : ''})`)
  if (r.skipped.large.length > 0) skipped.push(`${plural(r.skipped.large.length, 'file')} over ${MAX_SCAN_BYTES >> 20} MB (${r.skipped.large.slice(0, 5).map(pathOf).join(', ')}${r.skipped.large.length > 5 ? ', …' : ''})`)
  if (r.skipped.largeBlobs) skipped.push(`${plural(r.skipped.largeBlobs, 'blob')} in the history over ${MAX_SCAN_BYTES >> 20} MB`)
  if (r.skipped.unreadable.length > 0) skipped.push(`${plural(r.skipped.unreadable.length, 'unreadable file')} (${r.skipped.unreadable.slice(0, 5).map(pathOf).join(', ')})`)
  if (r.skipped.special > 0) skipped.push(`${plural(r.skipped.special, 'special file')} (symbolic links, FIFOs, devices)`)
  if (skipped.length > 0) lines.push(style.dim(`skipped: ${skipped.join('; ')}`))
  if (r.short.length > 0) {
    lines.push(style.dim(`not looked for: ${plural(r.short.length, 'value')} shorter than ${MIN_VALUE_LENGTH} characters, which would match by chance (${r.short.map((o) => `${o.key} in ${o.environment}`).join(', ')})`))
  }
  const history = r.scanned.commits === undefined ? '' : `, ${plural(r.scanned.commits, 'commit')} (${plural(r.scanned.blobs ?? 0, 'blob')}) in ${seconds(r.scanned.historyMs ?? 0)}`
  const what = `${plural(r.scanned.values, 'value')} of ${r.scanned.environments.join(', ') || 'no environment'} in ${plural(r.scanned.files, 'file')} (${megabytes(r.scanned.bytes)}) in ${seconds(r.scanned.ms)}${history}`
  const verdict = r.found > 0 ? style.red(`✗ ${plural(r.found, 'place')} holding a secret value`) : style.green('✓ no secret value found')
  lines.push(`${verdict}: looked for ${what}`)
  return lines
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`)
const megabytes = (bytes: number) => (bytes < 1 << 20 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / (1 << 20)).toFixed(1)} MB`)
