import {randomBytes} from 'node:crypto'
import fs, {closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from './errors.js'
import {displayPath} from './paths.js'

/**
 * Writes a file atomically with exactly `mode`: a temp file created with it in the same directory (so the
 * rename cannot cross filesystems and no reader ever sees a half-written file or a moment of wider
 * permissions), fsynced, then renamed over the old one. On failure the old file is untouched and
 * the temp file removed.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode = 0o600): void {
  const dir = path.dirname(file)
  const tmp = tmpName(file)
  let fd: number | undefined
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)
    // The umask may have narrowed the mode; set it exactly (a 0640 secret file must stay
    // group-readable). The temp file was never wider than asked, so no moment of exposure.
    fchmodSync(fd, mode)
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, file)
  } catch (error) {
    if (fd !== undefined) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // already gone
    }
    throw writeFailed(file, error)
  }
  syncDir(dir)
}

/**
 * writeFileAtomic without blocking the event loop, for many files at once (Docker secret files):
 * the same steps, so the same guarantees; the fsyncs of several files overlap in libuv's pool.
 * Plain callbacks rather than FileHandle, and no chmod when the umask cannot have narrowed the
 * mode: a thousand files are a few thousand pool round trips, each one counts. The caller
 * fsyncs the directory once at the end (syncDir), which makes the renames durable.
 */
export async function writeFileAtomicAsync(file: string, content: Buffer, mode = 0o600): Promise<void> {
  const tmp = tmpName(file)
  let fd: number | undefined
  try {
    fd = await call<number>(fs.open, tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)
    if ((mode & umask()) !== 0) await call(fs.fchmod, fd, mode)
    let off = 0
    while (off < content.length) off += await call<number>(fs.write, fd, content, off, content.length - off, null)
    await call(fs.fsync, fd)
    const open = fd
    fd = undefined
    await call(fs.close, open)
    await call(fs.rename, tmp, file)
  } catch (error) {
    if (fd !== undefined) await call(fs.close, fd).catch(() => undefined)
    await call(fs.unlink, tmp).catch(() => undefined)
    throw writeFailed(file, error)
  }
}

function writeFailed(file: string, error: unknown): EnvsyncError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error'
  return new EnvsyncError(`cannot write ${displayPath(file)}: ${code}`, {
    code: 'WRITE_FAILED',
    exitCode: 1,
    location: {file: displayPath(file)},
    suggestion: code === 'ENOENT' ? `create the directory ${displayPath(path.dirname(file))}` : 'check the directory permissions and free space; the old file is unchanged',
  })
}

/** fsyncs a directory, so renames into it survive a crash (some filesystems refuse: ignored). */
export function syncDir(dir: string): void {
  try {
    const dfd = openSync(dir, 'r')
    fsyncSync(dfd)
    closeSync(dfd)
  } catch {
    // Some filesystems refuse fsync on a directory; the renames are still atomic.
  }
}

let processUmask: number | undefined
/** The umask, read once (reading it means setting it twice, so not per file). */
function umask(): number {
  processUmask ??= process.umask()
  return processUmask
}

/** A temp name beside the file: one random part per process, a counter per file. */
const TMP_PREFIX = randomBytes(6).toString('hex')
let tmpCount = 0
const tmpName = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${TMP_PREFIX}${++tmpCount}.tmp`)

/** A Node callback-style fs call as a promise, without FileHandle's bookkeeping. */
function call<T = void>(fn: (...args: never[]) => unknown, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    ;(fn as (...a: unknown[]) => void)(...args, (error: Error | null, value: T) => (error ? reject(error) : resolve(value)))
  })
}
