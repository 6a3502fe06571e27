/**
 * Placeholder detection by whole tokens, so random values never trip it by chance ("xxx" inside
 * base64 is not a placeholder; "sk_test_xxxxxxxx" is). Returns the kind of marker, never the text.
 */

const MARKER_TOKENS: Record<string, string> = {
  changeme: 'change-me',
  changeit: 'change-me',
  replaceme: 'change-me',
  placeholder: 'placeholder',
  dummy: 'dummy',
  example: 'example',
  todo: 'todo',
  tbd: 'todo',
  fixme: 'todo',
  redacted: 'placeholder',
}

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

export function placeholderKind(value: string): string | undefined {
  const v = value.trim().toLowerCase()
  if (v === '') return undefined
  if (/^<[^<>]*>$/.test(v) || /^\[[^[\]]*\]$/.test(v) || /^\{\{[^{}]*\}\}$/.test(v)) return '<…>'
  if (WEAK_WHOLE.has(v)) return 'weak default'
  const tokens = v.split(/[^a-z0-9]+/).filter(Boolean)
  for (const t of tokens) {
    if (MARKER_TOKENS[t]) return MARKER_TOKENS[t]
    if (/^x{3,}$/.test(t) || /^\*{3,}$/.test(t)) return 'xxx'
  }
  if (/^(\.{3,}|\*{3,}|x{3,}|-{3,})$/.test(v)) return 'xxx'
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (PAIRS.some(([a, b]) => tokens[i] === a && tokens[i + 1] === b)) return 'change-me'
  }
  if (tokens[0] === 'your' || (tokens.length > 1 && ['insert', 'enter', 'put', 'add'].includes(tokens[0]) && tokens.at(-1) === 'here')) return 'your-…'
  if (tokens.length > 1 && tokens.at(-1) === 'here') return 'your-…'
  return undefined
}
