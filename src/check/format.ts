import type {FormatSpec} from '../manifest/schema.js'
import {testRegexes, type RegexOutcome} from './regex.js'

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const BOOL = /^(true|false|1|0|yes|no|on|off)$/i
const TRUE = /^(true|1|yes|on)$/i

/** A bool spelling (TRUE, 1, yes, on / false, 0, no, off) as true or false; anything else as it is. */
export function boolValue(value: string): boolean | string {
  return BOOL.test(value) ? TRUE.test(value) : value
}

function urlWith(value: string, protocols: string[]): boolean {
  try {
    const u = new URL(value)
    return protocols.includes(u.protocol) && u.hostname !== ''
  } catch {
    return false
  }
}

/** Is each value in its format? One bounded run for all the regex formats (see regex.ts). */
export function formatOutcomes(items: {format: FormatSpec; value: string}[]): RegexOutcome[] {
  const regexes = items.flatMap(({format, value}, i) => (typeof format === 'object' && 'regex' in format ? [{i, pattern: format.regex, value}] : []))
  const outcomes = testRegexes(regexes)
  const out = items.map(({format, value}) => (typeof format === 'object' && 'regex' in format ? true : formatMatches(format, value)))
  regexes.forEach(({i}, j) => (out[i] = outcomes[j]))
  return out
}

/** Is the value in its format ('timeout': a regex format ran too long on it, see regex.ts)? */
export function formatMatches(format: FormatSpec, value: string): RegexOutcome {
  if (typeof format === 'object') {
    if ('enum' in format) return format.enum.includes(value)
    // An invalid pattern is a manifest error reported at load; it constrains nothing here.
    return testRegexes([{pattern: format.regex, value}])[0]
  }
  switch (format) {
    case 'url':
      return urlWith(value, ['http:', 'https:'])
    case 'postgres-url':
      return urlWith(value, ['postgres:', 'postgresql:'])
    case 'redis-url':
      return urlWith(value, ['redis:', 'rediss:'])
    case 'email':
      return EMAIL.test(value)
    case 'port':
      return /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535
    case 'int':
      return /^-?\d+$/.test(value)
    case 'bool':
      return BOOL.test(value)
  }
}

/** Schemes named in messages. Any other is not named: a value that merely parses as a URL ("key:…") may be a secret. */
const KNOWN_SCHEMES = new Set(
  'http https postgres postgresql mysql mariadb redis rediss mongodb mongodb+srv amqp amqps mqtt mqtts nats kafka ftp ftps sftp ssh s3 gs file ws wss smtp smtps ldap ldaps sqlserver mssql clickhouse memcached sqlite libsql jdbc'.split(' '),
)
/** The format that takes a URL of each scheme. */
const URL_FORMATS: Record<string, FormatSpec> = {'http:': 'url', 'https:': 'url', 'postgres:': 'postgres-url', 'postgresql:': 'postgres-url', 'redis:': 'redis-url', 'rediss:': 'redis-url'}
const SCHEMES: Partial<Record<FormatSpec & string, string>> = {url: 'http:// or https://', 'postgres-url': 'postgres:// or postgresql://', 'redis-url': 'redis:// or rediss://'}

/**
 * Why a value is not in its format, and how to fix it, without quoting the value. A URL of
 * another scheme (a mysql:// URL for a postgres-url key) says so and offers the format that
 * takes it, since the value may be right and the manifest wrong.
 */
export function formatMismatch(format: FormatSpec, value: string, key: string): {why: string; hint: string} {
  const expected = `expected ${describeFormat(format)}`
  const schemes = typeof format === 'string' ? SCHEMES[format] : undefined
  if (schemes) {
    let u: URL | undefined
    try {
      u = new URL(value)
    } catch {
      return {why: 'is not a URL', hint: expected}
    }
    const scheme = u.protocol.slice(0, -1).toLowerCase()
    if (URL_FORMATS[u.protocol] === format) return {why: 'is a URL without a host', hint: expected}
    if (!KNOWN_SCHEMES.has(scheme) || !/:\/\//.test(value)) return {why: `is not a URL with ${schemes}`, hint: expected}
    const fits = Object.hasOwn(URL_FORMATS, u.protocol) ? `format: ${String(URL_FORMATS[u.protocol])}` : `format: {regex: '${scheme.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}://.+'}`
    return {why: `is a ${scheme}:// URL, but its format ${String(format)} takes ${schemes}`, hint: `${expected}; if ${key} really is a ${scheme}:// URL, set \`${fits}\` on ${key} in the manifest`}
  }
  return {why: `is not ${describeFormat(format).replace(/ (such as|of the form) .*/, '')}`, hint: expected}
}

/** What a format expects, for fix hints. */
export function describeFormat(format: FormatSpec): string {
  if (typeof format === 'object') {
    return 'enum' in format ? `one of ${format.enum.join(', ')}` : `a value matching /${format.regex}/`
  }
  return {
    url: 'an http(s) URL such as https://api.example.com',
    'postgres-url': 'a URL of the form postgres://user:password@host:5432/db',
    'redis-url': 'a URL of the form redis://:password@host:6379/0',
    email: 'an email address',
    port: 'a port number from 1 to 65535',
    int: 'a whole number',
    bool: 'true or false',
  }[format]
}
