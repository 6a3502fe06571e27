import {randomBytes} from 'node:crypto'
import {closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {open, rename, unlink} from 'node:fs/promises'
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
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
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
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new EnvsyncError(`cannot write ${displayPath(file)}: ${code}`, {
      code: 'WRITE_FAILED',
      exitCode: 1,
      location: {file: displayPath(file)},
      suggestion: code === 'ENOENT' ? `create the directory ${displayPath(dir)}` : 'check the directory permissions and free space; the old file is unchanged',
    })
  }
  try {
    const dfd = openSync(dir, 'r')
    fsyncSync(dfd)
    closeSync(dfd)
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

/**
 * writeFileAtomic without blocking the event loop, for many files at once (Docker secret files):
 * the same steps, so the same guarantees; the fsyncs of several files overlap in libuv's pool.
 */
export async function writeFileAtomicAsync(file: string, content: Buffer, mode = 0o600): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle
  try {
    handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)
    await handle.chmod(mode)
    await handle.writeFile(content)
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(tmp, file)
  } catch (error) {
    await handle?.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new EnvsyncError(`cannot write ${displayPath(file)}: ${code}`, {
      code: 'WRITE_FAILED',
      exitCode: 1,
      location: {file: displayPath(file)},
      suggestion: 'check the directory permissions and free space; the old file is unchanged',
    })
  }
}
