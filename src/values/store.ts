import {mkdirSync} from 'node:fs'
import path from 'node:path'

import {now} from '../clock.js'
import {asEnvsyncError, EnvsyncError} from '../errors.js'
import {lockSync, refuseSymlink, removeStaleTemps, writeFileAtomic} from '../files.js'
import {readInputFile} from '../manifest/input-file.js'
import type {Manifest} from '../manifest/manifest.js'
import {displayPath} from '../paths.js'
import {Secret} from '../secret.js'
import {storePlace} from '../manifest/resolve-managers.js'
import {graceStates} from '../sync/rotation.js'
import {SyncState, type HistoryAction} from '../sync/state.js'
import {encryptedText, readEncrypted, type Encryption} from './encrypted.js'
import {readManagerStore, writeManagerStore, type RemoteStore} from './manager-store.js'
import {applyChanges, duplicateKeys, envValues, parseEnv, type EnvDocument, type EnvEntry} from './dotenv.js'

/** One environment's local values: the .env file as read, its values wrapped as secrets. */
export interface ValuesFile {
  file: string
  /** Path for messages: relative to the working directory. */
  display: string
  exists: boolean
  /** Permission bits, when the file exists. */
  mode?: number
  doc: EnvDocument
  values: Map<string, Secret>
  duplicates: EnvEntry[]
  /** The shared fingerprint key the store carries, if any (see fingerprintKeyOf). */
  fingerprintKey?: Buffer
  /** Set when the store is encrypted: `doc` then holds ciphertexts, `values` the decrypted values. */
  encryption?: Encryption
  /** Where readStore read it from, so a write can read it again under the lock. */
  origin?: {manifest: Manifest; env: string}
  /** Set when a secret manager is the store: `file` is then its place's id, `doc` empty. */
  remote?: RemoteStore
  /** When each value last changed, where the store itself says (a secret manager's version dates). */
  changed?: Map<string, Date>
}

/** What a store write is, for the change history (who, when, which keys; never values). */
export interface StoreWriteLog {
  action: Exclude<HistoryAction, 'push' | 'redeploy'>
  /** rotate: when the previous values may go. */
  graceUntil?: string
}

/**
 * The environment's store: where its values are read from and where generate, set and pull
 * write them. Every command reads and writes values through these two functions only.
 */
export async function readStore(manifest: Manifest, env: string): Promise<ValuesFile> {
  const manager = storePlace(manifest, env)
  if (manager) {
    // Previous keys in a running grace come from the platform's versions: which ones, the shared history says.
    const graces = graceStates(manifest, env, new SyncState(manifest.dir).history(), now())
    const grace = new Map([...graces.values()].filter((g) => g.active).map((g) => [g.key, g.previous]))
    return {...(await readManagerStore(manager, {grace})), origin: {manifest, env}}
  }
  const file = manifest.valuesFile(env)
  const encrypted = manifest.environment(env).store?.encrypted
  const store = encrypted ? await readEncrypted(readDocument(file), {env, recipients: encrypted.recipients, projectDir: manifest.dir}) : readValues(file)
  return {...store, origin: {manifest, env}}
}

/**
 * Whether the environment's values are in a secret manager: reading them is a network call with
 * that platform's credentials, which auditing another environment must not make.
 */
export function inSecretManager(manifest: Manifest, env: string): boolean {
  return storePlace(manifest, env) !== undefined
}

/**
 * Sets (string) or removes (null) keys in the store the values were read from. Under the
 * environment's lock the store is read again: what changed since it was read (another `set` while
 * this one waited at its prompt, a `git pull`) is kept, and only `changes` are applied over it.
 */
export async function writeStore(store: ValuesFile, changes: Map<string, string | null>, log: StoreWriteLog): Promise<void> {
  refuseNul(changes)
  if (store.remote) {
    // A secret manager keeps versions and refuses stale writes itself (Vault's check-and-set).
    await writeManagerStore(store, changes)
  } else {
    const release = store.origin ? lockSync(lockFile(store.origin.manifest, store.origin.env), `the values of ${store.origin.env}`) : undefined
    try {
      const current = await reread(store)
      if (current.encryption) writeText(current, await encryptedText(current, changes))
      else writeValues(current, changes)
    } finally {
      release?.()
    }
  }
  recordStoreWrite(store, changes, log)
}

/**
 * The write in the shared change history, once it landed: what `envsync log` shows and what due
 * dates count from. The values are written by then, so a history that cannot be written is an
 * error that says so.
 */
