/**
 * What scan looks for: each value as its bytes and in the forms it takes when it leaks — base64
 * (standard and URL-safe, alone or inside a larger base64 blob), URL-encoded, JSON-escaped.
 */

export type Form = 'value' | 'base64' | 'base64url' | 'url-encoded' | 'json-escaped'

/**
 * A base64 character next to a needle that holds some of the value's bits (the rest are the
 * neighbouring data's): its low `bits` (before the needle) or high `bits` (after it) must equal
 * `expect`, else the blob encodes a different value that merely shares the middle.
 */
export interface Edge {
  bits: number
  expect: number
}

export interface Needle {
  bytes: Buffer
  /** Index of the value (in the list given to needlesOf) the needle stands for. */
  value: number
  form: Form
  before?: Edge
  after?: Edge
}

/**
 * Values shorter than this are not looked for: they would match by chance. Every needle is at
 * least this many bytes, which the matcher relies on.
 */
export const MIN_VALUE_LENGTH = 8

const STANDARD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** The 6 bits each byte stands for in either alphabet, or -1 when it is not a base64 character. */
export const BASE64_BITS: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1)
  for (let i = 0; i < 64; i++) table[STANDARD.charCodeAt(i)] = i
  table['-'.charCodeAt(0)] = 62
  table['_'.charCodeAt(0)] = 63
  return table
})()

/** The needles of every value, duplicates (the same bytes and edges for the same value) once. */
export function needlesOf(values: readonly string[]): Needle[] {
  const out = new Map<string, Needle>()
  values.forEach((value, index) => {
    for (const needle of formsOf(value, index)) {
      const id = `${index}:${needle.bytes.toString('hex')}:${needle.before?.bits}/${needle.before?.expect}:${needle.after?.bits}/${needle.after?.expect}`
      if (!out.has(id)) out.set(id, needle)
    }
  })
  return [...out.values()]
}

function formsOf(value: string, index: number): Needle[] {
  const bytes = Buffer.from(value, 'utf8')
  const needles: Needle[] = [{bytes, value: index, form: 'value'}]
  const url = encodeURIComponent(value)
  if (url !== value) needles.push({bytes: Buffer.from(url), value: index, form: 'url-encoded'})
  // Form encoding: '+' for a space (a line with %XX escapes is also decoded whole: views.ts).
  if (value.includes(' ')) {
    needles.push({bytes: Buffer.from(value.replace(/ /g, '+')), value: index, form: 'url-encoded'})
    needles.push({bytes: Buffer.from(url.replace(/%20/g, '+')), value: index, form: 'url-encoded'})
  }
  const json = JSON.stringify(value).slice(1, -1)
  if (json !== value) needles.push({bytes: Buffer.from(json), value: index, form: 'json-escaped'})
  for (const alignment of [0, 1, 2]) {
    for (const form of ['base64', 'base64url'] as const) needles.push(aligned(bytes, alignment, form, index))
  }
  return needles
}

/**
 * The value's base64 as it reads when the value starts `alignment` bytes into a 3-byte group of a
 * larger blob: the characters made of the value's bits only. The value's bits shared with the
 * neighbouring characters become edges, checked at a match, so that only the exact value counts.
 * Padded, unpadded and embedded forms all contain one of the three.
 */
function aligned(bytes: Buffer, alignment: number, form: 'base64' | 'base64url', value: number): Needle {
  const encoded = Buffer.concat([Buffer.alloc(alignment), bytes]).toString(form === 'base64' ? 'base64' : 'base64url').replace(/=+$/, '')
  const start = Math.ceil((8 * alignment) / 6)
  const totalBits = 8 * (alignment + bytes.length)
  const end = Math.floor(totalBits / 6)
  const needle: Needle = {bytes: Buffer.from(encoded.slice(start, end)), value, form}
  const leading = 6 * start - 8 * alignment
  if (leading > 0) needle.before = {bits: leading, expect: bytes[0] >> (8 - leading)}
  const trailing = totalBits - 6 * end
  if (trailing > 0) needle.after = {bits: trailing, expect: bytes.at(-1)! & ((1 << trailing) - 1)}
  return needle
}

/** Whether the base64 characters around a match at `at` carry the rest of the value's bits. */
export function edgesHold(needle: Needle, buf: Uint8Array, at: number): boolean {
  if (needle.before) {
    if (at === 0) return false
    const bits = BASE64_BITS[buf[at - 1]]
    if (bits < 0 || (bits & ((1 << needle.before.bits) - 1)) !== needle.before.expect) return false
  }
  if (needle.after) {
    const next = at + needle.bytes.length
    if (next >= buf.length) return false
    const bits = BASE64_BITS[buf[next]]
    if (bits < 0 || bits >> (6 - needle.after.bits) !== needle.after.expect) return false
  }
  return true
}
