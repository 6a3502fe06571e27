import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {serverError} from '../fakes/faults.js'
import {start as startRailway, type RailwayFake} from '../fakes/railway.js'
import {DEFAULT_API_KEY, startRenderFake, type RenderFake} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * push --deploy on Railway and Render: one deploy per service whose values changed (a shared
 * change deploys the services that receive it), none when in sync; a deploy that fails fails only
 * the destinations it delivers, and the next push makes it again, values in sync or not.
 */

const long = (label = 'CANARY') => `${canary(label)}${canary('Y').slice(2)}`

const MANIFEST = `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    targets:
      railway: {project: shop, services: {api: api, worker: worker}, shared: true}
      render: {services: {api: shop-api, worker: shop-worker}, envGroup: shop-shared}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32", shared: true}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
`

describe('push --deploy: Railway and Render redeploy what reads the change', function () {
  this.timeout(60_000)
  let railway: RailwayFake
  let render: RenderFake
  let p: TempProject
  let project: {id: string; environments: Record<string, string>; services: Record<string, string>}
  let ids: {api: string; worker: string}
  let token: string
  let values: Record<string, string>
  const env = () => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY})
  const push = (...args: string[]) => runBin(['push', 'production', '--yes', ...args], {cwd: p.dir, env: env()})
  const setValues = (next: Record<string, string>) => {
    values = {...values, ...next}
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
  }
  /** Deploys so far: Railway api, Railway worker, Render api, Render worker. */
  const deploys = () => [railway.deployCount(project.services.api), railway.deployCount(project.services.worker), render.deployCount(ids.api), render.deployCount(ids.worker)]
  const history = () => readFileSync(p.path('.envsync/history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  const outputs: string[] = []

  beforeEach(async () => {
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api', 'worker']})
    token = railway.accountToken()
    render = await startRenderFake({onDrift: 'record'})
    const seeded = render.seed({services: [{name: 'shop-api'}, {name: 'shop-worker'}], envGroups: [{name: 'shop-shared', services: ['shop-api', 'shop-worker']}]})
    ids = {api: seeded.services['shop-api'], worker: seeded.services['shop-worker']}
    p = new TempProject('envsync-redeploy-')
    p.write('envsync.yaml', MANIFEST)
    values = {}
    setValues({JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB')})
    const first = await push()
    expect(first.exitCode, first.stdout + first.stderr).to.equal(0)
    expect(deploys(), 'no deploy without --deploy').to.deep.equal([0, 0, 0, 0])
  })

  afterEach(async () => {
    assertNoLeak(Object.values(values), ...outputs, JSON.stringify(railway.requests), JSON.stringify(render.log()), readFileSync(p.path('.envsync/history.jsonl'), 'utf8'))
    outputs.length = 0
    p.cleanup()
    await railway.stop()
    await render.stopAndVerify()
  })

  it('one deploy per changed service, a shared change deploys every service it feeds, in sync deploys nothing', async () => {
    setValues({JWT_SECRET: long('JWT2')})
    const r = await push('--deploy')
    outputs.push(r.stdout, r.stderr)
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(deploys()).to.deep.equal([1, 0, 1, 0])
    expect(r.stdout).to.match(/↻ redeploy +railway shop\/production service api +service api redeployed/)
    expect(r.stdout).to.match(/↻ redeploy +render service shop-api +service shop-api deployed/)
    const entries = history().filter((e) => e.action === 'redeploy')
    // Each recorded as started before it is attempted, then as done.
    expect(entries.map((e) => [e.destination, e.status, e.keys])).to.have.deep.members([
      ['railway:shop/production/api', 'pending', ['JWT_SECRET']],
      ['railway:shop/production/api', 'applied', ['JWT_SECRET']],
      ['render:service/shop-api', 'pending', ['JWT_SECRET']],
      ['render:service/shop-api', 'applied', ['JWT_SECRET']],
    ])

    setValues({DB_PASSWORD: long('DB2')})
    const shared = await push('--deploy')
    outputs.push(shared.stdout, shared.stderr)
    expect(shared.exitCode, shared.stdout + shared.stderr).to.equal(0)
    expect(deploys()).to.deep.equal([2, 1, 2, 1])

    const again = await push('--deploy')
    outputs.push(again.stdout, again.stderr)
    expect(again.exitCode).to.equal(0)
    expect(again.stdout).to.not.include('redeploy')
    expect(deploys()).to.deep.equal([2, 1, 2, 1])
  })

  it('a deploy that fails fails only its destination; the next push makes it again although nothing changed, then nothing more', async () => {
    railway.faults.once(serverError(502), {match: {operationName: 'EnvsyncRedeploy'}})
    setValues({JWT_SECRET: long('JWT3')})
    const r = await runBin(['push', 'production', '--yes', '--deploy', '--json'], {cwd: p.dir, env: env()})
    outputs.push(r.stdout, r.stderr)
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    const report = JSON.parse(r.stdout).result.report
    const failed = report.destinations.filter((d: {status: string}) => d.status === 'failed')
    expect(failed.map((d: {id: string}) => d.id)).to.deep.equal(['railway:shop/production/api'])
    expect(failed[0].error.message).to.match(/^values written, but the redeploy failed: service api redeploy: /)
    expect(report.redeploys.map((d: {destination: string; status: string}) => `${d.status} ${d.destination}`).sort()).to.deep.equal(['applied render:service/shop-api', 'failed railway:shop/production/api'])
    expect(deploys()).to.deep.equal([0, 0, 1, 0])
    expect(railway.variables({projectId: project.id, environmentId: project.environments.production, serviceId: project.services.api}).JWT_SECRET).to.equal(values.JWT_SECRET)

    const rerun = await push('--deploy')
    outputs.push(rerun.stdout, rerun.stderr)
    expect(rerun.exitCode, rerun.stdout + rerun.stderr).to.equal(0)
    expect(rerun.stdout).to.include('the last redeploy of railway shop/production service api failed: push makes it again')
    expect(deploys(), 'only the owed deploy').to.deep.equal([1, 0, 1, 0])
    const railwayEntries = history().filter((e) => e.action === 'redeploy' && e.destination === 'railway:shop/production/api')
    expect(railwayEntries.map((e) => [e.status, e.keys])).to.deep.equal([
      ['pending', ['JWT_SECRET']],
      ['failed', ['JWT_SECRET']],
      ['pending', ['JWT_SECRET']],
      ['applied', ['JWT_SECRET']],
    ])
    // The values were written the first time: its push entry is applied.
    expect(history().filter((e) => e.action === 'push' && e.destination === 'railway:shop/production/api').map((e) => e.status)).to.deep.equal(['applied', 'applied'])

    const third = await push('--deploy')
    outputs.push(third.stdout, third.stderr)
    expect(third.exitCode).to.equal(0)
    expect(deploys()).to.deep.equal([1, 0, 1, 0])
  })

  it('ApplyOptions.redeploy redeploys destinations in sync, recording the keys it is for (rotate reruns this way)', async () => {
    const saved = {...process.env}
    Object.assign(process.env, {RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY})
    delete process.env.RAILWAY_TOKEN
    try {
      // import(): one module graph with the adapters the registry loads (see test/reliability/faults.test.ts).
      const {loadManifest} = await import('../../src/manifest/load.js')
      const {planAndApply} = await import('../../src/sync/sync.js')
      const manifest = loadManifest(p.path('envsync.yaml'))
      const {report} = await planAndApply(manifest, 'production', {deploy: true, redeploy: new Set(['render:service/shop-worker', 'railway:shop/production/worker']), redeployKeys: ['DB_PASSWORD']})
      expect(report.failed, JSON.stringify(report.destinations)).to.equal(0)
      expect(report.redeploys!.map((d: {what: string}) => d.what).sort()).to.deep.equal(['service shop-worker deployed', 'service worker redeployed'])
      expect(deploys()).to.deep.equal([0, 1, 0, 1])
      expect(history().filter((e) => e.action === 'redeploy' && e.status === 'applied').map((e) => [e.destination, e.keys])).to.have.deep.members([
        ['render:service/shop-worker', ['DB_PASSWORD']],
        ['railway:shop/production/worker', ['DB_PASSWORD']],
      ])
    } finally {
      process.env = saved
    }
  })
})
