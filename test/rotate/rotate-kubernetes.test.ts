import {writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {RESTARTED_AT} from '../../src/targets/kubernetes-restart.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {TempProject} from '../helpers/project.js'
import {describeK8s, type Cluster} from '../k8s/harness.js'
import {at, HOUR, Rotation, T0} from './support.js'

/**
 * A JWT secret with a grace period rotated into a real kube-apiserver: the Secret holds the new
 * value and, for the grace, the old one under JWT_SECRET_PREVIOUS; the Deployment whose pods read
 * it is restarted (as `kubectl rollout restart`), the one reading another Secret is not; after
 * the grace a push removes the previous key from the Secret.
 */

let seq = 0
const long = (label: string) => `${canary(label)}${canary('Y').slice(2)}`

const manifest = (namespace: string, create = true) => `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    protected: true
    targets:
      docker: {}
      kubernetes: {namespace: ${namespace}, createNamespace: ${create}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48", previous: JWT_SECRET_PREVIOUS, grace: 1h, rotate: 90d}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32"}
`

const deployment = (name: string, secret: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {name},
  spec: {selector: {matchLabels: {app: name}}, template: {metadata: {labels: {app: name}}, spec: {containers: [{name: 'app', image: 'example.invalid/app:1', envFrom: [{secretRef: {name: secret}}]}]}}},
})

type Workload = {metadata: {generation: number}; spec: {template: {metadata?: {annotations?: Record<string, string>}}}}

