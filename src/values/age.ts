import {createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject} from 'node:crypto'

import type {Identity, Recipient, Stanza} from 'age-encryption'

import {redact} from '../redact.js'

/**
 * age (https://age-encryption.org/v1) through the `age-encryption` library: it writes, parses and
 * authenticates the header and encrypts/decrypts the payload. Loaded on first use only, so
 * commands that never touch an encrypted store do not pay for importing it.
 *
 * Only the X25519 recipient stanza (wrapping the 16-byte file key) is ours, on node:crypto, handed
 * to the library through its Identity/Recipient interfaces: the library's own X25519 is pure JS
 * and made reading or writing 1,000 values several times slower (bench/age.js).
 */

type Age = typeof import('age-encryption')
let library: Promise<Age> | undefined
const age = (): Promise<Age> => (library ??= import('age-encryption'))

/** Why a value could not be read: the file is damaged (tampered, truncated, not age). Names no value. */
export class AgeError extends Error {}

const X25519_INFO = Buffer.from('age-encryption.org/v1/X25519')
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** One of this machine's identities: its public recipient (age1…) and the stanza unwrap. */
export interface AgeIdentity extends Identity {
  recipient: string
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null
}

/** An age1… X25519 recipient: checked on every manifest load, without loading the library. */
export function isRecipient(text: string): boolean {
  return decodeBech32(text, 'age') !== undefined
}

/** An AGE-SECRET-KEY-1… line as an identity, or undefined when it is not one. */
export async function parseIdentity(text: string): Promise<AgeIdentity | undefined> {
  const scalar = decodeBech32(text.toLowerCase(), 'age-secret-key-')
  if (!scalar || text !== text.toUpperCase()) return undefined
  const recipient = await (await age()).identityToRecipient(text)
  return new X25519Identity(recipient, createPrivateKey({key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8'}))
}

/** A new identity: its secret key line (AGE-SECRET-KEY-1…) and public recipient. */
export async function generateIdentity(): Promise<{secretKey: string; recipient: string}> {
  const lib = await age()
  const secretKey = await lib.generateX25519Identity()
  return {secretKey, recipient: await lib.identityToRecipient(secretKey)}
}

/** Encrypts each value given to the returned function, as one binary age file, to `recipients` (age1…). */
export async function encrypterFor(recipients: string[]): Promise<(plain: Uint8Array | string) => Promise<Uint8Array>> {
  const lib = await age()
  const encrypter = new lib.Encrypter()
  for (const r of recipients) encrypter.addRecipient(new X25519Recipient(r, lib))
  return (plain) => encrypter.encrypt(plain)
}

/**
 * Decrypts binary age files with `identities`; one Decrypter serves every value. The returned
 * function resolves undefined when no identity is a recipient, and throws AgeError when the file
 * is damaged. Calls must not overlap (the match is recorded per call).
 */
export async function decrypterFor(identities: AgeIdentity[]): Promise<(file: Uint8Array) => Promise<Uint8Array | undefined>> {
  const decrypter = new (await age()).Decrypter()
  // The library says only "no identity matched" or why the file is bad; recording whether a stanza
  // was looked at and matched tells "not yours" from "damaged" without reading its messages.
  let last: {seen: 'nothing' | 'stanzas' | 'match'} = {seen: 'nothing'}
  decrypter.addIdentity({
    unwrapFileKey(stanzas: Stanza[]) {
      last.seen = 'stanzas'
      for (const identity of identities) {
        const key = identity.unwrapFileKey(stanzas)
        if (key) {
          last.seen = 'match'
          return key
        }
      }
      return null
    },
  })
  return async (file) => {
    const call: typeof last = (last = {seen: 'nothing'})
    try {
      return await decrypter.decrypt(file)
    } catch (error) {
      if (error instanceof AgeError) throw error
      if (call.seen === 'stanzas') return undefined
      const why = redact((error as Error).message)
      throw new AgeError(call.seen === 'nothing' ? `the age header is malformed or truncated (${why})` : `it is tampered or truncated (${why})`)
    }
  }
}

/*
 * The X25519 recipient stanza, as the age spec defines it: `-> X25519 <ephemeral share>` and the
 * file key sealed with ChaCha20-Poly1305 under HKDF-SHA256(ECDH secret, share || recipient).
 */

class X25519Recipient implements Recipient {
  private readonly raw: Buffer
  private readonly key: KeyObject
  constructor(
    recipient: string,
    private readonly lib: Age,
  ) {
    this.raw = decodeBech32(recipient, 'age')!
    this.key = publicKeyObject(this.raw)
  }

  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const {privateKey, publicKey} = generateKeyPairSync('x25519')
    const share = rawPublic(publicKey)
    const wrapKey = hkdf(diffieHellman({privateKey, publicKey: this.key}), Buffer.concat([share, this.raw]))
    const c = createCipheriv('chacha20-poly1305', wrapKey, Buffer.alloc(12), {authTagLength: 16})
    return [new this.lib.Stanza(['X25519', b64(share)], Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]))]
  }
}

