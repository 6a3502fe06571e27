import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'

describe('envsync template', () => {
  let p: TempProject
  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest(`  STRIPE_KEY:
    description: Stripe secret key
    services: [backend]
    required: false
    rotate: 1y
    format: {regex: "sk_(live|test)_[A-Za-z0-9]+"}
`))
  })
  afterEach(() => p.cleanup())

  it('documents every key with services, requirement, recipe as openssl, rotation — and no values', async () => {
    const secret = canary()
    writeFileSync(p.path('.env.production'), `JWT_SECRET=${secret}\nDATABASE_URL=postgres://u:${secret}@db/x\n`, {mode: 0o600})
    const r = await runBin(['template'], {cwd: p.dir})
    expect(r.exitCode).to.equal(0)
    expect(r.stdout).to.include('# JWT_SECRET')
    expect(r.stdout).to.include('services: backend · required · sensitive')
    expect(r.stdout).to.include('generate: openssl rand -base64 48')
    expect(r.stdout).to.include('# STRIPE_KEY — Stripe secret key')
    expect(r.stdout).to.include('optional')
    expect(r.stdout).to.include('rotate every 1y')
    expect(r.stdout).to.match(/^JWT_SECRET=$/m)
    expect(r.stdout).to.match(/^STRIPE_KEY=$/m)
    assertNoLeak([secret], r.stdout, r.stderr)
  })

  it('--out writes the file', async () => {
    const r = await runBin(['template', '--out', 'env.template'], {cwd: p.dir})
    expect(r.exitCode).to.equal(0)
    expect(r.stdout).to.include('wrote env.template')
    const text = readFileSync(p.path('env.template'), 'utf8')
    expect(text).to.include('VITE_API_URL=')
  })
})