describeK8s('rotate: a JWT secret with a grace period into Kubernetes restarts what reads it (real kube-apiserver)', (k8s) => {
  let cluster: Cluster
  let p: TempProject
  let r: Rotation
  let namespace: string

  const get = async <T>(ref: string): Promise<T> => {
    const res = await cluster.kubectl(['get', ref, '-n', namespace, '-o', 'json'])
    expect(res.code, res.stderr).to.equal(0)
    return JSON.parse(res.stdout) as T
  }
  const secretData = async (name: string) => {
    const s = await get<{data?: Record<string, string>}>(`secret/${name}`)
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
  }
  const restartedAt = async (name: string) => (await get<Workload>(`deployment/${name}`)).spec.template.metadata?.annotations?.[RESTARTED_AT]

  beforeEach(async function () {
    this.timeout(60_000)
    cluster = k8s.cluster
    namespace = `rot${Date.now().toString(36)}-${seq++}`
    p = new TempProject('envsync-rotate-k8s-')
    p.write('envsync.yaml', manifest(namespace))
    r = new Rotation(p, 'production', () => ({KUBECONFIG: cluster.kubeconfig}))
    r.writeStore({JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB')})
    await r.expect(0, T0, ['push', 'production', '--yes'])
    const applied = await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify({apiVersion: 'v1', kind: 'List', items: [deployment('api', 'shop-api'), deployment('worker', 'shop-worker')]}))
    expect(applied.code, applied.stderr).to.equal(0)
  })

  afterEach(() => p.cleanup())

  it('the Secret gets the new value and keeps the old one for the grace, the api Deployment is restarted; after the grace a push removes the previous key', async function () {
    this.timeout(90_000)
    const old = r.store()
    const rotated = await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    const fresh = r.store().JWT_SECRET
    expect(fresh).to.not.equal(old.JWT_SECRET)
    expect(await secretData('shop-api')).to.deep.equal({JWT_SECRET: fresh, JWT_SECRET_PREVIOUS: old.JWT_SECRET, DB_PASSWORD: old.DB_PASSWORD})
    expect(await restartedAt('api')).to.equal('2027-03-01T12:00:00Z')
    expect(await restartedAt('worker')).to.equal(undefined)
    expect(rotated.stdout).to.include('deployment/api restarted')
    expect(rotated.stdout).to.match(/✓ applied +docker secrets\/production/)

    const after = await r.expect(0, at(2 * HOUR), ['push', 'production', '--yes'])
    expect(after.stderr).to.include('the grace period of JWT_SECRET ended')
    expect(await secretData('shop-api')).to.deep.equal({JWT_SECRET: fresh, DB_PASSWORD: old.DB_PASSWORD})
    expect(r.store()).to.deep.equal({JWT_SECRET: fresh, DB_PASSWORD: old.DB_PASSWORD})
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })
  it('a restart RBAC refuses leaves the rotation pending (report and exit 1); once granted, the rerun restarts with the same value', async function () {
    this.timeout(90_000)
    const kubeconfig = await pusherWithoutRestart()
    // The namespace exists: a user without rights on namespaces pushes there.
    p.write('envsync.yaml', manifest(namespace, false))
    r = new Rotation(p, 'production', () => ({KUBECONFIG: kubeconfig}))
    const refused = await r.expect(1, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(refused.stdout).to.include('values written, but the redeploy failed')
    expect(refused.stdout).to.include('envsync rotate production JWT_SECRET')
    const fresh = r.store().JWT_SECRET
    expect((await secretData('shop-api')).JWT_SECRET).to.equal(fresh)
    expect(await restartedAt('api')).to.equal(undefined)

    const grant = await cluster.kubectl(['create', 'role', 'restart', '-n', namespace, '--verb=list,patch', '--resource=deployments.apps,statefulsets.apps,daemonsets.apps'])
    expect(grant.code, grant.stderr).to.equal(0)
    await cluster.kubectl(['create', 'rolebinding', 'restart', '-n', namespace, '--role=restart', `--serviceaccount=${namespace}:pusher`])
    const resumed = await r.expect(0, at(5 * 60_000), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(resumed.stdout).to.include('resumes its last rotation (no new value)')
    expect(r.store().JWT_SECRET).to.equal(fresh)
    expect(await restartedAt('api')).to.equal('2027-03-01T12:05:00Z')
    // No new value: the resume records only the grace starting again (the pods switch now).
    expect(r.storeWrites().filter((w) => w.startsWith('rotate'))).to.deep.equal(['rotate JWT_SECRET,JWT_SECRET_PREVIOUS until 2027-03-01T13:00:00.000Z', 'rotate JWT_SECRET until 2027-03-01T13:05:00.000Z'])
    assertNoLeak([fresh, r.store().JWT_SECRET_PREVIOUS], ...r.everything())
  })

  it('a namespace push will not create: refused before the store is written; a run killed after the store write is finished by the rerun, with that value', async function () {
    this.timeout(90_000)
    const old = r.store()
    const gone = `${namespace}-gone`
    p.write('envsync.yaml', manifest(gone, false))
    const refused = await r.expect(1, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(refused.stderr).to.include(`namespace ${gone} does not exist`)
    expect(r.store()).to.deep.equal(old)
    expect(r.storeWrites().filter((w) => w.startsWith('rotate'))).to.have.length(0)

    // What a run killed between the store write and the Secret's write leaves: the store and the
    // history have the rotation, the Secret the old value (made here by rotating with Docker only).
    p.write('envsync.yaml', manifest(namespace).replace(/\n      kubernetes: .*\n/, '\n'))
    await r.expect(0, at(60_000), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    const fresh = r.store().JWT_SECRET
    p.write('envsync.yaml', manifest(namespace))
    expect((await secretData('shop-api')).JWT_SECRET).to.equal(old.JWT_SECRET)
    const diff = await r.expect(3, at(2 * 60_000), ['diff', 'production', '--exit-code'])
    expect(diff.stdout).to.match(/kubernetes secret \S+\/shop-api +.*to (update|add)/)

    const resumed = await r.expect(0, at(3 * 60_000), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(resumed.stdout).to.include(`resumes its last rotation (no new value): kubernetes secret ${namespace}/shop-api`)
    expect(await secretData('shop-api')).to.deep.equal({JWT_SECRET: fresh, JWT_SECRET_PREVIOUS: old.JWT_SECRET, DB_PASSWORD: old.DB_PASSWORD})
    expect(await restartedAt('api')).to.equal('2027-03-01T12:03:00Z')
    expect(r.store()).to.deep.equal({...old, JWT_SECRET: fresh, JWT_SECRET_PREVIOUS: old.JWT_SECRET})
    expect(r.storeWrites().filter((w) => w.startsWith('rotate'))).to.deep.equal(['rotate JWT_SECRET,JWT_SECRET_PREVIOUS until 2027-03-01T13:01:00.000Z', 'rotate JWT_SECRET until 2027-03-01T13:03:00.000Z'])
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })

  /** A service account that may read and write Secrets but not restart workloads, and its kubeconfig. */
  async function pusherWithoutRestart(): Promise<string> {
    for (const args of [
      ['create', 'serviceaccount', 'pusher'],
      ['create', 'role', 'secrets', '--verb=get,list,patch,create', '--resource=secrets'],
      ['create', 'rolebinding', 'secrets', '--role=secrets', `--serviceaccount=${namespace}:pusher`],
    ]) {
      const res = await cluster.kubectl([...args, '-n', namespace])
      expect(res.code, res.stderr).to.equal(0)
    }
    const request = JSON.stringify({apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {expirationSeconds: 3600}})
    const answer = await cluster.kubectl(['create', '--raw', `/api/v1/namespaces/${namespace}/serviceaccounts/pusher/token`, '-f', '-'], request)
    expect(answer.code, answer.stderr).to.equal(0)
    const token = (JSON.parse(answer.stdout) as {status: {token: string}}).status.token
    const file = p.path('pusher.kubeconfig')
    writeFileSync(file, JSON.stringify({apiVersion: 'v1', kind: 'Config', clusters: [{name: 'c', cluster: {server: cluster.server, 'certificate-authority': cluster.caFile}}], users: [{name: 'u', user: {token}}], contexts: [{name: 'c', context: {cluster: 'c', user: 'u', namespace}}], 'current-context': 'c'}))
    return file
  }
})
