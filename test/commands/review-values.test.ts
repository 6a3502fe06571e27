/**
 * Defects reviewers reproduced in the value commands (issue 10), through the built CLI: recipient
 * lists shared by YAML anchors, the age key handed to `run`'s child, an identity file inside the
 * git work tree, merge conflict markers, NUL bytes, lost updates between two `set`s, an empty
 * `echo "" |`, and set's own format words redacted.
 */
import {spawn} from 'node:child_process'
import {copyFileSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {inspect} from 'node:util'

import {expect} from 'chai'
import dotenv from 'dotenv'
import {parse} from 'yaml'

import {forgetSecrets, redact, registerSecret} from '../../src/redact.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN, runBin} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'
import {ageKeygen, EncryptedProject, requireAge} from '../values/encrypted-support.js'

const envelope = (stdout: string) => JSON.parse(stdout) as {ok: boolean; error?: {code: string; message: string; suggestion?: string}}

describe('review: value commands', function () {
  this.timeout(60_000)
  let p: TempProject
  afterEach(() => p?.cleanup())

  it('keys add on recipients shared by a YAML anchor changes only the environment named', async function () {
    requireAge(this)
    const e = new EncryptedProject()
    p = e
    const ci = ageKeygen(path.join(e.home, 'ci.key'))
    const bob = ageKeygen(path.join(e.home, 'bob.key'))
    const carol = ageKeygen(path.join(e.home, 'carol.key'))
    e.write('envsync.yaml', readFileSync(e.manifest, 'utf8').replace('  staging: {}', `  staging: {store: {encrypted: {recipients: &team [${e.recipient}, ${ci}]}}}`).replace('  production:\n', '  production:\n    store: {encrypted: {recipients: *team}}\n'), 0o644)
    const recipients = () => {
      const m = parse(readFileSync(e.manifest, 'utf8')) as {environments: Record<string, {store: {encrypted: {recipients: string[]}}}>}
      return {staging: m.environments.staging.store.encrypted.recipients, production: m.environments.production.store.encrypted.recipients}
    }
    const added = await e.run(['keys', 'add', 'production', bob])
    expect(added.exitCode, added.stderr).to.equal(0)
    expect(recipients()).to.deep.equal({staging: [e.recipient, ci], production: [e.recipient, ci, bob]})
    const again = await e.run(['keys', 'add', 'staging', carol])
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(recipients()).to.deep.equal({staging: [e.recipient, ci, carol], production: [e.recipient, ci, bob]})
  })

  it('run does not hand the age private key (ENVSYNC_AGE_KEY, ENVSYNC_AGE_KEY_FILE) to the command', async () => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest())
    p.write('.env.development', `JWT_SECRET=${canary('JWT')}\nDATABASE_URL=postgres://app:${canary('PW')}@db:5432/shop\n`)
    const r = await runBin(['run', 'development', '--', process.execPath, '-e', 'console.log(["ENVSYNC_AGE_KEY","ENVSYNC_AGE_KEY_FILE","JWT_SECRET"].map(k => k + "=" + (k in process.env)).join(" "))'], {cwd: p.dir, env: {ENVSYNC_AGE_KEY: 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ', ENVSYNC_AGE_KEY_FILE: '/nonexistent/age.key'}})
    expect(r.stdout.trim(), r.stderr).to.equal('ENVSYNC_AGE_KEY=false ENVSYNC_AGE_KEY_FILE=false JWT_SECRET=true')
  })

  it('refuses an identity file inside the git work tree, not only inside the manifest directory', async function () {
    requireAge(this)
    const e = new EncryptedProject()
    p = e
    // The repository is e.dir; the manifest lives in app/ (a monorepo).
    mkdirSync(e.path('app'))
    e.write('app/envsync.yaml', readFileSync(e.manifest, 'utf8').replace('  production:\n', `  production:\n    store: {encrypted: {recipients: [${e.recipient}]}}\n`), 0o644)
    const secret = canary('JWT') + '-long-enough-value'
    const set = await runBin(['set', 'production', 'JWT_SECRET', '--yes'], {cwd: e.path('app'), input: secret, env: {HOME: e.home, XDG_CONFIG_HOME: undefined, ENVSYNC_AGE_KEY: undefined, ENVSYNC_AGE_KEY_FILE: undefined}})
    expect(set.exitCode, set.stderr).to.equal(0)
    mkdirSync(e.path('keys'))
    copyFileSync(e.identityFile, e.path('keys/age.key'))
    const r = await runBin(['get', 'production', 'JWT_SECRET', '--json'], {cwd: e.path('app'), env: {HOME: e.home, XDG_CONFIG_HOME: undefined, ENVSYNC_AGE_KEY: undefined, ENVSYNC_AGE_KEY_FILE: e.path('keys/age.key')}})
    expect(r.exitCode).to.not.equal(0)
    expect(envelope(r.stdout).error?.code).to.equal('IDENTITY_IN_PROJECT')
    assertNoLeak([secret], r.stdout, r.stderr)
  })

  it('a merge conflict in a values file is named as one (VALUES_CONFLICT, file:line, how to resolve)', async () => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest())
    const [a, b] = [canary('OURS'), canary('THEIRS')]
    p.write('.env.development', `DATABASE_URL=postgres://app:x@db:5432/shop\n<<<<<<< HEAD\nJWT_SECRET=${a}\n=======\nJWT_SECRET=${b}\n>>>>>>> feature\n`)
    const r = await runBin(['get', 'development', 'DATABASE_URL', '--json'], {cwd: p.dir})
    expect(r.exitCode).to.not.equal(0)
    const error = envelope(r.stdout).error as {code: string; message: string; suggestion?: string; file?: string; line?: number}
    expect(error.code).to.equal('VALUES_CONFLICT')
    expect([error.file, error.line]).to.deep.equal(['.env.development', 2])
    expect(error.message).to.include('on line 2, 4, 6')
    expect(error.message).to.include('a git merge left conflict markers')
    expect(error.suggestion).to.include('git checkout --ours')
    assertNoLeak([a, b], r.stdout, r.stderr)
  })

  it('a NUL byte in a value: set refuses it naming the key; run refuses one in the file without quoting it', async () => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest('  API_TOKEN:\n    services: [backend]\n    required: false\n'))
    const secret = canary('NUL')
    const set = await runBin(['set', 'development', 'API_TOKEN', '--json'], {cwd: p.dir, input: `${secret}\0${secret}`})
    expect(set.exitCode).to.not.equal(0)
    expect(envelope(set.stdout).error?.message).to.include('API_TOKEN')
    p.write('.env.development', `JWT_SECRET=${secret}\0tail-${secret}\nDATABASE_URL=postgres://app:${canary('PW')}@db:5432/shop\n`)
    const run = await runBin(['run', 'development', '--', process.execPath, '-e', '0'], {cwd: p.dir})
    expect(run.exitCode).to.not.equal(0)
    expect(run.stderr).to.include('JWT_SECRET')
    assertNoLeak([secret], set.stdout, set.stderr, run.stdout, run.stderr)
  })

  it('redaction finds a value in the escaped forms util.inspect and JSON print', () => {
    const value = `abc\0${canary('ESC')}\n\t'"\\end`
    registerSecret(value)
    for (const text of [inspect(value), JSON.stringify(value), `Received ${inspect(value)}`]) expect(redact(text)).to.not.include(value.slice(4, 20))
    forgetSecrets()
  })

  it('two sets at once: the one that waited at its prompt keeps the other one\'s change', async () => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest('  API_TOKEN:\n    services: [backend]\n    required: false\n'))
    const [jwt, token] = [canary('JWT') + canary('JWT2'), canary('TOK')]
    p.write('.env.development', 'DATABASE_URL=postgres://app:pw@db:5432/shop\n')
    const waiting = spawn(process.execPath, [BIN, 'set', 'development', 'JWT_SECRET'], {cwd: p.dir, stdio: ['pipe', 'pipe', 'pipe']})
    let err = ''
    waiting.stderr.on('data', (d) => (err += d))
    const exited = new Promise<number | null>((resolve) => waiting.once('exit', resolve))
    await new Promise((resolve) => setTimeout(resolve, 2500))
    const other = await runBin(['set', 'development', 'API_TOKEN'], {cwd: p.dir, input: token})
    expect(other.exitCode, other.stderr).to.equal(0)
    waiting.stdin.end(jwt)
    expect(await exited, err).to.equal(0)
    const values = dotenv.parse(readFileSync(p.path('.env.development')))
    expect(values).to.include({JWT_SECRET: jwt, API_TOKEN: token, DATABASE_URL: 'postgres://app:pw@db:5432/shop'})
  })

  it('echo "" | set refuses to blank a value, as an empty stdin is refused', async () => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest('  API_TOKEN:\n    services: [backend]\n    required: false\n'))
    const token = canary('TOK')
    p.write('.env.development', `API_TOKEN=${token}\n`)
    const r = await runBin(['set', 'development', 'API_TOKEN'], {cwd: p.dir, input: '\n'})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('empty')
    expect(dotenv.parse(readFileSync(p.path('.env.development'))).API_TOKEN).to.equal(token)
    assertNoLeak([token], r.stdout, r.stderr)
  })

  it("set's format hint shows envsync's own example URL, not [redacted]", async () => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest())
    const r = await runBin(['set', 'development', 'DATABASE_URL'], {cwd: p.dir, input: 'mysql-not-a-url-value'})
    expect(r.exitCode).to.not.equal(0)
    expect(r.stderr).to.include('postgres://user:password@host:5432/db')
    expect(r.stderr).to.not.include('[redacted]')
  })
})

