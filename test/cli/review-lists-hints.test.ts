/**
 * Review of lists, hints and completion, through the built binary: an empty list is a usage error
 * (never "everything"), -s narrows what a plan and a pull talk about, every hint with a path pastes
 * into a shell as it is, completion answers whole through a pipe, and messages name files as a
 * person types them.
 */
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {BIN, runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {SHOP_MANIFEST} from './support.js'

const VALUES = 'API_TOKEN=a7Fq2LmZ9xKpW3vRtY8s\nQUEUE_TOKEN=b8Gr3MnA0yLqX4wSuZ9t\n'

describe('review: lists, hints, completion', function () {
  this.timeout(120_000)
  let p: TempProject
  const run = (args: string[], env?: Record<string, string | undefined>) => runBin(args, {cwd: p.dir, env})

  beforeEach(() => {
    p = new TempProject('envsync-review-h-')
    p.write('envsync.yaml', SHOP_MANIFEST, 0o644)
    p.write('.env.development', VALUES)
  })
  afterEach(() => p.cleanup())

  it('a list flag given but empty, or with an empty item, is a usage error naming the flag (never every key)', async () => {
    const cases: [string[], string][] = [
      [['push', 'development', '--dry-run', '--only', ''], '--only needs a value'],
      [['push', 'development', '--dry-run', '--only', ','], '--only needs a value'],
      [['push', 'development', '--dry-run', '--only', 'API_TOKEN,,QUEUE_TOKEN'], '--only has an empty item'],
      [['diff', 'development', '-s', ''], '--service needs a value'],
      [['push', 'development', '--dry-run', '-s', ' '], '--service needs a value'],
      [['pull', 'development', '--from', 'docker', '-s', ''], '--service needs a value'],
      [['pull', 'development', '--from', 'docker', '--keys', ','], '--keys needs a value'],
      [['diff', 'development', '--target', ''], '--target: "" is not one of'],
      [['export', 'development', '--format', 'dotenv', '-s', ''], '--service needs a value'],
    ]
    for (const [argv, message] of cases) {
      const r = await run(argv)
      expect(r.exitCode, `${argv.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(2)
      expect(r.stderr, argv.join(' ')).to.include(message)
      // Nothing planned, nothing exported: no key and no value on stdout.
      expect(r.stdout, argv.join(' ')).to.not.match(/API_TOKEN|QUEUE_TOKEN|a7Fq2LmZ9xKpW3vRtY8s/)
    }
  })

  it('-s leaves other services\' keys out of a plan, and a key the selection does not receive is an error', async () => {
    const plan = await run(['push', 'development', '--dry-run', '-v', '-s', 'worker'])
    expect(plan.exitCode, plan.stderr).to.equal(0)
    expect(plan.stdout).to.include('QUEUE_TOKEN')
    // API_TOKEN (backend) has a local value: it must not be called "no local value".
    expect(plan.stdout).to.not.include('API_TOKEN')
    expect(plan.stdout).to.not.include('VITE_URL')
    expect(plan.stdout).to.not.include('no local value')

    for (const argv of [
      ['push', 'development', '--dry-run', '--only', 'API_TOKEN', '-s', 'worker'],
      ['pull', 'development', '--from', 'docker', '--keys', 'API_TOKEN', '-s', 'worker'],
    ]) {
      const r = await run(argv)
      expect(r.exitCode, `${argv.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(2)
      expect(r.stderr, argv.join(' ')).to.include('worker does not receive that key')
      expect(r.stderr, argv.join(' ')).to.include('API_TOKEN goes to backend')
    }

    expect((await run(['push', 'development', '--yes'])).exitCode).to.equal(0)
    const pulled = await run(['pull', 'development', '--from', 'docker', '-s', 'worker', '--json'])
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).to.equal(0)
    const keys = (JSON.parse(pulled.stdout).result.keys as {key: string}[]).map((k) => k.key).sort()
    expect(keys).to.deep.equal(['LOG_LEVEL', 'QUEUE_TOKEN'])
  })

  it('init\'s Next: lines paste whole into sh, from where the user is, even for --dir -dash', async () => {
    const work = p.path('work')
    mkdirSync(work)
    const bin = p.path('bin')
    mkdirSync(bin)
    writeFileSync(path.join(bin, 'envsync'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(path.join(bin, 'envsync'), 0o755)
    const init = await runBin(['init', '--yes', '--dir=-dash', '--secrets', 'JWT_SECRET,DATABASE_URL'], {cwd: work})
    expect(init.exitCode, init.stderr).to.equal(0)
    const next = init.stdout.split('\n').slice(init.stdout.split('\n').indexOf('Next:') + 1).map((l) => l.trim()).filter(Boolean)
    expect(next[0]).to.match(/^cd \.\/-dash +# go to the project$/)
    expect(next.some((l) => l.startsWith('# fill DATABASE_URL'))).to.equal(true)
    const sh = spawnSync('/bin/sh', ['-c', `${next.join('\n')}\npwd`], {cwd: work, encoding: 'utf8', env: {...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1'}})
    expect(sh.stderr).to.not.match(/Unexpected argument|Illegal option|not found|No such file/i)
    expect(sh.stdout.trim().split('\n').at(-1)).to.equal(path.join(work, '-dash'))
    expect(sh.stdout).to.match(/development: \d+ secrets? checked/)
  })

  it('check\'s git hint quotes a path with a space, and pasted into sh it unstages the file', async function () {
    if (spawnSync('git', ['--version']).status !== 0) this.skip()
    const app = p.path('My App')
    mkdirSync(app)
    writeFileSync(path.join(app, 'envsync.yaml'), SHOP_MANIFEST)
    writeFileSync(path.join(app, '.env.development'), VALUES, {mode: 0o600})
    const git = (...args: string[]) => spawnSync('git', args, {cwd: p.dir, encoding: 'utf8'})
    git('init', '-q')
    git('add', 'My App/.env.development')
    const r = await run(['check', 'development', '-m', 'My App/envsync.yaml'])
    const hint = /`(git rm --cached [^`]*)`/.exec(r.stdout)
    expect(hint, r.stdout).to.not.equal(null)
    expect(hint![1]).to.equal('git rm --cached "My App/.env.development"')
    const sh = spawnSync('/bin/sh', ['-c', hint![1]], {cwd: p.dir, encoding: 'utf8'})
    expect(sh.status, sh.stderr).to.equal(0)
    expect(git('diff', '--cached', '--name-only').stdout).to.equal('')
    expect(existsSync(path.join(app, '.env.development'))).to.equal(true)
  })

  it('__complete answers whole through a pipe on a 60,000-key manifest, capped to a few thousand, filtered by the prefix', async () => {
    const keys = Array.from({length: 60_000}, (_, i) => `  KEY_${String(i).padStart(5, '0')}: {services: [backend]}`)
    p.write('envsync.yaml', `version: 1\nproject: big\nservices:\n  backend: {}\nenvironments:\n  development:\n    targets:\n      docker: {}\nsecrets:\n${keys.join('\n')}\n`, 0o644)
    const all = await run(['__complete', '--', 'push', 'development', '--only', ''])
    expect(all.exitCode).to.equal(0)
    expect(all.stdout.endsWith('\n'), 'cut mid-line').to.equal(true)
    const lines = all.stdout.split('\n').filter(Boolean)
    expect(lines).to.have.length(2000)
    for (const l of lines) expect(l).to.match(/^KEY_\d{5}$/)
    const some = await run(['__complete', '--', 'push', 'development', '--only', 'KEY_5999'])
    expect(some.stdout.split('\n').filter(Boolean)).to.have.members(Array.from({length: 10}, (_, i) => `KEY_5999${i}`))
  })

  it('completion --install names the rc file as ~/.bashrc, not relative to where it ran', async () => {
    const home = p.path('home')
    mkdirSync(home)
    const r = await run(['completion', 'bash', '--install'], {HOME: home})
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.include('adding one line to ~/.bashrc:')
    expect(r.stdout).to.include('added to ~/.bashrc; open a new bash (or run `source ~/.bashrc`)')
    expect(readFileSync(path.join(home, '.bashrc'), 'utf8')).to.include('# envsync completion')
    const again = await run(['completion', 'bash', '--install', '--json'], {HOME: home})
    expect(JSON.parse(again.stdout).result).to.deep.include({file: path.join(home, '.bashrc'), changed: false})
  })

  it('an unknown flag repeated is named once', async () => {
    const r = await run(['diff', 'development', '--only', 'a', '--only', 'b'])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('Nonexistent flag: --only')
    expect(r.stderr).to.not.include('--only, --only')
  })

  it('init refuses a too-long service name up front, in plain words, about no file', async () => {
    const dir = p.path('fresh')
    const long = 'a'.repeat(64)
    const r = await runBin(['init', '--yes', '--dir', dir, '--services', `backend,${long}`], {cwd: p.dir})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('service names are at most 63 characters')
    expect(r.stderr).to.not.match(/envsync\.yaml:\d|Too big/)
    expect(existsSync(path.join(dir, 'envsync.yaml'))).to.equal(false)
  })

  it('init --force on a broken manifest says what to do in one sentence, not nested', async () => {
    p.write('envsync.yaml', 'version: [1\n', 0o644)
    const r = await run(['init', '--force', '--yes'])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('→ fix the YAML syntax at the position shown (indentation, quotes, brackets), or remove it to start from scratch')
    expect(r.stderr).to.not.include('(Fix')
  })
})
