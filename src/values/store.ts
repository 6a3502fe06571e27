import {readFileSync, statSync} from 'node:fs'

import {EnvsyncError} from '../errors.js'
import {writeFileAtomic} from '../files.js'
import {displayPath} from '../paths.js'
import {Secret} from '../secret.js'
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
}

export function readValues(file: string): ValuesFile {
  const display = displayPath(file)
  let text = ''
  let exists = true
  let mode: number | undefined
  try {
    const bytes = readFileSync(file)
    if (!isUtf8(bytes)) throw notText(display)
    text = bytes.toString('utf8')
    mode = statSync(file).mode & 0o777
  } catch (error) {
    if (error instanceof EnvsyncError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') {
      throw new EnvsyncError(`cannot read ${display}: ${code}`, {code: 'VALUES_UNREADABLE', location: {file: display}, suggestion: 'check the file permissions'})
    }
    exists = false
  }
  const doc = parseEnv(text, display)
  const values = new Map([...envValues(doc)].map(([k, v]) => [k, new Secret(v)]))
  return {file, display, exists, mode, doc, values, duplicates: duplicateKeys(doc)}
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
 * half-written or wider-permission file), fsynced, then renamed over the old one.
 */
export function writeValues(current: ValuesFile, changes: Map<string, string | null>): void {
  const text = applyChanges(current.doc, changes, current.display)
  writeFileAtomic(current.file, text)
}
