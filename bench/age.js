// Encrypted store: 1,000 values encrypted and decrypted through the age-encryption library, with its
// own pure-JS X25519 stanza and with envsync's node:crypto one (src/values/age.ts), which is kept
// only while it pays clearly. One Encrypter / Decrypter for all values, as the store uses them.
import {Decrypter, Encrypter, generateX25519Identity, identityToRecipient} from 'age-encryption'

import {decrypterFor, encrypterFor, parseIdentity} from '../src/values/age.ts'

const N = Number(process.env.BENCH_VALUES ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const values = Array.from({length: N}, (_, i) => `value-${i}-${'x'.repeat(40)}`)
const secretKey = await generateX25519Identity()
const recipient = await identityToRecipient(secretKey)

async function time(f) {
  const start = performance.now()
  await f()
  return performance.now() - start
}

async function measure(encrypt, decrypt) {
  const ciphertexts = []
  const enc = await time(async () => {
    for (const v of values) ciphertexts.push(await encrypt(v))
  })
  const dec = await time(async () => {
    for (const c of ciphertexts) await decrypt(c)
  })
  return {enc, dec}
}

const library = async () => {
  const e = new Encrypter()
  e.addRecipient(recipient)
  const d = new Decrypter()
  d.addIdentity(secretKey)
  return measure((v) => e.encrypt(v), (c) => d.decrypt(c))
}
const native = async () => measure(await encrypterFor([recipient]), await decrypterFor([await parseIdentity(secretKey)]))

const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
const runs = {library: [], native: []}
for (let i = 0; i < ROUNDS; i++) {
  runs.library.push(await library())
  runs.native.push(await native())
}
for (const [name, rs] of Object.entries(runs)) {
  const label = name === 'library' ? 'library, its own X25519  ' : 'library + node:crypto stanza'
  console.log(`${label}: ${N} values encrypt ${median(rs.map((r) => r.enc)).toFixed(0)} ms, decrypt ${median(rs.map((r) => r.dec)).toFixed(0)} ms`)
}
