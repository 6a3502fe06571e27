import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import {parse as parseDotenv} from 'dotenv'

import {applyThenDrop, drop} from '../fakes/faults.js'
import {DEFAULT_API_KEY, renderFault, startRenderFake, type RenderFake, type RenderLogEntry} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * File-shaped secrets (`file:` in the manifest) become Render secret files, on services (one
 * bulk PUT from a complete paged read, like env vars) and on env groups (one PUT or DELETE per
 * file). Through the built binary against the OpenAPI-validated fake.
 */

const TARGET = 'render: {services: {api: shop-api, worker: shop-worker}, envGroup: shop-shared, deploy: true}'

function manifest(secrets = DEFAULT_SECRETS): string {
  return `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    targets: {${TARGET}}
secrets:
${secrets}`
}

const DEFAULT_SECRETS = `  JWT_SECRET: {services: [api], generate: "base64:48"}
  TLS_KEY: {services: [api], file: tls.key}
  GCP_CREDENTIALS: {services: [api, worker], file: gcp.json, shared: true}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32", shared: true}
`

const line = (e: RenderLogEntry) => `${e.method} ${e.path.replace(/^\/v1/, '')}`

describe('render secret files (binary against the OpenAPI-validated fake)', () => {
  let fake: RenderFake
  let p: TempProject
  let ids: {api: string; worker: string; group: string}
  /** Canaries inside the values: none may appear in any output. */
  let canaries: string[]
  let values: Record<string, string>
  let unmanagedFiles: Record<string, string>

  const run = (args: string[]) => runBin(args, {cwd: p.dir, env: {RENDER_API_URL: fake.url, RENDER_API_KEY: DEFAULT_API_KEY}})
  const push = (...args: string[]) => run(['push', 'production', '--yes', ...args])
  const writes = () => fake.log().filter((e) => e.method !== 'GET')
  const pem = () => {
    const a = canary('PEMA')
    const b = canary('PEMB')
    canaries.push(a, b)
    return `-----BEGIN PRIVATE KEY-----\n${a}\n${b}\n-----END PRIVATE KEY-----\n`
  }
  const json = () => {
    const c = canary('GCP')
    canaries.push(c)
    return `{\n  "type": "service_account",\n  "private_key": "${c}",\n  "quote": "\\" $HOME \${{x}} é"\n}`
  }
  /** Single-quoted dotenv values span lines as they are (the values hold no single quote). */
  const saveValues = () => writeFileSync(p.path('.env.production'), Object.entries(values).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', {mode: 0o600})
  const noLeak = (...results: CliResult[]) => {
    assertNoLeak(canaries, ...results.flatMap((r) => [r.stdout, r.stderr]), JSON.stringify(fake.log()), ...p.syncRecords())
  }

  beforeEach(async () => {
    fake = await startRenderFake({onDrift: 'record'})
    canaries = []
    // 120 unmanaged files: the read of the service's files takes two pages.
    unmanagedFiles = {}
    for (let i = 0; i < 120; i++) unmanagedFiles[`hand-${String(i).padStart(3, '0')}.conf`] = `by hand ${i}`
    const seeded = fake.seed({
      services: [
        {name: 'shop-api', envVars: {HAND_SET: 'set in the dashboard'}, secretFiles: unmanagedFiles},
        {name: 'shop-worker', type: 'background_worker'},
      ],
      envGroups: [{name: 'shop-shared', secretFiles: {'hand.json': '{}'}, services: ['shop-api', 'shop-worker']}],
    })
    ids = {api: seeded.services['shop-api'], worker: seeded.services['shop-worker'], group: seeded.envGroups['shop-shared']}
    p = new TempProject('envsync-render-files-')
    p.write('envsync.yaml', manifest())
    const jwt = canary('JWT') + canary('X').slice(2)
    const db = canary('DB') + canary('X').slice(2)
    canaries.push(jwt, db)
    values = {JWT_SECRET: jwt, TLS_KEY: pem(), GCP_CREDENTIALS: json(), DB_PASSWORD: db}
    saveValues()
  })

  afterEach(async () => {
    p.cleanup()
    await fake.stopAndVerify()
  })

  it('the values file holds the multi-line values as written (test precondition)', () => {
    expect(parseDotenv(readFileSync(p.path('.env.production')))).to.deep.equal(values)
  })

  it('push writes files byte for byte beside 120 unmanaged ones (paged read, one bulk PUT); env-group files one PUT each; one deploy per service', async () => {
    const r = await push()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/✓ applied +render service shop-api secret files/)
    expect(r.stdout).to.match(/✓ applied +render env group shop-shared secret files/)

    expect(fake.secretFiles(ids.api)).to.deep.equal({...unmanagedFiles, 'tls.key': values.TLS_KEY})
    expect(fake.envVars(ids.api)).to.deep.equal({HAND_SET: 'set in the dashboard', JWT_SECRET: values.JWT_SECRET})
    expect(fake.secretFiles(ids.group)).to.deep.equal({'hand.json': '{}', 'gcp.json': values.GCP_CREDENTIALS})
    expect(fake.envVars(ids.group)).to.deep.equal({DB_PASSWORD: values.DB_PASSWORD})
    expect(fake.secretFiles(ids.worker)).to.deep.equal({})

    const reads = fake.log().filter((e) => e.operationId === 'list-secret-files-for-service')
    expect(reads).to.have.length(2)
    // The env group's vars and files destinations share one read.
    expect(fake.log().filter((e) => e.operationId === 'retrieve-env-group')).to.have.length(1)
    expect(writes().map(line).sort()).to.deep.equal(
      [
        `PUT /services/${ids.api}/env-vars`,
        `PUT /services/${ids.api}/secret-files`,
        `PUT /env-groups/${ids.group}/env-vars/DB_PASSWORD`,
        `PUT /env-groups/${ids.group}/secret-files/gcp.json`,
        `POST /services/${ids.api}/deploys`,
        `POST /services/${ids.worker}/deploys`,
      ].sort(),
    )
    expect(fake.deployCount(ids.api)).to.equal(1)

    // In sync afterwards: reads only.
    fake.clearLog()
    const d = await run(['diff', 'production', '--exit-code'])
    expect(d.exitCode, d.stdout).to.equal(0)
    const again = await push()
    expect(again.exitCode).to.equal(0)
    expect(writes()).to.deep.equal([])
    noLeak(r, d, again)
  })

  it('a changed file rewrites the service\'s files only; removed from the manifest → removed live, unmanaged files kept', async () => {
    expect((await push()).exitCode).to.equal(0)
    values.TLS_KEY = pem()
    saveValues()
    fake.clearLog()
    const changed = await push()
    expect(changed.exitCode, changed.stdout + changed.stderr).to.equal(0)
    expect(changed.stdout).to.match(/~ tls\.key/)
    expect(writes().map(line)).to.deep.equal([`PUT /services/${ids.api}/secret-files`, `POST /services/${ids.api}/deploys`])
    expect(fake.secretFiles(ids.api)['tls.key']).to.equal(values.TLS_KEY)

    p.write('envsync.yaml', manifest(DEFAULT_SECRETS.replace(/ {2}TLS_KEY.*\n/, '').replace(/ {2}GCP_CREDENTIALS.*\n/, '')))
    fake.clearLog()
    const removed = await push()
    expect(removed.exitCode, removed.stdout + removed.stderr).to.equal(0)
    expect(fake.secretFiles(ids.api)).to.deep.equal(unmanagedFiles)
    expect(fake.secretFiles(ids.group)).to.deep.equal({'hand.json': '{}'})
    expect(writes().map(line)).to.have.members([
      `PUT /services/${ids.api}/secret-files`,
      `DELETE /env-groups/${ids.group}/secret-files/gcp.json`,
      `POST /services/${ids.api}/deploys`,
      `POST /services/${ids.worker}/deploys`,
    ])
    noLeak(changed, removed)
  })

  it('renaming a file (`file: true` → `file: tls.key`) moves it; a file someone else put under a managed key\'s name is left alone', async () => {
    p.write('envsync.yaml', manifest(DEFAULT_SECRETS.replace('file: tls.key', 'file: true')))
    expect((await push()).exitCode).to.equal(0)
    expect(fake.secretFiles(ids.api).TLS_KEY).to.equal(values.TLS_KEY)

    p.write('envsync.yaml', manifest())
    const plan = await push('--dry-run')
    expect(plan.stdout).to.match(/\+ tls\.key/)
    expect(plan.stdout).to.match(/- TLS_KEY/)
    fake.clearLog()
    const r = await push()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(fake.secretFiles(ids.api)).to.deep.equal({...unmanagedFiles, 'tls.key': values.TLS_KEY})
    expect(writes().map(line)).to.deep.equal([`PUT /services/${ids.api}/secret-files`, `POST /services/${ids.api}/deploys`])

    // A file named TLS_KEY made by hand now is not envsync's: not removed, not read as TLS_KEY's value.
    const stranger = canary('STRANGER')
    canaries.push(stranger)
    fake.state() // (snapshot only; the fake has no setter for files, so seed one through a bulk PUT)
    await fetch(`${fake.url}/services/${ids.api}/secret-files`, {
      method: 'PUT',
      headers: {authorization: `Bearer ${DEFAULT_API_KEY}`, 'content-type': 'application/json'},
      body: JSON.stringify(Object.entries({...fake.secretFiles(ids.api), TLS_KEY: stranger}).map(([name, content]) => ({name, content}))),
    })
    const d = await run(['diff', 'production', '--exit-code'])
    expect(d.exitCode, d.stdout).to.equal(0)
    fake.clearLog()
    const quiet = await push()
    expect(quiet.exitCode).to.equal(0)
    expect(writes().map(line), quiet.stdout + quiet.stderr).to.deep.equal([])
    writeFileSync(p.path('.env.production'), '')
    const pulled = await run(['pull', 'production', '--from', 'render', '--keys', 'TLS_KEY'])
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).to.equal(0)
    expect(parseDotenv(readFileSync(p.path('.env.production'))).TLS_KEY).to.equal(values.TLS_KEY)
    noLeak(plan, r, d, pulled)
  })

  it('--only takes manifest keys: --only TLS_KEY writes the file tls.key and nothing else', async () => {
    const r = await push('--only', 'TLS_KEY')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(fake.secretFiles(ids.api)['tls.key']).to.equal(values.TLS_KEY)
    expect(writes().map(line)).to.deep.equal([`PUT /services/${ids.api}/secret-files`, `POST /services/${ids.api}/deploys`])
    noLeak(r)
  })

  it('faults on secret-file requests are retried (500, a drop, a PUT applied before the drop); one that keeps failing is reported and the rerun converges', async () => {
    fake.faults.once(renderFault(500), {match: {operationId: 'list-secret-files-for-service'}})
    fake.faults.once(applyThenDrop(), {match: {operationId: 'update-secret-files-for-service'}})
    fake.faults.once(drop(), {match: {operationId: 'update-env-group-secret-file'}})
    const r = await push()
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(fake.faults.injected).to.have.length(3)
    expect(fake.secretFiles(ids.api)).to.deep.equal({...unmanagedFiles, 'tls.key': values.TLS_KEY})
    expect(fake.secretFiles(ids.group)['gcp.json']).to.equal(values.GCP_CREDENTIALS)

    // The service's files keep failing: reported, nothing else held back, exit 1.
    values.TLS_KEY = pem()
    saveValues()
    fake.faults.always(renderFault(500), {match: {operationId: 'update-secret-files-for-service'}})
    const failing = await push()
    expect(failing.exitCode).to.equal(1)
    expect(failing.stdout).to.match(/✗ failed +render service shop-api secret files +Render \/services\/[\w-]+\/secret-files: internal server error/)
    expect(fake.secretFiles(ids.api)['tls.key']).not.to.equal(values.TLS_KEY)
    fake.faults.clear()
    const rerun = await push()
    expect(rerun.exitCode, rerun.stdout + rerun.stderr).to.equal(0)
    expect(fake.secretFiles(ids.api)).to.deep.equal({...unmanagedFiles, 'tls.key': values.TLS_KEY})
    expect((await run(['diff', 'production', '--exit-code'])).exitCode).to.equal(0)
    noLeak(r, failing, rerun)
  })

  it('pull --from render imports a file\'s content as the key\'s value, byte for byte; unmanaged file names are not keys', async () => {
    expect((await push()).exitCode).to.equal(0)
    writeFileSync(p.path('.env.production'), '')
    const r = await run(['pull', 'production', '--from', 'render', '--include-unmanaged'])
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    const local = parseDotenv(readFileSync(p.path('.env.production')))
    expect(local).to.deep.equal({...values, HAND_SET: 'set in the dashboard'})
    expect(r.stdout).not.to.include('hand-000.conf')
    noLeak(r)
  })
})
