import {randomBytes} from 'node:crypto'
import fs, {closeSync, constants, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {EnvsyncError} from './errors.js'
import {displayPath} from './paths.js'

/**
 * Writes a file atomically with exactly `mode`: a temp file created with it in the same directory (so the
 * rename cannot cross filesystems and no reader ever sees a half-written file or a moment of wider
 * permissions), fsynced, then renamed over the old one. On failure the old file is untouched and
 * the temp file removed. A symbolic link in the file's place is refused, never replaced.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode = 0o600): void {
  refuseSymlink(file)
  const dir = path.dirname(file)
  const tmp = tmpName(file)
  let fd: number | undefined
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
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
 * fsyncs the directory once at the end (syncDir), which makes the renames durable, and has
 * checked that no name is a symbolic link (one directory listing, not a stat per file).
 */
export async function writeFileAtomicAsync(file: string, content: Buffer, mode = 0o600): Promise<void> {
  const tmp = tmpName(file)
  let fd: number | undefined
  try {
    fd = await call<number>(fs.open, tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
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
  if (error instanceof EnvsyncError) return error
  const code = (error as NodeJS.ErrnoException).code ?? 'error'
  return new EnvsyncError(`cannot write ${displayPath(file)}: ${code}`, {
    code: 'WRITE_FAILED',
    exitCode: 1,
    location: {file: displayPath(file)},
    suggestion: code === 'ENOENT' ? `create the directory ${displayPath(path.dirname(file))}` : 'check the directory permissions and free space; the old file is unchanged',
  })
}

/**
 * envsync never writes through a symbolic link, nor replaces one: a link in a file's place would
 * send secrets wherever it points (or silently turn a shared file into a private copy).
 */
export function symlinkRefused(file: string, what = 'file'): EnvsyncError {
  return new EnvsyncError(`${displayPath(file)} is a symbolic link: envsync does not write or read its ${what} through links`, {
    code: 'SYMLINK_REFUSED',
    exitCode: 1,
    location: {file: displayPath(file)},
    suggestion: `replace the link with a real ${what}, or point the manifest at the real path`,
  })
}

const isLink = (file: string) => {
  try {
    return lstatSync(file).isSymbolicLink()
  } catch {
    return false
  }
}

export function refuseSymlink(file: string, what?: string): void {
  if (isLink(file)) throw symlinkRefused(file, what)
}

/**
 * Refuses a path with a symbolic link in any component from `root` (exclusive) down to `target`:
 * a linked directory would take secret files (and a chmod) somewhere else.
 */
export function refuseSymlinkedPath(root: string, target: string, what = 'directory'): void {
  const rel = path.relative(root, target)
  const parts = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep) : []
  let p = parts.length > 0 ? root : path.dirname(target)
  for (const part of parts.length > 0 ? parts : [path.basename(target)]) {
    p = path.join(p, part)
    if (isLink(p)) throw symlinkRefused(p, what)
  }
}

/** mkdir -p with mode, then refuses the directory if it is a link (it may have existed as one). */
export function makeDir(dir: string, mode = 0o700): void {
  refuseSymlink(dir, 'directory')
  mkdirSync(dir, {recursive: true, mode})
}

/** Reads a file, refusing a symbolic link (O_NOFOLLOW). ENOENT is thrown as is. */
export function readFileNoFollow(file: string): Buffer {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkRefused(file)
    throw error
  }
  try {
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Appends to a file (created with mode), refusing a symbolic link (O_NOFOLLOW). */
export function appendFileNoFollow(file: string, text: string, mode = 0o600): void {
  let fd: number
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, mode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkRefused(file)
    throw writeFailed(file, error)
  }
  try {
    const buf = Buffer.from(text, 'utf8')
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
  } catch (error) {
    throw writeFailed(file, error)
  } finally {
    closeSync(fd)
  }
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
/** envsync's temp names (tmpName above): `.<file>.<12 hex><counter>.tmp`. */
const TMP_NAME = /^\.(.+)\.([0-9a-f]{12})\d+\.tmp$/

/**
 * Removes temp files an interrupted run (kill -9) left in `dir`: only envsync's own temp names,
 * only regular files, never this process's own, and (options) only temps of the given file names
 * and older than minAgeMs — call it where no other envsync can be writing (under a lock), or with
 * an age that no write takes. Returns how many were removed.
 */
export function removeStaleTemps(dir: string, options: {of?: (name: string) => boolean; minAgeMs?: number} = {}): number {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    const m = TMP_NAME.exec(name)
    if (!m || m[2] === TMP_PREFIX || (options.of && !options.of(m[1]))) continue
    const file = path.join(dir, name)
    try {
      const s = lstatSync(file)
      if (!s.isFile() || Date.now() - s.mtimeMs < (options.minAgeMs ?? 0)) continue
      unlinkSync(file)
      removed++
    } catch {
      // gone meanwhile
    }
  }
  return removed
}

/** A Node callback-style fs call as a promise, without FileHandle's bookkeeping. */
function call<T = void>(fn: (...args: never[]) => unknown, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    ;(fn as (...a: unknown[]) => void)(...args, (error: Error | null, value: T) => (error ? reject(error) : resolve(value)))
  })
}

