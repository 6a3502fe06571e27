import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {start as startRailway, type RailwayFake, type Scope} from '../fakes/railway.js'
import {DEFAULT_API_KEY, startRenderFake, type RenderFake} from '../fakes/render.js'
import {assertNoLeak} from '../helpers/canary.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {requireOrSkip} from '../helpers/not-run.js'

/**
 * The README's team walkthrough, end to end, with real git and Debian's age: Alice sets the
 * project up and encrypts production to herself and the CI runner; Bob gets a key and a fresh
 * clone, drops a key from the manifest and pushes; CI pushes production from a clean clone with
 * only ENVSYNC_AGE_KEY; Bob's key is removed. Each person has their own HOME (and identity), and
 * the only channel between them is the git origin.
 */

const INIT = ['init', '--yes', '--project', 'shop', '--services', 'api,worker', '--environments', 'staging,production', '--secrets', 'recommended', '--targets', 'staging=docker,production=railway+render']

interface Person {
  name: string
  home: string
  /** The clone this person works in. */
  dir: string
  env: Record<string, string | undefined>
}

describe('team walkthrough: two teammates and CI share one repository', function () {
  this.timeout(240_000)

  let root: string
  let origin: string
  let railway: RailwayFake
  let render: RenderFake
  let project: {id: string; environments: Record<string, string>; services: Record<string, string>}
  let renderIds: Record<string, string>
  let railwayToken: string
  /** Every output of every command, for the canary at the end. */
  const outputs: string[] = []

  before(function () {
    const missing = ['git', 'age', 'age-keygen'].filter((tool) => spawnSync(tool, ['--version']).error)
    requireOrSkip(this, 'the team walkthrough', missing.length > 0 ? `${missing.join(', ')} not installed (Debian packages git and age)` : undefined)
  })

  beforeEach(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'envsync-team-'))
    origin = path.join(root, 'origin.git')
    git(root, ['init', '--quiet', '--bare', '--initial-branch=main', origin], {})
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api', 'worker']})
    railwayToken = railway.accountToken()
    render = await startRenderFake()
    renderIds = render.seed({services: [{name: 'api'}, {name: 'worker'}]}).services
    outputs.length = 0
  })

  afterEach(async () => {
    await railway.stop()
    await render.stopAndVerify()
    rmSync(root, {recursive: true, force: true})
  })

  /** A person with an empty HOME (XDG config inside it), their git identity, and the platforms' tokens. */
  function person(name: string): Person {
    const home = path.join(root, `home-${name}`)
    mkdirSync(home, {recursive: true})
    writeFileSync(path.join(home, '.gitconfig'), `[user]\n\tname = ${name}\n\temail = ${name}@shop.test\n[init]\n\tdefaultBranch = main\n`)
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: undefined,
      ENVSYNC_AGE_KEY: undefined,
      ENVSYNC_AGE_KEY_FILE: undefined,
      ENVSYNC_MANIFEST: undefined,
      RAILWAY_API_URL: railway.url,
      RAILWAY_API_TOKEN: railwayToken,
      RAILWAY_TOKEN: undefined,
      RENDER_API_URL: render.url,
      RENDER_API_KEY: DEFAULT_API_KEY,
    }
    return {name, home, dir: path.join(root, name), env}
  }

  async function envsync(who: Person, ...args: string[]): Promise<CliResult> {
    // Before their clone exists, a person runs envsync in their HOME (keys generate needs no project).
    const r = await runBin(args, {cwd: existsSync(who.dir) ? who.dir : who.home, env: who.env})
    outputs.push(r.stdout, r.stderr)
    return r
  }

  /** Runs envsync and expects exit 0 (the output in the failure message). */
  async function ok(who: Person, ...args: string[]): Promise<CliResult> {
    const r = await envsync(who, ...args)
    expect(r.exitCode, `${who.name}: envsync ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).to.equal(0)
    return r
  }

  function git(cwd: string, args: string[], env: Record<string, string | undefined>): string {
    const full = {...process.env, ...env}
    for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k]
    const r = spawnSync('git', args, {cwd, env: full, encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${r.stderr}`)
    outputs.push(r.stdout, r.stderr)
    return r.stdout
  }

  const gitAs = (who: Person, ...args: string[]) => git(who.dir, args, who.env)
  const clone = (who: Person) => git(root, ['clone', '--quiet', origin, who.dir], who.env)
  const commitAndPush = (who: Person, message: string) => {
    gitAs(who, 'add', '-A')
    gitAs(who, 'commit', '--quiet', '-m', message)
    gitAs(who, 'push', '--quiet', 'origin', 'HEAD:main')
  }

  /** The recipient of an identity file, as Debian's age computes it (interop: envsync's file is age's). */
  const recipientOf = (identityFile: string) => spawnSync('age-keygen', ['-y', identityFile], {encoding: 'utf8'}).stdout.trim()
  const identityFile = (who: Person) => path.join(who.home, '.config', 'envsync', 'age.key')
  /** The secret part of every AGE-SECRET-KEY line in a file (the prefix is in hints, by design). */
  const secretKeys = (file: string) => [...readFileSync(file, 'utf8').matchAll(/AGE-SECRET-KEY-1([0-9A-Z]+)/g)].map((m) => m[1])

  const scope = (service?: string): Scope => ({projectId: project.id, environmentId: project.environments.production, ...(service ? {serviceId: project.services[service]} : {})})
  const railwayWrites = () => railway.requests.filter((q) => q.operationType === 'mutation')
  const renderWrites = () => render.log().filter((e) => e.method !== 'GET')

  /** Everything git would hand a teammate: every committed file at every commit, and the patches. */
  function committed(who: Person): string {
    const files = gitAs(who, 'ls-files', '-z').split('\0').filter(Boolean)
    return [gitAs(who, 'log', '-p', '--all'), ...files.map((f) => readFileSync(path.join(who.dir, f), 'utf8'))].join('\n')
  }

  it('Alice encrypts and pushes; Bob clones, drops a key and pushes; CI pushes with ENVSYNC_AGE_KEY only; Bob\'s key is removed', async () => {
    // ---- Alice sets the project up -------------------------------------------------------
    const alice = person('alice')
    clone(alice)
    await ok(alice, ...INIT)
    // Redeploys on (so "nothing redeployed that did not change" means something).
    const manifestFile = path.join(alice.dir, 'envsync.yaml')
    writeFileSync(
      manifestFile,
      readFileSync(manifestFile, 'utf8').replace('      railway:\n', '      railway:\n        deploy: true\n').replace('      render:\n', '      render:\n        deploy: true\n'),
    )
    const aliceKeys = await ok(alice, 'keys', 'generate')
    const aliceRecipient = recipientOf(identityFile(alice))
    expect(aliceRecipient).to.match(/^age1[0-9a-z]{58}$/)
    expect(aliceKeys.stdout).to.include(aliceRecipient)

    // The CI runner's identity, made with Debian's age-keygen (kept as a CI secret, never in git).
    const ciKeyFile = path.join(root, 'ci.key')
    spawnSync('age-keygen', ['-o', ciKeyFile])
    const ciRecipient = recipientOf(ciKeyFile)

    await ok(alice, 'keys', 'add', 'production', aliceRecipient, ciRecipient)
    await ok(alice, 'keys', 'add', 'staging', aliceRecipient)
    await ok(alice, 'generate', 'production')
    await ok(alice, 'check', 'production')
    await ok(alice, 'push', 'production', '--yes')
    await ok(alice, 'push', 'staging', '--yes')

    // The values, as the platforms and Alice's Docker directory hold them: the canaries.
    const values = [
      ...Object.values(railway.variables(scope('api'))),
      ...Object.values(railway.variables(scope('worker'))),
      ...Object.values(render.envVars(renderIds.api)),
      ...Object.values(render.envVars(renderIds.worker)),
      ...readdirSync(path.join(alice.dir, 'secrets', 'staging')).filter((f) => !f.startsWith('.')).map((f) => readFileSync(path.join(alice.dir, 'secrets', 'staging', f), 'utf8')),
    ].filter((v) => v.length >= 16)
    expect(values.length).to.be.above(10)
    expect(railway.variables(scope('api'))).to.have.keys('JWT_SECRET', 'JWT_REFRESH_SECRET', 'SESSION_SECRET', 'SERVICE_INTERNAL_KEY', 'DB_PASSWORD', 'REDIS_PASSWORD')
    expect(railway.variables(scope('worker'))).to.have.keys('SERVICE_INTERNAL_KEY', 'DB_PASSWORD', 'REDIS_PASSWORD')

    // Later, someone seals JWT_SECRET on Railway and adds a variable of their own by hand.
    railway.seal(scope('api'), 'JWT_SECRET')
    railway.setVariables(scope('api'), {HAND_SET: 'added in the Railway dashboard'})

    commitAndPush(alice, 'envsync: shop, production encrypted')
    const tracked = gitAs(alice, 'ls-files').split('\n')
    expect(tracked).to.include.members(['envsync.yaml', '.env.production', '.env.staging'])
    expect(tracked.some((f) => f.startsWith('.envsync/')), `committed: ${tracked.join(' ')}`).to.equal(true)
    expect(tracked.some((f) => f.startsWith('secrets/') || f.startsWith('.envsync/local/'))).to.equal(false)

    // ---- Bob joins ---------------------------------------------------------------------------
    const bob = person('bob')
    await ok(bob, 'keys', 'generate')
    const bobRecipient = recipientOf(identityFile(bob))
    // Bob sends Alice his recipient (public); Alice adds him and pushes.
    await ok(alice, 'keys', 'add', 'production', bobRecipient)
    await ok(alice, 'keys', 'add', 'staging', bobRecipient)
    commitAndPush(alice, 'envsync: bob can read production and staging')

    clone(bob)
    // Bob drops SESSION_SECRET (the api's alone) from the manifest and pushes production.
    const bobManifest = path.join(bob.dir, 'envsync.yaml')
    const dropped = readFileSync(bobManifest, 'utf8').replace(/ {2}SESSION_SECRET:\n(?: {4}.*\n)+/, '')
    expect(dropped).not.to.include('SESSION_SECRET')
    writeFileSync(bobManifest, dropped)
    railway.clearLog()
    render.clearLog()
    const deploys = {railwayApi: railway.deployCount(project.services.api), railwayWorker: railway.deployCount(project.services.worker), renderApi: render.deployCount(renderIds.api), renderWorker: render.deployCount(renderIds.worker)}
    const bobPush = await ok(bob, 'push', 'production', '--yes')
    expect(bobPush.stdout).to.match(/- SESSION_SECRET/)
    // Removed from both platforms; the hand-set key untouched; the sealed one not rewritten.
    expect(railway.variables(scope('api'))).not.to.have.property('SESSION_SECRET')
    expect(render.envVars(renderIds.api)).not.to.have.property('SESSION_SECRET')
    expect(railway.variables(scope('api')).HAND_SET).to.equal('added in the Railway dashboard')
    expect(railway.sealed(scope('api'))).to.include('JWT_SECRET')
    expect(JSON.stringify(railwayWrites())).not.to.include('JWT_SECRET')
    expect(JSON.stringify(railwayWrites())).not.to.include('HAND_SET')
    // Only what changed was written and redeployed: the api, once on each platform; never the worker.
    expect(JSON.stringify(railwayWrites().map((q) => q.variables))).not.to.include(project.services.worker)
    expect(renderWrites().filter((e) => e.path.includes(renderIds.worker))).to.deep.equal([])
    expect(railway.deployCount(project.services.api)).to.equal(deploys.railwayApi + 1)
    expect(railway.deployCount(project.services.worker)).to.equal(deploys.railwayWorker)
    expect(render.deployCount(renderIds.api)).to.equal(deploys.renderApi + 1)
    expect(render.deployCount(renderIds.worker)).to.equal(deploys.renderWorker)
    // The value goes from the stores too; git shows which key changed, and no value.
    await ok(bob, 'unset', 'production', 'SESSION_SECRET', '--yes')
    await ok(bob, 'unset', 'staging', 'SESSION_SECRET')
    const changedLines = gitAs(bob, 'diff', '-U0', '--', '.env.production', '.env.staging').split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l))
    expect(changedLines.map((l) => l.replace(/=.*$/s, '='))).to.deep.equal(['-SESSION_SECRET=', '-SESSION_SECRET='])
    commitAndPush(bob, 'drop SESSION_SECRET')

    // Alice pulls: production is in sync from her side too, and her Docker staging loses the key.
    gitAs(alice, 'pull', '--quiet', '--no-rebase', 'origin', 'main')
    railway.clearLog()
    render.clearLog()
    const alicePush = await ok(alice, 'push', 'production', '--yes', '--json')
    expect(JSON.parse(alicePush.stdout).result.plan.changes).to.equal(0)
    expect(railwayWrites()).to.deep.equal([])
    expect(renderWrites()).to.deep.equal([])
    expect(existsSync(path.join(alice.dir, 'secrets', 'staging', 'SESSION_SECRET'))).to.equal(true)
    await ok(alice, 'push', 'staging', '--yes')
    expect(existsSync(path.join(alice.dir, 'secrets', 'staging', 'SESSION_SECRET'))).to.equal(false)

    // ---- CI: a fresh clone, a clean HOME, only ENVSYNC_AGE_KEY -----------------------------
    const ci = person('ci')
    ci.env.ENVSYNC_AGE_KEY = readFileSync(ciKeyFile, 'utf8')
    clone(ci)
    railway.clearLog()
    render.clearLog()
    const ciPush = await ok(ci, 'push', 'production', '--yes', '--json')
    expect(JSON.parse(ciPush.stdout).result.plan.changes, ciPush.stdout).to.equal(0)
    expect(railwayWrites()).to.deep.equal([])
    expect(renderWrites()).to.deep.equal([])
    const ciCheck = await ok(ci, 'check', 'production')
    expect(ciCheck.stdout).not.to.include('SESSION_SECRET')
    expect(readdirSync(ci.home).filter((f) => f !== '.gitconfig')).to.deep.equal([])

    // ---- Bob's key is removed from production ---------------------------------------------
    const removed = await ok(alice, 'keys', 'remove', 'production', bobRecipient)
    expect(removed.stdout + removed.stderr).to.match(/rotat/i)
    commitAndPush(alice, 'envsync: bob no longer reads production')
    gitAs(bob, 'pull', '--quiet', '--no-rebase', 'origin', 'main')
    const locked = await envsync(bob, 'diff', 'production', '--json')
    expect(locked.exitCode).not.to.equal(0)
    expect(JSON.parse(locked.stdout).error.code).to.equal('STORE_LOCKED')
    const status = await ok(bob, 'status', '--json')
    const byEnv = Object.fromEntries(JSON.parse(status.stdout).result.environments.map((e: {environment: string}) => [e.environment, e]))
    expect(byEnv.production.store).to.include({kind: 'encrypted', locked: true})
    expect(byEnv.staging.store).to.include({kind: 'encrypted', locked: false})
    expect(byEnv.production.destinations.every((d: {lastPush?: unknown}) => d.lastPush)).to.equal(true)
    await ok(bob, 'check', 'staging')

    // ---- Canary: no value and no private key in git, in any output, in any record ------------
    const keys = [...secretKeys(identityFile(alice)), ...secretKeys(identityFile(bob)), ...secretKeys(ciKeyFile)]
    expect(keys).to.have.length(3)
    assertNoLeak([...values, ...keys], committed(alice), committed(bob), committed(ci), ...outputs)
  })
})
