import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import {parse as parseDotenv} from 'dotenv'

import {drop, applyThenDrop} from '../fakes/faults.js'
import {DEFAULT_API_KEY, renderFault, startRenderFake, type RenderFake, type RenderLogEntry} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * The Render target through the built binary (dist/), against the OpenAPI-validated fake of
 * Render's REST API. Values are canaries: none may appear in stdout, stderr, --json or the
 * fake's request log.
 */

/** A canary long enough for check (≥ 32 characters). */
const long = (label = 'CANARY') => `${canary(label)}${canary('Y').slice(2)}`

const TARGET = 'render: {services: {api: shop-api, worker: shop-worker}, envGroup: shop-shared, deploy: true}'

function manifest(target = TARGET, extra = ''): string {
  return `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    targets: {${target}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32", shared: true}
  SESSION_KEY: {services: [api, worker], generate: "alnum:32", shared: true}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
${extra}`
}

/** The path below /v1 and the query, e.g. "GET /services/srv-…/env-vars?limit=100". */
const line = (e: RenderLogEntry) => `${e.method} ${e.path.replace(/^\/v1/, '')}${e.query}`

describe('render target (binary against an OpenAPI-validated fake of Render)', () => {
  let fake: RenderFake
  let p: TempProject
  let ids: {api: string; worker: string; group: string}
  let values: Record<string, string>
  const env = (extra: Record<string, string | undefined> = {}) => ({RENDER_API_URL: fake.url, RENDER_API_KEY: DEFAULT_API_KEY, ...extra})
  const run = (args: string[], extra: Record<string, string | undefined> = {}) => runBin(args, {cwd: p.dir, env: env(extra)})
  const push = (...args: string[]) => run(['push', 'production', '--yes', ...args])
  const diff = (...args: string[]) => run(['diff', 'production', ...args])
  const log = () => fake.log()
  const writes = () => log().filter((e) => e.method !== 'GET')
  const writeValues = () => writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
  /** Every output and record a value must never reach. */
  const noLeak = (...results: CliResult[]) => {
    assertNoLeak(Object.values(values), ...results.flatMap((r) => [r.stdout, r.stderr]), JSON.stringify(fake.log()), ...p.syncRecords())
  }

  beforeEach(async () => {
    fake = await startRenderFake({onDrift: 'record'})
    const seeded = fake.seed({
      services: [
        {name: 'shop-api', envVars: {HAND_SET: 'set in the dashboard'}},
        {name: 'shop-worker', type: 'background_worker'},
      ],
      envGroups: [{name: 'shop-shared', envVars: {GROUP_HAND: 'set in the dashboard'}, services: ['shop-api', 'shop-worker']}],
    })
    ids = {api: seeded.services['shop-api'], worker: seeded.services['shop-worker'], group: seeded.envGroups['shop-shared']}
    p = new TempProject('envsync-render-')
    p.write('envsync.yaml', manifest())
    values = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB'), SESSION_KEY: long('SESSION')}
    writeValues()
  })

  afterEach(async () => {
    p.cleanup()
    await fake.stopAndVerify()
  })

  describe('push', () => {
    it('writes each service with one bulk PUT built from a complete, paged read: 520 unmanaged variables survive', async () => {
      const unmanaged: Record<string, string> = {HAND_SET: 'set in the dashboard'}
      for (let i = 0; i < 520; i++) unmanaged[`HAND_${String(i).padStart(4, '0')}`] = `hand-value-${i}`
      const handSecret = long('HANDSECRET')
      unmanaged.HAND_SECRET = handSecret
      for (const [k, v] of Object.entries(unmanaged)) fake.setEnvVar(ids.api, k, v)
      expect(Object.keys(fake.envVars(ids.api))).to.have.length(522)

      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(r.stdout).to.match(/✓ applied +render service shop-api/)
      expect(r.stdout).to.match(/✓ applied +render service shop-worker/)
      expect(r.stdout).to.match(/✓ applied +render env group shop-shared/)

      // State: every unmanaged variable unchanged, the managed ones added.
      expect(fake.envVars(ids.api)).to.deep.equal({...unmanaged, JWT_SECRET: values.JWT_SECRET, LOG_LEVEL: 'info'})
      expect(fake.envVars(ids.worker)).to.deep.equal({LOG_LEVEL: 'info'})
      expect(fake.envVars(ids.group)).to.deep.equal({GROUP_HAND: 'set in the dashboard', DB_PASSWORD: values.DB_PASSWORD, SESSION_KEY: values.SESSION_KEY})

      // The read followed the cursor through all six pages (522 = 5 × 100 + 22).
      const reads = log().filter((e) => e.method === 'GET' && e.path === `/v1/services/${ids.api}/env-vars`)
      expect(reads.map((e) => e.status)).to.deep.equal([200, 200, 200, 200, 200, 200])
      expect(reads[0].query).to.equal('?limit=100')
      for (const e of reads.slice(1)) expect(e.query).to.match(/^\?limit=100&cursor=[\w-]+$/)
      expect(new Set(reads.map((e) => e.query)).size).to.equal(6)

      // One bulk PUT per service, carrying every variable (values redacted in the log).
      const puts = writes().filter((e) => e.method === 'PUT' && e.path.endsWith('/env-vars') && e.path.startsWith('/v1/services/'))
      expect(puts.map((e) => e.path)).to.have.members([`/v1/services/${ids.api}/env-vars`, `/v1/services/${ids.worker}/env-vars`])
      const apiBody = puts.find((e) => e.path.includes(ids.api))!.body as {key: string}[]
      expect(apiBody.map((x) => x.key).sort()).to.deep.equal(Object.keys({...unmanaged, JWT_SECRET: 1, LOG_LEVEL: 1}).sort())

      // The env group: one PUT per key, no DELETE.
      expect(writes().filter((e) => e.path.startsWith('/v1/env-groups/')).map(line).sort()).to.deep.equal([
        `PUT /env-groups/${ids.group}/env-vars/DB_PASSWORD`,
        `PUT /env-groups/${ids.group}/env-vars/SESSION_KEY`,
      ])

      // One deploy per changed service, after every write.
      const deploys = log().filter((e) => e.operationId === 'create-deploy')
      expect(deploys.map((e) => e.path).sort()).to.deep.equal([`/v1/services/${ids.api}/deploys`, `/v1/services/${ids.worker}/deploys`].sort())
      const lastWrite = Math.max(...writes().filter((e) => e.operationId !== 'create-deploy').map((e) => e.seq))
      for (const d of deploys) expect(d.seq).to.be.greaterThan(lastWrite)
      expect(fake.deployCount(ids.api)).to.equal(1)
      expect(fake.deployCount(ids.worker)).to.equal(1)

      // Nothing else was written: 2 bulk PUTs + 2 env-group PUTs + 2 deploys.
      expect(writes()).to.have.length(6)
      assertNoLeak([handSecret], r.stdout, r.stderr, JSON.stringify(fake.log()))
      noLeak(r)
    })

    it('an in-sync diff costs only the reads (counted in the fake) and push writes nothing', async () => {
      expect((await push()).exitCode).to.equal(0)
      fake.clearLog()
      const d = await diff('--json', '--exit-code')
      expect(d.exitCode, d.stdout + d.stderr).to.equal(0)
      const envelope = JSON.parse(d.stdout)
      expect(envelope.result.changes).to.equal(0)
      // 2 service lookups + 1 env-group lookup (by name), 2 service reads (one page each), 1 env-group read.
      expect(log().map((e) => `${e.method} ${e.operationId}`).sort()).to.deep.equal(
        [
          'GET list-services',
          'GET list-services',
          'GET list-env-groups',
          'GET get-env-vars-for-service',
          'GET get-env-vars-for-service',
          'GET retrieve-env-group',
        ].sort(),
      )
      expect(envelope.result.requests).to.equal(log().length)

      fake.clearLog()
      const again = await push('--json')
      expect(again.exitCode, again.stdout).to.equal(0)
      expect(JSON.parse(again.stdout).result.applied).to.equal(false)
      expect(writes()).to.deep.equal([])
      expect(log()).to.have.length(6)
      expect(fake.deployCount(ids.api)).to.equal(1) // only the first push deployed
      noLeak(d, again)
    })

    it('--json carries actions and fingerprints, never values', async () => {
      const dry = await push('--dry-run', '--json')
      expect(dry.exitCode, dry.stdout).to.equal(0)
      const plan = JSON.parse(dry.stdout).result.plan
      expect(plan.changes).to.equal(5)
      const r = await push('--json')
      const report = JSON.parse(r.stdout).result.report
      expect(report.destinations.map((d: {label: string; status: string}) => `${d.status} ${d.label}`).sort()).to.deep.equal([
        'applied render env group shop-shared',
        'applied render service shop-api',
        'applied render service shop-worker',
      ])
      noLeak(dry, r)
    })
  })

  describe('env group', () => {
    it('one PUT per changed key and one DELETE per removed owned key; a group-only change deploys the mapped services once each', async () => {
      expect((await push()).exitCode).to.equal(0)
      values.DB_PASSWORD = long('DB2')
      writeValues()
      p.write('envsync.yaml', manifest().replace(/  SESSION_KEY:.*\n/, ''))
      fake.clearLog()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(writes().map(line)).to.have.members([
        `PUT /env-groups/${ids.group}/env-vars/DB_PASSWORD`,
        `DELETE /env-groups/${ids.group}/env-vars/SESSION_KEY`,
        `POST /services/${ids.api}/deploys`,
        `POST /services/${ids.worker}/deploys`,
      ])
      expect(writes()).to.have.length(4)
      expect(writes().slice(-2).every((e) => e.operationId === 'create-deploy')).to.equal(true)
      expect(fake.envVars(ids.group)).to.deep.equal({GROUP_HAND: 'set in the dashboard', DB_PASSWORD: values.DB_PASSWORD})
      expect(fake.deployCount(ids.api)).to.equal(2)
      expect(fake.deployCount(ids.worker)).to.equal(2)
      noLeak(r)
    })

    it('env group by id (evg-…) and services by id (srv-…): no name lookups', async () => {
      p.write('envsync.yaml', manifest(`render: {services: {api: ${ids.api}, worker: ${ids.worker}}, envGroup: ${ids.group}}`))
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(log().filter((e) => e.operationId === 'list-services' || e.operationId === 'list-env-groups')).to.deep.equal([])
      expect(fake.envVars(ids.group).DB_PASSWORD).to.equal(values.DB_PASSWORD)
      expect(fake.envVars(ids.api).JWT_SECRET).to.equal(values.JWT_SECRET)
      // deploy: false (the default) → no deploy
      expect(log().filter((e) => e.operationId === 'create-deploy')).to.deep.equal([])
      fake.clearLog()
      expect((await diff('--exit-code')).exitCode).to.equal(0)
      expect(log()).to.have.length(3)
    })
  })

  describe('services and env groups by name', () => {
    it('names match exactly even when Render filters by substring', async () => {
      fake.setNameMatch('substring')
      fake.addService({name: 'shop-api-old', envVars: {OLD: 'x'}})
      fake.addEnvGroup({name: 'shop-shared-legacy'})
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(fake.envVars(ids.api).JWT_SECRET).to.equal(values.JWT_SECRET)
      expect(fake.envVars('shop-api-old')).to.deep.equal({OLD: 'x'})
      expect(fake.envVars('shop-shared-legacy')).to.deep.equal({})
    })

    it('two services with the same name: exit 1 naming both ids; the other destinations are applied', async () => {
      const twin = fake.addService({name: 'shop-api'})
      const r = await push()
      expect(r.exitCode).to.equal(1)
      const out = r.stdout + r.stderr
      expect(out).to.include('2 Render services are named "shop-api"')
      expect(out).to.include(ids.api)
      expect(out).to.include(twin)
      expect(out).to.match(/✗ failed +render service shop-api/)
      // The other two are applied, and their deploy is not spoilt by the failed lookup (the
      // env-group change deploys every mapped service envsync could resolve: the worker).
      expect(out).to.match(/✓ applied +render service shop-worker/)
      expect(out).to.match(/✓ applied +render env group shop-shared/)
      expect(out).to.not.include('redeploy failed')
      expect(fake.deployCount(ids.worker)).to.equal(1)
      // Neither twin was touched.
      expect(fake.deployCount(ids.api)).to.equal(0)
      expect(fake.deployCount(twin)).to.equal(0)
      expect(fake.envVars(ids.api)).to.deep.equal({HAND_SET: 'set in the dashboard'})
      expect(fake.envVars(twin)).to.deep.equal({})
      noLeak(r)
    })

    it('an unknown service or env group name is a clear error', async () => {
      p.write('envsync.yaml', manifest('render: {services: {api: shop-apii, worker: shop-worker}, envGroup: shop-sharde}'))
      const r = await diff()
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.include('no Render service named "shop-apii"')
      expect(r.stdout).to.include('no Render env group named "shop-sharde"')
      expect(r.stdout).to.include("use the service's id")
      const j = await diff('--json')
      const dests = JSON.parse(j.stdout).result.destinations
      expect(dests.filter((d: {error?: string}) => d.error).map((d: {label: string}) => d.label).sort()).to.deep.equal(['render env group shop-sharde', 'render service shop-apii'])
    })
  })

  describe('ownership', () => {
    it('removes keys envsync pushed and the manifest dropped; never removes unmanaged keys without --prune', async () => {
      expect((await push()).exitCode).to.equal(0)
      p.write('envsync.yaml', manifest().replace(/  JWT_SECRET:.*\n/, '').replace(/  SESSION_KEY:.*\n/, ''))
      const plan = await push('--dry-run')
      expect(plan.stdout).to.match(/- JWT_SECRET/)
      expect(plan.stdout).to.match(/- SESSION_KEY/)
      expect(plan.stdout).to.match(/! HAND_SET/)
      expect(plan.stdout).to.match(/! GROUP_HAND/)
      fake.clearLog()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(fake.envVars(ids.api)).to.deep.equal({HAND_SET: 'set in the dashboard', LOG_LEVEL: 'info'})
      expect(fake.envVars(ids.group)).to.deep.equal({GROUP_HAND: 'set in the dashboard', DB_PASSWORD: values.DB_PASSWORD})
      expect(writes().map(line)).to.have.members([
        `PUT /services/${ids.api}/env-vars`,
        `DELETE /env-groups/${ids.group}/env-vars/SESSION_KEY`,
        `POST /services/${ids.api}/deploys`,
        `POST /services/${ids.worker}/deploys`,
      ])
      // A key someone adds by hand later is not envsync's either.
      fake.setEnvVar(ids.worker, 'WORKER_HAND', 'by hand')
      expect((await diff('--exit-code')).exitCode).to.equal(0)
      expect(fake.envVars(ids.worker).WORKER_HAND).to.equal('by hand')

      const pruned = await push('--prune')
      expect(pruned.exitCode, pruned.stdout + pruned.stderr).to.equal(0)
      expect(fake.envVars(ids.api)).to.deep.equal({LOG_LEVEL: 'info'})
      expect(fake.envVars(ids.worker)).to.deep.equal({LOG_LEVEL: 'info'})
      expect(fake.envVars(ids.group)).to.deep.equal({DB_PASSWORD: values.DB_PASSWORD})
      noLeak(plan, r, pruned)
    })

    it('a manifest key with no local value is left as it is live, never removed', async () => {
      expect((await push()).exitCode).to.equal(0)
      p.write('envsync.yaml', manifest(TARGET, '  OPTIONAL_TOKEN: {services: [api], required: false}\n'))
      fake.setEnvVar(ids.api, 'OPTIONAL_TOKEN', 'live only')
      fake.clearLog()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(writes()).to.deep.equal([])
      expect(fake.envVars(ids.api).OPTIONAL_TOKEN).to.equal('live only')
    })
  })

  describe('deploys', () => {
    it('a 202 without a body is a deploy too; nothing changed → no deploy', async () => {
      fake.setDeployResponse(202)
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(fake.deployCount(ids.api)).to.equal(1)
      expect(fake.deployCount(ids.worker)).to.equal(1)
      expect((await push()).exitCode).to.equal(0)
      expect(fake.deployCount(ids.api)).to.equal(1)
      expect(fake.deployCount(ids.worker)).to.equal(1)
    })

    it('a change to one service deploys that service only', async () => {
      expect((await push()).exitCode).to.equal(0)
      values.JWT_SECRET = long('JWT2')
      writeValues()
      fake.clearLog()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(writes().map(line)).to.deep.equal([`PUT /services/${ids.api}/env-vars`, `POST /services/${ids.api}/deploys`])
      expect(fake.deployCount(ids.api)).to.equal(2)
      expect(fake.deployCount(ids.worker)).to.equal(1)
    })

    // Known gap (not in render.ts): the env-group destination's config carries no Render
    // service refs (src/manifest/resolve.ts builds {envGroup, deploy}), so finish() can only
    // deploy services that have a destination of their own. A mapped service that receives
    // nothing but shared keys is never redeployed after an env-group change.
    it('an env-group change deploys a mapped service that receives only shared keys', async () => {
      // The worker gets nothing but env-group keys, so it has no service destination of its own.
      p.write('envsync.yaml', manifest().replace('LOG_LEVEL: {services: [api, worker]', 'LOG_LEVEL: {services: [api]'))
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(r.stdout).to.not.include('render service shop-worker')
      expect(fake.deployCount(ids.api)).to.equal(1)
      expect(fake.deployCount(ids.worker)).to.equal(1)
    })
  })

  describe('errors', () => {
    it('401: exit 1 naming RENDER_API_KEY, the key never printed; no key at all is named too', async () => {
      const wrong = 'rnd_wrongKeyValue_abcdefghijklmnop'
      const r = await run(['push', 'production', '--yes'], {RENDER_API_KEY: wrong})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout + r.stderr).to.include('RENDER_API_KEY')
      expect(r.stdout + r.stderr).to.include('Render refused')
      expect(log().every((e) => e.status === 401)).to.equal(true)
      assertNoLeak([wrong, DEFAULT_API_KEY], r.stdout, r.stderr, JSON.stringify(fake.log()))
      const none = await run(['diff', 'production'], {RENDER_API_KEY: undefined})
      expect(none.exitCode).to.equal(1)
      expect(none.stdout).to.include('no Render API key')
      expect(none.stdout).to.include('RENDER_API_KEY')
      noLeak(r, none)
    })

    it('404 for a service id or an env group id is a clear error', async () => {
      p.write('envsync.yaml', manifest('render: {services: {api: srv-doesnotexist0000000a, worker: shop-worker}, envGroup: evg-doesnotexist0000000a}'))
      const r = await push()
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.include('Render has no /services/srv-doesnotexist0000000a/env-vars')
      expect(r.stdout).to.include('Render has no /env-groups/evg-doesnotexist0000000a')
      expect(r.stdout).to.include('check the service or env group id in the manifest')
      expect(r.stdout).to.match(/✓ applied +render service shop-worker/)
      noLeak(r)
    })
  })

  describe('network failures', () => {
    it('429 with Retry-After from a tiny write budget is waited out and the push converges', async function () {
      this.timeout(60_000)
      fake.setLimits({write: 1, windowMs: 1500})
      const t0 = fake.now()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect((await diff('--exit-code')).exitCode).to.equal(0)
      // Four writes (2 bulk PUTs, 2 env-group PUTs) through a budget of one per 1.5 s window.
      const w = writes().filter((e) => e.operationId !== 'create-deploy')
      const ok = w.filter((e) => e.status === 200)
      expect(ok).to.have.length(4)
      // Each accepted write came in a window of its own, by the fake's clock.
      for (let i = 1; i < ok.length; i++) expect(ok[i].at - ok[i - 1].at).to.be.at.least(1000)
      expect(fake.now() - t0).to.be.at.least(4000)
      // Every 429 that was answered was retried, none after fewer than Retry-After seconds.
      // The three writes sent at once after the plan find the budget spent: 429s happened.
      const limited = w.filter((e) => e.status === 429)
      expect(limited.length).to.be.at.least(2)
      for (const e of limited) {
        const retry = w.find((x) => x.seq > e.seq && line(x) === line(e))
        expect(retry, `retry of ${line(e)}`).to.not.equal(undefined)
        expect(retry!.at - e.at, `wait before retrying ${line(e)}`).to.be.at.least(900)
      }
      expect(fake.envVars(ids.group).SESSION_KEY).to.equal(values.SESSION_KEY)
      noLeak(r)
    })

    it('500, 503, a dropped connection and a DELETE applied before the drop are retried; the push converges', async () => {
      expect((await push()).exitCode).to.equal(0)
      values.JWT_SECRET = long('JWT2')
      values.DB_PASSWORD = long('DB2')
      writeValues()
      p.write('envsync.yaml', manifest().replace(/  SESSION_KEY:.*\n/, ''))
      fake.faults.once(renderFault(503), {match: {operationId: 'get-env-vars-for-service'}})
      fake.faults.once(renderFault(500), {match: {operationId: 'update-env-vars-for-service'}, times: 2})
      fake.faults.once(drop(), {match: {operationId: 'update-env-group-env-var'}})
      fake.faults.once(applyThenDrop(), {match: {operationId: 'delete-env-group-env-var'}})
      fake.clearLog()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(fake.faults.injected.map((f) => f.fault.kind)).to.have.members(['status', 'status', 'status', 'drop', 'applyThenDrop'])
      expect(fake.faults.pending).to.equal(0)
      // The retried DELETE found the key gone (404) and took that as done.
      expect(log().filter((e) => e.operationId === 'delete-env-group-env-var').map((e) => e.status)).to.deep.equal([0, 404])
      expect(fake.envVars(ids.api).JWT_SECRET).to.equal(values.JWT_SECRET)
      expect(fake.envVars(ids.group)).to.deep.equal({GROUP_HAND: 'set in the dashboard', DB_PASSWORD: values.DB_PASSWORD})
      expect((await diff('--exit-code')).exitCode).to.equal(0)
      noLeak(r)
    })

    it('a destination that keeps failing is reported as failed, the others are applied, exit 1; a rerun converges', async () => {
      fake.faults.always(renderFault(500), {match: {method: 'PUT', serviceId: ids.worker}})
      const r = await push()
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.match(/✗ failed +render service shop-worker +Render \/services\/[\w-]+\/env-vars: internal server error/)
      expect(r.stdout).to.match(/✓ applied +render service shop-api/)
      expect(r.stdout).to.match(/✓ applied +render env group shop-shared/)
      expect(r.stdout).to.include('1 of 3 destinations failed')
      // 1 try + 4 retries, then given up.
      expect(log().filter((e) => e.method === 'PUT' && e.path.includes(ids.worker)).map((e) => e.status)).to.deep.equal([500, 500, 500, 500, 500])
      expect(fake.envVars(ids.worker)).to.deep.equal({})
      expect(fake.envVars(ids.api).JWT_SECRET).to.equal(values.JWT_SECRET)

      fake.faults.clear()
      fake.clearLog()
      const again = await push()
      expect(again.exitCode, again.stdout + again.stderr).to.equal(0)
      // Only what still differed was written.
      expect(writes().filter((e) => e.operationId !== 'create-deploy').map(line)).to.deep.equal([`PUT /services/${ids.worker}/env-vars`])
      expect((await diff('--exit-code')).exitCode).to.equal(0)
      noLeak(r, again)
    })
  })

  describe('a concurrent edit', () => {
    it('made between diff and push is preserved: push builds the bulk PUT from its own read', async () => {
      expect((await push()).exitCode).to.equal(0)
      values.JWT_SECRET = long('JWT2')
      writeValues()
      const d = await diff('--exit-code')
      expect(d.exitCode).to.equal(3)
      fake.setEnvVar(ids.api, 'HAND_SET', 'edited after the diff')
      fake.setEnvVar(ids.api, 'ADDED_BY_HAND', 'added after the diff')
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(fake.envVars(ids.api)).to.deep.equal({HAND_SET: 'edited after the diff', ADDED_BY_HAND: 'added after the diff', JWT_SECRET: values.JWT_SECRET, LOG_LEVEL: 'info'})
    })

    it('made between push\'s own read and its bulk PUT is overwritten (documented: Render has no conditional write)', async () => {
      expect((await push()).exitCode).to.equal(0)
      values.JWT_SECRET = long('JWT2')
      writeValues()
      // A hook that runs as the PUT arrives, before the fake handles it: someone edits in the dashboard.
      let edited = false
      fake.faults.always({kind: 'latency', ms: 0}, {
        match: (req) => {
          if (!edited && req.operationId === 'update-env-vars-for-service' && req.serviceId === ids.api) {
            edited = true
            fake.setEnvVar(ids.api, 'HAND_SET', 'edited during the push')
            fake.setEnvVar(ids.api, 'ADDED_BY_HAND', 'added during the push')
          }
          return false
        },
      })
      const r = await push()
      expect(edited).to.equal(true)
      // Render stored exactly what was sent, so the response check passes: the edit is lost.
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(fake.envVars(ids.api)).to.deep.equal({HAND_SET: 'set in the dashboard', JWT_SECRET: values.JWT_SECRET, LOG_LEVEL: 'info'})
      // And nothing afterwards tells: the key is unmanaged and back at its old value.
      expect((await diff('--exit-code')).exitCode).to.equal(0)
    })
  })

  describe('pull --from render', () => {
    const manifestWithToken = () => manifest(TARGET, '  API_TOKEN: {services: [api, worker], generate: "alnum:32"}\n')
    let live: Record<string, string>

    beforeEach(() => {
      p.write('envsync.yaml', manifestWithToken())
      live = {JWT_SECRET: long('LJWT'), DB_PASSWORD: long('LDB'), SESSION_KEY: long('LSESSION'), TOKEN_A: long('TOKA'), TOKEN_B: long('TOKB')}
      fake.setEnvVar(ids.api, 'JWT_SECRET', live.JWT_SECRET)
      fake.setEnvVar(ids.api, 'LOG_LEVEL', 'debug')
      fake.setEnvVar(ids.worker, 'LOG_LEVEL', 'debug')
      fake.setEnvVar(ids.api, 'API_TOKEN', live.TOKEN_A)
      fake.setEnvVar(ids.worker, 'API_TOKEN', live.TOKEN_B)
      fake.setEnvVar(ids.group, 'DB_PASSWORD', live.DB_PASSWORD)
      fake.setEnvVar(ids.group, 'SESSION_KEY', live.SESSION_KEY)
      // Locally only SESSION_KEY, with a different value.
      values = {SESSION_KEY: long('LOCAL')}
      writeValues()
    })
    const local = () => parseDotenv(readFileSync(p.path('.env.production')))
    const all = () => [...Object.values(live), ...Object.values(values)]

    it('imports values, keeps a differing local value, leaves a key two services disagree on (exit 1), prints no value', async () => {
      const r = await run(['pull', 'production', '--from', 'render'])
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(local()).to.deep.equal({SESSION_KEY: values.SESSION_KEY, JWT_SECRET: live.JWT_SECRET, DB_PASSWORD: live.DB_PASSWORD, LOG_LEVEL: 'debug'})
      expect(r.stdout).to.match(/API_TOKEN +destinations disagree: left alone/)
      expect(r.stdout).to.match(/SESSION_KEY +differs: local value kept/)
      expect(r.stdout).to.match(/JWT_SECRET +written/)
      expect(r.stdout).to.include('3 values written')
      expect(writes()).to.deep.equal([])
      assertNoLeak(all(), r.stdout, r.stderr, JSON.stringify(fake.log()))

      const j = await run(['pull', 'production', '--from', 'render', '--json'])
      expect(j.exitCode).to.equal(1)
      const result = JSON.parse(j.stdout).result
      const byKey = Object.fromEntries(result.keys.map((k: {key: string; action: string}) => [k.key, k.action]))
      expect(byKey).to.deep.equal({API_TOKEN: 'conflict', DB_PASSWORD: 'unchanged', JWT_SECRET: 'unchanged', LOG_LEVEL: 'unchanged', SESSION_KEY: 'kept-local'})
      expect(result.keys.find((k: {key: string}) => k.key === 'API_TOKEN').from).to.have.members(['render service shop-api', 'render service shop-worker'])
      assertNoLeak(all(), j.stdout, j.stderr)
    })

    it('--keys with a key the manifest does not have: a clear error before any request', async () => {
      fake.clearLog()
      const r = await run(['pull', 'production', '--from', 'render', '--keys', 'DB_PASSWRD'])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('--keys DB_PASSWRD: not a key of production on render')
      expect(r.stderr).to.include('DB_PASSWORD')
      expect(log()).to.deep.equal([])
    })

    it('a manifest key found where the manifest does not put it is a stray, not a second value', async () => {
      // DB_PASSWORD is shared: it goes to the env group, not to the api service.
      fake.setEnvVar(ids.api, 'DB_PASSWORD', 'a stray copy set by hand')
      const r = await run(['pull', 'production', '--from', 'render', '--keys', 'DB_PASSWORD'])
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(local().DB_PASSWORD).to.equal(live.DB_PASSWORD)
      expect(r.stdout).to.match(/DB_PASSWORD +written/)
    })

    it('--overwrite replaces the differing local value; agreeing services pull cleanly (exit 0)', async () => {
      fake.setEnvVar(ids.worker, 'API_TOKEN', live.TOKEN_A)
      const r = await run(['pull', 'production', '--from', 'render', '--overwrite'])
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(local()).to.deep.equal({SESSION_KEY: live.SESSION_KEY, JWT_SECRET: live.JWT_SECRET, DB_PASSWORD: live.DB_PASSWORD, LOG_LEVEL: 'debug', API_TOKEN: live.TOKEN_A})
      expect(r.stdout).to.match(/SESSION_KEY +replaced \(--overwrite\)/)
      assertNoLeak(all(), r.stdout, r.stderr, JSON.stringify(fake.log()))
      // What was pulled is what is live: nothing to push (the ownership record is empty, so
      // live keys are compared, none removed).
      const d = await diff('--exit-code')
      expect(d.exitCode, d.stdout).to.equal(0)
      assertNoLeak(all(), d.stdout, d.stderr)
    })
  })
})
