/**
 * A mistyped command is an error that names the closest commands, never a guess that runs: the
 * real binary, with and without a terminal, with and without --json, in a project whose
 * production values a wrong guess (`export`, `pull`) would print or change.
 */
import {existsSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN, ROOT, runBin} from '../helpers/cli.js'
import {requireOrSkip} from '../helpers/not-run.js'
import {smallManifest, TempProject} from '../helpers/project.js'
import {snapshot} from '../init/support.js'
import {sh, TmuxSession, tmuxAvailable} from './tmux.js'

const TYPOS: [string[], string[]][] = [
  [['pusj', 'production'], ['push']],
  [['psuh', 'production', '--yes'], ['push']],
  [['pul', 'production', '--from', 'docker'], ['pull']],
  [['expotr', 'production'], ['export']],
  [['exprot', 'production', '--format', 'dotenv'], ['export']],
  [['chek', 'production'], ['check']],
  [['dif', 'production'], ['diff']],
  [['PUSH', 'production'], ['push']],
  // A typo of one command and the start of another: both named.
  [['gen', 'production'], ['generate', 'get']],
  [['templte'], ['template']],
  [['int'], ['init']],
  [['versoin'], ['version']],
  // Equally close to two commands: both named, neither chosen.
  [['pusl', 'production'], ['pull', 'push']],
]
/** Nothing close: no suggestion at all (the old plugin offered whatever was least far). */
const FAR = [['xyz'], ['pu'], ['deploy', 'production'], ['sync', 'production'], ['show', 'production'], ['p']]

