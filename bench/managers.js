// Secret managers, both roles, through bin/run.js against the four loopback fakes with 25 ms of
// latency on every request: 1,000 secrets from a local store pushed into each manager (first
// push: creates; second push: in sync, no writes), and `diff` of an environment whose STORE is
// the manager, to a Docker target already in sync. Vault twice: its default layout (one JSON
// secret holding every key) and one secret per key under a prefix.
// Per scenario: requests (the fake's counter), wall ms (median of --runs interleaved runs), CPU ms
// of the envsync process (/usr/bin/time), and wall over the floor requests × 25 ms / 8 (the
// target's concurrency). `node bench/managers.js [--runs N]`; exits 1 when any run failed.
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

// The fakes are TypeScript: register tsx when not already run under it (npm run bench is).
if (!process.execArgv.some((a) => a.includes('tsx'))) (await import('tsx/esm/api')).register()

const {latency} = await import('../test/fakes/faults.ts')
const {startAws} = await import('../test/fakes/aws.ts')
const {startVault} = await import('../test/fakes/vault.ts')
const {startGcp, PROJECT_ID} = await import('../test/fakes/gcp.ts')
const {startAzure} = await import('../test/fakes/azure.ts')

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const KEYS = 1000
const LATENCY = 25
const CONCURRENCY = 8 // ManagerTarget's and the backends' per-destination concurrency
const at = process.argv.indexOf('--runs')
const RUNS = at > 0 ? Number(process.argv[at + 1]) : 3
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

// Page sizes as the real APIs serve them (the tests use tiny ones to exercise paging).
const aws = await startAws({pageSize: 100, batchPageSize: 20})
const vault = await startVault()
const gcp = await startGcp({pageSize: 250})
const azure = await startAzure({pageSize: 25})
const fakes = [aws, vault, gcp, azure]
for (const f of fakes) f.faults.always(latency(LATENCY))

/** Each case: a manager in a layout, its manifest options, the fake and what points the client at it. */
const CASES = [
  {label: 'aws', kind: 'aws', fake: aws, options: {region: aws.region}, env: aws.env},
  {label: 'vault (one JSON secret)', kind: 'vault', fake: vault, options: {address: vault.url}, env: {VAULT_TOKEN: vault.env.VAULT_TOKEN}},
  {label: 'vault (one per key)', kind: 'vault', fake: vault, options: {address: vault.url}, prefix: (p) => `${p}/staging/`, env: {VAULT_TOKEN: vault.env.VAULT_TOKEN}},
  {label: 'gcp', kind: 'gcp', fake: gcp, options: {project: PROJECT_ID}, env: gcp.env},
  {label: 'azure', kind: 'azure', fake: azure, options: {vault: azure.url}, env: azure.env},
]
const SCENARIOS = ['first push', 'in-sync push', 'diff, manager as store']

const keys = Array.from({length: KEYS}, (_, i) => `SECRET_${String(i).padStart(4, '0')}`)
const secretsYaml = ['secrets:', ...keys.map((k) => `  ${k}: {services: [api]}`)]
const dotenv = keys.map((k) => `${k}=${randomBytes(24).toString('base64')}`).join('\n') + '\n'
const work = mkdtempSync(path.join(tmpdir(), 'envsync-bench-managers-'))
const flow = (o) => `{${Object.entries(o).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}}`

/** Two projects sharing a project name: A pushes .env.staging into the manager, B reads it as its store. */
function projects(c, run) {
  const project = `bench${run}${c.label.replace(/[^a-z]/g, '').slice(0, 12)}`
  const options = {...c.options, ...(c.prefix ? {prefix: c.prefix(project)} : {})}
  const head = (dir, env) => {
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'envsync.yaml'), ['version: 1', `project: ${project}`, 'services: {api: {}}', 'environments:', '  staging:', '    protected: false', ...env, ...secretsYaml].join('\n') + '\n')
    return dir
  }
  const a = head(path.join(work, `${project}-target`), [`    targets: {${c.kind}: ${flow(options)}}`])
  writeFileSync(path.join(a, '.env.staging'), dotenv, {mode: 0o600})
  const b = head(path.join(work, `${project}-store`), [`    store: {${c.kind}: ${flow(options)}}`, "    targets: {docker: {}}"])
  return {a, b}
}

