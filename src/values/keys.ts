import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError, ExitCode} from '../errors.js'
import {gitStatus} from '../check/git.js'
import {makeDir, writeFileAtomic} from '../files.js'
import {writeRecipients} from '../manifest/edit-recipients.js'
import type {Manifest} from '../manifest/manifest.js'
import {didYouMean} from '../manifest/suggest.js'
import {homePath} from '../paths.js'
import {registerSecret} from '../redact.js'
import {plural} from '../words.js'
import {generateIdentity, isRecipient} from './age.js'
import {reencryptedText} from './encrypted.js'
import {identityFile, loadIdentities} from './identity.js'
import {readStore, writeText} from './store.js'

/** `envsync keys …`: this machine's identity and each environment's recipients. */

export interface GeneratedKey {
  /** Where the identity file is, as a person types it (~/…). */
  file: string
  recipient: string
}

/** Creates this machine's identity file (0600, age-keygen's format); never overwrites one. */
export async function generateKeyFile(): Promise<GeneratedKey> {
  const file = identityFile()
  if (existsSync(file)) {
    throw new EnvsyncError(`an age identity file already exists at ${homePath(file)}; envsync never overwrites a private key`, {
      code: 'IDENTITY_EXISTS',
      suggestion: 'see its recipient with `envsync keys list`, or point ENVSYNC_AGE_KEY_FILE at another file',
    })
  }
  const {secretKey, recipient} = await generateIdentity()
  registerSecret(secretKey)
  makeDir(path.dirname(file))
  writeFileAtomic(file, `# created: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n# public key: ${recipient}\n${secretKey}\n`, 0o600)
  return {file: homePath(file), recipient}
}

export interface RecipientsChange {
  environment: string
  file: string
  recipients: string[]
  added: string[]
  removed: string[]
  /** Keys whose values were re-encrypted. */
  reencrypted: number
  /** The plain store became an encrypted one. */
  converted: boolean
  /** A line added to .gitignore so the file can be committed. */
  gitignore?: string
  /** Still ignored by git after all (a pattern envsync could not undo): say how to commit it. */
  stillIgnored?: boolean
}

function checkRecipient(r: string): void {
  if (isRecipient(r)) return
  throw new EnvsyncError(`"${r.slice(0, 80)}" is not an age X25519 recipient`, {
    code: 'RECIPIENT_INVALID',
    suggestion: r.startsWith('AGE-SECRET-KEY-') ? 'that is a private key: keep it secret, and pass its public recipient (age1…) instead' : 'a recipient is age1… as `envsync keys generate` or `age-keygen` prints it',
  })
}

/**
 * Adds recipients and re-encrypts every value to the new set: the values file first (atomic),
 * then the manifest. A plain store is converted: its values are encrypted in place.
 */
export async function addRecipients(manifest: Manifest, env: string, add: string[]): Promise<RecipientsChange> {
  for (const r of add) checkRecipient(r)
  const current = manifest.environment(env).store?.encrypted?.recipients ?? []
  const added = [...new Set(add)].filter((r) => !current.includes(r))
  return change(manifest, env, [...current, ...added], added, [])
}

/** Removes a recipient and re-encrypts every value without it. The last one stays. */
export async function removeRecipient(manifest: Manifest, env: string, recipient: string): Promise<RecipientsChange> {
  const current = manifest.environment(env).store?.encrypted?.recipients
  if (!current) {
    throw new EnvsyncError(`${env}'s values are not encrypted: there are no recipients to remove`, {code: 'STORE_PLAIN', suggestion: `\`envsync keys add ${env} age1…\` encrypts them`})
  }
  if (!current.includes(recipient)) {
    throw new EnvsyncError(`${recipient.slice(0, 80)} is not a recipient of ${env}`, {
      code: 'RECIPIENT_UNKNOWN',
      suggestion: didYouMean(recipient, current) ?? `its recipients: ${current.join(', ')}`,
    })
  }
  if (current.length === 1) {
    throw new EnvsyncError(`${recipient} is ${env}'s only recipient: without it no one could read the values`, {
      code: 'RECIPIENT_LAST',
      suggestion: `add the new one first (\`envsync keys add ${env} age1…\`), then remove this one`,
    })
  }
  return change(manifest, env, current.filter((r) => r !== recipient), [], [recipient])
}

async function change(manifest: Manifest, env: string, recipients: string[], added: string[], removed: string[]): Promise<RecipientsChange> {
  // Reading decrypts: only someone who can read the values may hand them to another key.
  const store = await readStore(manifest, env)
  const converted = !store.encryption
  store.encryption = {env, recipients, projectDir: manifest.dir}
  const result: RecipientsChange = {environment: env, file: store.display, recipients, added, removed, reencrypted: store.values.size, converted}
  if (added.length === 0 && removed.length === 0) return {...result, reencrypted: 0}
  writeText(store, await reencryptedText(store, recipients))
  try {
    writeRecipients(manifest, env, added, removed)
  } catch (error) {
    throw new EnvsyncError(`${store.display} is now encrypted to ${plural(recipients.length, 'recipient')}, but the manifest could not be updated: ${(error as Error).message}`, {
      code: 'MANIFEST_WRITE',
      exitCode: ExitCode.failed,
      suggestion: `set environments.${env}.store.encrypted.recipients to: ${recipients.join(', ')}`,
    })
  }
  return {...result, ...unignore(manifest, store.file)}
}

/** init ignores `.env.*`: an encrypted file must be committed, so it gets a `!` line of its own. */
function unignore(manifest: Manifest, file: string): Pick<RecipientsChange, 'gitignore' | 'stillIgnored'> {
  const git = gitStatus(file)
  if (!git.inRepo || !git.ignored || git.inIndex) return {}
  const ignoreFile = path.join(manifest.dir, '.gitignore')
  const line = `!/${path.relative(manifest.dir, file).split(path.sep).join('/')}`
  const text = existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : ''
  const sep = text === '' || text.endsWith('\n') ? '' : '\n'
  writeFileAtomic(ignoreFile, `${text}${sep}# envsync: encrypted values are committed\n${line}\n`, 0o644)
  return {gitignore: line, stillIgnored: gitStatus(file).ignored}
}

export interface EnvironmentRecipients {
  environment: string
  encrypted: boolean
  recipients: {recipient: string; yours: boolean}[]
}

export interface KeyList {
  /** Your recipients (from your identities), and where they came from. */
  yours: string[]
  source?: string
  /** Why your identities could not be read, if they could not. */
  problem?: string
  environments: EnvironmentRecipients[]
}

export async function listRecipients(manifest: Manifest, env?: string): Promise<KeyList> {
  const names = env === undefined ? manifest.environmentNames : (manifest.environment(env), [env])
  let yours: string[] = []
  let source: string | undefined
  let problem: string | undefined
  try {
    const found = await loadIdentities(manifest.dir)
    yours = found.identities.map((i) => i.recipient)
    source = found.source
  } catch (error) {
    problem = (error as Error).message
  }
  return {
    yours,
    source,
    problem,
    environments: names.map((name) => {
      const recipients = manifest.environment(name).store?.encrypted?.recipients
      return {environment: name, encrypted: recipients !== undefined, recipients: (recipients ?? []).map((r) => ({recipient: r, yours: yours.includes(r)}))}
    }),
  }
}
