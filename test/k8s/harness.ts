/**
 * A real Kubernetes API server for integration tests: etcd + kube-apiserver (1.20.2, built from
 * Debian's source package by scripts/k8s/build-apiserver.sh) on loopback, with a token user in
 * system:masters and a generated kubeconfig.
 *
 *   import {describeK8s} from '../k8s/harness.js'
 *   describeK8s('push to kubernetes', (k8s) => {
 *     it('creates a secret', async () => {
 *       const r = await k8s.cluster.kubectl(['get', 'secrets'])
 *     })
 *   })
 *
 * describeK8s shares one cluster per mocha run (started lazily by the first suite that needs it,
 * stopped by a root `after` hook and, whatever happens, at process exit). Tests that need a
 * cluster of their own (e.g. to stop its API server) call startCluster() and stop() it themselves.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import https from 'node:https'
import http from 'node:http'
import net from 'node:net'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'

import {recordNotRun} from '../helpers/not-run.js'

export const BUILD_COMMAND = 'bash scripts/k8s/build-apiserver.sh'
const READY_TIMEOUT_MS = 60_000

export interface KubectlResult {
  stdout: string
  stderr: string
  code: number
}

export interface Cluster {
  /** Path of a kubeconfig: context `envsync-test`, namespace `default`, token user, CA = caFile. */
  readonly kubeconfig: string
  /** https://127.0.0.1:PORT */
  readonly server: string
  /** Bearer token of a user in system:masters. */
  readonly token: string
  /** The API server's self-signed certificate (CERT_DIR/apiserver.crt), the kubeconfig's CA. */
  readonly caFile: string
  /** Temp dir holding etcd's data, certificates, logs and the kubeconfig (removed by stop()). */
  readonly dir: string
  /** Runs kubectl with this cluster's kubeconfig. Never throws on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>
  /** Stops the API server only (etcd and its data stay); requests then get ECONNREFUSED. */
  stopApiServer(): Promise<void>
  /** Starts the API server again on the same port with the same certificate and etcd data. */
  startApiServer(): Promise<void>
  /** Kills kube-apiserver and etcd and removes the temp dir. Idempotent. */
  stop(): Promise<void>
}

// ---- where things are --------------------------------------------------------------------------

export function k8sCacheDir(): string {
  return process.env.ENVSYNC_K8S_CACHE || path.join(homedir(), '.cache', 'envsync-k8s')
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    const file = path.join(dir, cmd)
    if (isExecutable(file)) return file
  }
  return undefined
}

export function apiServerBinary(): string {
  return process.env.ENVSYNC_KUBE_APISERVER || path.join(k8sCacheDir(), 'bin', 'kube-apiserver')
}

export function etcdBinary(): string | undefined {
  return process.env.ENVSYNC_ETCD || onPath('etcd')
}

/** Debian's kubectl 1.20 (same version as the server) from the cache, else kubectl on PATH. */
export function kubectlBinary(): string | undefined {
  if (process.env.ENVSYNC_KUBECTL) return process.env.ENVSYNC_KUBECTL
  const cached = path.join(k8sCacheDir(), 'bin', 'kubectl')
  return isExecutable(cached) ? cached : onPath('kubectl')
}

/** Whether the Kubernetes test tier can run here, and if not, why. */
export function k8sAvailable(): {ok: boolean; reason?: string} {
  const missing: string[] = []
  if (process.platform !== 'linux') missing.push(`platform ${process.platform} (needs linux)`)
  if (!isExecutable(apiServerBinary())) missing.push(`no kube-apiserver binary at ${apiServerBinary()}`)
  if (!etcdBinary()) missing.push('etcd not on PATH (Debian package etcd-server)')
  if (!kubectlBinary()) missing.push('kubectl not found (Debian package kubernetes-client)')
  if (missing.length === 0) return {ok: true}
  return {ok: false, reason: `Kubernetes test tier unavailable: ${missing.join('; ')}. Build/install it with: ${BUILD_COMMAND}`}
}

// ---- process bookkeeping: nothing may outlive the test run -------------------------------------

const liveChildren = new Set<ChildProcess>()
const childNames = new WeakMap<ChildProcess, string>()
const liveDirs = new Set<string>()
let exitHooksInstalled = false

