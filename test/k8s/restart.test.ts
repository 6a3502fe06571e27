import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import http, {type IncomingMessage} from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'

import {expect} from 'chai'

import {readsSecret, restartReaders, RESTARTED_AT, type RestartClient} from '../../src/targets/kubernetes-restart.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN, runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {describeK8s, kubectlBinary, type Cluster} from './harness.js'

let seq = 0
const secret = (label = 'CANARY') => `${canary(label)}${canary('X').slice(2)}`
const ns = () => `r${Date.now().toString(36)}-${seq++}`
const NOW = '2027-03-01T12:00:00.000Z'

const manifest = (namespace: string, create = true) => `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  staging:
    targets: {kubernetes: {namespace: ${namespace}, createNamespace: ${create}}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32"}
`

const container = (extra: object) => ({name: 'app', image: 'example.invalid/app:1', ...extra})
const template = (spec: object) => ({metadata: {labels: {app: 'x'}}, spec})
const deployment = (name: string, spec: object) => ({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name}, spec: {selector: {matchLabels: {app: 'x'}}, template: template(spec)}})

/** Workloads that read shop-api each one way, one that reads shop-worker, one that reads another Secret. */
function workloads(): object[] {
  return [
    deployment('by-key', {containers: [container({env: [{name: 'JWT', valueFrom: {secretKeyRef: {name: 'shop-api', key: 'JWT_SECRET'}}}]})]}),
    deployment('by-envfrom-init', {initContainers: [container({name: 'migrate', envFrom: [{secretRef: {name: 'shop-api'}}]})], containers: [container({})]}),
    deployment('by-volume', {containers: [container({})], volumes: [{name: 's', secret: {secretName: 'shop-api'}}]}),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {name: 'by-projected'},
      spec: {serviceName: 'by-projected', selector: {matchLabels: {app: 'x'}}, template: template({containers: [container({})], volumes: [{name: 'p', projected: {sources: [{secret: {name: 'shop-api'}}]}}]})},
    },
    {apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'worker'}, spec: {selector: {matchLabels: {app: 'x'}}, template: template({containers: [container({envFrom: [{secretRef: {name: 'shop-worker'}}]})]})}},
    deployment('other', {containers: [container({envFrom: [{secretRef: {name: 'someone-elses'}}]})]}),
  ]
}

interface Ctx {
  cluster: Cluster
  p: TempProject
  namespace: string
}

type Workload = {metadata: {generation: number}; spec: {template: {metadata?: {annotations?: Record<string, string>}}}}

async function workload(c: Ctx, ref: string): Promise<Workload> {
  const r = await c.cluster.kubectl(['get', ref, '-n', c.namespace, '-o', 'json'])
  expect(r.code, r.stderr).to.equal(0)
  return JSON.parse(r.stdout)
}

const restartedAt = (w: Workload) => w.spec.template.metadata?.annotations?.[RESTARTED_AT]
const REFS = ['deployment/by-key', 'deployment/by-envfrom-init', 'deployment/by-volume', 'statefulset/by-projected', 'daemonset/worker', 'deployment/other']

async function snapshot(c: Ctx): Promise<Map<string, Workload>> {
  return new Map(await Promise.all(REFS.map(async (ref) => [ref, await workload(c, ref)] as const)))
}

