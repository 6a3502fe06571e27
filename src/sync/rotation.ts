import type {Manifest, SecretDef} from '../manifest/manifest.js'
import type {ValuesFile} from '../values/store.js'
import type {HistoryEntry} from './state.js'

/**
 * Rotation dates and grace periods, from the change history every teammate shares
 * (.envsync/history.jsonl) and the store's own version dates (a secret manager's). Pure: the
 * entries and the time are passed in.
 */

const DAY = 86_400_000
const UNIT_MS: Record<string, number> = {m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY}

/** History actions that give a key a new value: they restart its rotation clock. (import and pull adopt values as old as they are.) */
export const NEW_VALUE_ACTIONS: ReadonlySet<string> = new Set(['set', 'generate', 'rotate'])

/** A rotation period (90d, 12w, 6mo, 1y) after `from`: months and years by the calendar. */
export function addPeriod(from: Date, period: string): Date {
  const m = /^(\d+)(d|w|mo|y)$/.exec(period)
  if (!m) throw new Error(`not a rotation period: ${period}`)
  const n = Number(m[1])
  if (m[2] === 'd' || m[2] === 'w') return new Date(from.getTime() + n * UNIT_MS[m[2]])
  const d = new Date(from.getTime())
  const month = d.getUTCMonth() + (m[2] === 'y' ? 12 * n : n)
  // Clamped to the month's last day: a month after January 31 is February 28 (29), not March 3.
  d.setUTCDate(Math.min(d.getUTCDate(), new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate()))
  d.setUTCMonth(month)
  return d
}

/** A grace period (30m, 1h, 2d, 1w) in milliseconds. */
export function graceMs(grace: string): number {
  const m = /^(\d+)(m|h|d|w)$/.exec(grace)
  if (!m) throw new Error(`not a grace period: ${grace}`)
  return Number(m[1]) * UNIT_MS[m[2]]
}

/**
 * How long before the due date check starts warning: two weeks (time to schedule a rotation in a
 * sprint and tell whoever issues a provider key), but at most a quarter of the period, so a 30-day
 * API key is "due soon" for its last week, not half its life.
 */
export function warnWindowMs(from: Date, period: string): number {
  return Math.min(14 * DAY, (addPeriod(from, period).getTime() - from.getTime()) / 4)
}

export type RotationState = 'ok' | 'soon' | 'overdue' | 'unknown'

export interface RotationInfo {
  key: string
  period: string
  /** When the value last changed (ISO), and who says so; absent: unknown. */
  changed?: string
  source?: 'history' | 'store'
  /** When the next rotation is due (ISO); absent when the last change is unknown. */
  due?: string
  state: RotationState
  /** Whole days until due (negative: overdue by that many). */
  days?: number
}

/**
 * How far ahead of the clock an entry may be and still count: another machine's clock a few
 * minutes fast. Later than that, an entry is forged or its clock wrong, and counting it would
 * let one line hide an overdue secret for centuries (or start a grace that never ends).
 */
export const CLOCK_SKEW_MS = 5 * 60_000

const ahead = (e: HistoryEntry, at: Date) => Date.parse(e.time) > at.getTime() + CLOCK_SKEW_MS

/** Entries dated after `at` beyond the clock skew: never counted for due dates or grace periods. */
export function futureEntries(entries: readonly HistoryEntry[], at: Date): HistoryEntry[] {
  return entries.filter((e) => ahead(e, at))
}

const countable = (entries: readonly HistoryEntry[], at: Date) => entries.filter((e) => !ahead(e, at))

/** The last time the history says a key of an environment got a new value. */
export function lastChanged(entries: readonly HistoryEntry[], env: string, key: string): Date | undefined {
  let last: number | undefined
  for (const e of entries) {
    if (e.environment !== env || !NEW_VALUE_ACTIONS.has(e.action ?? 'push') || e.status === 'failed') continue
    if (!e.keys?.includes(key)) continue
    const t = Date.parse(e.time)
    if (last === undefined || t > last) last = t
  }
  return last === undefined ? undefined : new Date(last)
}

