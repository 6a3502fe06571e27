import type {Proposal, PullAction, PullResult} from '../sync/pull.js'
import {plural, style, table} from './style.js'

const NOTE: Record<PullAction, string> = {
  added: 'written',
  updated: 'replaced (--overwrite)',
  unchanged: 'same as local',
  'kept-local': 'differs: local value kept (--overwrite replaces it)',
  'write-only': 'write-only on the platform: cannot be pulled',
  conflict: 'destinations disagree: left alone',
  'not-live': 'not on the platform',
  'manifest-literal': 'its value here is the manifest\'s own literal (targets:): not a local value, not pulled',
  'not-text': 'not UTF-8 text (binary): a values file cannot hold it unchanged; not pulled',
}

export function renderPull(r: PullResult): string[] {
  const rows = r.keys.map((k) => [k.action === 'added' || k.action === 'updated' ? style.green(k.key) : k.action === 'conflict' || k.action === 'not-text' ? style.red(k.key) : k.key, style.dim(NOTE[k.action])])
  const lines = table(rows)
  lines.push(...renderProposals(r.proposals))
  lines.push('', `${r.environment}: ${plural(r.written, 'value')} written to ${r.file} from ${r.from} (${plural(r.requests, 'request')})`)
  return lines
}

/** Manifest entries for keys found outside the manifest (pull, import): names only, never values. */
export function renderProposals(proposals: Proposal[]): string[] {
  if (proposals.length === 0) return []
  return ['', 'Not in the manifest; add under secrets: to manage them:', ...proposals.map((p) => p.entry)]
}