function writeValues(c: Ctx, values: Record<string, string>): void {
  writeFileSync(c.p.path('.env.staging'), Object.entries(values).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', {mode: 0o600})
}

const history = (c: Ctx) => readFileSync(c.p.path('.envsync/history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)

describeK8s('push --deploy: rollout restart of what reads the Secret (real kube-apiserver)', (k8s) => {
  let c: Ctx
  const push = (kubeconfig: string, ...args: string[]) => runBin(['push', 'staging', '--yes', ...args], {cwd: c.p.dir, env: {KUBECONFIG: kubeconfig, HOME: c.p.dir, ENVSYNC_NOW: NOW}})

  beforeEach(async function () {
    this.timeout(60_000)
    c = {cluster: k8s.cluster, p: new TempProject('envsync-k8s-restart-'), namespace: ns()}
    c.p.write('envsync.yaml', manifest(c.namespace))
    writeValues(c, {JWT_SECRET: secret('JWT'), DB_PASSWORD: secret('DB')})
    const first = await push(c.cluster.kubeconfig)
    expect(first.exitCode, first.stderr + first.stdout).to.equal(0)
    const r = await c.cluster.kubectl(['apply', '-n', c.namespace, '-f', '-'], JSON.stringify({apiVersion: 'v1', kind: 'List', items: workloads()}))
    expect(r.code, r.stderr).to.equal(0)
  })
  afterEach(() => c.p.cleanup())

  it('a change restarts every workload reading that Secret, each way it can, and nothing else; in sync restarts nothing', async function () {
    this.timeout(60_000)
    const before = await snapshot(c)
    const jwt = secret('JWT2')
    const db = readFileSync(c.p.path('.env.staging'), 'utf8').match(/DB_PASSWORD='([^']+)'/)![1]
    writeValues(c, {JWT_SECRET: jwt, DB_PASSWORD: db})

    const r = await push(c.cluster.kubeconfig, '--deploy')
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    const after = await snapshot(c)
    for (const ref of REFS.slice(0, 4)) {
      expect(restartedAt(after.get(ref)!), ref).to.equal('2027-03-01T12:00:00Z')
      expect(after.get(ref)!.metadata.generation, ref).to.equal(before.get(ref)!.metadata.generation + 1)
      expect(r.stdout).to.include(`${ref} restarted`)
    }
    // shop-worker did not change (JWT_SECRET is the api's only); the other reads someone else's Secret.
    for (const ref of ['daemonset/worker', 'deployment/other']) {
      expect(restartedAt(after.get(ref)!), ref).to.equal(undefined)
      expect(after.get(ref)!.metadata.generation, ref).to.equal(before.get(ref)!.metadata.generation)
    }
    const redeploys = history(c).filter((e) => e.action === 'redeploy')
    expect(redeploys.map((e) => [e.destination, e.status, e.keys])).to.deep.equal([
      [`kubernetes:/${c.namespace}/shop-api`, 'pending', ['JWT_SECRET']],
      [`kubernetes:/${c.namespace}/shop-api`, 'applied', ['JWT_SECRET']],
    ])

    const again = await push(c.cluster.kubeconfig, '--deploy')
    expect(again.exitCode, again.stderr + again.stdout).to.equal(0)
    expect(again.stdout).to.not.include('restarted')
    const last = await snapshot(c)
    for (const ref of REFS) expect(last.get(ref)!.metadata.generation, ref).to.equal(after.get(ref)!.metadata.generation)
    assertNoLeak([jwt, db], r.stdout, r.stderr, again.stdout, again.stderr, readFileSync(c.p.path('.envsync/history.jsonl'), 'utf8'))
  })

  it('without --deploy nothing restarts; a Secret only a bare Pod and a Job read: nothing restarted, and they read it when they next start', async function () {
    this.timeout(60_000)
    await c.cluster.kubectl(['delete', 'daemonset/worker', '-n', c.namespace])
    const reader = container({envFrom: [{secretRef: {name: 'shop-worker'}}]})
    const others = [
      {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'one-off'}, spec: {automountServiceAccountToken: false, containers: [reader]}},
      {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'migrate'}, spec: {template: {spec: {restartPolicy: 'Never', containers: [reader]}}}},
    ]
    // No controller manager here makes the default service account a Pod is admitted with (no token: none mounted).
    await c.cluster.kubectl(['create', 'serviceaccount', 'default', '-n', c.namespace])
    const created = await c.cluster.kubectl(['apply', '-n', c.namespace, '-f', '-'], JSON.stringify({apiVersion: 'v1', kind: 'List', items: others}))
    expect(created.code, created.stderr).to.equal(0)
    writeValues(c, {JWT_SECRET: secret('JWT3'), DB_PASSWORD: secret('DB3')})
    const plain = await push(c.cluster.kubeconfig)
    expect(plain.exitCode, plain.stderr + plain.stdout).to.equal(0)
    expect(restartedAt(await workload(c, 'deployment/by-key'))).to.equal(undefined)

    writeValues(c, {JWT_SECRET: secret('JWT4'), DB_PASSWORD: secret('DB4')})
    const r = await push(c.cluster.kubeconfig, '--deploy')
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    expect(r.stdout).to.include(`no Deployment, StatefulSet or DaemonSet in namespace ${c.namespace} reads secret shop-worker: nothing restarted (Jobs, CronJobs and bare Pods read it when they next start; envsync does not restart them)`)
    expect(restartedAt(await workload(c, 'deployment/by-key'))).to.equal('2027-03-01T12:00:00Z')
  })

  it('kubectl rollout restart (the oracle) sets the same annotation on the pod template', async function () {
    if (!kubectlBinary()) this.skip()
    const r = await c.cluster.kubectl(['rollout', 'restart', 'deployment/other', '-n', c.namespace])
    expect(r.code, r.stderr).to.equal(0)
    const annotations = (await workload(c, 'deployment/other')).spec.template.metadata?.annotations ?? {}
    expect(Object.keys(annotations)).to.deep.equal([RESTARTED_AT])
    // Same format too: RFC 3339 to the second.
    expect(annotations[RESTARTED_AT]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/)
  })

  it('a run killed during the restart (after the Secret was written) leaves the restart owed: the next push --deploy makes it', async function () {
    this.timeout(90_000)
    const later = '2027-03-01T12:05:00.000Z'
    const proxy = await holdingProxy(c, (req) => req.method === 'PATCH' && (req.url ?? '').startsWith(`/apis/apps/v1/namespaces/${c.namespace}/`))
    const jwt = secret('JWT6')
    const db = readFileSync(c.p.path('.env.staging'), 'utf8').match(/DB_PASSWORD='([^']+)'/)![1]
    writeValues(c, {JWT_SECRET: jwt, DB_PASSWORD: db})
    try {
      const child = spawn(process.execPath, [BIN, 'push', 'staging', '--yes', '--deploy'], {cwd: c.p.dir, env: {...process.env, KUBECONFIG: proxy.kubeconfig, HOME: c.p.dir, ENVSYNC_NOW: NOW, NO_COLOR: '1'}, stdio: 'ignore'})
      const exited = new Promise((resolve) => child.on('exit', resolve))
      await proxy.held
      child.kill('SIGKILL')
      await exited
    } finally {
      await proxy.close()
    }
    const written = await c.cluster.kubectl(['get', 'secret/shop-api', '-n', c.namespace, '-o', 'jsonpath={.data.JWT_SECRET}'])
    expect(Buffer.from(written.stdout, 'base64').toString('utf8'), 'the Secret was written before the kill').to.equal(jwt)
    expect(restartedAt(await workload(c, 'deployment/by-key'))).to.equal(undefined)
    const entries = history(c).filter((e) => e.destination === `kubernetes:/${c.namespace}/shop-api`)
    expect(entries.slice(-2).map((e) => `${e.action} ${e.status}`)).to.deep.equal(['push applied', 'redeploy pending'])

    const rerun = await runBin(['push', 'staging', '--yes', '--deploy'], {cwd: c.p.dir, env: {KUBECONFIG: c.cluster.kubeconfig, HOME: c.p.dir, ENVSYNC_NOW: later}})
    expect(rerun.exitCode, rerun.stderr + rerun.stdout).to.equal(0)
    for (const ref of REFS.slice(0, 4)) expect(restartedAt(await workload(c, ref)), ref).to.equal('2027-03-01T12:05:00Z')
    expect(restartedAt(await workload(c, 'daemonset/worker')), 'shop-worker did not change').to.equal(undefined)
    expect(history(c).filter((e) => e.action === 'redeploy').slice(-1).map((e) => `${e.status} ${e.destination}`)).to.deep.equal([`applied kubernetes:/${c.namespace}/shop-api`])
    assertNoLeak([jwt, db], rerun.stdout, rerun.stderr, readFileSync(c.p.path('.envsync/history.jsonl'), 'utf8'))
  })

  it('a restart RBAC refuses fails the destination naming the verbs; once granted, a rerun with nothing to change makes the restart owed', async function () {
    this.timeout(90_000)
    const kubeconfig = await limitedUser(c)
    // The namespace exists: a user without rights on namespaces pushes there.
    c.p.write('envsync.yaml', manifest(c.namespace, false))
    writeValues(c, {JWT_SECRET: secret('JWT5'), DB_PASSWORD: secret('DB5')})
    const r = await push(kubeconfig, '--deploy')
    expect(r.exitCode, r.stderr + r.stdout).to.equal(1)
    expect(r.stdout).to.match(/values written, but the redeploy failed/)
    expect(r.stdout).to.include('list and patch on deployments, statefulsets and daemonsets')
    expect(restartedAt(await workload(c, 'deployment/by-key'))).to.equal(undefined)
    const statuses = () => history(c).filter((e) => e.action === 'redeploy').map((e) => e.status)
    expect(statuses()).to.deep.equal(['pending', 'pending', 'failed', 'failed'])

    const grant = await c.cluster.kubectl(['create', 'role', 'restart', '-n', c.namespace, '--verb=list,patch', '--resource=deployments.apps,statefulsets.apps,daemonsets.apps'])
    expect(grant.code, grant.stderr).to.equal(0)
    await c.cluster.kubectl(['create', 'rolebinding', 'restart', '-n', c.namespace, '--role=restart', `--serviceaccount=${c.namespace}:pusher`])
    const rerun = await push(kubeconfig, '--deploy')
    expect(rerun.exitCode, rerun.stderr + rerun.stdout).to.equal(0)
    expect(restartedAt(await workload(c, 'deployment/by-key'))).to.equal('2027-03-01T12:00:00Z')
    expect(restartedAt(await workload(c, 'daemonset/worker'))).to.equal('2027-03-01T12:00:00Z')
    expect(statuses()).to.deep.equal(['pending', 'pending', 'failed', 'failed', 'pending', 'pending', 'applied', 'applied'])
    // Converged: nothing owed any more.
    const third = await push(kubeconfig, '--deploy')
    expect(third.exitCode, third.stderr + third.stdout).to.equal(0)
    expect(statuses()).to.have.length(8)
  })
})

