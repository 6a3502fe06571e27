// All four targets in one push: 1,000 secrets × 3 services to Railway and Render (local fakes
// with 25 ms of latency on every request), Docker (files) and Kubernetes (the real test
// apiserver, loopback, no added latency). Prints requests and wall time per target and the
// ratio to pushing key by key, as hand-written scripts do (one variableUpsert / one PUT per key
// and destination). Key by key is run for real on a slice and extrapolated: at 25 ms per
// request and Render's 30 writes per minute, the full run would take hours.
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const {start: startRailway} = await import('../test/fakes/railway.ts')
const {startRenderFake, DEFAULT_API_KEY} = await import('../test/fakes/render.ts')
const {latency} = await import('../test/fakes/faults.ts')
const {k8sAvailable, startCluster} = await import('../test/k8s/harness.ts')

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const KEYS = 1000
const SERVICES = ['api', 'worker', 'cron']
const LATENCY = 25
const SLICE = 20

const railway = await startRailway()
// Render's real budget is 30 writes a minute: the bulk push stays far under it.
const render = await startRenderFake()
const project = railway.addProject({name: 'bench', environments: ['production'], services: SERVICES})
const token = railway.accountToken()
for (const s of SERVICES) render.addService({id: `srv-bench${s}`, name: `bench-${s}`})
railway.faults.always(latency(LATENCY))
render.faults.always(latency(LATENCY))

const k8s = k8sAvailable().ok ? await startCluster() : undefined
const dir = mkdtempSync(path.join(tmpdir(), 'envsync-bench-platforms-'))
try {
  const targets = [
    'docker: {}',
    `railway: {project: bench, services: {${SERVICES.map((s) => `${s}: ${s}`).join(', ')}}}`,
    `render: {services: {${SERVICES.map((s) => `${s}: srv-bench${s}`).join(', ')}}}`,
    ...(k8s ? ['kubernetes: {namespace: bench, createNamespace: true}'] : []),
  ]
  const lines = ['version: 1', 'project: bench', `services: {${SERVICES.map((s) => `${s}: {}`).join(', ')}}`, 'environments:', '  production:', '    protected: false', `    targets: {${targets.join(', ')}}`, 'secrets:']
  const values = []
  for (let i = 0; i < KEYS; i++) {
    const key = `SECRET_${String(i).padStart(4, '0')}`
    lines.push(`  ${key}: {services: [${SERVICES.join(', ')}], generate: 'base64:32'}`)
    values.push(`${key}=${randomBytes(32).toString('base64')}`)
  }
  writeFileSync(path.join(dir, 'envsync.yaml'), lines.join('\n') + '\n')
  writeFileSync(path.join(dir, '.env.production'), values.join('\n') + '\n', {mode: 0o600})
  const env = {...process.env, RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY, KUBECONFIG: k8s?.kubeconfig ?? '/nonexistent'}

  railway.clearLog()
  render.clearLog()
  const t0 = process.hrtime.bigint()
  // Asynchronous: the fakes live in this process and must keep answering while envsync runs.
  const run = async (args) => {
    try {
      return JSON.parse((await promisify(execFile)(process.execPath, [BIN, ...args, '--json'], {cwd: dir, env, maxBuffer: 256 << 20})).stdout)
    } catch (error) {
      // exit 1 still prints the envelope: show what failed, never the values (there are none in it)
      const envelope = error.stdout ? JSON.parse(error.stdout) : undefined
      throw new Error(`envsync ${args.join(' ')} failed: ${JSON.stringify(envelope?.error ?? envelope?.result?.report?.destinations?.filter((d) => d.error))}`)
    }
  }
  const out = await run(['push', 'production', '--yes'])
  const wall = Number(process.hrtime.bigint() - t0) / 1e6
  const report = out.result.report
  if (report.failed > 0) throw new Error(`push failed: ${JSON.stringify(report.destinations.filter((d) => d.error))}`)
  const railwayRequests = railway.requests.length
  const renderRequests = render.log().length
  const t1 = process.hrtime.bigint()
  const diff = await run(['diff', 'production'])
  const diffWall = Number(process.hrtime.bigint() - t1) / 1e6

  // Key by key, as scripts do, on a slice: one request per key and destination, in sequence.
  const kbk = async (label, send) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < SLICE; i++) for (const s of SERVICES) await send(s, `SLICE_${i}`, randomBytes(16).toString('hex'))
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    return {label, perRequest: ms / (SLICE * SERVICES.length)}
  }
  const ids = project.services
  const railwayKbk = await kbk('railway variableUpsert per key', (s, key, value) =>
    fetch(railway.url, {method: 'POST', headers: {'content-type': 'application/json', authorization: `Bearer ${token}`}, body: JSON.stringify({query: 'mutation($input: VariableUpsertInput!) { variableUpsert(input: $input) }', variables: {input: {projectId: project.id, environmentId: project.environments.production, serviceId: ids[s], name: key, value, skipDeploys: true}}})}).then((r) => r.text()),
  )
  render.setLimits({write: 1e9})
  const renderKbk = await kbk('render PUT per key', (s, key, value) =>
    fetch(`${render.url}/services/srv-bench${s}/env-vars/${key}`, {method: 'PUT', headers: {'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${DEFAULT_API_KEY}`}, body: JSON.stringify({value})}).then((r) => r.text()),
  )

  const scriptRequests = KEYS * SERVICES.length * 2 // railway + render, one write per key and service
  const scriptMs = KEYS * SERVICES.length * (railwayKbk.perRequest + renderKbk.perRequest)
  const renderBudgetMinutes = (KEYS * SERVICES.length) / 30
  console.log(`platforms benchmark: ${KEYS} secrets × ${SERVICES.length} services to ${targets.length} targets, ${LATENCY} ms latency per Railway/Render request${k8s ? '' : ' (kubernetes tier not built: skipped)'}`)
  console.log(`envsync push, all targets     ${wall.toFixed(0).padStart(7)} ms wall   goal ≤ 1000 ms  ${wall <= 1000 ? 'met' : 'MISSED'}`)
  console.log(`  requests: railway ${railwayRequests}, render ${renderRequests}, total reported by envsync ${report.requests} (docker file operations and kubernetes calls included)`)
  console.log(`envsync diff when in sync     ${diffWall.toFixed(0).padStart(7)} ms wall, ${diff.result.requests} requests, ${diff.result.changes} changes`)
  console.log(`key by key (scripts), measured on ${SLICE * SERVICES.length} writes per platform: railway ${railwayKbk.perRequest.toFixed(1)} ms/request, render ${renderKbk.perRequest.toFixed(1)} ms/request`)
  console.log(`  extrapolated to ${KEYS} × ${SERVICES.length}: ${scriptRequests} requests, ${(scriptMs / 1000).toFixed(0)} s sequential — and Render's 30 writes/min alone makes its half take ${renderBudgetMinutes.toFixed(0)} min`)
  console.log(`ratio envsync / key by key:   requests ${((railwayRequests + renderRequests) / scriptRequests).toFixed(4)}  wall ${(wall / scriptMs).toFixed(4)} (before Render's rate limit)`)
} finally {
  rmSync(dir, {recursive: true, force: true})
  await railway.stop()
  await render.stop()
  await k8s?.stop()
}
