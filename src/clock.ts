import {EnvsyncError} from './errors.js'

/**
 * The time envsync decides by (due dates, grace periods, the change history): ENVSYNC_NOW when
 * set — an ISO 8601 date, to see what `check` will say on a given day, and the tests' clock —
 * else the system's.
 */
export function now(): Date {
  const fake = process.env.ENVSYNC_NOW
  if (fake === undefined || fake === '') return new Date()
  const t = parseIsoDate(fake)
  if (!t) {
    throw new EnvsyncError(`ENVSYNC_NOW="${fake.slice(0, 40)}" is not a date`, {code: 'BAD_CLOCK', exitCode: 2, suggestion: 'an ISO 8601 date such as 2027-03-01 or 2027-03-01T12:00:00Z, or unset it'})
  }
  return t
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * An ISO 8601 date (2027-03-01) or date and time (2027-03-01T12:00:00Z), read strictly:
 * Date.parse takes 2026-02-30 for March 2, and a date that does not exist is a typo, not a day.
 * Undefined when the text is not one.
 */
export function parseIsoDate(text: string): Date | undefined {
  const m = ISO.exec(text)
  if (!m) return undefined
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((n) => (n === undefined ? undefined : Number(n))) as number[]
  const monthDays = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return undefined
  const t = Date.parse(text.replace(' ', 'T'))
  return Number.isNaN(t) ? undefined : new Date(t)
}
