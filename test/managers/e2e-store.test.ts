import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import dotenv from 'dotenv'

import type {ManagerKind} from '../../src/targets/managers/backend.js'
import {start as startRailway, type RailwayFake} from '../fakes/railway.js'
import {DEFAULT_API_KEY, startRenderFake, type RenderFake} from '../fakes/render.js'
import {canary} from '../helpers/canary.js'
import {describeK8s} from '../k8s/harness.js'
import {expectNoViolations, KINDS, ManagerProject, manifestYaml, mark, usePlatforms, type Platform, type SecretEntry} from './support.js'

/**
 * "Done when", store role: a fresh project whose production values live in a secret manager
 * (AWS Secrets Manager in the seed's layout: one secret per key under filot/production/, the
 * JSON group filot/production/redis holding REDIS_URL and REDIS_PASSWORD), driven through
 * bin/run.js: generate writes new marked secrets, check, set, get, diff, push to Railway, Render
 * and Docker (Kubernetes in its own tier below), a second push in sync writes nothing anywhere,
 * export and run read from the manager. The same flow runs with each other manager as the store,
 * in its own naming.
 */

const PREFIX: Record<ManagerKind, string> = {aws: 'filot/production/', vault: 'filot/production/', gcp: 'filot-production-', azure: 'filot-production-'}
const GROUP: Record<ManagerKind, string> = {aws: 'filot/production/redis', vault: 'filot/production/redis', gcp: 'filot-production-redis', azure: 'filot-production-redis'}

const SECRETS: Record<string, SecretEntry> = {
  JWT_SECRET: {services: ['api'], generate: 'base64:48'},
  DB_PASSWORD: {services: ['api', 'worker'], generate: 'alnum:32'},
  REDIS_URL: {services: ['api', 'worker']},
  REDIS_PASSWORD: {services: ['api', 'worker'], generate: 'alnum:32'},
  LOG_LEVEL: {services: ['api', 'worker'], sensitive: false, default: 'info'},
}

/** The store options of the seed's layout for `kind`. */
const storeOf = (pl: Platform) => ({...pl.options, prefix: PREFIX[pl.kind], groups: {[GROUP[pl.kind]]: {REDIS_URL: 'url', REDIS_PASSWORD: 'password'}}})
/** A group secret's fields (Vault keeps them as the secret's map, the others as JSON text). */
const fields = (pl: Platform, name: string): Record<string, string> | undefined => {
  const text = pl.text(name)
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, string>)
}

function dockerFiles(dir: string): Map<string, {text: string; mtime: number}> {
  const out = new Map<string, {text: string; mtime: number}>()
  const walk = (d: string) => {
    for (const f of existsSync(d) ? readdirSync(d) : []) {
      const file = path.join(d, f)
      if (statSync(file).isDirectory()) walk(file)
      else out.set(path.relative(dir, file), {text: readFileSync(file, 'utf8'), mtime: statSync(file).mtimeMs})
    }
  }
  walk(path.join(dir, 'secrets'))
  return out
}

