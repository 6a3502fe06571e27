/**
 * `envsync scan` against what an adversarial review found: a value in a file name, names that
 * are not UTF-8 or hold a newline, a values file that does not parse, partial and form
 * URL-encoding, wrapped base64, history paths git would C-quote, a symbolic link named as PATH.
 */
import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {Matcher} from '../../src/scan/match.js'
import {needlesOf} from '../../src/scan/needles.js'
import {findAll} from '../../src/scan/views.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {git} from '../values/encrypted-support.js'

const MANIFEST = `version: 1
project: shop
services:
  backend: {}
environments:
  production: {}
secrets:
  JWT_SECRET:
    services: [backend]
  DB_PASSWORD:
    services: [backend]
`

/** The distinct places found (one place may be found by a needle and by a decoded view). */
const found = (values: string[], text: string) => [...new Set(findAll(new Matcher(needlesOf(values)), Buffer.from(text)).map((m) => JSON.stringify({value: m.needle.value, form: m.form ?? m.needle.form, at: m.at})))].map((j) => JSON.parse(j))

describe('scan: encodings a fixed needle set misses', () => {
  const password = 'p@ss word$x+y&z=1'

  it('finds a value URL-encoded in part, form-encoded (+ for a space), in lowercase hex — at the place in the original text', () => {
    for (const text of ['postgres://u:p%40ss%20word$x+y&z=1@h/db', 'postgres://u:p%40ss+word%24x%2By%26z%3D1@h/db', 'postgres://u:p%40ss%20word%24x%2by%26z%3d1@h/db']) {
      expect(found([password], text), text).to.deep.equal([{value: 0, form: 'url-encoded', at: 'postgres://u:'.length}])
    }
  })

  it('finds a form-encoded value with no escape at all (+ for each space)', () => {
    expect(found(['correct horse battery'], 'q=correct+horse+battery&x=1')).to.deep.equal([{value: 0, form: 'url-encoded', at: 2}])
  })

  it('finds base64 wrapped at 64 and 76 columns with the value across a line break, also indented', () => {
    const value = canary('WRAP')
    for (const width of [64, 76]) {
      for (let before = 0; before < 60; before += 7) {
        const b64 = Buffer.concat([Buffer.alloc(before, 'A'), Buffer.from(value), Buffer.alloc(30, 'B')]).toString('base64')
        const lines = b64.match(new RegExp(`.{1,${width}}`, 'g'))!
        const text = `-----BEGIN DATA-----\n${lines.map((l) => `  ${l}`).join('\r\n')}\n-----END DATA-----\n`
        expect(found([value], text).length, `${width}/${before}`).to.be.greaterThan(0)
      }
    }
  })

  it('no near miss in those forms: one character changed, percent-encoded or wrapped', () => {
    const value = canary('NEAR')
    const near = value.slice(0, -1) + (value.endsWith('x') ? 'y' : 'x')
    const wrapped = Buffer.concat([Buffer.alloc(40, 'A'), Buffer.from(near), Buffer.alloc(30, 'B')]).toString('base64').match(/.{1,64}/g)!.join('\n')
    expect(found([value, password], `${encodeURIComponent(near).replace(/_/g, '%5f')}\n${wrapped}\np%40ss+word%24x%2By%26z%3D2\n`)).to.deep.equal([])
  })
})

