import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {ValidateFunction} from 'ajv'
import {expect} from 'chai'
import {parse as parseYaml, stringify} from 'yaml'

import {EnvsyncError} from '../../src/errors.js'
import {loadManifest} from '../../src/manifest/load.js'
import {applySync, planSync} from '../../src/sync/sync.js'
import {assertNoLeak} from '../helpers/canary.js'
import {requireOrSkip} from '../helpers/not-run.js'
import {composeConfig, findComposeCli, mergeCompose} from './compose-merge.js'
import {baseSecrets, compileComposeSpec, DockerProject, rawComposeSchema, type ManifestShape} from './support.js'

/**
 * The generated compose override against the Compose Specification's JSON Schema (a copy in
 * test/fixtures, see its README), alone and merged with a user's own docker-compose.yml.
 *
 * Ajv setup: draft-07 (Ajv's default `Ajv` class). The spec's `$schema` is
 * "https://json-schema.org/draft-07/schema" while Ajv registers the draft-07 meta-schema as
 * "http://json-schema.org/draft-07/schema#": the copy's $schema is pointed at that id (the same
 * meta-schema), so Ajv still checks the spec itself. `strict: false`: the spec compiles in strict
 * mode too, but strictTypes logs ~100 warnings about its union types (`type: [boolean, string]`)
 * and `patternProperties` without `type: object`. No format support is added: the spec declares
 * no `format` keyword (a test below makes sure it stays that way), so validateFormats is moot.
 */

let validate: ValidateFunction
const rawSchema = rawComposeSchema
const compileSpec = compileComposeSpec

function assertValid(doc: unknown, what: string): void {
  const ok = validate(doc)
  expect(ok, `${what} is not a valid Compose file: ${JSON.stringify(validate.errors, null, 2)}`).to.equal(true)
}

async function pushInProcess(p: DockerProject): Promise<void> {
  const plan = await planSync(loadManifest(p.project.manifest), p.env)
  const report = await applySync(plan)
  expect(report.failed, JSON.stringify(report.destinations.map((d) => d.error))).to.equal(0)
}

/** Reading back what was written (the override included) finds nothing to do. */
async function expectInSync(p: DockerProject): Promise<void> {
  const plan = await planSync(loadManifest(p.project.manifest), p.env)
  const pending = plan.plans.flatMap((d) => d.keys.filter((k) => k.action !== 'unchanged').map((k) => `${k.action} ${k.key}`))
  expect(pending).to.deep.equal([])
}

function valuesFor(p: DockerProject, shape: ManifestShape): Record<string, string> {
  return Object.fromEntries(Object.keys(shape.secrets).map((k) => [k, p.canary()]))
}

interface Override {
  services: Record<string, {secrets?: string[]; environment?: Record<string, string>; env_file?: string[]}>
  secrets?: Record<string, {file: string}>
}

/**
 * What the override must say for a manifest shape: the top-level secrets, each service's mounts
 * and `<KEY>_FILE` variables, and its env file, every path relative to the override's folder.
 */
