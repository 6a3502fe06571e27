import os from 'node:os'
import path from 'node:path'

let projectRoot: string | undefined

/** The project found above the working directory (manifest discovery): its paths are shown relative. */
export function setProjectRoot(dir: string): void {
  projectRoot = dir
}

/**
 * A path for messages: relative to the working directory when inside it, or inside the project
 * the command found from a subdirectory (`../.env.production`, as git shows paths); else absolute.
 */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file)
  if (rel && !rel.startsWith('..')) return rel
  const inProject = projectRoot !== undefined && !path.relative(projectRoot, file).startsWith('..') && !path.isAbsolute(path.relative(projectRoot, file))
  return rel && inProject ? rel : file
}

/** A word the shell reads back as it is: bare when safe, else double quotes, else single quotes. */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word
  if (!/["$`\\!]/.test(word)) return `"${word}"`
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * A path inside a command a hint shows (`git rm --cached …`, `cd …`): as displayPath says it,
 * `./` before a leading '-' (else it reads as an option), shell-quoted, so the line pastes as is.
 */
export function shellPath(file: string): string {
  const shown = displayPath(file) || '.'
  return shellWord(shown.startsWith('-') ? `./${shown}` : shown)
}

/**
 * A file outside the project for a person to type (an rc file): `~/…` under the home directory,
 * else absolute — never relative to wherever the command ran. Shell-quoted past the `~/`.
 */
export function homePath(file: string, home: string = process.env.HOME || os.homedir()): string {
  const rel = path.relative(home, file)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? `~/${shellWord(rel)}` : shellWord(file)
}

/**
 * A path as envsync records it (destination ids, ownership, audit log): relative to the
 * manifest's directory with `/` separators, so a moved or re-cloned checkout keeps its records.
 * A path outside the project stays absolute.
 */
export function projectPath(root: string, file: string): string {
  const rel = path.relative(root, file)
  if (rel.startsWith('..') || path.isAbsolute(rel)) return file
  return rel.split(path.sep).join('/') || '.'
}
