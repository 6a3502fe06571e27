import {writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * diff and push show plain config (`sensitive: false`) by value — `info → debug` — and keep
 * secrets fingerprinted, through the built CLI against the Docker target. A plain value that is
 * also a secret's value never shows through the plain key (a canary proves it).
 */
const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  staging:
    protected: false
    targets: {docker: {}}
secrets:
  JWT_SECRET: {services: [api]}
  LOG_LEVEL: {services: [api], sensitive: false, default: info}
  BANNER: {services: [api], sensitive: false, required: false}
  MIRROR: {services: [api], sensitive: false, required: false}
`

type Key = {key: string; action: string; local?: string; live?: string; localValue?: string; liveValue?: string}

describe('diff shows plain config values, fingerprints secrets (Docker, built CLI)', function () {
  this.timeout(60_000)
  let p: TempProject
  const run = (...args: string[]) => runBin(args, {cwd: p.dir, env: {HOME: p.dir}})
  const values = (lines: string[]) => writeFileSync(p.path('.env.staging'), lines.join('\n') + '\n', {mode: 0o600})
  const keysOf = (stdout: string): Key[] => JSON.parse(stdout).result.destinations[0].keys
  beforeEach(() => {
    p = new TempProject('envsync-plain-')
    p.write('envsync.yaml', MANIFEST)
  })
  afterEach(() => p.cleanup())

  it('info → debug for a plain key, in diff and in push\'s plan; --json carries the values of plain keys only', async () => {
    const jwt = canary('JWT')
    const jwt2 = canary('JWT')
    values([`JWT_SECRET=${jwt}`])
    expect((await run('push', 'staging', '--yes')).exitCode).to.equal(0)
    values([`JWT_SECRET=${jwt2}`, 'LOG_LEVEL=debug'])
    const d = await run('diff', 'staging')
    expect(d.exitCode, d.stderr).to.equal(0)
    expect(d.stdout).to.match(/~ LOG_LEVEL +info → debug/)
    expect(d.stdout).to.match(/~ JWT_SECRET +local \S{10} +live \S{10}/)
    const plan = await run('push', 'staging', '--dry-run')
    expect(plan.stdout).to.match(/~ LOG_LEVEL +info → debug/)
    const json = keysOf((await run('diff', 'staging', '--json')).stdout)
    expect(json.find((k) => k.key === 'LOG_LEVEL')).to.include({action: 'update', localValue: 'debug', liveValue: 'info'})
    const secret = json.find((k) => k.key === 'JWT_SECRET')!
    expect(secret).to.not.have.property('localValue')
    expect(secret).to.not.have.property('liveValue')
    assertNoLeak([jwt, jwt2], d.stdout, d.stderr, plan.stdout, JSON.stringify(json))
  })

  it('a plain value that is also a secret\'s value stays a fingerprint (canary), here and live', async () => {
    const jwt = canary('JWT')
    values([`JWT_SECRET=${jwt}`, `MIRROR=${jwt}`, `BANNER=see ${jwt} here`])
    const d = await run('diff', 'staging', '-v')
    const json = await run('diff', 'staging', '--json')
    expect(d.stdout).to.match(/\+ MIRROR +local \S{10}/)
    // A secret inside a longer plain value is redacted, the rest shows.
    expect(d.stdout).to.match(/\+ BANNER +local "see \[redacted\] here"/)
    expect(keysOf(json.stdout).find((k) => k.key === 'MIRROR')).to.not.have.property('localValue')
    expect((await run('push', 'staging', '--yes')).exitCode).to.equal(0)
    // Live: the secret changed locally, the plain key still holds its old value on the platform.
    values([`JWT_SECRET=${canary('JWT')}`])
    const after = await run('diff', 'staging', '-v', '--json')
    expect(keysOf(after.stdout).find((k) => k.key === 'MIRROR')).to.not.have.property('liveValue')
    assertNoLeak([jwt], d.stdout, d.stderr, json.stdout, after.stdout, after.stderr)
  })

  it('multi-line, quoted and very long plain values show on one line: escaped, cut with their length', async () => {
    const long = Array.from({length: 20}, (_, i) => `word${i}`).join('-').repeat(2)
    values([`JWT_SECRET=${canary('JWT')}`, 'BANNER="line one\\nline two"', `MIRROR=${long}`, 'LOG_LEVEL=" padded "'])
    const d = await run('diff', 'staging', '-v')
    expect(d.exitCode, d.stderr).to.equal(0)
    expect(d.stdout).to.include('local "line one\\nline two"')
    expect(d.stdout).to.include(`local ${long.slice(0, 32)}… (${long.length} chars)`)
    expect(d.stdout).to.include('local " padded "')
    expect(d.stdout).to.not.include(long.slice(0, 33))
    // --json has the exact values.
    const json = keysOf((await run('diff', 'staging', '--json')).stdout)
    expect(json.find((k) => k.key === 'BANNER')!.localValue).to.equal('line one\nline two')
    expect(json.find((k) => k.key === 'MIRROR')!.localValue).to.equal(long)
  })

  it('a multi-line plain value shows whole, its long lines too (no secret in the manifest); a line of a secret inside one stays hidden', async () => {
    p.write('envsync.yaml', MANIFEST.replace(/ {2}JWT_SECRET.*\n/, ''))
    values(['BANNER="first line is long\\nsecond"'])
    const d = await run('diff', 'staging')
    expect(d.exitCode, d.stderr).to.equal(0)
    expect(d.stdout).to.include('local "first line is long\\nsecond"').and.not.include('[redacted]')
    expect(keysOf((await run('diff', 'staging', '--json')).stdout).find((k) => k.key === 'BANNER')!.localValue).to.equal('first line is long\nsecond')
    // A secret's line is a secret, whatever plain value also has it.
    p.write('envsync.yaml', MANIFEST)
    const line = canary('PEMLINE')
    values([`JWT_SECRET="-----BEGIN KEY-----\\n${line}\\n-----END KEY-----"`, `BANNER="${line}\\nsecond"`])
    const again = await run('diff', 'staging')
    expect(again.stdout).to.include('local "[redacted]\\nsecond"')
    assertNoLeak([line], again.stdout, again.stderr)
  })
})