/**
 * A plain-http door to the API server (a kubeconfig pointing at it) that forwards every request
 * but those `hold` picks: those it never answers, and `held` resolves when the first arrives.
 */
async function holdingProxy(c: Ctx, hold: (req: IncomingMessage) => boolean): Promise<{kubeconfig: string; held: Promise<void>; close(): Promise<void>}> {
  const upstream = new URL(c.cluster.server)
  const ca = readFileSync(c.cluster.caFile)
  let arrived!: () => void
  const held = new Promise<void>((resolve) => (arrived = resolve))
  const server = http.createServer((req, res) => {
    if (hold(req)) return arrived()
    const out = https.request({host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: {...req.headers, host: upstream.host}, ca}, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const kubeconfig = c.p.path('held.kubeconfig')
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: "${c.cluster.token}"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: ${c.namespace}}}]
current-context: c
`,
    {mode: 0o600},
  )
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return {kubeconfig, held, close}
}

/** A service account that may read and write Secrets (push) but not touch workloads, and its kubeconfig. */
async function limitedUser(c: Ctx): Promise<string> {
  const k = (...args: string[]) => c.cluster.kubectl([...args, '-n', c.namespace])
  for (const args of [
    ['create', 'serviceaccount', 'pusher'],
    ['create', 'role', 'secrets', '--verb=get,list,patch,create', '--resource=secrets'],
    ['create', 'rolebinding', 'secrets', '--role=secrets', `--serviceaccount=${c.namespace}:pusher`],
  ]) {
    const r = await k(...args)
    expect(r.code, r.stderr).to.equal(0)
  }
  // TokenRequest (what `kubectl create token` sends; this kubectl predates that command).
  const request = JSON.stringify({apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {expirationSeconds: 3600}})
  const answer = await c.cluster.kubectl(['create', '--raw', `/api/v1/namespaces/${c.namespace}/serviceaccounts/pusher/token`, '-f', '-'], request)
  expect(answer.code, answer.stderr).to.equal(0)
  const token = {stdout: (JSON.parse(answer.stdout) as {status: {token: string}}).status.token}
  const file = c.p.path('limited.kubeconfig')
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${c.cluster.server}", certificate-authority: "${c.cluster.caFile}"}}]
users: [{name: u, user: {token: "${token.stdout.trim()}"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: ${c.namespace}}}]
current-context: c
`,
    {mode: 0o600},
  )
  return file
}

