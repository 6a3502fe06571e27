import {closeSync, constants, existsSync, fstatSync, openSync, readSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {displayPath, shellPath} from '../paths.js'

/**
 * The files a user points envsync at: the manifest and the values files. 8 MiB each is far above
 * any real one (5,000 secrets make a ~1 MB manifest; a values file of 5,000 keys with 1 KB
 * values is ~5 MB) and stops a runaway file early.
 */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024

export type InputKind = 'manifest' | 'values file' | 'compose file'

const PREFIX: Record<InputKind, string> = {manifest: 'MANIFEST', 'values file': 'VALUES', 'compose file': 'COMPOSE'}

/**
 * Reads a manifest or values file, or undefined when there is none. Only a regular file is read:
 * the file is opened non-blocking (a FIFO would otherwise wait for a writer) and fstat'ed before
 * any read, so a FIFO, a device such as /dev/zero, a socket or a directory is refused at once, and
 * never more than MAX_INPUT_BYTES are read (a file that grows while read is refused too).
 */
export function readInputFile(file: string, kind: InputKind): {bytes: Buffer; mode: number} | undefined {
  const display = displayPath(file)
  const code = PREFIX[kind]
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code
    if (errno === 'ENOENT') return undefined
    throw new EnvsyncError(`cannot read ${display}: ${errno === 'EACCES' || errno === 'EPERM' ? 'permission denied' : (errno ?? (error as Error).message)}`, {
      code: `${code}_UNREADABLE`,
      location: {file: display},
      suggestion: errno === 'EACCES' || errno === 'EPERM' ? `give yourself read access: \`chmod u+r ${shellPath(file)}\`` : `check that ${display} is a readable file`,
    })
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw notAFile(file, display, kind, st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a named pipe (FIFO)' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file')
    const tooLarge = (size: string) => inputTooLarge(display, kind, size)
    if (st.size > MAX_INPUT_BYTES) throw tooLarge(String(st.size))
    // Read to the end, not to the fstat size: the file may grow meanwhile (or be a /proc file).
    const bytes = readAtMost(fd, MAX_INPUT_BYTES)
    if (!bytes) throw tooLarge(`more than ${MAX_INPUT_BYTES}`)
    return {bytes, mode: st.mode & 0o777}
  } finally {
    closeSync(fd)
  }
}

export function inputTooLarge(display: string, kind: InputKind, size: string): EnvsyncError {
  return new EnvsyncError(`${display} is ${size} bytes; a ${kind} may be at most ${MAX_INPUT_BYTES} bytes`, {
    code: `${PREFIX[kind]}_TOO_LARGE`,
    location: {file: display},
    suggestion: {
      manifest: 'Check that this is the manifest and not a values file or a data dump.',
      'values file': 'Check that this is the values file (KEY=value lines) and not a data dump.',
      'compose file': 'Check that this is your Compose file (services: …) and not a data dump.',
    }[kind],
  })
}

/** The file's bytes, or undefined when it has more than `limit`. */
function readAtMost(fd: number, limit: number): Buffer | undefined {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024)
    const n = readSync(fd, chunk, 0, chunk.length, null)
    if (n === 0) return Buffer.concat(chunks, total)
    total += n
    if (total > limit) return undefined
    chunks.push(chunk.subarray(0, n))
  }
}

function notAFile(file: string, display: string, kind: InputKind, what: string): EnvsyncError {
  const inside = path.join(file, 'envsync.yaml')
  let suggestion: string
  if (kind === 'manifest') {
    suggestion =
      what === 'a directory'
        ? existsSync(inside)
          ? `pass the file itself: --manifest ${shellPath(inside)}`
          : `pass the manifest file, not a directory, or run \`envsync init --dir ${shellPath(file)}\` to create one there`
        : 'point --manifest (or ENVSYNC_MANIFEST) at the manifest file, envsync.yaml'
  } else if (kind === 'compose file') {
    // envsync only reads it (to know the services the override may name), as Compose would.
    suggestion = `make ${display} a regular file (Compose reads only those too), or move it away and name the services in the docker target: \`services: [backend]\``
  } else {
    suggestion = `move it away so envsync can keep the values in a regular file there, or set \`file:\` of the environment in the manifest to another path`
  }
  return new EnvsyncError(`${display} is ${what}, not a ${kind.endsWith(' file') ? kind : `${kind} file`}: envsync reads only regular files`, {
    code: `${PREFIX[kind]}_NOT_A_FILE`,
    location: {file: display},
    suggestion,
  })
}