function cleanupSync(): void {
  for (const child of liveChildren) {
    try {
      if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
  liveChildren.clear()
  for (const dir of liveDirs) {
    try {
      rmSync(dir, {recursive: true, force: true, maxRetries: 3})
    } catch {
      /* a dying etcd may still be writing; the next startCluster() sweeps it */
    }
  }
  liveDirs.clear()
}

function installExitHooks(): void {
  if (exitHooksInstalled) return
  exitHooksInstalled = true
  process.on('exit', cleanupSync)
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      cleanupSync()
      // If nobody else (e.g. mocha) handles the signal, keep its default meaning: terminate.
      if (process.listenerCount(signal) <= 1) process.exit(code)
    })
  }
}

// Children also get SIGKILL from the kernel if this process dies without running any hook
// (SIGKILL, crash): util-linux setpriv --pdeathsig, when present.
const SETPRIV = onPath('setpriv')

function spawnLogged(cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a')
  writeSync(fd, `\n==== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`)
  const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args]
  const child = spawn(file, argv, {stdio: ['ignore', fd, fd]})
  closeSync(fd)
  childNames.set(child, path.basename(cmd))
  liveChildren.add(child)
  child.once('exit', () => liveChildren.delete(child))
  child.once('error', () => liveChildren.delete(child))
  return child
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

async function killAndWait(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || exited(child)) return
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await done
  clearTimeout(timer)
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch (error) {
    return `(no log: ${(error as Error).message})`
  }
}

// ---- small network helpers -----------------------------------------------------------------------

async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = []
  try {
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const server = net.createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve())
      })
      ports.push((server.address() as net.AddressInfo).port)
    }
    return ports
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}

interface Probe {
  status: number
  body: string
}

