/**
 * The first hour with `envsync init` (issue 9, item 2 and two words of item 8), through the built
 * binary: a real terminal (tmux) for the questions, a child process for flags. Each case is what a
 * new user met: a summary and a way back before anything is written, `--force` starting from the
 * manifest it replaces, secrets placed by what a service is, mixed `--secrets`, list flags in both
 * forms, "Next:" lines that work from where the user is.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {sh, type TmuxSession} from '../cli/tmux.js'
import {BIN, ROOT, runBin} from '../helpers/cli.js'
import {loadManifest} from '../../src/manifest/load.js'
import {currentPrompt, RECOMMENDED, readEnv, requireTerminal, snapshot, startInit, TempDirs} from './support.js'

/** A manifest a user wrote by hand: names init would not guess, a kept target setting, a key of their own. */
const OWN_MANIFEST = `version: 1
project: shop
services:
  api: {description: The API}
  web: {public: true}
  jobs: {}
environments:
  dev:
    targets:
      docker: {}
  prod:
    protected: true
    targets:
      kubernetes: {namespace: shop-live, context: prod-cluster}
secrets:
  JWT_SECRET: {services: [api], generate: base64:48}
  MY_OWN_KEY: {description: Partner API key, services: [jobs]}
`

function ownProject(dirs: TempDirs): string {
  const dir = dirs.make('envsync-firstday-')
  writeFileSync(path.join(dir, 'envsync.yaml'), OWN_MANIFEST)
  writeFileSync(path.join(dir, '.env.dev'), 'JWT_SECRET=dev-value-kept-as-it-is-0123456789abcdef\nMY_OWN_KEY=partner-dev\n', {mode: 0o600})
  writeFileSync(path.join(dir, '.env.prod'), 'JWT_SECRET=prod-value-kept-as-it-is-0123456789abcdef\n', {mode: 0o600})
  return dir
}

/** The manifest kept what the user wrote: names, flags, target settings, their own key, values. */
function assertKept(dir: string): void {
  const m = loadManifest(path.join(dir, 'envsync.yaml'))
  expect(m.project).to.equal('shop')
  expect(m.serviceNames).to.deep.equal(['api', 'web', 'jobs'])
  expect(m.isPublicService('web')).to.equal(true)
  expect(m.data.services.api.description).to.equal('The API')
  expect(m.environmentNames).to.deep.equal(['dev', 'prod'])
  expect(m.isProtected('prod')).to.equal(true)
  expect(m.targetsOf('dev')).to.deep.equal(['docker'])
  expect(m.targetsOf('prod')).to.deep.equal(['kubernetes'])
  expect(m.environment('prod').targets?.kubernetes).to.include({namespace: 'shop-live', context: 'prod-cluster'})
  expect(m.secret('MY_OWN_KEY')).to.include({description: 'Partner API key'})
  expect(m.secret('MY_OWN_KEY')!.services).to.deep.equal(['jobs'])
  expect(readEnv(path.join(dir, '.env.dev'))).to.include({JWT_SECRET: 'dev-value-kept-as-it-is-0123456789abcdef', MY_OWN_KEY: 'partner-dev'})
  expect(readEnv(path.join(dir, '.env.prod')).JWT_SECRET).to.equal('prod-value-kept-as-it-is-0123456789abcdef')
}

