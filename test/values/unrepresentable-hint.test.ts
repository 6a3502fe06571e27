/**
 * A value no dotenv quoting holds (' " ` together, ending in a backslash) cannot be written to
 * the values file; the hint names that file as the user sees it, not "the values file".
 */
import {randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets: {docker: {}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
`

describe('a value with no dotenv form (real binary)', () => {
  let p: TempProject
  beforeEach(() => {
    p = new TempProject('envsync-unrepresentable-')
    p.write('envsync.yaml', MANIFEST)
  })
  afterEach(() => p.cleanup())

  it('pull refuses it, naming the values file (.env.production), and leaves the file as it was', async () => {
    p.write('.env.production', `JWT_SECRET=${randomBytes(48).toString('base64')}\n`)
    expect((await runBin(['push', 'production', '--yes'], {cwd: p.dir})).exitCode).to.equal(0)
    writeFileSync(p.path('secrets/production/JWT_SECRET'), '\'x"y`\\')
    p.write('.env.production', '')
    const r = await runBin(['pull', 'production', '--from', 'docker', '--overwrite'], {cwd: p.dir})
    expect(r.exitCode).to.not.equal(0)
    expect(r.stderr).to.include('the value of JWT_SECRET cannot be written as dotenv')
    expect(r.stderr).to.include('change the value or keep JWT_SECRET out of .env.production')
    expect(r.stderr).to.not.include('values file')
    expect(readFileSync(p.path('.env.production'), 'utf8')).to.equal('')
  })
})
