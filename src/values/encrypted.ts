import {randomBytes} from 'node:crypto'

import {EnvsyncError} from '../errors.js'
import {registerSecret} from '../redact.js'
import {Secret} from '../secret.js'
import {plural} from '../words.js'
import {AgeError, decrypterFor, encrypterFor, type AgeIdentity} from './age.js'
import {applyChanges, type EnvEntry} from './dotenv.js'
import {loadIdentities} from './identity.js'
import type {ValuesFile} from './store.js'

/**
 * An encrypted store: the environment's dotenv file, committed, each value its own age file
 * (`KEY=age:<base64>`), so a git diff shows which keys changed and never a value. A header line
 * carries the store's fingerprint key, encrypted to the same recipients, so every machine that
 * can read the values computes the same fingerprints.
 */

export interface Encryption {
  env: string
  /** The manifest's recipients (age1…) for the environment. */
  recipients: string[]
  projectDir: string
}

const PREFIX = 'age:'
const HEADER = /^#envsync:fingerprint-key=(\S*)[ \t]*\r?$/m

function header(env: string, fingerprintKey: string): string {
  return [
    `# ${env} values, encrypted by envsync with age (https://age-encryption.org): safe to commit.`,
    '# Each value is encrypted on its own line to the recipients in envsync.yaml.',
    `# Read one with \`envsync get ${env} KEY\`; change them with envsync, not by hand.`,
    `#envsync:fingerprint-key=${fingerprintKey}`,
    '',
  ].join('\n')
}

/** The store's values, decrypted in memory. `plain` is the file as read (its values ciphertexts). */
export async function readEncrypted(plain: ValuesFile, encryption: Encryption): Promise<ValuesFile> {
  const store: ValuesFile = {...plain, values: new Map(), encryption}
  const keyLine = HEADER.exec(plain.doc.text)
  if (plain.doc.entries.length === 0 && !keyLine) return store
  const identities = await identitiesFor(store)
  const decrypt = await decrypterFor(identities.list)
  const open = async (text: string, what: string, line: number): Promise<Buffer> => {
    const bytes = text.startsWith(PREFIX) ? strictBase64(text.slice(PREFIX.length)) : undefined
    if (!bytes) throw damaged(store, what, line, text.startsWith(PREFIX) ? 'is not base64' : 'is not encrypted (a plain value in an encrypted file)')
    let out: Uint8Array | undefined
    try {
      out = await decrypt(bytes)
    } catch (error) {
      if (error instanceof AgeError) throw damaged(store, what, line, `does not decrypt: ${error.message}`)
      throw error
    }
    if (!out) throw notARecipient(store, identities)
    return Buffer.from(out)
  }
  if (keyLine) {
    const line = plain.doc.text.slice(0, keyLine.index).split('\n').length
    store.fingerprintKey = await open(keyLine[1], 'the fingerprint key', line)
    registerSecret(store.fingerprintKey.toString('base64'))
  }
  for (const entry of lastEntries(plain.doc.entries)) {
    const bytes = await open(entry.value, entry.key, entry.line)
    const value = bytes.toString('utf8')
    if (!Buffer.from(value, 'utf8').equals(bytes)) throw damaged(store, entry.key, entry.line, 'does not decrypt to text')
    store.values.set(entry.key, new Secret(value))
  }
  return store
}

/** The last entry of each key: the one a dotenv reader takes. */
function lastEntries(entries: EnvEntry[]): EnvEntry[] {
  return [...new Map(entries.map((e) => [e.key, e])).values()]
}

function strictBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0 || text.length === 0) return undefined
  return Buffer.from(text, 'base64')
}

/**
 * Sets or removes keys. An unchanged value keeps its ciphertext (the diff shows only what
 * changed); a new or changed one is encrypted to the manifest's recipients.
 */
export async function encryptedText(store: ValuesFile, changes: Map<string, string | null>): Promise<string> {
  const seal = await sealer(store.encryption!.recipients)
  const cipher = new Map<string, string | null>()
  for (const [key, value] of changes) {
    if (value === null) cipher.set(key, null)
    else if (store.values.get(key)?.reveal() !== value || !isCiphertext(store, key)) cipher.set(key, await seal(value))
  }
  return withHeader(store, applyChanges(store.doc, cipher, store.display), seal, false)
}

