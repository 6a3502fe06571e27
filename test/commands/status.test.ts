import {writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {start as startRailway, type RailwayFake} from '../fakes/railway.js'
import {DEFAULT_API_KEY, startRenderFake, type RenderFake} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {DOCKER_MANIFEST} from '../cli/support.js'
import {TempProject} from '../helpers/project.js'

/**
 * `envsync status`: every environment × destination at a glance — the store, values missing,
 * placeholders, the last push, and with --live the drift — driven through the built CLI.
 */

/** The CLI tests' Docker project, with staging and production beside development. */
const DOCKER = DOCKER_MANIFEST.replace(
  '      docker: {}\n',
  '      docker: {}\n  staging:\n    targets:\n      docker: {dir: secrets/staging}\n  production:\n    targets:\n      docker: {dir: secrets/production}\n',
)

const PLATFORMS = `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    targets:
      railway: {project: shop, services: {api: api, worker: worker}}
      render: {services: {api: shop-api}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32"}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
`

/** Long enough for check (32+ characters), distinctive enough for the leak check. */
const long = (label: string) => `${canary(label)}${canary('Y').slice(2)}`

const envFile = (values: Record<string, string>) => Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'

describe('envsync status', () => {
  let p: TempProject
  const run = (args: string[], env: Record<string, string | undefined> = {}) => runBin(args, {cwd: p.dir, env})

  afterEach(() => p.cleanup())

  describe('Docker environments (no server)', () => {
    let values: Record<string, string>

    beforeEach(() => {
      p = new TempProject('envsync-status-')
      p.write('envsync.yaml', DOCKER)
      values = {JWT_SECRET: long('JWT'), API_TOKEN: long('API')}
      p.write('.env.development', envFile(values))
      // staging: one value still missing, one placeholder; production: no values file yet.
      p.write('.env.staging', envFile({JWT_SECRET: 'changeme'}))
    })

    it('lists every environment with its store, missing values, placeholders and last push; --json has the same facts', async () => {
      const before = await run(['status'])
      expect(before.exitCode, before.stderr).to.equal(0)
      expect(before.stdout).to.match(/^development {2}\.env\.development \(plain\)$/m)
      expect(before.stdout).to.match(/^staging {2}\.env\.staging \(plain\)$/m)
      expect(before.stdout).to.match(/^production {2}protected · \.env\.production \(plain, not created yet\)$/m)
      expect(before.stdout).to.match(/^ {2}values: all set$/m)
      expect(before.stdout).to.include('values: 1 missing (API_TOKEN), 1 placeholder (JWT_SECRET)')
      expect(before.stdout).to.include('values: 2 missing (JWT_SECRET, API_TOKEN)')
      expect(before.stdout).to.match(/docker secrets\/development +never pushed/)
      // No rotation column until rotation exists; no drift column without --live.
      expect(before.stdout).not.to.match(/ROTATION|DRIFT/)

      // Pushed from a CI job: the history says which.
      const push = await run(['push', 'development', '--yes'], {GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octo'})
      expect(push.exitCode, push.stdout + push.stderr).to.equal(0)
      const started = Date.now()

      const after = await run(['status', '--json'])
      expect(after.exitCode, after.stdout).to.equal(0)
      const result = JSON.parse(after.stdout).result
      expect(result.live).to.equal(false)
      const byEnv = Object.fromEntries(result.environments.map((e: {environment: string}) => [e.environment, e]))
      expect(Object.keys(byEnv)).to.deep.equal(['development', 'staging', 'production'])
      expect(byEnv.development.store).to.deep.equal({file: '.env.development', kind: 'plain', exists: true, locked: false})
      expect(byEnv.development.missing).to.deep.equal([])
      expect(byEnv.staging.missing).to.deep.equal(['API_TOKEN'])
      expect(byEnv.staging.placeholders).to.deep.equal(['JWT_SECRET'])
      expect(byEnv.production.protected).to.equal(true)
      expect(byEnv.production.store.exists).to.equal(false)
      const [dev] = byEnv.development.destinations
      expect(dev).to.include({id: 'docker:secrets/development', kind: 'docker', label: 'docker secrets/development'})
      expect(dev.lastPush.status).to.equal('applied')
      expect(dev.lastPush.user).to.be.a('string').and.not.equal('')
      expect(dev.lastPush.ci).to.equal('github:octo')
      // ISO date, of the push just made.
      expect(new Date(dev.lastPush.time).toISOString()).to.equal(dev.lastPush.time)
      expect(Math.abs(Date.parse(dev.lastPush.time) - started)).to.be.below(60_000)
      expect(byEnv.staging.destinations[0]).not.to.have.property('lastPush')
      expect(dev).not.to.have.property('drift')

      const text = await run(['status', 'development'])
      expect(text.stdout).to.match(/docker secrets\/development +\d{4}-\d\d-\d\d \d\d:\d\d UTC by \S.* in github:octo$/m)
      expect(text.stdout).not.to.include('staging')
      assertNoLeak(Object.values(values), before.stdout, before.stderr, push.stderr, after.stdout, after.stderr, text.stdout, text.stderr, ...p.syncRecords())
    })

    it('--live shows the drift per destination (diff\'s plan); --exit-code exits 3 when anything needs attention', async () => {
      expect((await run(['push', 'development', '--yes'])).exitCode).to.equal(0)
      const inSync = await run(['status', 'development', '--live', '--exit-code'])
      expect(inSync.exitCode, inSync.stdout + inSync.stderr).to.equal(0)
      expect(inSync.stdout).to.match(/DESTINATION +LAST PUSH +DRIFT/)
      expect(inSync.stdout).to.match(/docker secrets\/development +.* UTC by .+ +in sync$/m)

      const changed = long('NEW')
      p.write('.env.development', envFile({...values, API_TOKEN: changed}))
      const drift = await run(['status', 'development', '--live', '--json'])
      expect(drift.exitCode, drift.stdout).to.equal(0)
      const [d] = JSON.parse(drift.stdout).result.environments[0].destinations
      expect(d.drift).to.deep.equal({changes: 1, add: 0, update: 1, remove: 0})
      const driftText = await run(['status', 'development', '--live', '--exit-code'])
      expect(driftText.exitCode).to.equal(3)
      expect(driftText.stdout).to.match(/docker secrets\/development +.* +1 to update$/m)

      // Missing values alone are worth --exit-code's 3 (without --live); status alone exits 0.
      expect((await run(['status', 'staging'])).exitCode).to.equal(0)
      expect((await run(['status', 'staging', '--exit-code'])).exitCode).to.equal(3)
      assertNoLeak([...Object.values(values), changed], inSync.stdout, inSync.stderr, drift.stdout, drift.stderr, driftText.stdout, driftText.stderr, ...p.syncRecords())
    })

    it('names several environments; an unknown one fails with did-you-mean before anything is read', async () => {
      const two = await run(['status', 'staging', 'production', '--json'])
      expect(two.exitCode, two.stdout).to.equal(0)
      expect(JSON.parse(two.stdout).result.environments.map((e: {environment: string}) => e.environment)).to.deep.equal(['staging', 'production'])

      const typo = await run(['status', 'staging', 'prodution'])
      expect(typo.exitCode).to.equal(2)
      expect(typo.stderr).to.include('unknown environment "prodution"')
      expect(typo.stderr).to.include('did you mean "production"?')
      expect(typo.stdout).to.equal('')
      expect(typo.stderr).not.to.match(/\n\s+at /)
    })

    it('a damaged values file is shown for its environment (exit 1) while the others are still listed', async () => {
      p.write('.env.staging', 'JWT_SECRET="never closed\n')
      const r = await run(['status'])
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.match(/^ {2}error \.env\.staging.*/m)
      expect(r.stdout).to.match(/^development .*\n {2}values: all set/m)
      expect(r.stdout).to.include('docker secrets/staging')
      assertNoLeak(Object.values(values), r.stdout, r.stderr)
    })
  })

  describe('an encrypted store', () => {
    let homes: TempProject | undefined
    afterEach(() => homes?.cleanup())

    it('that this machine holds no key for is "locked (no key)": its destinations and the other environments are still shown (exit 0)', async () => {
      p = new TempProject('envsync-status-locked-')
      p.write('envsync.yaml', DOCKER)
      const values = {JWT_SECRET: long('JWT'), API_TOKEN: long('API')}
      p.write('.env.development', envFile(values))
      p.write('.env.production', envFile(values))
      // Homes outside the project: an identity file inside it is refused.
      homes = new TempProject('envsync-status-homes-')
      const keyHome = (name: string) => ({HOME: homes!.path(name), XDG_CONFIG_HOME: homes!.path(`${name}/.config`), ENVSYNC_AGE_KEY: undefined, ENVSYNC_AGE_KEY_FILE: undefined})
      const generated = await run(['keys', 'generate'], keyHome('alice'))
      expect(generated.exitCode, generated.stderr).to.equal(0)
      const recipient = /age1[0-9a-z]{58}/.exec(generated.stdout)![0]
      expect((await run(['keys', 'add', 'production', recipient], keyHome('alice'))).exitCode).to.equal(0)

      const mine = await run(['status', 'production', '--json'], keyHome('alice'))
      expect(mine.exitCode, mine.stdout).to.equal(0)
      const [readable] = JSON.parse(mine.stdout).result.environments
      expect(readable.store).to.deep.equal({file: '.env.production', kind: 'encrypted', exists: true, locked: false})
      expect(readable.missing).to.deep.equal([])

      // Someone else's machine: no identity at all.
      const theirs = await run(['status', '--live', '--json'], keyHome('bob'))
      expect(theirs.exitCode, theirs.stdout).to.equal(0)
      const byEnv = Object.fromEntries(JSON.parse(theirs.stdout).result.environments.map((e: {environment: string}) => [e.environment, e]))
      expect(byEnv.production.store).to.deep.equal({file: '.env.production', kind: 'encrypted', exists: true, locked: true})
      expect(byEnv.production).not.to.have.property('missing')
      expect(byEnv.production).not.to.have.property('error')
      expect(byEnv.production.destinations.map((d: {label: string; drift?: unknown}) => [d.label, d.drift])).to.deep.equal([['docker secrets/production', undefined]])
      expect(byEnv.development.destinations[0].drift).to.deep.equal({changes: 3, add: 3, update: 0, remove: 0})
      const text = await run(['status', '--live'], keyHome('bob'))
      expect(text.exitCode).to.equal(0)
      expect(text.stdout).to.match(/^production {2}protected · \.env\.production \(encrypted\) {2}locked \(no key\)$/m)
      expect(text.stdout).to.match(/docker secrets\/production +never pushed +unknown \(locked\)$/m)
      expect(text.stdout).to.match(/^development .*\n {2}values: all set/m)
      assertNoLeak(Object.values(values), generated.stdout, generated.stderr, mine.stdout, theirs.stdout, theirs.stderr, text.stdout, text.stderr)
    })
  })

  describe('--live against Railway and Render', () => {
    let railway: RailwayFake
    let render: RenderFake
    let project: {id: string; environments: Record<string, string>; services: Record<string, string>}
    let token: string
    let values: Record<string, string>
    let renderApi: string
    const env = (renderKey = DEFAULT_API_KEY) => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined, RENDER_API_URL: render.url, RENDER_API_KEY: renderKey})

    beforeEach(async () => {
      railway = await startRailway()
      project = railway.addProject({name: 'shop', environments: ['production'], services: ['api', 'worker']})
      token = railway.accountToken()
      render = await startRenderFake()
      renderApi = render.seed({services: [{name: 'shop-api', envVars: {HAND_SET: 'by hand'}}]}).services['shop-api']
      p = new TempProject('envsync-status-live-')
      p.write('envsync.yaml', PLATFORMS)
      values = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB')}
      writeFileSync(p.path('.env.production'), envFile(values), {mode: 0o600})
    })

    afterEach(async () => {
      await railway.stop()
      await render.stopAndVerify()
    })

    it('shows per destination what push would change, and who pushed last; a destination that cannot be read is shown and the others go on (exit 1)', async () => {
      const first = await run(['status', 'production', '--live', '--json'], env())
      expect(first.exitCode, first.stdout + first.stderr).to.equal(0)
      const drift = Object.fromEntries(JSON.parse(first.stdout).result.environments[0].destinations.map((d: {label: string; drift: unknown}) => [d.label, d.drift]))
      expect(drift).to.deep.equal({
        'railway shop/production service api': {changes: 3, add: 3, update: 0, remove: 0},
        'railway shop/production service worker': {changes: 2, add: 2, update: 0, remove: 0},
        'render service shop-api': {changes: 3, add: 3, update: 0, remove: 0},
      })

      const push = await run(['push', 'production', '--yes'], env())
      expect(push.exitCode, push.stdout + push.stderr).to.equal(0)
      // Someone edits a variable by hand: not envsync's, so not drift.
      railway.setVariables({projectId: project.id, environmentId: project.environments.production, serviceId: project.services.api}, {BY_HAND: 'x'})
      render.setEnvVar(renderApi, 'LOG_LEVEL', 'debug')

      const live = await run(['status', '--live'], env())
      expect(live.exitCode, live.stdout + live.stderr).to.equal(0)
      expect(live.stdout).to.match(/railway shop\/production service api +\S+ \S+ UTC by .+ +in sync$/m)
      expect(live.stdout).to.match(/render service shop-api +\S+ \S+ UTC by .+ +1 to update$/m)

      // Render refuses the key: its row says so, Railway's rows are still read.
      const broken = await run(['status', '--live', '--json'], env('rnd_wrongKey_0000000000000000'))
      expect(broken.exitCode, broken.stdout).to.equal(1)
      const dests = JSON.parse(broken.stdout).result.environments[0].destinations
      const renderRow = dests.find((d: {kind: string}) => d.kind === 'render')
      expect(renderRow.drift.error.code).to.match(/^RENDER/)
      expect(renderRow.lastPush.status).to.equal('applied')
      expect(dests.filter((d: {kind: string}) => d.kind === 'railway').map((d: {drift: unknown}) => d.drift)).to.deep.equal([
        {changes: 0, add: 0, update: 0, remove: 0},
        {changes: 0, add: 0, update: 0, remove: 0},
      ])
      const brokenText = await run(['status', '--live'], env('rnd_wrongKey_0000000000000000'))
      expect(brokenText.exitCode).to.equal(1)
      expect(brokenText.stdout).to.match(/render service shop-api +.* +cannot read$/m)
      expect(brokenText.stdout).to.match(/^ {2}error render service shop-api: /m)
      assertNoLeak(
        [...Object.values(values), DEFAULT_API_KEY, token],
        first.stdout, first.stderr, push.stderr, live.stdout, live.stderr, broken.stdout, broken.stderr, brokenText.stdout, brokenText.stderr, ...p.syncRecords(),
      )
    })
  })
})
