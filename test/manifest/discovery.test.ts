/**
 * Manifest discovery: with no --manifest / ENVSYNC_MANIFEST, envsync walks up from the working
 * directory to the nearest envsync.yaml (as git finds .git), stopping at the top of the git work
 * tree. Every file then resolves beside the manifest, and messages name paths from where you are.
 */
import {appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {DOCKER_MANIFEST as MANIFEST} from '../cli/support.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

describe('manifest discovery from a subdirectory', function () {
  this.timeout(30_000)
  let p: TempProject
  let deep: string
  const run = (args: string[], cwd = deep, env: Record<string, string | undefined> = {}) => runBin(args, {cwd, env: {ENVSYNC_MANIFEST: undefined, ...env}})

  beforeEach(() => {
    p = new TempProject('envsync-discovery-')
    p.write('envsync.yaml', MANIFEST, 0o644)
    deep = p.path('services/backend/src')
    mkdirSync(deep, {recursive: true})
  })
  afterEach(() => p.cleanup())

  it('generate, check and push from three levels down write and read the files beside the manifest', async () => {
    const gen = await run(['generate', 'development'])
    expect(gen.exitCode, gen.stderr).to.equal(0)
    expect(existsSync(p.path('.env.development')), 'values file beside the manifest').to.equal(true)
    expect(readdirSync(deep)).to.deep.equal([])
    appendFileSync(p.path('.env.development'), `API_TOKEN=${canary('API')}\n`)
    const values = dotenv.parse(readFileSync(p.path('.env.development')))
    expect(values.JWT_SECRET).to.have.length.above(30)
    // Paths in messages are relative to where the user is, as git shows them.
    expect(gen.stdout).to.include('../../../.env.development')

    const check = await run(['check', 'development'])
    expect(check.exitCode, check.stdout + check.stderr).to.equal(0)
    expect(check.stdout).to.include('checked in ../../../.env.development')

    const push = await run(['push', 'development', '--yes'])
    expect(push.exitCode, push.stdout + push.stderr).to.equal(0)
    expect(readFileSync(p.path('secrets/development/JWT_SECRET'), 'utf8')).to.equal(values.JWT_SECRET)
    expect(existsSync(path.join(deep, 'secrets'))).to.equal(false)
    expect(existsSync(p.path('.envsync')), 'state beside the manifest').to.equal(true)
    expect(existsSync(path.join(deep, '.envsync'))).to.equal(false)
    assertNoLeak([values.JWT_SECRET, values.API_TOKEN], gen.stdout, gen.stderr, check.stdout, check.stderr, push.stdout, push.stderr)
  })

  it('the nearest manifest wins; --manifest and ENVSYNC_MANIFEST still choose', async () => {
    p.write('services/envsync.yaml', MANIFEST.replace('development:', 'qa:'), 0o644)
    const nearest = await run(['check', 'qa', '--json'])
    expect(JSON.parse(nearest.stdout).result.environment).to.equal('qa')
    const flag = await run(['check', 'development', '--json', '--manifest', p.manifest])
    expect(JSON.parse(flag.stdout).result.environment).to.equal('development')
    const env = await run(['check', 'development', '--json'], deep, {ENVSYNC_MANIFEST: p.manifest})
    expect(JSON.parse(env.stdout).result.environment).to.equal('development')
  })

  it('stops at the top of the git work tree; not found says it looked in the directory and its parents', async () => {
    // A repository inside the project directory: the manifest above it belongs to something else.
    const repo = p.path('vendor/lib')
    mkdirSync(path.join(repo, '.git'), {recursive: true})
    mkdirSync(path.join(repo, 'src'))
    const r = await run(['check', 'development'], path.join(repo, 'src'))
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include(`no envsync.yaml in this directory or its parents (up to ${repo})`)
    expect(r.stderr).to.include('envsync init')
    // init still creates in the working directory, not where a manifest was found.
    const init = await run(['init', '--yes', '--environments', 'development'], path.join(repo, 'src'))
    expect(init.exitCode, init.stderr).to.equal(0)
    expect(existsSync(path.join(repo, 'src/envsync.yaml'))).to.equal(true)
  })
})
