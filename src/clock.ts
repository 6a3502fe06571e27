import {EnvsyncError} from './errors.js'

/**
 * The time envsync decides by (due dates, grace periods, the change history): ENVSYNC_NOW when
 * set — an ISO 8601 date, to see what `check` will say on a given day, and the tests' clock —
 * else the system's.
 */
export function now(): Date {
  const fake = process.env.ENVSYNC_NOW
  if (fake === undefined || fake === '') return new Date()
  const t = Date.parse(fake)
  if (!/^\d{4}-\d{2}-\d{2}/.test(fake) || Number.isNaN(t)) {
    throw new EnvsyncError(`ENVSYNC_NOW="${fake.slice(0, 40)}" is not a date`, {code: 'BAD_CLOCK', exitCode: 2, suggestion: 'an ISO 8601 date such as 2027-03-01 or 2027-03-01T12:00:00Z, or unset it'})
  }
  return new Date(t)
}
