import {type Match, type Matcher} from './match.js'
import {BASE64_BITS} from './needles.js'

/**
 * Forms no fixed needle set covers without growing exponentially: a value percent-encoded in part
 * (`p%40ss%20word$x`), in either hex case, form-encoded (`+` for a space), and base64 wrapped at
 * 64 or 76 columns with the value across a line break. Each is searched for in a view of the
 * buffer (escapes decoded; base64 lines joined), built only where the buffer has what it needs,
 * and a match's position is mapped back to the original bytes.
 */
export function findAll(matcher: Matcher, buf: Buffer): Match[] {
  const out = matcher.find(buf)
  if (buf.indexOf(0x25) >= 0) {
    for (const plus of [false, true]) {
      const view = percentView(buf, plus)
      if (view) out.push(...fromView(matcher, view, 'url-encoded'))
    }
  }
  const wrapped = base64View(buf)
  if (wrapped) out.push(...fromView(matcher, wrapped).filter((m) => m.needle.form.startsWith('base64')))
  return out
}

interface View {
  bytes: Buffer
  /** The original offset of each byte of the view, and one past the end. */
  at: Uint32Array
}

/** Matches in a view that span a changed part (the plain pass found the others), at their original offsets. */
function fromView(matcher: Matcher, view: View, form?: Match['form']): Match[] {
  return matcher
    .find(view.bytes)
    .filter((m) => view.at[m.at + m.needle.bytes.length] - view.at[m.at] !== m.needle.bytes.length)
    .map((m) => ({needle: m.needle, at: view.at[m.at], end: view.at[m.at + m.needle.bytes.length], form: form ?? m.needle.form}))
}

const hex = (b: number) => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1)

/** `%XX` (either case) decoded, and with `plus` each '+' as a space; undefined when nothing changes. */
function percentView(buf: Buffer, plus: boolean): View | undefined {
  if (plus && buf.indexOf(0x2b) < 0) return undefined
  const bytes = Buffer.allocUnsafe(buf.length)
  const at = new Uint32Array(buf.length + 1)
  let n = 0
  let changed = false
  for (let i = 0; i < buf.length; ) {
    at[n] = i
    const b = buf[i]
    if (b === 0x25 && i + 2 < buf.length && hex(buf[i + 1]) >= 0 && hex(buf[i + 2]) >= 0) {
      bytes[n++] = (hex(buf[i + 1]) << 4) | hex(buf[i + 2])
      i += 3
      changed = true
    } else if (plus && b === 0x2b) {
      bytes[n++] = 0x20
      i++
    } else {
      bytes[n++] = b
      i++
    }
  }
  at[n] = buf.length
  return changed || plus ? {bytes: bytes.subarray(0, n), at: at.subarray(0, n + 1)} : undefined
}

/** Whether bytes [from, to) are all base64 characters (either alphabet) or '=' padding. */
function isBase64(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (BASE64_BITS[buf[i]] < 0 && buf[i] !== 0x3d) return false
  return true
}

/**
 * Runs of two or more lines that are base64 only (leading blanks aside), each run joined into one
 * line; undefined when the buffer has none.
 */
function base64View(buf: Buffer): View | undefined {
  const lines: [number, number][] = []
  let runs = 0
  let previous = false
  for (let start = 0; start < buf.length; ) {
    let nl = buf.indexOf(10, start)
    if (nl < 0) nl = buf.length
    let from = start
    while (from < nl && (buf[from] === 0x20 || buf[from] === 0x09)) from++
    const to = nl > from && buf[nl - 1] === 0x0d ? nl - 1 : nl
    const b64 = to - from >= 16 && isBase64(buf, from, to)
    if (b64) {
      if (previous) runs++
      lines.push([from, to])
    } else if (previous) lines.push([-1, -1])
    previous = b64
    start = nl + 1
  }
  if (runs === 0) return undefined
  const bytes = Buffer.allocUnsafe(buf.length)
  const at = new Uint32Array(buf.length + 1)
  let n = 0
  let last = 0
  for (const [from, to] of lines) {
    if (from < 0) {
      // A run ends: a byte that is no base64 keeps the next run from joining it.
      at[n] = last
      bytes[n++] = 0x0a
      continue
    }
    for (let i = from; i < to; i++) {
      at[n] = i
      bytes[n++] = buf[i]
    }
    last = to
  }
  at[n] = last
  return {bytes: bytes.subarray(0, n), at: at.subarray(0, n + 1)}
}
