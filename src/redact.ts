import {inspect} from 'node:util'

/**
 * The one redaction point. Text that did not come from envsync — platform error messages, parser
 * and library exceptions, URLs, stack traces — may quote secret values or credentials (a GraphQL
 * server echoes a variable it cannot coerce, a YAML parser prints the lines around an error).
 * Every such text passes through `redact` before anything renders, logs or serialises it:
 * EnvsyncError runs it on what it is built with, and the renderers run it again at output time,
 * for values that became known after the error was made.
 *
 * It removes what looks like a credential whatever its value (URL userinfo, `Bearer …`,
 * `token: …` / `password=…` pairs), then every value envsync has seen (each `Secret` registers
 * itself, adapters register their credentials) in the forms a message may carry it: as is,
 * JSON-escaped, escaped as util.inspect quotes it, URL-encoded, base64, and each long line of a multi-line value. Last, it makes
 * terminal control characters visible (`visible`): foreign text must not drive the terminal.
 */

export const REDACTED = '[redacted]'

/** Shorter values are not secrets worth hiding and would blank common words ("true", "8080"). */
const MIN_LENGTH = 6

/**
 * Whether a value is worth hiding. Every value envsync reads registers itself, plain config
 * included (NODE_ENV=production): a value of one kind of character shorter than 16 ("production",
 * "info", "8080") is a word, and hiding it would blank envsync's own messages ("check found 1
 * error in [redacted]"). Two kinds of character (letters and digits, or symbols), or 16 and more
 * characters of one kind, are treated as a secret.
 */
function secretLike(value: string): boolean {
  if (value.length < MIN_LENGTH) return false
  if (value.length >= 16) return true
  const kinds = [/\p{L}/u, /\p{N}/u, /[^\p{L}\p{N}]/u].filter((k) => k.test(value)).length
  return kinds >= 2
}

const known = new Set<string>()
/** Registered, not yet indexed: indexing costs a few encodings per value, paid only when text is redacted. */
let pending: string[] = []
/** Names the manifest gives (environments, services, keys, the project): never hidden. */
const names = new Set<string>()
/**
 * The forms of every known value by their first PREFIX characters, so that redacting a text costs
 * one look-up per position of the text, not one search per known value (a push of 20,000 secrets,
 * a property test creating thousands of errors).
 */
const PREFIX = MIN_LENGTH
const index = new Map<string, Form[]>()
/** Each form once, by its text: many values share a prefix (postgres://app:…), a list search would be quadratic. */
const formByText = new Map<string, Form>()
/** A form and the values it is a form of (one line may be a line of two values). */
interface Form {
  text: string
  of: Set<string>
}

/** Makes a value known to the redaction point (values, tokens, passwords, keys). */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || known.has(value) || !secretLike(value)) return
  known.add(value)
  pending.push(value)
}

/** Makes names public: a value equal to one (an environment called like a value) hides nothing. */
export function registerNames(list: Iterable<string>): void {
  for (const n of list) names.add(n)
}

function formsOf(value: string): string[] {
  const out = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), Buffer.from(value, 'utf8').toString('base64')]
  // As util.inspect quotes it (Node's own errors: "Received 'abc\x00…'"): \x00, \n, \', \\ escapes.
  out.push(inspect(value, {maxStringLength: Infinity}).slice(1, -1))
  // A message may quote one line of a PEM key or a multi-line value.
  if (/[\r\n]/.test(value)) for (const line of value.split(/\r?\n/)) if (line.trim().length >= 12) out.push(line)
  // base64 of a value as part of a longer base64 text (a Secret's data map): the stable middle.
  const b64 = out[3].replace(/=+$/, '')
  if (b64.length > 16) out.push(b64.slice(4, -4))
  return out.filter((f) => f.length >= MIN_LENGTH)
}

function indexPending(): void {
  for (const value of pending) {
    for (const form of formsOf(value)) {
      const known = formByText.get(form)
      if (known) {
        known.of.add(value)
        continue
      }
      const entry = {text: form, of: new Set([value])}
      formByText.set(form, entry)
      const key = form.slice(0, PREFIX)
      const list = index.get(key)
      if (list) list.push(entry)
      else index.set(key, [entry])
    }
  }
  pending = []
}

/**
 * A form of shown values only (a line of a multi-line plain value) shows with them; a form that is
 * also some hidden value's stays hidden.
 */
