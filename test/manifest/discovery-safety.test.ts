/**
 * Discovery uses only a manifest that is safe to follow (as git's safe.directory): one planted in
 * a shared parent directory by another user is refused with the file and the way to use it on
 * purpose, and the walk never climbs above $HOME when it starts inside it.
 */
import {chmodSync, chownSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {DOCKER_MANIFEST as MANIFEST} from '../cli/support.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

describe('manifest discovery refuses a manifest it should not trust', function () {
  this.timeout(30_000)
  let p: TempProject
  const run = (args: string[], cwd: string, env: Record<string, string | undefined> = {}) => runBin(args, {cwd, env: {ENVSYNC_MANIFEST: undefined, ...env}})

  beforeEach(() => {
    p = new TempProject('envsync-discovery-safety-')
  })
  afterEach(() => p.cleanup())

  it('a parent manifest owned by another user is refused, naming it and --manifest; named on purpose it is used', async function () {
    if (process.getuid?.() !== 0) this.skip()
    const planted = p.write('envsync.yaml', MANIFEST, 0o644)
    chownSync(planted, 65534, 65534)
    const deep = p.path('work/here')
    mkdirSync(deep, {recursive: true})
    const r = await run(['check', 'development'], deep)
    expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
    expect(r.stderr).to.include(planted)
    expect(r.stderr).to.include('owned by another user')
    expect(r.stderr).to.include(`--manifest ${planted}`)
    expect(r.stderr).not.to.match(/\n\s+at /)
    const named = await run(['check', 'development', '--json', '--manifest', planted], deep)
    expect(JSON.parse(named.stdout).result.environment).to.equal('development')
  })

  it('a manifest in a directory anyone can write (no sticky bit) is refused', async () => {
    const shared = p.path('shared')
    mkdirSync(path.join(shared, 'sub'), {recursive: true})
    writeFileSync(path.join(shared, 'envsync.yaml'), MANIFEST, {mode: 0o644})
    chmodSync(shared, 0o777)
    const r = await run(['check', 'development'], path.join(shared, 'sub'))
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('can be written by anyone')
    expect(r.stderr).to.include(path.join(shared, 'envsync.yaml'))
  })

  it('the walk stops at $HOME: a manifest above it is not used', async () => {
    p.write('envsync.yaml', MANIFEST, 0o644)
    const home = p.path('home/me')
    const cwd = path.join(home, 'project')
    mkdirSync(cwd, {recursive: true})
    const r = await run(['check', 'development'], cwd, {HOME: home})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include(`no envsync.yaml in this directory or its parents (up to ${home})`)
  })
})
