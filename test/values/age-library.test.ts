import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {EncryptedProject, requireAge} from './encrypted-support.js'

/**
 * The encrypted store goes through the age-encryption library, loaded only when an encrypted
 * store is read or written: help and a plain store's commands start without it. Node's ESM
 * loader says which modules it loads (NODE_DEBUG=esm).
 */
const LIBRARY = '/node_modules/age-encryption/'

describe('encrypted store: the age-encryption library, loaded only when needed', function () {
  this.timeout(60_000)
  let p: EncryptedProject
  afterEach(() => p?.cleanup())

  const loads = async (args: string[]) => {
    const r = await p.run(args, {NODE_DEBUG: 'esm'})
    return {r, library: r.stderr.includes(LIBRARY)}
  }

  it('help and check of a plain store do not load it; a command on an encrypted store does, and reads its values', async function () {
    requireAge(this)
    p = new EncryptedProject()
    const values = {JWT_SECRET: canary(), API_KEY: canary()}
    p.writePlain('.env.production', values)

    const help = await loads(['--help'])
    expect(help.r.exitCode, help.r.stderr.slice(-2000)).to.equal(0)
    expect(help.library, '--help loads age-encryption').to.equal(false)
    const plain = await loads(['check', 'production'])
    expect(plain.r.stderr).to.match(/Storing file:\/\/\S+\/dist\/commands\/check\.js/)
    expect(plain.library, 'check of a plain store loads age-encryption').to.equal(false)

    const add = await p.run(['keys', 'add', 'production', p.recipient])
    expect(add.exitCode, add.stderr).to.equal(0)
    const encrypted = await loads(['export', 'production', '--format', 'json'])
    expect(encrypted.r.exitCode, encrypted.r.stderr.slice(-2000)).to.equal(0)
    expect(encrypted.library, 'an encrypted store is read through age-encryption').to.equal(true)
    expect(JSON.parse(encrypted.r.stdout)).to.deep.equal(values)
    assertNoLeak(Object.values(values), p.text('.env.production'), add.stdout, add.stderr, plain.r.stdout)
  })
})
