import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'
import {parse as parseYaml, stringify} from 'yaml'

import {requireOrSkip} from '../helpers/not-run.js'
import {composeConfig, findComposeCli} from './compose-merge.js'
import {DockerProject, finish, jsonKeys, parseJson, requireBuild, type ManifestShape} from './support.js'

/**
 * Docker delivery defects a reviewer reproduced through the built binary: copies of a key that
 * disagree between env files, a value left in the other delivery, file variables that shadow a
 * key, compose files with merge keys and aliases, env-file values Compose reads altered, and the
 * hint for a compose file that is not a regular file. Compose v1 (Debian's docker-compose) is the
 * oracle where one is installed.
 */

const COMPOSE_CLI = findComposeCli()
const SERVICES = ['backend', 'worker', 'grafana']
const USER_COMPOSE = {services: {backend: {image: 'node:20'}, grafana: {image: 'grafana/grafana:11.0.0'}, worker: {image: 'node:20'}}}

describe('docker delivery: what the reviewer found', function () {
  this.timeout(120_000)
  let p: DockerProject

  before(requireBuild)

  afterEach(function () {
    finish(this, p)
  })

  function project(shape: Partial<ManifestShape>, compose: unknown = USER_COMPOSE): void {
    p = new DockerProject({services: SERVICES, environment: 'development', ...shape})
    if (typeof compose === 'string') p.project.write('docker-compose.yml', compose, 0o644)
    else if (compose) p.project.write('docker-compose.yml', stringify(compose), 0o644)
  }

  async function ok(args: string[]) {
    const r = await p.run(args)
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    return r
  }

  const diffKeys = async () => {
    const r = await p.run(['diff', p.env, '--json'])
    return jsonKeys(parseJson(r.stdout).result)
  }

  const envShape = (): Partial<ManifestShape> => ({
    docker: {delivery: 'env'},
    secrets: {JWT_SECRET: {services: ['backend', 'worker']}, LOG_LEVEL: {services: ['backend', 'worker'], sensitive: false}},
  })

  it('D1: copies that disagree between two services’ env files are an update in diff, a conflict in pull (exit 1), and push rewrites every copy', async () => {
    project(envShape())
    const jwt = p.canary()
    const level = p.config()
    p.setValues({JWT_SECRET: jwt, LOG_LEVEL: level})
    await ok(['push', p.env, '--yes'])
    const worker = p.envFile('worker')
    writeFileSync(worker, readFileSync(worker, 'utf8').replace(/^JWT_SECRET=.*$/m, 'JWT_SECRET=X').replace(/^LOG_LEVEL=.*$/m, 'LOG_LEVEL=debug'))

    const keys = await diffKeys()
    expect(keys.JWT_SECRET.action).to.equal('update')
    expect(keys.LOG_LEVEL.action).to.equal('update')

    const pulled = await p.run(['pull', p.env, '--from', 'docker', '--overwrite'])
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).to.equal(1)
    expect(pulled.stdout).to.match(/JWT_SECRET.*destinations disagree/).and.match(/LOG_LEVEL.*destinations disagree/)
    expect(pulled.stdout).to.not.match(/not on the platform/)
    expect(dotenv.parse(readFileSync(p.valuesFile))).to.deep.equal({JWT_SECRET: jwt, LOG_LEVEL: level})

    await ok(['push', p.env, '--yes'])
    for (const service of ['backend', 'worker']) expect(dotenv.parse(readFileSync(p.envFile(service)))).to.deep.equal({JWT_SECRET: jwt, LOG_LEVEL: level})
    expect((await p.diff()).stdout).to.match(/in sync/)
  })

  it('D2: after switching delivery (files → env, env → files) pull reads the value from where it is, and diff plans an update', async () => {
    project({secrets: {JWT_SECRET: {services: ['backend', 'worker']}}})
    const jwt = p.canary()
    p.setValues({JWT_SECRET: jwt})
    await ok(['push', p.env, '--yes'])
    expect(readFileSync(p.secretFile('JWT_SECRET'), 'utf8')).to.equal(jwt)

    for (const delivery of ['env', 'files'] as const) {
      p.writeManifest({...p.shape, docker: {delivery}})
      expect((await diffKeys()).JWT_SECRET.action, delivery).to.equal('update')
      rmSync(p.valuesFile)
      const pulled = await ok(['pull', p.env, '--from', 'docker'])
      expect(pulled.stdout, delivery).to.not.match(/not on the platform/)
      expect(dotenv.parse(readFileSync(p.valuesFile)), delivery).to.deep.equal({JWT_SECRET: jwt})
      await ok(['push', p.env, '--yes'])
      if (delivery === 'env') expect(dotenv.parse(readFileSync(p.envFile('worker')))).to.deep.equal({JWT_SECRET: jwt})
      else expect(readFileSync(p.secretFile('JWT_SECRET'), 'utf8')).to.equal(jwt)
    }
  })

  it('D3: a file variable that is the name of a key the same service gets is refused at load, at file:line:col', async () => {
    const cases: [ManifestShape['secrets'], RegExp][] = [
      [{C_KEY: {services: ['backend'], sensitive: false}, D_KEY: {services: ['backend'], docker: {fileVariable: 'C_KEY'}}}, /D_KEY's file variable C_KEY is also a key delivered to service backend/],
      [{API_TOKEN: {services: ['backend'], docker: {delivery: 'env'}}, D_KEY: {services: ['worker', 'backend'], docker: {fileVariable: 'API_TOKEN'}}}, /D_KEY's file variable API_TOKEN is also a key delivered to service backend/],
      [{DB_PASSWORD: {services: ['backend']}, DB_PASSWORD_FILE: {services: ['backend'], sensitive: false}}, /DB_PASSWORD's file variable DB_PASSWORD_FILE is also a key delivered to service backend/],
    ]
    for (const [secrets, message] of cases) {
      project({secrets})
      p.setValues(Object.fromEntries(Object.keys(secrets).map((k) => [k, p.config()])))
      for (const args of [['diff', p.env], ['push', p.env, '--yes']]) {
        const r = await p.run(args)
        expect(r.exitCode, args.join(' ')).to.not.equal(0)
        expect(r.stderr).to.match(message).and.match(/envsync\.yaml:\d+:\d+/).and.match(/fileVariable/)
        expect(r.stderr).to.not.match(/\n\s+at /)
      }
      expect(existsSync(p.composeFile)).to.equal(false)
      p.assertNoLeaks()
      p.cleanup()
    }
    project({secrets: {A_KEY: {services: ['backend']}}})
  })

  describe('D4: the user’s compose file read as Compose reads it (merge keys, aliases)', () => {
    const merged = [
      'x-base: &base',
      '  worker: {image: node:20}',
      'x-more: &more',
      '  grafana: {image: grafana/grafana:11.0.0}',
      'services:',
      '  <<: [*base, *more]',
      '  backend: {image: node:20}',
      '',
    ].join('\n')
    const single = ['x-base: &base', '  worker: {image: node:20}', '  grafana: {image: grafana/grafana:11.0.0}', 'services:', '  <<: *base', '  backend: {image: node:20}', ''].join('\n')
    const aliased = ['x-services: &svcs', '  backend: {image: node:20}', '  worker: {image: node:20}', '  grafana: {image: grafana/grafana:11.0.0}', 'services: *svcs', ''].join('\n')

    for (const [name, text] of [['<<: *base', single], ['<<: [*a, *b]', merged], ['services: *svcs', aliased]]) {
      it(`${name}: the override names every service Compose sees, a second push deletes nothing, and compose config merges it`, async function () {
        project({...envShape(), secrets: {...envShape().secrets, GF_SECURITY_ADMIN_PASSWORD: {services: ['grafana'], docker: {delivery: 'files'}}}}, text)
        const values = {JWT_SECRET: p.canary(), LOG_LEVEL: p.config(), GF_SECURITY_ADMIN_PASSWORD: p.canary()}
        p.setValues(values)
        await ok(['push', p.env, '--yes'])
        await ok(['push', p.env, '--yes'])
        const override = parseYaml(readFileSync(p.composeFile, 'utf8'))
        expect(Object.keys(override.services).sort()).to.deep.equal(['backend', 'grafana', 'worker'])
        expect(readFileSync(p.secretFile('GF_SECURITY_ADMIN_PASSWORD'), 'utf8')).to.equal(values.GF_SECURITY_ADMIN_PASSWORD)
        expect(dotenv.parse(readFileSync(p.envFile('worker')))).to.deep.equal({JWT_SECRET: values.JWT_SECRET, LOG_LEVEL: values.LOG_LEVEL})

        requireOrSkip(this, 'the compose CLI check of merge keys (test/docker/review-delivery.test.ts)', COMPOSE_CLI ? undefined : 'docker-compose is not installed')
        const r = composeConfig(COMPOSE_CLI!, p.dir, ['docker-compose.yml', 'docker-compose.development.secrets.yml'])
        expect(r.status, r.stderr).to.equal(0)
        expect(Object.keys(parseYaml(r.stdout).services).sort()).to.deep.equal(['backend', 'grafana', 'worker'])
      })
    }
  })

  describe('D6: env-delivered values reach the container byte for byte, or are refused', () => {
    it('backslashes, quotes, $, #, spaces and newlines: Compose (v1 oracle) reads exactly what envsync reads', async function () {
      const tricky = {
        A_WIN: 'C:\\temp\\x',
        B_QUOTE: `it's here`,
        C_DQ: 'say "hi" \\n not a newline',
        D_DOLLAR: 'pa$$word $HOME $x',
        E_LINES: "line one\nit's line two\n",
        F_HASH: 'a #b # c ',
        G_SPACE: '  padded  ',
        H_EMPTY: '',
        I_BACKTICK: '`cmd` and \\ slash',
      }
      const secrets = Object.fromEntries(Object.keys(tricky).map((k) => [k, {services: ['backend'], ...(k === 'H_EMPTY' ? {required: false} : {})}]))
      project({docker: {delivery: 'env'}, secrets})
      const values = Object.fromEntries(Object.entries(tricky).map(([k, v]) => [k, v === '' ? '' : `${p.canary()}${v}`]))
      p.setValues(values)
      await ok(['push', p.env, '--yes'])
      expect(dotenv.parse(readFileSync(p.envFile('backend')))).to.deep.equal(values)
      // envsync's own reader: in sync, and pull gets the same bytes back.
      expect((await p.diff()).stdout).to.match(/in sync/)
      rmSync(p.valuesFile)
      await ok(['pull', p.env, '--from', 'docker'])
      expect(dotenv.parse(readFileSync(p.valuesFile))).to.deep.equal(values)

      requireOrSkip(this, 'the compose CLI check of env_file values (test/docker/review-delivery.test.ts)', COMPOSE_CLI ? undefined : 'docker-compose is not installed')
      const r = composeConfig(COMPOSE_CLI!, p.dir, ['docker-compose.yml', 'docker-compose.development.secrets.yml'])
      expect(r.status, r.stderr).to.equal(0)
      const env = parseYaml(r.stdout).services.backend.environment as Record<string, string | null>
      const seen = Object.fromEntries(Object.keys(values).map((k) => [k, (env[k] ?? '').replaceAll('$$', '$')]))
      expect(seen).to.deep.equal(values)
    })

    for (const [what, value] of [
      ["' with \\", `it's C:\\temp`],
      ["' with $", `it's $HOME`],
      ['a carriage return', 'a\r\nb'],
      ['two backslashes', 'a\\\\b'],
      ['${', 'a${HOME}b'],
    ]) {
      it(`a value with ${what} has no env-file form: refused naming the key, suggesting delivery: files, nothing leaks`, async () => {
        project({docker: {delivery: 'env'}, secrets: {ODD_VALUE: {services: ['backend']}, AS_FILE: {services: ['backend'], docker: {delivery: 'files'}}}})
        p.setValues({ODD_VALUE: `${p.canary()}${value}`, AS_FILE: p.canary()})
        const r = await p.run(['push', p.env, '--yes'])
        expect(r.exitCode).to.equal(1)
        expect(r.stderr + r.stdout).to.match(/ODD_VALUE cannot be written to a Docker env file/).and.match(/delivery: files/)
        // Refused before anything is written: no env file, no secret file, no override.
        expect(existsSync(p.envFile('backend'))).to.equal(false)
        expect(existsSync(p.secretFile('AS_FILE'))).to.equal(false)
        expect(existsSync(p.composeFile)).to.equal(false)
      })
    }
  })

  it('D11: a docker-compose.yml that is a FIFO gets a compose-file hint, not the values-file one', async () => {
    project({secrets: {JWT_SECRET: {services: ['backend']}}}, null)
    p.setValues({JWT_SECRET: p.canary()})
    execFileSync('mkfifo', [p.project.path('docker-compose.yml')])
    const r = await p.run(['diff', p.env])
    expect(r.exitCode).to.not.equal(0)
    expect(r.stderr).to.match(/docker-compose\.yml is a named pipe \(FIFO\), not a compose file/)
    expect(r.stderr).to.match(/make docker-compose\.yml a regular file/).and.match(/services: \[backend\]/)
    expect(r.stderr).to.not.match(/values|`file:` of the environment/)
  })
})
