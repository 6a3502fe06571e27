/**
 * set, get, unset and run on an encrypted store (age, committed .env.<env>): the same commands
 * through readStore/writeStore, the file holding ciphertexts only, the value only in memory.
 */
import {createHash} from 'node:crypto'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {EncryptedProject, MANIFEST, requireAge} from '../values/encrypted-support.js'

describe('set / get / unset / run on an encrypted store', function () {
  this.timeout(60_000)
  let p: EncryptedProject
  before(function () {
    requireAge(this)
  })
  beforeEach(() => {
    p = new EncryptedProject()
    p.write('envsync.yaml', MANIFEST.replace('  production:\n', `  production:\n    store: {encrypted: {recipients: [${p.recipient}]}}\n`), 0o644)
  })
  afterEach(() => p.cleanup())

  it('set writes a ciphertext, get and run decrypt it, unset removes it; no value in the file or output', async () => {
    const secret = canary('ENC')
    const set = await p.run(['set', 'production', 'API_KEY'], {}, `${secret}\n`)
    expect(set.exitCode, set.stderr).to.equal(0)
    expect(set.stdout).to.match(/^set API_KEY in \.env\.production \(added, fingerprint [\w-]{10}\)\n$/)
    expect(p.text('.env.production')).to.match(/^API_KEY=age:/m)
    expect(p.ciphertext('API_KEY').length).to.be.greaterThan(0)

    const got = await p.run(['get', 'production', 'API_KEY'])
    expect(got.exitCode, got.stderr).to.equal(0)
    expect(got.stdout).to.equal(secret)

    await p.run(['set', 'production', 'JWT_SECRET', '--generate'])
    const hash = "console.log(require('crypto').createHash('sha256').update(process.env.API_KEY).digest('hex'))"
    const run = await p.run(['run', 'production', '--yes', '--', process.execPath, '-e', hash])
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(run.stdout.trim()).to.equal(createHash('sha256').update(secret).digest('hex'))

    const unset = await p.run(['unset', 'production', 'API_KEY', '--yes'])
    expect(unset.exitCode, unset.stderr).to.equal(0)
    expect(p.text('.env.production')).to.not.match(/^API_KEY=/m)
    assertNoLeak([secret], p.text('.env.production'), set.stdout, set.stderr, run.stderr, unset.stdout, unset.stderr)
  })

  it('without the key: a clear error, nothing written', async () => {
    await p.run(['set', 'production', 'API_KEY'], {}, canary('ENC'))
    const before = p.text('.env.production')
    const other = p.home + '-none'
    const r = await p.run(['set', 'production', 'API_KEY', '--yes'], {HOME: other}, canary('NEW'))
    expect(r.exitCode).to.not.equal(0)
    expect(r.stderr).to.match(/production/)
    expect(r.stderr).to.not.match(/\n\s+at /)
    expect(p.text('.env.production')).to.equal(before)
    const got = await p.run(['get', 'production', 'API_KEY'], {HOME: other})
    expect(got.exitCode).to.not.equal(0)
    expect(got.stdout).to.equal('')
  })
})
