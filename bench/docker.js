// Docker target figures: push of 1,000 secrets × 3 services (first push, then an in-sync push),
// with file writes counted as requests, and the in-sync diff's cost.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))

function project(n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'envsync-bench-docker-'))
  const lines = ['version: 1', 'project: bench', 'services: {api: {}, worker: {}, cron: {}}', 'environments:', '  production:', '    targets: {docker: {}}', 'secrets:']
  const values = []
  for (let i = 0; i < n; i++) {
    const key = `SECRET_${String(i).padStart(4, '0')}`
    lines.push(`  ${key}: {services: [api, worker, cron], generate: 'base64:32'}`)
    values.push(`${key}=${randomBytes(32).toString('base64')}`)
  }
  writeFileSync(path.join(dir, 'envsync.yaml'), lines.join('\n') + '\n')
  writeFileSync(path.join(dir, '.env.production'), values.join('\n') + '\n', {mode: 0o600})
  return dir
}

function timed(args, cwd) {
  const start = process.hrtime.bigint()
  const out = execFileSync(process.execPath, [BIN, ...args, '--json'], {cwd, maxBuffer: 64 << 20})
  return {ms: Number(process.hrtime.bigint() - start) / 1e6, result: JSON.parse(out).result}
}

const dir = project(1000)
try {
  const first = timed(['push', 'production', '--yes'], dir)
  const again = timed(['push', 'production', '--yes'], dir)
  const diff = timed(['diff', 'production'], dir)
  const files = readdirSync(path.join(dir, 'secrets', 'production')).length
  console.log('docker benchmark: 1,000 secrets × 3 services (one secrets directory, one compose override)')
  console.log(`first push        ${first.ms.toFixed(0).padStart(6)} ms  ${first.result.report.requests} file operations (1 read + 1,000 secret files), ${files} files in the directory`)
  console.log(`push when in sync ${again.ms.toFixed(0).padStart(6)} ms  ${again.result.plan.changes} changes, no writes`)
  console.log(`diff when in sync ${diff.ms.toFixed(0).padStart(6)} ms  ${diff.result.changes} changes`)
} finally {
  rmSync(dir, {recursive: true, force: true})
}