describe('init, the first hour: in a terminal (tmux)', function () {
  this.timeout(40_000)
  const dirs = new TempDirs()
  let session: TmuxSession | undefined

  before(function () {
    requireTerminal(this, 'the terminal tests of `envsync init` (tmux)')
  })

  afterEach(() => {
    session?.kill()
    session = undefined
    dirs.cleanup()
  })

  const start = (args: string[], cwd = ROOT) => (session = startInit(args, cwd))

  /** Answers every question up to the last step with Enter, typing `services` at its question. */
  const answerAll = async (t: TmuxSession, services: string) => {
    await t.waitFor('? Project name')
    t.keys('Enter')
    await t.waitFor('? Services (comma-separated)')
    t.type(services)
    t.keys('Enter')
    for (const q of ['? Which services are bundled', '? Environments (comma-separated)', '? Secrets to manage', '? Where is development deployed?', '? Where is staging deployed?', '? Where is production deployed?', '? Which environments are protected']) {
      await t.waitFor(q)
      t.keys('Enter')
    }
    return t.waitFor('? Write these files?')
  }

  it('shows what it will write, places secrets by what a service is, goes back to change services, then writes', async () => {
    const parent = dirs.make('envsync-firstday-')
    const dir = path.join(parent, 'app')
    const t = start(['--dir', dir])
    let s = await answerAll(t, 'frontend, jobs')
    // The secrets answer echoes key names, not the padded "KEY   generate base64:48" labels.
    expect(s).to.include(`✔ Secrets to manage ${RECOMMENDED.join(', ')}\n`)
    expect(s).to.not.match(/✔ Secrets to manage[^?]*generate/)
    // The summary: files, services with what init took them for, environments, where each secret goes.
    expect(s).to.match(/envsync will write in \S*app:/)
    expect(s).to.match(/\.env\.development\s+new: 6 generated/)
    expect(s).to.match(/services\s+frontend \(public\), jobs \(worker\)/)
    expect(s).to.match(/production \(protected\) → docker/)
    // No API service: the fallback is said, not hidden.
    expect(s).to.match(/JWT_SECRET → jobs — no API service \(backend, api, server, app…\), so jobs gets it/)
    expect(currentPrompt(s)).to.match(/❯ Write\n/).and.include('Change services').and.include('Cancel (write nothing)')
    expect(existsSync(dir), 'written before the last step').to.equal(false)

    // Back to the services: the answer given is the default, a backend is added.
    t.keys('Down', 'Down', 'Enter')
    await t.waitFor('? Services (comma-separated) (frontend, jobs)')
    t.type('frontend, jobs, backend')
    t.keys('Enter')
    await t.waitFor(/✔ Services \(comma-separated\) frontend, jobs, backend\n\? Which services/)
    t.keys('Enter')
    s = await t.waitFor(/✔ Write these files\? Change services[\s\S]*\? Write these files\?/)
    const second = s.slice(s.lastIndexOf('envsync will write in'))
    expect(second).to.match(/JWT_SECRET → backend\n/)
    expect(second).to.match(/DB_PASSWORD → jobs, backend\n/)
    t.keys('Enter')
    s = await t.waitFor(/__EXIT_\d+__/)
    expect(s, s).to.include('__EXIT_0__')
    const m = loadManifest(path.join(dir, 'envsync.yaml'))
    expect(m.serviceNames).to.deep.equal(['frontend', 'jobs', 'backend'])
    expect(m.secret('JWT_SECRET')!.services).to.deep.equal(['backend'])
    expect(m.secret('DB_PASSWORD')!.services).to.deep.equal(['jobs', 'backend'])
  })

  it('answers that make no manifest (every service public) are shown as the error, with no Write until changed', async () => {
    const dir = path.join(dirs.make('envsync-firstday-'), 'app')
    const t = start(['--dir', dir])
    await t.waitFor('? Project name')
    t.keys('Enter')
    await t.waitFor('? Services (comma-separated)')
    t.type('web')
    t.keys('Enter')
    for (const q of ['? Which services are bundled', '? Environments (comma-separated)', '? Secrets to manage', '? Where is development deployed?', '? Where is staging deployed?', '? Where is production deployed?', '? Which environments are protected']) {
      await t.waitFor(q)
      t.keys('Enter')
    }
    let s = await t.waitFor('? Change an answer?')
    expect(s).to.include('error JWT_SECRET belongs on a server-side service, and every service is public')
    expect(currentPrompt(s)).to.match(/❯ Change the project name/)
    expect(currentPrompt(s)).to.not.include('Write')
    t.keys('Down', 'Enter') // Change services
    await t.waitFor('? Services (comma-separated) (web)')
    t.type('web, api')
    t.keys('Enter')
    await t.waitFor(/✔ Services \(comma-separated\) web, api\n\? Which services/)
    t.keys('Enter')
    s = await t.waitFor('? Write these files?')
    expect(s.slice(s.lastIndexOf('envsync will write in'))).to.match(/JWT_SECRET → api\n/)
    t.keys('Enter')
    expect(await t.waitFor(/__EXIT_\d+__/)).to.include('__EXIT_0__')
    expect(loadManifest(path.join(dir, 'envsync.yaml')).secret('JWT_SECRET')!.services).to.deep.equal(['api'])
  })

  it('Cancel at the last step writes nothing (exit 130)', async () => {
    const parent = dirs.make('envsync-firstday-')
    const t = start(['--dir', path.join(parent, 'app')])
    await answerAll(t, 'backend, frontend')
    t.keys('Down', 'Down', 'Down', 'Down', 'Down', 'Down', 'Down')
    await t.waitFor(/❯ Cancel \(write nothing\)/)
    t.keys('Enter')
    const s = await t.waitFor(/__EXIT_\d+__/)
    expect(s, s).to.include('__EXIT_130__')
    expect(s).to.include('aborted: nothing was changed')
    expect(snapshot(parent)).to.deep.equal({})
  })

  it('a refused answer gives the reason the flag gives', async () => {
    const parent = dirs.make('envsync-firstday-')
    const flag = await runBin(['init', '--yes', '--dir', path.join(parent, 'x'), '--project', 'My Shop'])
    expect(flag.exitCode).to.equal(2)
    const reason = `project names are lowercase letters, digits and '-', e.g. "my-shop"`
    expect(flag.stderr).to.include('invalid project name "My Shop"').and.include(reason)
    const t = start(['--dir', path.join(parent, 'app')])
    await t.waitFor('? Project name')
    t.type('My Shop')
    t.keys('Enter')
    await t.waitFor(`invalid project name "My Shop": ${reason}`)
    t.keys('C-c')
    expect(await t.waitFor(/__EXIT_\d+__/)).to.include('__EXIT_130__')
  })

  it('--force starts from the existing manifest: its answers are the defaults, its settings and values are kept', async () => {
    const dir = ownProject(dirs)
    const t = start(['--force', '--dir', dir])
    await t.waitFor('? Project name (shop)')
    t.keys('Enter')
    await t.waitFor('? Services (comma-separated) (api, web, jobs)')
    t.keys('Enter')
    let s = await t.waitFor('? Which services are bundled')
    expect(currentPrompt(s)).to.match(/◉ web/).and.match(/◯ api/)
    t.keys('Enter')
    await t.waitFor('? Environments (comma-separated) (dev, prod)')
    t.keys('Enter')
    s = await t.waitFor('? Secrets to manage')
    // The manifest's secrets are checked, not the catalogue's recommendations.
    expect(currentPrompt(s)).to.match(/◉ JWT_SECRET/).and.match(/◯ JWT_REFRESH_SECRET/)
    t.keys('Enter')
    s = await t.waitFor('? Where is dev deployed?')
    expect(currentPrompt(s)).to.match(/◉ docker/).and.match(/◯ kubernetes/)
    t.keys('Enter')
    s = await t.waitFor('? Where is prod deployed?')
    expect(currentPrompt(s)).to.match(/◯ docker/).and.match(/◉ kubernetes/)
    t.keys('Enter')
    s = await t.waitFor('? Which environments are protected')
    expect(currentPrompt(s)).to.match(/◯ dev/).and.match(/◉ prod/)
    t.keys('Enter')
    s = await t.waitFor('? Write these files?')
    expect(s).to.include('✔ Secrets to manage JWT_SECRET, MY_OWN_KEY\n')
    expect(s).to.match(/envsync\.yaml\s+replaced/).and.match(/\.env\.dev\s+kept: its values stay/)
    t.keys('Enter')
    s = await t.waitFor(/__EXIT_\d+__/)
    expect(s, s).to.include('__EXIT_0__')
    assertKept(dir)
  })

  it("--force with a manifest that does not load offers to start from scratch: No changes nothing, Yes asks init's own questions", async () => {
    const dir = dirs.make('envsync-firstday-')
    writeFileSync(path.join(dir, 'envsync.yaml'), 'version: 1\nproject: Shop\n')
    const before = snapshot(dir)
    const t = start(['--force', '--dir', dir])
    // inquirer wraps the question at the terminal's width.
    const s = await t.waitFor(/\? \S*envsync\.yaml does not load \([\s\S]*\)\.\sStart\sfrom\sscratch\sand\sreplace\sit\?\s\(y\/N\)/)
    expect(s).to.match(/is not a valid\smanifest/)
    t.keys('Enter')
    expect(await t.waitFor(/__EXIT_\d+__/)).to.include('__EXIT_130__')
    expect(snapshot(dir)).to.deep.equal(before)

    // Yes: init's own defaults, as in an empty directory.
    session!.kill()
    const again = start(['--force', '--dir', dir])
    await again.waitFor(/Start\sfrom\sscratch/)
    again.type('y')
    again.keys('Enter')
    await again.waitFor(`? Project name (${path.basename(dir).toLowerCase()})`)
    again.keys('Enter')
    await again.waitFor('? Services (comma-separated) (backend, frontend)')
    again.keys('C-c')
    expect(await again.waitFor(/__EXIT_\d+__/)).to.include('__EXIT_130__')
    expect(snapshot(dir)).to.deep.equal(before)
  })

  it('init --json in a terminal says why it asks nothing (not "no terminal")', async () => {
    const parent = dirs.make('envsync-firstday-')
    const t = start(['--json', '--dir', path.join(parent, 'app')])
    const s = await t.waitFor(/__EXIT_\d+__/)
    expect(s, s).to.include('__EXIT_2__')
    const envelope = JSON.parse(s.slice(s.indexOf('{'), s.lastIndexOf('}') + 1))
    expect(envelope.error.code).to.equal('NOT_INTERACTIVE')
    expect(envelope.error.message).to.equal('init --json asks no questions')
    expect(envelope.error.suggestion).to.include('--yes')
    expect(s).to.not.include('no terminal')
    expect(snapshot(parent)).to.deep.equal({})
  })
})