/** envsync in `dir`: its JSON result, wall ms, CPU ms (user + system, from /usr/bin/time). */
async function envsync(c, dir, args) {
  const env = {...process.env, ...c.env, NO_COLOR: '1'}
  const cpuFile = path.join(work, 'cpu')
  const [cmd, argv] = TIME ? [TIME, ['-o', cpuFile, '-f', '%U %S', process.execPath, BIN, ...args, '--json']] : [process.execPath, [BIN, ...args, '--json']]
  const t = process.hrtime.bigint()
  let stdout
  try {
    // Asynchronous: the fakes live in this process and must keep answering while envsync runs.
    ;({stdout} = await promisify(execFile)(cmd, argv, {cwd: dir, env, maxBuffer: 256 << 20}))
  } catch (error) {
    const envelope = error.stdout ? JSON.parse(error.stdout) : undefined
    throw new Error(`envsync ${args.join(' ')} (${c.label}) failed: ${JSON.stringify(envelope?.error ?? envelope?.result?.report?.destinations?.filter((d) => d.error) ?? error.message)}`)
  }
  const wall = Number(process.hrtime.bigint() - t) / 1e6
  const cpu = TIME ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).reduce((s, x) => s + Number(x) * 1000, 0) : NaN
  return {out: JSON.parse(stdout).result, wall, cpu}
}

/** Runs one command, counting the fake's requests during it. */
async function measure(c, dir, args, check) {
  const before = c.fake.requests
  const r = await envsync(c, dir, args)
  if (process.env.BENCH_DEBUG) console.error(JSON.stringify(r.out).slice(0, 600))
  check(r.out)
  return {wall: r.wall, cpu: r.cpu, requests: c.fake.requests - before}
}

const results = new Map(CASES.flatMap((c) => SCENARIOS.map((s) => [`${c.label}|${s}`, []])))
const failures = []
const pushed = (out) => {
  if (!out.report && out.applied !== false) throw new Error(`push gave no report: ${JSON.stringify(out).slice(0, 300)}`)
  if (out.report?.failed > 0) throw new Error(`push failed: ${JSON.stringify(out.report.destinations.filter((d) => d.error))}`)
}
try {
  for (let run = 0; run < RUNS; run++) {
    // Interleaved: each run goes through every case, so a slow minute of the VM hits all alike.
    for (const c of CASES) {
      try {
        const {a, b} = projects(c, run)
        const first = await measure(c, a, ['push', 'staging', '--yes'], pushed)
        const again = await measure(c, a, ['push', 'staging', '--yes'], pushed)
        // B's Docker target brought in sync first (not measured), then the diff is.
        await envsync(c, b, ['push', 'staging', '--yes'])
        const diff = await measure(c, b, ['diff', 'staging'], (out) => {
          if (out.changes !== 0) throw new Error(`diff after push shows ${out.changes} changes`)
        })
        results.get(`${c.label}|first push`).push(first)
        results.get(`${c.label}|in-sync push`).push(again)
        results.get(`${c.label}|diff, manager as store`).push(diff)
      } catch (error) {
        failures.push(`run ${run + 1}, ${c.label}: ${error.message}`)
      }
    }
  }
  const violations = fakes.flatMap((f) => f.violations)
  if (violations.length > 0) failures.push(`contract violations in the fakes: ${JSON.stringify(violations.slice(0, 3))}`)

  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1]
  console.log(`secret managers benchmark: ${KEYS} secrets, ${LATENCY} ms latency per request, median of ${RUNS} interleaved runs; floor = requests × ${LATENCY} ms / ${CONCURRENCY}`)
  console.log(`${'manager'.padEnd(24)} ${'scenario'.padEnd(24)} ${'requests'.padStart(8)} ${'wall ms'.padStart(8)} ${'cpu ms'.padStart(7)} ${'floor ms'.padStart(8)} ${'wall/floor'.padStart(10)}`)
  for (const c of CASES) {
    for (const s of SCENARIOS) {
      const rs = results.get(`${c.label}|${s}`)
      if (rs.length === 0) {
        console.log(`${c.label.padEnd(24)} ${s.padEnd(24)} FAILED`)
        continue
      }
      const requests = median(rs.map((r) => r.requests))
      const wall = median(rs.map((r) => r.wall))
      const floor = (requests * LATENCY) / CONCURRENCY
      const spread = rs.length > 1 ? ` (${Math.min(...rs.map((r) => r.wall)).toFixed(0)}–${Math.max(...rs.map((r) => r.wall)).toFixed(0)})` : ''
      console.log(`${c.label.padEnd(24)} ${s.padEnd(24)} ${String(requests).padStart(8)} ${wall.toFixed(0).padStart(8)} ${median(rs.map((r) => r.cpu)).toFixed(0).padStart(7)} ${floor.toFixed(0).padStart(8)} ${(wall / floor).toFixed(2).padStart(10)}${spread}`)
    }
  }
  for (const f of failures) console.log(`FAILED: ${f}`)
} finally {
  rmSync(work, {recursive: true, force: true})
  for (const f of fakes) await f.close()
}
if (failures.length > 0) process.exitCode = 1