/**
 * Every key of the environment with a rotation period and a value: when it changed and when it is
 * due. The later of the history's date and the store's own (a secret manager's version date: a
 * value changed in its console counts too). Entries dated in the future are not counted.
 */
export function rotationDates(manifest: Manifest, env: string, store: ValuesFile, all: readonly HistoryEntry[], at: Date): RotationInfo[] {
  const out: RotationInfo[] = []
  const entries = countable(all, at)
  for (const spec of manifest.secretsFor(env)) {
    if (!spec.rotate || spec.previousOf || store.values.get(spec.key)?.isEmpty !== false) continue
    const fromHistory = lastChanged(entries, env, spec.key)
    const fromStore = store.changed?.get(spec.key)
    const changed = fromStore && (!fromHistory || fromStore > fromHistory) ? fromStore : fromHistory
    if (!changed) {
      out.push({key: spec.key, period: spec.rotate, state: 'unknown'})
      continue
    }
    const due = addPeriod(changed, spec.rotate)
    const left = due.getTime() - at.getTime()
    const state: RotationState = left <= 0 ? 'overdue' : left <= warnWindowMs(changed, spec.rotate) ? 'soon' : 'ok'
    out.push({key: spec.key, period: spec.rotate, changed: changed.toISOString(), source: changed === fromStore ? 'store' : 'history', due: due.toISOString(), state, days: Math.floor(left / DAY)})
  }
  return out
}

export interface GraceInfo {
  /** The rotated key, and the key that holds its previous value. */
  key: string
  previous: string
  /** When the grace started (the rotation) and ends (ISO). */
  since: string
  until: string
  /** Still running at the time asked. */
  active: boolean
}

/**
 * The grace period of each key with a `previous:` key, from its last rotation: running until the
 * time the rotation recorded, unless a later `finish` (or a rotation without grace) ended it.
 * Keys never rotated with a grace have none; entries dated in the future are not counted.
 */
export function graceStates(manifest: Manifest, env: string, all: readonly HistoryEntry[], at: Date): Map<string, GraceInfo> {
  const out = new Map<string, GraceInfo>()
  const entries = countable(all, at)
  for (const spec of manifest.secretsFor(env)) {
    if (!spec.previous || spec.previousOf) continue
    let info: GraceInfo | undefined
    for (const e of entries) {
      if (e.environment !== env || e.status === 'failed') continue
      const about = e.keys?.includes(spec.key) || e.removed?.includes(spec.previous)
      if (!about) continue
      if (e.action === 'rotate') info = e.graceUntil ? {key: spec.key, previous: spec.previous, since: e.time, until: e.graceUntil, active: true} : undefined
      else if (e.action === 'finish') info = undefined
    }
    if (info) out.set(spec.key, {...info, active: Date.parse(info.until) > at.getTime()})
  }
  return out
}

/** The key's last store write, when it was a rotation. */
export function lastRotation(entries: readonly HistoryEntry[], env: string, key: string): HistoryEntry | undefined {
  let last: HistoryEntry | undefined
  for (const e of entries) {
    if (e.environment !== env || e.destination || e.status === 'failed' || !NEW_VALUE_ACTIONS.has(e.action ?? '')) continue
    if (e.keys?.includes(key)) last = e
  }
  return last?.action === 'rotate' ? last : undefined
}

/** The previous keys whose value is delivered now: those of keys in a running grace period. */
export function previousKeysInGrace(graces: Map<string, GraceInfo>): Set<string> {
  return new Set([...graces.values()].filter((g) => g.active).map((g) => g.previous))
}

/** The implicit previous keys of an environment (delivered only during a grace). */
export function previousKeys(manifest: Manifest, env: string): SecretDef[] {
  return manifest.secretsFor(env).filter((s) => s.previousOf !== undefined)
}
