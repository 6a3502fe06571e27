/**
 * import, as reviewers found it: "delete it" only when every value is in the store (else what was
 * kept back and the --overwrite command), no entry proposed under a name the manifest rejects, a
 * .env of 200k keys imports, and a FIFO's error names it once.
 */
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  development: {}
secrets:
  JWT_SECRET: {services: [api]}
  DB_PASSWORD: {services: [api]}
`

describe('envsync import (review)', function () {
  this.timeout(120_000)
  let p: TempProject
  const run = (...args: string[]) => runBin(['import', ...args], {cwd: p.dir})

  beforeEach(() => {
    p = new TempProject('envsync-import-review-')
    p.write('envsync.yaml', MANIFEST, 0o644)
  })
  afterEach(() => p.cleanup())

  it('a value kept back: no "delete it", the key and the --overwrite command instead; all in: delete it', async () => {
    const mine = canary('MINE')
    const theirs = canary('THEIRS')
    const db = canary('DB')
    p.write('.env.development', `JWT_SECRET=${mine}\n`)
    p.write('.env', `JWT_SECRET=${theirs}\nDB_PASSWORD=${db}\n`, 0o644)
    const r = await run('development', '.env')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).not.to.include('delete it')
    expect(r.stdout).to.include('kept back')
    expect(r.stdout).to.include('JWT_SECRET')
    expect(r.stdout).to.include('envsync import development .env --overwrite')
    const again = await run('development', '.env', '--overwrite')
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.include('delete it')
    expect(dotenv.parse(readFileSync(p.path('.env.development'))).JWT_SECRET).to.equal(theirs)
    assertNoLeak([mine, theirs, db], r.stdout, r.stderr, again.stdout, again.stderr)
  })

  it('a key the manifest would reject is not proposed as an entry; it says why and what to rename it to', async () => {
    const v = canary('BAD')
    p.write('.env', `my-key=${v}\nGOOD_ONE=${canary('GOOD')}\n`, 0o644)
    const r = await run('development', '.env')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).not.to.match(/^\s+my-key:/m)
    expect(r.stdout).to.match(/^\s+GOOD_ONE:/m)
    expect(r.stdout).to.include('not a valid manifest key')
    expect(r.stdout).to.include('MY_KEY')
    expect(r.stdout).not.to.include('delete it')
    assertNoLeak([v], r.stdout, r.stderr)
  })

  it('a .env of 200,000 keys imports without overflowing the stack', async () => {
    const lines: string[] = []
    for (let i = 0; i < 200_000; i++) lines.push(`K${i}=v`)
    p.write('.env', `JWT_SECRET=${canary('JWT')}\n${lines.join('\n')}\n`, 0o644)
    const r = await run('development', '.env')
    expect(r.stderr).not.to.include('Maximum call stack')
    expect(r.exitCode, r.stderr.slice(0, 500)).to.equal(0)
    expect(r.stdout).to.include('1 value imported')
  })

  it('a FIFO: the error names it once', async function () {
    if (spawnSync('mkfifo', [p.path('fifo')]).status !== 0) this.skip()
    const r = await run('development', 'fifo')
    expect(r.exitCode).to.not.equal(0)
    expect(r.stderr).to.include('fifo is a named pipe (FIFO)')
    expect(r.stderr.match(/fifo/g)?.length, r.stderr).to.equal(1)
  })
})
