// `envsync scan` on a generated repository of 10,000 files and 5,000 commits (git fast-import):
// the working tree (files/s) and the whole history with --history (commits/s), with values planted
// in files and in blobs deleted later. Each against a peer in the same run on the same needles
// (every form envsync looks for, as fixed strings): `git grep -F -f` for the files, and
// `git log --all -p | grep -F -f` for the history. Wall ms (median of --runs), CPU ms (user +
// system, /usr/bin/time) and the ratio envsync / peer. `node --import tsx bench/scan.js [--runs N]`.
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

if (!process.execArgv.some((a) => a.includes('tsx'))) (await import('tsx/esm/api')).register()
const {needlesOf} = await import('../src/scan/needles.ts')

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const FILES = 10_000
const COMMITS = Number(process.env.BENCH_COMMITS ?? 5000)
const KEYS = 20
const at = process.argv.indexOf('--runs')
const RUNS = at > 0 ? Number(process.argv[at + 1]) : 3
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

const work = mkdtempSync(path.join(tmpdir(), 'envsync-bench-scan-'))
const repo = path.join(work, 'repo')
const keys = Array.from({length: KEYS}, (_, i) => `SECRET_${String(i).padStart(2, '0')}`)
const values = keys.map(() => randomBytes(24).toString('base64url'))

/** A source-like file of ~2 KB: lines of code with identifiers and hex, seeded by its number. */
function source(n, version) {
  const lines = [`// file ${n} version ${version}`]
  for (let i = 0; i < 40; i++) lines.push(`export const v${i} = compute("${randomBytes(8).toString('hex')}", ${n * 40 + i}) // ${version}`)
  return lines.join('\n') + '\n' + (plants.get(n) ?? '')
}

// Planted in three files, in every version of them: a value as is, one base64 inside a blob, one URL-encoded.
const plants = new Map([
  [1234, `const key = "${values[0]}"\n`],
  [4321, `blob = "${Buffer.concat([randomBytes(7), Buffer.from(values[1]), randomBytes(5)]).toString('base64')}"\n`],
  [9876, `url = "https://x.example/?k=${encodeURIComponent(values[2] + '/+')}"\n`],
])

const filePath = (n) => `src/m${String(n % 100).padStart(2, '0')}/f${n}.ts`
const planted = {files: 0, history: 0}

