import path from 'node:path'

import {runCheck} from '../check/check.js'
import {gitFindings} from '../check/git.js'
import type {Finding} from '../check/rules.js'
import {EnvsyncError} from '../errors.js'
import {readInputFile} from '../manifest/input-file.js'
import type {Manifest} from '../manifest/manifest.js'
import {displayPath} from '../paths.js'
import {KEY_PATTERN} from '../manifest/schema.js'
import {Secret} from '../secret.js'
import {proposeEntry, type Proposal} from '../sync/pull.js'
import {envValues, parseEnv} from './dotenv.js'
import {decryptAgeFile} from './encrypted.js'
import {readStore, writeStore, type ValuesFile} from './store.js'

/**
 * What import does with each key of the file: written (added, updated), left (unchanged, a
 * differing store value kept), or not imported (a manifest key of other environments only, or a
 * key the manifest does not have: proposed as a manifest entry instead).
 */
export type ImportAction = 'added' | 'updated' | 'unchanged' | 'kept-local' | 'other-environments' | 'not-in-manifest' | 'invalid-name'

export interface ImportResult {
  environment: string
  /** The file imported from, as the user named it (relative to where they are). */
  file: string
  /** The environment's store the values went to. */
  store: string
  /** `rename`: for an invalid-name key, the manifest key it could be renamed to in the file. */
  keys: {key: string; action: ImportAction; rename?: string}[]
  /** Keys the manifest does not have, with a manifest entry to paste (their values are not imported). */
  proposals: Proposal[]
  written: number
  /** Check findings about the imported values (placeholders, too short…) and about the file being in git. */
  warnings: Finding[]
}

/** The file read and compared with the store: what an import would do, before anything is written. */
export interface ImportPlan {
  result: ImportResult
  store: ValuesFile
  values: Map<string, string>
  /** Manifest keys whose store value differs from the file's: replaced only when confirmed (--overwrite). */
  differing: string[]
}

/**
 * Reads a .env file (bounded: a FIFO or /dev/zero is refused; parse errors at file:line:col) and
 * compares it with the environment's store. Reads only; the file is never modified.
 */
export async function planImport(manifest: Manifest, env: string, file: string): Promise<ImportPlan> {
  const absolute = path.resolve(file)
  const display = displayPath(absolute)
  const store = await readStore(manifest, env)
  if (absolute === store.file) {
    throw new EnvsyncError(`${display} is where ${env}'s values are kept already`, {code: 'IMPORT_SAME_FILE', suggestion: 'import a .env file from elsewhere (e.g. the one the project used before envsync)'})
  }
  const values = envValues(parseEnv(await readText(absolute, display, manifest.dir), display))
  const applies = new Set(manifest.secretsFor(env).map((s) => s.key))
  // A key the manifest does not have is for the services that keep secrets (never a browser bundle).
  const services = manifest.serviceNames.filter((s) => !manifest.isPublicService(s))
  const result: ImportResult = {environment: env, file: display, store: store.display, keys: [], proposals: [], written: 0, warnings: []}
  const differing: string[] = []
  for (const [key, value] of [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let action: ImportAction
    if (!KEY_PATTERN.test(key)) {
      // The manifest would reject an entry named so ("invalid name"): propose a name it accepts.
      result.keys.push({key, action: 'invalid-name', rename: validKeyName(key)})
      continue
    } else if (!manifest.secret(key)) {
      action = 'not-in-manifest'
      result.proposals.push(proposeEntry(key, services, `imported from ${path.basename(absolute)} (set the services that use it)`))
    } else if (!applies.has(key)) action = 'other-environments'
    else {
      const local = store.values.get(key)
      action = !local ? 'added' : local.equals(new Secret(value)) ? 'unchanged' : 'kept-local'
      if (action === 'kept-local') differing.push(key)
    }
    result.keys.push({key, action})
  }
  return {result, store, values, differing}
}

/**
 * Writes the added keys, and the differing ones when `overwrite` (one atomic write through the
 * store, whatever kind it is), then audits what was imported.
 */
export async function applyImport(manifest: Manifest, plan: ImportPlan, overwrite: boolean): Promise<ImportResult> {
  const {result, store, values} = plan
  const changes = new Map<string, string | null>()
  for (const entry of result.keys) {
    if (entry.action === 'kept-local' && overwrite) entry.action = 'updated'
    if (entry.action === 'added' || entry.action === 'updated') changes.set(entry.key, values.get(entry.key)!)
  }
  if (changes.size > 0) await writeStore(store, changes, {action: 'import'})
  result.written = changes.size
  result.warnings = [...(await importedFindings(manifest, result, changes)), ...gitFindings(path.resolve(result.file), result.file).map((f) => ({...f, severity: 'warning' as const}))]
  return result
}

/** The check rules' findings about the keys just written: a placeholder or a short value is imported, and said. */
async function importedFindings(manifest: Manifest, result: ImportResult, changes: Map<string, string | null>): Promise<Finding[]> {
  if (changes.size === 0) return []
  const check = await runCheck(manifest, result.environment)
  return check.findings.filter((f) => f.key !== undefined && changes.has(f.key) && f.rule !== 'unknown-key' && f.rule !== 'duplicate')
}

async function readText(file: string, display: string, projectDir: string): Promise<string> {
  let read
  try {
    read = readInputFile(file, 'values file')
  } catch (error) {
    // The reader's advice is about a store; this file is only read.
    if (error instanceof EnvsyncError && error.code === 'VALUES_NOT_A_FILE') {
      // No location: the message starts with the file already (else it shows twice).
      throw new EnvsyncError(error.message, {code: 'IMPORT_NOT_A_FILE', suggestion: 'import a regular .env file (KEY=value lines)'})
    }
    throw error
  }
  if (!read) throw new EnvsyncError(`no file at ${display}`, {code: 'IMPORT_NOT_FOUND', location: {file: display}, suggestion: 'name the .env file to import, e.g. `envsync import development .env`'})
  // An age-encrypted file (`age -r … -o secrets.env.age plain.env`) is decrypted in memory only.
  const bytes = (await decryptAgeFile(read.bytes, display, projectDir)) ?? read.bytes
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    throw new EnvsyncError(`${display} is not a text file`, {code: 'IMPORT_BINARY', location: {file: display}, suggestion: 'a .env file holds KEY=value lines'})
  }
}

/** A manifest key for a name it rejects: `my-key` → MY_KEY, `2fa` → _2FA. */
function validKeyName(key: string): string {
  const name = key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')
  return /^[A-Z_]/.test(name) ? name : `_${name}`
}
