/** ANSI styling that switches itself off: NO_COLOR, TERM=dumb, or output not a terminal. */

type Stream = NodeJS.WriteStream

export function colorEnabled(stream: Stream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true
  if (process.env.TERM === 'dumb') return false
  return Boolean(stream.isTTY)
}

const wrap = (open: number, close: number) => (text: string, stream?: Stream) =>
  colorEnabled(stream) ? `\u001B[${open}m${text}\u001B[${close}m` : text

export const style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
}

/** Pads to a width, counting code points (not UTF-16 units) so unicode keys line up. */
export function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length))
}

/** Rows of cells → aligned lines; the last column is left ragged. */
export function table(rows: string[][], gap = 2): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] + gap))).join('').trimEnd())
}

/** "1 error", "2 errors". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