function recordStoreWrite(store: ValuesFile, changes: Map<string, string | null>, log: StoreWriteLog): void {
  if (!store.origin || changes.size === 0) return
  const keys = [...changes].filter(([, v]) => v !== null).map(([k]) => k)
  const removed = [...changes].filter(([, v]) => v === null).map(([k]) => k)
  try {
    new SyncState(store.origin.manifest.dir).recordHistory([
      {time: now().toISOString(), environment: store.origin.env, action: log.action, keys, ...(removed.length > 0 ? {removed} : {}), ...(log.graceUntil ? {graceUntil: log.graceUntil} : {})},
    ])
  } catch (error) {
    const e = asEnvsyncError(error)
    throw new EnvsyncError(`the values were written to ${store.display}, but the change history was not: ${e.message}`, {code: e.code, exitCode: 1, location: e.location, suggestion: e.suggestion})
  }
}

function lockFile(manifest: Manifest, env: string): string {
  const dir = path.join(manifest.dir, '.envsync', 'local')
  mkdirSync(dir, {recursive: true, mode: 0o700})
  return path.join(dir, `values-${env}.lock`)
}

/** The store as it is now: the one given when its file is unchanged since, else read afresh. */
async function reread(store: ValuesFile): Promise<ValuesFile> {
  const now = readDocument(store.file)
  if (now.exists === store.exists && now.doc.text === store.doc.text && now.doc.crlf === store.doc.crlf) return store
  return store.origin ? readStore(store.origin.manifest, store.origin.env) : readValues(store.file)
}

/** No environment variable, file or dotenv reader holds a NUL byte: refused for every writer. */
function refuseNul(changes: Map<string, string | null>): void {
  for (const [key, value] of changes) {
    if (value?.includes('\0')) throw new EnvsyncError(`the value for ${key} contains a NUL byte: no environment variable or .env file can hold one; nothing was written`, {code: 'VALUE_NUL', suggestion: 'remove the NUL byte, or base64-encode binary data first'})
  }
}

export function readValues(file: string): ValuesFile {
  const read = readDocument(file)
  read.values = new Map([...envValues(read.doc)].map(([k, v]) => [k, new Secret(v)]))
  return read
}

/** The file parsed, its values not yet read (an encrypted file's are ciphertexts). */
export function readDocument(file: string): ValuesFile {
  const display = displayPath(file)
  let text = ''
  let exists = true
  let mode: number | undefined
  // Regular files only, bounded: a FIFO or /dev/zero as the values file must not hang envsync.
  const read = readInputFile(file, 'values file')
  if (read) {
    if (!isUtf8(read.bytes)) throw notText(display)
    text = read.bytes.toString('utf8')
    mode = read.mode
  } else exists = false
  const doc = parseEnv(text, display)
  return {file, display, exists, mode, doc, values: new Map(), duplicates: duplicateKeys(doc)}
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', {fatal: true}).decode(bytes)
    return true
  } catch {
    return false
  }
}

function notText(display: string): EnvsyncError {
  return new EnvsyncError(`${display} is not a text file`, {code: 'VALUES_BINARY', location: {file: display}, suggestion: 'a values file holds KEY=value lines'})
}

/**
 * Sets (string) or removes (null) keys and writes the file atomically: a temp file created 0600
 * in the same directory (so the rename cannot cross filesystems and no reader ever sees a
 * half-written or wider-permission file), fsynced, then renamed over the old one. A values file
 * that is a symbolic link is refused, not replaced by a copy. Temp copies of this file that a
 * killed run left (they hold values) are removed once no write could still be using them.
 */
export function writeValues(current: ValuesFile, changes: Map<string, string | null>): void {
  writeText(current, applyChanges(current.doc, changes, current.display))
}

/** Replaces the store's file with `text`, atomically (see writeValues). */
export function writeText(current: ValuesFile, text: string): void {
  refuseSymlink(current.file, 'values file')
  removeStaleTemps(path.dirname(current.file), {of: (name) => name === path.basename(current.file), minAgeMs: 60_000})
  writeFileAtomic(current.file, text)
}

/**
 * The fingerprint key that travels with the store (an encrypted store carries one, encrypted to
 * its recipients), so every machine that can read the values computes the same fingerprints.
 * Undefined: the store has none, and the machine's own key is used.
 */
export function fingerprintKeyOf(store: ValuesFile): Buffer | undefined {
  return store.fingerprintKey
}
