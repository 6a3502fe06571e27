import {spawnSync} from 'node:child_process'
import path from 'node:path'

export interface GitStatus {
  /** false outside a git work tree (or without git): nothing to say. */
  inRepo: boolean
  tracked: boolean
  ignored: boolean
}

function git(cwd: string, args: string[]): number | null {
  const r = spawnSync('git', args, {cwd, stdio: 'ignore'})
  return r.error ? null : r.status
}

/** Is the file committed to git, and would `git add .` pick it up? */
export function gitStatus(file: string): GitStatus {
  const cwd = path.dirname(file)
  const name = path.basename(file)
  const inside = git(cwd, ['rev-parse', '--is-inside-work-tree'])
  if (inside !== 0) return {inRepo: false, tracked: false, ignored: false}
  return {
    inRepo: true,
    tracked: git(cwd, ['ls-files', '--error-unmatch', '--', name]) === 0,
    ignored: git(cwd, ['check-ignore', '-q', '--', name]) === 0,
  }
}
