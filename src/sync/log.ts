import {now, parseIsoDate} from '../clock.js'
import {EnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {storePlace} from '../manifest/resolve-managers.js'
import {didYouMean} from '../manifest/suggest.js'
import {displayPath} from '../paths.js'
import {redactValue} from '../redact.js'
import {graceMs} from './rotation.js'
import {SyncState, type HistoryAction, type HistoryEntry} from './state.js'

/**
 * `envsync log`: the shared change history (.envsync/history.jsonl), newest first, filtered by
 * environment, key, action and date. Reads, never writes; no values are in it to show.
 */

export interface LogQuery {
  environment?: string
  keys?: string[]
  actions?: HistoryAction[]
  /** An ISO date, or a span back from now (30m, 12h, 7d, 2w). */
  since?: string
  limit?: number
}

/** An entry as the log gives it: every field of HistoryEntry in one order, `action` always set. */
export type LogEntry = HistoryEntry & {action: HistoryAction}

export interface LogResult {
  /** Newest first. */
  entries: LogEntry[]
  /** Entries that matched before --limit. */
  matched: number
  /** Entries recorded in all. */
  recorded: number
  /** Per environment, where its store writes land (the store file or secret manager place), for entries without a destination. No prototype: read with Object.hasOwn. */
  stores: Record<string, string>
}

/** The change log of a project: entries matching the query, newest first. */
export function changeLog(manifest: Manifest, query: LogQuery = {}): LogResult {
  const all = new SyncState(manifest.dir).history().map(normalize)
  const since = query.since === undefined ? undefined : sinceDate(query.since)
  if (query.environment !== undefined) checkEnvironment(manifest, all, query.environment)
  for (const k of query.keys ?? []) checkKey(manifest, all, k)
  const keys = query.keys && new Set(query.keys)
  const actions = query.actions && new Set(query.actions)
  const matched = all
    .filter((e) => query.environment === undefined || e.environment === query.environment)
    .filter((e) => !keys || touched(e).some((k) => keys.has(k)))
    .filter((e) => !actions || actions.has(e.action))
    .filter((e) => !since || Date.parse(e.time) >= since.getTime())
    // Newest first; entries of one moment (a push's destinations) stay in the order written.
    .map((e, i) => ({e, i}))
    .sort((a, b) => (a.e.time < b.e.time ? 1 : a.e.time > b.e.time ? -1 : a.i - b.i))
    .map(({e}) => e)
  const entries = query.limit === undefined ? matched : matched.slice(0, query.limit)
  return {entries, matched: matched.length, recorded: all.length, stores: storeLabels(manifest, entries)}
}

/** Every key an entry names: given a value, acted on, added, updated or removed. */
export function touched(e: HistoryEntry): string[] {
  return [...new Set([...(e.keys ?? []), ...(e.added ?? []), ...(e.updated ?? []), ...(e.removed ?? [])])]
}

/** An entry as the log gives it: who and the error through the redaction point (a platform's message may quote a credential). */
function normalize(e: HistoryEntry): LogEntry {
  return {...e, action: e.action ?? 'push', user: redactValue(e.user), ...(e.error === undefined ? {} : {error: redactValue(e.error)})}
}

const SINCE_FORMS = 'a date such as 2026-11-01 (or 2026-11-01T09:00:00Z), or a span back from now: 30m, 12h, 7d, 2w'

/** --since: an ISO date (or date and time), or a span back from now. */
function sinceDate(since: string): Date {
  const date = /^\d+[mhdw]$/.test(since) ? new Date(now().getTime() - graceMs(since)) : parseIsoDate(since)
  // A span longer than dates go (±273,790 years) is no date either.
  if (!date || Number.isNaN(date.getTime())) throw new EnvsyncError(`--since "${since.slice(0, 40)}" is not a date or a span`, {code: 'USAGE', suggestion: SINCE_FORMS})
  return date
}

/** An environment of the manifest, or one the history still names (removed from the manifest since). */
function checkEnvironment(manifest: Manifest, all: readonly LogEntry[], env: string): void {
  if (manifest.environmentNames.includes(env) || all.some((e) => e.environment === env)) return
  manifest.environment(env) // throws UNKNOWN_ENVIRONMENT with a did-you-mean
}

/** A key of the manifest, or one some entry names (a key removed since still has its past). */
function checkKey(manifest: Manifest, all: readonly LogEntry[], key: string): void {
  if (manifest.secret(key) || manifest.previousOf(key) || all.some((e) => touched(e).includes(key))) return
  const known = new Set([...manifest.secrets.map((s) => s.key), ...all.flatMap(touched)])
  throw new EnvsyncError(`--key ${key}: no such key in the manifest or the change history`, {
    code: 'UNKNOWN_KEY',
    suggestion: didYouMean(key, known) ?? 'name a key listed under secrets: in the manifest',
  })
}

/** Where each environment's store writes went, as its name today: the values file, or the secret manager place. */
function storeLabels(manifest: Manifest, entries: readonly LogEntry[]): Record<string, string> {
  // No prototype: entries name environments (`__proto__`, `constructor`) that must not meet Object's members.
  const out = Object.create(null) as Record<string, string>
  for (const env of new Set(entries.filter((e) => !e.destination).map((e) => e.environment))) {
    if (!manifest.environmentNames.includes(env)) continue
    out[env] = storePlace(manifest, env)?.destination.id ?? displayPath(manifest.valuesFile(env))
  }
  return out
}
