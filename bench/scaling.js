// How each command grows with the number of secrets: check, diff and push (first and in sync) and
// export of a Docker project at 100, 1,000, 5,000 and 20,000 secrets × 2 services. Prints wall and
// CPU time (medians of interleaved runs), time per secret and peak memory, and flags SUPERLINEAR
// growth loudly: the marginal cost per secret from 5,000 to 20,000 more than 1.5× that from
// 1,000 to 5,000 (a fixed start-up cost makes the per-secret figure fall, never rise, when linear).
// BENCH_SIZES=100,1000 and BENCH_RUNS=3 narrow it.
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const USAGE = fileURLToPath(new URL('./usage.js', import.meta.url))
const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000,20000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

function project(n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envsync-bench-scaling-'))
  const lines = ['version: 1', 'project: bench', 'services: {api: {}, worker: {}}', 'environments:', '  production:', '    protected: false', '    targets: {docker: {}}', 'secrets:']
  const values = []
  for (let i = 0; i < n; i++) {
    const key = `SECRET_${String(i).padStart(5, '0')}`
    lines.push(i % 5 === 4 ? `  ${key}: {services: [api, worker], sensitive: false}` : `  ${key}: {services: [api, worker], generate: 'base64:32'}`)
    values.push(`${key}=${i % 5 === 4 ? `value-${i}` : randomBytes(32).toString('base64')}`)
  }
  writeFileSync(path.join(dir, 'envsync.yaml'), lines.join('\n') + '\n')
  writeFileSync(path.join(dir, '.env.production'), values.join('\n') + '\n', {mode: 0o600})
  return dir
}

/** One run of a command: wall, CPU and peak memory of the envsync process. */
function run(args, cwd) {
  const usage = path.join(cwd, '.usage')
  rmSync(usage, {force: true})
  const start = process.hrtime.bigint()
  // A failing run throws and stops the benchmark: figures of a broken command mean nothing.
  execFileSync(process.execPath, ['--import', USAGE, BIN, ...args], {cwd, stdio: 'ignore', env: {...process.env, BENCH_USAGE_FILE: usage, NO_COLOR: '1'}})
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  return {wall, ...JSON.parse(readFileSync(usage, 'utf8'))}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const COMMANDS = [
  {name: 'check', args: ['check', 'production']},
  {name: 'diff (first)', args: ['diff', 'production'], fresh: true},
  {name: 'push (first)', args: ['push', 'production', '--yes'], fresh: true},
  {name: 'diff (in sync)', args: ['diff', 'production']},
  {name: 'push (in sync)', args: ['push', 'production', '--yes']},
  {name: 'export', args: ['export', 'production', '--format', 'dotenv']},
]

const figures = new Map(COMMANDS.map((c) => [c.name, new Map()]))
const dirs = []
try {
  for (const n of SIZES) {
    const synced = project(n)
    dirs.push(synced)
    run(['push', 'production', '--yes'], synced)
    const samples = new Map(COMMANDS.map((c) => [c.name, []]))
    for (let round = 0; round < RUNS; round++) {
      // Interleaved: a busy moment falls on every command alike.
      for (const c of COMMANDS) {
        const cwd = c.fresh ? project(n) : synced
        if (c.fresh) dirs.push(cwd)
        samples.get(c.name).push(run(c.args, cwd))
        if (c.fresh) rmSync(cwd, {recursive: true, force: true})
      }
    }
    for (const [name, runs] of samples) figures.get(name).set(n, {wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpuMs)), rss: Math.max(...runs.map((r) => r.maxRssMb))})
  }
} finally {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
}

console.log(`scaling benchmark: Docker project, N secrets × 2 services, median of ${RUNS} interleaved runs, node ${process.version}`)
console.log(`${'command'.padEnd(16)} ${'N'.padStart(6)} ${'wall ms'.padStart(9)} ${'CPU ms'.padStart(9)} ${'µs/secret'.padStart(10)} ${'peak MB'.padStart(8)}`)
let superlinear = 0
for (const [name, bySize] of figures) {
  for (const [n, f] of bySize) console.log(`${name.padEnd(16)} ${String(n).padStart(6)} ${f.wall.toFixed(0).padStart(9)} ${f.cpu.toFixed(0).padStart(9)} ${((f.wall / n) * 1000).toFixed(1).padStart(10)} ${f.rss.toFixed(0).padStart(8)}`)
  const at = (n) => bySize.get(n)?.wall
  if ([1000, 5000, 20000].every((n) => at(n) !== undefined)) {
    const low = (at(5000) - at(1000)) / 4000
    const high = (at(20000) - at(5000)) / 15000
    const ratio = high / low
    const verdict = ratio > 1.5 ? `SUPERLINEAR: ${ratio.toFixed(2)}× the cost per added secret from 5,000 to 20,000 as from 1,000 to 5,000` : `linear (${ratio.toFixed(2)}× per added secret, 5k→20k vs 1k→5k)`
    if (ratio > 1.5) superlinear++
    console.log(`${''.padEnd(16)} ${verdict}`)
  }
}
const push = figures.get('push (first)').get(20000)
if (push) console.log(`peak memory of a 20,000-secret push: ${push.rss.toFixed(0)} MB   goal ≤ 200 MB  ${push.rss <= 200 ? 'met' : 'MISSED'}`)
const diff = figures.get('diff (in sync)').get(20000)
if (diff) console.log(`20,000-secret in-sync Docker diff: ${diff.wall.toFixed(0)} ms   goal ≤ 1,500 ms  ${diff.wall <= 1500 ? 'met' : 'MISSED'}`)
if (superlinear > 0) console.log(`!!! ${superlinear} command(s) grow SUPERLINEARLY`)
