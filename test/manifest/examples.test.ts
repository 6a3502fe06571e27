import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

// The named export: under Node16 resolution the default import of this CommonJS package is its module object.
import {Ajv, type ValidateFunction} from 'ajv'
import {expect} from 'chai'
import {parse} from 'yaml'

import {generatedFiles} from '../../src/manifest/generated.js'
import {loadManifest} from '../../src/manifest/load.js'
import {renderTemplate} from '../../src/manifest/template.js'
import {ROOT} from '../helpers/cli.js'

const MANIFESTS = path.join(ROOT, 'manifests')
const SCHEMA_FILE = path.join(MANIFESTS, 'envsync.schema.json')
const examples = readdirSync(MANIFESTS)
  .filter((f) => f.endsWith('.yaml'))
  .sort()

type Json = Record<string, any>

/** The example manifest as plain data, fresh for each mutation. */
function example(): Json {
  return parse(readFileSync(path.join(MANIFESTS, 'example.yaml'), 'utf8')) as Json
}

function errorsOf(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n')
}

describe('example manifests', () => {
  it('there are several, covering different stacks', () => {
    expect(examples).to.include.members(['example.yaml', 'render-workers.yaml', 'k8s-only.yaml'])
  })

  for (const name of examples) {
    describe(name, () => {
      const file = path.join(MANIFESTS, name)

      it('points editors at the JSON Schema on its first line', () => {
        const first = readFileSync(file, 'utf8').split('\n')[0]
        expect(first).to.equal('# yaml-language-server: $schema=./envsync.schema.json')
      })

      it('loads through loadManifest without problems', () => {
        const m = loadManifest(file)
        expect(m.secrets.length).to.be.greaterThan(0)
        for (const env of m.environmentNames) {
          expect(m.secretsFor(env).length, env).to.be.greaterThan(0)
          expect(m.targetsOf(env).length, `${env} has a target`).to.be.greaterThan(0)
        }
        expect(renderTemplate(m)).to.include(`${m.secrets[0].key}=`)
      })
    })
  }

  it('render-workers.yaml uses Render with an env group, Kubernetes workers and production-only keys', () => {
    const m = loadManifest(path.join(MANIFESTS, 'render-workers.yaml'))
    for (const env of ['staging', 'production']) {
      expect(m.targetsOf(env), env).to.have.members(['render', 'kubernetes'])
      expect(m.environment(env).targets?.render?.envGroup, env).to.be.a('string')
    }
    expect(m.secrets.filter((s) => s.shared).length).to.be.greaterThan(0)
    expect(m.secrets.filter((s) => s.environments?.join() === 'production').length).to.be.greaterThan(0)
    expect(m.secret('STRIPE_SECRET_KEY')?.format).to.deep.equal({regex: '^(sk|rk)_(live|test)_[A-Za-z0-9]+$'})
    const group = m.data.rules.find((r) => 'oneOf' in r)
    expect(group && 'oneOf' in group ? group.oneOf : []).to.have.members(['GOOGLE_GENAI_API_KEY', 'GEMINI_API_KEY', 'OPENAI_API_KEY'])
  })

  it('k8s-only.yaml deploys only to Kubernetes, with a requires rule and enum/int/bool formats', () => {
    const m = loadManifest(path.join(MANIFESTS, 'k8s-only.yaml'))
    for (const env of m.environmentNames) expect(m.targetsOf(env), env).to.deep.equal(['kubernetes'])
    expect(m.data.rules.some((r) => 'requires' in r)).to.equal(true)
    const formats = m.secrets.map((s) => (typeof s.format === 'object' ? Object.keys(s.format)[0] : s.format))
    expect(formats).to.include.members(['enum', 'int', 'bool'])
  })
})

