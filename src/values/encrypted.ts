import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

import {EnvsyncError} from '../errors.js'
import {redact, registerSecret} from '../redact.js'
import {Secret} from '../secret.js'
import {plural} from '../words.js'
import {AgeError, decrypterFor, encrypterFor, type AgeIdentity} from './age.js'
import {applyChanges, type EnvEntry} from './dotenv.js'
import {loadIdentities} from './identity.js'
import type {ValuesFile} from './store.js'

/**
 * An encrypted store: the environment's dotenv file, committed, each value its own age file, so a
 * git diff shows which keys changed and never a value. A header carries the store's fingerprint
 * key, encrypted to the same recipients (every machine that can read the values computes the same
 * fingerprints), and the recipients the file is encrypted to.
 *
 * Anyone can encrypt to a public recipient, so age alone does not say who wrote a line. Every value
 * line is therefore `KEY=age:<base64>;tag:<base64url>`: an HMAC under the fingerprint key (only
 * recipients can decrypt it) over the key name, the ciphertext and the value. A line swapped with
 * another key's, copied from another store, or injected by someone without the key fails its tag;
 * so does every line when the header is replaced (the tags cover values the replacer cannot know).
 * What stays possible: rolling one line back to an older version of the same key from git history
 * (its tag is still valid), or replacing the whole file (every line changes). Both are plain in
 * `git log -p`, which is the record of who changed what; envsync does not try to be a second one.
 */

export interface Encryption {
  env: string
  /** The manifest's recipients (age1…) for the environment. */
  recipients: string[]
  projectDir: string
  /** The recipients the file says it is encrypted to (its tagged header), when it has one. */
  fileRecipients?: string[]
}

const PREFIX = 'age:'
const TAG = ';tag:'
const KEY_HEADER = /^#envsync:fingerprint-key=(\S*)[ \t]*\r?$/m
const RECIPIENTS_HEADER = /^#envsync:recipients=([^;\s]*);tag:(\S*)[ \t]*\r?$/m

function header(env: string, keyLines: string): string {
  return [
    `# ${env} values, encrypted by envsync with age (https://age-encryption.org): safe to commit.`,
    '# Each value is encrypted on its own line to the recipients in envsync.yaml.',
    `# Read one with \`envsync get ${env} KEY\`; change them with envsync, not by hand.`,
    keyLines,
    '',
  ].join('\n')
}

/** HMAC-SHA256 (first 16 bytes) under the store's fingerprint key: binds a line to its key and its store. */
function tag(fingerprintKey: Buffer, domain: string, ...parts: (string | Buffer)[]): string {
  const mac = createHmac('sha256', fingerprintKey).update(`envsync/v1/${domain}`)
  for (const part of parts) {
    const bytes = Buffer.from(part)
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    mac.update(length).update(bytes)
  }
  return mac.digest().subarray(0, 16).toString('base64url')
}

function tagMatches(expected: string, got: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(got)
  return a.length === b.length && timingSafeEqual(a, b)
}

const recipientsLine = (key: Buffer, recipients: string[]) => `#envsync:recipients=${recipients.join(',')};tag:${tag(key, 'recipients', recipients.join(','))}`

