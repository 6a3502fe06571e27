import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import Push from '../../src/commands/push.js'
import {Secret} from '../../src/secret.js'
import {generate} from '../../src/values/recipes.js'
import {KubernetesTarget} from '../../src/targets/kubernetes.js'
import {MAX_SECRET_BYTES} from '../../src/targets/kubernetes-data.js'
import {setPrompter} from '../../src/ui/prompt.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, runSource, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {describeK8s, startCluster, type Cluster} from './harness.js'

let seq = 0
/** A canary long and random enough to pass check (generated secrets need 32+ characters). */
const secret = (label = 'CANARY') => `${canary(label)}${canary('X').slice(2)}`
/** A fresh namespace name per test, so tests sharing the cluster never see each other. */
const ns = () => `t${Date.now().toString(36)}-${seq++}`

function manifest(namespace: string, extra = '', target = `kubernetes: {namespace: ${namespace}, createNamespace: true}`, protect = false): string {
  return `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  staging:
    protected: ${protect}
    targets: {${target}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32"}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
${extra}`
}

interface Ctx {
  cluster: Cluster
  p: TempProject
  namespace: string
}

const env = (c: Ctx) => ({KUBECONFIG: c.cluster.kubeconfig, HOME: c.p.dir})
const push = (c: Ctx, ...args: string[]) => runBin(['push', 'staging', '--yes', ...args], {cwd: c.p.dir, env: env(c)})
const diff = (c: Ctx, ...args: string[]) => runBin(['diff', 'staging', ...args], {cwd: c.p.dir, env: env(c)})

function writeValues(c: Ctx, values: Record<string, string>): void {
  const lines = Object.entries(values).map(([k, v]) => `${k}='${v}'`)
  writeFileSync(c.p.path('.env.staging'), lines.join('\n') + '\n', {mode: 0o600})
}

