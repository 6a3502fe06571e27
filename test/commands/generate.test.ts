import {readFileSync, statSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {assertNoLeak, canary} from '../helpers/canary.js'
import Generate from '../../src/commands/generate.js'
import {setPrompter, type Prompter} from '../../src/ui/prompt.js'
import {runBin, runCli, runSource} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'

const EXTRA = `  SESSION_SECRET:
    services: [backend]
    generate: alnum:40
  API_UUID:
    services: [backend]
    generate: uuid
    environments: [production]
`

describe('envsync generate', () => {
  let p: TempProject
  const values = (env: string) => dotenv.parse(readFileSync(p.path(`.env.${env}`)))
  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest(EXTRA))
  })
  afterEach(() => p.cleanup())

  it('fills missing generated values, prints keys, recipes and lengths but never the values', async () => {
    const r = await runBin(['generate', 'development'], {cwd: p.dir})
    expect(r.exitCode, r.stderr).to.equal(0)
    const v = values('development')
    expect(Object.keys(v).sort()).to.deep.equal(['JWT_SECRET', 'SESSION_SECRET'])
    expect(v.JWT_SECRET).to.have.length(64)
    expect(r.stdout).to.match(/JWT_SECRET\s+base64:48\s+64 chars/)
    expect(r.stdout).to.match(/SESSION_SECRET\s+alnum:40\s+40 chars/)
    assertNoLeak(Object.values(v), r.stdout, r.stderr)
    expect(statSync(p.path('.env.development')).mode & 0o777).to.equal(0o600)
  })

  it('gives each environment its own values', async () => {
    await runBin(['generate', 'development'], {cwd: p.dir})
    await runBin(['generate', 'production'], {cwd: p.dir})
    const dev = values('development')
    const prod = values('production')
    expect(prod.JWT_SECRET).to.not.equal(dev.JWT_SECRET)
    expect(prod.SESSION_SECRET).to.not.equal(dev.SESSION_SECRET)
    expect(prod.API_UUID).to.match(/^[0-9a-f-]{36}$/)
    expect(dev.API_UUID).to.equal(undefined)
  })

  it('keeps existing values and other lines unless --force', async () => {
    const keep = canary('KEEP')
    writeFileSync(p.path('.env.development'), `# my notes\nJWT_SECRET=${keep}\nOTHER=1\n`, {mode: 0o600})
    const r = await runBin(['generate', 'development'], {cwd: p.dir})
    expect(r.exitCode).to.equal(0)
    const text = readFileSync(p.path('.env.development'), 'utf8')
    expect(text.startsWith(`# my notes\nJWT_SECRET=${keep}\nOTHER=1\n`)).to.equal(true)
    expect(r.stdout).to.include('1 already set')
    assertNoLeak([keep], r.stdout, r.stderr)
  })

  it('--force regenerates only the named key', async () => {
    await runBin(['generate', 'development'], {cwd: p.dir})
    const before = values('development')
    const r = await runBin(['generate', 'development', 'JWT_SECRET', '--force'], {cwd: p.dir})
    expect(r.exitCode, r.stderr).to.equal(0)
    const after = values('development')
    expect(after.JWT_SECRET).to.not.equal(before.JWT_SECRET)
    expect(after.SESSION_SECRET).to.equal(before.SESSION_SECRET)
    expect(r.stdout).to.match(/replaced\s+JWT_SECRET/)
    assertNoLeak([before.JWT_SECRET, after.JWT_SECRET, after.SESSION_SECRET], r.stdout, r.stderr)
  })

  it('in a protected environment, --force without a terminal needs --yes and changes nothing', async () => {
    await runBin(['generate', 'production'], {cwd: p.dir})
    const before = readFileSync(p.path('.env.production'), 'utf8')
    const r = await runBin(['generate', 'production', '--force'], {cwd: p.dir})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('protected environment "production"')
    expect(r.stderr).to.include('--yes')
    expect(readFileSync(p.path('.env.production'), 'utf8')).to.equal(before)
    const ok = await runBin(['generate', 'production', '--force', '--yes'], {cwd: p.dir})
    expect(ok.exitCode).to.equal(0)
    expect(readFileSync(p.path('.env.production'), 'utf8')).to.not.equal(before)
  })

  it('explains keys it cannot generate', async () => {
    const noRecipe = await runBin(['generate', 'development', 'DATABASE_URL'], {cwd: p.dir})
    expect(noRecipe.exitCode).to.equal(2)
    expect(noRecipe.stderr).to.include('DATABASE_URL has no generate recipe')
    const typo = await runBin(['generate', 'development', 'JWT_SECRT'], {cwd: p.dir})
    expect(typo.stderr).to.include('did you mean "JWT_SECRET"')
    const scoped = await runBin(['generate', 'development', 'API_UUID'], {cwd: p.dir})
    expect(scoped.stderr).to.include('does not apply to development')
  })

  it('--json prints one envelope with keys and lengths only', async () => {
    const r = await runCli(['generate', 'development', '--json', '--manifest', p.manifest])
    const envelope = JSON.parse(r.stdout)
    expect(envelope).to.include({ok: true, command: 'generate', exitCode: 0})
    expect(envelope.result.generated.map((g: {key: string}) => g.key)).to.deep.equal(['JWT_SECRET', 'SESSION_SECRET'])
    assertNoLeak(Object.values(values('development')), r.stdout, r.stderr)
  })
})

describe('envsync generate --force in a protected environment, at a terminal', () => {
  let p: TempProject
  const asked: string[] = []
  const typing = (answer: string): Prompter => ({
    input: async (o) => {
      asked.push(o.message)
      return answer
    },
    confirm: async () => false,
    checkbox: async () => [],
    select: async () => expect.fail('generate asks no menu question'),
  })
  beforeEach(async () => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest())
    asked.length = 0
    expect((await runSource(Generate, ['production', '--manifest', p.manifest])).exitCode).to.equal(0)
  })
  afterEach(() => {
    setPrompter(undefined)
    p.cleanup()
  })

  it('asks to type the environment name and replaces the value when it is typed', async () => {
    const before = readFileSync(p.path('.env.production'), 'utf8')
    setPrompter(typing('production'))
    const r = await runSource(Generate, ['production', 'JWT_SECRET', '--force', '--manifest', p.manifest])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(asked).to.deep.equal(['Replace 1 existing value (JWT_SECRET) in production. Type "production" to confirm:'])
    expect(readFileSync(p.path('.env.production'), 'utf8')).to.not.equal(before)
  })

  it('aborts with exit 130 and changes nothing when something else is typed', async () => {
    const before = readFileSync(p.path('.env.production'), 'utf8')
    setPrompter(typing('y'))
    const r = await runSource(Generate, ['production', '--force', '--manifest', p.manifest])
    expect(r.exitCode).to.equal(130)
    expect(r.stderr).to.include('aborted: nothing was changed')
    expect(readFileSync(p.path('.env.production'), 'utf8')).to.equal(before)
  })

  it('does not ask in an unprotected environment', async () => {
    await runSource(Generate, ['development', '--manifest', p.manifest])
    setPrompter(typing('nope'))
    const r = await runSource(Generate, ['development', '--force', '--manifest', p.manifest])
    expect(r.exitCode).to.equal(0)
    expect(asked).to.deep.equal([])
  })
})
