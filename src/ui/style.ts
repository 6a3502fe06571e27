/** ANSI styling that switches itself off: NO_COLOR, TERM=dumb, or output not a terminal. */
import {stripVTControlCharacters} from 'node:util'

type Stream = NodeJS.WriteStream

export function colorEnabled(stream: Stream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true
  if (process.env.TERM === 'dumb') return false
  return Boolean(stream.isTTY)
}

const wrap = (open: number, close: number) => (text: string, stream?: Stream) =>
  text !== '' && colorEnabled(stream) ? `\u001B[${open}m${text}\u001B[${close}m` : text

export const style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
}

/** East Asian Wide and Fullwidth blocks (UAX #11): two terminal cells each. */
const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60],
  [0xffe0, 0xffe6], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
]
/** Combining marks, format characters (ZWJ, variation selectors…) and controls take no column; a soft hyphen does. */
const ZERO_WIDTH = /^(?!\u00AD)[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/u
let graphemes: Intl.Segmenter | undefined

/** An emoji (with its modifiers and joiners) is two columns; anything else, the sum of its code points (क्ष is 2, กำ is 2). */
function cells(grapheme: string): number {
  if (EMOJI.test(grapheme)) return 2
  let n = 0
  for (const ch of grapheme) {
    const cp = ch.codePointAt(0)!
    // Hangul vowel and final jamo join the initial one's two columns.
    const joining = (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff)
    n += joining || ZERO_WIDTH.test(ch) ? 0 : WIDE.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1
  }
  return n
}

/**
 * The columns text takes in a terminal: colour codes take none, combining marks none (é as e +
 * U+0301 is one), CJK and emoji two. The one width every table and padding uses.
 */
export function width(text: string): number {
  const plain = stripVTControlCharacters(text)
  // Plain ASCII (the usual case) needs no segmentation.
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length
  graphemes ??= new Intl.Segmenter(undefined, {granularity: 'grapheme'})
  let n = 0
  for (const {segment} of graphemes.segment(plain)) n += cells(segment)
  return n
}

/** Pads to a width in terminal columns (see width). */
export function pad(text: string, columns: number): string {
  return text + ' '.repeat(Math.max(0, columns - width(text)))
}

/** Rows of cells → aligned lines; the last column is left ragged. */
export function table(rows: string[][], gap = 2): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] + gap))).join('').trimEnd())
}

export {plural} from '../words.js'
