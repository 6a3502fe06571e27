import {type Match, type Matcher} from './match.js'
import {BASE64_BITS} from './needles.js'

/**
 * Forms no fixed needle set covers without growing exponentially: a value percent-encoded in part
 * (`p%40ss%20word$x`), in either hex case, form-encoded (`+` for a space), and base64 wrapped at
 * 64 or 76 columns with the value across a line break. Each is searched for in a view of the
 * buffer (the lines with escapes, decoded; base64 lines joined), built only where the buffer has
 * what it needs, and a match's position is mapped back to the original bytes. (A form-encoded
 * value with no escape, `a+b+c`, is a needle: needles.ts.)
 */
export function findAll(matcher: Matcher, buf: Buffer): Match[] {
  const out = matcher.find(buf)
  if (buf.indexOf(0x25) >= 0) {
    for (const plus of buf.indexOf(0x2b) >= 0 ? [false, true] : [false]) {
      const view = percentView(buf, plus)
      if (view) out.push(...fromView(matcher, view, 'url-encoded'))
    }
  }
  const wrapped = base64View(buf)
  if (wrapped) out.push(...fromView(matcher, wrapped).filter((m) => m.needle.form.startsWith('base64')))
  return out
}

/**
 * A view: the bytes searched, and its segments as [view offset, original offset] pairs, ascending
 * (bytes copied as they are, one segment each: a line, the text between two escapes).
 */
interface View {
  bytes: Buffer
  segments: number[]
}

/** The original offset of view offset `v`: in the last segment starting at or before it. */
function original(view: View, v: number): number {
  const s = view.segments
  let lo = 0
  let hi = s.length / 2 - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (s[2 * mid] <= v) lo = mid
    else hi = mid - 1
  }
  return s[2 * lo + 1] + (v - s[2 * lo])
}

/** Matches in a view that span a changed part (the plain pass found the others), at their original offsets. */
function fromView(matcher: Matcher, view: View, form?: Match['form']): Match[] {
  const out: Match[] = []
  for (const m of matcher.find(view.bytes)) {
    const length = m.needle.bytes.length
    const at = original(view, m.at)
    // The last byte's original offset: past an escape or a line break when the match spans one.
    const last = original(view, m.at + length - 1)
    if (last - at === length - 1) continue
    out.push({needle: m.needle, at, end: original(view, m.at + length), form: form ?? m.needle.form})
  }
  return out
}

const hex = (b: number) => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1)
const isEscape = (buf: Buffer, i: number) => buf[i] === 0x25 && i + 2 < buf.length && hex(buf[i + 1]) >= 0 && hex(buf[i + 2]) >= 0

/**
 * The lines holding a `%XX` escape (either case), each escape decoded, and with `plus` each '+'
 * as a space; other lines are left out (an encoded value has no line break). Undefined when the
 * buffer has no escape.
 */
function percentView(buf: Buffer, plus: boolean): View | undefined {
  const lines: [number, number][] = []
  for (let p = buf.indexOf(0x25); p >= 0; p = buf.indexOf(0x25, p + 1)) {
    if (!isEscape(buf, p)) continue
    const from = buf.lastIndexOf(10, p) + 1
    let to = buf.indexOf(10, p)
    if (to < 0) to = buf.length
    lines.push([from, to])
    p = to
  }
  if (lines.length === 0) return undefined
  const bytes = Buffer.allocUnsafe(lines.reduce((n, [from, to]) => n + to - from + 1, 0))
  const segments: number[] = []
  let n = 0
  for (const [from, to] of lines) {
    segments.push(n, from)
    for (let i = from; i < to; ) {
      if (isEscape(buf, i)) {
        bytes[n++] = (hex(buf[i + 1]) << 4) | hex(buf[i + 2])
        i += 3
        segments.push(n, i)
      } else {
        bytes[n++] = plus && buf[i] === 0x2b ? 0x20 : buf[i]
        i++
      }
    }
    bytes[n++] = 0x0a
  }
  return {bytes: bytes.subarray(0, n), segments}
}

/** Base64 characters of either alphabet and '=' padding (a local table: read once per byte). */
const BASE64_OR_PAD = BASE64_BITS.map((bits, byte) => (bits >= 0 || byte === 0x3d ? 1 : 0))

/** Whether bytes [from, to) are all base64 characters or padding. */
function isBase64(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (BASE64_OR_PAD[buf[i]] === 0) return false
  return true
}

/**
 * The lines that are base64 only (leading blanks aside), each run of them joined into one line;
 * undefined when no two such lines follow each other. One pass, copying as it goes.
 */
function base64View(buf: Buffer): View | undefined {
  let bytes: Buffer | undefined
  const segments: number[] = []
  let n = 0
  let joined = false
  let previous = false
  for (let start = 0; start < buf.length; ) {
    let nl = buf.indexOf(10, start)
    if (nl < 0) nl = buf.length
    let from = start
    while (from < nl && (buf[from] === 0x20 || buf[from] === 0x09)) from++
    const to = nl > from && buf[nl - 1] === 0x0d ? nl - 1 : nl
    if (to - from >= 16 && isBase64(buf, from, to)) {
      bytes ??= Buffer.allocUnsafe(buf.length + 1)
      joined ||= previous
      segments.push(n, from)
      for (let i = from; i < to; i++) bytes[n++] = buf[i]
      previous = true
    } else if (previous) {
      // A run ends: a byte that is no base64 keeps the next run from joining it.
      segments.push(n, nl)
      bytes![n++] = 0x0a
      previous = false
    }
    start = nl + 1
  }
  return bytes && joined ? {bytes: bytes.subarray(0, n), segments} : undefined
}
