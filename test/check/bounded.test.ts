import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {REGEX_TIME_LIMIT_MS, testRegexes} from '../../src/check/regex.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {cleanValues, envText, smallManifest} from './support.js'

/**
 * Nothing a user writes can stall envsync: a backtracking regex format is stopped after
 * REGEX_TIME_LIMIT_MS and reported; a FIFO, a device or a directory given as the manifest or a
 * values file is refused before any read; files are read up to 8 MiB. Through the real binary,
 * each run under a deadline far below what the old code took (it never finished).
 */

const DEADLINE_MS = 10_000

async function timed(args: string[], cwd: string): Promise<CliResult & {ms: number}> {
  const t0 = Date.now()
  const r = await Promise.race([
    runBin(args, {cwd}),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`envsync ${args.join(' ')} still running after ${DEADLINE_MS} ms`)), DEADLINE_MS)),
  ])
  return {...r, ms: Date.now() - t0}
}

const json = (r: CliResult) => JSON.parse(r.stdout)

const EVIL = `  EVIL_CODE:
    services: [backend]
    sensitive: false
    format: {regex: "(a+)+b"}
`

describe('bounded: user regexes and special files (real binary)', function () {
  this.timeout(60_000)
  let p: TempProject
  beforeEach(() => (p = new TempProject('envsync-bounded-')))
  afterEach(() => p.cleanup())

  it('a backtracking regex format is stopped and reported by check, and push refuses quickly', async () => {
    p.write('envsync.yaml', smallManifest(EVIL).replace('  production: {}', '  production:\n    targets: {docker: {}}'), 0o644)
    // 2^60 steps for the old code: it never returned.
    p.write('.env.production', envText({...cleanValues(), VITE_API_URL: 'https://api.shop.io', EVIL_CODE: `${'a'.repeat(60)}c`}))
    const check = await timed(['check', 'production', '--json'], p.dir)
    expect(check.exitCode, check.stdout).to.equal(1)
    const finding = json(check).result.findings.find((f: {key: string}) => f.key === 'EVIL_CODE')
    expect(finding).to.include({severity: 'error', rule: 'format'})
    expect(finding.message).to.include(`ran over ${REGEX_TIME_LIMIT_MS} ms`)
    expect(finding.hint).to.include('(a+)+')

    const push = await timed(['push', 'production', '--yes'], p.dir)
    expect(push.exitCode).to.not.equal(0)
    expect(push.stdout + push.stderr).to.include('EVIL_CODE')

    // The hint, followed: the pattern without nested repetition is accepted and judged.
    p.write('envsync.yaml', smallManifest(EVIL.replace('(a+)+b', 'a+b')), 0o644)
    const fixed = await timed(['check', 'production', '--json'], p.dir)
    expect(json(fixed).result.findings.map((f: {key: string; rule: string}) => `${f.rule} ${f.key}`)).to.deep.equal(['format EVIL_CODE'])
    expect(json(fixed).result.findings[0].message).to.include('is not a value matching /a+b/')
  })

  it('a backtracking regex on a default is a manifest error at the regex, not a hang at load', async () => {
    p.write('envsync.yaml', smallManifest(`${EVIL}    default: ${'a'.repeat(60)}c\n`), 0o644)
    const r = await timed(['check', 'production', '--json'], p.dir)
    expect(r.exitCode).to.equal(2)
    const error = json(r).error
    expect(error.code).to.equal('MANIFEST_INVALID')
    expect(error.message).to.include('the format regex of EVIL_CODE ran over')
    // '    format: {regex: "(a+)+b"}' on line 24: the pattern at col 21.
    expect([error.line, error.column]).to.deep.equal([24, 21])
  })

  it('the manifest as /dev/zero, a FIFO or a directory: refused at once, exit 2', async () => {
    spawnSync('mkfifo', [p.path('fifo.yaml')])
    mkdirSync(p.path('proj'))
    for (const [manifest, what] of [
      ['/dev/zero', 'is a device'],
      ['fifo.yaml', 'is a named pipe (FIFO)'],
      ['proj', 'is a directory'],
    ]) {
      const r = await timed(['check', 'production', '-m', manifest, '--json'], p.dir)
      expect(r.exitCode, `${manifest}: ${r.stdout}`).to.equal(2)
      expect(json(r).error.code, manifest).to.equal('MANIFEST_NOT_A_FILE')
      expect(json(r).error.message, manifest).to.include(what)
      expect(r.ms, manifest).to.be.below(DEADLINE_MS)
    }
    // A directory's hint, followed: init there, or point at the file inside.
    const dir = json(await timed(['check', 'production', '-m', 'proj', '--json'], p.dir)).error.suggestion
    expect(dir).to.include('envsync init --dir proj')
    writeFileSync(p.path('proj/envsync.yaml'), smallManifest())
    const inside = json(await timed(['check', 'production', '-m', 'proj', '--json'], p.dir)).error.suggestion
    expect(inside).to.equal('pass the file itself: --manifest proj/envsync.yaml')
    const followed = await timed(['check', 'production', '--manifest', 'proj/envsync.yaml', '--json'], p.dir)
    expect(json(followed).result.environment).to.equal('production')
  })

  it('a values file that is a FIFO, a device or a directory: refused at once, exit 2', async () => {
    const manifest = smallManifest().replace('  production: {}', '  production: {file: values/prod.env}')
    p.write('envsync.yaml', manifest, 0o644)
    mkdirSync(p.path('values'))
    spawnSync('mkfifo', [p.path('values/prod.env')])
    const fifo = await timed(['check', 'production', '--json'], p.dir)
    expect(fifo.exitCode, fifo.stdout).to.equal(2)
    expect(json(fifo).error).to.include({code: 'VALUES_NOT_A_FILE', file: 'values/prod.env'})
    expect(json(fifo).error.message).to.include('named pipe')

    p.write('envsync.yaml', manifest.replace('values/prod.env', '/dev/zero'), 0o644)
    const zero = await timed(['check', 'production', '--json'], p.dir)
    expect(json(zero).error.code).to.equal('VALUES_NOT_A_FILE')

    // Another environment's values file as a FIFO only limits the reuse comparison.
    p.write('envsync.yaml', smallManifest().replace('  development: {}', '  development: {file: values/prod.env}'), 0o644)
    p.write('.env.production', envText({...cleanValues(), VITE_API_URL: 'https://api.shop.io'}))
    const other = await timed(['check', 'production', '--json'], p.dir)
    expect(other.exitCode, other.stdout).to.equal(0)
    expect(json(other).result.findings.map((f: {rule: string}) => f.rule)).to.deep.equal(['reused'])
  })

  it('a values file over 8 MiB is refused with its limit named', async () => {
    p.write('envsync.yaml', smallManifest(), 0o644)
    p.write('.env.production', `JWT_SECRET=${'x'.repeat(8 * 1024 * 1024)}\n`)
    const r = await timed(['check', 'production', '--json'], p.dir)
    expect(r.exitCode).to.equal(2)
    expect(json(r).error.code).to.equal('VALUES_TOO_LARGE')
    expect(json(r).error.message).to.include('a values file may be at most 8388608 bytes')
  })
})

describe('testRegexes: one bounded batch', function () {
  this.timeout(30_000)
  it('judges thousands of matches right, and stops only the ones that backtrack', () => {
    const items = Array.from({length: 3000}, (_, i) => ({pattern: `[a-z]+-${i % 7}`, value: i % 3 ? `abc-${i % 7}` : `abc-${(i + 1) % 7}`}))
    items.splice(1000, 0, {pattern: '(a+)+b', value: `${'a'.repeat(40)}c`})
    items.splice(2000, 0, {pattern: '(x|x)*y', value: `${'x'.repeat(40)}z`})
    const t0 = Date.now()
    const out = testRegexes(items)
    const ms = Date.now() - t0
    expect(out[1000]).to.equal('timeout')
    expect(out[2000]).to.equal('timeout')
    const rest = items.map((it, i) => [it, out[i]] as const).filter((_, i) => i !== 1000 && i !== 2000)
    for (const [it, o] of rest) expect(o, `${it.pattern} ${it.value}`).to.equal(new RegExp(`^(?:${it.pattern})$`, 'u').test(it.value))
    // Each stopped match costs at most two limits (the run it stopped, then alone).
    expect(ms).to.be.below(4 * REGEX_TIME_LIMIT_MS + 2000)
  })
})
