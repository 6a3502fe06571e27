import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError, ExitCode} from '../errors.js'
import {gitStatus} from '../check/git.js'
import {makeDir, writeFileAtomic} from '../files.js'
import {writeRecipients} from '../manifest/edit-recipients.js'
import {manifestPath} from '../manifest/load.js'
import type {Manifest} from '../manifest/manifest.js'
import {didYouMean} from '../manifest/suggest.js'
import {displayPath, homePath} from '../paths.js'
import {registerSecret} from '../redact.js'
import {plural} from '../words.js'
import {generateIdentity, isRecipient} from './age.js'
import {headerRecipients, reencryptedText} from './encrypted.js'
import {identityFile, loadIdentities, refuseIdentityInProject} from './identity.js'
import {readStore, writeText} from './store.js'

/** `envsync keys …`: this machine's identity and each environment's recipients. */

export interface GeneratedKey {
  /** Where the identity file is, as a person types it (~/…). */
  file: string
  recipient: string
}

/**
 * Creates this machine's identity file (0600, age-keygen's format); never overwrites one, and,
 * run in a project, never writes one inside it (reading would refuse it: the same check).
 */
export async function generateKeyFile(): Promise<GeneratedKey> {
  const file = identityFile()
  const manifest = manifestPath()
  if (existsSync(manifest)) refuseIdentityInProject(file, path.dirname(manifest))
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
  /** The recipients the file was encrypted to, when they differed from the manifest's (added to it by hand or by a merge). */
  fileRecipients?: string[]
  /** The plain file being converted is tracked by git: its values are in the history. */
  plainInHistory?: boolean
  /** A new fingerprint key was made (a recipient was removed): sealed platform values are pushed once more. */
  newFingerprintKey?: boolean
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
  // The file may still be encrypted to a recipient taken out of envsync.yaml by hand.
  const inFile = !current?.includes(recipient) && (headerRecipients(readStoreText(manifest, env)) ?? []).includes(recipient)
  if (current && inFile) return change(manifest, env, current, [], [recipient])
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
  const fileRecipients = store.encryption?.fileRecipients
  const differs = fileRecipients !== undefined && !sameSet(fileRecipients, recipients)
  const result: RecipientsChange = {environment: env, file: store.display, recipients, added, removed, reencrypted: store.values.size, converted}
  if (differs) result.fileRecipients = fileRecipients
  if (!converted && !differs && added.length === 0 && removed.length === 0) return {...result, reencrypted: 0}
  const git = gitStatus(store.file)
  if (converted && git.inIndex) result.plainInHistory = true
  // Whoever was removed knows the old fingerprint key: a new one, so they cannot check guesses against new values.
  const gone = removed.length > 0 || (fileRecipients ?? []).some((r) => !recipients.includes(r))
  if (gone) result.newFingerprintKey = true
  store.encryption = {env, recipients, projectDir: manifest.dir, fileRecipients}
  writeText(store, await reencryptedText(store, recipients, gone))
  const inManifest = manifest.environment(env).store?.encrypted?.recipients ?? []
  const toRemove = removed.filter((r) => inManifest.includes(r))
  const toAdd = added.filter((r) => !inManifest.includes(r))
  try {
    if (toAdd.length > 0 || toRemove.length > 0 || converted) writeRecipients(manifest, env, toAdd, toRemove)
  } catch (error) {
    throw new EnvsyncError(`${store.display} is now encrypted to ${plural(recipients.length, 'recipient')}, but the manifest could not be updated: ${(error as Error).message}`, {
      code: 'MANIFEST_WRITE',
      exitCode: ExitCode.failed,
      suggestion: `set environments.${env}.store.encrypted.recipients to: ${recipients.join(', ')}`,
    })
  }
  return {...result, ...unignore(manifest, store.file)}
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((r) => b.includes(r))

/** The values file's text as it is on disk (empty when there is none): its header, without decrypting. */
function readStoreText(manifest: Manifest, env: string): string {
  const file = manifest.valuesFile(env)
  return existsSync(file) ? readFileSync(file, 'utf8') : ''
}

/** init ignores `.env.*`: an encrypted file must be committed, so it gets a `!` line of its own. */
function unignore(manifest: Manifest, file: string): Pick<RecipientsChange, 'gitignore' | 'stillIgnored'> {
  const git = gitStatus(file)
  if (!git.inRepo || !git.ignored || git.inIndex) return {}
  const ignoreFile = path.join(manifest.dir, '.gitignore')
  const line = `!/${gitignorePattern(path.relative(manifest.dir, file).split(path.sep).join('/'))}`
  const text = existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : ''
  const sep = text === '' || text.endsWith('\n') ? '' : '\n'
  writeFileAtomic(ignoreFile, `${text}${sep}# envsync: encrypted values are committed\n${line}\n`, 0o644)
  return {gitignore: line, stillIgnored: gitStatus(file).ignored}
}

/** A path as a gitignore pattern that matches only itself: glob characters and trailing spaces escaped. */
export function gitignorePattern(relative: string): string {
  return relative.replace(/[\\*?[\]!#]/g, '\\$&').replace(/ +$/, (spaces) => spaces.replace(/ /g, '\\ '))
}

export interface EnvironmentRecipients {
  environment: string
  encrypted: boolean
  recipients: {recipient: string; yours: boolean}[]
  /** The values file, and the recipients its header says it is encrypted to when they differ from the manifest's. */
  file?: string
  fileRecipients?: string[]
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
      const entry: EnvironmentRecipients = {environment: name, encrypted: recipients !== undefined, recipients: (recipients ?? []).map((r) => ({recipient: r, yours: yours.includes(r)}))}
      const inFile = recipients && headerRecipients(readStoreText(manifest, name))
      if (inFile && !sameSet(inFile, recipients)) Object.assign(entry, {file: displayPath(manifest.valuesFile(name)), fileRecipients: inFile})
      return entry
    }),
  }
}