function get(url: string, opts: {token?: string; ca?: string; insecure?: boolean} = {}): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const headers: Record<string, string> = opts.token ? {Authorization: `Bearer ${opts.token}`} : {}
    const req =
      u.protocol === 'https:'
        ? https.get(u, {headers, ca: opts.ca, rejectUnauthorized: !opts.insecure, timeout: 5000})
        : http.get(u, {headers, timeout: 5000})
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)))
    req.on('error', reject)
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns true; fails early if one of `watch` exits, or at the deadline. */
async function waitFor(what: string, deadline: number, watch: ChildProcess[], check: () => Promise<boolean>): Promise<void> {
  let last = ''
  for (;;) {
    for (const child of watch) {
      if (exited(child)) {
        const name = childNames.get(child) ?? child.spawnfile
        throw new Error(`${what}: ${name} (pid ${child.pid}) exited early (code ${child.exitCode}, signal ${child.signalCode})`)
      }
    }
    try {
      if (await check()) return
    } catch (error) {
      last = (error as Error).message
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${READY_TIMEOUT_MS / 1000}s${last ? ` (last error: ${last})` : ''}`)
    await sleep(200)
  }
}

// ---- the cluster ---------------------------------------------------------------------------------

class LocalCluster implements Cluster {
  readonly kubeconfig: string
  readonly server: string
  readonly token: string
  readonly caFile: string
  readonly dir: string
  private etcd?: ChildProcess
  private apiserver?: ChildProcess
  private stopped = false
  private readonly etcdLog: string
  private readonly apiLog: string
  private readonly certDir: string
  private readonly kubectlPath: string
  private readonly apiArgs: string[]

  constructor(
    dir: string,
    private readonly ports: {client: number; peer: number; secure: number},
  ) {
    this.dir = dir
    this.token = randomBytes(24).toString('hex')
    this.server = `https://127.0.0.1:${ports.secure}`
    this.certDir = path.join(dir, 'certs')
    this.caFile = path.join(this.certDir, 'apiserver.crt')
    this.kubeconfig = path.join(dir, 'kubeconfig')
    this.etcdLog = path.join(dir, 'etcd.log')
    this.apiLog = path.join(dir, 'kube-apiserver.log')
    this.kubectlPath = kubectlBinary() ?? 'kubectl'
    mkdirSync(this.certDir, {recursive: true})

    const tokens = path.join(dir, 'tokens.csv')
    writeFileSync(tokens, `${this.token},admin,1,"system:masters"\n`, {mode: 0o600})
    // Same as `openssl genrsa 2048` (PKCS#1 PEM), without needing the openssl binary.
    const saKey = path.join(dir, 'sa.key')
    const {privateKey} = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: {type: 'spki', format: 'pem'},
      privateKeyEncoding: {type: 'pkcs1', format: 'pem'},
    })
    writeFileSync(saKey, privateKey, {mode: 0o600})

    this.apiArgs = [
      `--etcd-servers=http://127.0.0.1:${ports.client}`,
      '--bind-address=127.0.0.1',
      // Loopback advertise address: independent of the host's interfaces (works with no network).
      // Endpoints may not be loopback, so the "kubernetes" service's endpoint reconciler is off
      // (it would log an error every 10 s; nothing here routes to that service anyway).
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      `--secure-port=${ports.secure}`,
      `--cert-dir=${this.certDir}`,
      `--token-auth-file=${tokens}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      '--profiling=false',
      '--v=1',
    ]

    writeFileSync(
      this.kubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: envsync-test
  cluster:
    server: ${this.server}
    certificate-authority: ${this.caFile}
users:
- name: envsync-test-admin
  user:
    token: ${this.token}
contexts:
- name: envsync-test
  context:
    cluster: envsync-test
    user: envsync-test-admin
    namespace: default
current-context: envsync-test
preferences: {}
`,
      {mode: 0o600},
    )
  }

  private logsTail(): string {
    return (
      `--- tail of ${this.apiLog} ---\n${tail(this.apiLog, 40)}\n` +
      `--- tail of ${this.etcdLog} ---\n${tail(this.etcdLog, 15)}`
    )
  }

  async startEtcd(): Promise<void> {
    const {client, peer} = this.ports
    const etcd = etcdBinary()
    if (!etcd) throw new Error('etcd not on PATH')
    this.etcd = spawnLogged(
      etcd,
      [
        '--name=envsync-test',
        `--data-dir=${path.join(this.dir, 'etcd-data')}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=envsync-test=http://127.0.0.1:${peer}`,
        '--initial-cluster-state=new',
        '--logger=zap',
        '--log-outputs=stderr',
      ],
      this.etcdLog,
    )
    try {
      await waitFor('etcd', Date.now() + READY_TIMEOUT_MS, [this.etcd], async () => {
        const r = await get(`http://127.0.0.1:${client}/health`)
        return r.status === 200 && r.body.includes('true')
      })
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- tail of ${this.etcdLog} ---\n${tail(this.etcdLog, 40)}`)
    }
  }

  async startApiServer(): Promise<void> {
    if (this.stopped) throw new Error('cluster was stopped')
    if (this.apiserver && !exited(this.apiserver)) throw new Error('kube-apiserver is already running')
    if (!this.etcd || exited(this.etcd)) throw new Error('etcd is not running')
    try {
      this.apiserver = spawnLogged(apiServerBinary(), this.apiArgs, this.apiLog)
      const deadline = Date.now() + READY_TIMEOUT_MS
      const watch = [this.apiserver, this.etcd]
      // The probe may skip verification (the certificate appears only once the server runs)...
      await waitFor('kube-apiserver /readyz', deadline, watch, async () => {
        const r = await get(`${this.server}/readyz`, {token: this.token, insecure: true})
        return r.status === 200
      })
      // ...but from here on, everything verifies against the kubeconfig's CA.
      const ca = readFileSync(this.caFile, 'utf8')
      await waitFor('namespace default', deadline, watch, async () => {
        const r = await get(`${this.server}/api/v1/namespaces/default`, {token: this.token, ca})
        return r.status === 200
      })
    } catch (error) {
      await killAndWait(this.apiserver)
      throw new Error(`${(error as Error).message}\n${this.logsTail()}`)
    }
  }

  async stopApiServer(): Promise<void> {
    await killAndWait(this.apiserver)
    this.apiserver = undefined
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await killAndWait(this.apiserver)
    await killAndWait(this.etcd)
    rmSync(this.dir, {recursive: true, force: true})
    liveDirs.delete(this.dir)
  }

  kubectl(args: string[], input?: string): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.kubectlPath, [`--kubeconfig=${this.kubeconfig}`, `--cache-dir=${path.join(this.dir, 'kube-cache')}`, ...args], {
        env: {...process.env, KUBECONFIG: this.kubeconfig},
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code, signal) => resolve({stdout, stderr, code: code ?? (signal ? 128 : 1)}))
      child.stdin.on('error', () => {
        /* kubectl may exit before reading stdin */
      })
      child.stdin.end(input ?? '')
    })
  }
}

const DIR_PREFIX = 'envsync-k8s-cluster-'

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes temp dirs left by runs that were SIGKILLed (their etcd and kube-apiserver died with them
 * through --pdeathsig, but no hook could remove the dir). Only dirs whose owner process is gone.
 */
function sweepStaleDirs(): void {
  let entries: string[]
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX))
  } catch {
    return
  }
  for (const name of entries) {
    const dir = path.join(tmpdir(), name)
    try {
      const owner = Number(readFileSync(path.join(dir, 'owner.pid'), 'utf8'))
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !pidAlive(owner)) rmSync(dir, {recursive: true, force: true})
    } catch {
      /* not ours, or being created right now */
    }
  }
}

/** Starts a fresh etcd + kube-apiserver on free loopback ports. Call stop() when done. */
export async function startCluster(): Promise<Cluster> {
  const available = k8sAvailable()
  if (!available.ok) throw new Error(available.reason)
  installExitHooks()
  sweepStaleDirs()
  const dir = mkdtempSync(path.join(tmpdir(), DIR_PREFIX))
  liveDirs.add(dir)
  writeFileSync(path.join(dir, 'owner.pid'), String(process.pid))
  const [client, peer, secure] = await freePorts(3)
  const cluster = new LocalCluster(dir, {client, peer, secure})
  try {
    await cluster.startEtcd()
    await cluster.startApiServer()
  } catch (error) {
    await cluster.stop()
    throw new Error(`could not start the test Kubernetes cluster: ${(error as Error).message}`)
  }
  return cluster
}

// ---- one shared cluster per mocha run --------------------------------------------------------------

let shared: Promise<Cluster> | undefined

/** The run's shared cluster, started on first use. Do not stop() it or its API server in tests. */
export function sharedCluster(): Promise<Cluster> {
  if (!shared) {
    shared = startCluster()
    shared.catch(() => (shared = undefined))
  }
  return shared
}

export async function stopSharedCluster(): Promise<void> {
  const current = shared
  shared = undefined
  if (current) await (await current.catch(() => undefined))?.stop()
}

// Root-level hook (this module is first imported while mocha loads spec files): stop the shared
// cluster once the whole run is over. The exit hook covers every other way out.
if (typeof after === 'function') {
  after(async function () {
    this.timeout(30_000)
    await stopSharedCluster()
  })
}

export interface K8sSuite {
  /** The shared cluster; available inside hooks and tests (not while the suite is being declared). */
  readonly cluster: Cluster
}

/**
 * describe() for tests that need the real API server. When the tier is unavailable: under CI
 * (process.env.CI set) the suite FAILS with the reason; elsewhere it is skipped with a warning.
 */
export function describeK8s(title: string, fn: (k8s: K8sSuite, suite: Mocha.Suite) => void): Mocha.Suite | void {
  const available = k8sAvailable()
  if (!available.ok) {
    if (process.env.CI) {
      return describe(title, () => {
        it('needs the Kubernetes test tier (CI must not skip it)', () => {
          throw new Error(`${available.reason}\n(CI is set, so this fails instead of skipping; run \`${BUILD_COMMAND}\` before the tests)`)
        })
      })
    }
    console.warn(`\n[envsync k8s] SKIPPING "${title}": ${available.reason}\n`)
    recordNotRun(`Kubernetes tier: ${title}`, `${available.reason} (run \`${BUILD_COMMAND}\`)`)
    return describe.skip(title, function () {
      fn({get cluster(): Cluster {
        throw new Error('Kubernetes tier unavailable')
      }}, this)
    })
  }
  let cluster: Cluster | undefined
  const k8s: K8sSuite = {
    get cluster(): Cluster {
      if (!cluster) throw new Error('the shared cluster is only available inside hooks and tests of a describeK8s suite')
      return cluster
    },
  }
  return describe(title, function () {
    before(async function () {
      this.timeout(READY_TIMEOUT_MS * 2 + 10_000)
      cluster = await sharedCluster()
    })
    fn(k8s, this)
  })
}