describe('an unknown command', function () {
  this.timeout(30_000)
  let p: TempProject
  let secrets: string[]

  before(() => {
    if (!existsSync(path.join(ROOT, 'dist', 'hooks', 'command-not-found.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  })

  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest(), 0o644)
    secrets = [canary(), canary()]
    p.write('.env.production', `JWT_SECRET=${secrets[0]}\nDATABASE_URL=postgres://app:${secrets[1]}@db:5432/shop\n`)
  })
  afterEach(() => p.cleanup())

  for (const [argv, near] of TYPOS) {
    it(`\`envsync ${argv.join(' ')}\` exits 2, names ${near.join(' and ')}, runs nothing`, async () => {
      const before = snapshot(p.dir)
      const r = await runBin(argv, {cwd: p.dir})
      expect(r.exitCode, r.stderr).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.include(`unknown command "${argv[0]}"`)
      const suggestion = r.stderr.split('\n')[1] ?? ''
      expect(suggestion).to.match(/did you mean/)
      for (const n of near) expect(suggestion).to.include(`\`envsync ${n}\``)
      const named = [...suggestion.matchAll(/`envsync (\w+)`/g)].map((m) => m[1]).filter((c) => c !== 'help')
      expect(named.sort(), 'only the closest commands').to.deep.equal(near)
      expect(r.stderr).to.not.match(/\(Y\/n\)|\n\s+at /)
      assertNoLeak(secrets, r.stdout, r.stderr)
      expect(snapshot(p.dir)).to.deep.equal(before)
    })
  }

  for (const argv of FAR) {
    it(`\`envsync ${argv.join(' ')}\`: nothing is close, so nothing is suggested`, async () => {
      const r = await runBin(argv, {cwd: p.dir})
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include(`unknown command "${argv[0]}"`).and.include('envsync help')
      expect(r.stderr).to.not.include('did you mean')
    })
  }

  it('with --json anywhere: one error envelope on stdout, nothing on stderr', async () => {
    for (const argv of [['pusj', 'production', '--json'], ['pul', '--json', 'production', '--from', 'docker'], ['xyz', '--json']]) {
      const r = await runBin(argv, {cwd: p.dir})
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.equal('')
      const envelope = JSON.parse(r.stdout)
      expect(envelope).to.deep.include({ok: false, command: argv[0], exitCode: 2})
      expect(envelope.error).to.include({code: 'UNKNOWN_COMMAND', message: `unknown command "${argv[0]}"`, exitCode: 2})
      expect(envelope.error.suggestion).to.include('envsync help')
      assertNoLeak(secrets, r.stdout)
    }
  })

  it('a flag where the command should be is named as such', async () => {
    const r = await runBin(['--prune', 'push', 'production'], {cwd: p.dir})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('expected a command before --prune').and.include('flags go after the command')
  })

  it('`envsync help pusj` is the same error as `envsync pusj` (not oclif\'s "Command pusj not found.")', async () => {
    const r = await runBin(['help', 'pusj'], {cwd: p.dir})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.equal('error unknown command "pusj"\n  → did you mean `envsync push`? (see `envsync help` for the commands)\n')
    expect(r.stdout).to.equal('')
    const known = await runBin(['help', 'push'], {cwd: p.dir})
    expect(known.exitCode).to.equal(0)
    expect(known.stdout).to.include('$ envsync push ENVIRONMENT')
  })

  it('`envsync help` takes --json like every command: one envelope, never a stack trace', async () => {
    const unknown = await runBin(['help', 'xyz', '--json'], {cwd: p.dir})
    expect(unknown.exitCode).to.equal(2)
    expect(unknown.stderr).to.equal('')
    const envelope = JSON.parse(unknown.stdout)
    expect(envelope).to.include({ok: false, command: 'help', exitCode: 2})
    expect(envelope.error).to.include({code: 'UNKNOWN_COMMAND', message: 'unknown command "xyz"'})
    const known = await runBin(['help', 'push', '--json'], {cwd: p.dir})
    expect(known.exitCode, known.stderr).to.equal(0)
    expect(known.stderr).to.equal('')
    const result = JSON.parse(known.stdout).result
    expect(result.command).to.equal('push')
    expect(result.args.map((a: {name: string}) => a.name)).to.deep.equal(['environment'])
    expect(result.flags.map((f: {name: string}) => f.name)).to.include.members(['only', 'target', 'service', 'yes', 'json', 'manifest'])
    const all = await runBin(['help', '--json'], {cwd: p.dir})
    expect(JSON.parse(all.stdout).result.commands.map((c: {command: string}) => c.command)).to.include.members(['push', 'diff', 'check', 'init'])
  })

  it('a command typed with a colon is named as typed (`push:foo`, not "push")', async () => {
    const r = await runBin(['push:foo', 'production'], {cwd: p.dir})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.match(/^error unknown command "push:foo"\n/)
  })

  describe('in a terminal (tmux)', () => {
    let session: TmuxSession | undefined
    before(function () {
      requireOrSkip(this, 'the unknown-command terminal test', tmuxAvailable() ? undefined : 'tmux is not installed')
    })
    afterEach(() => {
      session?.kill()
      session = undefined
    })

    for (const argv of [['expotr', 'production'], ['pusj', 'production'], ['pul', 'production', '--from', 'docker']]) {
      it(`\`envsync ${argv.join(' ')}\`: no question; Enter afterwards runs nothing`, async () => {
        const before = snapshot(p.dir)
        session = new TmuxSession()
        session.start(`cd ${sh(p.dir)} && env NO_COLOR=1 DEBUG= CI= ${sh(process.execPath)} ${sh(BIN)} ${argv.map(sh).join(' ')}`)
        // The old plugin waited here on "Did you mean export? (Y/n)"; Enter then printed the values.
        await session.waitFor(/unknown command|\(Y\/n\)/)
        session.keys('Enter')
        const s = await session.waitFor(/__EXIT_\d+__/)
        expect(s, s).to.include('__EXIT_2__')
        expect(s).to.include(`unknown command "${argv[0]}"`)
        expect(s).to.not.include('(Y/n)')
        assertNoLeak(secrets, s)
        expect(snapshot(p.dir)).to.deep.equal(before)
      })
    }
  })
})
