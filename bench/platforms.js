// All four targets in one push: 1,000 secrets × 3 services to Railway and Render (local fakes
// with 25 ms of latency on every request), Docker (files) and Kubernetes (the real test
// apiserver, loopback, no added latency). Prints requests and wall time per target and the
// ratio to pushing key by key, as hand-written scripts do (one variableUpsert / one PUT per key
// and destination). Key by key is run for real on a slice and extrapolated: at 25 ms per
// request and Render's 30 writes per minute, the full run would take hours.
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {open, rename} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const {start: startRailway} = await import('../test/fakes/railway.ts')
const {startRenderFake, DEFAULT_API_KEY} = await import('../test/fakes/render.ts')
const {latency} = await import('../test/fakes/faults.ts')
const {k8sAvailable, startCluster} = await import('../test/k8s/harness.ts')
const {mapLimit} = await import('../src/pool.ts')

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const KEYS = 1000
const SERVICES = ['api', 'worker', 'cron']
const LATENCY = 25
const SLICE = 20

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

const railway = await startRailway()
// Render's real budget is 30 writes a minute: the bulk push stays far under it.
const render = await startRenderFake()
const token = railway.accountToken()
railway.faults.always(latency(LATENCY))
render.faults.always(latency(LATENCY))
const k8s = k8sAvailable().ok ? await startCluster() : undefined

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const dirs = []
try {
  const values = []
  for (let i = 0; i < KEYS; i++) values.push(`SECRET_${String(i).padStart(4, '0')}=${randomBytes(32).toString('base64')}`)
  /** A fresh world per round — new Railway project, Render services, namespace, directory — so every round is a first push. */
  const world = (round, dockerDir) => {
    const project = railway.addProject({name: `bench${round}`, environments: ['production'], services: SERVICES})
    for (const s of SERVICES) render.addService({id: `srv-bench${round}${s}`, name: `bench${round}-${s}`})
    const targets = [
      dockerDir ? `docker: {dir: ${dockerDir}}` : 'docker: {}',
      `railway: {project: bench${round}, services: {${SERVICES.map((s) => `${s}: ${s}`).join(', ')}}}`,
      `render: {services: {${SERVICES.map((s) => `${s}: srv-bench${round}${s}`).join(', ')}}}`,
      ...(k8s ? [`kubernetes: {namespace: bench-${round}, createNamespace: true}`] : []),
    ]
    const lines = ['version: 1', 'project: bench', `services: {${SERVICES.map((s) => `${s}: {}`).join(', ')}}`, 'environments:', '  production:', '    protected: false', `    targets: {${targets.join(', ')}}`, 'secrets:']
    for (let i = 0; i < KEYS; i++) lines.push(`  SECRET_${String(i).padStart(4, '0')}: {services: [${SERVICES.join(', ')}], generate: 'base64:32'}`)
    const dir = mkdtempSync(path.join(tmpdir(), 'envsync-bench-platforms-'))
    dirs.push(dir)
    writeFileSync(path.join(dir, 'envsync.yaml'), lines.join('\n') + '\n')
    writeFileSync(path.join(dir, '.env.production'), values.join('\n') + '\n', {mode: 0o600})
    return {project, dir, targets}
  }
  const env = {...process.env, RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY, KUBECONFIG: k8s?.kubeconfig ?? '/nonexistent'}
  // Asynchronous: the fakes live in this process and must keep answering while envsync runs.
  const run = async (dir, args) => {
    try {
      return JSON.parse((await promisify(execFile)(process.execPath, [BIN, ...args, '--json'], {cwd: dir, env, maxBuffer: 256 << 20})).stdout)
    } catch (error) {
      // exit 1 still prints the envelope: show what failed, never the values (there are none in it)
      const envelope = error.stdout ? JSON.parse(error.stdout) : undefined
      throw new Error(`envsync ${args.join(' ')} failed: ${JSON.stringify(envelope?.error ?? envelope?.result?.report?.destinations?.filter((d) => d.error))}`)
    }
  }

  // Docker's part is a thousand fsynced files, so the disk sets a floor: measured in each round
  // next to the push (this VM's disk swings 5× within minutes), plus a push whose Docker
  // directory is on tmpfs, which shows envsync's own time with the disk taken out.
  const floor = async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'envsync-bench-floor-'))
    dirs.push(d)
    const t = process.hrtime.bigint()
    await mapLimit(values, 16, async (line, i) => {
      const h = await open(path.join(d, `.${i}.tmp`), 'wx', 0o600)
      await h.writeFile(line.slice(line.indexOf('=') + 1))
      await h.sync()
      await h.close()
      await rename(path.join(d, `.${i}.tmp`), path.join(d, `SECRET_${i}`))
    })
    return Number(process.hrtime.bigint() - t) / 1e6
  }
  const tmpfs = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/envsync-bench-') : undefined
  if (tmpfs) dirs.push(tmpfs)
  const walls = []
  const floors = []
  const tmpfsWalls = []
  const diffWalls = []
  let requests
  let w
  let round = 0
  for (let r = 0; r < ROUNDS; r++) {
    w = world(round++)
    railway.clearLog()
    render.clearLog()
    const t0 = process.hrtime.bigint()
    const out = await run(w.dir, ['push', 'production', '--yes'])
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6)
    const report = out.result.report
    if (report.failed > 0) throw new Error(`push failed: ${JSON.stringify(report.destinations.filter((d) => d.error))}`)
    requests = {railway: railway.requests.length, render: render.log().length, total: report.requests}
    floors.push(await floor())
    const t1 = process.hrtime.bigint()
    const diff = await run(w.dir, ['diff', 'production'])
    diffWalls.push(Number(process.hrtime.bigint() - t1) / 1e6)
    requests.diff = diff.result.requests
    if (diff.result.changes !== 0) throw new Error(`diff after push shows ${diff.result.changes} changes`)
    if (tmpfs) {
      const t = world(round++, path.join(tmpfs, String(r)))
      const t2 = process.hrtime.bigint()
      await run(t.dir, ['push', 'production', '--yes'])
      tmpfsWalls.push(Number(process.hrtime.bigint() - t2) / 1e6)
    }
  }
  const wall = median(walls)
  const project = w.project
  const railwayRequests = requests.railway
  const renderRequests = requests.render
  const targets = w.targets

  // Key by key, as scripts do, on a slice: one request per key and destination, in sequence.
  const kbk = async (label, send) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < SLICE; i++) for (const s of SERVICES) await send(s, `SLICE_${i}`, randomBytes(16).toString('hex'))
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    return {label, perRequest: ms / (SLICE * SERVICES.length)}
  }
  const ids = project.services
  const last = ROUNDS - 1
  const railwayKbk = await kbk('railway variableUpsert per key', (s, key, value) =>
    fetch(railway.url, {method: 'POST', headers: {'content-type': 'application/json', authorization: `Bearer ${token}`}, body: JSON.stringify({query: 'mutation($input: VariableUpsertInput!) { variableUpsert(input: $input) }', variables: {input: {projectId: project.id, environmentId: project.environments.production, serviceId: ids[s], name: key, value, skipDeploys: true}}})}).then((r) => r.text()),
  )
  render.setLimits({write: 1e9})
  const renderKbk = await kbk('render PUT per key', (s, key, value) =>
    fetch(`${render.url}/services/srv-bench${last}${s}/env-vars/${key}`, {method: 'PUT', headers: {'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${DEFAULT_API_KEY}`}, body: JSON.stringify({value})}).then((r) => r.text()),
  )

  const scriptRequests = KEYS * SERVICES.length * 2 // railway + render, one write per key and service
  const scriptMs = KEYS * SERVICES.length * (railwayKbk.perRequest + renderKbk.perRequest)
  const renderBudgetMinutes = (KEYS * SERVICES.length) / 30
  console.log(`platforms benchmark: ${KEYS} secrets × ${SERVICES.length} services to ${targets.length} targets, ${LATENCY} ms latency per Railway/Render request${k8s ? '' : ' (kubernetes tier not built: skipped)'}`)
  const range = (xs) => `(${ROUNDS} rounds: min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`
  console.log(`envsync push, all targets     ${wall.toFixed(0).padStart(7)} ms wall median ${range(walls)}   goal ≤ 1000 ms  ${wall <= 1000 ? 'met' : 'MISSED'}`)
  console.log(`  the disk's floor for Docker's part: ${KEYS} fsynced atomic files, no envsync ${median(floors).toFixed(0)} ms median ${range(floors)}`)
  if (tmpfs) console.log(`  same push, Docker directory on tmpfs ${median(tmpfsWalls).toFixed(0).padStart(7)} ms wall median ${range(tmpfsWalls)}   goal ≤ 1000 ms  ${median(tmpfsWalls) <= 1000 ? 'met' : 'MISSED'}`)
  console.log(`  requests: railway ${railwayRequests}, render ${renderRequests}, total reported by envsync ${requests.total} (docker file operations and kubernetes calls included)`)
  console.log(`envsync diff when in sync     ${median(diffWalls).toFixed(0).padStart(7)} ms wall median ${range(diffWalls)}, ${requests.diff} requests, 0 changes`)
  console.log(`key by key (scripts), measured on ${SLICE * SERVICES.length} writes per platform: railway ${railwayKbk.perRequest.toFixed(1)} ms/request, render ${renderKbk.perRequest.toFixed(1)} ms/request`)
  console.log(`  extrapolated to ${KEYS} × ${SERVICES.length}: ${scriptRequests} requests, ${(scriptMs / 1000).toFixed(0)} s sequential — and Render's 30 writes/min alone makes its half take ${renderBudgetMinutes.toFixed(0)} min`)
  console.log(`ratio envsync / key by key:   requests ${((railwayRequests + renderRequests) / scriptRequests).toFixed(4)}  wall ${(wall / scriptMs).toFixed(4)} (before Render's rate limit)`)
} finally {
  for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
  await railway.stop()
  await render.stop()
  await k8s?.stop()
}
