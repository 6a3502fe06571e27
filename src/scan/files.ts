import {closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {displayPath} from '../paths.js'
import {gitOutput, gitRequired} from './git.js'

/** Larger files are not read (a database dump, a video): named in a note. */
export const MAX_SCAN_BYTES = 64 * 1024 * 1024

export interface FileList {
  /** Absolute paths of the files to read. */
  files: string[]
  /** Where envsync keeps values by design (values files, Docker secret directories) that were left out. */
  byDesign: string[]
  /** Whether the list came from git (tracked and not ignored files). */
  git: boolean
  /** Symbolic links, FIFOs, sockets and devices met under a PATH: not read. */
  special: number
}

/**
 * The files to scan. No PATH: the project directory — in a git work tree the files git tracks or
 * would track (plus the ignored ones with `ignored`), else every file under it. A PATH: every
 * file under it. `.git/` is never entered and no symbolic link followed; `keep` names the files
 * and directories envsync holds values in by design, which are left out (and counted).
 */
export function listFiles(projectDir: string, paths: readonly string[], options: {ignored: boolean; keep: readonly string[]}): FileList {
  const inDesign = (file: string) => options.keep.some((k) => file === k || file.startsWith(k + path.sep))
  let all: string[]
  let git = false
  let special = 0
  if (paths.length === 0 && gitOutput(projectDir, ['rev-parse', '--is-inside-work-tree'])?.toString().trim() === 'true') {
    git = true
    all = gitFiles(projectDir, options.ignored)
  } else {
    all = []
    for (const p of paths.length === 0 ? [projectDir] : paths) {
      const found = walk(path.resolve(p))
      all.push(...found.files)
      special += found.special
    }
  }
  const unique = [...new Set(all)]
  const byDesign = unique.filter(inDesign)
  return {files: unique.filter((f) => !inDesign(f)), byDesign: byDesign.map((f) => displayPath(f)), git, special}
}

function gitFiles(dir: string, ignored: boolean): string[] {
  const names = (args: string[]) => gitRequired(dir, ['ls-files', '-z', ...args]).toString('utf8').split('\0').filter(Boolean)
  const files = names(['--cached', '--others', '--exclude-standard'])
  if (ignored) files.push(...names(['--others', '--ignored', '--exclude-standard']))
  return files.map((f) => path.join(dir, f))
}

/** Every regular file under `root` (or root itself), without following links or entering .git/. */
function walk(root: string): {files: string[]; special: number} {
  let st
  try {
    st = lstatSync(root)
  } catch {
    throw new EnvsyncError(`${displayPath(root)} does not exist`, {code: 'SCAN_PATH', suggestion: 'name files or directories that exist, or leave PATH out to scan the project'})
  }
  // A named file is read (or refused as special) by readScanFile.
  if (!st.isDirectory()) return {files: [root], special: 0}
  const out: string[] = []
  let special = 0
  const pending = [root]
  while (pending.length > 0) {
    const dir = pending.pop()!
    let entries
    try {
      entries = readdirSync(dir, {withFileTypes: true})
    } catch {
      continue // unreadable directory: its files are skipped like unreadable files
    }
    for (const e of entries) {
      const full = path.join(dir, e.name)
      if (e.isDirectory()) {
        if (e.name !== '.git') pending.push(full)
      } else if (e.isFile()) out.push(full)
      else special++
    }
  }
  return {files: out.sort(), special}
}

export type ReadOutcome = {bytes: Buffer} | {skipped: 'large' | 'special' | 'unreadable'; size?: number}

/**
 * A file's bytes, read only when it is a regular file (opened without following a link and
 * non-blocking, so a FIFO or a device never hangs the scan) of at most MAX_SCAN_BYTES.
 */
export function readScanFile(file: string): ReadOutcome {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
  } catch (error) {
    // A link (ELOOP), gone since listed (ENOENT: deleted but still in git's index): not content.
    const code = (error as NodeJS.ErrnoException).code
    return {skipped: code === 'ELOOP' || code === 'ENOENT' || code === 'ENXIO' ? 'special' : 'unreadable'}
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) return {skipped: 'special'}
    if (st.size > MAX_SCAN_BYTES) return {skipped: 'large', size: st.size}
    return {bytes: readFileSync(fd)}
  } catch {
    return {skipped: 'unreadable'}
  } finally {
    closeSync(fd)
  }
}
