/**
 * `envsync check` with no environment: every environment under its own heading, the exit code
 * the worst one, --json one result per environment; an encrypted store this machine has no key
 * for is skipped with the reason (naming that environment keeps the error).
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {assertNoLeak} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {EncryptedProject, MANIFEST as ENCRYPTED_MANIFEST, requireAge} from '../values/encrypted-support.js'
import {cleanValues, smallManifest, useCheckProjects} from './support.js'

describe('check with no environment: every environment', function () {
  this.timeout(60_000)
  const {project} = useCheckProjects()

  it('a heading per environment, findings under it, one overall line; the exit code is the worst one', async () => {
    const good = cleanValues()
    const pr = project(smallManifest().replace('  production: {}', '  staging: {}\n  production: {}'), {
      '.env.development': good,
      '.env.staging': cleanValues(),
      '.env.production': {...cleanValues(), JWT_SECRET: 'changeme'},
    })
    const r = await runBin(['check'], {cwd: pr.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    const out = r.stdout
    const at = (s: string) => out.indexOf(s)
    expect(at('── development')).to.be.within(0, at('── staging'))
    expect(at('── staging')).to.be.below(at('── production'))
    expect(out).to.match(/✓ development: 3 secrets checked in \.env\.development/)
    expect(out.slice(at('── production'))).to.match(/error\s+JWT_SECRET\s+placeholder/)
    expect(out.trim().split('\n').at(-1)).to.match(/^✗ 3 environments checked — [1-9]\d* errors?, 0 warnings$/)
    assertNoLeak(Object.values(good).concat(), r.stdout, r.stderr)

    // All clean: exit 0.
    pr.values('.env.production', cleanValues())
    expect((await runBin(['check'], {cwd: pr.dir})).exitCode).to.equal(0)
  })

  it('a values file that cannot be read fails its own environment only: the others are still checked, exit 2', async () => {
    const good = cleanValues()
    const pr = project(smallManifest().replace('  production: {}', '  staging: {}\n  production: {}'), {
      '.env.development': good,
      '.env.staging': cleanValues(),
      '.env.production': cleanValues(),
    })
    writeFileSync(path.join(pr.dir, '.env.staging'), 'BROKEN="unterminated\n')
    const r = await runBin(['check'], {cwd: pr.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
    const out = r.stdout + r.stderr
    for (const env of ['development', 'staging', 'production']) expect(out).to.include(`── ${env}`)
    expect(out).to.match(/\.env\.staging:1:8/)
    expect(out).to.match(/production: 3 secrets checked/)
    expect(out).to.match(/1 could not be read \(staging\)/)
    const json = JSON.parse((await runBin(['check', '--json'], {cwd: pr.dir})).stdout)
    expect(json.exitCode).to.equal(2)
    const staging = json.result.environments.find((e: {environment: string}) => e.environment === 'staging')
    expect(staging.error.code).to.be.a('string')
    expect(json.result.environments.map((e: {environment: string}) => e.environment)).to.deep.equal(['development', 'staging', 'production'])
    assertNoLeak(Object.values(good), r.stdout, r.stderr)
  })

  it('--json: one result per environment (the one-environment shape is unchanged)', async () => {
    const pr = project(smallManifest(), {'.env.development': cleanValues(), '.env.production': {...cleanValues(), DATABASE_URL: ''}})
    const all = JSON.parse((await runBin(['check', '--json'], {cwd: pr.dir})).stdout)
    expect(all.exitCode).to.equal(1)
    expect(all.result.environments.map((e: {environment: string}) => e.environment)).to.deep.equal(['development', 'production'])
    expect(all.result).to.include({errors: 1, warnings: 0, skipped: 0})
    expect(all.result.environments[1]).to.include({environment: 'production', file: '.env.production', errors: 1})
    const one = JSON.parse((await runBin(['check', 'production', '--json'], {cwd: pr.dir})).stdout)
    expect(one.result).to.include({environment: 'production', errors: 1})
    expect(one.result).to.not.have.property('environments')
  })

  it('an encrypted store without a key here is skipped, named, with the reason; named, it is an error', async function () {
    requireAge(this)
    const p = new EncryptedProject(ENCRYPTED_MANIFEST.replace('  production:\n', '  production:\n    store:\n      encrypted:\n        recipients: [RECIPIENT]\n'))
    try {
      writeFileSync(p.manifest, p.text('envsync.yaml').replace('RECIPIENT', p.recipient))
      expect((await p.run(['generate', 'production'])).exitCode).to.equal(0)
      expect((await p.run(['generate', 'staging'])).exitCode).to.equal(0)
      const stranger = path.join(p.home, 'stranger')
      mkdirSync(stranger)
      const r = await p.run(['check'], {HOME: stranger})
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(r.stdout).to.match(/✓ staging: /)
      expect(r.stdout).to.include('not compared with production for reused values: no key for its encrypted store here')
      expect(r.stdout).to.match(/- production: skipped — /)
      expect(r.stdout).to.include('1 environment checked, 1 skipped')
      const json = JSON.parse((await p.run(['check', '--json'], {HOME: stranger})).stdout)
      expect(json.result.skipped).to.equal(1)
      expect(json.result.environments[1]).to.have.keys(['environment', 'skipped', 'suggestion'])
      const named = await p.run(['check', 'production'], {HOME: stranger})
      expect(named.exitCode).to.not.equal(0)
    } finally {
      p.cleanup()
    }
  })
})