function assertOverrideMatches(p: DockerProject, doc: Override): void {
  const base = path.dirname(p.composeFile)
  const secretKeys = Object.entries(p.shape.secrets).filter(([, s]) => s.sensitive !== false)
  const configKeys = Object.entries(p.shape.secrets).filter(([, s]) => s.sensitive === false)
  const declared = Object.keys(doc.secrets ?? {}).sort()
  expect(declared).to.deep.equal(secretKeys.map(([k]) => k.toLowerCase()).sort())
  for (const name of declared) {
    expect(name, 'secret names are lowercase').to.match(/^[a-z0-9_]+$/)
    const file = doc.secrets![name].file
    expect(path.isAbsolute(file), `${name}: relative path`).to.equal(false)
    const key = secretKeys.find(([k]) => k.toLowerCase() === name)![0]
    expect(path.resolve(base, file), `${name} resolves to its file from the override's folder`).to.equal(p.secretFile(key))
    expect(existsSync(path.resolve(base, file))).to.equal(true)
  }
  const services = new Set([...secretKeys, ...configKeys].flatMap(([, s]) => s.services))
  expect(Object.keys(doc.services).sort()).to.deep.equal([...services].sort())
  for (const service of services) {
    const spec = doc.services[service]
    const mine = secretKeys.filter(([, s]) => s.services.includes(service)).map(([k]) => k)
    expect(spec.secrets ?? [], `${service} mounts`).to.have.members(mine.map((k) => k.toLowerCase()))
    // Exactly one <KEY>_FILE per mounted secret, pointing where Compose mounts it; no plain KEY.
    expect(spec.environment ?? {}, `${service} environment`).to.deep.equal(Object.fromEntries(mine.map((k) => [`${k}_FILE`, `/run/secrets/${k.toLowerCase()}`])))
    const hasConfig = configKeys.some(([, s]) => s.services.includes(service))
    if (hasConfig) {
      expect(spec.env_file).to.have.length(1)
      expect(path.isAbsolute(spec.env_file![0])).to.equal(false)
      expect(path.resolve(base, spec.env_file![0])).to.equal(p.envFile(service))
      expect(existsSync(p.envFile(service))).to.equal(true)
    } else {
      expect(spec).to.not.have.property('env_file')
    }
  }
}

/** A user's own compose file: list-form environment, long-form secrets, its own env file. */
const USER_COMPOSE = {
  name: 'shop',
  services: {
    backend: {
      image: 'ghcr.io/acme/backend:1.4',
      command: ['node', 'server.js'],
      environment: ['NODE_ENV=production', 'PORT=3000'],
      env_file: ['./common.env'],
      secrets: [{source: 'ca_cert', target: 'ca.pem', mode: 0o440}],
      ports: ['3000:3000'],
      depends_on: ['db'],
    },
    worker: {build: {context: './worker'}, environment: {QUEUE: 'jobs'}},
    frontend: {image: 'nginx:1.27', ports: ['8080:80']},
    db: {
      image: 'postgres:16',
      // A service envsync does not know uses a secret envsync declares.
      environment: {POSTGRES_PASSWORD_FILE: '/run/secrets/db_password'},
      secrets: ['db_password'],
      volumes: ['pgdata:/var/lib/postgresql/data'],
    },
  },
  secrets: {ca_cert: {file: './certs/ca.pem'}},
  volumes: {pgdata: {}},
}

const COMPOSE_CLI = findComposeCli()

