import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import https from 'node:https'

import {describeK8s} from './harness.js'

/** GET with the cluster's token and CA; resolves with the status, rejects with the network error. */
function apiGet(server: string, token: string, caFile: string, urlPath: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${server}${urlPath}`, {headers: {Authorization: `Bearer ${token}`}, ca: readFileSync(caFile), timeout: 5000}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

describeK8s('k8s harness (real kube-apiserver)', (k8s) => {
  it('answers with the token and the kubeconfig CA, as 1.20', async () => {
    const {server, token, caFile} = k8s.cluster
    expect(server).to.match(/^https:\/\/127\.0\.0\.1:\d+$/)
    const version = await apiGet(server, token, caFile, '/version')
    expect(version.status).to.equal(200)
    expect(JSON.parse(version.body)).to.include({major: '1', minor: '20'})
    const ns = await apiGet(server, token, caFile, '/api/v1/namespaces/default')
    expect(ns.status).to.equal(200)
    const anonymous = await apiGet(server, 'wrong-token', caFile, '/api/v1/namespaces/default')
    expect(anonymous.status).to.equal(401)
  })

  it('kubeconfig has context envsync-test with namespace default', async () => {
    const r = await k8s.cluster.kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].name}/{.contexts[0].context.namespace}'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('envsync-test/default')
  })

  it('creates a secret with kubectl and reads it back base64-encoded', async () => {
    const c = k8s.cluster
    const created = await c.kubectl(['create', 'secret', 'generic', 'x', '--from-literal=a=b', '-n', 'default'])
    expect(created.code, created.stderr).to.equal(0)
    const got = await c.kubectl(['get', 'secret', 'x', '-o', 'json'])
    expect(got.code, got.stderr).to.equal(0)
    const secret = JSON.parse(got.stdout)
    expect(secret.metadata.namespace).to.equal('default')
    expect(secret.data).to.deep.equal({a: Buffer.from('b').toString('base64')})
  })

  it('takes input on stdin and creates namespaces', async () => {
    const c = k8s.cluster
    const ns = await c.kubectl(['create', 'namespace', 'envsync-harness'])
    expect(ns.code, ns.stderr).to.equal(0)
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'from-stdin', namespace: 'envsync-harness', labels: {app: 'envsync', tier: 'test'}},
      stringData: {K1: 'v1', K2: 'v2'},
    })
    const applied = await c.kubectl(['apply', '--server-side', '--field-manager=envsync-test', '-f', '-'], manifest)
    expect(applied.code, applied.stderr).to.equal(0)
    const got = await c.kubectl(['get', 'secret', 'from-stdin', '-n', 'envsync-harness', '-o', 'json'])
    expect(got.code, got.stderr).to.equal(0)
    const secret = JSON.parse(got.stdout)
    expect(secret.data).to.deep.equal({K1: 'djE=', K2: 'djI='})
    expect(secret.metadata.labels).to.deep.equal({app: 'envsync', tier: 'test'})
    const missing = await c.kubectl(['get', 'secret', 'nope'])
    expect(missing.code).to.not.equal(0)
    expect(missing.stderr).to.include('NotFound')
  })

  it('stopApiServer() refuses connections; startApiServer() comes back with the data', async function () {
    this.timeout(120_000)
    const c = k8s.cluster
    await c.stopApiServer()
    try {
      let error: NodeJS.ErrnoException | undefined
      try {
        await apiGet(c.server, c.token, c.caFile, '/api/v1/namespaces/default/secrets/x')
      } catch (e) {
        error = e as NodeJS.ErrnoException
      }
      expect(error?.code).to.equal('ECONNREFUSED')
      const down = await c.kubectl(['get', 'secret', 'x'])
      expect(down.code).to.not.equal(0)
      expect(down.stderr).to.match(/refused/i)
    } finally {
      // The shared cluster must come back even when an assertion above fails.
      await c.startApiServer()
    }
    const got = await c.kubectl(['get', 'secret', 'x', '-o', 'jsonpath={.data.a}'])
    expect(got.code, got.stderr).to.equal(0)
    expect(Buffer.from(got.stdout, 'base64').toString()).to.equal('b')
  })
})
