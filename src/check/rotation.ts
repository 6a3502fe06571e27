import {asEnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {futureEntries, graceStates, rotationDates, type GraceInfo, type RotationInfo} from '../sync/rotation.js'
import {SyncState, type HistoryEntry} from '../sync/state.js'
import type {ValuesFile} from '../values/store.js'
import type {Finding} from './rules.js'

/** What check says about the age of an environment's secrets: due dates, grace periods. */
export interface RotationAudit {
  rotation: RotationInfo[]
  /** Keys with a `previous:` key that were rotated with a grace period (running or ended). */
  graces: GraceInfo[]
  findings: Finding[]
  notes: string[]
}

/** The YYYY-MM-DD of an ISO time (UTC, as the history records it). */
export const day = (iso: string): string => iso.slice(0, 10)

/** "2026-12-02 17:00 UTC": a grace is hours long, so its end is said to the minute. */
export const minute = (iso: string): string => iso.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d).*$/, '$1 $2 UTC')

/** "overdue by 2 days", "due in 5 days", "due 2027-02-28 (in 88 days)": how far a due date is, in words. */
export function dueWords(r: RotationInfo): string {
  if (r.days === undefined) return 'never recorded'
  if (r.state === 'overdue') return `overdue by ${days(-r.days)}`
  return r.days === 0 ? 'due in less than a day' : `due in ${days(r.days)}`
}

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`

/**
 * Due dates and graces of one environment at a time `at`, from the change history (every
 * teammate's, committed in .envsync/) and the store's version dates. Overdue is an error where the
 * environment is protected and a warning elsewhere; due within the warning window a warning; a
 * key never recorded is only a note — a project adopting envsync would otherwise fail CI on day
 * one for secrets that may be fresh. A previous value kept after its grace is a warning: apps still
 * accept the old secret. An entry dated in the future (forged, or a clock set wrong) is a warning,
 * and not counted.
 */
export function auditRotation(manifest: Manifest, env: string, store: ValuesFile, at: Date, history?: readonly HistoryEntry[]): RotationAudit {
  const findings: Finding[] = []
  let entries: readonly HistoryEntry[]
  try {
    entries = history ?? new SyncState(manifest.dir).history()
  } catch (error) {
    // Dates unknown is not a reason to stop the rest of the audit.
    const e = asEnvsyncError(error)
    findings.push({severity: 'warning', rule: 'rotation', message: `due dates unknown: ${e.message}`, hint: e.suggestion ?? 'restore .envsync/history.jsonl from git'})
    entries = []
  }
  const future = futureEntries(entries, at).filter((e) => e.environment === env)
  if (future.length > 0) {
    const last = future.at(-1)!
    findings.push({
      severity: 'warning',
      rule: 'rotation',
      message: `the change history has ${future.length === 1 ? 'an entry' : `${future.length} entries`} of ${env} dated after now (${future.length === 1 ? '' : 'the latest '}${minute(last.time)}): not counted for due dates or grace periods`,
      hint: 'a forged line, or a clock set wrong where it was written: see who added it with `git log -p .envsync/history.jsonl`',
    })
  }
  const rotation = rotationDates(manifest, env, store, entries, at)
  const graces = [...graceStates(manifest, env, entries, at).values()]
  const notes: string[] = []
  const rotate = (key: string) => `\`envsync rotate ${env} ${key}\``
  for (const r of rotation) {
    if (r.state === 'unknown') {
      notes.push(`${r.key} (rotate every ${r.period}): no change of it is recorded yet — ${rotate(r.key)} renews it and starts the clock`)
      continue
    }
    if (r.state === 'ok') continue
    const since = `rotated every ${r.period}, changed ${day(r.changed!)}${r.source === 'store' ? ' (by the store)' : ''}`
    findings.push({
      severity: r.state === 'overdue' && manifest.isProtected(env) ? 'error' : 'warning',
      rule: 'rotation',
      key: r.key,
      message: r.state === 'overdue' ? `${r.key} is overdue for rotation: due ${day(r.due!)}, ${since}` : `${r.key} is due for rotation on ${day(r.due!)} (${dueWords(r).replace(/^due /, '')}): ${since}`,
      hint: `run ${rotate(r.key)} (or \`envsync rotate ${env} --due\` for every key due)`,
    })
  }
  const graceOf = new Map(graces.map((g) => [g.previous, g]))
  for (const spec of manifest.secretsFor(env)) {
    if (!spec.previousOf || store.values.get(spec.key)?.isEmpty !== false) continue
    const g = graceOf.get(spec.key)
    if (g?.active) {
      notes.push(`${spec.key} holds the previous ${spec.previousOf} during its grace period, until ${minute(g.until)}; then \`envsync rotate ${env} --finish\` removes it`)
      continue
    }
    findings.push({
      severity: 'warning',
      rule: 'grace',
      key: spec.key,
      message: `${spec.key} (the previous ${spec.previousOf}) is kept after its grace ${g ? `ended ${minute(g.until)}` : 'period (none is running)'}: apps still accept the old secret`,
      hint: `run \`envsync rotate ${env} --finish\``,
    })
  }
  return {rotation, graces, findings, notes}
}
