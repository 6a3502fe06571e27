import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * Kubeconfig problems through the real binary, no cluster needed: each one is reported once for
 * the whole Kubernetes target (not once per Secret, not again in the push report), names the
 * file, and never prints the file's lines or credentials — in text and in --json.
 */
const MANIFEST = `version: 1
project: shop
services: {api: {}, worker: {}, jobs: {}}
environments:
  staging:
    targets: {docker: {}, kubernetes: {namespace: apps}}
secrets:
  DB_PASSWORD: {services: [api, worker, jobs], generate: "alnum:32"}
`

const kubeconfig = (token: string, server = 'https://127.0.0.1:6443') => `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "${server}", insecure-skip-tls-verify: true}
users:
- name: u
  user:
    token: ${token}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`

const count = (text: string, part: string) => text.split(part).length - 1

describe('kubeconfig problems through the CLI: once, with the file, never its contents', function () {
  this.timeout(60_000)
  let p: TempProject
  const run = (args: string[], kube: string) => runBin(args, {cwd: p.dir, env: {KUBECONFIG: kube, HOME: p.dir}})
  beforeEach(() => {
    p = new TempProject('envsync-kubeconfig-cli-')
    p.write('envsync.yaml', MANIFEST)
    p.write('.env.staging', 'DB_PASSWORD=Zq8vN3kLm4Pp7Rt2Xw9Yb6Cd5Fg1Hj0K\n')
  })
  afterEach(() => p.cleanup())

  it('a YAML error: diff, push and pull name kubeconfig:line:col once and print neither the token nor a code frame (text and --json)', async () => {
    const token = canary('KUBETOKEN')
    const file = p.write('kubeconfig', kubeconfig(token).replace('contexts:', '    extra: [unclosed\ncontexts:'))
    const where = /kubeconfig (\S+\/)?kubeconfig:\d+:\d+ is not valid YAML/

    const diff = await run(['diff', 'staging'], file)
    expect(diff.exitCode, diff.stderr).to.equal(1)
    expect(diff.stdout).to.match(where)
    expect(count(diff.stdout, 'is not valid YAML'), diff.stdout).to.equal(1)
    expect(diff.stdout).to.include('kubernetes  cannot read 3 destinations')
    for (const s of ['api', 'worker', 'jobs']) expect(diff.stdout).to.include(`· kubernetes secret apps/shop-${s}`)
    expect(diff.stdout).to.match(/docker secrets\/staging \(new\) +1 to add/) // the other target is planned as usual

    const json = await run(['diff', 'staging', '--json'], file)
    expect(json.exitCode).to.equal(1)
    expect(count(json.stdout, 'is not valid YAML'), json.stdout).to.equal(1)
    const result = JSON.parse(json.stdout).result
    expect(result.errors).to.have.length(1)
    expect(result.errors[0]).to.include({kind: 'kubernetes', code: 'K8S_KUBECONFIG'})
    expect(result.errors[0].message).to.match(where)
    expect(result.errors[0].destinations).to.have.length(3)
    const k8s = result.destinations.filter((d: {kind: string}) => d.kind === 'kubernetes')
    expect(k8s.map((d: {unreadable?: boolean; error?: string}) => [d.unreadable, d.error])).to.deep.equal([[true, undefined], [true, undefined], [true, undefined]])

    const pushJson = await run(['push', 'staging', '--yes', '--json'], file)
    expect(pushJson.exitCode).to.equal(1)
    expect(count(pushJson.stdout, 'is not valid YAML'), pushJson.stdout).to.equal(1)
    const report = JSON.parse(pushJson.stdout).result.report
    expect(report.destinations.filter((d: {status: string}) => d.status === 'failed').map((d: {unreadable?: boolean; error?: unknown}) => [d.unreadable, d.error])).to.deep.equal([
      [true, undefined],
      [true, undefined],
      [true, undefined],
    ])

    // Docker is in sync now: give it a change again, so the text push has a report too.
    p.write('.env.staging', 'DB_PASSWORD=Hk2Lq9Zr4Tw7Yp3Nc8Vb5Mx6Gd1Fs0Ja\n')
    const push = await run(['push', 'staging', '--yes'], file)
    expect(push.exitCode).to.equal(1)
    expect(count(push.stdout + push.stderr, 'is not valid YAML'), push.stdout).to.equal(1)
    expect(push.stdout).to.match(/✗ failed +kubernetes secret apps\/shop-api +not read: see the plan above/)
    expect(push.stdout).to.match(/✓ applied +docker secrets\/staging/)

    const pull = await run(['pull', 'staging', '--from', 'kubernetes'], file)
    expect(pull.exitCode).to.equal(1)
    expect(count(pull.stdout + pull.stderr, 'is not valid YAML')).to.equal(1)
    assertNoLeak([token], diff.stdout, diff.stderr, json.stdout, push.stdout, push.stderr, pushJson.stdout, pull.stdout, pull.stderr, ...p.syncRecords())
    for (const out of [diff.stdout, json.stdout, push.stdout, pull.stderr]) expect(out).to.not.match(/^\s*\d+ \|/m)
  })

  it('no kubeconfig at all: said once, naming what was looked at', async () => {
    const missing = p.path('nowhere/kubeconfig')
    for (const args of [['diff', 'staging'], ['push', 'staging', '--yes']]) {
      const r = await run(args, missing)
      expect(r.exitCode).to.equal(1)
      expect(count(r.stdout, 'no kubeconfig'), r.stdout).to.equal(1)
      expect(r.stdout).to.include(`KUBECONFIG names ${missing}, which does not exist`)
    }
    // One Secret: the plan has the error, the report beside it in the envelope does not repeat it.
    p.write('.env.staging', 'DB_PASSWORD=Hk2Lq9Zr4Tw7Yp3Nc8Vb5Mx6Gd1Fs0Ja\n') // a change for Docker: a report
    const one = await run(['push', 'staging', '--yes', '--json', '--service', 'api'], missing)
    expect(one.exitCode).to.equal(1)
    expect(count(one.stdout, 'no kubeconfig'), one.stdout).to.equal(1)
    expect(JSON.parse(one.stdout).result.report.destinations.find((d: {kind: string}) => d.kind === 'kubernetes')).to.include({status: 'failed', unreadable: true})
    const home = await runBin(['diff', 'staging'], {cwd: p.dir, env: {KUBECONFIG: undefined, HOME: p.dir}})
    expect(home.stdout).to.include(`no kubeconfig: ${p.dir}/.kube/config does not exist and KUBECONFIG is not set`)
  })

  it('an empty kubeconfig, one without current-context, and a server URL with a password: a clear message each', async () => {
    const empty = await run(['diff', 'staging'], p.write('empty', ''))
    expect(empty.stdout).to.match(/kubeconfig \S*empty defines no context \(is it empty\?\)/)
    expect(empty.stdout).to.not.include('Cannot read properties')

    const token = canary('KUBETOKEN')
    const noCurrent = await run(['diff', 'staging'], p.write('nocurrent', kubeconfig(token).replace('current-context: x\n', '')))
    expect(noCurrent.stdout).to.match(/kubeconfig \S*nocurrent sets no current-context/)
    expect(noCurrent.stdout).to.include('contexts: x')
    expect(noCurrent.stdout).to.include('--context')

    const password = canary('KUBEPASS')
    const userinfo = await run(['diff', 'staging', '--json'], p.write('userinfo', kubeconfig(token, `https://admin:${password}@127.0.0.1:6443`)))
    expect(userinfo.exitCode).to.equal(1)
    expect(JSON.parse(userinfo.stdout).result.errors[0].message).to.match(/cluster "c" \(\S*userinfo\): the server URL carries a user name or password \(host 127\.0\.0\.1:6443\)/)
    assertNoLeak([token, password], empty.stdout, noCurrent.stdout, noCurrent.stderr, userinfo.stdout, userinfo.stderr)
  })

  it('--context names a context the kubeconfig lacks: one error listing the contexts', async () => {
    const r = await run(['diff', 'staging', '--context', 'prod'], p.write('k', kubeconfig(canary('KUBETOKEN'))))
    expect(r.exitCode).to.equal(1)
    expect(count(r.stdout, 'has no context "prod" (--context)'), r.stdout).to.equal(1)
    expect(r.stdout).to.include('contexts: x')
  })
})
