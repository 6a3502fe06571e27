/**
 * `envsync scan` through the built binary, on a git repository with values planted in files
 * (as is, base64 inside a blob, URL-encoded, a previous value in its grace, one value shared by
 * two environments), git-ignored logs, history (added, then deleted), near misses, the values
 * file and the Docker secrets directory, a FIFO; never printing a value or its encodings.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {EncryptedProject, git, MANIFEST as ENCRYPTED_MANIFEST, requireAge} from '../values/encrypted-support.js'

const MANIFEST = `version: 1
project: shop
services:
  backend: {}
environments:
  development: {}
  production:
    targets:
      docker: {}
secrets:
  JWT_SECRET:
    services: [backend]
    previous: JWT_SECRET_PREVIOUS
    grace: 1h
  API_KEY:
    services: [backend]
  DB_PASSWORD:
    services: [backend]
  SHARED_TOKEN:
    services: [backend]
  PIN:
    services: [backend]
  PUBLIC_URL:
    services: [backend]
    sensitive: false
`

/** A value whose last character is 'A': its near miss ends in 'B', which differs in the two bits base64 shares with the next character. */
const endingInA = (label: string) => canary(label).slice(0, -1) + 'A'

describe('envsync scan', function () {
  this.timeout(60_000)
  let p: TempProject
  const v = {
    jwt: endingInA('JWT'),
    previous: canary('PREV'),
    apiDev: canary('APIDEV'),
    // A password that URL-encoding changes.
    db: `${canary('DB')}/+=&x`,
    shared: canary('SHARED'),
    other: canary('OTHER'),
  }
  const all = Object.values(v)
  const encodings = all.flatMap((x) => [Buffer.from(x).toString('base64').slice(0, 20), Buffer.from(x).toString('base64url').slice(4, 24), encodeURIComponent(x)])

  beforeEach(() => {
    p = new TempProject('envsync-scan-')
    p.write('envsync.yaml', MANIFEST, 0o644)
    p.write('.gitignore', '.env.*\nsecrets/\nlogs/\n', 0o644)
    p.write('.env.production', `JWT_SECRET=${v.jwt}\nJWT_SECRET_PREVIOUS=${v.previous}\nDB_PASSWORD=${v.db}\nSHARED_TOKEN=${v.shared}\nPIN=1234\nPUBLIC_URL=https://shop.example.com/app\n`)
    p.write('.env.development', `API_KEY=${v.apiDev}\nSHARED_TOKEN=${v.shared}\n`)
    mkdirSync(p.path('secrets/production'), {recursive: true})
    p.write('secrets/production/JWT_SECRET', v.jwt)
    for (const d of ['src', 'logs', 'docs']) mkdirSync(p.path(d))
    git(p.dir, 'init', '-q')
  })
  afterEach(() => p.cleanup())

  const commitAll = (message: string) => {
    git(p.dir, 'add', '-A')
    git(p.dir, 'commit', '-qm', message)
  }

  it('finds each planted value — as is inside a token, base64 in a blob, URL-encoded, a previous value, one value of two environments — by file:line:column, key and environment, and says what to rotate', async () => {
    p.write('src/config.js', `const a = 1\nconst auth = "Bearer xx${v.jwt}yy"\n`)
    p.write('src/blob.txt', `line one\ncert: ${Buffer.concat([Buffer.from([7]), Buffer.from(v.jwt), Buffer.from('tail')]).toString('base64')}\n`)
    p.write('src/url.txt', `postgres://app:${encodeURIComponent(v.db)}@db:5432/app\n`)
    p.write('src/old.txt', `\n\nprevious=${v.previous}\n`)
    p.write('src/shared.txt', `token ${v.shared}\n`)
    commitAll('files')
    const r = await runBin(['scan'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    const out = r.stdout
    expect(out).to.match(/src\/config\.js:2:24\s+JWT_SECRET \(production\)\n/)
    expect(out).to.match(/src\/blob\.txt:2:\d+\s+JWT_SECRET \(production\)\s+base64\n/)
    expect(out).to.match(/src\/url\.txt:1:\d+\s+DB_PASSWORD \(production\)\s+url-encoded\n/)
    expect(out).to.match(/src\/old\.txt:3:10\s+JWT_SECRET_PREVIOUS \(production, previous value of JWT_SECRET\)\n/)
    expect(out).to.match(/src\/shared\.txt:1:7\s+SHARED_TOKEN \(development\), SHARED_TOKEN \(production\)\n/)
    expect(out).to.include('    envsync rotate development SHARED_TOKEN\n')
    expect(out).to.include('    envsync rotate production DB_PASSWORD JWT_SECRET SHARED_TOKEN\n')
    expect(out).to.include('    envsync rotate production --finish --force\n')
    expect(out).to.match(/not looked for: 1 value shorter than 8 characters.*PIN in production/)
    expect(out).to.match(/^✗ 5 places holding a secret value: looked for 5 values of development, production in \d+ files/m)
    assertNoLeak(all, r.stdout, r.stderr)
    for (const e of encodings) expect(r.stdout + r.stderr).to.not.include(e)

    const json = await runBin(['scan', '--json'], {cwd: p.dir})
    expect(json.exitCode).to.equal(1)
    const envelope = JSON.parse(json.stdout)
    expect(envelope).to.include({ok: false, command: 'scan', exitCode: 1})
    expect(envelope.result.found).to.equal(5)
    expect(envelope.result.files.find((f: {file: string}) => f.file === 'src/config.js')).to.deep.equal({file: 'src/config.js', line: 2, column: 24, form: 'value', keys: [{environment: 'production', key: 'JWT_SECRET'}]})
    assertNoLeak(all, json.stdout, json.stderr)
    for (const e of encodings) expect(json.stdout).to.not.include(e)
  })

  it('reports no near miss: one character changed (also in base64), truncated, another case, another project’s value, plain config', async () => {
    const near = v.jwt.slice(0, -1) + 'B'
    p.write('src/near.txt', [
      near,
      v.db.slice(0, -1),
      v.apiDev.slice(1),
      v.shared.toUpperCase(),
      v.other,
      Buffer.from(near).toString('base64'),
      Buffer.concat([Buffer.from([7]), Buffer.from(near), Buffer.from('tail')]).toString('base64'),
      encodeURIComponent(v.db.slice(0, -1)),
      'see https://shop.example.com/app',
      '1234',
    ].join('\n') + '\n')
    commitAll('near misses')
    const r = await runBin(['scan'], {cwd: p.dir})
    expect(r.stdout, r.stderr).to.match(/^✓ no secret value found: looked for 5 values/m)
    expect(r.exitCode).to.equal(0)
    // The positive control: the exact value in the same file is found.
    writeFileSync(p.path('src/near.txt'), `x\n${Buffer.from(v.jwt).toString('base64')}\n`, {flag: 'a'})
    const found = await runBin(['scan'], {cwd: p.dir})
    expect(found.exitCode).to.equal(1)
    expect(found.stdout).to.match(/src\/near\.txt:12:1\s+JWT_SECRET \(production\)\s+base64/)
  })

  it('the values file and the Docker secrets directory are where values belong: skipped and counted, also when scanning the directory itself', async () => {
    p.write('src/app.js', 'nothing here\n')
    commitAll('app')
    const r = await runBin(['scan', '.'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.include('skipped: 3 files where envsync keeps values by design (.env.development, .env.production, secrets/production/JWT_SECRET)')
    assertNoLeak(all, r.stdout, r.stderr)
  })

  it('git-ignored logs only with --ignored; an explicit PATH scans every file under it', async () => {
    p.write('logs/app.log', `${'request ok\n'.repeat(50)}debug: api key ${v.apiDev}\n`)
    commitAll('nothing ignored')
    const plain = await runBin(['scan'], {cwd: p.dir})
    expect(plain.exitCode, plain.stdout).to.equal(0)
    const ignored = await runBin(['scan', '--ignored'], {cwd: p.dir})
    expect(ignored.exitCode).to.equal(1)
    expect(ignored.stdout).to.match(/logs\/app\.log:51:16\s+API_KEY \(development\)/)
    const named = await runBin(['scan', 'logs'], {cwd: p.dir})
    expect(named.exitCode).to.equal(1)
    expect(named.stdout).to.match(/logs\/app\.log:51:16/)
    assertNoLeak(all, ignored.stdout, ignored.stderr, named.stdout)
  })

  it('--history: a value added in one commit and deleted in the next is found by commit, path and line; the working tree alone is clean', async () => {
    p.write('src/app.js', 'ok\n')
    commitAll('first')
    p.write('docs/deploy.md', `# Deploy\n\nexport DB_PASSWORD='${v.db}'\n`)
    p.write('docs/near.md', `${v.jwt.slice(0, -1)}B\n`)
    commitAll('add notes')
    const leaked = git(p.dir, 'rev-parse', '--short=12', 'HEAD').trim()
    git(p.dir, 'rm', '-q', 'docs/deploy.md')
    git(p.dir, 'commit', '-qm', 'oops')
    git(p.dir, 'checkout', '-qb', 'other')
    p.write('src/branch.txt', Buffer.from(v.apiDev).toString('base64url') + '\n')
    commitAll('on a branch')
    git(p.dir, 'checkout', '-q', 'main')

    const files = await runBin(['scan'], {cwd: p.dir})
    expect(files.exitCode, files.stdout).to.equal(0)
    const r = await runBin(['scan', '--history'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    expect(r.stdout).to.include('In the git history:')
    expect(r.stdout).to.match(new RegExp(`${leaked}\\s+docs/deploy\\.md:3:21\\s+DB_PASSWORD \\(production\\)\\n`))
    expect(r.stdout).to.match(/[0-9a-f]{12}\s+src\/branch\.txt:1:1\s+API_KEY \(development\)\s+base64/)
    expect(r.stdout).to.not.include('near.md')
    expect(r.stdout).to.include('    envsync rotate production DB_PASSWORD\n')
    expect(r.stdout).to.match(/4 commits \(\d+ blobs\)/)
    const json = JSON.parse((await runBin(['scan', '--history', '--json'], {cwd: p.dir})).stdout)
    expect(json.result.history).to.deep.include({commit: leaked, path: 'docs/deploy.md', line: 3, column: 21, form: 'value', keys: [{environment: 'production', key: 'DB_PASSWORD'}]})
    expect(json.result.scanned.commits).to.equal(4)
    assertNoLeak(all, r.stdout, r.stderr, JSON.stringify(json))
  })

  it('a FIFO in the tree or named does not hang; a link is not followed', async function () {
    if (spawnSync('mkfifo', [p.path('src/pipe')]).status !== 0) this.skip()
    // Outside what is scanned (git-ignored), reachable through the link only.
    p.write('secrets/outside.txt', v.jwt)
    execFileSync('ln', ['-s', p.path('secrets/outside.txt'), p.path('src/link')])
    const named = await runBin(['scan', 'src/pipe', 'src/link'], {cwd: p.dir})
    expect(named.exitCode, named.stdout + named.stderr).to.equal(0)
    expect(named.stdout).to.match(/2 special files \(symbolic links, FIFOs, devices\)/)
    const under = await runBin(['scan', 'src'], {cwd: p.dir})
    expect(under.exitCode, under.stdout + under.stderr).to.equal(0)
    expect(under.stdout).to.match(/2 special files/)
    const project = await runBin(['scan'], {cwd: p.dir})
    expect(project.exitCode, project.stdout + project.stderr).to.equal(0)
  })

  it('exit 2 on bad input: a PATH that does not exist, an unknown environment, --history outside git, a mistyped flag', async () => {
    const missing = await runBin(['scan', 'nowhere'], {cwd: p.dir})
    expect(missing.exitCode).to.equal(2)
    expect(missing.stderr).to.include('nowhere does not exist')
    const env = await runBin(['scan', '-e', 'prod'], {cwd: p.dir})
    expect(env.exitCode).to.equal(2)
    expect(env.stderr).to.include('unknown environment "prod"')
    const flag = await runBin(['scan', '--histroy'], {cwd: p.dir})
    expect(flag.exitCode).to.equal(2)
    const q = new TempProject('envsync-scan-nogit-')
    try {
      q.write('envsync.yaml', MANIFEST, 0o644)
      const h = await runBin(['scan', '--history'], {cwd: q.dir})
      expect(h.exitCode).to.equal(2)
      expect(h.stderr).to.include('not in a git repository')
      expect((await runBin(['scan'], {cwd: q.dir})).exitCode).to.equal(0)
    } finally {
      q.cleanup()
    }
  })

  it('-e narrows to an environment’s values', async () => {
    p.write('src/dev.txt', v.apiDev)
    commitAll('dev')
    expect((await runBin(['scan', '-e', 'production'], {cwd: p.dir})).exitCode).to.equal(0)
    expect((await runBin(['scan', '-e', 'development'], {cwd: p.dir})).exitCode).to.equal(1)
  })
})

describe('envsync scan: a store this machine cannot read', function () {
  this.timeout(60_000)

  it('is named as not scanned (exit by what was found); named with -e it is an error', async function () {
    requireAge(this)
    const p = new EncryptedProject(ENCRYPTED_MANIFEST.replace('  production:\n', '  production:\n    store:\n      encrypted:\n        recipients: [RECIPIENT]\n'))
    try {
      writeFileSync(p.manifest, p.text('envsync.yaml').replace('RECIPIENT', p.recipient))
      expect((await p.run(['generate', 'production'])).exitCode).to.equal(0)
      const staging = canary('STAGING')
      p.write('.env.staging', `JWT_SECRET=${staging}\n`)
      p.write('notes.txt', `${staging}\n`)
      const stranger = path.join(p.home, 'stranger')
      mkdirSync(stranger)
      const r = await p.run(['scan'], {HOME: stranger})
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(r.stdout).to.include('not scanned for: production (no key for its encrypted store)')
      expect(r.stdout).to.match(/notes\.txt:1:1\s+JWT_SECRET \(staging\)/)
      const json = JSON.parse((await p.run(['scan', '--json'], {HOME: stranger})).stdout)
      expect(json.result.notScanned).to.have.length(1)
      expect(json.result.notScanned[0]).to.include({environment: 'production', reason: 'no key for its encrypted store'})
      const named = await p.run(['scan', '-e', 'production'], {HOME: stranger})
      expect(named.exitCode).to.not.equal(0)
      expect(named.exitCode).to.not.equal(1)
      assertNoLeak([staging], r.stdout, r.stderr, JSON.stringify(json))
    } finally {
      p.cleanup()
    }
  })
})