async function secretData(c: Ctx, name: string): Promise<Record<string, string> | undefined> {
  const r = await c.cluster.kubectl(['get', 'secret', name, '-n', c.namespace, '-o', 'json'])
  if (r.code !== 0) return undefined
  const obj = JSON.parse(r.stdout)
  return Object.fromEntries(Object.entries((obj.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

async function secretObject(c: Ctx, name: string): Promise<{metadata: {labels?: Record<string, string>; annotations?: Record<string, string>}; type: string}> {
  return JSON.parse((await c.cluster.kubectl(['get', 'secret', name, '-n', c.namespace, '-o', 'json'])).stdout)
}

describeK8s('kubernetes target (real kube-apiserver)', (k8s) => {
  let c: Ctx
  beforeEach(function () {
    c = {cluster: k8s.cluster, p: new TempProject('envsync-k8s-test-'), namespace: ns()}
  })
  afterEach(() => c.p.cleanup())

  it('push creates one Secret per service by server-side apply; kubectl and client-node read the values back byte-exact', async () => {
    const jwt = secret('JWT')
    const db = secret('DB')
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, {JWT_SECRET: jwt, DB_PASSWORD: db})
    const r = await push(c)
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    expect(await secretData(c, 'shop-api')).to.deep.equal({JWT_SECRET: jwt, DB_PASSWORD: db, LOG_LEVEL: 'info'})
    expect(await secretData(c, 'shop-worker')).to.deep.equal({DB_PASSWORD: db, LOG_LEVEL: 'info'})
    const obj = await secretObject(c, 'shop-api')
    expect(obj.type).to.equal('Opaque')
    expect(obj.metadata.labels).to.deep.equal({'app.kubernetes.io/managed-by': 'envsync', 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/component': 'api'})
    // Server-side apply: no client-side last-applied annotation holding the values.
    expect(JSON.stringify(obj.metadata.annotations ?? {})).to.not.include('last-applied')
    assertNoLeak([jwt, db], r.stdout, r.stderr, readFileSync(c.p.path('.envsync/history.jsonl'), 'utf8'))

    // client-node, through the adapter itself
    process.env.KUBECONFIG = c.cluster.kubeconfig
    const live = await new KubernetesTarget().read({id: 'x', kind: 'kubernetes', label: 'x', environment: 'staging', services: ['api'], config: {namespace: c.namespace, name: 'shop-api', createNamespace: false, labels: {}, restart: false}})
    expect((live.values.get('JWT_SECRET') as Secret).reveal()).to.equal(jwt)
    expect([...live.owned!].sort()).to.deep.equal(['DB_PASSWORD', 'JWT_SECRET', 'LOG_LEVEL'])
  })

  it('an in-sync diff costs one GET per Secret and push writes nothing', async () => {
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: secret()})
    expect((await push(c)).exitCode).to.equal(0)
    const before = await c.cluster.kubectl(['get', 'secret', 'shop-api', '-n', c.namespace, '-o', 'jsonpath={.metadata.resourceVersion}'])
    const d = await diff(c, '--json', '--exit-code')
    expect(d.exitCode).to.equal(0)
    expect(JSON.parse(d.stdout).result.changes).to.equal(0)
    const again = await push(c, '--json')
    expect(JSON.parse(again.stdout).result.applied).to.equal(false)
    const after = await c.cluster.kubectl(['get', 'secret', 'shop-api', '-n', c.namespace, '-o', 'jsonpath={.metadata.resourceVersion}'])
    expect(after.stdout).to.equal(before.stdout)
  })

  it('diff shows a hand edit as an update (exit 3) and push restores it', async () => {
    const jwt = secret()
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, {JWT_SECRET: jwt, DB_PASSWORD: secret()})
    await push(c)
    const patch = JSON.stringify({data: {JWT_SECRET: Buffer.from('tampered').toString('base64')}})
    expect((await c.cluster.kubectl(['patch', 'secret', 'shop-api', '-n', c.namespace, '--type=merge', '-p', patch])).code).to.equal(0)
    const d = await diff(c, '--exit-code')
    expect(d.exitCode).to.equal(3)
    expect(d.stdout).to.match(/~ JWT_SECRET/)
    // kubectl patch made another manager co-own the field: taking it back needs --force-conflicts.
    const blocked = await push(c)
    expect(blocked.exitCode).to.equal(1)
    expect(blocked.stdout + blocked.stderr).to.match(/kubectl-patch/)
    expect(blocked.stdout + blocked.stderr).to.include('--force-conflicts')
    const forced = await push(c, '--force-conflicts')
    expect(forced.exitCode, forced.stderr).to.equal(0)
    expect((await secretData(c, 'shop-api'))!.JWT_SECRET).to.equal(jwt)
  })

  it('a field owned by another manager is a clear conflict; --force-conflicts takes it over', async () => {
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: secret()})
    await c.cluster.kubectl(['create', 'namespace', c.namespace])
    const other = `apiVersion: v1\nkind: Secret\nmetadata: {name: shop-api, namespace: ${c.namespace}}\ndata: {JWT_SECRET: ${Buffer.from('theirs').toString('base64')}}\n`
    const applied = await c.cluster.kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], other)
    expect(applied.code, applied.stderr).to.equal(0)
    const r = await push(c)
    expect(r.exitCode).to.equal(1)
    const out = r.stdout + r.stderr
    expect(out).to.include('✗ failed')
    expect(out).to.include('owned by another field manager')
    expect(out).to.include('helm')
    expect(out).to.include('✓ applied') // the worker Secret is not blocked by the api one
    expect((await secretData(c, 'shop-api'))!.JWT_SECRET).to.equal('theirs')
    expect((await push(c, '--force-conflicts')).exitCode).to.equal(0)
    expect((await secretData(c, 'shop-api'))!.JWT_SECRET).to.not.equal('theirs')
  })

  it('removes keys envsync put there when they leave the manifest, never keys it does not own (unless --prune)', async () => {
    c.p.write('envsync.yaml', manifest(c.namespace, '  OLD_TOKEN: {services: [api], generate: "hex:16"}\n'))
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: secret(), OLD_TOKEN: secret()})
    await push(c)
    const patch = JSON.stringify({data: {HAND_SET: Buffer.from('mine').toString('base64')}})
    await c.cluster.kubectl(['patch', 'secret', 'shop-api', '-n', c.namespace, '--type=merge', '-p', patch])
    c.p.write('envsync.yaml', manifest(c.namespace))
    const plan = await push(c, '--dry-run')
    expect(plan.stdout).to.match(/- OLD_TOKEN/)
    expect(plan.stdout).to.match(/! HAND_SET/)
    expect((await push(c)).exitCode).to.equal(0)
    expect(Object.keys((await secretData(c, 'shop-api'))!).sort()).to.deep.equal(['DB_PASSWORD', 'HAND_SET', 'JWT_SECRET', 'LOG_LEVEL'])
    const pruned = await push(c, '--prune', '--force-conflicts')
    expect(pruned.exitCode, pruned.stderr).to.equal(0)
    expect(Object.keys((await secretData(c, 'shop-api'))!).sort()).to.deep.equal(['DB_PASSWORD', 'JWT_SECRET', 'LOG_LEVEL'])
  })

  it('removes its keys from a Secret when the manifest drops the last key of that service, then stops reading it', async () => {
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: secret()})
    expect((await push(c)).exitCode).to.equal(0)
    const patch = JSON.stringify({data: {HAND_SET: Buffer.from('mine').toString('base64')}})
    await c.cluster.kubectl(['patch', 'secret', 'shop-worker', '-n', c.namespace, '--type=merge', '-p', patch])
    // The worker loses both of its keys.
    c.p.write('envsync.yaml', manifest(c.namespace).replace('DB_PASSWORD: {services: [api, worker]', 'DB_PASSWORD: {services: [api]').replace('LOG_LEVEL: {services: [api, worker]', 'LOG_LEVEL: {services: [api]'))
    const r = await push(c)
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/✓ applied +kubernetes secret [\w-]+\/shop-worker +2 removed/)
    expect(await secretData(c, 'shop-worker')).to.deep.equal({HAND_SET: 'mine'})
    // Nothing of envsync's is left there: diff reads the api Secret only.
    const d = await diff(c, '--json', '--exit-code')
    expect(d.exitCode, d.stdout).to.equal(0)
    const result = JSON.parse(d.stdout).result
    expect(result.destinations.map((x: {label: string}) => x.label)).to.deep.equal([`kubernetes secret ${c.namespace}/shop-api`])
    expect(result.requests).to.equal(1)
  })

  it('accepts exactly 1 MiB of data and refuses one byte more before sending anything', async () => {
    const big = (n: number) => 'b'.repeat(n)
    const extra = '  BLOB: {services: [api], minLength: 1}\n'
    const base = (blob: number) => manifest(c.namespace, extra).replace('JWT_SECRET: {services: [api], generate: "base64:48"}', 'JWT_SECRET: {services: [worker], generate: "base64:48"}') + `# ${blob}\n`
    c.p.write('envsync.yaml', base(0))
    // api gets DB_PASSWORD (32) + LOG_LEVEL (4) + BLOB: fill it to exactly 1 MiB.
    const db = generate('alnum:32').reveal()
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: db, BLOB: big(MAX_SECRET_BYTES - 32 - 4)})
    const ok = await push(c)
    expect(ok.exitCode, ok.stderr + ok.stdout).to.equal(0)
    expect((await secretData(c, 'shop-api'))!.BLOB.length).to.equal(MAX_SECRET_BYTES - 36)
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: db, BLOB: big(MAX_SECRET_BYTES - 32 - 4 + 1)})
    const tooBig = await push(c)
    expect(tooBig.exitCode).to.equal(1)
    expect(tooBig.stdout + tooBig.stderr).to.include('would hold 1048577 bytes')
    expect((await secretData(c, 'shop-api'))!.BLOB.length).to.equal(MAX_SECRET_BYTES - 36)
  })

  it('an immutable Secret is a clear error', async () => {
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: secret()})
    await c.cluster.kubectl(['create', 'namespace', c.namespace])
    const frozen = `apiVersion: v1\nkind: Secret\nmetadata: {name: shop-api, namespace: ${c.namespace}}\nimmutable: true\ndata: {OTHER: eA==}\n`
    expect((await c.cluster.kubectl(['create', '-f', '-'], frozen)).code).to.equal(0)
    const r = await push(c)
    expect(r.exitCode).to.equal(1)
    expect(r.stdout + r.stderr).to.include('is immutable')
    expect(r.stdout + r.stderr).to.include('kubectl delete secret')
  })

  it('a missing namespace is an error unless createNamespace (or --create-namespace)', async () => {
    c.p.write('envsync.yaml', manifest(c.namespace, '', `kubernetes: {namespace: ${c.namespace}}`))
    writeValues(c, {JWT_SECRET: secret(), DB_PASSWORD: secret()})
    const r = await push(c)
    expect(r.exitCode).to.equal(1)
    expect(r.stdout + r.stderr).to.include(`namespace ${c.namespace} does not exist; push needs --create-namespace`)
    expect(r.stdout + r.stderr).to.include('createNamespace')
    expect((await c.cluster.kubectl(['get', 'namespace', c.namespace])).code).to.not.equal(0)
    const created = await push(c, '--create-namespace')
    expect(created.exitCode, created.stderr).to.equal(0)
    expect(await secretData(c, 'shop-worker')).to.have.property('DB_PASSWORD')
  })

  it('two concurrent pushes both succeed and leave the desired state', async () => {
    const values = {JWT_SECRET: secret(), DB_PASSWORD: secret()}
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, values)
    const [a, b] = await Promise.all([push(c), push(c)])
    expect([a.exitCode, b.exitCode], a.stderr + b.stderr).to.deep.equal([0, 0])
    expect(await secretData(c, 'shop-api')).to.deep.equal({...values, LOG_LEVEL: 'info'})
    expect((await diff(c, '--exit-code')).exitCode).to.equal(0)
  })

  it('awkward values round-trip store → Kubernetes → read unchanged', async () => {
    const awkward = [
      '', ' leading and trailing ', 'line1\nline2\n', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n',
      'quotes \' " `', '$HOME ${X} $$', 'a=b=c', '# not a comment', '\ttab', 'ünïcödé 日本 😀', 'nul\u0000byte',
    ]
    const extra = awkward.map((_, i) => `  V${i}: {services: [api], required: false}\n`).join('')
    c.p.write('envsync.yaml', manifest(c.namespace, extra))
    const {writeValues: store, readValues} = await import('../../src/values/store.js')
    store(readValues(c.p.path('.env.staging')), new Map([['JWT_SECRET', secret()], ['DB_PASSWORD', secret()], ...awkward.map((v, i): [string, string] => [`V${i}`, v])]))
    const r = await push(c, '--force') // empty optional values are fine; --force only to be robust to check's opinions
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    const data = (await secretData(c, 'shop-api'))!
    awkward.forEach((v, i) => expect(data[`V${i}`], JSON.stringify(v)).to.equal(v))
    expect(dotenv.parse(readFileSync(c.p.path('.env.staging'))).V2).to.equal('line1\nline2\n')
    expect((await diff(c, '--exit-code')).exitCode).to.equal(0)
  })
})

