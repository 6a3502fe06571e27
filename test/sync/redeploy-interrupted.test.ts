import {spawn} from 'node:child_process'
import {setTimeout as sleep} from 'node:timers/promises'

import {expect} from 'chai'

import {latency, type FaultInjector, type FaultMatch} from '../fakes/faults.js'
import {start as startRailway, type RailwayFake} from '../fakes/railway.js'
import {DEFAULT_API_KEY, startRenderFake, type RenderFake} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {MINUTE, Rotation, T0, at} from '../rotate/support.js'

/**
 * A run killed (kill -9, a CI timeout) while its redeploy is in flight: the history already says
 * the values landed (the push entry) and that the redeploy was started and not finished
 * (pending), so the next push — or rotate — makes it, values in sync or not.
 */

const long = (label: string) => `${canary(label)}${canary('Y').slice(2)}`

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets:
      railway: {project: shop, services: {api: api}, deploy: true}
      render: {services: {api: shop-api}, deploy: true}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48", previous: JWT_SECRET_PREVIOUS, grace: 1h, rotate: 90d}
`

const RAILWAY = 'railway:shop/production/api'
const RENDER = 'render:service/shop-api'

describe('a run killed during its redeploy leaves the redeploy owed; the rerun makes it', function () {
  this.timeout(90_000)
  let railway: RailwayFake
  let render: RenderFake
  let project: {id: string; environments: Record<string, string>; services: Record<string, string>}
  let renderApi: string
  let p: TempProject
  let r: Rotation
  const env = () => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY})
  let token: string
  /** Deploys so far: Railway's api, Render's api. */
  const deploys = () => [railway.deployCount(project.services.api), render.deployCount(renderApi)]
  const redeploys = () => r.history().filter((e) => e.action === 'redeploy').map((e) => `${e.status} ${e.destination} ${[...(e.keys ?? [])].sort().join(',')}`)

  /**
   * Runs envsync, holds the platform's deploy request when it arrives, and kills the run there.
   * A minute after T0: an entry identical to an earlier line (same time, same keys) counts once.
   */
  async function killDuringDeploy(faults: FaultInjector, match: FaultMatch, args: string[]): Promise<void> {
    faults.always(latency(60_000), {match})
    const child = spawn(process.execPath, [BIN, ...args], {cwd: p.dir, env: {...process.env, HOME: p.dir, ENVSYNC_NOW: at(MINUTE), NO_COLOR: '1', ...env()} as NodeJS.ProcessEnv, stdio: 'ignore'})
    const exited = new Promise((resolve) => child.on('exit', resolve))
    const deadline = Date.now() + 30_000
    while (!faults.injected.some((f) => f.fault.kind === 'latency')) {
      if (Date.now() > deadline) throw new Error('the deploy never started')
      await sleep(20)
    }
    child.kill('SIGKILL')
    await exited
    faults.clear()
  }

  beforeEach(async () => {
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api']})
    token = railway.accountToken()
    render = await startRenderFake({onDrift: 'record'})
    renderApi = render.seed({services: [{name: 'shop-api'}]}).services['shop-api']
    p = new TempProject('envsync-redeploy-killed-')
    p.write('envsync.yaml', MANIFEST)
    r = new Rotation(p, 'production', env)
    r.writeStore({JWT_SECRET: long('JWT')})
    await r.expect(0, T0, ['push', 'production', '--yes'])
    expect(deploys()).to.deep.equal([1, 1])
  })

  afterEach(async () => {
    assertNoLeak(Object.values(r.store()), ...r.everything())
    p.cleanup()
    await railway.stop()
    await render.stopAndVerify()
  })

  it('push: killed while Railway redeploys, the push is recorded and the redeploy pending; the next push makes it once, then nothing', async () => {
    r.writeStore({JWT_SECRET: long('JWT2')})
    await killDuringDeploy(railway.faults, {fields: 'serviceInstanceRedeploy'}, ['push', 'production', '--yes'])

    // Render's deploy comes after Railway's (one kind at a time): never started.
    const pushes = r.history().filter((e) => e.action === 'push' && e.time === at(MINUTE))
    expect(pushes.slice(-2).map((e) => `${e.status} ${e.destination}`).sort()).to.deep.equal([`applied ${RAILWAY}`, `applied ${RENDER}`])
    expect(redeploys().slice(-1)).to.deep.equal([`pending ${RAILWAY} JWT_SECRET`])

    const rerun = await r.expect(0, at(5 * MINUTE), ['push', 'production', '--yes'])
    expect(rerun.stdout).to.match(/↻ redeploy +railway shop\/production service api +service api redeployed/)
    expect(deploys(), 'Railway redeployed; Render, never started, deploys nothing new').to.deep.equal([2, 1])
    expect(redeploys().slice(-2)).to.deep.equal([`pending ${RAILWAY} JWT_SECRET`, `applied ${RAILWAY} JWT_SECRET`])

    const third = await r.expect(0, at(6 * MINUTE), ['push', 'production', '--yes'])
    expect(third.stdout).to.not.include('redeploy')
    expect(deploys()).to.deep.equal([2, 1])
  })

  it('rotate: killed while Render deploys, the rerun resumes the rotation and makes the deploy', async () => {
    await killDuringDeploy(render.faults, {operationId: 'create-deploy'}, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(r.storeWrites().slice(-1)).to.deep.equal(['rotate JWT_SECRET,JWT_SECRET_PREVIOUS until 2027-03-01T13:01:00.000Z'])
    expect(redeploys().filter((e) => e.includes(RENDER)).slice(-1)).to.deep.equal([`pending ${RENDER} JWT_SECRET,JWT_SECRET_PREVIOUS`])
    const [railwayBefore, renderBefore] = deploys()

    const rerun = await r.expect(0, at(5 * MINUTE), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(rerun.stdout).to.include('resumes its last rotation')
    expect(rerun.stdout).to.match(/↻ redeploy +render service shop-api +service shop-api deployed/)
    expect(deploys()).to.deep.equal([railwayBefore, renderBefore + 1])
    expect(redeploys().filter((e) => e.includes(RENDER)).slice(-1)).to.deep.equal([`applied ${RENDER} JWT_SECRET,JWT_SECRET_PREVIOUS`])
  })
})
