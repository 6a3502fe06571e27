import {writeFileSync} from 'node:fs'

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
`)
    writeFileSync(p.path('.env.staging'), 'JWT_SECRET=Zk9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6\nSTRIPE_KEY=changeme\n', {mode: 0o600})
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
})