function isShown(of: Set<string>, shown: ReadonlySet<string> | undefined): boolean {
  if (!shown) return false
  for (const value of of) if (!shown.has(value)) return false
  return true
}

/** Every known form found in the text, as [start, end) ranges, the longest at each position. */
function knownRanges(text: string, shown?: ReadonlySet<string>): [number, number][] {
  indexPending()
  const ranges: [number, number][] = []
  for (let i = 0; i + PREFIX <= text.length; i++) {
    const candidates = index.get(text.slice(i, i + PREFIX))
    if (!candidates) continue
    let end = -1
    for (const {text: form, of} of candidates) if (form.length > end - i && text.startsWith(form, i) && !names.has(form) && !isShown(of, shown)) end = i + form.length
    if (end > 0) ranges.push([i, end])
  }
  return ranges
}

const PATTERNS: [RegExp, string | ((match: string, ...groups: string[]) => string)][] = [
  // An age private key, whoever's: registered or not, in any case (bech32 is read in either).
  [/\bAGE-SECRET-KEY-1[0-9A-Z]{20,}/gi, REDACTED],
  // scheme://user:password@host → scheme://[redacted]@host
  // (but the words of envsync's own format hints: postgres://user:password@host, redis://:password@host)
  [/\b([a-z][a-z0-9+.-]*:\/\/)(?!(?:user)?:password@host)[^\s/@'"<>]+@/gi, `$1${REDACTED}@`],
  [/\b(bearer)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${REDACTED}`],
  [/\b(basic)\s+[A-Za-z0-9+/]{8,}={0,2}/gi, `$1 ${REDACTED}`],
  // token: x, "password": "x", client-key-data: x, api_key=x (YAML, JSON, env). Field names that
  // start lowercase only: envsync's own messages name keys in capitals ("JWT_SECRET: no value").
  [
    /((?:^|[\s{,"'])(?:[a-z][\w-]*?)?(?:[tT]oken|[pP]assword|[pP]asswd|[sS]ecret|[aA]pi[-_]?[kK]ey|[pP]rivate[-_]?[kK]ey|client-key-data|[cC]redentials?)["']?\s*[:=]\s*)(?!\[redacted\])("[^"\n]*"|'[^'\n]*'|[^\s,}'"]+)/gm,
    // Only a value that looks like a credential: `secret: no destination`, `password: none`,
    // `token: is missing` are words, envsync's own or a platform's.
    (match: string, field: string, value: string) => (credentialLike(value.replace(/^(["'])(.*)\1$/, '$2')) ? field + REDACTED : match),
  ],
]

/** A pair's value worth hiding: secret-like, and not a few words ("no-value", "not set"). */
function credentialLike(value: string): boolean {
  return secretLike(value) && !(value.length < 16 && /^\p{L}+(?:[ -]\p{L}+)*$/u.test(value))
}

/**
 * The text with every known value and credential-looking part replaced by [redacted]. `shown`:
 * values that may appear as they are (plain config a plan shows); other values inside still go.
 */
export function redact(text: string, shown?: ReadonlySet<string>): string {
  return visible(redactValue(text, shown))
}

/**
 * `redact` without making control characters visible: for a value itself (plain config a plan
 * shows), kept byte-exact for --json; its renderer makes it visible (render-plan's quoted).
 */
export function redactValue(text: string, shown?: ReadonlySet<string>): string {
  if (!text) return text
  let out = text
  // Shapes first: a known value that is part of a URL ("https://" as someone's value) must not
  // break the userinfo pattern before it runs.
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement as (m: string, ...g: string[]) => string)
  // Overlapping ranges merge into one [redacted].
  let result = ''
  let at = 0
  for (const [start, end] of knownRanges(out, shown)) {
    if (end <= at) continue
    if (start >= at) result += out.slice(at, start) + REDACTED
    at = end
  }
  return result + out.slice(at)
}

/** C0 and C1 controls but tab and newline, and DEL: they move the cursor, clear the screen, retitle the window. */
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g

/**
 * Text from outside envsync (the manifest's descriptions, names a user typed, a platform's
 * message) as the terminal should show it: each control character as its escape (`\u001b`), so
 * it is seen, not obeyed. envsync's own colours are added after, by style.
 */
export function visible(text: string): string {
  return text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** For tests: forget every registered value. */
export function forgetSecrets(): void {
  known.clear()
  names.clear()
  index.clear()
  formByText.clear()
  pending = []
}
