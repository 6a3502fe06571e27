/**
 * The first `check` after `init`, through the built binary: the keys a person must still provide
 * are a to-do list (what each is, what it looks like, where to put it), not a wall of errors; the
 * run still fails. Hints name the values file as the user sees it, and a values file in git is
 * told apart by what it means: committed (rotate), staged (unstage), or just not ignored.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {assertNoLeak} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {allValues, TempDirs} from '../init/support.js'
import {draw, git, hasGit, hermeticGit, pgUrl, smallManifest, useCheckProjects} from './support.js'

/** The catalogue keys `init --secrets all` leaves to the person: no recipe, required. */
const HAND_SET = ['DATABASE_URL', 'REDIS_URL', 'SMTP_PASSWORD', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']

interface TodoJson {
  key: string
  description?: string
  expected?: string
  hint: string
}

describe('check: the first run after init (real binary)', function () {
  this.timeout(60_000)
  const dirs = new TempDirs()
  hermeticGit()
  afterEach(() => dirs.cleanup())

  it('lists the values to fill in, with what each is and where it goes; exits 1; --json keeps the findings', async () => {
    const parent = dirs.make()
    const init = await runBin(['init', '--yes', '--dir', 'My App', '--secrets', 'all', '--environments', 'development,production'], {cwd: parent})
    expect(init.exitCode, init.stderr).to.equal(0)
    const project = path.join(parent, 'My App')
    const args = ['check', 'development', '-m', path.join('My App', 'envsync.yaml')]

    const r = await runBin(args, {cwd: parent})
    expect(r.exitCode, 'check still fails while required values are missing').to.equal(1)
    expect(r.stderr).to.equal('')
    const lines = r.stdout.split('\n')
    const at = lines.indexOf('To fill in My App/.env.development:')
    expect(at, r.stdout).to.be.greaterThan(-1)
    const todo = lines.slice(at + 1, at + 1 + HAND_SET.length)
    expect(todo.map((l) => l.trim().split(/\s+/)[0])).to.deep.equal(HAND_SET)
    // Each line says what the key is and what a value looks like.
    expect(todo[0]).to.match(/^ {2}DATABASE_URL +Postgres connection string — a URL of the form postgres:\/\/user:password@host:5432\/db$/)
    expect(todo.find((l) => l.includes('STRIPE_SECRET_KEY'))).to.include('Stripe API secret key (sk_live_… / sk_test_…) — a value matching /^(sk|rk)_(live|test)_[A-Za-z0-9]+$/')
    expect(todo.find((l) => l.includes('SMTP_PASSWORD'))).to.match(/— at least 16 characters$/)
    expect(lines[at + 1 + HAND_SET.length]).to.equal('    → set them in My App/.env.development')
    // Not an error table, not "the development values file".
    expect(r.stdout).to.not.match(/^error /m)
    expect(r.stdout).to.not.include('SEVERITY')
    expect(r.stdout).to.not.include('values file')
    expect(lines.at(-2)).to.match(/^✗ development: \d+ secrets checked in My App\/\.env\.development — 7 errors \(7 values to fill in\), 0 warnings$/)

    const json = await runBin([...args, '--json'], {cwd: parent})
    expect(json.exitCode).to.equal(1)
    const e = JSON.parse(json.stdout)
    expect(e).to.deep.include({ok: false, command: 'check', exitCode: 1})
    expect(e.result.errors).to.equal(HAND_SET.length)
    expect(e.result.findings.map((f: {rule: string; key: string}) => `${f.rule} ${f.key}`)).to.deep.equal(HAND_SET.map((k) => `missing ${k}`))
    const items = e.result.todo as TodoJson[]
    expect(items.map((t) => t.key)).to.deep.equal(HAND_SET)
    expect(items[0]).to.deep.equal({
      key: 'DATABASE_URL',
      description: 'Postgres connection string',
      expected: 'a URL of the form postgres://user:password@host:5432/db',
      hint: 'add DATABASE_URL=… to My App/.env.development',
    })
    expect(e.result.todoHint).to.equal('set them in My App/.env.development')
    assertNoLeak(allValues(project, ['development', 'production']), r.stdout, r.stderr, json.stdout, json.stderr)

    // Filled in (from inside the project, where the file is .env.development), the list is gone.
    const file = path.join(project, '.env.development')
    // The random part of each value is the canary (hosts such as db.internal are not secret).
    const random: string[] = []
    const r32 = () => (random.push(draw('alnum:32')), random.at(-1)!)
    const filled = {
      DATABASE_URL: `postgres://shop:${r32()}@db.internal:5432/shop`,
      REDIS_URL: `redis://:${r32()}@cache.internal:6379/0`,
      SMTP_PASSWORD: r32(),
      STRIPE_SECRET_KEY: `sk_test_${r32()}`,
      STRIPE_WEBHOOK_SECRET: `whsec_${r32()}`,
      AWS_ACCESS_KEY_ID: `AKIA${r32().slice(0, 16).toUpperCase()}`,
      AWS_SECRET_ACCESS_KEY: `${r32()}${r32()}`,
    }
    writeFileSync(file, Object.entries(filled).map(([k, v]) => `${k}=${v}\n`).join(''), {flag: 'a'})
    const done = await runBin(['check', 'development'], {cwd: project})
    expect(done.stdout).to.not.include('To fill in')
    expect(done.stdout.split('\n').at(-2)).to.match(/^✓ development: \d+ secrets checked in \.env\.development — 0 errors, 0 warnings$/)
    expect(done.exitCode).to.equal(0)
    assertNoLeak(random, done.stdout, done.stderr)
  })

  describe('to-do or finding', () => {
    const {project} = useCheckProjects()
    const manifest = smallManifest(`  STRIPE_SECRET_KEY:\n    description: Stripe API secret key\n    services: [backend]\n  SMTP_PASSWORD:\n    services: [backend]\n`)

    it('never set is a to-do (generate for a recipe, the file for the rest); empty or a placeholder stays an error', async () => {
      const pr = project(manifest, {'.env.production': {DATABASE_URL: '', STRIPE_SECRET_KEY: 'sk_live_your-key-here'}})
      const r = await runBin(['check', 'production'], {cwd: pr.dir})
      expect(r.exitCode).to.equal(1)
      const lines = r.stdout.split('\n')
      expect(lines.filter((l) => /^(error|warning) /.test(l)).map((l) => l.split(/\s+/).slice(1, 3).join(' '))).to.deep.equal(['DATABASE_URL missing', 'STRIPE_SECRET_KEY placeholder'])
      expect(r.stdout).to.include('→ set a real value for STRIPE_SECRET_KEY in .env.production')
      expect(r.stdout).to.include('→ add DATABASE_URL=… to .env.production')
      const at = lines.indexOf('To fill in .env.production:')
      expect(lines.slice(at + 1, at + 4)).to.deep.equal(['  JWT_SECRET', '  SMTP_PASSWORD', '    → run `envsync generate production` for JWT_SECRET; set SMTP_PASSWORD in .env.production'])
      expect(lines.at(-2)).to.equal('✗ production: 5 secrets checked in .env.production — 4 errors (2 values to fill in), 0 warnings')
    })

    it('hints of rules across keys name the file too', async () => {
      const m = smallManifest(`  STRIPE_KEY: {services: [backend], required: false}\n  PADDLE_KEY: {services: [backend], required: false}\nrules:\n  - oneOf: [STRIPE_KEY, PADDLE_KEY]\n`)
      const pr = project(m, {'.env.production': {JWT_SECRET: draw('base64:48'), DATABASE_URL: pgUrl()}})
      const r = await runBin(['check', 'production'], {cwd: pr.dir})
      expect(r.stdout).to.include('→ set one of them in .env.production')
      expect(r.stdout).to.not.include('values file')
    })
  })

  describe('a values file in git (real repositories)', function () {
    before(function () {
      if (!hasGit()) this.skip()
    })
    const {project} = useCheckProjects()
    const values = () => ({JWT_SECRET: draw('base64:48'), DATABASE_URL: pgUrl()})

    /** The one git finding of `check production` in dir (text and --json agree); exits 1. Returns the text. */
    async function expectGitFinding(dir: string, want: {rule: string; message: string; hint: string}): Promise<string> {
      const text = await runBin(['check', 'production'], {cwd: dir})
      const json = JSON.parse((await runBin(['check', 'production', '--json'], {cwd: dir})).stdout)
      expect(text.exitCode).to.equal(1)
      expect(json.result.findings.filter((f: {rule: string}) => f.rule.startsWith('git-')), text.stdout).to.deep.equal([{severity: 'error', ...want}])
      expect(text.stdout).to.include(want.message).and.include(`→ ${want.hint}`)
      return text.stdout
    }

    /** A repository in dir whose history has `file` (committed on the current branch). */
    function commitValues(dir: string, file: string): void {
      git(dir, 'init', '-q')
      git(dir, 'add', file)
      git(dir, 'commit', '-q', '-m', 'add config')
    }

    const committed = (file: string) =>
      `rotate every value in it (every clone has them), run \`git rm --cached ${file}\`, add it to .gitignore, and remove it from the history (e.g. with git filter-repo)`

    it('untracked and not ignored: add it to .gitignore; staged, never committed: unstage it, nothing to rotate', async () => {
      const pr = project(smallManifest(), {'.env.production': values()})
      git(pr.dir, 'init', '-q')
      await expectGitFinding(pr.dir, {rule: 'git-ignore', message: '.env.production is not git-ignored: `git add .` would commit it', hint: 'add .env.production (or .env.*) to .gitignore'})
      writeFileSync(pr.path('.gitignore'), '.env.*\n')
      git(pr.dir, 'add', '-f', '.env.production')
      const text = await expectGitFinding(pr.dir, {
        rule: 'git-staged',
        message: '.env.production is staged in git (not committed yet): the next commit would put its values in the history',
        hint: 'run `git rm --cached .env.production`; nothing to rotate, as it was never committed (unless its values were shared another way)',
      })
      expect(text).to.not.include('rotate every')
    })

    it('committed: rotate, unstage, ignore and rewrite the history', async () => {
      const pr = project(smallManifest(), {'.env.production': values()})
      commitValues(pr.dir, '.env.production')
      await expectGitFinding(pr.dir, {rule: 'git-tracked', message: '.env.production is committed to git: its values are in the repository history', hint: committed('.env.production')})
    })

    it('committed on another branch, then removed and ignored: the history still has it', async () => {
      const pr = project(smallManifest(), {'.env.production': values()})
      git(pr.dir, 'init', '-q')
      git(pr.dir, 'commit', '-q', '--allow-empty', '-m', 'start')
      git(pr.dir, 'checkout', '-q', '-b', 'wip')
      git(pr.dir, 'add', '.env.production')
      git(pr.dir, 'commit', '-q', '-m', 'oops')
      git(pr.dir, 'checkout', '-q', 'main')
      // main has no such file (checkout removed it); the user writes it again, now ignored.
      pr.values('.env.production', values())
      writeFileSync(pr.path('.gitignore'), '.env.*\n')
      await expectGitFinding(pr.dir, {
        rule: 'git-tracked',
        message: '.env.production was committed to git before: its values are still in the repository history',
        hint: 'rotate every value in it (every clone has them) and remove it from the history (e.g. with git filter-repo)',
      })
    })

    it('in a subdirectory, committed, named as the user sees it from the project directory', async () => {
      const pr = project(smallManifest().replace('production: {}', 'production: {file: config/prod.env}'))
      mkdirSync(pr.path('config'))
      pr.values('config/prod.env', values())
      commitValues(pr.dir, 'config/prod.env')
      await expectGitFinding(pr.dir, {rule: 'git-tracked', message: 'config/prod.env is committed to git: its values are in the repository history', hint: committed('config/prod.env')})
    })
  })
})