describe('init, the first hour: flags (the built binary)', function () {
  this.timeout(30_000)
  const dirs = new TempDirs()
  afterEach(() => dirs.cleanup())

  it('--yes --force starts from the existing manifest: every flag not given keeps what it says', async () => {
    const dir = ownProject(dirs)
    const r = await runBin(['init', '--yes', '--force', '--dir', dir])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/\.env\.dev \(0 generated\)/)
    assertKept(dir)
    expect(loadManifest(path.join(dir, 'envsync.yaml')).secrets.map((s) => s.key)).to.deep.equal(['JWT_SECRET', 'MY_OWN_KEY'])
    expect(Object.keys(readEnv(path.join(dir, '.env.dev'))), 'nothing generated: every key had its value').to.deep.equal(['JWT_SECRET', 'MY_OWN_KEY'])
    // A flag given replaces only its own answer; the manifest's own key can be named in --secrets.
    const again = await runBin(['init', '--yes', '--force', '--dir', dir, '--secrets', 'JWT_SECRET,MY_OWN_KEY,recommended'])
    expect(again.exitCode, again.stderr).to.equal(0)
    assertKept(dir)
  })

  it('--yes --force with a manifest that does not load: a clear error, the manifest left as it was', async () => {
    const dir = dirs.make('envsync-firstday-')
    writeFileSync(path.join(dir, 'envsync.yaml'), 'version: 1\nproject: Shop\n')
    const before = snapshot(dir)
    const r = await runBin(['init', '--yes', '--force', '--dir', dir])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.match(/init --force starts from \S*envsync\.yaml, and it does not load: .*not a valid manifest/)
    expect(r.stderr).to.include('or remove it to start from scratch')
    expect(r.stderr).to.not.match(/\n\s+at /)
    expect(snapshot(dir)).to.deep.equal(before)
  })

  it('secrets go to services by what each is, not by the order they were listed', async () => {
    const a = dirs.make('envsync-firstday-')
    let r = await runBin(['init', '--yes', '--dir', a, '--services', 'frontend,worker,backend', '--secrets', 'recommended'])
    expect(r.exitCode, r.stderr).to.equal(0)
    let m = loadManifest(path.join(a, 'envsync.yaml'))
    expect(m.secret('JWT_SECRET')!.services).to.deep.equal(['backend'])
    expect(m.secret('SESSION_SECRET')!.services).to.deep.equal(['backend'])
    expect(m.secret('DB_PASSWORD')!.services).to.deep.equal(['worker', 'backend'])

    const b = dirs.make('envsync-firstday-')
    r = await runBin(['init', '--yes', '--dir', b, '--services', 'web,pgadmin,grafana,jobs,server', '--secrets', 'JWT_SECRET,GRAFANA_ADMIN_PASSWORD,PGADMIN_DEFAULT_PASSWORD,REDIS_PASSWORD'])
    expect(r.exitCode, r.stderr).to.equal(0)
    m = loadManifest(path.join(b, 'envsync.yaml'))
    expect(m.secret('JWT_SECRET')!.services).to.deep.equal(['server'])
    expect(m.secret('GRAFANA_ADMIN_PASSWORD')!.services).to.deep.equal(['grafana'])
    expect(m.secret('PGADMIN_DEFAULT_PASSWORD')!.services).to.deep.equal(['pgadmin'])
    expect(m.secret('REDIS_PASSWORD')!.services).to.deep.equal(['jobs', 'server'])
  })

  it("the Grafana password reaches the official image under the variable it reads (GF_SECURITY_ADMIN_PASSWORD__FILE)", async () => {
    const dir = dirs.make('envsync-firstday-')
    const r = await runBin(['init', '--yes', '--dir', dir, '--services', 'backend,grafana', '--secrets', 'recommended,GRAFANA_ADMIN_PASSWORD', '--environments', 'development', '--targets', 'docker'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const push = await runBin(['push', 'development', '--yes', '-m', path.join(dir, 'envsync.yaml')])
    expect(push.exitCode, push.stderr).to.equal(0)
    const override = readFileSync(path.join(dir, 'docker-compose.development.secrets.yml'), 'utf8')
    expect(override).to.match(/grafana:\n\s+secrets:\n\s+- grafana_admin_password\n\s+environment:\n\s+GF_SECURITY_ADMIN_PASSWORD__FILE: \/run\/secrets\/grafana_admin_password\n/)
    expect(override).not.to.include('GRAFANA_ADMIN_PASSWORD_FILE')
  })

  it('--secrets mixes groups and keys; an unknown key gets a did-you-mean', async () => {
    const dir = dirs.make('envsync-firstday-')
    const r = await runBin(['init', '--yes', '--dir', dir, '--secrets', 'recommended,DATABASE_URL'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(loadManifest(path.join(dir, 'envsync.yaml')).secrets.map((s) => s.key)).to.deep.equal([...RECOMMENDED, 'DATABASE_URL'])
    const bad = await runBin(['init', '--yes', '--dir', dirs.make('envsync-firstday-'), '--secrets', 'recommended,DATABSE_URL'])
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.include('--secrets: "DATABSE_URL" is not in the catalogue').and.include('did you mean "DATABASE_URL"?')
  })

  it('list flags take repeated flags and comma lists alike', async () => {
    const comma = dirs.make('envsync-firstday-')
    const repeated = dirs.make('envsync-firstday-')
    const list = ['--services', 'backend,worker,web', '--public', 'web', '--environments', 'dev,prod', '--secrets', 'recommended,DATABASE_URL', '--targets', 'docker,prod=kubernetes', '--protected', 'dev,prod']
    const each = ['--services', 'backend', '--services', 'worker,web', '--public', 'web', '--environments', 'dev', '--environments', 'prod', '--secrets', 'recommended', '--secrets', 'DATABASE_URL', '--targets', 'docker', '--targets', 'prod=kubernetes', '--protected', 'dev', '--protected', 'prod']
    for (const [dir, args] of [[comma, list], [repeated, each]] as const) {
      const r = await runBin(['init', '--yes', '--dir', dir, '--project', 'shop', ...args])
      expect(r.exitCode, r.stderr).to.equal(0)
    }
    const text = (dir: string) => readFileSync(path.join(dir, 'envsync.yaml'), 'utf8')
    expect(text(repeated)).to.equal(text(comma))
    const m = loadManifest(path.join(repeated, 'envsync.yaml'))
    expect(m.serviceNames).to.deep.equal(['backend', 'worker', 'web'])
    expect(m.targetsOf('prod')).to.deep.equal(['kubernetes'])
    expect(m.isProtected('dev')).to.equal(true)
  })

  it('"Next:" names the keys to fill and works pasted from the directory the user is in (--dir "My App")', async () => {
    const parent = dirs.make('envsync-firstday-')
    const r = await runBin(['init', '--yes', '--dir', 'My App', '--secrets', 'recommended,DATABASE_URL,STRIPE_SECRET_KEY', '--environments', 'development,production'], {cwd: parent})
    expect(r.exitCode, r.stderr).to.equal(0)
    const next = r.stdout.slice(r.stdout.indexOf('Next:'))
    expect(next).to.match(/\n {2}cd "My App" /)
    expect(next).to.include('fill DATABASE_URL, STRIPE_SECRET_KEY in .env.development, .env.production')
    // The lines, pasted in order into a shell in the same directory, reach the project.
    const cd = next.match(/^ {2}(cd .*?) {2,}/m)![1]
    const fill = `printf 'DATABASE_URL=postgres://app:pw@db:5432/app\\nSTRIPE_SECRET_KEY=sk_test_abc123\\n' >> .env.development`
    const shell = spawnSync('/bin/sh', ['-c', `${cd} && ${fill} && ${sh(process.execPath)} ${sh(BIN)} check development`], {cwd: parent, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    expect(shell.status, shell.stdout + shell.stderr).to.equal(0)
    expect(shell.stdout).to.include('0 errors')

    // In the project directory itself there is nothing to cd into.
    const here = path.join(parent, 'here')
    mkdirSync(here)
    const local = await runBin(['init', '--yes', '--secrets', 'recommended'], {cwd: here})
    expect(local.exitCode, local.stderr).to.equal(0)
    expect(local.stdout).to.not.match(/^\s+cd /m)
    expect(local.stdout).to.not.include('fill ')
  })

  it('the manifest names a README section that exists', async () => {
    const dir = dirs.make('envsync-firstday-')
    expect((await runBin(['init', '--yes', '--dir', dir])).exitCode).to.equal(0)
    const comment = readFileSync(path.join(dir, 'envsync.yaml'), 'utf8').match(/^# Reference: the envsync README, section "(.+)"\.$/m)
    expect(comment, 'the reference comment').to.not.equal(null)
    const headings = readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').filter((l) => l.startsWith('#')).map((l) => l.replace(/^#+\s*/, ''))
    expect(headings).to.include(comment![1])
  })
})
