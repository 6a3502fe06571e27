// Cold-start figures: `envsync --help` and `envsync check` of a 5,000-secret manifest, each as the
// median of repeated runs and as a ratio to bare `node -e 0` on the same machine, same run.
// Goals (issue 2): help ≤ 2.5× node; check of 5,000 secrets ≤ 0.5 s.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 21)

/**
 * Runs the commands in interleaved rounds (a, b, c, a, b, c, …) and returns each one's median:
 * noise from a busy machine then falls on all of them alike, and the ratios stay fair.
 */
function medians(commands) {
  const times = commands.map(() => [])
  for (let round = 0; round <= RUNS; round++) {
    commands.forEach(({args, cwd}, i) => {
      const start = process.hrtime.bigint()
      // A failing run throws and stops the benchmark: figures of a broken command mean nothing.
      execFileSync(process.execPath, args, {stdio: 'ignore', cwd})
      if (round > 0) times[i].push(Number(process.hrtime.bigint() - start) / 1e6) // round 0 warms caches
    })
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1])
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

const dir = bigProject(5000)
let node, help, check, audited
try {
  // A clean project (exit 0): every rule runs on every key, none short-circuits on a finding.
  ;[node, help, check] = medians([{args: ['-e', '0']}, {args: [BIN, '--help']}, {args: [BIN, 'check', 'production'], cwd: dir}])
  audited = JSON.parse(execFileSync(process.execPath, [BIN, 'check', 'production', '--json'], {cwd: dir})).result.checked
} finally {
  rmSync(dir, {recursive: true, force: true})
}

const row = (name, ms, extra) => console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms  ${extra}`)
console.log(`startup benchmark: median of ${RUNS} interleaved runs, node ${process.version}`)
row('node -e 0', node, '1.00× (baseline)')
row('envsync --help', help, `${(help / node).toFixed(2)}× node   goal ≤ 2.50×  ${help / node <= 2.5 ? 'met' : 'MISSED'}`)
row(`envsync check (${audited} secrets)`, check, `${(check / node).toFixed(2)}× node   goal ≤ 500 ms  ${check <= 500 ? 'met' : 'MISSED'}`)
