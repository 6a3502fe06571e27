import {spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {describeK8s, kubectlBinary} from './harness.js'

/**
 * Which cluster envsync writes to, against a real API server, with kubectl as the judge:
 * KUBECONFIG=a:b takes current-context from the first file that sets one, names defined in
 * several files come from the first, missing files are skipped, and --context overrides the
 * manifest's `context:`.
 */
let seq = 0
const manifest = (namespace: string, context = '') => `version: 1
project: shop
services: {api: {}}
environments:
  staging:
    targets: {kubernetes: {namespace: ${namespace}, createNamespace: true${context ? `, context: ${context}` : ''}}}
secrets:
  DB_PASSWORD: {services: [api], generate: "alnum:32"}
`

describeK8s('kubernetes: the cluster kubectl names', (k8s) => {
  let p: TempProject
  let first: string
  let second: string
  let namespace: string
  const value = 'Zq8vN3kLm4Pp7Rt2Xw9Yb6Cd5Fg1Hj0K'
  const wrongToken = canary('WRONGTOKEN')

  beforeEach(() => {
    p = new TempProject('envsync-k8s-context-')
    namespace = `ctx${Date.now().toString(36)}-${seq++}`
    p.write('.env.staging', `DB_PASSWORD=${value}\n`)
    const c = k8s.cluster
    // First file, in its own directory with a relative CA path: the real cluster, current-context real.
    mkdirSync(p.path('a'))
    copyFileSync(c.caFile, p.path('a/ca.crt'))
    first = p.write(
      'a/config',
      `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "${c.server}", certificate-authority: ca.crt}
users:
- name: admin
  user: {token: ${c.token}}
contexts:
- name: real
  context: {cluster: shared, user: admin}
current-context: real
`,
    )
    // Second file: the same cluster and user names pointing elsewhere (they lose), its own
    // current-context (it loses too), and a context of its own that leads nowhere.
    second = p.write(
      'b.yaml',
      `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://127.0.0.1:1"}
- name: nowhere
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: admin
  user: {token: ${wrongToken}}
contexts:
- name: bogus
  context: {cluster: nowhere, user: admin}
current-context: bogus
`,
    )
  })
  afterEach(() => p.cleanup())

  const kubectlCurrent = (list: string) => spawnSync(kubectlBinary()!, ['config', 'current-context'], {env: {...process.env, KUBECONFIG: list}, encoding: 'utf8'}).stdout.trim()
  const run = (args: string[], list: string) => runBin(args, {cwd: p.dir, env: {KUBECONFIG: list, HOME: p.dir, ENVSYNC_HTTP_BACKOFF_MS: '10'}})
  const live = async () => {
    const r = await k8s.cluster.kubectl(['get', 'secret', 'shop-api', '-n', namespace, '-o', 'jsonpath={.data.DB_PASSWORD}'])
    return r.code === 0 ? Buffer.from(r.stdout, 'base64').toString('utf8') : undefined
  }

  it('KUBECONFIG=missing:a:b pushes to the cluster of a (its current-context, its cluster and user over b\'s of the same names)', async () => {
    p.write('envsync.yaml', manifest(namespace))
    const list = [p.path('missing.yaml'), first, second].join(':')
    expect(kubectlCurrent(list)).to.equal('real')
    const r = await run(['push', 'staging', '--yes'], list)
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(await live()).to.equal(value)
    const d = await run(['diff', 'staging', '--exit-code'], list)
    expect(d.exitCode, d.stdout).to.equal(0)
    assertNoLeak([wrongToken, k8s.cluster.token], r.stdout, r.stderr, d.stdout)
  })

  it('KUBECONFIG=b:a goes where kubectl goes (b\'s current-context), and fails there without writing anywhere', async () => {
    p.write('envsync.yaml', manifest(namespace))
    const list = [second, first].join(':')
    expect(kubectlCurrent(list)).to.equal('bogus')
    const r = await run(['push', 'staging', '--yes'], list)
    expect(r.exitCode).to.equal(1)
    expect(r.stdout).to.include('cannot reach the Kubernetes API at 127.0.0.1:1')
    expect(await live()).to.equal(undefined)
  })

  it('--context overrides the manifest\'s context: for diff, push and pull', async () => {
    p.write('envsync.yaml', manifest(namespace, 'bogus'))
    const list = [first, second].join(':')
    const blocked = await run(['diff', 'staging'], list)
    expect(blocked.exitCode).to.equal(1)
    expect(blocked.stdout).to.include('127.0.0.1:1')
    const pushed = await run(['push', 'staging', '--yes', '--context', 'real'], list)
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).to.equal(0)
    expect(await live()).to.equal(value)
    expect((await run(['diff', 'staging', '--exit-code', '--context', 'real'], list)).exitCode).to.equal(0)
    writeFileSync(p.path('.env.staging'), '')
    const pulled = await run(['pull', 'staging', '--from', 'kubernetes', '--context', 'real'], list)
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).to.equal(0)
    expect(readFileSync(p.path('.env.staging'), 'utf8')).to.include(value)
  })

  it('an exec credential plugin: its token works and is never printed; a plugin that hangs is bounded', async () => {
    p.write('envsync.yaml', manifest(namespace))
    const plugin = (body: string) => p.write('plugin.sh', `#!/bin/sh\n${body}\n`, 0o700)
    const config = (command: string) =>
      p.write(
        'exec.yaml',
        `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "${k8s.cluster.server}", certificate-authority: ${k8s.cluster.caFile}}
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${command}, interactiveMode: Never}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
      )
    plugin(`echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"${k8s.cluster.token}"}}'`)
    const ok = await run(['push', 'staging', '--yes'], config('./plugin.sh'))
    expect(ok.exitCode, ok.stdout + ok.stderr).to.equal(0)
    expect(await live()).to.equal(value)
    assertNoLeak([k8s.cluster.token], ok.stdout, ok.stderr)

    plugin('exec sleep 20')
    const started = Date.now()
    const hung = await runBin(['diff', 'staging'], {cwd: p.dir, env: {KUBECONFIG: p.path('exec.yaml'), HOME: p.dir, ENVSYNC_HTTP_TIMEOUT_MS: '1000'}})
    expect(hung.exitCode).to.equal(1)
    expect(Date.now() - started).to.be.below(15_000)
    expect(hung.stdout).to.include('credential plugin (exec) did not answer within 1 s')
  })
})
