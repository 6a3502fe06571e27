import {mkdirSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {TempProject} from '../helpers/project.js'
import {envsyncIn, rows} from './support.js'

/**
 * `envsync log` over lines anyone could have committed: environments named like Object's members,
 * fields carrying newlines and terminal controls, dates that do not exist. The log shows them as
 * data — one row per entry, nothing obeyed, no crash.
 */

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production: {}
secrets:
  JWT_SECRET: {services: [api]}
`

const line = (e: object) => JSON.stringify(e)

describe('log: forged and odd history lines', function () {
  this.timeout(60_000)
  let p: TempProject
  const log = (...args: string[]) => envsyncIn(p.dir, p.dir, ['log', ...args], {ENVSYNC_NOW: '2026-11-02T12:00:00Z'})
  const writeHistory = (entries: object[]) => {
    mkdirSync(p.path('.envsync'), {recursive: true})
    writeFileSync(p.path('.envsync/history.jsonl'), entries.map(line).join('\n') + '\n')
  }

  beforeEach(() => {
    p = new TempProject('envsync-log-forged-')
    p.write('envsync.yaml', MANIFEST, 0o644)
  })
  afterEach(() => p.cleanup())

  it('environments called __proto__, constructor or toString are names like any other: listed, and can be named', async () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty']
    writeHistory(names.map((environment, i) => ({time: `2026-11-01T0${i}:00:00.000Z`, user: 'Ada', environment, action: 'set', keys: ['JWT_SECRET']})))
    const r = await log()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(rows(r.stdout).map((x) => [x[2], x[4]])).to.deep.equal([...names].reverse().map((n) => [n, 'store']))
    for (const env of names) {
      const one = await log(env)
      expect(one.exitCode, `log ${env}: ${one.stdout}${one.stderr}`).to.equal(0)
      expect(rows(one.stdout)).to.have.length(1)
      expect(JSON.parse((await log(env, '--json')).stdout).result.entries).to.have.length(1)
    }
  })

  it('a newline, tab or control character in who, where, keys or the error stays inside its row, escaped; the error and who pass the redaction point', async () => {
    writeHistory([
      {time: '2026-11-01T09:00:00.000Z', user: 'Eve\n2026-11-01 10:00 Ada', ci: 'x\ty', environment: 'production', action: 'push', destination: 'railway:shop\nforged', status: 'failed', added: ['A\nB', 'C\u001b[2J'], error: 'boom\n  → run rm -rf / Authorization: Bearer abcdefghijkl123456'},
      {time: '2026-11-01T08:00:00.000Z', user: 'Bob', environment: 'production', action: 'set', keys: ['JWT_SECRET']},
    ])
    const r = await log()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines, 'a header and one line per entry').to.have.length(3)
    const [forged] = rows(r.stdout)
    expect(forged[1]).to.equal('Eve\\u000a2026-11-01 10:00 Ada (x\\u0009y)')
    expect(forged[4]).to.equal('railway shop\\u000aforged')
    expect(forged.join('  ')).to.include('+A\\u000aB +C\\u001b[2J')
    expect(lines[1]).to.include('failed (boom\\u000a')
    expect(lines[1]).to.include('Bearer [redacted]')
    expect(r.stdout).not.to.include('abcdefghijkl123456')
    expect(r.stdout).not.to.match(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/)
    // The export keeps the text (JSON escapes it), redacted the same.
    const jsonl = (await log('--format', 'jsonl')).stdout
    expect(jsonl.trimEnd().split('\n')).to.have.length(2)
    expect(JSON.parse(jsonl.split('\n')[0]).error).to.equal('boom\n  → run rm -rf / Authorization: Bearer [redacted]')
    expect((await log('--json')).stdout).not.to.include('abcdefghijkl123456')
  })

  it('--since a date that does not exist, or a span past any date: a usage error naming the accepted forms', async () => {
    writeHistory([{time: '2026-11-01T09:00:00.000Z', user: 'Ada', environment: 'production', action: 'set', keys: ['JWT_SECRET']}])
    for (const since of ['2026-02-30', '2026-13-01', '2026-11-01T25:00:00Z', '99999999999999d']) {
      const r = await log('--since', since)
      expect(r.exitCode, `--since ${since}: ${r.stdout}${r.stderr}`).to.equal(2)
      expect(r.stderr).to.include(`--since "${since}" is not a date or a span`)
      expect(r.stderr).to.include('2026-11-01T09:00:00Z), or a span back from now: 30m, 12h, 7d, 2w')
      expect(r.stdout).to.equal('')
    }
    // Real dates still select.
    expect(rows((await log('--since', '2026-02-28')).stdout)).to.have.length(1)
    expect(rows((await log('--since', '2024-02-29')).stdout)).to.have.length(1)
    expect((await log('--since', '2026-11-02')).stdout).to.include('no changes match')
  })

  it('ENVSYNC_NOW must be a real date: 2026-02-30 is refused, not read as March 2', async () => {
    const r = await envsyncIn(p.dir, p.dir, ['log', '--since', '1d'], {ENVSYNC_NOW: '2026-02-30'})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
    expect(r.stderr).to.include('ENVSYNC_NOW="2026-02-30" is not a date')
  })
})
