import {randomBytes} from 'node:crypto'
import {closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {writeFileAtomic} from '../files.js'

/**
 * Local sync state beside the manifest, in .envsync/ (git-ignored):
 * - key: the HMAC key for fingerprints (random, 0600), so fingerprints of short values cannot be
 *   brute-forced by someone who sees a diff;
 * - ownership.json: which keys envsync put in each destination whose platform cannot record it
 *   itself, with a keyed fingerprint of the value last pushed (a Railway sealed variable cannot
 *   be read back; the fingerprint says whether the local value changed since) — never values.
 *   For Kubernetes and Docker, which record it themselves, only which keys are there: a
 *   reminder to visit a destination the manifest no longer feeds, to remove them.
 */
export class SyncState {
  readonly dir: string
  #records?: Record<string, OwnershipRecord>

  constructor(manifestDir: string) {
    this.dir = path.join(manifestDir, '.envsync')
  }

  fingerprintKey(): Buffer {
    const file = path.join(this.dir, 'key')
    try {
      return readFileSync(file)
    } catch {
      mkdirSync(this.dir, {recursive: true, mode: 0o700})
      try {
        // wx (create, never replace): of two processes racing here, the first key wins for both.
        writeFileSync(file, randomBytes(32), {flag: 'wx', mode: 0o600})
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      return readFileSync(file)
    }
  }

  private ownershipFile(): string {
    return path.join(this.dir, 'ownership.json')
  }

  private readOwnership(): Record<string, OwnershipRecord> {
    try {
      return JSON.parse(readFileSync(this.ownershipFile(), 'utf8')).destinations ?? {}
    } catch {
      return {}
    }
  }

  /** Keys envsync put in a destination, with the keyed fingerprint of what it last pushed. */
  ownership(destinationId: string): {keys: Set<string>; pushed: Map<string, string>} {
    // Read once per run (a push asks for every destination, several times).
    this.#records ??= this.readOwnership()
    const record = this.#records[destinationId]
    return {keys: new Set(record?.keys ?? []), pushed: new Map(Object.entries(record?.pushed ?? {}))}
  }

  /** Records ownership for several destinations at once, under a lock (concurrent pushes). */
  recordOwnership(updates: Map<string, {keys: Set<string>; pushed: Map<string, string>}>): void {
    if (updates.size === 0) return
    mkdirSync(this.dir, {recursive: true, mode: 0o700})
    withLock(path.join(this.dir, 'ownership.lock'), () => {
      const all = this.readOwnership()
      for (const [id, {keys, pushed}] of updates) {
        if (keys.size === 0) delete all[id]
        else all[id] = {keys: [...keys].sort(), pushed: Object.fromEntries([...pushed].filter(([k]) => keys.has(k)).sort())}
      }
      writeFileAtomic(this.ownershipFile(), JSON.stringify({version: 1, destinations: all}, null, 2) + '\n')
      this.#records = all
    })
  }
}

interface OwnershipRecord {
  keys: string[]
  pushed?: Record<string, string>
}

function withLock<T>(lock: string, fn: () => T): T {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (Date.now() > deadline) {
        throw new EnvsyncError(`another envsync process holds ${lock}`, {
          code: 'STATE_LOCKED',
          exitCode: 1,
          suggestion: 'wait for it to finish; if none is running, delete the lock file',
        })
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
    }
  }
  try {
    return fn()
  } finally {
    unlinkSync(lock)
  }
}
