/**
 * `envsync run ENV -- CMD` through the built binary with real child processes: the values reach
 * CMD's environment and nowhere else (not its command line, not the disk, not envsync's output);
 * exit codes and signals pass through; protected environments and missing values are refused.
 */
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN, runBin} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
/** A child that prints, for each key named, whether it is set and the hash of its value (never the value). */
const REPORT = `for (const k of process.argv.slice(1)) console.log(k, k in process.env ? require('crypto').createHash('sha256').update(process.env[k]).digest('hex') : 'unset')`

describe('envsync run', function () {
  this.timeout(60_000)
  let p: TempProject
  let jwt: string
  let db: string
  const bin = (args: string[], env?: Record<string, string | undefined>) => runBin(args, {cwd: p.dir, env})
  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest())
    jwt = canary('JWT')
    db = `postgres://app:${canary('PW')}@db:5432/shop`
    p.write('.env.development', `JWT_SECRET=${jwt}\nDATABASE_URL=${db}\n`)
    p.write('.env.production', `JWT_SECRET=${canary('PJWT')}\nDATABASE_URL=${db}x\n`)
  })
  afterEach(() => p.cleanup())

  it("gives CMD the environment's values (store, else default), over the parent's; envsync prints none", async () => {
    const r = await bin(['run', 'development', '--', process.execPath, '-e', REPORT, 'JWT_SECRET', 'DATABASE_URL', 'VITE_API_URL', 'PARENT_ONLY'], {DATABASE_URL: 'from-the-parent', PARENT_ONLY: 'kept'})
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout.split('\n')).to.include.members([`JWT_SECRET ${sha(jwt)}`, `DATABASE_URL ${sha(db)}`, `VITE_API_URL ${sha('http://localhost:3000')}`, `PARENT_ONLY ${sha('kept')}`])
    assertNoLeak([jwt, db], r.stdout, r.stderr)
  })

  it('--service gives only the keys that service receives', async () => {
    const r = await bin(['run', 'development', '--service', 'frontend', '--', process.execPath, '-e', REPORT, 'JWT_SECRET', 'VITE_API_URL'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('JWT_SECRET unset').and.include(`VITE_API_URL ${sha('http://localhost:3000')}`)
    const unknown = await bin(['run', 'development', '-s', 'frontnd', '--', 'true'])
    expect(unknown.exitCode).to.equal(2)
    expect(unknown.stderr).to.include('unknown service "frontnd"').and.include('did you mean "frontend"?')
  })

  it("passes the exit code through; a signal's death is 128+n; a missing command is 127 without a stack", async () => {
    expect((await bin(['run', 'development', '--', 'sh', '-c', 'exit 7'])).exitCode).to.equal(7)
    // stdin is the command's, untouched by envsync's own argument parsing.
    expect((await runBin(['run', 'development', '--', 'cat'], {cwd: p.dir, input: 'piped-through\n'})).stdout).to.equal('piped-through\n')
    expect((await bin(['run', 'development', '--', 'sh', '-c', 'kill -TERM $$'])).exitCode).to.equal(143)
    const missing = await bin(['run', 'development', '--', 'no-such-command-here', 'arg'])
    expect(missing.exitCode).to.equal(127)
    expect(missing.stderr).to.include('command not found: no-such-command-here')
    expect(missing.stderr).to.not.match(/\n\s+at /)
  })

  it("flags after -- are CMD's, never envsync's; no -- is a usage error", async () => {
    const r = await bin(['run', 'development', '--', process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '--', '--json', '--help', '-s', 'x'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('["--json","--help","-s","x"]\n')
    const none = await bin(['run', 'development', 'sh'])
    expect(none.exitCode).to.equal(2)
    expect(none.stderr).to.include('no command: put it after --')
    const flags = await bin(['run', 'development', 'node', '-e', 'x'])
    expect(flags.exitCode).to.equal(2)
    expect(flags.stderr).to.include('no command: put it after --')
  })

  it("--json keeps stdout for the envelope (CMD's stdout goes to stderr): keys and exit code, no values", async () => {
    const r = await bin(['run', 'development', '--json', '--', 'sh', '-c', 'echo from-the-command; exit 3'])
    expect(r.exitCode).to.equal(3)
    const envelope = JSON.parse(r.stdout)
    expect(envelope).to.include({ok: false, command: 'run', exitCode: 3})
    expect(envelope.result.keys).to.deep.equal(['JWT_SECRET', 'DATABASE_URL', 'VITE_API_URL'])
    expect(r.stderr).to.include('from-the-command')
    assertNoLeak([jwt, db], r.stdout, r.stderr)
  })

  it('the values are in the child\'s environment only: not on its command line, not on envsync\'s, not on disk', async () => {
    const before = readdirSync(p.dir, {recursive: true}).sort()
    const hold = "console.log('pid=' + process.pid); setTimeout(() => {}, 30000)"
    const child = spawn(process.execPath, [BIN, 'run', 'development', '--', process.execPath, '-e', hold], {cwd: p.dir, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          const m = /pid=(\d+)/.exec(String(d))
          if (m) resolve(Number(m[1]))
        })
        child.once('exit', () => reject(new Error('envsync ended before the command started')))
      })
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      expect(cmdline.split('\0')).to.deep.equal([process.execPath, '-e', hold, ''])
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
      expect(environ).to.include(`JWT_SECRET=${jwt}`).and.include(`DATABASE_URL=${db}`)
      assertNoLeak([jwt, db], readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'))
      expect(readdirSync(p.dir, {recursive: true}).sort()).to.deep.equal(before)
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('close', r))
    }
  })

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`forwards ${signal} to CMD and waits for it to end (no orphan)`, async () => {
      // A node child, not `sh -c trap`: a shell cannot trap a signal ignored when it started (a CI job
      // run in the background starts with SIGINT ignored), node can.
      const script = `process.on('${signal}', () => { console.log('got-${signal}'); process.exit(5) }); console.log('pid=' + process.pid); setInterval(() => {}, 100)`
      const child = spawn(process.execPath, [BIN, 'run', 'development', '--', process.execPath, '-e', script], {cwd: p.dir, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      let err = ''
      child.stderr.on('data', (d) => (err += d))
      const pid = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d
          const m = /pid=(\d+)/.exec(out)
          if (m) resolve(Number(m[1]))
        })
        child.once('exit', () => reject(new Error(`envsync ended before the command started: ${err}`)))
      })
      child.kill(signal)
      const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)))
      expect(out, err).to.include(`got-${signal}`)
      expect(code).to.equal(5)
      expect(existsSync(`/proc/${pid}`), 'the command outlived envsync').to.equal(false)
    })
  }

  it('refuses a protected environment without --yes when it cannot ask; --yes runs', async () => {
    const refused = await bin(['run', 'production', '--', 'sh', '-c', 'echo ran'])
    expect(refused.exitCode).to.equal(2)
    expect(refused.stdout).to.not.include('ran')
    expect(refused.stderr).to.include('in the protected environment "production" needs confirmation').and.include('--yes')
    const yes = await bin(['run', 'production', '--yes', '--', 'sh', '-c', 'echo ran'])
    expect(yes.exitCode, yes.stderr).to.equal(0)
    expect(yes.stdout).to.equal('ran\n')
  })

  it('refuses missing required values and placeholders by name; --force runs without them', async () => {
    writeFileSync(p.path('.env.development'), `JWT_SECRET=changeme\n`, {mode: 0o600})
    const refused = await bin(['run', 'development', '--', 'sh', '-c', 'echo ran'])
    expect(refused.exitCode).to.equal(2)
    expect(refused.stdout).to.equal('')
    expect(refused.stderr).to.include('not running: no value for DATABASE_URL and a placeholder in JWT_SECRET').and.include('--force')
    const forced = await bin(['run', 'development', '--force', '--', process.execPath, '-e', REPORT, 'JWT_SECRET', 'DATABASE_URL'])
    expect(forced.exitCode, forced.stderr).to.equal(0)
    expect(forced.stdout).to.include('JWT_SECRET unset').and.include('DATABASE_URL unset')
    expect(forced.stderr).to.include('left out (--force): DATABASE_URL, JWT_SECRET')
  })
})
