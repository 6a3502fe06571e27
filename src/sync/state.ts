import {randomBytes} from 'node:crypto'
import {constants, closeSync, openSync, writeSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {appendFileNoFollow, lockSync, makeDir, readFileNoFollow, refuseSymlink, removeStaleTemps, symlinkRefused, writeFileAtomic} from '../files.js'
import {displayPath, projectPath} from '../paths.js'

/**
 * Local sync state beside the manifest, in .envsync/ (git-ignored):
 * - key: the HMAC key for fingerprints (random, 0600), so fingerprints of short values cannot be
 *   brute-forced by someone who sees a diff;
 * - ownership.json: which keys envsync put in each destination whose platform cannot record it
 *   itself, with a keyed fingerprint of the value last pushed (a Railway sealed variable cannot
 *   be read back; the fingerprint says whether the local value changed since) — never values.
 *   For Kubernetes and Docker, which record it themselves, only which keys are there: a
 *   reminder to visit a destination the manifest no longer feeds, to remove them.
 *   Updated per destination as its writes land (under ownership.lock), so an interrupted run
 *   forgets nothing it wrote. A file that cannot be read as such is refused, never taken as empty.
 * - audit.log: one JSON line per destination written.
 * Destinations are named by ids without absolute paths (the Docker directory relative to the
 * manifest), so moving or re-cloning the checkout keeps the records.
 * None of them is read or written through a symbolic link.
 */
export class SyncState {
  readonly dir: string
  readonly #root: string
  #records?: Map<string, OwnershipRecord>

  constructor(manifestDir: string) {
    this.#root = manifestDir
    this.dir = path.join(manifestDir, '.envsync')
  }

  fingerprintKey(): Buffer {
    const file = path.join(this.dir, 'key')
    refuseSymlink(this.dir, 'directory')
    try {
      return checkKey(file, readFileNoFollow(file))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(file, error)
    }
    this.makeDir()
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

  private makeDir(): void {
    try {
      makeDir(this.dir)
    } catch (error) {
      throw stateError(this.dir, error)
    }
  }

  private ownershipFile(): string {
    return path.join(this.dir, 'ownership.json')
  }

  private readOwnership(): Map<string, OwnershipRecord> {
    const file = this.ownershipFile()
    refuseSymlink(this.dir, 'directory')
    let text: string
    try {
      text = readFileNoFollow(file).toString('utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
      throw stateError(file, error)
    }
    return migrateIds(this.#root, parseOwnership(file, text))
  }

  /** Keys envsync put in a destination, with the keyed fingerprint of what it last pushed. */
  ownership(destinationId: string): {keys: Set<string>; pushed: Map<string, string>} {
    // Read once per run (a push asks for every destination, several times).
    this.#records ??= this.readOwnership()
    const record = this.#records.get(destinationId)
    return {keys: new Set(record?.keys ?? []), pushed: new Map(Object.entries(record?.pushed ?? {}))}
  }

  /** Records ownership for several destinations at once, under a lock (concurrent pushes). */
  recordOwnership(updates: Map<string, {keys: Set<string>; pushed: Map<string, string>}>): void {
    if (updates.size === 0) return
    this.makeDir()
    const release = lockSync(path.join(this.dir, 'ownership.lock'), displayPath(this.ownershipFile()))
    try {
      // Under the lock no other envsync writes here: temp files left by a killed run can go.
      removeStaleTemps(this.dir, {of: (name) => name === 'ownership.json'})
      const all = this.readOwnership()
      for (const [id, {keys, pushed}] of updates) {
        if (keys.size === 0) all.delete(id)
        else all.set(id, {keys: [...keys].sort(), pushed: Object.fromEntries([...pushed].filter(([k]) => keys.has(k)).sort())})
      }
      const destinations = Object.fromEntries([...all].sort(([a], [b]) => a.localeCompare(b)))
      writeFileAtomic(this.ownershipFile(), JSON.stringify({version: 1, destinations}, null, 2) + '\n')
      this.#records = all
    } finally {
      release()
    }
  }

  /**
   * The change history, oldest first: one entry per destination written (the audit log's lines).
   * Lines that are not entries are skipped: history informs, it never decides what to write.
   */
  history(): HistoryEntry[] {
    refuseSymlink(this.dir, 'directory')
    let text: string
    try {
      text = readFileNoFollow(path.join(this.dir, 'audit.log')).toString('utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw stateError(path.join(this.dir, 'audit.log'), error)
    }
    const out: HistoryEntry[] = []
    for (const line of text.split('\n')) {
      try {
        const e = JSON.parse(line) as HistoryEntry
        if (isObject(e) && typeof e.time === 'string' && typeof e.environment === 'string' && typeof e.destination === 'string') out.push(e)
      } catch {
        // a torn or foreign line
      }
    }
    return out
  }

  /** Appends lines to audit.log (never through a link). */
  audit(lines: string[]): void {
    if (lines.length === 0) return
    this.makeDir()
    appendFileNoFollow(path.join(this.dir, 'audit.log'), lines.join('\n') + '\n')
  }
}

/** One destination written by one push: who, when, which keys — never values or fingerprints. */
export interface HistoryEntry {
  time: string
  user: string
  environment: string
  destination: string
  status: 'applied' | 'failed'
  added: string[]
  updated: string[]
  removed: string[]
  error?: string
}

interface OwnershipRecord {
  keys: string[]
  pushed?: Record<string, string>
}

/**
 * Records written before ids were relative name the Docker directory by its absolute path
 * (`docker:/home/me/shop/secrets/staging`): while the checkout is where it was, such a record is
 * the relative id's (`docker:secrets/staging`), merged with any record already under it, and the
 * next write saves it so. A path outside the project is left as it is.
 */
function migrateIds(root: string, records: Map<string, OwnershipRecord>): Map<string, OwnershipRecord> {
  const out = new Map<string, OwnershipRecord>()
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

/** ownership.json as written by recordOwnership, or a clear error: a record read as empty would forget keys envsync wrote. */
function parseOwnership(file: string, text: string): Map<string, OwnershipRecord> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw corrupt(file, `not valid JSON (${(error as Error).message})`)
  }
  if (!isObject(doc) || doc.version !== 1 || !isObject(doc.destinations)) throw corrupt(file, 'not an envsync ownership record (version 1 with destinations)')
  const out = new Map<string, OwnershipRecord>()
  for (const [id, r] of Object.entries(doc.destinations)) {
    const pushed = isObject(r) ? r.pushed : undefined
    if (!isObject(r) || !isStrings(r.keys) || (pushed !== undefined && (!isObject(pushed) || !Object.values(pushed).every((v) => typeof v === 'string')))) {
      throw corrupt(file, `the record of ${id} is not a list of keys with fingerprints`)
    }
    out.set(id, {keys: r.keys, pushed: pushed as Record<string, string> | undefined})
  }
  return out
}

function corrupt(file: string, why: string): EnvsyncError {
  return new EnvsyncError(`${displayPath(file)} is damaged: ${why}; envsync cannot tell which keys it owns`, {
    code: 'STATE_CORRUPT',
    exitCode: 1,
    location: {file: displayPath(file)},
    suggestion: `restore it (from a backup or another checkout), or delete it: keys envsync wrote on Railway and Render are then unmanaged (left alone; remove them with --prune)`,
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
    suggestion: `make ${displayPath(path.dirname(file))} writable (and free some space): envsync keeps its ownership record and audit log there`,
  })
}