/** The fast-import stream: one commit with every file, then commits changing two files each. */
function stream() {
  const parts = []
  let mark = 0
  const blob = (text) => {
    const data = Buffer.from(text)
    parts.push(Buffer.from(`blob\nmark :${++mark}\ndata ${data.length}\n`), data, Buffer.from('\n'))
    return mark
  }
  const commit = (i, changes) => {
    const msg = `commit ${i}`
    parts.push(Buffer.from(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${1700000000 + i} +0000\ndata ${msg.length}\n${msg}\n`))
    for (const c of changes) parts.push(Buffer.from(c.delete ? `D ${c.path}\n` : `M 100644 :${c.mark} ${c.path}\n`))
    parts.push(Buffer.from('\n'))
  }
  const first = []
  for (let n = 0; n < FILES; n++) {
    first.push({path: filePath(n), mark: blob(source(n, 0))})
  }
  planted.files = plants.size
  commit(0, first)
  for (let i = 1; i < COMMITS; i++) {
    const changes = [0, 1].map((j) => {
      const n = (i * 7 + j * 3331) % FILES
      return {path: filePath(n), mark: blob(source(n, i))}
    })
    // Planted in history: a leaked config added here, deleted ten commits later.
    if (i % 1000 === 500) {
      changes.push({path: `config/leak-${i}.env`, mark: blob(`TOKEN=${values[3 + (i % 7)]}\n`)})
      planted.history++
    }
    if (i % 1000 === 510) changes.push({path: `config/leak-${i - 10}.env`, delete: true})
    commit(i, changes)
  }
  return Buffer.concat(parts)
}

let t = Date.now()
execFileSync('git', ['init', '-q', '-b', 'main', repo])
execFileSync('git', ['fast-import', '--quiet'], {cwd: repo, input: stream(), maxBuffer: 1 << 30})
execFileSync('git', ['checkout', '-q', 'main'], {cwd: repo})
writeFileSync(path.join(repo, '.gitignore'), '.env.*\n')
writeFileSync(path.join(repo, 'envsync.yaml'), ['version: 1', 'project: bench', 'services:', '  api: {}', 'environments:', '  production: {}', 'secrets:', ...keys.map((k) => `  ${k}: {services: [api]}`)].join('\n') + '\n')
writeFileSync(path.join(repo, '.env.production'), keys.map((k, i) => `${k}=${values[i]}`).join('\n') + '\n', {mode: 0o600})
console.log(`generated ${FILES} files, ${COMMITS} commits in ${Date.now() - t} ms (${work})`)

// The peer's needles: the very forms envsync looks for (its edge checks aside), as fixed strings.
const needleFile = path.join(work, 'needles.txt')
writeFileSync(needleFile, [...new Set(needlesOf(values).map((n) => n.bytes.toString('latin1')))].join('\n') + '\n')

/** A command's wall ms and CPU ms (its children included), its stdout. */
function timed(cmd, args, options = {}) {
  const cpuFile = path.join(work, 'cpu.txt')
  const [c, a] = TIME ? [TIME, ['-o', cpuFile, '-f', '%U %S', cmd, ...args]] : [cmd, args]
  const start = process.hrtime.bigint()
  const r = spawnSync(c, a, {cwd: repo, maxBuffer: 1 << 30, ...options})
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  const cpu = TIME ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).reduce((s, x) => s + Number(x) * 1000, 0) : NaN
  return {wall, cpu, status: r.status, stdout: r.stdout.toString('utf8')}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
function runs(fn) {
  const out = Array.from({length: RUNS}, fn)
  return {wall: median(out.map((r) => r.wall)), cpu: median(out.map((r) => r.cpu)), last: out.at(-1)}
}

let failed = false
const files = runs(() => timed(process.execPath, [BIN, 'scan', '--json']))
const filesResult = JSON.parse(files.last.stdout).result
const grep = runs(() => timed('git', ['grep', '-F', '-c', '-f', needleFile]))
const history = runs(() => timed(process.execPath, [BIN, 'scan', '--history', '--json']))
const historyResult = JSON.parse(history.last.stdout).result
const logGrep = runs(() => timed('sh', ['-c', `git log --all -p | grep -F -c -f ${JSON.stringify(needleFile)}`]))

const inHistory = new Set(historyResult.history.filter((h) => h.path.startsWith('config/')).map((h) => h.path)).size
if (filesResult.files.length !== planted.files) (failed = true), console.log(`!! files: found ${filesResult.files.length}, planted ${planted.files}`)
if (inHistory !== planted.history) (failed = true), console.log(`!! history: found ${inHistory} deleted leaks, planted ${planted.history}`)

const f = (n) => Math.round(n).toLocaleString('en-US')
const s = filesResult.scanned
const h = historyResult.scanned
console.log(`working tree: ${f(s.files)} files, ${(s.bytes / 1e6).toFixed(1)} MB, ${values.length} values (${f(needlesOf(values).length)} needles); found ${filesResult.files.length}/${planted.files} planted`)
console.log(`  envsync scan            wall ${f(files.wall)} ms  cpu ${f(files.cpu)} ms  (scan itself ${f(s.ms)} ms: ${f(s.files / (s.ms / 1000))} files/s; whole command ${f(s.files / (files.wall / 1000))} files/s)`)
console.log(`  git grep -F -f          wall ${f(grep.wall)} ms  cpu ${f(grep.cpu)} ms  → envsync/peer wall ${(files.wall / grep.wall).toFixed(2)}×`)
console.log(`history: ${f(h.commits)} commits, ${f(h.blobs)} blobs, ${(h.historyBytes / 1e6).toFixed(1)} MB; found ${inHistory}/${planted.history} deleted leaks`)
console.log(`  envsync scan --history  wall ${f(history.wall)} ms  cpu ${f(history.cpu)} ms  (history ${f(h.historyMs)} ms: ${f(h.commits / (h.historyMs / 1000))} commits/s; whole command ${f(h.commits / (history.wall / 1000))} commits/s)`)
console.log(`  git log -p | grep -F -f wall ${f(logGrep.wall)} ms  cpu ${f(logGrep.cpu)} ms  → envsync/peer wall ${(history.wall / logGrep.wall).toFixed(2)}×`)
if (!failed && !process.env.BENCH_KEEP) rmSync(work, {recursive: true, force: true})
if (failed) process.exitCode = 1
