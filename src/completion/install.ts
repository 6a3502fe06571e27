/** `completion --install`: one marked line in the shell's rc file that loads the script. */
import {existsSync, lstatSync, readFileSync, realpathSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {makeDir, writeFileAtomic} from '../files.js'
import {shells, type Shell} from './scripts.js'

const MARKER = '# envsync completion'

export interface InstallPlan {
  /** The rc file, absolute. */
  file: string
  line: string
  /** The file loads the completion already: nothing to change. */
  present: boolean
}

/** The rc file each shell reads at start, as that shell finds it. */
function rcFile(shell: Shell, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || os.homedir()
  if (shell === 'bash') return path.join(home, '.bashrc')
  if (shell === 'zsh') return path.join(env.ZDOTDIR || home, '.zshrc')
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'fish', 'config.fish')
}

/** The shell completion is for: the one asked for, else the login shell ($SHELL). */
export function chosenShell(asked: string | undefined, env: NodeJS.ProcessEnv): Shell {
  if (asked) return asked as Shell
  const login = path.basename(env.SHELL ?? '')
  if ((shells as readonly string[]).includes(login)) return login as Shell
  throw new EnvsyncError(login ? `no completion for the shell "${login}"` : 'which shell? $SHELL is not set', {
    code: 'UNKNOWN_SHELL',
    suggestion: `name one: ${shells.map((s) => `\`envsync completion ${s}\``).join(', ')}`,
  })
}

export function installPlan(shell: Shell, bin: string, env: NodeJS.ProcessEnv = process.env): InstallPlan {
  const file = rcFile(shell, env)
  const line = shell === 'fish' ? `${bin} completion fish | source  ${MARKER}` : `eval "$(${bin} completion ${shell})"  ${MARKER}`
  const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
  return {file, line, present: text.split('\n').some((l) => l.includes(MARKER))}
}

/**
 * Appends the line, atomically: the rc file is rewritten whole beside itself and renamed, keeping
 * its mode; a symbolic link (dotfiles kept in a repository) is followed to the file it points at.
 */
export function install(plan: InstallPlan): void {
  const file = existsSync(plan.file) && lstatSync(plan.file).isSymbolicLink() ? realpathSync(plan.file) : plan.file
  const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
  if (!existsSync(path.dirname(file))) makeDir(path.dirname(file), 0o755) // fish's config folder may not exist yet
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o644
  writeFileAtomic(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${plan.line}\n`, mode)
}
