import {countActions, planTotals, type DestinationPlan, type KeyAction, type KeyPlan} from '../sync/plan.js'
import type {SyncPlan, SyncReport} from '../sync/sync.js'
import type {Redeploy} from '../targets/target.js'
import {plural, style, table} from './style.js'
import {redact, visible} from '../redact.js'

const SYMBOL: Record<KeyAction, string> = {add: '+', update: '~', remove: '-', unchanged: '=', unmanaged: '!', unknown: '?', missing: '·'}

const NOTE: Partial<Record<KeyAction, string>> = {
  remove: 'envsync put it there; gone from the manifest',
  unmanaged: 'not envsync’s: left alone (--prune removes it)',
  unknown: 'write-only on the platform: cannot compare',
  missing: 'no local value: left as it is',
}

function colour(action: KeyAction, text: string): string {
  if (action === 'add') return style.green(text)
  if (action === 'update') return style.yellow(text)
  if (action === 'remove') return style.red(text)
  if (action === 'unmanaged' || action === 'unknown' || action === 'missing') return style.dim(text)
  return text
}

/** The one way a plan is shown, by diff and push alike. Fingerprints, and plain config's values only. */
export function renderPlan(plan: SyncPlan, options: {verbose?: boolean} = {}): string[] {
  const lines: string[] = []
  const shared = sharedErrors(plan.plans)
  for (const p of plan.plans) {
    const group = p.error && shared.get(p.error)
    if (!group) lines.push(...renderDestination(p, options.verbose === true), '')
    else if (group[0] === p) lines.push(...renderSharedError(group), '')
  }
  const owed = plan.plans.filter((p) => plan.redeploy?.includes(p.destination.id))
  if (owed.length > 0) lines.push(style.yellow(`↻ the last redeploy of ${owed.map((p) => visible(p.destination.label)).join(', ')} failed: push makes it again`), '')
  for (const w of plan.warnings) lines.push(`${style.yellow('! warning')}  ${visible(w.message)}`, style.dim(`  → ${visible(w.hint)}`))
  if (plan.warnings.length > 0) lines.push('')
  lines.push(summary(plan))
  return lines
}

/**
 * Errors several destinations share: one cause (a broken kubeconfig, an unreachable cluster, a
 * missing namespace) fails every destination it reaches with the same error. Shown and serialised
 * once, with the destinations it stopped. Each member's error maps to its group.
 */
export function sharedErrors(plans: DestinationPlan[]): Map<Error, DestinationPlan[]> {
  const byCause = new Map<string, DestinationPlan[]>()
  for (const p of plans) {
    if (!p.error) continue
    const cause = JSON.stringify([p.destination.kind, (p.error as {code?: string}).code, p.error.message, (p.error as {suggestion?: string}).suggestion])
    byCause.set(cause, [...(byCause.get(cause) ?? []), p])
  }
  const groups = new Map<Error, DestinationPlan[]>()
  for (const group of byCause.values()) if (group.length > 1) for (const p of group) groups.set(p.error!, group)
  return groups
}

function renderSharedError(group: DestinationPlan[]): string[] {
  const error = group[0].error!
  const suggestion = (error as {suggestion?: string}).suggestion
  return [
    `${style.bold(group[0].destination.kind)}  ${style.red(`cannot read ${plural(group.length, 'destination')}`)}: ${redact(error.message)}`,
    ...(suggestion ? [style.dim(`  → ${redact(suggestion)}`)] : []),
    ...group.map((p) => style.dim(`  · ${visible(p.destination.label)}`)),
  ]
}

/** "2 to add, 1 to update" (nothing when in sync): a destination's changes in diff's words, which status repeats. */
export function changeWords(c: {add: number; update: number; remove: number}): string[] {
  return [c.add && `${c.add} to add`, c.update && `${c.update} to update`, c.remove && `${c.remove} to remove`].filter((w): w is string => Boolean(w))
}

function renderDestination(p: DestinationPlan, verbose: boolean): string[] {
  const head = style.bold(visible(p.destination.label))
  if (p.error) {
    const suggestion = (p.error as {suggestion?: string}).suggestion
    return [`${head}  ${style.red('cannot read')}: ${redact(p.error.message)}`, ...(suggestion ? [style.dim(`  → ${redact(suggestion)}`)] : [])]
  }
  const c = countActions(p)
  const conflicts = p.keys.filter((k) => k.conflict).length
  const parts = [...changeWords(c), conflicts && style.red(`${plural(conflicts, 'conflict')}: push needs --force-conflicts`)].filter(Boolean)
  const status = parts.length > 0 ? parts.join(', ') : style.green('in sync')
  const lines = [`${head}${p.exists ? '' : style.dim(' (new)')}  ${status}`]
  const rows = p.keys
    .filter((k) => verbose || k.heldBack || (k.action !== 'unchanged' && k.action !== 'missing'))
    .map((k) => [
      colour(k.action, `  ${SYMBOL[k.action]} ${k.key}`),
      ...shownValues(k),
      k.conflict ? style.red(`owned by ${k.conflict.join(', ')}: push needs --force-conflicts`) : style.dim(k.pruned ? 'not envsync’s: removed because of --prune' : k.heldBack ? 'a placeholder: never pushed (set a real value)' : (NOTE[k.action] ?? '')),
    ])
  if (rows.length > 0) lines.push(...table(rows))
  if (!verbose && c.unchanged > 0) lines.push(style.dim(`  = ${plural(c.unchanged, 'key')} unchanged`))
  const withoutValue = c.missing - p.keys.filter((k) => k.heldBack).length
  if (!verbose && withoutValue > 0) lines.push(style.dim(`  · ${plural(withoutValue, 'key')} without a local value, left as live (-v lists them)`))
  return lines
}