for (const kind of KINDS) {
  describe(`${kind} as the production store, end to end (bin/run.js)`, function () {
    this.timeout(180_000)
    const running = usePlatforms([kind])
    let pl: Platform
    let p: ManagerProject
    let railway: RailwayFake
    let render: RenderFake
    let railwayIds: {id: string; environments: Record<string, string>; services: Record<string, string>}

    const railwayWrites = () => railway.requests.filter((r) => r.operationType === 'mutation' && r.executed).length
    const renderWrites = () => render.log().filter((e) => e.method !== 'GET').length
    const at = (key: string) => pl.nameOf(PREFIX[kind], key)

    beforeEach(async function () {
      const platform = running.get(kind)
      if (!platform) this.skip()
      pl = platform!
      railway = await startRailway()
      railwayIds = railway.addProject({name: 'filot', environments: ['production'], services: ['api', 'worker']})
      render = await startRenderFake({onDrift: 'record'})
      render.seed({services: [{name: 'filot-api'}, {name: 'filot-worker'}]})
      p = new ManagerProject(() => running.values())
      p.extraEnv = {RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: railway.accountToken(), RAILWAY_TOKEN: undefined, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY}
      const manifest = manifestYaml(
        {
          production: {
            store: {[kind]: storeOf(pl)},
            targets: {
              railway: {project: 'filot', services: {api: 'api', worker: 'worker'}},
              render: {services: {api: 'filot-api', worker: 'filot-worker'}},
              docker: {},
            },
          },
        },
        SECRETS,
        ['api', 'worker'],
      )
      p.writeManifest(manifest.replace('project: shop', 'project: filot'))
    })

    afterEach(async () => {
      if (!p) return
      p.assertNoLeak()
      expectNoViolations(running.values())
      p.cleanup()
      await railway.stop()
      await render.stopAndVerify()
    })

    it('generate, set, check, get, diff, push, a second push in sync, export and run all go through the manager', async () => {
      // generate: new secrets in the manager, marked as envsync's; the group as one JSON secret.
      await p.ok(['generate', 'production'])
      for (const key of ['JWT_SECRET', 'DB_PASSWORD']) {
        expect(pl.value(at(key)), key).to.be.a('string').with.length.above(30)
        expect(pl.versions(at(key))).to.equal(1)
        expect(pl.tags(at(key)), `${key} marker`).to.include({'managed-by': 'envsync', 'envsync-project': 'filot', 'envsync-environment': 'production'})
        p.canaries.push(pl.value(at(key))!)
      }
      const redisPassword = fields(pl, GROUP[kind])?.password
      expect(redisPassword, 'REDIS_PASSWORD in the group').to.be.a('string').with.length(32)
      p.canaries.push(redisPassword!)
      expect(pl.tags(GROUP[kind])).to.include({'managed-by': 'envsync'})
      expect(pl.names().sort()).to.deep.equal([at('DB_PASSWORD'), at('JWT_SECRET'), GROUP[kind]].sort())
      expect(readdirSync(p.dir).filter((f) => f.startsWith('.env') && f !== '.envsync'), 'no local values file').to.deep.equal([])

      // set: the group's other field is kept; one new version of the group.
      const redisUrl = `redis://default:${canary('REDISPW')}@redis.internal:6379/0`
      p.canaries.push(redisUrl.slice(18, 40))
      await p.ok(['set', 'production', 'REDIS_URL'], {input: redisUrl})
      expect(fields(pl, GROUP[kind])).to.deep.equal({url: redisUrl, password: redisPassword})
      expect(pl.versions(GROUP[kind])).to.equal(2)

      await p.ok(['check', 'production'])
      const got = await p.ok(['get', 'production', 'JWT_SECRET'], {printsValues: true})
      expect(got.stdout).to.equal(pl.value(at('JWT_SECRET')))

      const plan = await p.ok(['diff', 'production'])
      for (const key of ['JWT_SECRET', 'DB_PASSWORD', 'REDIS_URL', 'REDIS_PASSWORD']) expect(plan.stdout).to.include(key)

      // push: every platform gets the manager's values; the manager is only read.
      const storeWrites = mark([pl])
      await p.ok(['push', 'production', '--yes'])
      expect(storeWrites()[kind], 'push writes nothing to the store').to.equal(0)
      const want = {JWT_SECRET: pl.value(at('JWT_SECRET')), DB_PASSWORD: pl.value(at('DB_PASSWORD')), REDIS_URL: redisUrl, REDIS_PASSWORD: redisPassword, LOG_LEVEL: 'info'}
      const api = railway.variables({projectId: railwayIds.id, environmentId: railwayIds.environments.production!, serviceId: railwayIds.services.api!})
      expect(api).to.include(want)
      expect(render.envVars('filot-worker')).to.include({DB_PASSWORD: want.DB_PASSWORD, REDIS_URL: redisUrl, LOG_LEVEL: 'info'})
      expect(render.envVars('filot-worker')).to.not.have.property('JWT_SECRET')
      const docker = dockerFiles(p.dir)
      expect([...docker.values()].some((f) => f.text.includes(want.JWT_SECRET!)), 'docker secret files hold the values').to.equal(true)

      // A second push is in sync: nothing written anywhere.
      const before = {store: mark([pl]), railway: railwayWrites(), render: renderWrites()}
      const again = await p.ok(['push', 'production', '--yes'])
      expect(again.stdout).to.match(/0 changes/)
      expect(before.store()[kind]).to.equal(0)
      expect(railwayWrites()).to.equal(before.railway)
      expect(renderWrites()).to.equal(before.render)
      expect(dockerFiles(p.dir)).to.deep.equal(docker)

      // export and run read from the manager.
      const exported = await p.ok(['export', 'production'], {printsValues: true})
      expect(dotenv.parse(exported.stdout)).to.deep.equal(want)
      const check = `process.stdout.write(process.env.REDIS_URL === ${JSON.stringify(redisUrl)} && process.env.JWT_SECRET === ${JSON.stringify(want.JWT_SECRET)} ? 'same' : 'different')`
      const ran = await p.ok(['run', 'production', '--', process.execPath, '-e', check])
      expect(ran.stdout).to.equal('same')
      expect(pl.versions(at('JWT_SECRET')), 'nothing rewrote the store').to.equal(1)
      expect(pl.versions(GROUP[kind])).to.equal(2)
    })
  })
}

describeK8s('AWS Secrets Manager store pushed to Kubernetes (bin/run.js)', (k8s) => {
  const running = usePlatforms(['aws'])
  let p: ManagerProject

  afterEach(() => {
    if (!p) return
    p.assertNoLeak()
    expectNoViolations(running.values())
    p.cleanup()
  })

  it('the seed layout\'s values reach one Secret per service, and a second push changes nothing', async function () {
    const pl = running.get('aws')
    if (!pl) this.skip()
    const namespace = `filot-${Date.now().toString(36)}`
    p = new ManagerProject(() => running.values())
    p.extraEnv = {KUBECONFIG: k8s.cluster.kubeconfig}
    p.writeManifest(
      manifestYaml({production: {store: {aws: storeOf(pl!)}, targets: {kubernetes: {namespace, createNamespace: true}}}}, SECRETS, ['api', 'worker']).replace('project: shop', 'project: filot'),
    )
    await p.ok(['generate', 'production'])
    const redisUrl = `redis://default:${canary('K8S')}@redis:6379`
    p.canaries.push(redisUrl.slice(18, 40))
    await p.ok(['set', 'production', 'REDIS_URL'], {input: redisUrl})
    await p.ok(['push', 'production', '--yes'])
    const secrets = await k8s.cluster.kubectl(['get', 'secrets', '-n', namespace, '-o', 'json'])
    const items = (JSON.parse(secrets.stdout) as {items: {data?: Record<string, string>}[]}).items
    const urls = items.map((i) => (i.data?.REDIS_URL ? Buffer.from(i.data.REDIS_URL, 'base64').toString('utf8') : undefined)).filter(Boolean)
    expect(urls.length).to.be.at.least(1)
    expect(urls.every((u) => u === redisUrl)).to.equal(true)
    const since = mark([pl!])
    const again = await p.ok(['push', 'production', '--yes'])
    expect(again.stdout).to.match(/0 changes/)
    expect(since().aws).to.equal(0)
  })
})