describe('restartReaders (a scripted apps API)', () => {
  const pod = (name: string) => ({metadata: {name}, spec: {template: {spec: {containers: [{name: 'c', envFrom: [{secretRef: {name: 'shop-api'}}]}]}}}})
  const secrets = [{destination: 'kubernetes:/ns/shop-api', label: 'kubernetes secret ns/shop-api', secret: 'shop-api'}]
  const problem = (error: unknown, what: string) => new Error(`${what}: ${(error as {code?: number}).code}`)

  it('a workload deleted between the list and its patch is a failed restart; the others are restarted once each', async () => {
    const patched: string[] = []
    const apps = {
      listNamespacedDeployment: async () => ({items: [pod('gone'), pod('api')]}),
      listNamespacedStatefulSet: async () => ({items: []}),
      listNamespacedDaemonSet: async () => ({items: []}),
      patchNamespacedDeployment: async ({name, body}: {name: string; body: {spec: {template: {metadata: {annotations: Record<string, string>}}}}}) => {
        if (name === 'gone') throw Object.assign(new Error('not found'), {code: 404})
        patched.push(`${name} ${body.spec.template.metadata.annotations[RESTARTED_AT]}`)
      },
    }
    const client = {apps, patchOptions: {}, fieldManager: 'envsync'} as unknown as RestartClient
    const out = await restartReaders(client, 'ns', secrets, new Date('2027-03-01T12:00:00.123Z'), problem)
    expect(out.map((r) => [r.status, r.what, r.error])).to.deep.equal([
      ['failed', 'deployment/gone restart', 'deployment/gone in namespace ns: 404'],
      ['applied', 'deployment/api restarted', undefined],
    ])
    expect(patched).to.deep.equal(['api 2027-03-01T12:00:00Z'])
  })

  it('reads the Secret: env secretKeyRef, envFrom, init containers, secret and projected volumes; not another Secret, not a ConfigMap of that name', () => {
    const yes = [
      {containers: [{name: 'c', env: [{name: 'A', valueFrom: {secretKeyRef: {name: 's', key: 'A'}}}]}]},
      {containers: [{name: 'c', envFrom: [{secretRef: {name: 's'}}]}]},
      {containers: [], initContainers: [{name: 'i', envFrom: [{secretRef: {name: 's'}}]}]},
      {containers: [], volumes: [{name: 'v', secret: {secretName: 's'}}]},
      {containers: [], volumes: [{name: 'v', projected: {sources: [{configMap: {name: 'x'}}, {secret: {name: 's'}}]}}]},
    ]
    const no = [
      {containers: [{name: 'c', envFrom: [{secretRef: {name: 'other'}}, {configMapRef: {name: 's'}}]}]},
      {containers: [{name: 'c', env: [{name: 'A', valueFrom: {configMapKeyRef: {name: 's', key: 'A'}}}]}]},
      {containers: [], volumes: [{name: 'v', configMap: {name: 's'}}, {name: 'w', projected: {sources: [{configMap: {name: 's'}}]}}]},
    ]
    for (const spec of yes) expect(readsSecret(spec, 's'), JSON.stringify(spec)).to.equal(true)
    for (const spec of no) expect(readsSecret(spec, 's'), JSON.stringify(spec)).to.equal(false)
  })
})
