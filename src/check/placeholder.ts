/**
 * Placeholder detection by whole tokens, so random values never trip it by chance ("xxx" inside
 * base64 is not a placeholder; "sk_test_xxxxxxxx" is). Returns the kind of marker, never the text.
 */

const MARKER_TOKENS = new Map([
  ['changeme', 'change-me'],
  ['changeit', 'change-me'],
  ['replaceme', 'change-me'],
  ['placeholder', 'placeholder'],
  ['dummy', 'dummy'],
  ['example', 'example'],
  ['todo', 'todo'],
  ['tbd', 'todo'],
  ['fixme', 'todo'],
  ['redacted', 'placeholder'],
])

/** Whole values that are someone's default, not a secret. */
const WEAK_WHOLE = new Set([
  'password', 'passwd', 'pass', 'secret', 'admin', 'root', 'test', 'default', 'null', 'none', 'undefined',
  'empty', '123456', '12345678', 'letmein', 'qwerty', 'key', 'token', 'value', 'foo', 'bar', 'foobar',
])

const PAIRS: [string, string][] = [
  ['change', 'me'],
  ['replace', 'me'],
  ['change', 'this'],
  ['replace', 'this'],
  ['fill', 'me'],
]

/**
 * Short markers (todo, tbd, xxx, your…, …here) turn up by chance as tokens of random values
 * (about 1 in 40,000 password:24 values has a token "tbd" or "xXx"), so they need more: todo, tbd
 * and xxx count only in a value made of words, every token lowercase, UPPERCASE or Capitalized,
 * optionally followed by digits (sk_test_xxxxxxxx, …/T00000000/XXXXXXXX); a leading "your" must
 * be written as a word; a trailing "here" needs a value of words or a "your" before it.
 */
const WORD = /^(?:[a-z]+|[A-Z]+|[A-Z][a-z]+)?[0-9]*$/
const SHORT_MARKER = 4

/** RFC 2606 names for examples: example.com/.net/.org, *.example, *.invalid (not .test: test setups use it for real hosts). */
const EXAMPLE_DOMAIN = /(^|\.)(example\.(com|net|org)|[^.]+\.(example|invalid)|example)\.?$/i
/** The host of a URL (scheme://[user@]host) or an email address (user@host). */
const HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#\s]*@)?(\[[^\]]*\]|[^:/?#\s]+)|^[^\s@:/]+@([^\s@/]+)$/i

/**
 * `sensitive: false` (plain config): a whole-value default such as "test", "none" or "default" is
 * a real setting there (NODE_ENV=test, PROXY=none), not a secret someone forgot to set.
 */
export function placeholderKind(value: string, sensitive = true): string | undefined {
  const v = value.trim().toLowerCase()
  if (v === '') return undefined
  // A host is a placeholder only when it is a reserved example name: api.example-store.io is a
  // real domain that happens to contain the word, so "example" in a host counts for nothing.
  const hostMatch = HOST.exec(value.trim())
  const host = hostMatch?.[1] ?? hostMatch?.[2]
  if (host && EXAMPLE_DOMAIN.test(host)) return 'example'
  const elsewhere = host ? v.replace(host.toLowerCase(), ' ') : v
  const ignoreExample = host !== undefined && !elsewhere.split(/[^a-z0-9]+/).includes('example')
  if (/^<[^<>]*>$/.test(v) || /^\[[^[\]]*\]$/.test(v) || /^\{\{[^{}]*\}\}$/.test(v)) return '<…>'
  if (sensitive && WEAK_WHOLE.has(v)) return 'weak default'
  const tokens = v.split(/[^a-z0-9]+/).filter(Boolean)
  const raw = value.trim().split(/[^A-Za-z0-9]+/).filter(Boolean)
  const words = raw.every((t) => WORD.test(t))
  for (const t of tokens) {
    const marker = MARKER_TOKENS.get(t)
    if (marker && (words || t.length > SHORT_MARKER) && !(t === 'example' && ignoreExample)) return marker
    if (/^x{3,}$/.test(t) && words) return 'xxx'
  }
  if (/^(\.{3,}|\*{3,}|x{3,}|-{3,})$/.test(v)) return 'xxx'
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (PAIRS.some(([a, b]) => tokens[i] === a && tokens[i + 1] === b)) return 'change-me'
  }
  if ((tokens[0] === 'your' && WORD.test(raw[0])) || (tokens.length > 1 && ['insert', 'enter', 'put', 'add'].includes(tokens[0]) && tokens.at(-1) === 'here')) return 'your-…'
  if (tokens.length > 1 && tokens.at(-1) === 'here' && (words || tokens.includes('your'))) return 'your-…'
  return undefined
}
