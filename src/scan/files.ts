import {closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {displayPath} from '../paths.js'
import {gitOutput, gitRequired} from './git.js'
import {displayName, joinName} from './names.js'

/** Larger files are not read (a database dump, a video): named in a note. */
export const MAX_SCAN_BYTES = 64 * 1024 * 1024

export interface FileList {
  /** Absolute paths of the files to read, as bytes: a name need not be UTF-8. */
  files: Buffer[]
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
 * file under it. `.git/` is never entered and no symbolic link followed (but a PATH that is one
 * to a directory: the user named it); `keep` names the files and directories envsync holds values
 * in by design, which are left out (and counted).
 */
export function listFiles(projectDir: string, paths: readonly string[], options: {ignored: boolean; keep: readonly string[]}): FileList {
  const keep = options.keep.map((k) => Buffer.from(k))
  const inDesign = (file: Buffer) => keep.some((k) => file.equals(k) || (file.length > k.length && file[k.length] === 0x2f && file.subarray(0, k.length).equals(k)))
  let all: Buffer[]
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
  const unique = [...new Map(all.map((f) => [f.toString('latin1'), f])).values()]
  const byDesign = unique.filter(inDesign)
  return {files: unique.filter((f) => !inDesign(f)), byDesign: byDesign.map(displayName), git, special}
}

function gitFiles(dir: string, ignored: boolean): Buffer[] {
  const names = (args: string[]) => splitNul(gitRequired(dir, ['ls-files', '-z', ...args]))
  const files = names(['--cached', '--others', '--exclude-standard'])
  if (ignored) files.push(...names(['--others', '--ignored', '--exclude-standard']))
  const root = Buffer.from(dir)
  return files.map((f) => joinName(root, f))
}

/** NUL-separated names as bytes (git's -z output). */
export function splitNul(out: Buffer): Buffer[] {
  const names: Buffer[] = []
  for (let at = 0; at < out.length; ) {
    let end = out.indexOf(0, at)
    if (end < 0) end = out.length
    if (end > at) names.push(out.subarray(at, end))
    at = end + 1
  }
  return names
}

/** Every regular file under `root` (or root itself), without following links or entering .git/. */
function walk(root: string): {files: Buffer[]; special: number} {
  let st
  try {
    st = lstatSync(root)
    // A link the user named as PATH to a directory is what they want scanned; links met below are not followed.
    if (st.isSymbolicLink() && statSync(root).isDirectory()) st = statSync(root)
  } catch {
    throw new EnvsyncError(`${displayPath(root)} does not exist`, {code: 'SCAN_PATH', suggestion: 'name files or directories that exist, or leave PATH out to scan the project'})
  }
  const rootName = Buffer.from(root)
  // A named file is read (or refused as special) by readScanFile.
  if (!st.isDirectory()) return {files: [rootName], special: 0}
  const out: Buffer[] = []
  let special = 0
  const pending: Buffer[] = [rootName]
  while (pending.length > 0) {
    const dir = pending.pop()!
    let entries
    try {
      entries = readdirSync(dir, {withFileTypes: true, encoding: 'buffer'})
    } catch {
      continue // unreadable directory: its files are skipped like unreadable files
    }
    for (const e of entries) {
      const full = joinName(dir, e.name)
      if (e.isDirectory()) {
        if (!e.name.equals(GIT_DIR)) pending.push(full)
      } else if (e.isFile()) out.push(full)
      else special++
    }
  }
  return {files: out.sort(Buffer.compare), special}
}

const GIT_DIR = Buffer.from('.git')

export type ReadOutcome = {bytes: Buffer} | {skipped: 'large' | 'special' | 'unreadable'; size?: number}

/**
 * A file's bytes, read only when it is a regular file (opened without following a link and
 * non-blocking, so a FIFO or a device never hangs the scan) of at most MAX_SCAN_BYTES.
 */
export function readScanFile(file: Buffer): ReadOutcome {
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
