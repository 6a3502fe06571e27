import {displayPath} from '../paths.js'

/**
 * File names as scan meets them: bytes (git and the file system allow any but NUL and '/'), not
 * UTF-8 text. Decoded for display with each byte that is not UTF-8 as `\xNN`, so a name in
 * Latin-1 is scanned and shown, not lost.
 */

/** The length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there begins none. */
function sequenceAt(buf: Uint8Array, i: number): number {
  const b = buf[i]
  if (b < 0x80) return 1
  const cont = (j: number, lo = 0x80, hi = 0xbf) => i + j < buf.length && buf[i + j] >= lo && buf[i + j] <= hi
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0
  if (b >= 0xe0 && b <= 0xef) {
    // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF).
    const ok = cont(1, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf) && cont(2)
    return ok ? 3 : 0
  }
  if (b >= 0xf0 && b <= 0xf4) return cont(1, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf) && cont(2) && cont(3) ? 4 : 0
  return 0
}

/** The name as text: UTF-8 where it is, each other byte as `\xNN`. */
export function decodeName(name: Uint8Array): string {
  const buf = Buffer.from(name.buffer, name.byteOffset, name.byteLength)
  let out = ''
  let run = 0
  let i = 0
  while (i < buf.length) {
    const n = sequenceAt(buf, i)
    if (n > 0) {
      i += n
      continue
    }
    out += buf.toString('utf8', run, i) + `\\x${buf[i].toString(16).padStart(2, '0')}`
    i++
    run = i
  }
  return out + buf.toString('utf8', run, i)
}

/** Every control character (newline and tab too: a name must not break or forge a row) as its escape. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001F\u007F-\u009F]/g, (c) => {
    const named: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}

/** Joins a directory and a name as bytes. */
export function joinName(dir: Buffer, name: Buffer): Buffer {
  return dir.length > 0 && dir.at(-1) === 0x2f ? Buffer.concat([dir, name]) : Buffer.concat([dir, Buffer.from('/'), name])
}

/** A path for scan's output: decoded, relative as displayPath makes it (not yet redacted or escaped). */
export function displayName(file: Buffer): string {
  return displayPath(decodeName(file))
}
