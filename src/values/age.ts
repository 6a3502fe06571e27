import {createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, timingSafeEqual, type KeyObject} from 'node:crypto'

/**
 * The age v1 file format (https://age-encryption.org/v1) for X25519 recipients, on node:crypto's
 * X25519, HKDF-SHA256, HMAC-SHA256 and ChaCha20-Poly1305. Synchronous on purpose: the store seam
 * (readStore/writeStore) is synchronous, and the npm `age-encryption` library is async only
 * (WebCrypto). Files are interchangeable with the `age` CLI both ways (tested against it).
 */

const INTRO = 'age-encryption.org/v1\n'
const X25519_INFO = Buffer.from('age-encryption.org/v1/X25519')
const CHUNK = 64 * 1024
const TAG = 16
const RECIPIENT_HRP = 'age'
const IDENTITY_HRP = 'age-secret-key-'
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** Why a file could not be read: not for the identities given, or damaged (names no value). */
export class AgeError extends Error {}

export interface AgeIdentity {
  /** Its public recipient, age1…. */
  recipient: string
  key: KeyObject
  publicKey: Buffer
}

/** The 32-byte X25519 public key of an age1… recipient, or undefined when it is not one. */
export function parseRecipient(text: string): Buffer | undefined {
  return decodeBech32(text, RECIPIENT_HRP)
}

export function isRecipient(text: string): boolean {
  return parseRecipient(text) !== undefined
}

/** An AGE-SECRET-KEY-1… line as an identity, or undefined when it is not one. */
export function parseIdentity(text: string): AgeIdentity | undefined {
  const scalar = decodeBech32(text.toLowerCase(), IDENTITY_HRP)
  if (!scalar || text !== text.toUpperCase()) return undefined
  const key = createPrivateKey({key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8'})
  const publicKey = rawPublic(createPublicKey(key))
  return {recipient: encodeBech32(RECIPIENT_HRP, publicKey), key, publicKey}
}

/** A new identity: its secret key line (AGE-SECRET-KEY-1…) and public recipient. */
export function generateIdentity(): {secretKey: string; recipient: string} {
  const {privateKey, publicKey} = generateKeyPairSync('x25519')
  const scalar = privateKey.export({format: 'der', type: 'pkcs8'}).subarray(PKCS8_X25519.length)
  return {
    secretKey: encodeBech32(IDENTITY_HRP, scalar).toUpperCase(),
    recipient: encodeBech32(RECIPIENT_HRP, rawPublic(publicKey)),
  }
}

/*
 * Bech32 (BIP 173), the encoding of age's keys: here, not from a library, because the manifest
 * schema validates recipients on every load and this costs nothing to import.
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

function convertBits(data: number[], from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0
  let bits = 0
  const out: number[] = []
  const max = (1 << to) - 1
  for (const v of data) {
    acc = ((acc << from) | v) & 0xffff
    bits += from
    while (bits >= to) {
      bits -= to
      out.push((acc >> bits) & max)
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max)
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) return undefined
  return out
}

function encodeBech32(hrp: string, bytes: Buffer): string {
  const words = convertBits([...bytes], 8, 5, true)!
  const mod = polymod([...expandHrp(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31)
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`
}

/** The 32 bytes a lowercase bech32 string of `hrp` carries, or undefined (bad checksum, length, case). */
function decodeBech32(text: string, hrp: string): Buffer | undefined {
  if (!text.startsWith(`${hrp}1`) || text.length > 100) return undefined
  const data = [...text.slice(hrp.length + 1)].map((c) => CHARSET.indexOf(c))
  if (data.length < 6 || data.includes(-1) || polymod([...expandHrp(hrp), ...data]) !== 1) return undefined
  const bytes = convertBits(data.slice(0, -6), 5, 8, false)
  return bytes?.length === 32 ? Buffer.from(bytes) : undefined
}

// JWK, not DER: importing a key from JWK is several times faster, and each value has its own share.
function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({format: 'jwk'}).x!, 'base64url')
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({key: {kty: 'OKP', crv: 'X25519', x: raw.toString('base64url')}, format: 'jwk'})
}

const hkdf = (ikm: Buffer, salt: Buffer, info: string | Buffer, length = 32) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length))

function seal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, {authTagLength: TAG})
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()])
}

function open(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG) return undefined
  const d = createDecipheriv('chacha20-poly1305', key, nonce, {authTagLength: TAG})
  d.setAuthTag(sealed.subarray(sealed.length - TAG))
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()])
  } catch {
    return undefined
  }
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '')

/** Canonical unpadded base64 only, as age requires. */
function unb64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  return b64(bytes) === text ? bytes : undefined
}

function streamNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12)
  nonce.writeUIntBE(counter, 5, 6)
  nonce[11] = last ? 1 : 0
  return nonce
}