/** The local and live columns: plain config's values (`info → debug`), else fingerprints. */
function shownValues(k: KeyPlan): [string, string] {
  const local = k.localValue === undefined ? (k.local ? `local ${k.local}` : '') : `local ${quoted(k.localValue)}`
  const live = k.liveValue === undefined ? (k.live ? `live ${k.live}` : '') : `live ${quoted(k.liveValue)}`
  if (k.action === 'update' && k.localValue !== undefined && k.liveValue !== undefined) return [`${quoted(k.liveValue)} → ${quoted(k.localValue)}`, '']
  return [local, live]
}

const SHOWN_MAX = 40

/**
 * A plain value on one line: as is when it is one plain word, else JSON-quoted (newlines, tabs,
 * quotes and edge spaces visible); a long one cut, with its length.
 */
function quoted(value: string): string {
  const chars = [...value]
  const cut = chars.length > SHOWN_MAX ? chars.slice(0, SHOWN_MAX - 8).join('') : value
  const bare = /^[^\s"'\\\p{C}]+$/u.test(cut) && !cut.includes('→')
  // JSON escapes C0 controls, not DEL or C1: visible does.
  const text = bare ? cut : visible(JSON.stringify(cut))
  if (cut === value) return text
  return `${bare ? `${text}…` : `${text.slice(0, -1)}…"`} (${chars.length} chars)`
}

function summary(plan: SyncPlan): string {
  const {changes, changed, unreadable: failed} = planTotals(plan.plans)
  const base = `${plan.environment}: ${plural(plan.plans.length, 'destination')}, ${plural(changes, 'change')}`
  return `${base}${changed > 0 ? ` in ${changed}` : ''}${failed > 0 ? style.red(`, ${failed} unreadable`) : ''}`
}

/** With the plan (always shown before the report), a destination that could not be read points at it. */
export function renderReport(r: SyncReport, plan?: SyncPlan): string[] {
  const unread = new Set(plan?.plans.filter((p) => p.error).map((p) => p.destination.id))
  const rows = r.destinations.map((d) => {
    const mark = d.status === 'applied' ? style.green('✓ applied') : d.status === 'failed' ? style.red('✗ failed') : style.dim('= in sync')
    const counts = [d.added.length && `${d.added.length} added`, d.updated.length && `${d.updated.length} updated`, d.removed.length && `${d.removed.length} removed`].filter(Boolean).join(', ')
    const detail = unread.has(d.id)
      ? style.dim('not read: see the plan above')
      : d.error?.code === 'REDEPLOY_FAILED'
        ? `${d.error.message.split(':')[0]} (below)${d.error.suggestion ? style.dim(` → ${redact(d.error.suggestion)}`) : ''}`
        : d.error
        ? `${redact(d.error.message)}${d.error.suggestion ? style.dim(` → ${redact(d.error.suggestion)}`) : ''}`
        : d.status === 'failed'
          ? ''
          : counts
    return [mark, visible(d.label), detail]
  })
  const verdict = r.failed > 0 ? style.red(`✗ ${r.environment}: ${r.failed} of ${plural(r.destinations.length, 'destination')} failed`) : style.green(`✓ ${r.environment}: ${r.applied} applied, ${r.destinations.length - r.applied} already in sync`)
  // What git should hear of .envsync/ (commit it): after the verdict, once.
  const state = r.state ? [style.dim(r.state.message)] : []
  return [...table(rows), ...renderRedeploys(r.redeploys ?? []), '', `${verdict} (${plural(r.requests, 'request')})`, ...state]
}

/** What followed the writes, one line each: restarted or deployed, failed (why), or a command to run. */
function renderRedeploys(redeploys: Redeploy[]): string[] {
  if (redeploys.length === 0) return []
  const rows = redeploys.map((d) => {
    const mark = d.status === 'applied' ? style.green('↻ redeploy') : d.status === 'failed' ? style.red('✗ redeploy') : style.yellow('→ to run')
    const detail = d.status === 'failed' ? `${visible(d.what)}: ${redact(d.error ?? 'failed')}` : d.command ? `${visible(d.what)}: ${style.bold(visible(d.command))}` : visible(d.what)
    return [mark, visible(d.label), detail]
  })
  return ['', ...table(rows)]
}
