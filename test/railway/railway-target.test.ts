import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {start, type RailwayFake} from '../fakes/railway.js'
import {applyThenDrop, serverError, tooManyRequests} from '../fakes/faults.js'

const long = (label = 'CANARY') => `${canary(label)}${canary('Y').slice(2)}`

function manifest(extra = '', target = 'railway: {project: shop, services: {api: api, worker: worker}, shared: true, deploy: true}'): string {
  return `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    targets: {${target}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32", shared: true}
  DATABASE_URL: {services: [api], format: postgres-url, targets: {railway: "\${{Postgres.DATABASE_URL}}"}}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
${extra}`
}

describe('railway target (against a fake that executes the published GraphQL schema)', () => {
  let fake: RailwayFake
  let p: TempProject
  let ids: {id: string; environments: Record<string, string>; services: Record<string, string>}
  let token: string
  const env = (extra: Record<string, string | undefined> = {}) => ({RAILWAY_API_URL: fake.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined, ...extra})
  const push = (...args: string[]) => runBin(['push', 'production', '--yes', ...args], {cwd: p.dir, env: env()})
  const diff = (...args: string[]) => runBin(['diff', 'production', ...args], {cwd: p.dir, env: env()})
  const scope = (service?: string) => ({projectId: ids.id, environmentId: ids.environments.production, ...(service ? {serviceId: ids.services[service]} : {})})
  let values: Record<string, string>

  beforeEach(async () => {
    fake = await start()
    ids = fake.addProject({name: 'shop', environments: ['production'], services: ['api', 'worker', 'Postgres']})
    token = fake.accountToken()
    p = new TempProject('envsync-railway-')
    p.write('envsync.yaml', manifest())
    values = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB')}
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
  })
  afterEach(async () => {
    p.cleanup()
    await fake.stop()
  })

  const ops = () => fake.requests.map((r: {operationName?: string}) => r.operationName ?? '')

  it('pushes each service in one upsert with skipDeploys, shared keys to shared variables, references as literals', async () => {
    const r = await push()
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    expect(fake.variables(scope('api'))).to.deep.equal({JWT_SECRET: values.JWT_SECRET, DATABASE_URL: '${{Postgres.DATABASE_URL}}', LOG_LEVEL: 'info'})
    expect(fake.variables(scope('worker'))).to.deep.equal({LOG_LEVEL: 'info'})
    expect(fake.variables(scope())).to.deep.equal({DB_PASSWORD: values.DB_PASSWORD})
    expect(fake.replaceUpserts).to.have.length(0)
    expect(ops().filter((o?: string) => o === 'EnvsyncUpsert')).to.have.length(3)
    // one redeploy per changed service, after all writes; no deploys triggered by the writes
    expect(fake.deploys({cause: 'upsert'})).to.have.length(0)
    expect(fake.deployCount(ids.services.api)).to.equal(1)
    expect(fake.deployCount(ids.services.worker)).to.equal(1)
    assertNoLeak(Object.values(values), r.stdout, r.stderr, JSON.stringify(fake.requests))
  })

  it('a removal redeploys by itself, but not with shared variables written beside it: then envsync redeploys after all writes', async () => {
    expect((await push()).exitCode).to.equal(0)
    // Only a removal on api: Railway's own deploy for the delete is enough.
    p.write('envsync.yaml', manifest().replace(/ {2}JWT_SECRET:.*\n/, ''))
    expect((await push()).exitCode).to.equal(0)
    expect(fake.deploys({serviceId: ids.services.api, cause: 'delete'})).to.have.length(1)
    expect(fake.deploys({serviceId: ids.services.api, cause: 'redeploy'})).to.have.length(1) // the first push's
    // A removal on api and a shared variable changed in the same push: the delete's deploy may
    // have started before the shared write, so api is redeployed after all writes.
    p.write('envsync.yaml', manifest().replace(/ {2}JWT_SECRET:.*\n/, '').replace(/ {2}DATABASE_URL:.*\n/, ''))
    values.DB_PASSWORD = long('DB2')
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    fake.requests.length = 0
    expect((await push()).exitCode).to.equal(0)
    const last = (op: string) => fake.requests.map((r: {operationName?: string}) => r.operationName).lastIndexOf(op)
    expect(fake.deploys({serviceId: ids.services.api, cause: 'redeploy'})).to.have.length(2)
    expect(last('EnvsyncRedeploy')).to.be.greaterThan(last('EnvsyncUpsert'))
  })

  it('push --deploy redeploys each changed service once when the manifest does not ask', async () => {
    p.write('envsync.yaml', manifest('', 'railway: {project: shop, services: {api: api, worker: worker}}'))
    const quiet = await push()
    expect(quiet.exitCode, quiet.stdout + quiet.stderr).to.equal(0)
    expect(fake.deployCount(ids.services.api)).to.equal(0)
    values.JWT_SECRET = long('JWT2')
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    const r = await push('--deploy')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(fake.deployCount(ids.services.api)).to.equal(1)
    expect(fake.deployCount(ids.services.worker)).to.equal(0)
  })

  it('an in-sync diff reads each destination once (plus one project lookup) and push writes nothing', async () => {
    await push()
    fake.clearLog()
    const d = await diff('--json', '--exit-code')
    expect(d.exitCode, d.stdout).to.equal(0)
    const reads = ops().filter((o?: string) => o === 'EnvsyncVariables')
    expect(reads).to.have.length(3)
    expect(ops().filter((o?: string) => o !== 'EnvsyncVariables')).to.deep.equal(['EnvsyncProjects', 'EnvsyncProject'])
    fake.clearLog()
    const again = await push('--json')
    expect(JSON.parse(again.stdout).result.applied).to.equal(false)
    expect(ops().filter((o?: string) => o === 'EnvsyncUpsert' || o === 'EnvsyncDelete')).to.deep.equal([])
  })

  it('a reference is compared as the literal: no drift although it renders to something else', async () => {
    await push()
    fake.setVariables(scope('Postgres'), {DATABASE_URL: 'postgres://u:p@db/x'})
    expect((await diff('--exit-code')).exitCode).to.equal(0)
  })

  it('never deletes what it does not own; removes its own keys when they leave the manifest', async () => {
    fake.setVariables(scope('api'), {HAND_SET: 'keep me'})
    await push()
    p.write('envsync.yaml', manifest().replace(/  JWT_SECRET:.*\n/, ''))
    const plan = await runBin(['push', 'production', '--dry-run'], {cwd: p.dir, env: env()})
    expect(plan.stdout).to.match(/- JWT_SECRET/)
    expect(plan.stdout).to.match(/! HAND_SET/)
    expect((await push()).exitCode).to.equal(0)
    expect(fake.variables(scope('api'))).to.deep.equal({HAND_SET: 'keep me', DATABASE_URL: '${{Postgres.DATABASE_URL}}', LOG_LEVEL: 'info'})
  })

  it('removes its keys from a service, and from shared variables, when the manifest drops the last key that went there', async () => {
    fake.setVariables(scope('worker'), {HAND_SET: 'keep me'})
    expect((await push()).exitCode).to.equal(0)
    expect(fake.variables(scope('worker'))).to.have.property('LOG_LEVEL')
    // LOG_LEVEL was the worker's only key of its own, DB_PASSWORD the only shared one.
    p.write('envsync.yaml', manifest().replace(/ {2}LOG_LEVEL:.*\n/, '  LOG_LEVEL: {services: [api], sensitive: false, default: info}\n').replace(/ {2}DB_PASSWORD:.*\n/, ''))
    const r = await push()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/✓ applied +railway shop\/production service worker/)
    expect(fake.variables(scope('worker'))).to.deep.equal({HAND_SET: 'keep me'})
    expect(fake.variables(scope())).to.deep.equal({})
    // Nothing of envsync's is left there: the next diff does not even read those two destinations.
    const d = await diff('--json', '--exit-code')
    expect(d.exitCode, d.stdout).to.equal(0)
    expect(JSON.parse(d.stdout).result.destinations.map((x: {label: string}) => x.label)).to.deep.equal(['railway shop/production service api'])
  })

  it('a sealed variable is unknown to diff and rewritten only when the local value changed since the last push', async () => {
    await push()
    fake.seal(scope(), 'DB_PASSWORD')
    const d = await diff()
    expect(d.stdout).to.match(/= 2 keys unchanged|= 1 key unchanged/)
    fake.clearLog()
    expect((await push()).stdout).to.not.include('DB_PASSWORD')
    expect(ops()).to.not.include('EnvsyncUpsert')
    // local change → rewritten
    values.DB_PASSWORD = long('DB2')
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    const r = await push()
    expect(r.stdout).to.match(/~ DB_PASSWORD/)
    expect(fake.variables(scope()).DB_PASSWORD).to.equal(values.DB_PASSWORD)
    expect(fake.sealed(scope())).to.include('DB_PASSWORD')
  })

  it('a shared-variable change redeploys only the services that receive shared keys, never the rest of the project (Postgres)', async () => {
    // DB_PASSWORD is the one shared key, for api and worker; the project also has Postgres.
    expect((await push()).exitCode).to.equal(0)
    expect(fake.deployCount(ids.services.Postgres)).to.equal(0)
    values.DB_PASSWORD = long('DB2')
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    const before = {api: fake.deployCount(ids.services.api), worker: fake.deployCount(ids.services.worker)}
    const r = await push()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(fake.deployCount(ids.services.Postgres)).to.equal(0)
    expect(fake.deployCount(ids.services.api)).to.equal(before.api + 1)
    expect(fake.deployCount(ids.services.worker)).to.equal(before.worker + 1)
    // A shared key of api alone: worker is not redeployed for it.
    p.write('envsync.yaml', manifest().replace(/ {2}DB_PASSWORD:.*\n/, '  DB_PASSWORD: {services: [api], generate: "alnum:32", shared: true}\n'))
    values.DB_PASSWORD = long('DB3')
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    const worker = fake.deployCount(ids.services.worker)
    expect((await push()).exitCode).to.equal(0)
    expect(fake.deployCount(ids.services.worker)).to.equal(worker)
    expect(fake.deployCount(ids.services.Postgres)).to.equal(0)
  })

  it('a sealed variable envsync never wrote stays unknown after a push that writes beside it (never recorded as pushed, never owned)', async () => {
    // Someone sealed DB_PASSWORD in the shared variables with another value before envsync came.
    fake.setVariables(scope(), {DB_PASSWORD: 'set-by-hand-elsewhere-0123456789'}, {sealed: true})
    p.write('envsync.yaml', manifest('  API_SHARED: {services: [api], generate: "hex:16", shared: true}\n'))
    values.API_SHARED = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'
    writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    const r = await push()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(fake.variables(scope()).API_SHARED).to.equal(values.API_SHARED)
    expect(fake.variables(scope()).DB_PASSWORD).to.equal('set-by-hand-elsewhere-0123456789')
    // diff still cannot call it unchanged: envsync has never written it.
    const d = await diff('--json')
    const shared = JSON.parse(d.stdout).result.destinations.find((x: {label: string}) => x.label.endsWith('shared variables'))
    expect(shared.keys.find((k: {key: string}) => k.key === 'DB_PASSWORD').action).to.equal('unknown')
    // and dropping it from the manifest does not delete it: it was never envsync's.
    p.write('envsync.yaml', manifest('  API_SHARED: {services: [api], generate: "hex:16", shared: true}\n').replace(/ {2}DB_PASSWORD:.*\n/, ''))
    expect((await push()).exitCode).to.equal(0)
    expect(fake.variables(scope()).DB_PASSWORD).to.equal('set-by-hand-elsewhere-0123456789')
  })

  it('pull never imports a per-target literal (a ${{Postgres.DATABASE_URL}} reference) as the local value, with or without --overwrite', async () => {
    expect((await push()).exitCode).to.equal(0)
    const pull = (...args: string[]) => runBin(['pull', 'production', '--from', 'railway', ...args], {cwd: p.dir, env: env()})
    for (const args of [[], ['--overwrite'], ['--keys', 'DATABASE_URL', '--overwrite']]) {
      const r = await pull(...args)
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(r.stdout).to.match(/DATABASE_URL\s+its value here is the manifest's own literal/)
      expect(readFileSync(p.path('.env.production'), 'utf8')).to.not.include('DATABASE_URL')
    }
    // A local value is kept as it is.
    writeFileSync(p.path('.env.production'), readFileSync(p.path('.env.production'), 'utf8') + 'DATABASE_URL=postgres://app:s3cret-local-pw@db.internal:5432/app\n', {mode: 0o600})
    expect((await pull('--overwrite')).exitCode).to.equal(0)
    expect(readFileSync(p.path('.env.production'), 'utf8')).to.include('DATABASE_URL=postgres://app:s3cret-local-pw@db.internal:5432/app')
  })

  it('names a missing project, environment or service and lists what exists', async () => {
    p.write('envsync.yaml', manifest('', 'railway: {project: shopp, services: {api: api}}'))
    const r = await push()
    expect(r.exitCode).to.equal(1)
    expect(r.stdout + r.stderr).to.include('no Railway project named "shopp"')
    expect(r.stdout + r.stderr).to.include('projects: shop')
    p.write('envsync.yaml', manifest('', 'railway: {project: shop, environment: prod, services: {api: api}}'))
    expect(((await push()).stdout)).to.include('environments: production')
    p.write('envsync.yaml', manifest('', 'railway: {project: shop, services: {api: apii}}'))
    const svc = await push()
    expect(svc.stdout + svc.stderr).to.include('no service "apii"')
  })

  it('GraphQL "Not Authorized" inside HTTP 200 names the variable and header used; two tokens are refused', async () => {
    const bad = await runBin(['push', 'production', '--yes'], {cwd: p.dir, env: env({RAILWAY_API_TOKEN: 'wrong-token-value'})})
    expect(bad.exitCode).to.equal(1)
    expect(bad.stdout + bad.stderr).to.include('Not Authorized')
    expect(bad.stdout + bad.stderr).to.include('RAILWAY_API_TOKEN (sent as Authorization: Bearer)')
    assertNoLeak(['wrong-token-value'], bad.stdout, bad.stderr)
    const both = await runBin(['push', 'production', '--yes'], {cwd: p.dir, env: env({RAILWAY_TOKEN: 'x'})})
    expect(both.stdout + both.stderr).to.include('both RAILWAY_API_TOKEN and RAILWAY_TOKEN are set')
  })

  it('a project token works for its own project and environment', async () => {
    const projectToken = fake.projectToken(ids.id, ids.environments.production)
    const r = await runBin(['push', 'production', '--yes'], {cwd: p.dir, env: env({RAILWAY_API_TOKEN: undefined, RAILWAY_TOKEN: projectToken})})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(fake.variables(scope('api')).JWT_SECRET).to.equal(values.JWT_SECRET)
  })

  it('retries 429 (Retry-After), 500 and a dropped connection after an applied upsert, and converges', async () => {
    fake.faults.once(tooManyRequests(0, {html: true}), {match: {operationName: 'EnvsyncVariables'}})
    fake.faults.once(serverError(500), {match: {operationName: 'EnvsyncProject'}})
    fake.faults.once(applyThenDrop(), {match: {operationName: 'EnvsyncUpsert'}})
    const r = await push()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect((await diff('--exit-code')).exitCode).to.equal(0)
    expect(fake.variables(scope('api')).JWT_SECRET).to.equal(values.JWT_SECRET)
  })

  it('a destination that keeps failing is reported exactly; the others are written; rerun converges', async () => {
    fake.faults.always(serverError(500), {match: (req) => req.operationName === 'EnvsyncUpsert' && JSON.stringify(req.variables ?? {}).includes(ids.services.worker)})
    const r: CliResult = await push()
    expect(r.exitCode).to.equal(1)
    expect(r.stdout).to.match(/✗ failed +railway shop\/production service worker/)
    expect(r.stdout).to.match(/✓ applied +railway shop\/production service api/)
    fake.faults.clear()
    expect((await push()).exitCode).to.equal(0)
    expect((await diff('--exit-code')).exitCode).to.equal(0)
  })
})