/**
 * Lock files: created exclusively (O_EXCL), holding the holder's pid and host. A lock whose
 * holder is gone (kill -9: a pid of this host that no longer runs) is stale and taken over; the
 * takeover itself runs under a second exclusive file, so two waiters never both break one lock.
 * Every wait is bounded (ENVSYNC_LOCK_TIMEOUT_MS, default 10 s), then a clear error.
 */
export type Release = () => void

const lockTimeout = () => Number(process.env.ENVSYNC_LOCK_TIMEOUT_MS) || 10_000

/** Waits for the lock, blocking (short critical sections: the ownership record). */
export function lockSync(file: string, what: string): Release {
  const deadline = Date.now() + lockTimeout()
  for (;;) {
    const release = tryLock(file)
    if (release) return release
    if (Date.now() > deadline) throw lockedError(file, what)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  }
}

/** Waits for the lock without blocking the event loop (a destination's whole write). */
export async function lock(file: string, what: string): Promise<Release> {
  const deadline = Date.now() + lockTimeout()
  for (;;) {
    const release = tryLock(file)
    if (release) return release
    if (Date.now() > deadline) throw lockedError(file, what)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

interface Holder {
  pid: number
  host: string
  since: string
}

function tryLock(file: string, retry = true): Release | undefined {
  let fd: number
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailed(file, error)
    if (isLink(file)) throw symlinkRefused(file)
    return retry && breakStale(file) ? tryLock(file, false) : undefined
  }
  try {
    const holder: Holder = {pid: process.pid, host: os.hostname(), since: new Date().toISOString()}
    writeSync(fd, JSON.stringify(holder) + '\n')
  } catch (error) {
    // A lock without its holder would look stale only after a while: never leave one.
    removeFile(file)
    throw writeFailed(file, error)
  } finally {
    closeSync(fd)
  }
  let released = false
  return () => {
    if (released) return
    released = true
    try {
      unlinkSync(file)
    } catch {
      // removed by hand meanwhile
    }
  }
}

function readHolder(file: string): {holder?: Holder; ageMs: number} | undefined {
  try {
    const ageMs = Date.now() - lstatSync(file).mtimeMs
    try {
      const h = JSON.parse(readFileNoFollow(file).toString('utf8'))
      return typeof h?.pid === 'number' && typeof h?.host === 'string' ? {holder: h, ageMs} : {ageMs}
    } catch {
      return {ageMs}
    }
  } catch {
    return undefined
  }
}

/** The holder is a process of this host that is gone, or the file never got its holder (killed between create and write). */
function isStale(file: string): boolean {
  const h = readHolder(file)
  if (!h) return false
  if (!h.holder) return h.ageMs > 5000
  if (h.holder.host !== os.hostname()) return false
  try {
    process.kill(h.holder.pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** Removes a stale lock, under `<lock>.break` (itself taken over when older than 10 s). Returns whether it removed one. */
function breakStale(file: string): boolean {
  const breaker = `${file}.break`
  let fd: number
  try {
    fd = openSync(breaker, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  } catch {
    const b = readHolder(breaker)
    if (b && b.ageMs > 10_000) removeFile(breaker)
    return false
  }
  closeSync(fd)
  try {
    if (!isStale(file)) return false
    removeFile(file)
    return true
  } finally {
    removeFile(breaker)
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}

function lockedError(file: string, what: string): EnvsyncError {
  const h = readHolder(file)?.holder
  const by = h ? ` (pid ${h.pid} on ${h.host}, since ${h.since})` : ''
  return new EnvsyncError(`${what} is locked by another envsync run${by}: ${displayPath(file)}`, {
    code: 'LOCKED',
    exitCode: 1,
    location: {file: displayPath(file)},
    suggestion: `wait for the other run to finish and run again; if no envsync is running, delete ${displayPath(file)}`,
  })
}
