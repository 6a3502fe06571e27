import {readFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'
import fc from 'fast-check'

import {loadManifest} from '../../src/manifest/load.js'
import type {Manifest} from '../../src/manifest/manifest.js'
import {applySync, planSync} from '../../src/sync/sync.js'
import {DockerTarget, envFileValue, type DockerConfig} from '../../src/targets/docker.js'
import type {Destination} from '../../src/targets/target.js'
import {encodeValue} from '../../src/values/dotenv.js'
import {readValues} from '../../src/values/store.js'
import {DockerProject} from './support.js'
import {placeholderKind} from '../../src/check/placeholder.js'

/**
 * Byte-exact values, property-tested: values file (written by src/values/store.ts) → push to
 * Docker (planSync/applySync, in-process) → read back by the adapter and from the files → the
 * same value. Sensitive keys land in files (compared byte for byte), config keys in env files
 * (compared with the dotenv package, the reader containers and tools use).
 */

const KEYS = {
  S_ONE: {services: ['backend']},
  S_SHARED: {services: ['backend', 'worker']},
  C_ONE: {services: ['backend'], sensitive: false},
  C_SHARED: {services: ['backend', 'worker'], sensitive: false},
}
type Key = keyof typeof KEYS
type Values = Record<Key, string>

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7+/=\n-----END PRIVATE KEY-----\n'

const FRAGMENTS = [
  '\n', '\r\n', '\r', '\n\n', ' ', '  ', '\t', '"', "'", '`', '$', '${HOME}', '$(id)', '\\$x', '=', '==', '#', ' #', ' # c', '\\',
  '\\n', '\0', 'é', 'ß', '日本', '😀', '\u2028', '\u00a0', '\ufeff', 'export ', 'K=v', 'A:b', PEM, '-----BEGIN CERTIFICATE-----\n', '\n-----END CERTIFICATE-----',
]

/** Awkward values built from the pieces .env and YAML readers stumble on, plus random text. */
const awkward = fc.oneof(
  {weight: 4, arbitrary: fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({unit: 'binary', maxLength: 6})), {maxLength: 8}).map((parts) => parts.join(''))},
  {weight: 1, arbitrary: fc.string({unit: 'binary', maxLength: 40})},
  {weight: 1, arbitrary: fc.string({unit: 'grapheme', maxLength: 20})},
  {weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', PEM, '\0', ' leading', 'trailing ', `a'b"c`, '#not-a-comment', 'x=y=z', '$VAR ${VAR}')},
)

/** Values a .env file can hold at all (encodeValue proves each form by reading it back). */
const storable = (v: string) => encodeValue(v) !== undefined
/** Config keys go to env files: only values Compose reads as envsync does (others are refused, see review-delivery.test.ts). */
const composable = (v: string) => envFileValue(v) !== undefined

const named: Values[] = [
  {S_ONE: PEM, S_SHARED: '', C_ONE: '', C_SHARED: ' spaced out\t'},
  {S_ONE: 'multi\nline\r\nvalue', S_SHARED: '\0nul\0', C_ONE: 'a=b#c $d "e" f', C_SHARED: "multi\nline\nit's"},
  {S_ONE: 'a=b#c $d "e" \'f\'', S_SHARED: 'C:\\temp\\', C_ONE: 'C:\\temp\\x', C_SHARED: '`back`'},
  {S_ONE: '  ', S_SHARED: '😀 日本 é', C_ONE: PEM, C_SHARED: '\u2028'},
  {S_ONE: '$HOME', S_SHARED: '"quoted"', C_ONE: "'single'", C_SHARED: '`back`'},
]

describe('docker round trip of awkward values (property)', function () {
  let p: DockerProject
  let manifest: Manifest
  let runs = 0

  before(() => {
    p = new DockerProject({secrets: KEYS})
    manifest = loadManifest(p.project.manifest)
  })

  after(() => p.cleanup())

  async function roundTrip(values: Values): Promise<void> {
    runs++
    p.setValues(values)
    // The store itself gives the values back (the premise of everything below).
    const store = readValues(p.valuesFile)
    for (const key of Object.keys(KEYS) as Key[]) expect(store.values.get(key)?.reveal(), `store ${key}`).to.equal(values[key])

    const plan = await planSync(manifest, p.env)
    const report = await applySync(plan)
    expect(report.failed, JSON.stringify(report.destinations.map((d) => d.error))).to.equal(0)

    // The adapter reads back exactly what it was given.
    const dest = plan.plans[0].destination as Destination<DockerConfig>
    const live = await new DockerTarget().read(dest)
    for (const key of Object.keys(KEYS) as Key[]) {
      const got = live.values.get(key)
      expect(got !== undefined && typeof got !== 'symbol' ? got.reveal() : got, `adapter ${key}`).to.equal(values[key])
    }
    // Secret files: the value's UTF-8 bytes, nothing added or normalised.
    for (const key of ['S_ONE', 'S_SHARED'] as const) expect(readFileSync(p.secretFile(key)).equals(Buffer.from(values[key], 'utf8')), `file ${key}`).to.equal(true)
    // Env files: what the dotenv package reads.
    const backend = dotenv.parse(readFileSync(p.envFile('backend')))
    const worker = dotenv.parse(readFileSync(p.envFile('worker')))
    expect(backend, 'backend.env').to.deep.equal({C_ONE: values.C_ONE, C_SHARED: values.C_SHARED})
    expect(worker, 'worker.env').to.deep.equal({C_SHARED: values.C_SHARED})

    // Converged: a second plan has nothing to do.
    const again = await planSync(manifest, p.env)
    expect(again.plans[0].changes.map((c) => `${c.action} ${c.key}`)).to.deep.equal([])
  }

  it('named awkward values survive values file → docker → read back', async () => {
    for (const values of named) await roundTrip(values)
  })

  it('any storable value survives values file → docker → read back, in secret files and env files', async function () {
    const started = Date.now()
    runs = 0
    await fc.assert(
      fc.asyncProperty(fc.record({S_ONE: awkward, S_SHARED: awkward, C_ONE: awkward, C_SHARED: awkward}), async (values) => {
        fc.pre(Object.values(values).every(storable) && [values.C_ONE, values.C_SHARED].every(composable))
        // Placeholders are never pushed (held back by design): not a round trip to test here.
        fc.pre(![values.S_ONE, values.S_SHARED].some((v) => placeholderKind(v)) && ![values.C_ONE, values.C_SHARED].some((v) => placeholderKind(v, false)))
        await roundTrip(values)
      }),
      {numRuns: 300, examples: named.map((v) => [v])},
    )
    expect(runs, 'most generated values are storable').to.be.greaterThan(200)
    this.test!.title += ` [${runs} runs, ${Date.now() - started} ms]`
  })
})
