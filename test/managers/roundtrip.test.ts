import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import type {ManagerKind} from '../../src/targets/managers/backend.js'
import {canary} from '../helpers/canary.js'
import {expectNoViolations, KINDS, ManagerProject, manifestYaml, usePlatforms, type Platform} from './support.js'

/**
 * Awkward values through each manager in both roles, via bin/run.js: pushed from a local store
 * and read back from the platform byte for byte; kept in the platform as the store and exported
 * to a dotenv file that the dotenv package reads back equal. A value the platform cannot hold
 * (empty, over its size limit) is a clear error naming the key, with no value in it, a non-zero
 * exit and no half-made secret.
 */

const PREFIX: Record<ManagerKind, string> = {aws: 'shop/rt/', vault: 'shop/rt/', gcp: 'shop-rt-', azure: 'shop-rt-'}

const pem = () =>
  ['-----BEGIN PRIVATE KEY-----', ...Array.from({length: 6}, () => randomBytes(48).toString('base64')), '-----END PRIVATE KEY-----', ''].join('\n')

/** Awkward but storable everywhere; BIG is sized per platform. Each carries a canary. */
function awkward(pl: Platform, canaries: string[]): Record<string, string> {
  const c = (label: string) => {
    const value = canary(label)
    canaries.push(value)
    return value
  }
  return {
    PEM_KEY: pem().replace('-----END', `${c('PEM')}\n-----END`),
    UNICODE: `päßwörd 🔐👩‍💻 e\u0301 n\u0303 日本語 ${c('UNI')}`,
    SYNTAX: `a=b==c 'single' "double" $HOME \${VAR} \\n #hash ${c('SYN')}`,
    // All three quotes together have no dotenv form (export refuses it): two of them here.
    TICKS: `\`tick\` 'single' ${c('TICK')}`,
    TRAILING: `  leading and trailing spaces ${c('TRAIL')}   \n\n`,
    // The platform's largest value (64 KiB where it holds that much).
    BIG: `${c('BIG')}${randomBytes(64 * 1024).toString('base64url')}`.slice(0, Math.min(pl.maxValueBytes, 64 * 1024)),
  }
}

const escape = (text: string) => text.replace(/[/.]/g, '\\$&')
const entries = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, {services: ['api']}]))

describe('awkward values through each secret manager, both roles (bin/run.js)', function () {
  this.timeout(120_000)
  const running = usePlatforms(KINDS)
  let p: ManagerProject

  beforeEach(() => {
    p = new ManagerProject(() => running.values())
  })

  afterEach(() => {
    p.assertNoLeak()
    expectNoViolations(running.values())
    p.cleanup()
  })

  for (const kind of KINDS) {
    const platform = function (this: Mocha.Context): Platform {
      const pl = running.get(kind)
      if (!pl) this.skip()
      return pl!
    }
    const target = (pl: Platform, keys: string[]) => p.writeManifest(manifestYaml({staging: {targets: {[kind]: {...pl.options, prefix: PREFIX[kind]}}}}, entries(keys)))

    describe(kind, () => {
      it('local store → push → the platform holds each value byte-exact', async function () {
        const pl = platform.call(this)
        const values = awkward(pl, p.canaries)
        target(pl, Object.keys(values))
        p.writeValues('staging', values)
        await p.ok(['push', 'staging', '--yes'])
        for (const [key, value] of Object.entries(values)) {
          const stored = pl.value(pl.nameOf(PREFIX[kind], key))
          expect(stored === value, `${pl.service} ${key}: ${JSON.stringify(stored?.slice(0, 80))} ≠ ${JSON.stringify(value.slice(0, 80))}`).to.equal(true)
        }
        // Read back through envsync too: in sync, nothing to write.
        const again = await p.ok(['diff', 'staging'])
        expect(again.stdout).to.include('in sync')
      })

      it('platform as the store → export to a dotenv file → read back equal', async function () {
        const pl = platform.call(this)
        const values = awkward(pl, p.canaries)
        p.writeManifest(manifestYaml({production: {store: {[kind]: {...pl.options, prefix: PREFIX[kind]}}}}, entries(Object.keys(values))))
        for (const [key, value] of Object.entries(values)) pl.seed(pl.nameOf(PREFIX[kind], key), value)
        await p.ok(['export', 'production', '-o', p.project.path('out.env')])
        const parsed = dotenv.parse(readFileSync(p.project.path('out.env')))
        for (const [key, value] of Object.entries(values)) expect(parsed[key] === value, `${pl.service} ${key} through export`).to.equal(true)
        const json = await p.ok(['export', 'production', '--format', 'json'], {printsValues: true})
        expect(JSON.parse(json.stdout)).to.deep.equal(values)
      })

      it('the empty value: held where the platform can, else refused by name with no half-made secret', async function () {
        const pl = platform.call(this)
        const fine = canary('FINE')
        p.canaries.push(fine)
        target(pl, ['EMPTY_KEY', 'FINE_KEY'])
        p.writeValues('staging', {EMPTY_KEY: '', FINE_KEY: fine})
        const checked = await p.run(['push', 'staging', '--yes'])
        expect(checked.exitCode, 'check refuses an empty value before anything is written').to.equal(1)
        expect(checked.stderr).to.include('EMPTY_KEY is empty')
        expect(pl.writes()).to.equal(0)

        const r = await p.run(['push', 'staging', '--yes', '--force'])
        const name = pl.nameOf(PREFIX[kind], 'EMPTY_KEY')
        if (pl.holdsEmpty) {
          expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
          expect(pl.value(name)).to.equal('')
        } else {
          expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
          expect(r.stdout + r.stderr).to.match(new RegExp(`${escape(name)}.*empty|EMPTY_KEY.*empty`))
          expect(pl.names(), `${pl.service}: no secret made for EMPTY_KEY`).to.not.include(name)
          expect(r.stdout + r.stderr).to.not.match(/at .+\.js:\d+/)
        }
      })

      it('a value over the platform\'s size limit is refused by name, no value shown, no half-made secret', async function () {
        const pl = platform.call(this)
        if (pl.maxValueBytes >= 1024 * 1024) this.skip() // no limit a test value reaches
        const huge = `${canary('HUGE')}${'h'.repeat(pl.maxValueBytes)}`
        p.canaries.push(huge.slice(0, 30))
        target(pl, ['HUGE_KEY'])
        p.writeValues('staging', {HUGE_KEY: huge})
        const r = await p.run(['push', 'staging', '--yes'])
        const name = pl.nameOf(PREFIX[kind], 'HUGE_KEY')
        expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
        expect(r.stdout + r.stderr).to.match(new RegExp(`(${escape(name)}|HUGE_KEY).*(at most|limit|too (large|big))`, 'i'))
        expect(r.stdout + r.stderr).to.not.match(/at .+\.js:\d+/)
        expect(pl.names(), `${pl.service}: no secret made for HUGE_KEY`).to.not.include(name)
      })
    })
  }
})
