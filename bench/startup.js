// Cold-start figures: `envsync --help`, `envsync check` of 20 and of 5,000 secrets, each as the
// median wall and CPU time of interleaved runs and as a ratio to bare `node -e 0`, same run.
// Goals (issue 13): help ≤ 1.8× node; check of 20 secrets ≤ 2.5×; check of 5,000 ≤ 300 ms.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const USAGE = fileURLToPath(new URL('./usage.js', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 21)

/**
 * Runs the commands in interleaved rounds (a, b, c, a, b, c, …) and returns each one's median:
 * noise from a busy machine then falls on all of them alike, and the ratios stay fair.
 */
function medians(commands) {
  const times = commands.map(() => [])
  const cpu = commands.map(() => [])
  const usage = path.join(tmpdir(), `envsync-bench-usage-${process.pid}`)
  for (let round = 0; round <= RUNS; round++) {
    commands.forEach(({args, cwd}, i) => {
      rmSync(usage, {force: true})
      const start = process.hrtime.bigint()
      // A failing run throws and stops the benchmark: figures of a broken command mean nothing.
      // Every command, the baseline too, carries the same preload that reports its CPU time.
      execFileSync(process.execPath, ['--import', USAGE, ...args], {stdio: 'ignore', cwd, env: {...process.env, BENCH_USAGE_FILE: usage}})
      if (round === 0) return // round 0 warms caches
      times[i].push(Number(process.hrtime.bigint() - start) / 1e6)
      cpu[i].push(JSON.parse(readFileSync(usage, 'utf8')).cpuMs)
    })
  }
  rmSync(usage, {force: true})
  const median = (t) => t.sort((a, b) => a - b)[t.length >> 1]
  return times.map((t, i) => ({wall: median(t), cpu: median(cpu[i])}))
}

function bigProject(n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envsync-bench-'))
  const lines = ['version: 1', 'project: bench', 'services:', '  api: {}', '  worker: {}', '  web: {public: true}', 'environments:', '  development: {}', '  production: {}', 'secrets:']
  const values = []
  const recipes = ['base64:32', 'hex:32', 'alnum:40', 'password:24']
  for (let i = 0; i < n; i++) {
    const key = `SECRET_${String(i).padStart(5, '0')}`
    if (i % 10 === 9) {
      lines.push(`  ${key}: {services: [web], sensitive: false, format: url}`)
      values.push(`${key}=https://svc${i}.acme-internal.net`)
    } else {
      lines.push(`  ${key}: {services: [api, worker], generate: '${recipes[i % 4]}', rotate: 90d}`)
      values.push(`${key}=${randomBytes(32).toString('base64')}`)
    }
  }
  writeFileSync(path.join(dir, 'envsync.yaml'), lines.join('\n') + '\n')
  writeFileSync(path.join(dir, '.env.production'), values.join('\n') + '\n', {mode: 0o600})
  return dir
}

const small = bigProject(20)
const dir = bigProject(5000)
let node, help, check20, check, audited
try {
  // Clean projects (exit 0): every rule runs on every key, none short-circuits on a finding.
  ;[node, help, check20, check] = medians([{args: ['-e', '0']}, {args: [BIN, '--help']}, {args: [BIN, 'check', 'production'], cwd: small}, {args: [BIN, 'check', 'production'], cwd: dir}])
  audited = JSON.parse(execFileSync(process.execPath, [BIN, 'check', 'production', '--json'], {cwd: dir, maxBuffer: 256 << 20})).result.checked
} finally {
  rmSync(dir, {recursive: true, force: true})
  rmSync(small, {recursive: true, force: true})
}

const row = (name, f, extra) => console.log(`${name.padEnd(30)} ${f.wall.toFixed(1).padStart(8)} ms wall ${f.cpu.toFixed(1).padStart(8)} ms CPU  ${extra}`)
const verdict = (ok) => (ok ? 'met' : 'MISSED')
console.log(`startup benchmark: median of ${RUNS} interleaved runs, node ${process.version}`)
row('node -e 0', node, '1.00× (baseline)')
row('envsync --help', help, `${(help.wall / node.wall).toFixed(2)}× node   goal ≤ 1.80×  ${verdict(help.wall / node.wall <= 1.8)}`)
row('envsync check (20 secrets)', check20, `${(check20.wall / node.wall).toFixed(2)}× node   goal ≤ 2.50×  ${verdict(check20.wall / node.wall <= 2.5)}`)
row(`envsync check (${audited} secrets)`, check, `${(check.wall / node.wall).toFixed(2)}× node   goal ≤ 300 ms  ${verdict(check.wall <= 300)}`)