/**
 * The whole file encrypted afresh to `recipients` (keys add/remove, and a plain store's
 * conversion): every value and the fingerprint key get new ciphertexts.
 */
export async function reencryptedText(store: ValuesFile, recipients: string[]): Promise<string> {
  if (store.duplicates.length > 0) {
    const d = store.duplicates[0]
    throw new EnvsyncError(`${store.display}:${d.line}: ${d.key} is set more than once`, {
      code: 'VALUES_DUPLICATE',
      location: {file: store.display, line: d.line},
      suggestion: `keep one ${d.key}= line, then run this again (an earlier line would stay as it is)`,
    })
  }
  const seal = await sealer(recipients)
  const cipher = new Map<string, string>()
  for (const [key, value] of store.values) cipher.set(key, await seal(value.reveal()))
  return withHeader(store, applyChanges(store.doc, cipher, store.display), seal, true)
}

function isCiphertext(store: ValuesFile, key: string): boolean {
  const entry = lastEntries(store.doc.entries).find((e) => e.key === key)
  return entry?.value.startsWith(PREFIX) ?? false
}

type Seal = (value: string | Buffer) => Promise<string>

/** Encrypts values (`age:<base64>`) to the recipients; one encrypter for them all. */
async function sealer(recipients: string[]): Promise<Seal> {
  const encrypt = await encrypterFor(recipients)
  return async (value) => PREFIX + Buffer.from(await encrypt(value)).toString('base64')
}

/** The header with the fingerprint key: kept as is, unless re-encrypting or there is none yet. */
async function withHeader(store: ValuesFile, text: string, seal: Seal, fresh: boolean): Promise<string> {
  const current = HEADER.exec(text)
  if (current && !fresh) return text
  const key = store.fingerprintKey ?? randomBytes(32)
  store.fingerprintKey = key
  const line = await seal(key)
  if (current) return text.replace(HEADER, `#envsync:fingerprint-key=${line}`)
  const lines = header(store.encryption?.env ?? 'these', line)
  return (store.doc.crlf ? lines.replace(/\n/g, '\r\n') : lines) + text
}

interface Held {
  list: AgeIdentity[]
  source?: string
  looked: string[]
}

async function identitiesFor(store: ValuesFile): Promise<Held> {
  const {env, projectDir} = store.encryption!
  const found = await loadIdentities(projectDir)
  if (found.identities.length === 0) {
    throw new EnvsyncError(`${env}'s values are encrypted; no age identity found (looked in ${found.looked.join(' and ')})`, {
      code: 'STORE_LOCKED',
      location: {file: store.display},
      suggestion: `run \`envsync keys generate\` and ask a teammate to add your recipient (\`envsync keys add ${env} age1…\`), or set ENVSYNC_AGE_KEY in CI`,
    })
  }
  return {list: found.identities, source: found.source, looked: found.looked}
}

function notARecipient(store: ValuesFile, held: Held): EnvsyncError {
  const {env, recipients} = store.encryption!
  const mine = held.list.map((i) => i.recipient)
  const theirs = recipients.length > 0 ? recipients.join(', ') : 'none in the manifest'
  return new EnvsyncError(
    `${env}'s values are encrypted to ${plural(recipients.length, 'recipient')} (${theirs}); your ${held.list.length === 1 ? 'identity' : 'identities'} from ${held.source} (${mine.join(', ')}) ${held.list.length === 1 ? 'is' : 'are'} not among them`,
    {
      code: 'STORE_LOCKED',
      location: {file: store.display},
      suggestion: `ask a teammate to run \`envsync keys add ${env} ${mine[0]}\``,
    },
  )
}

function damaged(store: ValuesFile, what: string, line: number, why: string): EnvsyncError {
  return new EnvsyncError(`${what} ${why}`, {
    code: 'STORE_DAMAGED',
    location: {file: store.display, line},
    suggestion: `restore ${store.display} from git (\`git checkout -- ${store.display}\`)${what === 'the fingerprint key' ? '' : `, or delete line ${line} and set it again (\`envsync set ${store.encryption!.env} ${what}\`)`}; nothing was written`,
  })
}