describe('manifest JSON Schema (ajv, draft-07)', () => {
  let validate: ValidateFunction

  before(() => {
    // strict: the schema itself must be well-formed draft-07 (unknown keywords would throw).
    const ajv = new Ajv({allErrors: true, strict: true, allowUnionTypes: true})
    validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')))
  })

  for (const name of examples) {
    it(`accepts ${name}`, () => {
      const data = parse(readFileSync(path.join(MANIFESTS, name), 'utf8'))
      expect(validate(data), errorsOf(validate)).to.equal(true)
    })
  }

  // Each mutation is the valid example with one thing wrong: the schema must see that one thing.
  const wrong: [string, (m: Json) => void, {instancePath: string; keyword: string}][] = [
    ['a misspelled key in a secret (requried)', (m) => (m.secrets.SENTRY_DSN.requried = false), {instancePath: '/secrets/SENTRY_DSN', keyword: 'additionalProperties'}],
    ['an unknown top-level key (servics)', (m) => (m.servics = m.services), {instancePath: '', keyword: 'additionalProperties'}],
    ['a bad recipe (b64:32)', (m) => (m.secrets.JWT_SECRET.generate = 'b64:32'), {instancePath: '/secrets/JWT_SECRET/generate', keyword: 'pattern'}],
    ['a zero-size recipe (base64:0)', (m) => (m.secrets.JWT_SECRET.generate = 'base64:0'), {instancePath: '/secrets/JWT_SECRET/generate', keyword: 'pattern'}],
    ['a rotation period in words (90 days)', (m) => (m.secrets.JWT_SECRET.rotate = '90 days'), {instancePath: '/secrets/JWT_SECRET/rotate', keyword: 'pattern'}],
    ['required as a string', (m) => (m.secrets.SENTRY_DSN.required = 'yes'), {instancePath: '/secrets/SENTRY_DSN/required', keyword: 'type'}],
    ['services as a list', (m) => (m.services = ['backend', 'frontend']), {instancePath: '/services', keyword: 'type'}],
    ['an unknown target kind', (m) => (m.environments.staging.targets.heroku = {app: 'acme'}), {instancePath: '/environments/staging/targets', keyword: 'additionalProperties'}],
    ['a Railway target without a project', (m) => delete m.environments.production.targets.railway.project, {instancePath: '/environments/production/targets/railway', keyword: 'required'}],
    ['an uppercase service name', (m) => (m.services.Backend = {}), {instancePath: '/services', keyword: 'pattern'}],
    ['a secret without services', (m) => delete m.secrets.JWT_SECRET.services, {instancePath: '/secrets/JWT_SECRET', keyword: 'required'}],
  ]
  for (const [what, mutate, expected] of wrong) {
    it(`rejects ${what}`, () => {
      const m = example()
      mutate(m)
      expect(validate(m), 'the schema accepted a wrong manifest').to.equal(false)
      const hits = (validate.errors ?? []).filter((e) => e.instancePath === expected.instancePath && e.keyword === expected.keyword)
      expect(hits, `expected a ${expected.keyword} error at "${expected.instancePath}", got:\n${errorsOf(validate)}`).to.not.be.empty
    })
  }

  it('rejects a document that is not a mapping', () => {
    expect(validate('just a sentence')).to.equal(false)
    expect(validate([{project: 'shop'}])).to.equal(false)
  })
})

describe('committed generated files', () => {
  for (const [file, expected] of generatedFiles()) {
    const rel = path.relative(ROOT, file)
    it(`${rel} is up to date`, () => {
      let actual: string
      try {
        actual = readFileSync(file, 'utf8')
      } catch {
        expect.fail(`${rel} is missing: run npm run gen`)
      }
      if (actual !== expected) {
        const a = actual.split('\n')
        const e = expected.split('\n')
        let line = 0
        while (a[line] === e[line]) line++
        expect.fail(
          `${rel} is stale: run npm run gen (first difference at line ${line + 1}: ` +
            `committed ${JSON.stringify(a[line] ?? '<end of file>')}, generated ${JSON.stringify(e[line] ?? '<end of file>')})`,
        )
      }
    })
  }
})
