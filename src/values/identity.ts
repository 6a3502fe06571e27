import {spawnSync} from 'node:child_process'
import {closeSync, constants, fstatSync, openSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {homePath, shellPath} from '../paths.js'
import {registerSecret} from '../redact.js'
import {parseIdentity, type AgeIdentity} from './age.js'

/** Where this machine's age identities come from: CI's variable first, then a file outside the repo. */
export interface Identities {
  identities: AgeIdentity[]
  /** Where they were found, or every place looked when none was. */
  source?: string
  looked: string[]
}

/** The default identity file: $XDG_CONFIG_HOME/envsync/age.key (~/.config/envsync/age.key). */
export function defaultIdentityFile(): string {
  const config = process.env.XDG_CONFIG_HOME || path.join(process.env.HOME || os.homedir(), '.config')
  return path.join(config, 'envsync', 'age.key')
}

/** The identity file envsync reads: ENVSYNC_AGE_KEY_FILE, else the default. */
export function identityFile(): string {
  return process.env.ENVSYNC_AGE_KEY_FILE ? path.resolve(process.env.ENVSYNC_AGE_KEY_FILE) : defaultIdentityFile()
}

const cache = new Map<string, Promise<Identities>>()

/**
 * This machine's identities, for a project in `projectDir` (an identity file inside it is refused:
 * it would be one `git add` away from the repo). Secret keys are registered with the redaction
 * point as soon as they are read.
 */
export function loadIdentities(projectDir: string): Promise<Identities> {
  const fromEnv = process.env.ENVSYNC_AGE_KEY
  const file = identityFile()
  const cacheKey = `${fromEnv ?? ''}\0${file}\0${projectDir}`
  let result = cache.get(cacheKey)
  if (!result) {
    result = readIdentities(fromEnv, file, projectDir)
    cache.set(cacheKey, result)
    // A failure is not kept: the next read looks again.
    result.catch(() => cache.delete(cacheKey))
  }
  return result
}

async function readIdentities(fromEnv: string | undefined, file: string, projectDir: string): Promise<Identities> {
  if (fromEnv?.trim()) return {identities: await parseIdentities(fromEnv, 'ENVSYNC_AGE_KEY'), source: 'ENVSYNC_AGE_KEY', looked: ['ENVSYNC_AGE_KEY']}
  const looked = ['ENVSYNC_AGE_KEY', homePath(file)]
  const text = readIdentityFile(file, projectDir)
  return text === undefined ? {identities: [], looked} : {identities: await parseIdentities(text, homePath(file)), source: homePath(file), looked}
}

/** Identity lines (AGE-SECRET-KEY-1…), comments and blank lines skipped, as age reads them. */
async function parseIdentities(text: string, where: string): Promise<AgeIdentity[]> {
  const identities: AgeIdentity[] = []
  const lines = text.split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (line.startsWith('AGE-SECRET-KEY-')) registerSecret(line)
    if (!line || line.startsWith('#')) continue
    const identity = await parseIdentity(line)
    if (!identity) {
      throw new EnvsyncError(`${where}${where.startsWith('ENVSYNC') ? '' : `:${i + 1}`}: not an age identity (expected AGE-SECRET-KEY-1…)`, {
        code: 'IDENTITY_INVALID',
        suggestion: 'an identity is one AGE-SECRET-KEY-1… line per key, as `envsync keys generate` or `age-keygen` writes it',
      })
    }
    identities.push(identity)
  }
  return identities
}

/**
 * Refuses an identity file inside the project — the manifest's directory or the git work tree
 * holding it (a monorepo's app/envsync.yaml with the key in keys/): the one check for reading
 * (loadIdentities) and writing (keys generate).
 */
export function refuseIdentityInProject(file: string, projectDir: string): void {
  const inside = (dir: string) => {
    const rel = path.relative(path.resolve(dir), path.resolve(file))
    return !(rel.startsWith('..') || path.isAbsolute(rel))
  }
  const top = workTreeTop(projectDir)
  if (!inside(projectDir) && !(top && inside(top))) return
  throw new EnvsyncError(`the age identity file ${shellPath(file)} is inside the ${inside(projectDir) ? 'project' : 'git repository'}: a private key must never be one \`git add\` away from the repository`, {
    code: 'IDENTITY_IN_PROJECT',
    suggestion: `move it out of the repository (\`mv ${shellPath(file)} ${homePath(defaultIdentityFile())}\`) or point ENVSYNC_AGE_KEY_FILE outside it`,
  })
}

const tops = new Map<string, string | undefined>()

/** The git work tree's top directory around `dir` (asked once per directory, bounded), if any. */
function workTreeTop(dir: string): string | undefined {
  if (!tops.has(dir)) {
    const r = spawnSync('git', ['rev-parse', '--show-toplevel'], {cwd: dir, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore']})
    tops.set(dir, r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined)
  }
  return tops.get(dir)
}

function readIdentityFile(file: string, projectDir: string): string | undefined {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EnvsyncError(`cannot read the age identity file ${homePath(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {code: 'IDENTITY_UNREADABLE', suggestion: `check that ${homePath(file)} is a file you can read`})
  }
  try {
    refuseIdentityInProject(file, projectDir)
    const st = fstatSync(fd)
    if (!st.isFile() || st.size > 64 * 1024) throw new EnvsyncError(`${homePath(file)} is not an age identity file`, {code: 'IDENTITY_INVALID', suggestion: 'an identity file holds AGE-SECRET-KEY-1… lines'})
    // As ssh does with private keys: a key others can read is no longer only yours.
    if ((st.mode & 0o077) !== 0) {
      throw new EnvsyncError(`the age identity file ${homePath(file)} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: others on this machine can read your private key`, {
        code: 'IDENTITY_MODE',
        suggestion: `\`chmod 600 ${homePath(file)}\``,
      })
    }
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}
