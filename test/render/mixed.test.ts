import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import {expect} from 'chai'

import {latency} from '../fakes/faults.js'
import {start as startRailway, type RailwayFake} from '../fakes/railway.js'
import {DEFAULT_API_KEY, renderFault, startRenderFake, type RenderFake} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * One environment deployed to Railway and Render at once: a platform that keeps failing does
 * not stop the other, the report says exactly which destinations were applied and which failed,
 * and a rerun after the outage converges.
 */

const long = (label = 'CANARY') => `${canary(label)}${canary('Y').slice(2)}`

const MANIFEST = `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    targets:
      railway: {project: shop, services: {api: api, worker: worker}, shared: true, deploy: true}
      render: {services: {api: shop-api, worker: shop-worker}, envGroup: shop-shared, deploy: true}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32", shared: true}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
`

describe('railway and render in one environment', () => {
  let railway: RailwayFake
  let render: RenderFake
  let p: TempProject
  let project: {id: string; environments: Record<string, string>; services: Record<string, string>}
  let renderIds: {api: string; worker: string; group: string}
  let token: string
  let values: Record<string, string>
  const env = () => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY})
  const run = (...args: string[]) => runBin(args, {cwd: p.dir, env: env()})
  const scope = (service?: string) => ({projectId: project.id, environmentId: project.environments.production, ...(service ? {serviceId: project.services[service]} : {})})
  const logs = () => JSON.stringify(railway.requests) + JSON.stringify(render.log())

  beforeEach(async () => {
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api', 'worker']})
    token = railway.accountToken()
    render = await startRenderFake({onDrift: 'record'})
    const seeded = render.seed({
      services: [{name: 'shop-api', envVars: {HAND_SET: 'by hand'}}, {name: 'shop-worker'}],
      envGroups: [{name: 'shop-shared', services: ['shop-api', 'shop-worker']}],
    })
    renderIds = {api: seeded.services['shop-api'], worker: seeded.services['shop-worker'], group: seeded.envGroups['shop-shared']}
    p = new TempProject('envsync-mixed-')
    p.write('envsync.yaml', MANIFEST)
    values = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB')}
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
  })

  afterEach(async () => {
    p.cleanup()
    await railway.stop()
    await render.stopAndVerify()
  })

  it('Railway is applied while Render keeps failing (exit 1, exact report); after the outage a rerun converges', async () => {
    render.faults.always(renderFault(500), {match: {write: true}})

    const r = await run('push', 'production', '--yes', '--json')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    const report = JSON.parse(r.stdout).result.report
    const statuses = report.destinations.map((d: {kind: string; status: string; label: string}) => `${d.status} ${d.label}`).sort()
    expect(statuses).to.deep.equal([
      'applied railway shop/production service api',
      'applied railway shop/production service worker',
      'applied railway shop/production shared variables',
      'failed render env group shop-shared',
      'failed render service shop-api',
      'failed render service shop-worker',
    ])
    expect(report.applied).to.equal(3)
    expect(report.failed).to.equal(3)
    for (const d of report.destinations.filter((x: {kind: string}) => x.kind === 'render')) {
      expect(d.error.code).to.equal('RENDER_ERROR')
      expect(d.error.message).to.match(/^Render \/(services|env-groups)\/[\w-]+\/env-vars(\/DB_PASSWORD)?: internal server error$/)
    }

    // Railway holds the values; Render is as it was (no write went through, no deploy).
    expect(railway.variables(scope('api'))).to.deep.equal({JWT_SECRET: values.JWT_SECRET, LOG_LEVEL: 'info'})
    expect(railway.variables(scope('worker'))).to.deep.equal({LOG_LEVEL: 'info'})
    expect(railway.variables(scope())).to.deep.equal({DB_PASSWORD: values.DB_PASSWORD})
    expect(railway.deployCount(project.services.api)).to.equal(1)
    expect(railway.deployCount(project.services.worker)).to.equal(1)
    expect(render.envVars(renderIds.api)).to.deep.equal({HAND_SET: 'by hand'})
    expect(render.envVars(renderIds.worker)).to.deep.equal({})
    expect(render.envVars(renderIds.group)).to.deep.equal({})
    expect(render.deployCount(renderIds.api) + render.deployCount(renderIds.worker)).to.equal(0)
    // Each Render write was tried 5 times (1 + 4 retries) and nothing else was written.
    const renderWrites = render.log().filter((e) => e.method !== 'GET')
    expect(renderWrites.every((e) => e.status === 500)).to.equal(true)
    expect(renderWrites).to.have.length(15)

    // The same in text.
    const diffBefore = await run('diff', 'production', '--exit-code')
    expect(diffBefore.exitCode).to.equal(3)
    expect(diffBefore.stdout).to.match(/railway shop\/production service api  in sync/)
    expect(diffBefore.stdout).to.match(/render service shop-api  2 to add/)

    render.faults.clear()
    render.clearLog()
    railway.clearLog()
    const again = await run('push', 'production', '--yes')
    expect(again.exitCode, again.stdout + again.stderr).to.equal(0)
    expect(again.stdout).to.match(/= in sync +railway shop\/production service api/)
    expect(again.stdout).to.match(/✓ applied +render service shop-api/)
    expect(again.stdout).to.match(/✓ applied +render env group shop-shared/)
    expect(again.stdout).to.include('✓ production: 3 applied, 3 already in sync')
    // Only Render was written the second time; Railway was only read.
    expect(railway.requests.filter((q: {operationName?: string}) => q.operationName === 'EnvsyncUpsert' || q.operationName === 'EnvsyncDelete')).to.deep.equal([])
    expect(railway.deployCount(project.services.api)).to.equal(1)
    expect(render.envVars(renderIds.api)).to.deep.equal({HAND_SET: 'by hand', JWT_SECRET: values.JWT_SECRET, LOG_LEVEL: 'info'})
    expect(render.envVars(renderIds.group)).to.deep.equal({DB_PASSWORD: values.DB_PASSWORD})
    expect(render.deployCount(renderIds.api)).to.equal(1)
    expect(render.deployCount(renderIds.worker)).to.equal(1)

    const d = await run('diff', 'production', '--exit-code')
    expect(d.exitCode, d.stdout).to.equal(0)
    assertNoLeak(Object.values(values), r.stdout, r.stderr, diffBefore.stdout, diffBefore.stderr, again.stdout, again.stderr, d.stdout, d.stderr, logs())
  })

  it('push --yes writes each destination once its own plan is known: Docker and Railway are written while Render\'s reads are still unanswered', async () => {
    p.write('envsync.yaml', MANIFEST.replace('    targets:\n', '    targets:\n      docker: {}\n'))
    render.faults.always(latency(1500), {match: {method: 'GET'}})
    const pushing = run('push', 'production', '--yes')
    const file = p.path('secrets/production/JWT_SECRET')
    let renderAnsweredFirst: boolean | undefined
    for (const deadline = Date.now() + 20_000; renderAnsweredFirst === undefined && Date.now() < deadline; await sleep(10)) {
      const written = existsSync(file) && railway.variables(scope('api')).JWT_SECRET !== undefined
      if (written) renderAnsweredFirst = render.log().some((e) => e.method === 'GET' && e.status !== 0)
    }
    expect(renderAnsweredFirst, 'the Docker file and the Railway variable appeared').not.to.equal(undefined)
    expect(renderAnsweredFirst, 'a Render read was answered before Docker and Railway were written').to.equal(false)

    const r = await pushing
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(readFileSync(file, 'utf8')).to.equal(values.JWT_SECRET)
    expect(render.envVars(renderIds.api).JWT_SECRET).to.equal(values.JWT_SECRET)
    // The output is the same as ever: the plan, then the report.
    expect(r.stdout.indexOf('+ JWT_SECRET')).to.be.lessThan(r.stdout.indexOf('✓ applied'))
    assertNoLeak(Object.values(values), r.stdout, r.stderr)
  })
})
