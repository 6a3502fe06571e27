import {redact, visible} from '../redact.js'
import type {LogEntry, LogResult} from '../sync/log.js'
import {plural, style, table} from './style.js'

/** Key names shown per entry; the rest are counted (--json and --format jsonl have them all). */
const SHOWN_KEYS = 6

/** One row per entry, newest first: when, who, (environment,) action, where, keys, outcome. */
export function renderLog(r: LogResult, options: {environment?: string; keys?: string[]} = {}): string[] {
  if (r.recorded === 0) return [style.dim('no changes recorded yet (push, set, generate, rotate… record them in .envsync/history.jsonl)')]
  if (r.matched === 0) return [style.dim(`no changes match (${plural(r.recorded, 'change')} recorded)`)]
  const env = options.environment === undefined
  const head = ['TIME', 'WHO', ...(env ? ['ENV'] : []), 'ACTION', 'WHERE', 'KEYS', 'STATUS'].map((h) => style.dim(h))
  const rows = r.entries.map((e) => [
    localTime(e.time),
    who(e),
    ...(env ? [line(e.environment)] : []),
    e.action,
    line(e.destination ? e.destination.replace(':', ' ') : Object.hasOwn(r.stores, e.environment) ? r.stores[e.environment] : 'store'),
    keyWords(e, new Set(options.keys)),
    outcome(e),
  ])
  const lines = table([head, ...rows])
  if (r.entries.length < r.matched) lines.push(style.dim(`showing the newest ${r.entries.length} of ${plural(r.matched, 'change')} (--limit)`))
  return lines
}

/** "2026-12-02 09:14", in this machine's time zone (the history keeps UTC). */
export function localTime(iso: string): string {
  const d = new Date(iso)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`
}

/**
 * A field of the history (anyone can write a line of it) as one row's cell: control characters,
 * newlines and tabs escaped, so a forged line cannot add rows or drive the terminal.
 */
function line(text: string): string {
  return visible(text).replace(/[\n\t\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function who(e: LogEntry): string {
  return line(redact(e.ci ? `${e.user} (${e.ci})` : e.user))
}

/** +added ~updated -removed for a push; the keys written (and -removed) for a store write; the keys named first. */
function keyWords(e: LogEntry, named: ReadonlySet<string>): string {
  const words = [...(e.keys ?? []).map((k) => ['', k]), ...(e.added ?? []).map((k) => ['+', k]), ...(e.updated ?? []).map((k) => ['~', k]), ...(e.removed ?? []).map((k) => ['-', k])]
  words.sort(([, a], [, b]) => Number(named.has(b)) - Number(named.has(a)))
  const shown = words.slice(0, SHOWN_KEYS).map(([sign, k]) => line(sign + k))
  if (words.length > SHOWN_KEYS) shown.push(style.dim(`… ${words.length - SHOWN_KEYS} more`))
  return shown.length > 0 ? shown.join(' ') : style.dim('no keys')
}

function outcome(e: LogEntry): string {
  if (e.status === 'failed') return style.red(`failed${e.error ? ` (${line(redact(e.error))})` : ''}`)
  if (e.graceUntil) return `grace until ${localTime(e.graceUntil)}`
  if (e.status === 'applied') return style.green('applied')
  return ''
}
