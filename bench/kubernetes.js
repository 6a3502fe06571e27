// Kubernetes figures on a real kube-apiserver (1.20.2, test/k8s/harness.ts):
// - `envsync push` of 12 Secrets × 100 keys vs `kubectl apply --server-side -f` of the same 12
//   manifests, side by side in one run, each into a fresh namespace per round (median of rounds);
// - requests per destination for an in-sync diff and for a push.
// Run through `npm run bench` (node --import tsx), which can load the TypeScript harness.
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const {k8sAvailable, startCluster} = await import('../test/k8s/harness.ts')

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const ROUNDS = Number(process.env.BENCH_K8S_ROUNDS ?? 5)
const SERVICES = 12
const KEYS = 100

const available = k8sAvailable()
if (!available.ok) {
  console.log(`kubernetes benchmark SKIPPED: ${available.reason}`)
} else {
  const cluster = await startCluster()
  const work = mkdtempSync(path.join(tmpdir(), 'envsync-bench-k8s-'))
  try {
    const env = {...process.env, KUBECONFIG: cluster.kubeconfig, NO_COLOR: '1'}
    const services = Array.from({length: SERVICES}, (_, i) => `svc${String(i).padStart(2, '0')}`)
    const values = new Map()
    const secrets = ['secrets:']
    for (const s of services) {
      for (let k = 0; k < KEYS; k++) {
        const key = `${s.toUpperCase()}_KEY_${String(k).padStart(3, '0')}`
        secrets.push(`  ${key}: {services: [${s}], generate: 'base64:32'}`)
        values.set(key, randomBytes(32).toString('base64'))
      }
    }
    const project = (ns) => {
      const dir = path.join(work, ns)
      mkdirSync(dir)
      const manifest = ['version: 1', 'project: bench', `services: {${services.map((s) => `${s}: {}`).join(', ')}}`, 'environments:', '  staging:', `    targets: {kubernetes: {namespace: ${ns}, createNamespace: true}}`, ...secrets]
      writeFileSync(path.join(dir, 'envsync.yaml'), manifest.join('\n') + '\n')
      writeFileSync(path.join(dir, '.env.staging'), [...values].map(([k, v]) => `${k}=${v}`).join('\n') + '\n', {mode: 0o600})
      return dir
    }
    const kubectlManifests = (ns) => {
      const dir = path.join(work, `${ns}-yaml`)
      mkdirSync(dir)
      for (const s of services) {
        const data = [...values].filter(([k]) => k.startsWith(s.toUpperCase() + '_')).map(([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}`)
        writeFileSync(path.join(dir, `${s}.yaml`), `apiVersion: v1\nkind: Secret\nmetadata:\n  name: bench-${s}\n  namespace: ${ns}\ntype: Opaque\ndata:\n${data.join('\n')}\n`)
      }
      return dir
    }
    const ms = (fn) => {
      const start = process.hrtime.bigint()
      const out = fn()
      return [Number(process.hrtime.bigint() - start) / 1e6, out]
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
    const envsyncTimes = []
    const kubectlTimes = []
    let pushRequests
    let diffRequests
    for (let round = 0; round < ROUNDS; round++) {
      const a = `envsync-${round}`
      const b = `kubectl-${round}`
      const dir = project(a)
      const yamls = kubectlManifests(b)
      execFileSync('kubectl', ['create', 'namespace', b], {env, stdio: 'ignore'})
      const [te, out] = ms(() => execFileSync(process.execPath, [BIN, 'push', 'staging', '--yes', '--json'], {cwd: dir, env, maxBuffer: 64 << 20}))
      const [tk] = ms(() => execFileSync('kubectl', ['apply', '--server-side', '-f', yamls], {env, stdio: 'ignore'}))
      envsyncTimes.push(te)
      kubectlTimes.push(tk)
      pushRequests = JSON.parse(out).result.report.requests
      diffRequests = JSON.parse(execFileSync(process.execPath, [BIN, 'diff', 'staging', '--json'], {cwd: dir, env, maxBuffer: 64 << 20})).result.requests
    }
    const e = median(envsyncTimes)
    const k = median(kubectlTimes)
    console.log(`kubernetes benchmark: ${SERVICES} Secrets × ${KEYS} keys, real kube-apiserver 1.20.2 on loopback, median of ${ROUNDS} rounds`)
    console.log(`envsync push (new namespace)            ${e.toFixed(0).padStart(6)} ms  ${pushRequests} requests (${SERVICES} reads + ${SERVICES} applies + namespace)`)
    console.log(`kubectl apply --server-side -f (12 files) ${k.toFixed(0).padStart(4)} ms`)
    console.log(`ratio envsync / kubectl                 ${(e / k).toFixed(2).padStart(6)}    goal ≤ 1.00  ${e / k <= 1 ? 'met' : 'MISSED'}`)
    console.log(`in-sync diff                            ${(diffRequests / SERVICES).toFixed(1).padStart(6)} requests per destination (${diffRequests} for ${SERVICES})`)
    console.log(`push                                    ${(pushRequests / SERVICES).toFixed(1).padStart(6)} requests per destination`)
  } finally {
    await cluster.stop()
    rmSync(work, {recursive: true, force: true})
  }
}
