import {spawnSync} from 'node:child_process'
import path from 'node:path'

import {shellPath} from '../paths.js'
import type {Finding} from './rules.js'

export interface GitStatus {
  /** false outside a git work tree (or without git): nothing to say. */
  inRepo: boolean
  /** In a commit of any branch: the values are in the history, and cloned with it. */
  committed: boolean
  /** In the index: the next commit takes it (whether or not it was committed before). */
  inIndex: boolean
  ignored: boolean
}

// git answers in milliseconds; a hung one (a lock, a network filesystem) must not hang check.
const GIT_TIMEOUT_MS = 5000

function git(cwd: string, args: string[]): {status: number | null; stdout: string} {
  const r = spawnSync('git', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: GIT_TIMEOUT_MS})
  return r.error ? {status: null, stdout: ''} : {status: r.status, stdout: r.stdout}
}

/** Is the file committed, staged, or would `git add .` pick it up? */
export function gitStatus(file: string): GitStatus {
  const cwd = path.dirname(file)
  const name = path.basename(file)
  if (git(cwd, ['rev-parse', '--is-inside-work-tree']).status !== 0) return {inRepo: false, committed: false, inIndex: false, ignored: false}
  const history = git(cwd, ['rev-list', '-n', '1', '--all', '--', name])
  return {
    inRepo: true,
    committed: history.status === 0 && history.stdout.trim() !== '',
    inIndex: git(cwd, ['ls-files', '--error-unmatch', '--', name]).status === 0,
    // --no-index: whether a pattern matches even while the file is tracked (after `git rm --cached`).
    ignored: git(cwd, ['check-ignore', '-q', '--no-index', '--', name]).status === 0,
  }
}

/**
 * A values file in git, said as what it means for the values: committed (in the history, so in
 * every clone: rotate them), staged only (not in the history yet: unstage, nothing to rotate), or
 * merely not ignored (one `git add .` away).
 */
export function gitFindings(file: string, display: string): Finding[] {
  const git = gitStatus(file)
  if (!git.inRepo) return []
  const unstage = git.inIndex ? `run \`git rm --cached ${shellPath(file)}\`` : undefined
  const ignore = git.ignored ? undefined : 'add it to .gitignore'
  if (git.committed) {
    return [{
      severity: 'error',
      rule: 'git-tracked',
      message: git.inIndex
        ? `${display} is committed to git: its values are in the repository history`
        : `${display} was committed to git before: its values are still in the repository history`,
      hint: steps('rotate every value in it (every clone has them)', unstage, ignore, 'remove it from the history (e.g. with git filter-repo)'),
    }]
  }
  if (git.inIndex) {
    return [{
      severity: 'error',
      rule: 'git-staged',
      message: `${display} is staged in git (not committed yet): the next commit would put its values in the history`,
      hint: `${steps(unstage, ignore)}; nothing to rotate, as it was never committed (unless its values were shared another way)`,
    }]
  }
  if (git.ignored) return []
  return [{
    severity: 'error',
    rule: 'git-ignore',
    message: `${display} is not git-ignored: \`git add .\` would commit it`,
    hint: `add ${display} (or .env.*) to .gitignore`,
  }]
}

/**
 * An encrypted values file is committed on purpose; ignored by git, teammates and CI never
 * receive it.
 */
export function encryptedGitFindings(file: string, display: string): Finding[] {
  const git = gitStatus(file)
  // A tracked file travels even when a pattern matches it; an untracked ignored one never does.
  if (!git.inRepo || !git.ignored || git.inIndex) return []
  return [{
    severity: 'warning',
    rule: 'git-ignored-encrypted',
    message: `${display} is encrypted but git ignores it: teammates and CI will not receive its values`,
    hint: `add \`!${path.basename(file)}\` to .gitignore (after the .env.* line) and commit ${display}`,
  }]
}

/** "a, b, and c" of the steps that apply. */
function steps(...all: (string | undefined)[]): string {
  const list = all.filter((s): s is string => s !== undefined)
  return list.length <= 2 ? list.join(' and ') : `${list.slice(0, -1).join(', ')}, and ${list.at(-1)}`
}
