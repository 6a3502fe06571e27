import {existsSync, readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/** Trust #21: diff says what push will do with a placeholder — hold it back — not "+ add". */
describe('a placeholder value in diff and push', () => {
  let p: TempProject
  beforeEach(() => {
    p = new TempProject('envsync-heldback-')
    p.write('envsync.yaml', `version: 1
project: shop
services: {api: {}}
environments:
  staging:
    targets: {docker: {}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  STRIPE_KEY: {services: [api]}
  NODE_ENV: {services: [api], sensitive: false}
`)
    writeFileSync(p.path('.env.staging'), 'JWT_SECRET=Zk9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6\nSTRIPE_KEY=changeme\nNODE_ENV=test\n', {mode: 0o600})
  })
  afterEach(() => p.cleanup())

  it('diff shows it held back (never "+ add"), as push --force does, and nothing sends it', async () => {
    const d = await runBin(['diff', 'staging'], {cwd: p.dir})
    expect(d.exitCode, d.stdout + d.stderr).to.equal(0)
    expect(d.stdout).to.match(/STRIPE_KEY\s+a placeholder: never pushed/)
    expect(d.stdout).to.not.match(/\+ STRIPE_KEY/)
    const json = JSON.parse((await runBin(['diff', 'staging', '--json'], {cwd: p.dir})).stdout)
    const key = json.result.destinations[0].keys.find((k: {key: string}) => k.key === 'STRIPE_KEY')
    expect(key).to.include({action: 'missing', heldBack: true})
    const dry = await runBin(['push', 'staging', '--force', '--dry-run'], {cwd: p.dir})
    expect(dry.stdout).to.match(/STRIPE_KEY\s+a placeholder: never pushed/)
    const pushed = await runBin(['push', 'staging', '--force', '--yes'], {cwd: p.dir})
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).to.equal(0)
    const after = JSON.parse((await runBin(['diff', 'staging', '--json'], {cwd: p.dir})).stdout)
    expect(after.result.changes).to.equal(0)
  })

  it('a plain config word (NODE_ENV=test) is a setting, not a placeholder: checked clean and pushed; the same word as a secret is held back', async () => {
    const c = await runBin(['check', 'staging', '--json'], {cwd: p.dir})
    const findings = JSON.parse(c.stdout).result.findings as {key?: string; rule: string}[]
    expect(findings.filter((f) => f.key === 'NODE_ENV')).to.deep.equal([])
    expect(findings.some((f) => f.key === 'STRIPE_KEY' && f.rule === 'placeholder')).to.equal(true)
    writeFileSync(p.path('.env.staging'), 'JWT_SECRET=test\nSTRIPE_KEY=sk_live_9aF3kQ0pL2xV7mN4bR8tY6wZ\nNODE_ENV=test\n', {mode: 0o600})
    const pushed = await runBin(['push', 'staging', '--force', '--yes'], {cwd: p.dir})
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).to.equal(0)
    expect(readFileSync(p.path('secrets/staging/api.env'), 'utf8')).to.match(/^NODE_ENV=test$/m)
    expect(existsSync(p.path('secrets/staging/JWT_SECRET'))).to.equal(false)
  })
})
