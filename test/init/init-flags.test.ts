/**
 * `envsync init` without questions: --yes and flags. Every created project must pass
 * `envsync check` in every environment, and no generated value may appear in init's output.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {Ajv} from 'ajv'
import {expect} from 'chai'
import {parse as parseYaml} from 'yaml'

import {catalogue} from '../../src/init/catalogue.js'
import {setPrompter} from '../../src/ui/prompt.js'
import {assertNoLeak} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {ALL_KEYS, allValues, assertProject, GENERATED_KEYS, RECOMMENDED, readEnv, runBinTimed, runSrc, ScriptedPrompter, snapshot, TempDirs} from './support.js'

/** `envsync check <env>` passes for every environment (in-process, from src/). */
async function assertChecksPass(dir: string, environments: string[], strict = false): Promise<void> {
  for (const env of environments) {
    const r = await runSrc('check', [env, '--manifest', path.join(dir, 'envsync.yaml'), ...(strict ? ['--strict'] : [])])
    expect(r.exitCode, `check ${env}:\n${r.stdout}${r.stderr}`).to.equal(0)
    expect(r.stdout).to.include('0 errors')
    if (strict) expect(r.stdout).to.include('0 warnings')
  }
}

describe('init --yes: flags only', function () {
  this.timeout(20_000)
  const dirs = new TempDirs()
  afterEach(() => {
    setPrompter(undefined)
    dirs.cleanup()
  })

  it('with no other flags: defaults, a missing --dir created, project named after it, checks pass', async () => {
    const dir = path.join(dirs.make(), 'My Shop.v2', 'app dir')
    const r = await runSrc('init', ['--yes', '--dir', dir])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('envsync set up in')
    expect(r.stdout).to.match(/development\s+\S.*\.env\.development \(6 generated\)/)
    expect(r.stdout).to.include('added .env .env.* !.env.example secrets/')
    const envs = ['development', 'staging', 'production']
    assertProject(dir, {
      project: 'app-dir',
      services: {backend: {public: false}, frontend: {public: true}},
      environments: envs,
      secrets: RECOMMENDED,
      targets: {development: ['docker'], staging: ['docker'], production: ['docker']},
    })
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).to.include.members(['.env', '.env.*', '!.env.example', 'secrets/'])
    assertNoLeak(allValues(dir, envs), r.stdout, r.stderr)
    await assertChecksPass(dir, envs)
  })

  it('takes every flag: project, services, public, environments, per-environment targets, a secret list', async () => {
    const dir = dirs.make()
    const envs = ['development', 'staging', 'production']
    const secrets = ['JWT_SECRET', 'DB_PASSWORD', 'TWOFA_ENCRYPTION_KEY', 'GRAFANA_ADMIN_PASSWORD']
    const r = await runSrc('init', [
      '--yes', '--dir', dir, '--project', 'shop', '--services', 'api, web,worker,ops', '--public', 'web',
      '--environments', envs.join(','), '--targets', 'development=docker,production=docker+kubernetes', '--secrets', secrets.join(','),
    ])
    expect(r.exitCode, r.stderr).to.equal(0)
    const {manifest, values} = assertProject(dir, {
      project: 'shop',
      services: {api: {public: false}, web: {public: true}, worker: {public: false}, ops: {public: false}},
      environments: envs,
      secrets: ['JWT_SECRET', 'DB_PASSWORD', 'TWOFA_ENCRYPTION_KEY', 'GRAFANA_ADMIN_PASSWORD'],
      // An environment --targets does not name gets no target.
      targets: {development: ['docker'], staging: [], production: ['docker', 'kubernetes']},
    })
    expect(manifest.environment('production').targets?.kubernetes?.namespace).to.equal('shop')
    expect(manifest.secret('DB_PASSWORD')!.services).to.deep.equal(['api', 'worker'])
    expect(manifest.secret('GRAFANA_ADMIN_PASSWORD')!.services).to.deep.equal(['ops'])
    expect(Object.keys(values.staging).sort()).to.deep.equal([...secrets].sort())
    assertNoLeak(allValues(dir, envs), r.stdout, r.stderr)
    await assertChecksPass(dir, envs)
  })

  it('--targets docker applies to every environment; other kinds get their config', async () => {
    const a = dirs.make()
    let r = await runSrc('init', ['--yes', '--dir', a, '--environments', 'dev,qa,prod', '--targets', 'docker'])
    expect(r.exitCode, r.stderr).to.equal(0)
    assertProject(a, {
      project: path.basename(a).toLowerCase(),
      services: {backend: {public: false}, frontend: {public: true}},
      environments: ['dev', 'qa', 'prod'],
      secrets: RECOMMENDED,
      targets: {dev: ['docker'], qa: ['docker'], prod: ['docker']},
    })
    await assertChecksPass(a, ['dev', 'qa', 'prod'])

    const b = dirs.make()
    r = await runSrc('init', ['--yes', '--dir', b, '--project', 'shop', '--environments', 'staging,production', '--targets', 'railway,production=render+kubernetes'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const {manifest} = assertProject(b, {
      project: 'shop',
      services: {backend: {public: false}, frontend: {public: true}},
      environments: ['staging', 'production'],
      secrets: RECOMMENDED,
      targets: {staging: ['railway'], production: ['kubernetes', 'render']},
    })
    expect(manifest.environment('staging').targets?.railway).to.include({project: 'shop'})
    expect(manifest.environment('production').targets?.kubernetes?.namespace).to.equal('shop')
    await assertChecksPass(b, ['staging', 'production'])
  })

  describe('--targets means every kind written', () => {
    const envs = ['development', 'staging', 'production']
    const cases: [string, Record<string, string[]>][] = [
      ['docker,kubernetes', {development: ['docker', 'kubernetes'], staging: ['docker', 'kubernetes'], production: ['docker', 'kubernetes']}],
      ['kubernetes docker', {development: ['docker', 'kubernetes'], staging: ['docker', 'kubernetes'], production: ['docker', 'kubernetes']}],
      ['docker+docker', {development: ['docker'], staging: ['docker'], production: ['docker']}],
      ['production=docker,production=kubernetes', {development: [], staging: [], production: ['docker', 'kubernetes']}],
      ['docker,railway,production=render', {development: ['docker', 'railway'], staging: ['docker', 'railway'], production: ['render']}],
      ['development=docker, production=docker+kubernetes', {development: ['docker'], staging: [], production: ['docker', 'kubernetes']}],
    ]
    for (const [targets, want] of cases) {
      it(`--targets '${targets}'`, async () => {
        const dir = dirs.make()
        const r = await runSrc('init', ['--yes', '--dir', dir, '--project', 'shop', '--targets', targets])
        expect(r.exitCode, r.stderr).to.equal(0)
        assertProject(dir, {project: 'shop', services: {backend: {public: false}, frontend: {public: true}}, environments: envs, secrets: RECOMMENDED, targets: want})
      })
    }
  })

  describe('protected environments', () => {
    const cases: {environments: string; flag?: string; want: string[]}[] = [
      {environments: 'development,staging,production', want: ['production']},
      {environments: 'dev,prod', want: ['prod']},
      {environments: 'qa,prd,live', want: ['prd', 'live']},
      {environments: 'preprod,prod-eu,eu-live-2,delivery,olive', want: ['prod-eu', 'eu-live-2']},
      {environments: 'development,staging,production', flag: 'staging,production', want: ['staging', 'production']},
      {environments: 'dev,demo', flag: 'demo', want: ['demo']},
      {environments: 'development,production', flag: 'none', want: []},
    ]
    for (const c of cases) {
      it(`--environments ${c.environments}${c.flag === undefined ? '' : ` --protected ${c.flag}`} protects ${c.want.join(', ') || 'none'}`, async () => {
        const dir = dirs.make()
        const environments = c.environments.split(',')
        const r = await runSrc('init', ['--yes', '--dir', dir, '--project', 'shop', '--environments', c.environments, ...(c.flag === undefined ? [] : ['--protected', c.flag])])
        expect(r.exitCode, r.stderr).to.equal(0)
        const targets = Object.fromEntries(environments.map((e) => [e, ['docker']]))
        assertProject(dir, {project: 'shop', services: {backend: {public: false}, frontend: {public: true}}, environments, secrets: RECOMMENDED, targets, protected: c.want})
      })
    }
  })

  it('under umask 000 nothing it creates is writable by others: directories 0755, values 0600', async () => {
    const parent = dirs.make()
    const dir = path.join(parent, 'new', 'app')
    const r = await runBin(['init', '--yes', '--dir', dir], {umask: 0o000})
    expect(r.exitCode, r.stderr).to.equal(0)
    for (const d of [path.join(parent, 'new'), dir]) expect((statSync(d).mode & 0o777).toString(8), d).to.equal('755')
    for (const [file, {mode}] of Object.entries(snapshot(dir))) {
      expect(mode & 0o022, `${file} mode ${mode.toString(8)}`).to.equal(0)
      if (file.startsWith('.env.')) expect(mode.toString(8), file).to.equal('600')
    }
  })

  it('the $schema modeline resolves offline: envsync.schema.json beside the manifest validates it', async () => {
    const dir = dirs.make()
    const r = await runSrc('init', ['--yes', '--dir', dir, '--secrets', 'all', '--targets', 'docker,production=kubernetes+railway+render'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/schema\s+\S*envsync\.schema\.json/)
    const text = readFileSync(path.join(dir, 'envsync.yaml'), 'utf8')
    const ref = text.split('\n')[0].replace('# yaml-language-server: $schema=', '')
    expect(ref, 'a path beside the manifest, not a URL').to.equal('./envsync.schema.json')
    const schema = JSON.parse(readFileSync(path.resolve(dir, ref), 'utf8'))
    const validate = new Ajv({strict: false, allErrors: true}).compile(schema)
    expect(validate(parseYaml(text)), JSON.stringify(validate.errors)).to.equal(true)
    // The schema is real: a misspelt key fails it.
    expect(validate({...parseYaml(text), enviroments: {}})).to.equal(false)
  })

  it('every target in every environment: no two environments write one destination (Render services per environment)', async () => {
    const dir = dirs.make()
    const r = await runSrc('init', ['--yes', '--dir', dir, '--targets', 'docker,kubernetes,railway,render'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const manifest = parseYaml(readFileSync(path.join(dir, 'envsync.yaml'), 'utf8'))
    expect(manifest.environments.production.targets.render.services.backend).to.equal('backend')
    expect(manifest.environments.staging.targets.render.services.backend).to.equal('backend-staging')
    // diff resolves every environment's destinations first, and refuses a shared one.
    const d = await runBin(['diff', 'development', '--target', 'docker'], {cwd: dir})
    expect(d.exitCode, d.stdout + d.stderr).to.equal(0)
  })

  it('--secrets recommended and --secrets all', async () => {
    const rec = dirs.make()
    let r = await runSrc('init', ['--yes', '--dir', rec, '--secrets', 'recommended', '--environments', 'development,production'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(Object.keys(readEnv(path.join(rec, '.env.production')))).to.deep.equal(RECOMMENDED)
    await assertChecksPass(rec, ['development', 'production'])

    const all = dirs.make()
    r = await runSrc('init', ['--yes', '--dir', all, '--secrets', 'all', '--services', 'backend,frontend,monitoring', '--environments', 'development,production'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const {manifest, values} = assertProject(all, {
      project: path.basename(all).toLowerCase(),
      services: {backend: {public: false}, frontend: {public: true}, monitoring: {public: false}},
      environments: ['development', 'production'],
      secrets: ALL_KEYS,
      targets: {development: ['docker'], production: ['docker']},
    })
    // Only keys with a recipe get a value; the rest (provider keys) are for the user to fill in.
    expect(Object.keys(values.production).sort()).to.deep.equal([...GENERATED_KEYS].sort())
    expect(manifest.secret('STRIPE_SECRET_KEY')!.format).to.deep.equal({regex: '^(sk|rk)_(live|test)_[A-Za-z0-9]+$'})
    expect(manifest.secret('SMTP_PASSWORD')!.minLength).to.equal(16)
    const smtp = catalogue.find((e) => e.key === 'SMTP_PASSWORD')!
    expect(manifest.secret('SMTP_PASSWORD')!.description).to.equal(smtp.description)
    // check names exactly the hand-set keys as missing, and nothing else.
    const c = await runSrc('check', ['production', '--manifest', path.join(all, 'envsync.yaml'), '--json'])
    expect(c.exitCode).to.equal(1)
    const findings = JSON.parse(c.stdout).result.findings as {rule: string; key: string; severity: string}[]
    const handSet = catalogue.filter((e) => !e.generate && e.required !== false).map((e) => e.key)
    expect(findings.filter((f) => f.severity === 'error').map((f) => `${f.rule}:${f.key}`).sort()).to.deep.equal(handSet.map((k) => `missing:${k}`).sort())
    assertNoLeak(allValues(all, ['development', 'production']), r.stdout, r.stderr, c.stdout)
  })

  it('the .gitignore it writes really ignores the values files (git check-ignore, check --strict)', async function () {
    if (spawnSync('git', ['--version']).status !== 0) this.skip()
    const dir = dirs.make()
    expect(spawnSync('git', ['init', '-q'], {cwd: dir}).status).to.equal(0)
    const r = await runSrc('init', ['--yes', '--dir', dir, '--environments', 'development,production'])
    expect(r.exitCode, r.stderr).to.equal(0)
    for (const f of ['.env.development', '.env.production', '.env', 'secrets/production/JWT_SECRET']) {
      expect(spawnSync('git', ['check-ignore', '-q', '--no-index', f], {cwd: dir}).status, `${f} ignored`).to.equal(0)
    }
    for (const f of ['envsync.yaml', 'env.template', '.env.example']) {
      expect(spawnSync('git', ['check-ignore', '-q', '--no-index', f], {cwd: dir}).status, `${f} not ignored`).to.equal(1)
    }
    await assertChecksPass(dir, ['development', 'production'], true)
  })

  it('--force with --yes keeps every existing value and fills in only what is missing', async () => {
    const dir = dirs.make()
    expect((await runSrc('init', ['--yes', '--dir', dir, '--environments', 'development,production'])).exitCode).to.equal(0)
    const before = {development: readEnv(path.join(dir, '.env.development')), production: readEnv(path.join(dir, '.env.production'))}
    const again = await runSrc('init', ['--yes', '--dir', dir, '--environments', 'development,production'])
    expect(again.exitCode).to.equal(2)
    expect(again.stderr).to.include('already exists')
    const r = await runSrc('init', ['--yes', '--force', '--dir', dir, '--environments', 'development,production', '--secrets', [...RECOMMENDED, 'TWOFA_ENCRYPTION_KEY'].join(',')])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/\.env\.development \(1 generated\)/)
    expect(r.stdout).to.not.include('.gitignore') // nothing to add
    for (const env of ['development', 'production'] as const) {
      const now = readEnv(path.join(dir, `.env.${env}`))
      for (const [k, v] of Object.entries(before[env])) expect(now[k], `${env} ${k} kept`).to.equal(v)
      expect(now.TWOFA_ENCRYPTION_KEY).to.match(/^[0-9a-f]{64}$/)
    }
    await assertChecksPass(dir, ['development', 'production'])
  })

  it('a failure after the values are written leaves no manifest, so a plain rerun finishes the job', async () => {
    const dir = dirs.make()
    mkdirSync(path.join(dir, '.gitignore')) // updating .gitignore fails (EISDIR), after the values files
    const r = await runSrc('init', ['--yes', '--dir', dir, '--environments', 'development,production'])
    expect(r.exitCode, r.stdout + r.stderr).to.not.equal(0)
    expect(r.stderr).to.not.match(/\n\s+at /)
    expect(existsSync(path.join(dir, 'envsync.yaml')), 'manifest written before the rest').to.equal(false)
    const written = readEnv(path.join(dir, '.env.production'))

    rmSync(path.join(dir, '.gitignore'), {recursive: true})
    const again = await runSrc('init', ['--yes', '--dir', dir, '--environments', 'development,production'])
    expect(again.exitCode, again.stderr).to.equal(0)
    const {values} = assertProject(dir, {
      project: path.basename(dir).toLowerCase(),
      services: {backend: {public: false}, frontend: {public: true}},
      environments: ['development', 'production'],
      secrets: RECOMMENDED,
      targets: {development: ['docker'], production: ['docker']},
    })
    expect(values.production, 'values from the first run kept').to.deep.equal(written)
    await assertChecksPass(dir, ['development', 'production'])
  })

  describe('bad flag values: exit 2, a clear message and a suggestion, nothing written', () => {
    const cases: {args: string[]; message: string; suggestion: string | RegExp}[] = [
      {args: ['--services', 'backend,Front_End'], message: 'invalid service name "Front_End" in --services', suggestion: 'e.g. "front-end"'},
      {args: ['--services', 'api,worker', '--public', 'web'], message: '--public: "web" is not one of the services', suggestion: 'services: api, worker'},
      {args: ['--public', 'fronted'], message: '--public: "fronted" is not one of the services', suggestion: 'did you mean "frontend"?'},
      {args: ['--targets', 'dockr'], message: '--targets: unknown target "dockr"', suggestion: 'did you mean "docker"?'},
      {args: ['--targets', 'production=docker+kube'], message: '--targets: unknown target "kube"', suggestion: /did you mean "kubernetes"\?|use docker, kubernetes, railway, render/},
      {args: ['--targets', 'prod=docker'], message: '--targets: unknown environment "prod"', suggestion: 'did you mean "production"?'},
      {args: ['--environments', 'dev,prod', '--targets', 'production=docker'], message: '--targets: unknown environment "production"', suggestion: 'environments: dev, prod'},
      {args: ['--secrets', 'JWT_SECRT'], message: '--secrets: "JWT_SECRT" is not in the catalogue', suggestion: 'did you mean "JWT_SECRET"?'},
      {args: ['--secrets', 'MY_KEY'], message: '--secrets: "MY_KEY" is not in the catalogue', suggestion: '"recommended"/"all"'},
      {args: ['--project', 'Shop'], message: 'invalid project name "Shop" in --project', suggestion: 'e.g. "shop"'},
      {args: ['--environments', 'Production'], message: 'invalid environment name "Production" in --environments', suggestion: 'e.g. "production"'},
      {args: ['--environments', ','], message: '--environments needs at least one environment', suggestion: ''},
      {args: ['--targets', ''], message: '--targets needs at least one target', suggestion: 'e.g. --targets docker'},
      {args: ['--targets', ' , '], message: '--targets needs at least one target', suggestion: 'e.g. --targets docker'},
      {args: ['--targets', 'production='], message: '--targets: "production=" names no target', suggestion: 'e.g. "production=docker"'},
      {args: ['--targets', 'production=docker,kubernetes'], message: '--targets: "kubernetes" after "production=docker" is ambiguous', suggestion: 'write production=docker+kubernetes for both in production'},
      {args: ['--targets', 'development=docker,production=railway,render'], message: '--targets: "render" after "production=railway" is ambiguous', suggestion: '--targets render,development=docker,production=railway'},
      {args: ['--targets', 'production==docker'], message: '--targets: unknown target "=docker"', suggestion: 'did you mean "docker"?'},
      {args: ['--protected', 'prod'], message: '--protected: unknown environment "prod"', suggestion: 'did you mean "production"?'},
      {args: ['--protected', ''], message: '--protected needs at least one environment', suggestion: '--protected none'},
    ]
    for (const c of cases) {
      it(`init --yes ${c.args.join(' ')}`, async () => {
        const parent = dirs.make()
        const dir = path.join(parent, 'new')
        const r = await runSrc('init', ['--yes', '--dir', dir, ...c.args])
        expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
        const [first, second] = r.stderr.split('\n')
        expect(first).to.equal(`error ${c.message}`)
        if (c.suggestion) {
          expect(second).to.match(/^ {2}→ /)
          if (typeof c.suggestion === 'string') expect(second).to.include(c.suggestion)
          else expect(second).to.match(c.suggestion)
        }
        expect(r.stderr).to.not.match(/\n\s+at /)
        expect(r.stdout).to.equal('')
        expect(existsSync(dir), '--dir created for a failed init').to.equal(false)
        expect(snapshot(parent)).to.deep.equal({})
      })
    }

    it('an existing project is left as it was, and --json gives one error envelope', async () => {
      const dir = dirs.make()
      writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n')
      mkdirSync(path.join(dir, 'src'))
      writeFileSync(path.join(dir, 'src', 'index.ts'), 'export {}\n')
      const before = snapshot(dir)
      const r = await runSrc('init', ['--yes', '--dir', dir, '--targets', 'dockr', '--json'])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.equal('')
      const envelope = JSON.parse(r.stdout)
      expect(envelope).to.deep.equal({
        ok: false,
        command: 'init',
        exitCode: 2,
        error: {code: 'USAGE', message: '--targets: unknown target "dockr"', exitCode: 2, suggestion: 'did you mean "docker"?'},
      })
      expect(snapshot(dir)).to.deep.equal(before)
    })
  })

  it('--json prints exactly one envelope with the result, and nothing else', async () => {
    const dir = dirs.make()
    const r = await runSrc('init', ['--yes', '--dir', dir, '--environments', 'development,production', '--json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.equal('')
    const envelope = JSON.parse(r.stdout) // throws on anything but one JSON document
    expect(envelope).to.include({ok: true, command: 'init', exitCode: 0})
    expect(envelope.result.environments).to.deep.equal([
      {environment: 'development', file: path.join(dir, '.env.development'), generated: RECOMMENDED.length},
      {environment: 'production', file: path.join(dir, '.env.production'), generated: RECOMMENDED.length},
    ])
    expect(envelope.result.manifest).to.equal(path.join(dir, 'envsync.yaml'))
    expect(envelope.result.gitignore).to.deep.equal(['.env', '.env.*', '!.env.example', 'secrets/'])
    assertNoLeak(allValues(dir, ['development', 'production']), r.stdout, r.stderr)
  })

  describe('the real binary (stdin not a terminal)', () => {
    it('without --yes exits 2 at once, naming the flags to use, and writes nothing', async () => {
      const parent = dirs.make()
      const dir = path.join(parent, 'p')
      // stdin stays open: a prompt would wait forever, and the deadline would fail the test.
      const r = await runBinTimed(['init', '--dir', dir], {timeoutMs: 5000})
      expect(r.exitCode, r.stderr).to.equal(2)
      expect(r.stderr).to.include('no terminal to ask')
      for (const flag of ['--yes', '--project', '--services', '--environments', '--secrets', '--targets']) expect(r.stderr).to.include(flag)
      expect(r.stdout).to.equal('')
      expect(snapshot(parent)).to.deep.equal({})
    })

    it('without --yes but with --json: one error envelope, code NOT_INTERACTIVE', async () => {
      const dir = path.join(dirs.make(), 'p')
      const r = await runBinTimed(['init', '--dir', dir, '--json'], {timeoutMs: 8000})
      expect(r.exitCode).to.equal(2)
      const envelope = JSON.parse(r.stdout)
      expect(envelope).to.include({ok: false, command: 'init', exitCode: 2})
      expect(envelope.error.code).to.equal('NOT_INTERACTIVE')
      expect(envelope.error.suggestion).to.include('--yes')
      expect(existsSync(dir)).to.equal(false)
    })

    it('with --yes: the real stdout/stderr carry no value, and check passes through the binary', async () => {
      const dir = dirs.make()
      const envs = ['development', 'staging', 'production']
      const r = await runBinTimed(['init', '--yes', '--dir', dir, '--services', 'api,web', '--public', 'web'], {timeoutMs: 8000, closeStdin: true})
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.include('envsync set up in')
      assertProject(dir, {
        project: path.basename(dir).toLowerCase(),
        services: {api: {public: false}, web: {public: true}},
        environments: envs,
        secrets: RECOMMENDED,
        targets: {development: ['docker'], staging: ['docker'], production: ['docker']},
      })
      const outputs = [r.stdout, r.stderr]
      for (const env of envs) {
        const c = await runBinTimed(['check', env], {cwd: dir, timeoutMs: 8000, closeStdin: true})
        expect(c.exitCode, `check ${env}: ${c.stdout}${c.stderr}`).to.equal(0)
        outputs.push(c.stdout, c.stderr)
      }
      assertNoLeak(allValues(dir, envs), ...outputs)
    })
  })

  it('an installed prompter is not consulted with --yes', async () => {
    const p = new ScriptedPrompter([])
    setPrompter(p)
    const dir = dirs.make()
    const r = await runSrc('init', ['--yes', '--dir', dir])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(p.asked).to.deep.equal([])
  })
})
