import {existsSync} from 'node:fs'
import net from 'node:net'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {describeK8s, type Cluster} from './harness.js'

/**
 * A first run against Kubernetes, through the built CLI: a namespace that does not exist yet, a
 * cluster that does not answer, keys another tool set (kubectl patch, kubectl apply), and plain
 * config shown by value while secrets stay fingerprints.
 */
let seq = 0
const ns = () => `first${Date.now().toString(36)}-${seq++}`
const secret = (label = 'CANARY') => `${canary(label)}${canary('X').slice(2)}`
const count = (text: string, part: string) => text.split(part).length - 1

function manifest(namespace: string, kubernetes = `{namespace: ${namespace}}`): string {
  return `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  staging:
    protected: false
    targets: {docker: {}, kubernetes: ${kubernetes}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32"}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
  MIRROR: {services: [api], sensitive: false, required: false}
`
}

describeK8s('kubernetes first run (real kube-apiserver, built CLI)', (k8s) => {
  let p: TempProject
  let namespace: string
  let cluster: Cluster
  const run = (...args: string[]) => runBin(args, {cwd: p.dir, env: {KUBECONFIG: cluster.kubeconfig, HOME: p.dir}})
  const values = (v: Record<string, string>) => p.write('.env.staging', Object.entries(v).map(([k, x]) => `${k}='${x}'`).join('\n') + '\n')
  const kubectl = (...args: string[]) => cluster.kubectl(args)
  beforeEach(() => {
    cluster = k8s.cluster
    p = new TempProject('envsync-k8s-first-')
    namespace = ns()
  })
  afterEach(() => p.cleanup())

  it('diff says a namespace is missing (once) instead of planning into it; push stops before writing anything anywhere', async () => {
    p.write('envsync.yaml', manifest(namespace))
    const jwt = secret('JWT')
    const db = secret('DB')
    values({JWT_SECRET: jwt, DB_PASSWORD: db})
    const said = `namespace ${namespace} does not exist; push needs --create-namespace or createNamespace: true`

    const d = await run('diff', 'staging')
    expect(d.exitCode, d.stderr).to.equal(1)
    expect(count(d.stdout, said), d.stdout).to.equal(1)
    expect(d.stdout).to.not.match(/kubernetes secret \S+\/shop-api \(new\)/)
    expect(d.stdout).to.include(`· kubernetes secret ${namespace}/shop-api`)
    expect(d.stdout).to.match(/docker secrets\/staging \(new\) +\d to add/)
    const json = JSON.parse((await run('diff', 'staging', '--json')).stdout).result
    expect(json.errors).to.have.length(1)
    expect(json.errors[0]).to.include({kind: 'kubernetes', code: 'K8S_NO_NAMESPACE', message: said})
    expect(json.errors[0].destinations).to.have.length(2)

    for (const args of [['--yes'], []]) {
      const r = await run('push', 'staging', ...args)
      expect(r.exitCode).to.equal(1)
      expect(count(r.stdout + r.stderr, said), r.stdout + r.stderr).to.equal(1)
      // Nothing anywhere: no Docker files either, no namespace, no record.
      expect(existsSync(p.path('secrets/staging'))).to.equal(false)
      expect(existsSync(p.path('.envsync/history.jsonl'))).to.equal(false)
      expect((await kubectl('get', 'namespace', namespace)).code).to.not.equal(0)
    }

    // Once the manifest lets push create it, the plan is a new Secret there, and push creates both.
    p.write('envsync.yaml', manifest(namespace, `{namespace: ${namespace}, createNamespace: true}`))
    const planned = await run('diff', 'staging')
    expect(planned.exitCode, planned.stdout).to.equal(0)
    expect(planned.stdout).to.match(new RegExp(`kubernetes secret ${namespace}/shop-api \\(new\\) +3 to add`))
    const created = await run('push', 'staging', '--yes')
    expect(created.exitCode, created.stdout + created.stderr).to.equal(0)
    expect((await kubectl('get', 'secret', 'shop-api', '-n', namespace)).code).to.equal(0)
    expect((await run('diff', 'staging', '--exit-code')).exitCode).to.equal(0)
    assertNoLeak([jwt, db], d.stdout, d.stderr, JSON.stringify(json), planned.stdout, created.stdout, created.stderr)
  })

  it('keys another field manager set are conflicts in diff, naming it and --force-conflicts; push refuses them alike, --force-conflicts takes them', async () => {
    p.write('envsync.yaml', manifest(namespace, `{namespace: ${namespace}, createNamespace: true}`))
    const jwt = secret('JWT')
    const db = secret('DB')
    values({JWT_SECRET: jwt, DB_PASSWORD: db})
    expect((await run('push', 'staging', '--yes')).exitCode).to.equal(0)
    // Someone edits one key by hand, and someone else runs kubectl apply on the other Secret.
    const patch = JSON.stringify({data: {JWT_SECRET: Buffer.from('hand-edited').toString('base64')}})
    expect((await kubectl('patch', 'secret', 'shop-api', '-n', namespace, '--type=merge', '-p', patch)).code).to.equal(0)
    const applied = await cluster.kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Secret\nmetadata: {name: shop-worker, namespace: ${namespace}}\ndata: {DB_PASSWORD: ${Buffer.from('theirs').toString('base64')}}\n`)
    expect(applied.code, applied.stderr).to.equal(0)

    const d = await run('diff', 'staging')
    expect(d.exitCode).to.equal(0)
    expect(d.stdout).to.match(/~ JWT_SECRET +local \S+ +live \S+ +owned by kubectl-patch: push needs --force-conflicts/)
    expect(d.stdout).to.match(/~ DB_PASSWORD +local \S+ +live \S+ +owned by kubectl-client-side-apply: push needs --force-conflicts/)
    expect(d.stdout).to.match(new RegExp(`kubernetes secret ${namespace}/shop-api +1 to update, 1 conflict: push needs --force-conflicts`))
    // Keys in sync are no conflict, even when another manager shares them.
    expect(d.stdout).to.not.match(/LOG_LEVEL.*owned by/)
    const keys = (JSON.parse((await run('diff', 'staging', '--json')).stdout).result.destinations as {label: string; keys: {key: string; conflict?: string[]}[]}[]).flatMap((x) => x.keys.map((k) => [x.label, k.key, k.conflict]))
    expect(keys.filter((k) => k[2])).to.deep.equal([
      [`kubernetes secret ${namespace}/shop-api`, 'JWT_SECRET', ['kubectl-patch']],
      [`kubernetes secret ${namespace}/shop-worker`, 'DB_PASSWORD', ['kubectl-client-side-apply']],
    ])

    const refused = await run('push', 'staging', '--yes')
    expect(refused.exitCode).to.equal(1)
    expect(refused.stdout).to.match(new RegExp(`✗ failed +kubernetes secret ${namespace}/shop-api +.*JWT_SECRET \\(kubectl-patch\\); push needs --force-conflicts`))
    expect(refused.stdout).to.match(new RegExp(`✗ failed +kubernetes secret ${namespace}/shop-worker +.*DB_PASSWORD \\(kubectl-client-side-apply\\); push needs --force-conflicts`))

    // Forced: no conflict in push's plan, the keys are taken over, and the next diff is clean.
    const forced = await run('push', 'staging', '--yes', '--force-conflicts')
    expect(forced.exitCode, forced.stdout).to.equal(0)
    expect(forced.stdout).to.not.include('conflict')
    const clean = await run('diff', 'staging', '--exit-code')
    expect(clean.exitCode, clean.stdout).to.equal(0)
    assertNoLeak([jwt, db], d.stdout, refused.stdout, refused.stderr, forced.stdout, clean.stdout)
  })

  it('plain config shows info → debug against a real Secret; a plain key holding a secret\'s value stays a fingerprint', async () => {
    p.write('envsync.yaml', manifest(namespace, `{namespace: ${namespace}, createNamespace: true}`))
    const jwt = secret('JWT')
    values({JWT_SECRET: jwt, DB_PASSWORD: secret()})
    expect((await run('push', 'staging', '--yes')).exitCode).to.equal(0)
    values({JWT_SECRET: jwt, DB_PASSWORD: secret(), LOG_LEVEL: 'debug', MIRROR: jwt})
    const d = await run('diff', 'staging', '--target', 'kubernetes')
    expect(d.exitCode, d.stderr).to.equal(0)
    expect(d.stdout.match(/~ LOG_LEVEL +info → debug/g), d.stdout).to.have.length(2)
    expect(d.stdout).to.match(/~ DB_PASSWORD +local \S{10} +live \S{10}/)
    expect(d.stdout).to.match(/\+ MIRROR +local \S{10}/)
    assertNoLeak([jwt], d.stdout, d.stderr)
  })
})

describe('kubernetes: a cluster that does not answer is said once (no cluster needed)', function () {
  this.timeout(60_000)
  let p: TempProject
  let port: number
  before(async () => {
    // A port nobody listens on: connection refused, at once.
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
    await new Promise((resolve) => server.close(resolve))
  })
  beforeEach(() => {
    p = new TempProject('envsync-k8s-down-')
    p.write('envsync.yaml', manifest('apps'))
    values()
    p.write('kubeconfig', `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: down-test-token}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`)
  })
  afterEach(() => p.cleanup())
  const values = () => p.write('.env.staging', `JWT_SECRET=${secret()}\nDB_PASSWORD=${secret()}\n`)
  const run = (...args: string[]) => runBin(args, {cwd: p.dir, env: {KUBECONFIG: p.path('kubeconfig'), HOME: p.dir, ENVSYNC_HTTP_TIMEOUT_MS: '400', ENVSYNC_HTTP_BACKOFF_MS: '10'}})

  it('diff and push: one "cannot reach" for both Secrets, in the plan only (text and --json); Docker goes ahead', async () => {
    const said = `cannot reach the Kubernetes API at 127.0.0.1:${port}`
    const d = await run('diff', 'staging')
    expect(d.exitCode).to.equal(1)
    expect(count(d.stdout, said), d.stdout).to.equal(1)
    expect(d.stdout).to.include('kubernetes  cannot read 2 destinations')
    const json = JSON.parse((await run('diff', 'staging', '--json')).stdout).result
    expect(json.errors).to.have.length(1)
    expect(json.errors[0]).to.include({code: 'K8S_UNREACHABLE'})
    expect(json.errors[0].destinations).to.have.length(2)

    const push = await run('push', 'staging', '--yes')
    expect(push.exitCode).to.equal(1)
    expect(count(push.stdout + push.stderr, said), push.stdout).to.equal(1)
    expect(push.stdout).to.match(/✓ applied +docker secrets\/staging/)
    expect(push.stdout).to.match(/✗ failed +kubernetes secret apps\/shop-worker +not read: see the plan above/)
  })
})
