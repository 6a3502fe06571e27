import {day, dueWords, minute} from '../check/rotation.js'
import type {DestinationStatus, EnvironmentStatus, RotationSummary, StatusError, StatusResult} from '../sync/status.js'
import {redact, visible} from '../redact.js'
import {changeWords} from './render-plan.js'
import {plural, style, table} from './style.js'

/** Every environment: its store and values in a line or two, then a row per destination. */
export function renderStatus(r: StatusResult): string[] {
  const lines: string[] = []
  for (const e of r.environments) lines.push(...renderEnvironment(e, r.live), '')
  if (!r.live && r.environments.some((e) => e.destinations.length > 0)) lines.push(style.dim('drift not read: --live reads every destination (as diff does)'))
  else if (lines.length > 0) lines.pop()
  return lines
}

function renderEnvironment(e: EnvironmentStatus, live: boolean): string[] {
  const store = `${visible(e.store.file)} (${e.store.kind}${e.store.exists ? '' : ', not created yet'})`
  const lines = [`${style.bold(e.environment)}  ${e.protected ? 'protected · ' : ''}${store}${e.store.locked ? `  ${style.yellow('locked (no key)')}` : ''}`]
  if (e.error) lines.push(...errorLines(e.error, '  '))
  if (e.missing && e.placeholders) lines.push(`  ${valuesLine(e.missing, e.placeholders)}`)
  else if (e.store.locked) lines.push(style.dim('  values: unknown on this machine (not a recipient of this store)'))
  if (e.rotation) lines.push(...rotationLines(e.rotation))
  if (e.destinations.length === 0) {
    if (!e.error) lines.push(style.dim('  no targets'))
    return lines
  }
  const head = ['DESTINATION', 'LAST PUSH', ...(live ? ['DRIFT'] : [])].map((h) => style.dim(h))
  const rows = e.destinations.map((d) => [visible(d.label), lastPush(d), ...(live ? [drift(d, e)] : [])])
  lines.push(...table([head, ...rows]).map((l) => `  ${l}`))
  for (const d of e.destinations) if (d.drift && 'error' in d.drift) lines.push(...errorLines(d.drift.error, '  ', visible(d.label)))
  return lines
}

function valuesLine(missing: string[], placeholders: string[]): string {
  if (missing.length === 0 && placeholders.length === 0) return `values: ${style.green('all set')}`
  const parts = [
    missing.length > 0 && style.red(`${missing.length} missing (${missing.join(', ')})`),
    placeholders.length > 0 && style.yellow(`${plural(placeholders.length, 'placeholder')} (${placeholders.join(', ')})`),
  ].filter(Boolean)
  return `values: ${parts.join(', ')}`
}

/** "rotation: 1 overdue (JWT_SECRET), next JWT_SECRET due 2026-11-30 (overdue by 2 days)", and a line per running grace. */
function rotationLines(r: RotationSummary): string[] {
  const lines: string[] = []
  if (r.keys.length > 0) {
    const named = (state: string) => r.keys.filter((k) => k.state === state).map((k) => k.key).join(', ')
    const parts = [
      r.overdue > 0 && style.red(`${r.overdue} overdue (${named('overdue')})`),
      r.soon > 0 && style.yellow(`${r.soon} due soon (${named('soon')})`),
      r.unknown > 0 && style.dim(`${r.unknown} never recorded (${named('unknown')})`),
    ].filter(Boolean)
    const next = r.keys.find((k) => k.key === r.next?.key && k.state !== 'unknown')
    const nextWords = next ? `next: ${next.key} due ${day(next.due!)} (${dueWords(next).replace(/^due /, '')})` : ''
    lines.push(`  rotation: ${[...(parts.length > 0 ? parts : [style.green('all current')]), ...(nextWords ? [nextWords] : [])].join(', ')}`)
  }
  for (const g of r.graces) lines.push(`  grace: ${g.previous} holds the previous ${g.key} until ${minute(g.until)}`)
  return lines
}

/** "2026-12-02 03:10 UTC by alice <alice@shop.test>" (in github:alice from CI), or never. */
function lastPush(d: DestinationStatus): string {
  if (!d.lastPush) return style.dim('never pushed')
  const when = minute(d.lastPush.time)
  const failed = d.lastPush.status === 'failed' ? style.red(' (failed)') : ''
  const ci = d.lastPush.ci ? ` in ${visible(d.lastPush.ci)}` : ''
  return `${when} by ${visible(d.lastPush.user)}${ci}${failed}`
}

function drift(d: DestinationStatus, e: EnvironmentStatus): string {
  if (!d.drift) return style.dim(e.store.locked ? 'unknown (locked)' : 'not read')
  if ('error' in d.drift) return style.red('cannot read')
  const words = changeWords(d.drift)
  return words.length > 0 ? style.yellow(words.join(', ')) : style.green('in sync')
}

function errorLines(error: StatusError, indent: string, label?: string): string[] {
  return [
    `${indent}${style.red('error')} ${label ? `${label}: ` : ''}${redact(error.message)}`,
    ...(error.suggestion ? [style.dim(`${indent}  → ${redact(error.suggestion)}`)] : []),
  ]
}
