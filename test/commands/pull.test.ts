import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

const MANIFEST = `version: 1
project: shop
services: {api: {}, web: {public: true}}
environments:
  production:
    targets: {docker: {}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api], generate: "alnum:32"}
  API_URL: {services: [web], sensitive: false}
`

const long = () => `${canary()}${canary('Y').slice(2)}`

describe('envsync pull (from Docker secret files)', () => {
  let p: TempProject
  const values = () => dotenv.parse(readFileSync(p.path('.env.production')))
  const run = (...args: string[]) => runBin(['pull', 'production', '--from', 'docker', ...args], {cwd: p.dir})

  beforeEach(async () => {
    p = new TempProject('envsync-pull-')
    p.write('envsync.yaml', MANIFEST)
  })
  afterEach(() => p.cleanup())

  async function deployed(): Promise<Record<string, string>> {
    const live = {JWT_SECRET: long(), DB_PASSWORD: long(), API_URL: 'https://api.shop.test'}
    writeFileSync(p.path('.env.production'), Object.entries(live).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    expect((await runBin(['push', 'production', '--yes'], {cwd: p.dir})).exitCode).to.equal(0)
    return live
  }

  it('imports every live value into an empty values file, printing keys only', async () => {
    const live = await deployed()
    writeFileSync(p.path('.env.production'), '', {mode: 0o600})
    const r = await run()
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(values()).to.deep.equal(live)
    expect(r.stdout).to.match(/JWT_SECRET\s+written/)
    expect(r.stdout).to.include('3 values written')
    assertNoLeak(Object.values(live).filter((v) => v.includes('_')), r.stdout, r.stderr)
  })

  it('keeps a differing local value unless --overwrite; --keys limits the pull', async () => {
    const live = await deployed()
    const mine = long()
    writeFileSync(p.path('.env.production'), `# mine\nJWT_SECRET=${mine}\n`, {mode: 0o600})
    const kept = await run('--keys', 'JWT_SECRET')
    expect(kept.stdout).to.match(/JWT_SECRET\s+differs: local value kept/)
    expect(values()).to.deep.equal({JWT_SECRET: mine})
    const replaced = await run('--keys', 'JWT_SECRET', '--overwrite')
    expect(replaced.stdout).to.match(/JWT_SECRET\s+replaced/)
    expect(values()).to.deep.equal({JWT_SECRET: live.JWT_SECRET})
    expect(readFileSync(p.path('.env.production'), 'utf8').startsWith('# mine\n')).to.equal(true)
    assertNoLeak([mine, live.JWT_SECRET], kept.stdout, kept.stderr, replaced.stdout, replaced.stderr)
  })

  it('--include-unmanaged pulls keys the manifest lacks and proposes entries for them', async () => {
    await deployed()
    const extra = long()
    writeFileSync(p.path('secrets/production/LEGACY_TOKEN'), extra, {mode: 0o600})
    const without = await run()
    expect(without.stdout).to.not.include('LEGACY_TOKEN')
    const r = await run('--include-unmanaged')
    expect(r.exitCode).to.equal(0)
    expect(values().LEGACY_TOKEN).to.equal(extra)
    expect(r.stdout).to.include('Not in the manifest')
    expect(r.stdout).to.include('  LEGACY_TOKEN:\n    services: [api, web]')
    assertNoLeak([extra], r.stdout, r.stderr)
  })

  it('an unknown key is a clear error and nothing is written', async () => {
    await deployed()
    const before = readFileSync(p.path('.env.production'), 'utf8')
    const r = await run('--keys', 'JWT_SECRT')
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('did you mean "JWT_SECRET"')
    expect(readFileSync(p.path('.env.production'), 'utf8')).to.equal(before)
  })

  it('binary bytes live are never imported as U+FFFD: reported, exit 1, nothing written; diff sees the difference', async () => {
    const live = await deployed()
    const bytes = Buffer.from([0x41, 0xff, 0xfe, 0x00, 0x80, 0x42])
    writeFileSync(p.path('secrets/production/JWT_SECRET'), bytes, {mode: 0o600})
    const before = readFileSync(p.path('.env.production'))
    for (const args of [[], ['--overwrite'], ['--keys', 'JWT_SECRET', '--overwrite']]) {
      const r = await run(...args)
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(r.stdout).to.match(/JWT_SECRET\s+not UTF-8 text \(binary\)/)
      expect(readFileSync(p.path('.env.production')).equals(before)).to.equal(true)
      expect(readFileSync(p.path('.env.production'), 'utf8')).to.not.include('\uFFFD')
    }
    // The same bytes decoded lossily locally would have looked "unchanged"; diff says update.
    writeFileSync(p.path('.env.production'), `JWT_SECRET=A\uFFFD\uFFFD\u0000\uFFFDB\nDB_PASSWORD=${live.DB_PASSWORD}\nAPI_URL=${live.API_URL}\n`.replace('\u0000', ''), {mode: 0o600})
    const d = await runBin(['diff', 'production', '--json'], {cwd: p.dir})
    const keys = JSON.parse(d.stdout).result.destinations[0].keys
    expect(keys.find((k: {key: string}) => k.key === 'JWT_SECRET').action).to.equal('update')
  })
})
