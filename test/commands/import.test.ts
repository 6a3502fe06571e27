/**
 * `envsync import ENV FILE`: a team arriving with a .env adopts it. Manifest keys go into the
 * store (added / unchanged / kept unless --overwrite), other keys are proposed as manifest
 * entries, imported values are audited, the source file is never touched, and no value prints.
 */
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {sh, tmuxAvailable, TmuxSession} from '../cli/tmux.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN, runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {EncryptedProject, MANIFEST as ENCRYPTED_MANIFEST, requireAge} from '../values/encrypted-support.js'

const MANIFEST = `version: 1
project: shop
services: {api: {}, web: {public: true}}
environments:
  development: {}
  production: {}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api], minLength: 16}
  API_URL: {services: [web], sensitive: false}
  STRIPE_KEY: {services: [api], environments: [production]}
`

describe('envsync import', function () {
  this.timeout(30_000)
  let p: TempProject
  const store = (env = 'development') => dotenv.parse(readFileSync(p.path(`.env.${env}`)))
  const run = (...args: string[]) => runBin(['import', ...args], {cwd: p.dir})

  beforeEach(() => {
    p = new TempProject('envsync-import-')
    p.write('envsync.yaml', MANIFEST, 0o644)
  })
  afterEach(() => p.cleanup())

  it('adds manifest keys, keeps a differing store value, proposes unknown keys, leaves the file as it was, prints no value', async () => {
    const mine = canary('MINE')
    const theirs = {JWT_SECRET: canary('JWT'), DB_PASSWORD: canary('DB'), LEGACY_TOKEN: canary('LEGACY'), STRIPE_KEY: canary('STRIPE')}
    p.write('.env.development', `DB_PASSWORD=${mine}\n`)
    const source = `# the old file\nJWT_SECRET=${theirs.JWT_SECRET}\nDB_PASSWORD=${theirs.DB_PASSWORD}\nexport LEGACY_TOKEN="${theirs.LEGACY_TOKEN}"\nSTRIPE_KEY=${theirs.STRIPE_KEY}\nAPI_URL=https://api.shop.test\n`
    p.write('.env', source, 0o644)

    const r = await run('development', '.env')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(store()).to.deep.equal({DB_PASSWORD: mine, JWT_SECRET: theirs.JWT_SECRET, API_URL: 'https://api.shop.test'})
    expect(readFileSync(p.path('.env'), 'utf8'), 'the source file is never modified').to.equal(source)
    expect(r.stdout).to.match(/JWT_SECRET\s+imported/)
    expect(r.stdout).to.match(/DB_PASSWORD\s+differs: store value kept \(--overwrite replaces it\)/)
    expect(r.stdout).to.match(/STRIPE_KEY\s+the manifest sets it only in other environments: not imported/)
    expect(r.stdout).to.match(/LEGACY_TOKEN\s+not in the manifest: not imported/)
    // The unknown key is proposed as a manifest entry, for the services that keep secrets (not the public web).
    expect(r.stdout).to.include('Not in the manifest; add under secrets: to manage them:\n  LEGACY_TOKEN:\n    services: [api]\n    description: imported from .env')
    expect(r.stdout).to.include('development: 2 values imported into .env.development from .env (5 keys read)')
    assertNoLeak([mine, ...Object.values(theirs)], r.stdout, r.stderr)

    const again = await run('development', '.env', '--overwrite', '--json')
    expect(again.exitCode, again.stdout).to.equal(0)
    const result = JSON.parse(again.stdout).result
    expect(result.keys).to.deep.include.members([
      {key: 'DB_PASSWORD', action: 'updated'},
      {key: 'JWT_SECRET', action: 'unchanged'},
      {key: 'LEGACY_TOKEN', action: 'not-in-manifest'},
    ])
    expect(result.written).to.equal(1)
    expect(result.proposals.map((x: {key: string}) => x.key)).to.deep.equal(['LEGACY_TOKEN'])
    expect(store().DB_PASSWORD).to.equal(theirs.DB_PASSWORD)
    expect(store()).to.not.have.property('LEGACY_TOKEN')
    assertNoLeak([mine, ...Object.values(theirs)], again.stdout, again.stderr)
  })

  it('in a terminal, a differing value is replaced only when you say so; a protected environment asks for its name', async function () {
    if (!tmuxAvailable()) this.skip()
    const [old, fresh, stripe] = [canary('OLD'), canary('NEW'), canary('STRIPE')]
    p.write('.env.development', `DB_PASSWORD=${old}\n`)
    p.write('.env', `DB_PASSWORD=${fresh}\nSTRIPE_KEY=${stripe}\n`, 0o644)
    const t = new TmuxSession()
    try {
      t.start(`cd ${sh(p.dir)} && env NO_COLOR=1 ${sh(process.execPath)} ${sh(BIN)} import development .env && ${sh(process.execPath)} ${sh(BIN)} import production .env`)
      await t.waitFor("? .env.development has other values for DB_PASSWORD. Replace them with .env's? (y/N)")
      t.type('y')
      t.keys('Enter')
      await t.waitFor('? Import 2 values into .env.production in production. Type "production" to confirm:')
      t.type('production')
      t.keys('Enter')
      const screen = await t.waitFor(/__EXIT_\d+__/)
      expect(screen, screen).to.include('__EXIT_0__')
      expect(screen).to.match(/DB_PASSWORD\s+replaced/)
      expect(store().DB_PASSWORD).to.equal(fresh)
      expect(store('production')).to.deep.equal({DB_PASSWORD: fresh, STRIPE_KEY: stripe})
      assertNoLeak([old, fresh, stripe], screen)
    } finally {
      t.kill()
    }
  })

  it('into an encrypted store: the same import, every value encrypted on its own line (age -d reads it back)', async function () {
    requireAge(this)
    const e = new EncryptedProject(ENCRYPTED_MANIFEST.replace('  production:\n', '  production:\n    store:\n      encrypted:\n        recipients: [RECIPIENT]\n'))
    try {
      writeFileSync(e.manifest, e.text('envsync.yaml').replace('RECIPIENT', e.recipient))
      const jwt = canary('JWT')
      e.write('old.env', `JWT_SECRET=${jwt}\n`, 0o644)
      const r = await e.run(['import', 'production', 'old.env', '--yes'])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/JWT_SECRET\s+imported/)
      expect(e.text('.env.production')).to.match(/^JWT_SECRET=age:/m)
      const plain = spawnSync('age', ['-d', '-i', e.identityFile], {input: e.ciphertext('JWT_SECRET')})
      expect(plain.stdout.toString()).to.equal(jwt)
      assertNoLeak([jwt], r.stdout, r.stderr, e.text('.env.production'))
    } finally {
      e.cleanup()
    }
  })

  it('audits what it imported: a placeholder and a too-short value are warnings naming the key', async () => {
    p.write('.env', 'JWT_SECRET=changeme\nDB_PASSWORD=short\n', 0o644)
    const r = await run('development', '.env')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/warning JWT_SECRET looks like a placeholder/)
    expect(r.stdout).to.match(/warning DB_PASSWORD has 5 characters; at least 16 are required/)
    expect(r.stdout).to.not.include('changeme')
  })

  it('a .env that git tracks is flagged: its values are in the history in plain text', async function () {
    if (spawnSync('git', ['--version']).status !== 0) this.skip()
    const value = canary('TRACKED')
    p.write('.env', `JWT_SECRET=${value}\n`, 0o644)
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], {cwd: p.dir})
    git('init', '-q')
    git('add', '.env')
    git('commit', '-q', '-m', 'old days')
    const r = await run('development', '.env')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/warning \.env is committed to git: its values are in the repository history/)
    expect(r.stdout).to.include('rotate every value in it')
    expect(r.stdout).to.include('once you have checked the import you can delete it')
    assertNoLeak([value], r.stdout, r.stderr)
  })

  it('a protected environment needs --yes (or its name typed); without, nothing is written', async () => {
    p.write('prod.env', 'STRIPE_KEY=sk_live_0123456789abcdef\n', 0o644)
    const refused = await run('production', 'prod.env')
    expect(refused.exitCode).to.not.equal(0)
    expect(refused.stderr).to.include('Import 1 value into .env.production in the protected environment "production" needs confirmation')
    expect(refused.stderr).to.include('pass --yes')
    expect(() => readFileSync(p.path('.env.production'))).to.throw()
    const done = await run('production', 'prod.env', '--yes')
    expect(done.exitCode, done.stderr).to.equal(0)
    expect(store('production')).to.deep.equal({STRIPE_KEY: 'sk_live_0123456789abcdef'})
  })

  it('clear errors, nothing written: a parse error at file:line:col, a missing file, a FIFO, an unknown environment or key file', async function () {
    p.write('.env', 'JWT_SECRET=ok\nthis is not a line\n', 0o644)
    const bad = await run('development', '.env')
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.match(/\.env:2:1/)
    const missing = await run('development', 'nope.env')
    expect(missing.stderr).to.include('no file at nope.env')
    if (spawnSync('mkfifo', [p.path('fifo')]).status === 0) {
      const started = Date.now()
      const fifo = await run('development', 'fifo')
      expect(fifo.exitCode).to.not.equal(0)
      expect(fifo.stderr).to.include('fifo is a named pipe (FIFO)')
      expect(Date.now() - started).to.be.below(10_000)
    }
    const env = await run('developmnt', '.env')
    expect(env.stderr).to.include('unknown environment "developmnt"')
    expect(env.stderr).to.include('did you mean "development"?')
    writeFileSync(p.path('.env.development'), 'JWT_SECRET=x\n', {mode: 0o600})
    const same = await run('development', '.env.development')
    expect(same.stderr).to.include(".env.development is where development's values are kept already")
    expect(store()).to.deep.equal({JWT_SECRET: 'x'})
  })
})
