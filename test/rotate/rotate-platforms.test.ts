import {expect} from 'chai'

import {start as startRailway, type RailwayFake} from '../fakes/railway.js'
import {DEFAULT_API_KEY, renderFault, startRenderFake, type RenderFake} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {TempProject} from '../helpers/project.js'
import {at, HOUR, MINUTE, readFileOr, Rotation, T0} from './support.js'

/**
 * A JWT secret with `previous:` and `grace:` rotated across Docker, Railway and Render with
 * deploys, through the built binary: the old value stays under JWT_SECRET_PREVIOUS for the grace,
 * each changed service is deployed once, and after the grace a push removes the previous value
 * from the store and every destination. A failure half way is resumed by the rerun with the
 * value already drawn.
 */

const MANIFEST = `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    protected: true
    targets:
      docker: {}
      railway: {project: shop, services: {api: api, worker: worker}, deploy: true}
      render: {services: {api: shop-api, worker: shop-worker}, deploy: true}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48", previous: JWT_SECRET_PREVIOUS, grace: 1h, rotate: 90d}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32", rotate: 180d}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
`

const long = (label: string) => `${canary(label)}${canary('Y').slice(2)}`

describe('rotate: a JWT secret with a grace period across Docker, Railway and Render', function () {
  this.timeout(120_000)

  let railway: RailwayFake
  let render: RenderFake
  let p: TempProject
  let r: Rotation
  let project: {id: string; environments: Record<string, string>; services: Record<string, string>}
  let renderIds: Record<string, string>
  let token: string
  let old: {JWT_SECRET: string; DB_PASSWORD: string}

  const scope = (service: string) => ({projectId: project.id, environmentId: project.environments.production, serviceId: project.services[service]})
  const dockerFile = (key: string) => readFileOr(p.path(`secrets/production/${key}`))
  const deploys = () => ({
    railwayApi: railway.deployCount(project.services.api),
    railwayWorker: railway.deployCount(project.services.worker),
    renderApi: render.deployCount(renderIds['shop-api']),
    renderWorker: render.deployCount(renderIds['shop-worker']),
  })
  /** JWT_SECRET and JWT_SECRET_PREVIOUS at every destination of the api service. */
  const everywhere = () => ({
    docker: [dockerFile('JWT_SECRET'), dockerFile('JWT_SECRET_PREVIOUS')],
    railway: [railway.variables(scope('api')).JWT_SECRET, railway.variables(scope('api')).JWT_SECRET_PREVIOUS],
    render: [render.envVars(renderIds['shop-api']).JWT_SECRET, render.envVars(renderIds['shop-api']).JWT_SECRET_PREVIOUS],
  })
  const same = (jwt: string | undefined, previous: string | undefined) => ({docker: [jwt, previous], railway: [jwt, previous], render: [jwt, previous]})

  beforeEach(async () => {
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api', 'worker']})
    token = railway.accountToken()
    render = await startRenderFake({onDrift: 'record'})
    renderIds = render.seed({services: [{name: 'shop-api'}, {name: 'shop-worker'}]}).services
    p = new TempProject('envsync-rotate-')
    p.write('envsync.yaml', MANIFEST)
    r = new Rotation(p, 'production', () => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY}))
    old = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB')}
    r.writeStore(old)
    await r.expect(0, T0, ['push', 'production', '--yes'])
  })

  afterEach(async () => {
    p.cleanup()
    await railway.stop()
    await render.stopAndVerify()
  })

  it('rotates with the old value kept for the grace, one deploy per changed service; a push after the grace removes the previous value everywhere', async () => {
    const before = deploys()
    const rotated = await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    const fresh = r.store().JWT_SECRET
    expect(fresh).to.match(/^[A-Za-z0-9+/]{64}$/)
    expect(r.store()).to.deep.equal({JWT_SECRET: fresh, DB_PASSWORD: old.DB_PASSWORD, JWT_SECRET_PREVIOUS: old.JWT_SECRET})
    expect(everywhere()).to.deep.equal(same(fresh, old.JWT_SECRET))
    // Only the api service reads JWT_SECRET: it is deployed once on each platform, the worker not.
    expect(deploys()).to.deep.equal({...before, railwayApi: before.railwayApi + 1, renderApi: before.renderApi + 1})
    expect(railway.variables(scope('worker'))).to.not.have.property('JWT_SECRET')
    // The plan and report: fingerprints, the previous key and the grace's end, the next command.
    expect(rotated.stdout).to.include('JWT_SECRET_PREVIOUS until 2027-03-01 13:00 UTC')
    expect(rotated.stdout).to.match(/✓ applied +railway shop\/production service api/)
    expect(rotated.stdout).to.match(/✓ applied +render service shop-api/)
    expect(rotated.stdout).to.match(/✓ applied +docker secrets\/production/)
    // Docker: the command that makes the api container read the new files.
    expect(rotated.stdout).to.include('docker compose -f docker-compose.production.secrets.yml up -d --force-recreate api')
    expect(rotated.stdout).to.include('envsync rotate production --finish')
    expect(r.storeWrites().at(-1)).to.equal('rotate JWT_SECRET,JWT_SECRET_PREVIOUS until 2027-03-01T13:00:00.000Z')

    // In the grace: rotating again is refused, naming the grace's end; a push changes nothing.
    const again = await r.expect(2, at(30 * MINUTE), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(again.stderr).to.include('JWT_SECRET is in its grace period until 2027-03-01 13:00 UTC')
    expect(again.stderr).to.include('--force')
    const finishEarly = await r.expect(2, at(30 * MINUTE), ['rotate', 'production', '--finish', 'JWT_SECRET', '--yes'])
    expect(finishEarly.stderr).to.include('runs until 2027-03-01 13:00 UTC')
    const during = await r.expect(0, at(30 * MINUTE), ['push', 'production', '--yes'])
    expect(during.stderr).to.not.include('grace period of JWT_SECRET ended')
    expect(everywhere()).to.deep.equal(same(fresh, old.JWT_SECRET))
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)

    // After the grace: the next push ends it (says so), the previous value leaves the store and every destination.
    const deployed = deploys()
    const after = await r.expect(0, at(2 * HOUR), ['push', 'production', '--yes'])
    expect(after.stderr).to.include('the grace period of JWT_SECRET ended 2027-03-01 13:00 UTC: JWT_SECRET_PREVIOUS was removed from every destination, then from the store')
    expect(r.store()).to.deep.equal({JWT_SECRET: fresh, DB_PASSWORD: old.DB_PASSWORD})
    expect(everywhere()).to.deep.equal(same(fresh, undefined))
    expect(r.storeWrites().at(-1)).to.equal('finish -JWT_SECRET_PREVIOUS')
    // Removing a variable redeploys the api service (Railway's variableDelete does it itself): at most once each.
    expect(deploys().renderApi).to.equal(deployed.renderApi + 1)
    expect(deploys().railwayApi - deployed.railwayApi).to.be.within(0, 1)
    expect(deploys().renderWorker).to.equal(deployed.renderWorker)
    // Then the key may be rotated again.
    await r.expect(0, at(3 * HOUR), ['rotate', 'production', 'JWT_SECRET', '--yes', '--dry-run'])

    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })

  it('rotate --finish after the grace removes the previous value from the store and every destination', async () => {
    await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    const fresh = r.store().JWT_SECRET
    const early = await r.expect(2, at(10 * MINUTE), ['rotate', 'production', '--finish', '--yes'])
    expect(early.stderr).to.include('the grace period of JWT_SECRET runs until 2027-03-01 13:00 UTC')
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)
    const finished = await r.expect(0, at(61 * MINUTE), ['rotate', 'production', '--finish', '--yes', '--json'])
    const result = JSON.parse(finished.stdout).result
    expect(result.report.keys).to.deep.equal([{key: 'JWT_SECRET', mode: 'finish', previous: 'JWT_SECRET_PREVIOUS', graceUntil: '2027-03-01T13:00:00.000Z'}])
    expect(result.report.pending).to.deep.equal([])
    expect(r.store()).to.deep.equal({JWT_SECRET: fresh, DB_PASSWORD: old.DB_PASSWORD})
    expect(everywhere()).to.deep.equal(same(fresh, undefined))
    // Nothing left to finish.
    const twice = await r.expect(0, at(62 * MINUTE), ['rotate', 'production', '--finish', '--yes'])
    expect(twice.stdout).to.include('no grace period of production to finish')
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })

  it('a destination failing half way: the report names it and the command to finish; the rerun pushes the same value there, no new one', async () => {
    render.faults.always(renderFault(500), {match: {serviceId: renderIds['shop-api'], write: true}})
    const before = deploys()
    const failed = await r.expect(1, T0, ['rotate', 'production', 'JWT_SECRET', '--yes', '--json'])
    const report = JSON.parse(failed.stdout).result.report
    const statuses = report.push.destinations.map((d: {status: string; label: string}) => `${d.status} ${d.label}`).sort()
    expect(statuses).to.deep.equal(['applied docker secrets/production', 'applied railway shop/production service api', 'failed render service shop-api', 'unchanged railway shop/production service worker', 'unchanged render service shop-worker'])
    expect(report.pending).to.deep.equal(['render service shop-api'])
    expect(report.next[0]).to.equal('envsync rotate production JWT_SECRET')
    const fresh = r.store().JWT_SECRET
    expect(fresh).to.not.equal(old.JWT_SECRET)
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)
    expect(render.envVars(renderIds['shop-api']).JWT_SECRET).to.equal(old.JWT_SECRET)

    // diff and status say which destination still holds the old value.
    const diff = await r.expect(3, at(MINUTE), ['diff', 'production', '--exit-code'])
    expect(diff.stdout).to.match(/render service shop-api +.*(to update|to add)/)
    expect(diff.stdout).to.match(/railway shop\/production service api +in sync/)

    // The rerun while the grace runs resumes the rotation: no new value, only Render is written.
    render.faults.clear()
    const resumed = await r.expect(0, at(2 * MINUTE), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(resumed.stdout).to.include('resumes its last rotation (no new value): render service shop-api')
    expect(r.store()).to.deep.equal({JWT_SECRET: fresh, DB_PASSWORD: old.DB_PASSWORD, JWT_SECRET_PREVIOUS: old.JWT_SECRET})
    expect(everywhere()).to.deep.equal(same(fresh, old.JWT_SECRET))
    // The grace starts again from the resume, recorded with no value change: Render gets both values for a full hour.
    expect(resumed.stdout).to.include('its grace starts again: the old value stays as JWT_SECRET_PREVIOUS until 2027-03-01 13:02 UTC')
    expect(r.storeWrites().filter((w) => w.startsWith('rotate'))).to.deep.equal(['rotate JWT_SECRET,JWT_SECRET_PREVIOUS until 2027-03-01T13:00:00.000Z', 'rotate JWT_SECRET until 2027-03-01T13:02:00.000Z'])
    // Docker was in sync: the plan promised its compose command, the report prints it again.
    expect(resumed.stdout).to.include('docker compose -f docker-compose.production.secrets.yml up -d --force-recreate api')
    expect(deploys()).to.deep.equal({...before, railwayApi: before.railwayApi + 1, renderApi: before.renderApi + 1})
    // Converged: a third run is a refusal (grace running, nothing left to do), not a new value.
    await r.expect(2, at(3 * MINUTE), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    await r.expect(0, at(3 * MINUTE), ['diff', 'production', '--exit-code'])
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })
})
