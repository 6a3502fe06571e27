import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'

import {expect} from 'chai'

import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * Every Kubernetes request is bounded and retried like the HTTP helper's (ENVSYNC_HTTP_TIMEOUT_MS,
 * ENVSYNC_HTTP_BACKOFF_MS): loopback servers that accept and never answer, answer headers and
 * stall the body, or fail with 503 first. Before, diff waited 11+ minutes on such a server.
 */
const MANIFEST = `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
  staging:
    targets: {kubernetes: {namespace: apps}}
secrets:
  DB_PASSWORD: {services: [api, worker], generate: "alnum:32"}
`

const TIMEOUT_MS = 400
const env = (kubeconfig: string, dir: string) => ({KUBECONFIG: kubeconfig, HOME: dir, ENVSYNC_HTTP_TIMEOUT_MS: String(TIMEOUT_MS), ENVSYNC_HTTP_BACKOFF_MS: '10'})

function kubeconfigFor(p: TempProject, port: number): string {
  return p.write(
    'kubeconfig',
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: timeout-test-token}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
  )
}

/** The namespace exists: a Secret not found costs one GET of its namespace (is that missing too?). */
function namespaceFound(req: {method?: string; url?: string}, res: {writeHead(status: number, headers: Record<string, string>): {end(body: string): void}}): boolean {
  if (req.method !== 'GET' || req.url?.split('?')[0] !== '/api/v1/namespaces/apps') return false
  res.writeHead(200, {'content-type': 'application/json'}).end('{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"apps"}}')
  return true
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

describe('kubernetes: every request bounded and retried', function () {
  this.timeout(60_000)
  let p: TempProject
  let certDir: string
  let cert: {key: Buffer; cert: Buffer}
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined

  before(function () {
    certDir = mkdtempSync(path.join(tmpdir(), 'envsync-k8s-tls-'))
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', 'key.pem', '-out', 'cert.pem'], {cwd: certDir})
    if (r.status !== 0) this.skip()
    cert = {key: readFileSync(path.join(certDir, 'key.pem')), cert: readFileSync(path.join(certDir, 'cert.pem'))}
  })
  after(() => rmSync(certDir, {recursive: true, force: true}))
  beforeEach(() => {
    p = new TempProject('envsync-k8s-timeout-')
    p.write('envsync.yaml', MANIFEST)
    p.write('.env.staging', 'DB_PASSWORD=Zq8vN3kLm4Pp7Rt2Xw9Yb6Cd5Fg1Hj0K\n')
  })
  afterEach(async () => {
    for (const s of sockets) s.destroy()
    sockets.clear()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    server = undefined
    p.cleanup()
  })

  const track = (s: net.Server) => {
    s.on('connection', (socket: net.Socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    s.on('secureConnection', (socket: net.Socket) => socket.on('error', () => {}))
    return s
  }

  async function expectBoundedFailure(args: string[], attempts: number): Promise<void> {
    const port = (server!.address() as net.AddressInfo).port
    const started = Date.now()
    const r = await runBin(args, {cwd: p.dir, env: env(kubeconfigFor(p, port), p.dir)})
    const took = Date.now() - started
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    // 5 attempts of 0.4 s each, plus node's start: nowhere near the 11 minutes of before.
    expect(took).to.be.below(20_000)
    const out = r.stdout + r.stderr
    expect(out).to.include(`cannot reach the Kubernetes API at 127.0.0.1:${port} (no answer within ${TIMEOUT_MS / 1000} s) after ${attempts} attempts`)
    expect(out).to.not.match(/\n\s+at /) // no stack trace
  }

  it('a server that accepts the connection and never speaks (TLS handshake hangs): diff fails in seconds, exit 1', async () => {
    server = track(net.createServer(() => {}))
    await listen(server)
    await expectBoundedFailure(['diff', 'staging'], 5)
  })

  it('a server that completes TLS and never answers the request: diff and push fail in seconds, exit 1', async () => {
    server = track(tls.createServer(cert, () => {}))
    await listen(server)
    await expectBoundedFailure(['diff', 'staging'], 5)
    await expectBoundedFailure(['push', 'staging', '--yes'], 5)
  })

  it('a server that sends headers and stalls the body: bounded too', async () => {
    server = track(
      tls.createServer(cert, (socket) => {
        socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"kind":"Secret",'))
      }),
    )
    await listen(server)
    await expectBoundedFailure(['diff', 'staging'], 5)
  })

  it('503s and 500s on reads are retried with backoff; the diff then succeeds', async () => {
    const seen: string[] = []
    let failures = 0
    server = track(
      https.createServer(cert, (req, res) => {
        seen.push(`${req.method} ${req.url}`)
        if (namespaceFound(req, res)) return
        if (failures++ < 3) {
          res.writeHead(failures === 2 ? 500 : 503, {'content-type': 'application/json'}).end('{"kind":"Status","code":503}')
          return
        }
        res.writeHead(404, {'content-type': 'application/json'}).end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}')
      }),
    )
    const port = await listen(server)
    const r = await runBin(['diff', 'staging', '--json'], {cwd: p.dir, env: env(kubeconfigFor(p, port), p.dir)})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout).result
    expect(result.destinations.map((d: {exists: boolean; unreadable?: boolean}) => [d.exists, d.unreadable])).to.deep.equal([[false, undefined], [false, undefined]])
    expect(seen.filter((s) => s.startsWith('GET /api/v1/namespaces/apps/secrets/'))).to.have.length(5)
    expect(result.requests).to.equal(6)
  })

  it('a POST (namespace creation) that gets no answer is not sent again: it may have been applied', async () => {
    const seen: string[] = []
    server = track(
      https.createServer(cert, (req, res) => {
        seen.push(`${req.method} ${req.url}`)
        if (req.method === 'POST') return // never answered
        res.writeHead(404, {'content-type': 'application/json'}).end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}')
      }),
    )
    const port = await listen(server)
    const r = await runBin(['push', 'staging', '--yes', '--create-namespace'], {cwd: p.dir, env: env(kubeconfigFor(p, port), p.dir)})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    expect(r.stdout).to.include(`cannot reach the Kubernetes API at 127.0.0.1:${port} (no answer within ${TIMEOUT_MS / 1000} s) after 1 attempt`)
    expect(seen.filter((s) => s.startsWith('POST'))).to.deep.equal(['POST /api/v1/namespaces'])
  })

  it('a write (server-side apply PATCH) that gets no answer is retried (it is idempotent) and then fails, bounded, exit 1', async () => {
    const seen: string[] = []
    server = track(
      https.createServer(cert, (req, res) => {
        seen.push(`${req.method} ${req.url?.split('?')[0]}`)
        if (req.method === 'PATCH') return // never answered
        if (namespaceFound(req, res)) return
        res.writeHead(404, {'content-type': 'application/json'}).end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}')
      }),
    )
    const port = await listen(server)
    const started = Date.now()
    const r = await runBin(['push', 'staging', '--yes'], {cwd: p.dir, env: env(kubeconfigFor(p, port), p.dir)})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    expect(Date.now() - started).to.be.below(20_000)
    expect(r.stdout).to.match(new RegExp(`✗ failed +kubernetes secret apps/shop-api +cannot reach the Kubernetes API at 127\\.0\\.0\\.1:${port} \\(no answer within 0\\.4 s\\) after 5 attempts`))
    expect(seen.filter((s) => s === 'PATCH /api/v1/namespaces/apps/secrets/shop-api')).to.have.length(5)
  })
})
