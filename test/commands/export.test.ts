import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'

import {Ajv} from 'ajv'
import {expect} from 'chai'
import dotenv from 'dotenv'
import YAML from 'yaml'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN, runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {valuesFileText} from '../export/support.js'

const MANIFEST = `version: 1
project: shop
services:
  backend: {}
  frontend: {public: true}
  worker: {}
environments:
  development:
    targets:
      docker: {}
  staging: {}
  production:
    targets:
      kubernetes: {namespace: prod}
secrets:
  JWT_SECRET:
    services: [backend]
  TLS_KEY:
    services: [backend, worker]
  QUOTES:
    services: [backend]
  DOLLAR:
    services: [backend, worker]
  EMPTY:
    services: [worker]
    required: false
  VITE_API_URL:
    services: [frontend]
    sensitive: false
    default: http://localhost:3000
  ONLY_PROD:
    services: [backend]
    environments: [production]
  UNSET:
    services: [backend]
    required: false
`

type Values = Record<string, string>
type EnvMap = Record<string, string>
const pick = (v: Values, keys: string[]) => Object.fromEntries(keys.map((k) => [k, v[k]]))

describe('envsync export', function () {
  this.timeout(60_000)
  let p: TempProject
  let dev: Values
  let canaries: string[]
  const run = (...args: string[]) => runBin(args, {cwd: p.dir})

  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', MANIFEST, 0o644)
    canaries = [canary('JWT'), canary('PEM'), canary('Q'), canary('D')]
    dev = {
      JWT_SECRET: canaries[0],
      TLS_KEY: `-----BEGIN PRIVATE KEY-----\n${canaries[1]}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n`,
      QUOTES: `it's "${canaries[2]}" and \`ticks\``,
      DOLLAR: `$HOME \${${canaries[3]}} $$ =#  `,
      EMPTY: '',
    }
    p.write('.env.development', valuesFileText(dev))
  })
  afterEach(() => p.cleanup())

  /** What development exports: its values plus the manifest default; UNSET has none, ONLY_PROD is not for development. */
  const devExport = (): Values => ({...dev, VITE_API_URL: 'http://localhost:3000'})

  describe('formats through the real binary', () => {
    it('dotenv (the default): the dotenv package reads every value back byte-exact; missing keys are named on stderr', async () => {
      const r = await run('export', 'development')
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(dotenv.parse(r.stdout)).to.deep.equal(devExport())
      expect(Object.keys(dotenv.parse(r.stdout))).to.deep.equal(['JWT_SECRET', 'TLS_KEY', 'QUOTES', 'DOLLAR', 'EMPTY', 'VITE_API_URL'])
      expect(r.stderr).to.match(/1 key has no value in \.env\.development and was left out: UNSET/)
      // UNSET has no recipe: generate would not give it a value (issue 8 #21).
      expect(r.stderr).to.include('→ set it in .env.development')
      expect(r.stderr).to.not.include('envsync generate')
      assertNoLeak(canaries, r.stderr)
      expect(r.stderr, 'no terminal warning when stdout is a pipe').not.to.include('printing secret values')
    })

    it('json: one object of the values', async () => {
      const r = await run('export', 'development', '--format', 'json')
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout)).to.deep.equal(devExport())
    })

    it('compose: services: <svc>: environment: — valid YAML, $ doubled, one entry per service', async () => {
      const r = await run('export', 'development', '--format', 'compose')
      expect(r.exitCode, r.stderr).to.equal(0)
      const doc = YAML.parse(r.stdout) as {services: Record<string, {environment: EnvMap}>}
      expect(Object.keys(doc.services)).to.deep.equal(['backend', 'frontend', 'worker'])
      const undouble = (env: EnvMap) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replaceAll('$$', '$')]))
      expect(undouble(doc.services.backend.environment)).to.deep.equal(pick(dev, ['JWT_SECRET', 'TLS_KEY', 'QUOTES', 'DOLLAR']))
      expect(undouble(doc.services.frontend.environment)).to.deep.equal({VITE_API_URL: 'http://localhost:3000'})
      expect(undouble(doc.services.worker.environment)).to.deep.equal(pick(dev, ['TLS_KEY', 'DOLLAR', 'EMPTY']))
      expect(doc.services.backend.environment.DOLLAR).to.equal(dev.DOLLAR.replaceAll('$', () => '$$'))
      expect(r.stdout).not.to.include(dev.DOLLAR)
    })

    it('compose: the fragment is a valid Compose file (Compose Specification schema)', async function () {
      const spec = new URL('../fixtures/compose-spec.json', import.meta.url)
      if (!existsSync(spec)) {
        process.stderr.write('      ⚠ test/fixtures/compose-spec.json missing: schema check skipped\n')
        this.skip()
      }
      const schema = JSON.parse(readFileSync(spec, 'utf8'))
      const validate = new Ajv({strict: false, allErrors: true}).compile({...schema, $schema: 'http://json-schema.org/draft-07/schema#'})
      const r = await run('export', 'development', '--format', 'compose')
      expect(validate(YAML.parse(r.stdout)), JSON.stringify(validate.errors)).to.equal(true)
    })

    it('k8s: one Secret per service, --- separated, default name and no namespace without a kubernetes target', async () => {
      const r = await run('export', 'development', '--format', 'k8s')
      expect(r.exitCode, r.stderr).to.equal(0)
      const docs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS()) as {metadata: {name: string; namespace?: string; labels: EnvMap}; data: EnvMap; type: string}[]
      expect(docs.map((d) => d.metadata.name)).to.deep.equal(['shop-backend', 'shop-frontend', 'shop-worker'])
      expect(docs.map((d) => d.metadata.namespace)).to.deep.equal([undefined, undefined, undefined])
      expect(docs[0].metadata.labels).to.deep.equal({'app.kubernetes.io/component': 'backend', 'app.kubernetes.io/managed-by': 'envsync', 'app.kubernetes.io/part-of': 'shop'})
      expect(docs.every((d) => d.type === 'Opaque')).to.equal(true)
      const decode = (data: EnvMap) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
      expect(decode(docs[0].data)).to.deep.equal(pick(dev, ['DOLLAR', 'JWT_SECRET', 'QUOTES', 'TLS_KEY']))
      expect(decode(docs[2].data)).to.deep.equal(pick(dev, ['DOLLAR', 'EMPTY', 'TLS_KEY']))
      expect(r.stdout).not.to.include('creationTimestamp')
    })

    it('k8s: name, namespace and labels of the kubernetes target, as push uses them', async () => {
      p.write('.env.production', valuesFileText({JWT_SECRET: 'a', ONLY_PROD: 'b'}))
      const r = await run('export', 'production', '--format', 'k8s', '--service', 'backend')
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(YAML.parseAllDocuments(r.stdout)).to.have.length(1)
      const doc = YAML.parse(r.stdout)
      expect(doc.metadata).to.deep.equal({
        labels: {'app.kubernetes.io/component': 'backend', 'app.kubernetes.io/managed-by': 'envsync', 'app.kubernetes.io/part-of': 'shop'},
        name: 'shop-backend',
        namespace: 'prod',
      })
      expect(Object.keys(doc.data)).to.deep.equal(['JWT_SECRET', 'ONLY_PROD'])
    })

    it('k8s: a service with no key of the environment is no Secret, and --service names it as such', async () => {
      p.write('envsync.yaml', MANIFEST.replace('  worker: {}\n', '  worker: {}\n  cron: {}\n'))
      p.write('.env.production', valuesFileText({JWT_SECRET: 'a', ONLY_PROD: 'b'}))
      const all = await run('export', 'production', '--format', 'k8s')
      expect(all.exitCode, all.stderr).to.equal(0)
      expect(all.stderr).not.to.include('cron')
      const one = await run('export', 'production', '--format', 'k8s', '--service', 'cron')
      expect(one.exitCode).to.equal(2)
      expect(one.stderr).to.include('no key of production goes to cron')
    })
  })

  describe('--service', () => {
    it('keeps only the keys of that service, in every format', async () => {
      const worker = pick(dev, ['TLS_KEY', 'DOLLAR', 'EMPTY'])
      const d = await run('export', 'development', '--service', 'worker')
      expect(dotenv.parse(d.stdout)).to.deep.equal(worker)
      expect(d.stderr, 'UNSET is not a worker key').not.to.include('UNSET')
      const j = await run('export', 'development', '-f', 'json', '-s', 'frontend')
      expect(JSON.parse(j.stdout)).to.deep.equal({VITE_API_URL: 'http://localhost:3000'})
      const c = await run('export', 'development', '-f', 'compose', '-s', 'worker')
      expect(Object.keys(YAML.parse(c.stdout).services)).to.deep.equal(['worker'])
      const k = await run('export', 'development', '-f', 'k8s', '-s', 'worker')
      expect(YAML.parseAllDocuments(k.stdout).map((x) => x.toJS().metadata.name)).to.deep.equal(['shop-worker'])
    })
  })

  describe('--out', () => {
    it('writes a 0600 file atomically and prints no value', async () => {
      writeFileSync(p.path('exported.env'), 'OLD=1\n', {mode: 0o644})
      const r = await run('export', 'development', '--out', 'exported.env')
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/^wrote exported\.env \(6 keys, mode 0600\)\n$/)
      assertNoLeak(canaries, r.stdout, r.stderr)
      expect(statSync(p.path('exported.env')).mode & 0o777).to.equal(0o600)
      expect(dotenv.parse(readFileSync(p.path('exported.env')))).to.deep.equal(devExport())
    })

    it('with --json: the envelope names the file and holds no text', async () => {
      const r = await run('export', 'development', '-f', 'k8s', '-o', 'secrets.yaml', '--json')
      expect(r.exitCode, r.stderr).to.equal(0)
      const env = JSON.parse(r.stdout)
      expect(env.result).to.include({file: 'secrets.yaml', format: 'k8s'})
      expect(env.result.text).to.equal(undefined)
      expect(env.result.secrets).to.deep.equal(['shop-backend', 'shop-frontend', 'shop-worker'])
      assertNoLeak(canaries, r.stdout, r.stderr)
      expect(statSync(p.path('secrets.yaml')).mode & 0o777).to.equal(0o600)
    })
  })

  describe('the terminal warning', () => {
    const hasScript = spawnSync('script', ['--version']).status === 0
    const inTerminal = (args: string[]) => {
      const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
      return spawnSync('script', ['-qec', command, '/dev/null'], {cwd: p.dir, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 30_000})
    }

    it('warns on stderr when values go to a terminal (driven through `script`)', function () {
      if (!hasScript) {
        process.stderr.write('      ⚠ `script` (util-linux) missing: terminal case skipped\n')
        this.skip()
      }
      const r = inTerminal(['export', 'development'])
      expect(r.status, r.stdout).to.equal(0)
      expect(r.stdout).to.include('warning printing secret values to the terminal')
      expect(r.stdout).to.include('JWT_SECRET=')
    })

    it('does not warn with --out at a terminal, nor when stdout is a pipe', async function () {
      if (hasScript) {
        const t = inTerminal(['export', 'development', '--out', 'x.env'])
        expect(t.status, t.stdout).to.equal(0)
        expect(t.stdout).not.to.include('printing secret values')
      }
      const r = await run('export', 'development', '-f', 'json')
      expect(r.stderr).not.to.include('printing secret values')
    })
  })

  describe('errors: exit 2 with a suggestion', () => {
    it('unknown environment', async () => {
      const r = await run('export', 'developmnt')
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('unknown environment "developmnt"')
      expect(r.stderr).to.include('did you mean "development"?')
      expect(r.stdout).to.equal('')
    })

    it('unknown service', async () => {
      const r = await run('export', 'development', '--service', 'workr')
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('unknown service "workr"')
      expect(r.stderr).to.include('did you mean "worker"?')
    })

    it('unknown format', async () => {
      const r = await run('export', 'development', '--format', 'yaml')
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('dotenv, json, k8s, compose')
      expect(r.stderr).to.match(/→ /)
      expect(r.stdout).to.equal('')
    })

    it('a service the kubernetes target does not deploy', async () => {
      p.write('envsync.yaml', MANIFEST.replace('kubernetes: {namespace: prod}', 'kubernetes: {namespace: prod, services: [backend]}'), 0o644)
      const r = await run('export', 'production', '-f', 'k8s', '-s', 'worker')
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('does not deploy worker')
      expect(r.stderr).to.include('services of that target: backend')
    })

    it('--json: the error envelope', async () => {
      const r = await run('export', 'prod', '--json')
      expect(r.exitCode).to.equal(2)
      const env = JSON.parse(r.stdout)
      expect(env).to.deep.include({ok: false, command: 'export', exitCode: 2})
      expect(env.error.suggestion).to.equal('did you mean "production"?')
    })
  })

  describe('refusals: exit 1, naming keys, never values', () => {
    it('nothing to export', async () => {
      const r = await run('export', 'staging', '--service', 'backend')
      expect(r.exitCode).to.equal(1)
      expect(r.stderr).to.include('nothing to export')
      // None of these keys has a recipe: the hint names the values file, not generate (issue 8 #21).
      expect(r.stderr).to.include('set them in .env.staging')
      expect(r.stderr).to.not.include('envsync generate')
    })

    it('a value no dotenv syntax can hold (dotenv only; json still works)', async () => {
      const weird = `a'b"c\`d #e`
      p.write('envsync.yaml', MANIFEST.replace('default: http://localhost:3000', `default: ${JSON.stringify(weird)}`), 0o644)
      const r = await run('export', 'development', '-s', 'frontend')
      expect(r.exitCode).to.equal(1)
      expect(r.stderr).to.include('the value of VITE_API_URL cannot be written as dotenv')
      expect(r.stderr).not.to.include(weird)
      expect(r.stdout).to.equal('')
      const j = await run('export', 'development', '-s', 'frontend', '-f', 'json')
      expect(JSON.parse(j.stdout)).to.deep.equal({VITE_API_URL: weird})
    })
  })

  it('--json: the envelope holds the text, and the values appear once', async () => {
    const plain = await run('export', 'development', '-f', 'json')
    const r = await run('export', 'development', '-f', 'json', '--json')
    expect(r.exitCode, r.stderr).to.equal(0)
    const env = JSON.parse(r.stdout)
    expect(env).to.deep.include({ok: true, command: 'export', exitCode: 0})
    expect(env.result).to.deep.include({environment: 'development', format: 'json', missing: ['UNSET']})
    expect(env.result.keys).to.deep.equal(['JWT_SECRET', 'TLS_KEY', 'QUOTES', 'DOLLAR', 'EMPTY', 'VITE_API_URL'])
    expect(env.result.text).to.equal(plain.stdout)
    expect(r.stdout.split(canaries[0]).length - 1, 'JWT_SECRET printed once').to.equal(1)
    expect(r.stderr, 'notes are in the envelope, not on stderr').to.equal('')
  })

  it('canary: check, diff and push --dry-run never print what export prints', async () => {
    const exported = await run('export', 'development')
    for (const c of canaries) expect(exported.stdout, 'export does print the values').to.include(c)
    const outputs: string[] = []
    for (const args of [
      ['check', 'development'],
      ['check', 'development', '--json'],
      ['diff', 'development'],
      ['diff', 'development', '--json', '-v'],
      ['push', 'development', '--dry-run', '--force'],
      ['push', 'development', '--dry-run', '--force', '--json'],
    ]) {
      const r = await run(...args)
      expect(r.stdout + r.stderr, args.join(' ')).to.not.equal('')
      outputs.push(r.stdout, r.stderr)
    }
    assertNoLeak(canaries, ...outputs)
  })
})