/** The recipients a file's header says it is encrypted to (not yet verified: for messages and `keys list`). */
export function headerRecipients(text: string): string[] | undefined {
  const m = RECIPIENTS_HEADER.exec(text)
  return m ? m[1].split(',').filter(Boolean) : undefined
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length

/** The store's values, decrypted in memory. `plain` is the file as read (its values ciphertexts). */
export async function readEncrypted(plain: ValuesFile, encryption: Encryption): Promise<ValuesFile> {
  const text = plain.doc.text
  const keyLine = KEY_HEADER.exec(text)
  const store: ValuesFile = {...plain, values: new Map(), encryption: {...encryption, fileRecipients: headerRecipients(text)}}
  if (plain.doc.entries.length === 0 && !keyLine) return store
  const entries = lastEntries(plain.doc.entries)
  if (!keyLine) throw damaged(store, entries[0].key, entries[0].line, 'is in a file with no #envsync:fingerprint-key header: ' + NOT_OURS)
  const identities = await identitiesFor(store)
  const decrypt = await decrypterFor(identities.list)
  const open = async (bytes: Buffer, what: string, line: number): Promise<Buffer> => {
    let out: Uint8Array | undefined
    try {
      out = await decrypt(bytes)
    } catch (error) {
      if (error instanceof AgeError) throw damaged(store, what, line, `does not decrypt: ${error.message}`)
      throw error
    }
    if (!out) throw notARecipient(store, identities, what, line)
    return Buffer.from(out)
  }
  const keyAt = lineOf(text, keyLine.index)
  const sealedKey = keyLine[1].startsWith(PREFIX) ? strictBase64(keyLine[1].slice(PREFIX.length)) : undefined
  if (!sealedKey) throw damaged(store, 'the fingerprint key', keyAt, 'is not an age: ciphertext')
  const key = await open(sealedKey, 'the fingerprint key', keyAt)
  if (key.length !== 32) throw damaged(store, 'the fingerprint key', keyAt, 'is not 32 bytes')
  registerSecret(key.toString('base64'))
  store.fingerprintKey = key
  const recipients = RECIPIENTS_HEADER.exec(text)
  if (!recipients || !tagMatches(tag(key, 'recipients', recipients[1]), recipients[2])) {
    throw damaged(store, 'the recipients header', recipients ? lineOf(text, recipients.index) : keyAt, `is ${recipients ? 'altered' : 'missing'}: ${NOT_OURS}`)
  }
  for (const entry of entries) {
    const [sealed, got] = splitTag(entry.value)
    const bytes = sealed.startsWith(PREFIX) ? strictBase64(sealed.slice(PREFIX.length)) : undefined
    if (!bytes) throw damaged(store, entry.key, entry.line, sealed.startsWith(PREFIX) ? 'is not base64' : 'is not encrypted (a plain value in an encrypted file)')
    if (got === undefined) throw damaged(store, entry.key, entry.line, `has no tag: ${NOT_OURS}`)
    const out = await open(bytes, entry.key, entry.line)
    if (!tagMatches(tag(key, 'value', entry.key, bytes, out), got)) throw damaged(store, entry.key, entry.line, `fails its tag: ${NOT_OURS}`)
    const value = out.toString('utf8')
    if (!Buffer.from(value, 'utf8').equals(out)) throw damaged(store, entry.key, entry.line, 'does not decrypt to text')
    store.values.set(entry.key, new Secret(value))
  }
  return store
}

const NOT_OURS = "not written by a holder of this store's key: a swapped, copied or injected line"

function splitTag(value: string): [string, string | undefined] {
  const at = value.lastIndexOf(TAG)
  return at < 0 ? [value, undefined] : [value.slice(0, at), value.slice(at + TAG.length)]
}

/**
 * An age file (binary, or ASCII-armored as `age -a` writes it) decrypted in memory with this
 * machine's identities: how a file the age CLI encrypted comes in (`envsync import ENV FILE`).
 * Undefined when the bytes are not an age file.
 */
export async function decryptAgeFile(bytes: Buffer, display: string, projectDir: string): Promise<Buffer | undefined> {
  const armored = bytes.subarray(0, 64).toString('latin1').trimStart().startsWith('-----BEGIN AGE ENCRYPTED FILE-----')
  if (!armored && !bytes.subarray(0, 22).equals(Buffer.from('age-encryption.org/v1\n'))) return undefined
  const file = armored ? await dearmor(bytes.toString('latin1'), display) : bytes
  const held = await loadIdentities(projectDir)
  if (held.identities.length === 0) {
    throw new EnvsyncError(`${display} is encrypted with age; no age identity found (looked in ${held.looked.join(' and ')})`, {
      code: 'STORE_LOCKED',
      location: {file: display},
      suggestion: 'run `envsync keys generate` and have the file encrypted to your recipient, or set ENVSYNC_AGE_KEY',
    })
  }
  let out: Uint8Array | undefined
  try {
    out = await (await decrypterFor(held.identities))(file)
  } catch (error) {
    if (error instanceof AgeError) throw new EnvsyncError(`${display} does not decrypt: ${error.message}`, {code: 'IMPORT_DAMAGED', location: {file: display}, suggestion: 'encrypt it again (`age -r age1… -o FILE plain.env`)'})
    throw error
  }
  if (!out) {
    const mine = held.identities.map((i) => i.recipient)
    throw new EnvsyncError(`${display} is not encrypted to your ${mine.length === 1 ? 'identity' : 'identities'} from ${held.source} (${mine.join(', ')})`, {
      code: 'STORE_LOCKED',
      location: {file: display},
      suggestion: `ask whoever made it to encrypt it to ${mine[0]} (\`age -r ${mine[0]} …\`)`,
    })
  }
  return Buffer.from(out)
}

async function dearmor(text: string, display: string): Promise<Buffer> {
  const {armor} = await import('age-encryption')
  try {
    return Buffer.from(armor.decode(text))
  } catch (error) {
    throw new EnvsyncError(`${display} is not a valid ASCII-armored age file: ${redact((error as Error).message)}`, {code: 'IMPORT_DAMAGED', location: {file: display}, suggestion: 'armor it again with `age -a`'})
  }
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
 * Sets or removes keys. An unchanged value keeps its line (the diff shows only what changed); a
 * new or changed one is encrypted to the manifest's recipients and tagged.
 */
export async function encryptedText(store: ValuesFile, changes: Map<string, string | null>): Promise<string> {
  const seal = await sealer(store, store.encryption!.recipients, false)
  const cipher = new Map<string, string | null>()
  for (const [key, value] of changes) {
    if (value === null) cipher.set(key, null)
    else if (store.values.get(key)?.reveal() !== value || !isCiphertext(store, key)) cipher.set(key, await seal.value(key, value))
  }
  return withHeader(store, applyChanges(store.doc, cipher, store.display), seal, false)
}

/**
 * The whole file encrypted afresh to `recipients` (keys add/remove, and a plain store's
 * conversion): every value and the fingerprint key get new ciphertexts and tags. `newKey` mints
 * a new fingerprint key (a removed recipient knows the old one).
 */
export async function reencryptedText(store: ValuesFile, recipients: string[], newKey: boolean): Promise<string> {
  if (store.duplicates.length > 0) {
    const d = store.duplicates[0]
    throw new EnvsyncError(`${store.display}:${d.line}: ${d.key} is set more than once`, {
      code: 'VALUES_DUPLICATE',
      location: {file: store.display, line: d.line},
      suggestion: `keep one ${d.key}= line, then run this again (an earlier line would stay as it is)`,
    })
  }
  const seal = await sealer(store, recipients, newKey)
  const cipher = new Map<string, string>()
  for (const [key, value] of store.values) cipher.set(key, await seal.value(key, value.reveal()))
  store.encryption = {...store.encryption!, fileRecipients: recipients}
  return withHeader(store, applyChanges(store.doc, cipher, store.display), seal, true)
}

function isCiphertext(store: ValuesFile, key: string): boolean {
  const entry = lastEntries(store.doc.entries).find((e) => e.key === key)
  return entry?.value.startsWith(PREFIX) ?? false
}

interface Sealer {
  /** `age:<base64>;tag:<base64url>` for KEY's value. */
  value(key: string, value: string): Promise<string>
  /** The fingerprint key, sealed: its header line's value. */
  key(): Promise<string>
  /** The recipients header line, tagged. */
  recipients: string
}

/** Encrypts values to the recipients (one encrypter for them all) and tags them with the store's key. */
async function sealer(store: ValuesFile, recipients: string[], newKey: boolean): Promise<Sealer> {
  const encrypt = await encrypterFor(recipients)
  if (newKey || !store.fingerprintKey) store.fingerprintKey = randomBytes(32)
  const key = store.fingerprintKey
  registerSecret(key.toString('base64'))
  const seal = async (value: string | Buffer) => Buffer.from(await encrypt(value))
  return {
    async value(name, value) {
      const bytes = await seal(value)
      return `${PREFIX}${bytes.toString('base64')}${TAG}${tag(key, 'value', name, bytes, Buffer.from(value, 'utf8'))}`
    },
    key: async () => PREFIX + (await seal(key)).toString('base64'),
    recipients: recipientsLine(key, recipients),
  }
}

/** The header: kept as is when values are only set, written afresh when the file is re-encrypted or new. */
async function withHeader(store: ValuesFile, text: string, seal: Sealer, all: boolean): Promise<string> {
  const current = KEY_HEADER.exec(text)
  if (current && !all) return text
  const eol = store.doc.crlf ? '\r\n' : '\n'
  const lines = `#envsync:fingerprint-key=${await seal.key()}${eol}${seal.recipients}`
  if (current) return text.replace(new RegExp(RECIPIENTS_HEADER.source + '\\n?', 'm'), '').replace(KEY_HEADER, lines)
  const head = header(store.encryption?.env ?? 'these', lines)
  return (store.doc.crlf ? head.replace(/\n/g, '\r\n') : head) + text
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

/** No identity opens `what` (line `line`): says whose the file is, and when the manifest lists you but the file predates it. */
function notARecipient(store: ValuesFile, held: Held, what: string, line: number): EnvsyncError {
  const {env, recipients, fileRecipients} = store.encryption!
  const mine = held.list.map((i) => i.recipient)
  const listed = mine.find((r) => recipients.includes(r))
  const location = {file: store.display, line}
  if (listed && fileRecipients && !fileRecipients.includes(listed)) {
    return new EnvsyncError(`envsync.yaml lists you (${listed}), but ${store.display} was encrypted before you were added: ${what} does not open with your identity from ${held.source}`, {
      code: 'STORE_LOCKED',
      location,
      suggestion: `ask someone who can read it to run \`envsync keys add ${env} ${listed}\``,
    })
  }
  const to = fileRecipients ?? recipients
  const theirs = to.length > 0 ? to.join(', ') : 'none in the manifest'
  return new EnvsyncError(
    `${env}'s values are encrypted to ${plural(to.length, 'recipient')} (${theirs}); your ${held.list.length === 1 ? 'identity' : 'identities'} from ${held.source} (${mine.join(', ')}) ${held.list.length === 1 ? 'is' : 'are'} not among them (${what}, line ${line}, does not open)`,
    {
      code: 'STORE_LOCKED',
      location,
      suggestion: `ask a teammate to run \`envsync keys add ${env} ${mine[0]}\``,
    },
  )
}

function damaged(store: ValuesFile, what: string, line: number, why: string): EnvsyncError {
  const header = what.startsWith('the ')
  return new EnvsyncError(`${what} ${why}`, {
    code: 'STORE_DAMAGED',
    location: {file: store.display, line},
    suggestion: `restore ${store.display} from git (\`git checkout -- ${store.display}\`)${header ? '' : `, or delete line ${line} and set it again (\`envsync set ${store.encryption!.env} ${what}\`)`}; nothing was written`,
  })
}
