import {spawnSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {constants, closeSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {parseIsoDate} from '../clock.js'
import {EnvsyncError} from '../errors.js'
import {appendFileNoFollow, lockSync, makeDir, readFileNoFollow, refuseSymlink, removeStaleTemps, symlinkRefused, writeFileAtomic} from '../files.js'
import {displayPath, projectPath} from '../paths.js'

/**
 * envsync's state beside the manifest, in .envsync/ — committed, so a fresh clone or a CI runner
 * knows what the machine that pushed knows (Railway and Render variables carry no metadata of
 * their own to keep it in; Kubernetes and Docker keep theirs on the platform):
 * - ownership.tsv: one line per (destination, key, fingerprint key id) envsync put there, with
 *   a keyed fingerprint of the value that key's machine last pushed (a Railway sealed variable
 *   cannot be read back; the fingerprint says whether the local value changed since) — never
 *   values. A key no machine has a fingerprint of has one line with none. For Kubernetes and Docker only which keys are there: a reminder to visit a
 *   destination the manifest no longer feeds. Updated per destination as its writes land (under
 *   a lock), so an interrupted run forgets nothing it wrote.
 * - history.jsonl: one JSON line per destination written: who, when, which keys.
 * Both are line-oriented and merged by git's union driver (.gitattributes, no per-clone setup),
 * so two clones that pushed at once merge without conflicts; reading tolerates what a union
 * merge makes (a key listed twice under one key id with different fingerprints: owned, that
 * fingerprint unknown) and
 * refuses conflict markers. A file that cannot be read as such is refused, never taken as empty.
 * - local/ (git-ignored by .envsync/.gitignore): this machine's fingerprint key (used when the
 *   store carries none), locks.
 * Destinations are named by ids without absolute paths (the Docker directory relative to the
 * manifest), so moving or re-cloning the checkout keeps the records.
 * Older versions kept ownership.json, audit.log and key (git-ignored) here: they are read, and
 * moved to this layout by the next push (migrate). Nothing is read or written through a symbolic link.
 */
export class SyncState {
  readonly dir: string
  readonly #root: string
  readonly #local: string
  #records?: Records
  /** Id of the fingerprint key this run uses (set by fingerprintKey). */
  #keyId?: string

  constructor(manifestDir: string) {
    this.#root = manifestDir
    this.dir = path.join(manifestDir, '.envsync')
    this.#local = path.join(this.dir, 'local')
  }

  /**
   * The HMAC key for fingerprints: the one the store carries (every machine that can read the
   * values computes the same fingerprints), else this machine's own (random, 0600, in local/).
   */
  fingerprintKey(shared?: Buffer): Buffer {
    const key = shared ?? this.machineKey()
    this.#keyId = keyId(key)
    return key
  }

  private machineKey(): Buffer {
    const file = path.join(this.#local, 'key')
    refuseSymlink(this.dir, 'directory')
    const existing = this.readMachineKey()
    if (existing) return existing
    this.makeDirs()
    try {
      // Exclusive create (never replace, never through a link): of two processes racing here,
      // the first key wins for both.
      const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
      try {
        writeSync(fd, randomBytes(32))
      } finally {
        closeSync(fd)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(file, error)
    }
    return checkKey(file, readFileNoFollow(file))
  }

  /** local/key, or an older version's .envsync/key moved there (it must never be committed). */
  private readMachineKey(): Buffer | undefined {
    const file = path.join(this.#local, 'key')
    const old = path.join(this.dir, 'key')
    for (const f of [file, old]) {
      try {
        const key = checkKey(f, readFileNoFollow(f))
        if (f === old) {
          this.makeDirs()
          try {
            renameSync(old, file)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(old, error)
          }
        }
        return key
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(f, error)
      }
    }
    return undefined
  }

  /** .envsync/ and local/, with the files that keep local/ out of git and merge the rest. */
  private makeDirs(): void {
    try {
      makeDir(this.dir)
      makeDir(this.#local)
      for (const [name, text] of Object.entries(GIT_FILES)) {
        const file = path.join(this.dir, name)
        refuseSymlink(file)
        try {
          readFileNoFollow(file)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
          writeFileAtomic(file, text, 0o644)
        }
      }
    } catch (error) {
      throw stateError(this.dir, error)
    }
  }

  private file(name: 'ownership.tsv' | 'history.jsonl' | 'ownership.json' | 'audit.log'): string {
    return path.join(this.dir, name)
  }

  /** ownership.tsv, with an older version's ownership.json folded in (its fingerprints are this machine's key's). */
  private readOwnership(): Records {
    refuseSymlink(this.dir, 'directory')
    const records: Records = new Map()
    const tsv = readText(this.file('ownership.tsv'))
    if (tsv !== undefined) parseOwnership(this.file('ownership.tsv'), tsv, records)
    const json = readText(this.file('ownership.json'))
    if (json !== undefined) {
      const machine = this.readMachineKey()
      const id = machine && keyId(machine)
      for (const [dest, r] of migrateIds(this.#root, parseOldOwnership(this.file('ownership.json'), json))) {
        const record = records.get(dest) ?? new Map<string, Owned>()
        for (const k of r.keys) {
          const fps = record.get(k) ?? new Map<string, string | undefined>()
          if (r.pushed?.[k] && id && !fps.has(id)) fps.set(id, r.pushed[k])
          record.set(k, fps)
        }
        records.set(dest, record)
      }
    }
    return records
  }

  private records(): Records {
    // Read once per run (a push asks for every destination, several times).
    this.#records ??= this.readOwnership()
    return this.#records
  }

  /** Keys envsync put in a destination, with the fingerprints (under this run's key) of what it last pushed. */
  ownership(destinationId: string): {keys: Set<string>; pushed: Map<string, string>} {
    const record = this.records().get(destinationId) ?? new Map<string, Owned>()
    const pushed = new Map<string, string>()
    for (const [k, fps] of record) {
      const fp = fps.get(this.#keyId!)
      if (fp) pushed.set(k, fp)
    }
    return {keys: new Set(record.keys()), pushed}
  }

  /** Whether a key has fingerprints only under other keys (other machines'): never compared. */
  foreignFingerprint(destinationId: string, key: string): boolean {
    const fps = this.records().get(destinationId)?.get(key)
    return fps !== undefined && !fps.get(this.#keyId!) && [...fps.values()].some(Boolean)
  }

  /**
   * Records ownership for several destinations at once, under a lock (concurrent pushes). This
   * run sets or clears only its own key id's fingerprint of each key; the lines of other key ids
   * stay while the key is owned, and all go when it is not. A sealed value cannot be read back,
   * so each machine can only know what it last pushed itself: keeping the others' lines costs
   * one extra write per machine, where replacing them made two machines rewrite (and redeploy)
   * the value on every push, each after the other's.
   */
  recordOwnership(updates: Map<string, {keys: Set<string>; pushed: Map<string, string>}>): void {
    if (updates.size === 0) return
    this.makeDirs()
    const file = this.file('ownership.tsv')
    this.locked(() => {
      // Under the lock no other envsync writes here: temp files left by a killed run can go.
      removeStaleTemps(this.dir, {of: (name) => name === 'ownership.tsv' || name === 'history.jsonl'})
      const all = this.readOwnership()
      for (const [id, {keys, pushed}] of updates) {
        const before = all.get(id)
        const record = new Map<string, Owned>()
        for (const k of keys) {
          const fps = new Map(before?.get(k))
          const fp = pushed.get(k)
          if (fp) fps.set(this.#keyId!, fp)
          else fps.delete(this.#keyId!)
          record.set(k, fps)
        }
        if (record.size === 0) all.delete(id)
        else all.set(id, record)
      }
      writeFileAtomic(file, formatOwnership(all), 0o644)
      removeOld(this.file('ownership.json'))
      this.#records = all
    })
  }

  /**
   * Moves what an older version kept (ownership.json, audit.log, key) to this layout, on any push
   * (one with nothing to change too; diff never writes). Returns whether anything moved.
   */
  migrate(): boolean {
    refuseSymlink(this.dir, 'directory')
    const key = readText(path.join(this.dir, 'key')) !== undefined
    if (key) this.readMachineKey()
    const json = readText(this.file('ownership.json')) !== undefined
    const log = readText(this.file('audit.log')) !== undefined
    if (json || log) {
      this.makeDirs()
      this.locked(() => {
        if (json) {
          const all = this.readOwnership()
          writeFileAtomic(this.file('ownership.tsv'), formatOwnership(all), 0o644)
          removeOld(this.file('ownership.json'))
          this.#records = all
        }
        this.moveAuditLog()
      })
    }
    return key || json || log
  }

  /** An older version's audit.log, appended to history.jsonl (oldest first) and removed; under the lock. */
  private moveAuditLog(): void {
    const old = readText(this.file('audit.log'))
    if (old === undefined) return
    if (old) appendFileNoFollow(this.file('history.jsonl'), old.endsWith('\n') ? old : old + '\n', 0o644)
    removeOld(this.file('audit.log'))
  }

  private locked<T>(fn: () => T): T {
    const release = lockSync(path.join(this.#local, 'state.lock'), displayPath(this.dir))
    try {
      return fn()
    } finally {
      release()
    }
  }

  /**
   * The change history, oldest first: one entry per destination written (history.jsonl, after an
   * older version's audit.log). Lines that are not entries are skipped, and a line a merge
   * brought twice counts once: history informs, it never decides what to write.
   */
  history(): HistoryEntry[] {
    refuseSymlink(this.dir, 'directory')
    const text = (readText(this.file('audit.log')) ?? '') + (readText(this.file('history.jsonl')) ?? '')
    const out: HistoryEntry[] = []
    const seen = new Set<string>()
    for (const line of text.split('\n')) {
      if (seen.has(line)) continue
      seen.add(line)
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        // a torn or foreign line (or a conflict marker: history is never refused for one)
        continue
      }
      const e = historyEntry(parsed)
      if (e) out.push(e)
    }
    return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
  }

  /** Appends entries to history.jsonl with who made them (never through a link); an old audit.log is moved in first. */
  recordHistory(entries: Omit<HistoryEntry, 'user' | 'ci'>[]): void {
    if (entries.length === 0) return
    this.makeDirs()
    const who = identity(this.#root)
    const lines = entries.map(({time, ...e}) => JSON.stringify({time, ...who, ...e}))
    const file = this.file('history.jsonl')
    this.locked(() => {
      this.moveAuditLog()
      appendFileNoFollow(file, lines.join('\n') + '\n', 0o644)
    })
  }

  /**
   * What git makes of the state after a push wrote it: nothing to say outside a work tree, when
   * it is committed or when git ignores it (gitIgnored: every diff and push warns of that);
   * else a note to commit it.
   */
  gitNote(): StateNote | undefined {
    const status = this.git('status', '--porcelain', '--', '.envsync')
    const changed = (status?.status === 0 ? status.stdout : '')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
    if (changed.length === 0) return undefined
    return {changed, message: '.envsync/ changed: commit it so teammates and CI see what envsync owns'}
  }

  /** Whether git ignores the committed part of .envsync/ (an older `init` put .envsync/ in .gitignore). */
  gitIgnored(): boolean {
    return this.git('check-ignore', '-q', '--', '.envsync/ownership.tsv')?.status === 0
  }

  /** git in the project; undefined outside a work tree (asked once per process). */
  private git(...args: string[]) {
    if (outsideGit.has(this.#root)) return undefined
    const r = spawnSync('git', ['-C', this.#root, ...args], {encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore']})
    if (r.error || r.status === 128) {
      outsideGit.add(this.#root)
      return undefined
    }
    return r
  }
}

/**
 * What happened to which keys, by whom and when — never values or fingerprints. A push writes
 * one entry per destination written; a store write (set, generate, rotate…) one per write; a
 * redeploy one per destination restarted. Entries written before `action` existed are pushes.
 */
export const HISTORY_ACTIONS = ['push', 'set', 'unset', 'generate', 'import', 'pull', 'rotate', 'finish', 'redeploy'] as const
export type HistoryAction = (typeof HISTORY_ACTIONS)[number]

export interface HistoryEntry {
  time: string
  /** git's user.name <user.email> where set, else the OS user. */
  user: string
  /** The CI job's identity when run in CI (github:octocat, gitlab:ada, ci). */
  ci?: string
  environment: string
  /** Absent: push. */
  action?: HistoryAction
  /** The destination written (push) or restarted (redeploy). */
  destination?: string
  /**
   * 'pending': a redeploy recorded as started before it is attempted (an entry after it says how
   * it went); last of its destination, the run died during it and the redeploy is still owed.
   */
  status?: 'applied' | 'failed' | 'pending'
  /** Store writes (and rotate, finish, redeploy): the keys given a value or acted on. */
  keys?: string[]
  added?: string[]
  updated?: string[]
  removed?: string[]
  /** rotate: when the previous values may go (ISO). */
  graceUntil?: string
  error?: string
}

/** HistoryEntry's fields in the order every entry is given in, and what each must hold. */
const HISTORY_FIELDS: [keyof HistoryEntry, 'string' | 'time' | 'list' | 'action'][] = [
  ['time', 'time'], ['user', 'string'], ['ci', 'string'], ['environment', 'string'], ['action', 'action'], ['destination', 'string'], ['status', 'string'],
  ['keys', 'list'], ['added', 'list'], ['updated', 'list'], ['removed', 'list'], ['graceUntil', 'time'], ['error', 'string'],
]

/**
 * A line of the history as an entry, or undefined for one that is not (skipped like a torn
 * line): every field of its type — times real dates (a forged "zzz" or 2026-02-30 would reach
 * date arithmetic), normalized to ISO in UTC so they sort and compare as text; lists of names;
 * actions this version knows. Unknown fields are dropped; a missing user is "unknown" and a
 * missing action a push, as older versions wrote them (an entry needs a time, an environment and
 * an action or destination).
 */
function historyEntry(v: unknown): HistoryEntry | undefined {
  if (!isObject(v)) return undefined
  const raw: Record<string, unknown> = {user: 'unknown', ...v}
  const out: Record<string, unknown> = {}
  for (const [field, kind] of HISTORY_FIELDS) {
    const x = field === 'action' ? (raw.action ?? (raw.destination === undefined ? undefined : 'push')) : raw[field]
    if (x === undefined) continue
    if (kind === 'list' ? !Array.isArray(x) || !x.every((k) => typeof k === 'string') : typeof x !== 'string') return undefined
    if (kind === 'action' && !(HISTORY_ACTIONS as readonly string[]).includes(x as string)) return undefined
    if (kind === 'time') {
      const t = parseIsoDate(x as string)
      if (!t) return undefined
      out[field] = t.toISOString()
    } else out[field] = x
  }
  if (out.time === undefined || out.environment === undefined || (out.destination === undefined && out.action === undefined)) return undefined
  return out as unknown as HistoryEntry
}

/** What a push says about .envsync/ afterwards (see gitNote). */
export interface StateNote {
  /** Paths git reports changed (git status names them from the repository root). */
  changed: string[]
  message: string
}

/** Per destination, per key: by fingerprint key id, the fingerprint of what that key's machine last pushed (undefined: unknown). */
type Owned = Map<string, string | undefined>
type Records = Map<string, Map<string, Owned>>

const GIT_FILES = {
  '.gitignore': '# envsync: this machine\'s own files (fingerprint key, locks) stay out of git; the rest is committed\nlocal/\nkey\nownership.lock\n.*.tmp\n',
  '.gitattributes': '# envsync: two clones\' records merge line by line (git\'s built-in union driver)\nownership.tsv merge=union\nhistory.jsonl merge=union\n',
}

const HEADER = '# envsync ownership: destination, key, fingerprint key id, keyed fingerprint of the value that key\'s machine last pushed (never values); - when unknown'

/** A short id of a fingerprint key, so fingerprints made under another key are never compared. */
const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8)

/** Fields are tab-separated: a tab, newline or % inside one is written %-escaped. */
const escapeField = (s: string) => s.replace(/[%\t\n\r]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
const unescapeField = (s: string) => s.replace(/%(25|09|0A|0D)/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
/** Code-point order, the same on every machine (a committed file must not churn by locale). */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function formatOwnership(records: Records): string {
  const lines: string[] = []
  for (const id of [...records.keys()].sort(byCodePoint)) {
    const record = records.get(id)!
    for (const k of [...record.keys()].sort(byCodePoint)) {
      // An unknown fingerprint is written as none: that machine writes the value once more.
      const known = [...record.get(k)!].filter((e): e is [string, string] => e[1] !== undefined).sort(([a], [b]) => byCodePoint(a, b))
      for (const [kid, fp] of known.length > 0 ? known : [['-', '-']]) lines.push([id, k, kid, fp].map(escapeField).join('\t'))
    }
  }
  return [HEADER, ...lines].join('\n') + '\n'
}

/**
 * ownership.tsv into records. A key listed twice under one key id with different fingerprints
 * (two pushes' lines kept by a union merge) is owned with that fingerprint unknown: pushed state
 * is never guessed. Conflict markers (a merge without the attributes) are refused: keys on either side
 * may be missing.
 */
function parseOwnership(file: string, text: string, records: Records): void {
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    if (/^(<{7}|={7}|>{7}|\|{7})(\s|$)/.test(line)) {
      throw new EnvsyncError(`${displayPath(file)}:${i + 1} has a merge conflict: envsync cannot tell which keys it owns`, {
        code: 'STATE_CONFLICT',
        exitCode: 1,
        location: {file: displayPath(file), line: i + 1},
        suggestion: `keep the lines of both sides (delete only the <<<<<<<, ======= and >>>>>>> lines) and commit; .envsync/.gitattributes makes git merge it so by itself`,
      })
    }
    if (line === '' || line.startsWith('#')) continue
    const fields = line.split('\t').map(unescapeField)
    if (fields.length !== 4 || fields.slice(0, 2).some((f) => f === '')) throw corrupt(file, `line ${i + 1} is not a destination, a key, a key id and a fingerprint`, i + 1)
    const [id, key, kid, fp] = fields
    const record = records.get(id) ?? new Map<string, Owned>()
    records.set(id, record)
    const fps = record.get(key) ?? new Map<string, string | undefined>()
    record.set(key, fps)
    if (fp === '-' || kid === '-') continue
    fps.set(kid, fps.has(kid) && fps.get(kid) !== fp ? undefined : fp)
  }
}

/** A file's text; undefined when it does not exist. */
function readText(file: string): string | undefined {
  try {
    return readFileNoFollow(file).toString('utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw stateError(file, error)
  }
}

/** An older version's file, once its content is in the new layout. */
function removeOld(file: string): void {
  try {
    unlinkSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(file, error)
  }
}

/** Projects found outside a git work tree, and who pushes from each: asked of git once per process (a library caller pushes many times). */
const outsideGit = new Set<string>()
const identities = new Map<string, {user: string; ci?: string}>()

/** Who made a change: git's identity where set (what teammates know each other by), else the OS user; and the CI job's. */
function identity(root: string): {user: string; ci?: string} {
  const known = identities.get(root)
  if (known) return known
  const config = (k: string) => {
    const r = spawnSync('git', ['-C', root, 'config', '--get', k], {encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore']})
    return r.status === 0 ? r.stdout.trim() : ''
  }
  const name = config('user.name')
  const email = config('user.email')
  const user = name && email ? `${name} <${email}>` : name || email || osUser()
  const ci = ciIdentity(process.env)
  const who = ci ? {user, ci} : {user}
  identities.set(root, who)
  return who
}

/** The OS account; a container's uid without a passwd entry has none (userInfo throws), its shell may still say. */
function osUser(): string {
  try {
    return os.userInfo().username
  } catch {
    return process.env.USER || process.env.LOGNAME || process.env.USERNAME || 'unknown'
  }
}

/**
 * The CI job's identity: the provider, and who started the job where it says (a runner's git and
 * OS users are the image's, the same for everyone). A re-run is its re-runner's (GitHub's
 * triggering actor). Unknown providers that set CI are `ci`.
 */
export function ciIdentity(e: NodeJS.ProcessEnv): string | undefined {
  const who = (provider: string, ...names: (string | undefined)[]) => {
    const name = names.map((n) => n?.trim()).find(Boolean)
    return name ? `${provider}:${name.slice(0, 100)}` : provider
  }
  if (e.GITHUB_ACTIONS === 'true') return who('github', e.GITHUB_TRIGGERING_ACTOR, e.GITHUB_ACTOR)
  if (e.GITLAB_CI) return who('gitlab', e.GITLAB_USER_LOGIN, e.GITLAB_USER_EMAIL)
  if (e.BUILDKITE === 'true') return who('buildkite', e.BUILDKITE_BUILD_CREATOR_EMAIL, e.BUILDKITE_BUILD_CREATOR)
  if (e.CIRCLECI === 'true') return who('circleci', e.CIRCLE_USERNAME)
  // BUILD_USER_ID: the build-user-vars plugin; CHANGE_AUTHOR: a multibranch pull request's author.
  if (e.JENKINS_URL) return who('jenkins', e.BUILD_USER_ID, e.CHANGE_AUTHOR)
  if (e.TF_BUILD?.toLowerCase() === 'true') return who('azure', e.BUILD_REQUESTEDFOREMAIL, e.BUILD_REQUESTEDFOR)
  if (e.BITBUCKET_BUILD_NUMBER) return who('bitbucket', e.BITBUCKET_STEP_TRIGGERER_UUID)
  if (e.TRAVIS === 'true') return 'travis'
  return e.CI && e.CI !== 'false' && e.CI !== '0' ? 'ci' : undefined
}

interface OldRecord {
  keys: string[]
  pushed?: Record<string, string>
}

/**
 * Records written before ids were relative name the Docker directory by its absolute path
 * (`docker:/home/me/shop/secrets/staging`): while the checkout is where it was, such a record is
 * the relative id's (`docker:secrets/staging`), merged with any record already under it, and the
 * next write saves it so. A path outside the project is left as it is.
 */
function migrateIds(root: string, records: Map<string, OldRecord>): Map<string, OldRecord> {
  const out = new Map<string, OldRecord>()
  for (const [id, record] of records) {
    const m = /^docker:(.*)$/s.exec(id)
    const now = m && path.isAbsolute(m[1]) ? `docker:${projectPath(root, m[1])}` : id
    const other = out.get(now)
    out.set(now, other ? {keys: [...new Set([...other.keys, ...record.keys])], pushed: {...record.pushed, ...other.pushed}} : record)
  }
  return out
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string')
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** An older version's ownership.json, or a clear error: a record read as empty would forget keys envsync wrote. */
function parseOldOwnership(file: string, text: string): Map<string, OldRecord> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw corrupt(file, `not valid JSON (${(error as Error).message})`)
  }
  if (!isObject(doc) || doc.version !== 1 || !isObject(doc.destinations)) throw corrupt(file, 'not an envsync ownership record (version 1 with destinations)')
  const out = new Map<string, OldRecord>()
  for (const [id, r] of Object.entries(doc.destinations)) {
    const pushed = isObject(r) ? r.pushed : undefined
    if (!isObject(r) || !isStrings(r.keys) || (pushed !== undefined && (!isObject(pushed) || !Object.values(pushed).every((v) => typeof v === 'string')))) {
      throw corrupt(file, `the record of ${id} is not a list of keys with fingerprints`)
    }
    out.set(id, {keys: r.keys, pushed: pushed as Record<string, string> | undefined})
  }
  return out
}

function corrupt(file: string, why: string, line?: number): EnvsyncError {
  return new EnvsyncError(`${displayPath(file)}${line ? `:${line}` : ''} is damaged: ${why}; envsync cannot tell which keys it owns`, {
    code: 'STATE_CORRUPT',
    exitCode: 1,
    location: {file: displayPath(file), ...(line ? {line} : {})},
    suggestion: `restore it (from git or another checkout), or delete it: keys envsync wrote on Railway and Render are then unmanaged (left alone; remove them with --prune)`,
  })
}

function checkKey(file: string, key: Buffer): Buffer {
  if (key.length !== 32) {
    throw new EnvsyncError(`${displayPath(file)} is damaged: the fingerprint key is ${key.length} bytes, not 32`, {
      code: 'STATE_CORRUPT',
      exitCode: 1,
      location: {file: displayPath(file)},
      suggestion: `delete ${displayPath(file)}: a new key is made on the next run (sealed Railway values are then pushed once more)`,
    })
  }
  return key
}

/** A state file that cannot be read or written: named, with what to do. */
function stateError(file: string, error: unknown): EnvsyncError {
  if (error instanceof EnvsyncError) return error
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
  if (code === 'ELOOP') return symlinkRefused(file)
  return new EnvsyncError(`cannot use ${displayPath(file)}: ${code}`, {
    code: 'STATE_UNWRITABLE',
    exitCode: 1,
    location: {file: displayPath(file)},
    suggestion: `make ${displayPath(path.dirname(file))} writable (and free some space): envsync keeps its ownership record and change history there`,
  })
}
