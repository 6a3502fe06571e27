import {appendFileSync, mkdirSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/** `check`'s "Docker delivers" names a previous key's _FILE variable only while its grace runs: push delivers it only then. */

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets:
      docker: {}
secrets:
  JWT_SECRET: {services: [api], previous: JWT_SECRET_PREVIOUS, grace: 1h}
`

const T0 = '2027-03-01T12:00:00.000Z'
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString()

describe('check: Docker delivers the previous key only during a grace', function () {
  this.timeout(60_000)
  let p: TempProject
  afterEach(() => p.cleanup())

  it('no grace: JWT_SECRET_FILE only; in the grace: JWT_SECRET_PREVIOUS_FILE too; after it: gone again', async () => {
    p = new TempProject('envsync-delivery-grace-')
    p.write('envsync.yaml', MANIFEST)
    const value = canary('JWT')
    const previous = canary('OLD')
    p.write('.env.production', `JWT_SECRET='${value}'\nJWT_SECRET_PREVIOUS='${previous}'\n`)
    const check = async (time: string) => {
      const r = await runBin(['check', 'production'], {cwd: p.dir, env: {HOME: p.dir, ENVSYNC_NOW: time}})
      assertNoLeak([value, previous], r.stdout, r.stderr)
      return r.stdout + r.stderr
    }
    const before = await check(T0)
    expect(before).to.include('Docker delivers').and.include('JWT_SECRET_FILE=/run/secrets/')
    expect(before).not.to.include('JWT_SECRET_PREVIOUS_FILE')

    mkdirSync(p.path('.envsync'), {recursive: true})
    appendFileSync(p.path('.envsync/history.jsonl'), JSON.stringify({time: T0, environment: 'production', action: 'rotate', keys: ['JWT_SECRET', 'JWT_SECRET_PREVIOUS'], graceUntil: at(60)}) + '\n')
    expect(await check(at(30))).to.include('JWT_SECRET_PREVIOUS_FILE=/run/secrets/')
    expect(await check(at(90))).not.to.include('JWT_SECRET_PREVIOUS_FILE')
  })
})