describe('envsync scan: hostile names, a damaged store, links', function () {
  this.timeout(60_000)
  let p: TempProject
  const jwt = canary('JWT')
  const db = canary('DB')

  beforeEach(() => {
    p = new TempProject('envsync-scan-adv-')
    p.write('envsync.yaml', MANIFEST, 0o644)
    p.write('.gitignore', '.env.*\n', 0o644)
    p.write('.env.production', `JWT_SECRET=${jwt}\nDB_PASSWORD=${db}\n`)
    git(p.dir, 'init', '-q')
  })
  afterEach(() => p.cleanup())

  it('a value in a file name is a finding, and the name is shown redacted (text and --json)', async () => {
    mkdirSync(p.path('leak'))
    p.write(`leak/${jwt}.log`, `${jwt}\n`)
    p.write(`leak/${db}.txt`, 'ok\n')
    const r = await runBin(['scan', 'leak'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    expect(r.stdout).to.match(/leak\/\[redacted\]\.log \(in its name\)\s+JWT_SECRET \(production\)\n/)
    expect(r.stdout).to.match(/leak\/\[redacted\]\.log:1:1\s+JWT_SECRET \(production\)\n/)
    expect(r.stdout).to.match(/leak\/\[redacted\]\.txt \(in its name\)\s+DB_PASSWORD \(production\)\n/)
    const json = await runBin(['scan', 'leak', '--json'], {cwd: p.dir})
    const files = JSON.parse(json.stdout).result.files
    expect(files).to.deep.include({file: 'leak/[redacted].txt', line: 0, column: 6, form: 'value', keys: [{environment: 'production', key: 'DB_PASSWORD'}], inName: true})
    assertNoLeak([jwt, db], r.stdout, r.stderr, json.stdout, json.stderr)
  })

  it('a file whose name is not UTF-8 is scanned (git listing and a PATH walk) and shown with \\x escapes', async () => {
    const name = Buffer.concat([Buffer.from(p.dir + '/caf'), Buffer.from([0xe9]), Buffer.from('.txt')])
    writeFileSync(name, `token ${jwt}\n`)
    for (const args of [['scan'], ['scan', '.']]) {
      const r = await runBin(args, {cwd: p.dir})
      expect(r.exitCode, args.join(' ') + r.stdout + r.stderr).to.equal(1)
      expect(r.stdout).to.match(/caf\\xe9\.txt:1:7\s+JWT_SECRET \(production\)/)
      assertNoLeak([jwt, db], r.stdout, r.stderr)
    }
  })

  it('a newline, tab or ESC in a name does not break a row or forge one; --json keeps the name exact', async () => {
    p.write('new\n  forged.txt:9:9  JWT_SECRET (production)\n.txt', `${db}\n`)
    p.write('tab\there\u001b[2J.txt', `${db}\n`)
    const r = await runBin(['scan', '.'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    expect(r.stdout).to.include('  new\\n  forged.txt:9:9  JWT_SECRET (production)\\n.txt:1:1')
    expect(r.stdout).to.include('  tab\\there\\u001b[2J.txt:1:1')
    expect(r.stdout.split('\n').filter((l) => l.startsWith('  forged'))).to.deep.equal([])
    expect(r.stdout).to.not.include('\u001b')
    const json = JSON.parse((await runBin(['scan', '.', '--json'], {cwd: p.dir})).stdout)
    expect(json.result.files.map((f: {file: string}) => f.file).sort()).to.deep.equal(['new\n  forged.txt:9:9  JWT_SECRET (production)\n.txt', 'tab\there\u001b[2J.txt'])
  })

  it('--history: a path git would C-quote is given as it is; a value in a committed path is redacted', async () => {
    p.write('sp ace\ttab.txt', `${db}\n`)
    p.write(`${jwt}.txt`, 'nothing\n')
    p.write(`${jwt}.log`, `log ${db}\n`)
    git(p.dir, 'add', '-A')
    git(p.dir, 'commit', '-qm', 'x')
    const r = await runBin(['scan', '--history', '--json'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    const history = JSON.parse(r.stdout).result.history
    expect(history.map((h: {path: string; line: number}) => `${h.path}:${h.line}`).sort()).to.deep.equal(['[redacted].log:0', '[redacted].log:1', '[redacted].txt:0', 'sp ace\ttab.txt:1'])
    const text = await runBin(['scan', '--history'], {cwd: p.dir})
    expect(text.stdout).to.match(/sp ace\\ttab\.txt:1:1\s+DB_PASSWORD/)
    expect(text.stdout).to.match(/\[redacted\]\.txt \(in its name\)\s+JWT_SECRET/)
    assertNoLeak([jwt, db], r.stdout, r.stderr, text.stdout, text.stderr)
  })

  it('a values file that does not parse is bad input (exit 2, naming the file and line), not an all-clear', async () => {
    p.write('.env.production', `JWT_SECRET=${jwt}\nDB_PASSWORD="${db}\n`)
    p.write('notes.txt', `${jwt}\n`)
    const r = await runBin(['scan'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
    expect(r.stdout).to.not.include('no secret value found')
    expect(r.stderr).to.match(/\.env\.production/)
    expect(r.stderr).to.match(/line 2|:2\b/)
    assertNoLeak([jwt, db], r.stdout, r.stderr)
  })

  it('a symbolic link to a directory named as PATH is scanned; links under it are still not followed', async () => {
    const outside = new TempProject('envsync-scan-outside-')
    try {
      outside.write('log.txt', `${jwt}\n`)
      mkdirSync(outside.path('deeper'))
      outside.write('deeper/other.txt', `${db}\n`)
      symlinkSync(outside.path('deeper'), outside.path('link'))
      symlinkSync(outside.dir, p.path('logs'))
      const r = await runBin(['scan', 'logs'], {cwd: p.dir})
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(r.stdout).to.match(/logs\/log\.txt:1:1\s+JWT_SECRET/)
      expect(r.stdout).to.match(/logs\/deeper\/other\.txt:1:1\s+DB_PASSWORD/)
      expect(r.stdout).to.not.include('logs/link/')
      expect(r.stdout).to.include('1 special file')
    } finally {
      outside.cleanup()
    }
  })
})