/** Encrypts bytes to X25519 recipients (raw 32-byte public keys) as one binary age file. */
export function encrypt(plain: Buffer, recipients: Buffer[]): Buffer {
  const fileKey = randomBytes(16)
  let header = INTRO
  for (const recipient of recipients) {
    const {privateKey, publicKey} = generateKeyPairSync('x25519')
    const share = rawPublic(publicKey)
    const shared = diffieHellman({privateKey, publicKey: publicKeyObject(recipient)})
    const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_INFO)
    header += `-> X25519 ${b64(share)}\n${b64(seal(wrapKey, Buffer.alloc(12), fileKey))}\n`
  }
  header += '---'
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(header).digest()
  const nonce = randomBytes(16)
  const payloadKey = hkdf(fileKey, nonce, 'payload')
  const chunks: Buffer[] = [Buffer.from(`${header} ${b64(mac)}\n`), nonce]
  const count = Math.max(1, Math.ceil(plain.length / CHUNK))
  for (let i = 0; i < count; i++) chunks.push(seal(payloadKey, streamNonce(i, i === count - 1), plain.subarray(i * CHUNK, (i + 1) * CHUNK)))
  return Buffer.concat(chunks)
}

interface Stanza {
  type: string
  args: string[]
  body: Buffer
}

function parseHeader(file: Buffer): {stanzas: Stanza[]; macInput: string; mac: Buffer; payload: Buffer} {
  const damaged = (why: string) => new AgeError(why)
  let at = 0
  const line = (): string => {
    const end = file.indexOf(0x0a, at)
    if (end === -1) throw damaged('the age header is truncated')
    const text = file.subarray(at, end).toString('latin1')
    at = end + 1
    return text
  }
  if (line() + '\n' !== INTRO) throw damaged('not an age v1 file')
  const stanzas: Stanza[] = []
  for (;;) {
    const start = at
    const next = line()
    if (next.startsWith('--- ')) {
      const mac = unb64(next.slice(4))
      if (!mac || mac.length !== 32) throw damaged('the age header MAC is malformed')
      return {stanzas, macInput: file.subarray(0, start + 3).toString('latin1'), mac, payload: file.subarray(at)}
    }
    const [arrow, type, ...args] = next.split(' ')
    if (arrow !== '->' || !type) throw damaged('the age header is malformed')
    const body: Buffer[] = []
    for (;;) {
      const text = line()
      const bytes = unb64(text)
      if (!bytes || text.length > 64) throw damaged('an age stanza is malformed')
      body.push(bytes)
      if (text.length < 64) break
    }
    stanzas.push({type, args, body: Buffer.concat(body)})
  }
}

function unwrap(stanzas: Stanza[], identity: AgeIdentity): Buffer | undefined {
  for (const s of stanzas) {
    if (s.type !== 'X25519') continue
    const share = s.args.length === 1 ? unb64(s.args[0]) : undefined
    if (!share || share.length !== 32 || s.body.length !== 32) throw new AgeError('an X25519 stanza is malformed')
    let shared: Buffer
    try {
      shared = diffieHellman({privateKey: identity.key, publicKey: publicKeyObject(share)})
    } catch {
      throw new AgeError('an X25519 stanza has a low-order share')
    }
    if (shared.every((b) => b === 0)) throw new AgeError('an X25519 stanza has a low-order share')
    const fileKey = open(hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_INFO), Buffer.alloc(12), s.body)
    if (fileKey) return fileKey
  }
  return undefined
}

/**
 * Decrypts one binary age file. Undefined: none of the identities is a recipient of it.
 * Throws AgeError when it is damaged (tampered, truncated, not age).
 */
export function decrypt(file: Buffer, identities: AgeIdentity[]): Buffer | undefined {
  const {stanzas, macInput, mac, payload} = parseHeader(file)
  let fileKey: Buffer | undefined
  for (const identity of identities) if ((fileKey = unwrap(stanzas, identity))) break
  if (!fileKey) return undefined
  const expected = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(macInput, 'latin1').digest()
  if (!timingSafeEqual(expected, mac)) throw new AgeError('the age header does not authenticate')
  if (payload.length < 16 + TAG) throw new AgeError('the age payload is truncated')
  const payloadKey = hkdf(fileKey, payload.subarray(0, 16), 'payload')
  const body = payload.subarray(16)
  const out: Buffer[] = []
  for (let i = 0, at = 0; ; i++, at += CHUNK + TAG) {
    const last = at + CHUNK + TAG >= body.length
    const sealed = body.subarray(at, at + CHUNK + TAG)
    const plain = open(payloadKey, streamNonce(i, last), sealed)
    if (!plain) throw new AgeError('the age payload does not authenticate')
    if (last && plain.length === 0 && i > 0) throw new AgeError('the age payload ends with an empty chunk')
    out.push(plain)
    if (last) return Buffer.concat(out)
  }
}