describeK8s('kubernetes: the API server stops in the middle of a push', () => {
  let cluster: Cluster
  let p: TempProject
  before(async function () {
    this.timeout(180_000)
    cluster = await startCluster()
  })
  after(async () => cluster?.stop())
  beforeEach(() => (p = new TempProject('envsync-k8s-stop-')))
  afterEach(() => {
    setPrompter(undefined)
    p.cleanup()
  })

  it('reports exactly which destinations failed, exits 1, and a rerun converges', async function () {
    this.timeout(180_000)
    const namespace = ns()
    p.write('envsync.yaml', manifest(namespace, '', `docker: {}, kubernetes: {namespace: ${namespace}, createNamespace: true}`, true))
    const values = {JWT_SECRET: secret(), DB_PASSWORD: secret()}
    writeFileSync(p.path('.env.staging'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
    const saved = process.env.KUBECONFIG
    process.env.KUBECONFIG = cluster.kubeconfig
    const cwd = process.cwd()
    process.chdir(p.dir)
    let r: CliResult
    // The plan reads every destination; the API server goes away while the user confirms.
    try {
      setPrompter({
        input: async () => {
          await cluster.stopApiServer()
          return 'staging'
        },
        confirm: async () => true,
        checkbox: async () => [],
        select: async () => expect.fail('push asks no menu question'),
      })
      r = await runSource(Push, ['staging'])
    } finally {
      process.chdir(cwd)
      process.env.KUBECONFIG = saved
    }
    expect(r.exitCode).to.equal(1)
    const lines = r.stdout.split('\n')
    const line = (label: string) => lines.filter((l) => l.includes(label)).at(-1) ?? ''
    expect(line('docker secrets/staging')).to.match(/✓ applied +docker secrets\/staging +\d+ added/)
    for (const name of ['shop-api', 'shop-worker']) {
      expect(line(`kubernetes secret ${namespace}/${name}`)).to.match(/✗ failed +kubernetes secret \S+ +cannot reach the Kubernetes API/)
    }
    expect(r.stdout).to.include('✗ staging: 2 of 3 destinations failed')
    // The audit log says the same, per destination, with keys and no values.
    const audit = readFileSync(p.path('.envsync/history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(audit.map((a) => [a.destination.split(':')[0], a.status, a.error ?? null]).sort()).to.deep.equal([
      ['docker', 'applied', null],
      ['kubernetes', 'failed', 'K8S_UNREACHABLE'],
      ['kubernetes', 'failed', 'K8S_UNREACHABLE'],
    ])
    assertNoLeak(Object.values(values), r.stdout, r.stderr, JSON.stringify(audit))

    await cluster.startApiServer()
    const again = await runBin(['push', 'staging', '--yes', '--json'], {cwd: p.dir, env: {KUBECONFIG: cluster.kubeconfig}})
    expect(again.exitCode, again.stderr).to.equal(0)
    const second = JSON.parse(again.stdout).result.report
    expect(Object.fromEntries(second.destinations.map((d: {label: string; status: string}) => [d.label, d.status]))).to.deep.equal({
      'docker secrets/staging': 'unchanged',
      [`kubernetes secret ${namespace}/shop-api`]: 'applied',
      [`kubernetes secret ${namespace}/shop-worker`]: 'applied',
    })
    const final = await runBin(['diff', 'staging', '--exit-code'], {cwd: p.dir, env: {KUBECONFIG: cluster.kubeconfig}})
    expect(final.exitCode, final.stdout).to.equal(0)
  })
})

describeK8s('kubernetes: property — random awkward values round-trip through a real Secret', (k8s) => {
  it('store → push → GET → decode is byte-identical (fast-check, 40 runs)', async function () {
    this.timeout(300_000)
    const fc = (await import('fast-check')).default
    const {planSync, applySync} = await import('../../src/sync/sync.js')
    const {loadManifest} = await import('../../src/manifest/load.js')
    const {readValues, writeValues} = await import('../../src/values/store.js')
    const {encodeValue} = await import('../../src/values/dotenv.js')
    const p = new TempProject('envsync-k8s-prop-')
    const namespace = ns()
    const saved = process.env.KUBECONFIG
    process.env.KUBECONFIG = k8s.cluster.kubeconfig
    try {
      const keys = ['V0', 'V1', 'V2', 'V3']
      p.write('envsync.yaml', manifest(namespace, keys.map((k) => `  ${k}: {services: [api], required: false}\n`).join('')))
      const unit = fc.constantFrom('a', 'Z', '9', ' ', '\t', '\n', '\r', '"', "'", '`', '\\', '$', '{', '}', '=', '#', 'é', '日', '😀', '\u0000', '-----BEGIN KEY-----\n', '${{X.Y}}')
      const value = fc.string({unit, maxLength: 40}).filter((v) => encodeValue(v) !== undefined)
      await fc.assert(
        fc.asyncProperty(fc.array(value, {minLength: keys.length, maxLength: keys.length}), async (values) => {
          const store = readValues(p.path('.env.staging'))
          writeValues(store, new Map([['JWT_SECRET', secret()], ['DB_PASSWORD', secret()], ...values.map((v, i): [string, string] => [keys[i], v])]))
          const m = loadManifest(p.manifest)
          const report = await applySync(await planSync(m, 'staging', {services: ['api']}))
          expect(report.failed, JSON.stringify(report.destinations.map((d) => d.error))).to.equal(0)
          const r = await k8s.cluster.kubectl(['get', 'secret', 'shop-api', '-n', namespace, '-o', 'json'])
          const data = JSON.parse(r.stdout).data as Record<string, string>
          values.forEach((v, i) => expect(Buffer.from(data[keys[i]] ?? '', 'base64').toString('utf8'), JSON.stringify(v)).to.equal(v))
          const again = await planSync(loadManifest(p.manifest), 'staging', {services: ['api']})
          expect(again.plans.flatMap((pl) => pl.changes)).to.deep.equal([])
        }),
        {numRuns: 40},
      )
    } finally {
      process.env.KUBECONFIG = saved
      p.cleanup()
    }
  })
})
