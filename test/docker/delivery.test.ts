import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'
import {parse as parseYaml, stringify} from 'yaml'

import {requireOrSkip} from '../helpers/not-run.js'
import {composeConfig, findComposeCli} from './compose-merge.js'
import {changedFiles, DockerProject, finish, modeOf, requireBuild, snapshot, type ManifestShape} from './support.js'

/**
 * Issue 9 item 1, through the built binary: a secret reaches a container as a file (the default,
 * its `_FILE` variable configurable per target and per key) or as plain environment from the env
 * file; the override names only the services of the user's compose file (or the target's
 * `services:`); check says what each service gets. Secret values are canaries; config values
 * are plain words (diff shows plain config as it is).
 */

const COMPOSE_CLI = findComposeCli()
const SERVICES = ['backend', 'worker', 'frontend', 'grafana']

/** The user's own compose file: no frontend (a static site deployed elsewhere). */
const USER_COMPOSE = {
  services: {
    backend: {image: 'node:20', command: ['node', 'server.js']},
    worker: {image: 'node:20'},
    grafana: {image: 'grafana/grafana:11.0.0'},
  },
}

describe('docker delivery: files or plain environment, only the services compose has', function () {
  this.timeout(120_000)
  let p: DockerProject

  before(requireBuild)

  afterEach(function () {
    finish(this, p)
  })

  const compose = () => parseYaml(readFileSync(p.composeFile, 'utf8'))
  const envOf = (service: string) => dotenv.parse(readFileSync(p.envFile(service)))

  function project(shape: Partial<ManifestShape>): Record<string, string> {
    p = new DockerProject({services: SERVICES, ...shape})
    const values: Record<string, string> = {}
    for (const [key, s] of Object.entries(p.shape.secrets)) values[key] = s.sensitive === false ? 'info' : `${p.canary()}$x "q"`
    p.setValues(values)
    return values
  }

  async function pushOk(...extra: string[]) {
    const r = await p.push(...extra)
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    return r
  }

  /** A second push finds nothing to do and touches no file. */
  async function expectStable() {
    const files = [p.composeFile, p.project.path('.envsync/ownership.tsv')]
    const before = snapshot(p.secretsDir, files)
    const r = await pushOk()
    expect(r.stdout).to.match(/in sync/)
    expect(changedFiles(before, snapshot(p.secretsDir, files))).to.deep.equal([])
  }

  it('delivery: env on the target gives each service plain variables in its env file (0600), no secret files, no _FILE; pull reads them back', async () => {
    const values = project({
      docker: {delivery: 'env'},
      secrets: {
        JWT_SECRET: {services: ['backend']},
        DB_PASSWORD: {services: ['backend', 'worker']},
        LOG_LEVEL: {services: ['backend'], sensitive: false},
      },
    })
    await pushOk()
    // What an Express app reading process.env.JWT_SECRET gets when compose loads the env file.
    expect(envOf('backend')).to.deep.equal({JWT_SECRET: values.JWT_SECRET, DB_PASSWORD: values.DB_PASSWORD, LOG_LEVEL: 'info'})
    expect(envOf('worker')).to.deep.equal({DB_PASSWORD: values.DB_PASSWORD})
    expect(modeOf(p.envFile('backend'))).to.equal(0o600)
    expect(existsSync(p.secretFile('JWT_SECRET'))).to.equal(false)
    const doc = compose()
    expect(doc).to.not.have.property('secrets')
    expect(doc.services.backend).to.deep.equal({env_file: ['./secrets/staging/backend.env']})
    expect(doc.services.worker).to.deep.equal({env_file: ['./secrets/staging/worker.env']})
    const owned = JSON.parse(readFileSync(`${p.secretsDir}/.envsync-owned.json`, 'utf8')).keys
    expect(owned).to.deep.equal(['DB_PASSWORD', 'JWT_SECRET', 'LOG_LEVEL'])
    await expectStable()

    rmSync(p.valuesFile)
    const pulled = await p.run(['pull', p.env, '--from', 'docker'])
    expect(pulled.exitCode, pulled.stderr).to.equal(0)
    expect(dotenv.parse(readFileSync(p.valuesFile))).to.deep.equal(values)
  })

  it('the _FILE variable is configurable: fileSuffix on the target, fileVariable on a key (Grafana’s GF_SECURITY_ADMIN_PASSWORD__FILE)', async () => {
    project({
      docker: {fileSuffix: '__FILE'},
      secrets: {
        DB_PASSWORD: {services: ['backend']},
        GF_SECURITY_ADMIN_PASSWORD: {services: ['grafana'], docker: {fileVariable: 'GF_SECURITY_ADMIN_PASSWORD__FILE'}},
        SMTP_PASSWORD: {services: ['grafana'], docker: {fileVariable: 'GF_SMTP_PASSWORD__FILE'}},
      },
    })
    await pushOk()
    const doc = compose()
    expect(doc.services.backend.environment).to.deep.equal({DB_PASSWORD__FILE: '/run/secrets/db_password'})
    expect(doc.services.grafana.environment).to.deep.equal({
      GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/gf_security_admin_password',
      GF_SMTP_PASSWORD__FILE: '/run/secrets/smtp_password',
    })
    expect(doc.services.grafana.secrets).to.deep.equal(['gf_security_admin_password', 'smtp_password'])
    await expectStable()
  })

  it('switching a key between files and env moves it (old file removed, env line added, and back) and leaves files envsync does not own', async () => {
    const values = project({secrets: {JWT_SECRET: {services: ['backend']}, LOG_LEVEL: {services: ['backend'], sensitive: false}}})
    await pushOk()
    expect(readFileSync(p.secretFile('JWT_SECRET'), 'utf8')).to.equal(values.JWT_SECRET)
    // A secret file put there by hand (unmanaged) and a file that is no secret at all.
    writeFileSync(p.secretFile('HAND_TOKEN'), 'by hand', {mode: 0o600})
    writeFileSync(p.secretFile('README'), 'notes', {mode: 0o644})

    p.writeManifest({...p.shape, secrets: {...p.shape.secrets, JWT_SECRET: {services: ['backend'], docker: {delivery: 'env'}}}})
    const diff = await p.diff()
    // The value is there, in the file of the old delivery: an update that moves it (pull still reads it).
    expect(diff.stdout).to.match(/~ JWT_SECRET/)
    await pushOk()
    expect(existsSync(p.secretFile('JWT_SECRET'))).to.equal(false)
    expect(envOf('backend')).to.deep.equal({JWT_SECRET: values.JWT_SECRET, LOG_LEVEL: 'info'})
    expect(compose().services.backend).to.deep.equal({env_file: ['./secrets/staging/backend.env']})
    expect(readFileSync(p.secretFile('HAND_TOKEN'), 'utf8')).to.equal('by hand')
    expect(readFileSync(p.secretFile('README'), 'utf8')).to.equal('notes')
    await expectStable()

    p.writeManifest({...p.shape, secrets: {...p.shape.secrets, JWT_SECRET: {services: ['backend']}}})
    await pushOk()
    expect(readFileSync(p.secretFile('JWT_SECRET'), 'utf8')).to.equal(values.JWT_SECRET)
    expect(envOf('backend')).to.deep.equal({LOG_LEVEL: 'info'})
    expect(compose().services.backend.environment).to.deep.equal({JWT_SECRET_FILE: '/run/secrets/jwt_secret'})
    expect(readFileSync(p.secretFile('HAND_TOKEN'), 'utf8')).to.equal('by hand')
    await expectStable()
  })

  describe('the user’s compose file', () => {
    const secrets: ManifestShape['secrets'] = {
      JWT_SECRET: {services: ['backend'], docker: {delivery: 'env'}},
      DB_PASSWORD: {services: ['backend', 'worker']},
      GF_SECURITY_ADMIN_PASSWORD: {services: ['grafana'], docker: {fileVariable: 'GF_SECURITY_ADMIN_PASSWORD__FILE'}},
      API_URL: {services: ['frontend', 'backend'], sensitive: false},
      ANALYTICS_KEY: {services: ['frontend']},
    }

    it('a compose file without frontend: the override names only its services and `docker-compose -f docker-compose.yml -f <override> config` succeeds', async function () {
      const values = project({secrets})
      p.project.write('docker-compose.yml', stringify(USER_COMPOSE), 0o644)
      await pushOk()
      expect(Object.keys(compose().services).sort()).to.deep.equal(['backend', 'grafana', 'worker'])
      expect(existsSync(p.envFile('frontend'))).to.equal(false)
      expect(existsSync(p.secretFile('ANALYTICS_KEY'))).to.equal(false)
      await expectStable()

      requireOrSkip(this, 'the compose CLI check of the delivery override (test/docker/delivery.test.ts)', COMPOSE_CLI ? undefined : 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)')
      const r = composeConfig(COMPOSE_CLI!, p.dir, ['docker-compose.yml', 'docker-compose.staging.secrets.yml'])
      expect(r.status, r.stderr).to.equal(0)
      const merged = parseYaml(r.stdout)
      expect(merged.services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD__FILE).to.equal('/run/secrets/gf_security_admin_password')
      expect(merged.services.backend.environment.DB_PASSWORD_FILE).to.equal('/run/secrets/db_password')
      // An env-delivered secret is a plain variable of the container, byte for byte (`config` writes $ as $$).
      expect(merged.services.backend.environment.JWT_SECRET.replaceAll('$$', '$')).to.equal(values.JWT_SECRET)
    })

    it('compose.yaml counts too, and the docker target’s services: wins over it', async () => {
      project({secrets, docker: {services: ['backend']}})
      p.project.write('compose.yaml', stringify(USER_COMPOSE), 0o644)
      await pushOk()
      expect(Object.keys(compose().services)).to.deep.equal(['backend'])
      p.writeManifest({...p.shape, docker: {}})
      await pushOk()
      expect(Object.keys(compose().services).sort()).to.deep.equal(['backend', 'grafana', 'worker'])
    })

    it('a broken compose file is an error naming file:line:col, and nothing is written', async () => {
      project({secrets})
      p.project.write('docker-compose.yml', 'services:\n  backend:\n    image: [node\n  worker: {}\n', 0o644)
      for (const args of [['diff', p.env], ['push', p.env, '--yes'], ['check', p.env]]) {
        const r = await p.run(args)
        expect(r.exitCode, args.join(' ')).to.not.equal(0)
        expect(r.stderr, args.join(' ')).to.match(/docker-compose\.yml:\d+:\d+/).and.match(/not valid YAML/)
        expect(r.stderr).to.not.match(/\n\s+at /)
      }
      expect(existsSync(p.secretsDir)).to.equal(false)
      expect(existsSync(p.composeFile)).to.equal(false)
    })

    it('check says what each service gets: files at /run/secrets with their variable, or env; and who compose leaves out', async () => {
      project({secrets})
      p.project.write('docker-compose.yml', stringify(USER_COMPOSE), 0o644)
      const r = await p.run(['check', p.env])
      expect(r.exitCode, r.stderr).to.equal(0)
      const out = r.stdout
      expect(out).to.match(/Docker delivers \(services of docker-compose\.yml/)
      expect(out).to.match(/backend\s+files\s+DB_PASSWORD_FILE=\/run\/secrets\/db_password/)
      expect(out).to.match(/\s+env\s+JWT_SECRET, API_URL \(from secrets\/staging\/backend\.env\)/)
      expect(out).to.match(/grafana\s+files\s+GF_SECURITY_ADMIN_PASSWORD__FILE=\/run\/secrets\/gf_security_admin_password/)
      expect(out).to.match(/worker\s+files\s+DB_PASSWORD_FILE=/)
      expect(out).to.match(/not in docker-compose\.yml, so not delivered by Docker: frontend/)
    })
  })

  describe('the manifest says it strictly', () => {
    const invalid: [string, string, RegExp][] = [
      ['an unknown key under a secret’s docker', 'docker: {delivry: env}', /unknown key "delivry"[\s\S]*did you mean "delivery"/],
      ['a delivery that is neither files nor env', 'docker: {delivery: environment}', /docker\.delivery must be one of "files", "env"/],
      ['fileVariable on a key delivered as plain environment', 'docker: {delivery: env, fileVariable: JWT_FILE}', /fileVariable never applies/],
      ['fileVariable that is not a variable name', 'docker: {fileVariable: "1-bad"}', /environment variable names/],
    ]
    for (const [what, yaml, message] of invalid) {
      it(`${what} is refused at file:line:col`, async () => {
        project({secrets: {JWT_SECRET: {services: ['backend']}}})
        const text = readFileSync(p.project.manifest, 'utf8').replace(/(JWT_SECRET:\n)/, `$1    ${yaml}\n`)
        writeFileSync(p.project.manifest, text)
        const r = await p.run(['diff', p.env])
        expect(r.exitCode).to.equal(2)
        expect(r.stderr).to.match(/envsync\.yaml:\d+:\d+/).and.match(message)
        expect(existsSync(p.secretsDir)).to.equal(false)
      })
    }

    it('fileSuffix beside delivery: env names no file and is refused', async () => {
      project({docker: {delivery: 'env', fileSuffix: '__FILE'}, secrets: {JWT_SECRET: {services: ['backend']}}})
      const r = await p.run(['diff', p.env])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.match(/envsync\.yaml:\d+:\d+/).and.match(/fileSuffix "__FILE" names no file/)
    })
  })
})