class X25519Identity implements AgeIdentity {
  private readonly publicKey: Buffer
  constructor(
    readonly recipient: string,
    private readonly key: KeyObject,
  ) {
    this.publicKey = decodeBech32(recipient, 'age')!
  }

  /** Throws (damaged) only for a malformed X25519 stanza, as the library's Identity contract says. */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'X25519') continue
      const share = s.args.length === 2 ? unb64(s.args[1]) : undefined
      if (!share || share.length !== 32 || s.body.length !== 32) throw new AgeError('an X25519 stanza is malformed')
      let shared: Buffer
      try {
        shared = diffieHellman({privateKey: this.key, publicKey: publicKeyObject(share)})
      } catch {
        throw new AgeError('an X25519 stanza has a low-order share')
      }
      if (shared.every((b) => b === 0)) throw new AgeError('an X25519 stanza has a low-order share')
      const d = createDecipheriv('chacha20-poly1305', hkdf(shared, Buffer.concat([share, this.publicKey])), Buffer.alloc(12), {authTagLength: 16})
      d.setAuthTag(s.body.subarray(16))
      try {
        return Buffer.concat([d.update(s.body.subarray(0, 16)), d.final()])
      } catch {
        // Another recipient's stanza: try the next.
      }
    }
    return null
  }
}

const hkdf = (secret: Buffer, salt: Buffer) => Buffer.from(hkdfSync('sha256', secret, salt, X25519_INFO, 32))

// JWK, not DER: importing a key from JWK is several times faster, and each value has its own share.
function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({format: 'jwk'}).x!, 'base64url')
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({key: {kty: 'OKP', crv: 'X25519', x: raw.toString('base64url')}, format: 'jwk'})
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '')

/** Canonical unpadded base64 only, as age requires. */
function unb64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  return b64(bytes) === text ? bytes : undefined
}

/*
 * Bech32 decoding (BIP 173) of age's keys: ours, not the library's, because the manifest schema
 * validates recipients on every load without importing the library, and the native stanza needs
 * the raw key bytes, which the library does not expose.
 */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function polymod(values: number[]): number {
  let chk = 1
  for (const v of values) {
    const top = chk >>> 25
    chk = ((chk & 0x1ffffff) << 5) ^ v
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]
  }
  return chk
}

const expandHrp = (hrp: string) => [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)]

/** 5-bit groups to bytes; undefined when the padding is not zero bits. */
function toBytes(data: number[]): number[] | undefined {
  let acc = 0
  let bits = 0
  const out: number[] = []
  for (const v of data) {
    acc = ((acc << 5) | v) & 0xffff
    bits += 5
    while (bits >= 8) {
      bits -= 8
      out.push((acc >> bits) & 0xff)
    }
  }
  return bits >= 5 || ((acc << (8 - bits)) & 0xff) !== 0 ? undefined : out
}

/** The 32 bytes a lowercase bech32 string of `hrp` carries, or undefined (bad checksum, length, case). */
function decodeBech32(text: string, hrp: string): Buffer | undefined {
  if (!text.startsWith(`${hrp}1`) || text.length > 100) return undefined
  const data = [...text.slice(hrp.length + 1)].map((c) => CHARSET.indexOf(c))
  if (data.length < 6 || data.includes(-1) || polymod([...expandHrp(hrp), ...data]) !== 1) return undefined
  const bytes = toBytes(data.slice(0, -6))
  return bytes?.length === 32 ? Buffer.from(bytes) : undefined
}