describe('docker compose override', () => {
  let p: DockerProject

  before(() => {
    validate = compileSpec()
  })

  afterEach(() => {
    if (p) {
      // The override names keys and paths, never values.
      if (existsSync(p.composeFile)) assertNoLeak(p.canaries, readFileSync(p.composeFile, 'utf8'))
      p.cleanup()
    }
  })

  describe('the schema fixture', () => {
    it('is the Compose Specification, declares no format keyword, and rejects what Compose rejects', () => {
      const schema = rawSchema()
      expect(schema.title).to.equal('Compose Specification')
      const formats: string[] = []
      const walk = (node: unknown, at: string): void => {
        if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}/${i}`))
        else if (node && typeof node === 'object') {
          for (const [k, v] of Object.entries(node)) {
            if (k === 'format' && typeof v === 'string') formats.push(at)
            walk(v, `${at}/${k}`)
          }
        }
      }
      walk(schema, '#')
      expect(formats, 'add ajv-formats if the spec starts using format').to.deep.equal([])
      // The validator is real: wrong types and unknown keys fail.
      expect(validate({services: {a: {secrets: ['x']}}, secrets: {x: {file: 3}}})).to.equal(false)
      expect(validate({services: {a: {secretz: ['x']}}})).to.equal(false)
      expect(validate({secrets: {'bad name': {file: './x'}}})).to.equal(false)
      expect(validate({services: {a: {image: 'x', secrets: [{source: 'x', target: 'y', mode: 0o400}]}}, secrets: {x: {file: './x'}}})).to.equal(true)
    })
  })

  describe('generated', () => {
    const shapes: [string, Partial<ManifestShape>][] = [
      ['the default layout (secrets, config, a shared key, a config-only service)', {}],
      ['a custom directory and fileMode', {docker: {dir: 'deploy/secrets/stg', fileMode: '0640'}}],
      ['the override in another folder than the manifest', {docker: {compose: 'ops/compose/docker-compose.secrets.yml'}}],
      ['secrets only', {secrets: {JWT_SECRET: {services: ['backend']}, DB_PASSWORD: {services: ['backend', 'worker']}}}],
      ['config only', {secrets: {LOG_LEVEL: {services: ['backend', 'worker'], sensitive: false}}}],
      ['a docker target limited to some services', {docker: {services: ['backend', 'worker']}}],
    ]
    for (const [what, shape] of shapes) {
      it(`validates against the Compose Specification and says what the manifest says: ${what}`, async () => {
        p = new DockerProject(shape)
        if (shape.docker?.services) {
          // Keys of services outside the docker target are not mounted anywhere.
          p.writeManifest({...p.shape, secrets: Object.fromEntries(Object.entries(p.shape.secrets).filter(([, s]) => s.services.some((x) => shape.docker!.services!.includes(x))))})
        }
        if (shape.docker?.compose) mkdirSync(path.dirname(p.composeFile), {recursive: true})
        p.setValues(valuesFor(p, p.shape))
        await pushInProcess(p)
        const doc = parseYaml(readFileSync(p.composeFile, 'utf8'))
        assertValid(doc, 'the override')
        assertOverrideMatches(p, doc)
        await expectInSync(p)
      })
    }

    it('quotes paths YAML would misread (spaces, ": ", " #") and they still lead to the files', async () => {
      p = new DockerProject({docker: {dir: 'secrets/my env: #1 [x]'}})
      p.setValues(valuesFor(p, p.shape))
      await pushInProcess(p)
      const doc = parseYaml(readFileSync(p.composeFile, 'utf8'))
      assertValid(doc, 'the override')
      assertOverrideMatches(p, doc)
      await expectInSync(p)
    })

    it('refuses two keys that differ only in case (one compose secret name, one file on case-insensitive disks)', async () => {
      p = new DockerProject({secrets: {API_KEY: {services: ['backend']}, api_key: {services: ['worker']}}})
      p.setValues(valuesFor(p, p.shape))
      let error: unknown
      try {
        await planSync(loadManifest(p.project.manifest), p.env)
      } catch (e) {
        error = e
      }
      expect(error).to.be.instanceOf(EnvsyncError)
      expect((error as Error).message).to.include('API_KEY').and.include('api_key')
      expect(existsSync(p.secretsDir)).to.equal(false)
    })
  })

  describe('combined with the user’s docker-compose.yml', () => {
    beforeEach(async () => {
      p = new DockerProject({secrets: {...baseSecrets(), WORKER_TOKEN: {services: ['worker']}}})
      p.setValues(valuesFor(p, p.shape))
      p.project.write('docker-compose.yml', stringify(USER_COMPOSE), 0o644)
      await pushInProcess(p)
    })

    it('merges as `docker compose -f docker-compose.yml -f docker-compose.secrets.yml` and the result is valid', () => {
      const user = parseYaml(readFileSync(p.project.path('docker-compose.yml'), 'utf8'))
      const override = parseYaml(readFileSync(p.composeFile, 'utf8'))
      assertValid(user, 'the user file')
      const merged = mergeCompose(user, override) as any
      assertValid(merged, 'the merged model')

      const backend = merged.services.backend
      expect(backend.image).to.equal('ghcr.io/acme/backend:1.4')
      expect(backend.command).to.deep.equal(['node', 'server.js'])
      expect(backend.environment).to.deep.equal({
        NODE_ENV: 'production',
        PORT: '3000',
        DB_PASSWORD_FILE: '/run/secrets/db_password',
        JWT_SECRET_FILE: '/run/secrets/jwt_secret',
        TLS_KEY_FILE: '/run/secrets/tls_key',
      })
      expect(backend.env_file).to.deep.equal(['./common.env', './secrets/staging/backend.env'])
      expect(backend.secrets).to.deep.equal([{source: 'ca_cert', target: 'ca.pem', mode: 0o440}, 'db_password', 'jwt_secret', 'tls_key'])
      expect(merged.services.worker.environment).to.deep.equal({QUEUE: 'jobs', DB_PASSWORD_FILE: '/run/secrets/db_password', WORKER_TOKEN_FILE: '/run/secrets/worker_token'})
      expect(merged.services.frontend.env_file).to.deep.equal(['./secrets/staging/frontend.env'])
      expect(merged.services.db).to.deep.equal(USER_COMPOSE.services.db)
      expect(Object.keys(merged.secrets).sort()).to.deep.equal(['ca_cert', 'db_password', 'jwt_secret', 'tls_key', 'worker_token'])
      expect(merged.volumes).to.deep.equal({pgdata: {}})

      // Every secret a service mounts is declared, and ours exist where Compose looks for them:
      // relative to the first file's folder, which is the override's folder here.
      for (const [name, spec] of Object.entries<any>(merged.services)) {
        for (const s of spec.secrets ?? []) expect(merged.secrets, `${name} mounts ${JSON.stringify(s)}`).to.have.property(typeof s === 'string' ? s : s.source)
      }
      const baseDir = path.dirname(p.project.path('docker-compose.yml'))
      for (const name of ['db_password', 'jwt_secret', 'tls_key', 'worker_token']) {
        expect(existsSync(path.resolve(baseDir, merged.secrets[name].file)), name).to.equal(true)
      }
    })

    it('the merge model itself: a later file wins for scalars, lists append, list-form environment merges with a mapping', () => {
      const merged = mergeCompose(
        {services: {a: {image: 'x:1', environment: ['A=1', 'B=2'], ports: ['1:1'], command: 'one', secrets: [{source: 's', target: 't'}]}}},
        {services: {a: {image: 'x:2', environment: {B: '3', C: '4'}, ports: ['2:2'], command: ['two'], secrets: ['s', 'u']}, b: {image: 'y'}}},
      ) as any
      expect(merged.services.a).to.deep.equal({image: 'x:2', environment: {A: '1', B: '3', C: '4'}, ports: ['1:1', '2:2'], command: ['two'], secrets: ['s', 'u']})
      expect(merged.services.b).to.deep.equal({image: 'y'})
    })

    it('the compose CLI accepts the combination (secondary check: docker compose v2 or docker-compose v1)', function () {
      requireOrSkip(this, 'the compose CLI check of the override (test/docker/compose.test.ts)', COMPOSE_CLI ? undefined : 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)')
      mkdirSync(p.project.path('certs'), {recursive: true})
      writeFileSync(p.project.path('certs/ca.pem'), 'not a real certificate\n')
      writeFileSync(p.project.path('common.env'), 'COMMON=1\n')
      mkdirSync(p.project.path('worker'), {recursive: true})
      const r = composeConfig(COMPOSE_CLI!, p.dir, ['docker-compose.yml', path.basename(p.composeFile)])
      expect(r.status, r.stderr).to.equal(0)
      expect(r.stdout).to.include('/run/secrets/jwt_secret')
      // `config` interpolates env files into the output: only config values may appear there.
      assertNoLeak(p.canaries.filter((c) => !['LOG_LEVEL', 'FEATURE_FLAGS', 'API_URL'].some((k) => readFileSync(p.valuesFile, 'utf8').includes(`${k}=${c}`))), r.stdout, r.stderr)
    })
  })
})
