import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'
import {parse as parseYaml} from 'yaml'

import {assertNoLeak} from '../helpers/canary.js'
import {baseSecrets, changedFiles, DockerProject, jsonKeys, modeOf, parseJson, requireBuild, snapshot} from './support.js'

/**
 * The Docker target through the real binary: `push ENV --yes`, `diff ENV [--exit-code] [--json]`.
 * Every secret value is a canary; after each test none of them may appear in anything printed, in
 * the audit log, in the compose override or in the ownership records (plain config values, which
 * a plan shows, in none of the records).
 */

const SECRET_KEYS = ['DB_PASSWORD', 'JWT_SECRET', 'TLS_KEY', 'WORKER_TOKEN']
const CONFIG_KEYS = ['API_URL', 'FEATURE_FLAGS', 'LOG_LEVEL']

/** Awkward but storable values for the base manifest, every piece a canary. */
function initialValues(p: DockerProject): Record<string, string> {
  return {
    JWT_SECRET: p.canary(),
    // Quotes of every kind, $, =, # and trailing blanks: written byte for byte, nothing added.
    DB_PASSWORD: `p@ss=${p.canary()} $HOME #hash "dq" 'sq'  `,
    // A PEM block with its own final newline: the file ends with exactly one.
    TLS_KEY: `-----BEGIN PRIVATE KEY-----\n${p.canary()}\n${p.canary()}\n-----END PRIVATE KEY-----\n`,
    WORKER_TOKEN: `\t${p.canary()}`,
    LOG_LEVEL: p.config(),
    FEATURE_FLAGS: `a=1,b=${p.config()} # not a comment $x`,
    API_URL: `https://api.test/${p.config()}`,
  }
}

describe('docker target through the binary', function () {
  let p: DockerProject
  let values: Record<string, string>

  before(requireBuild)

  beforeEach(() => {
    p = new DockerProject()
    values = initialValues(p)
    p.setValues(values)
  })

  afterEach(function () {
    // The leak check runs even for tests that passed their own assertions.
    try {
      // Nothing but secret files may hold a value: not the override, not ownership records.
      if (this.currentTest?.state !== 'failed') p.assertNoLeaks()
    } finally {
      p.cleanup()
    }
  })

  const secretBytes = (key: string) => readFileSync(p.secretFile(key))
  const envOf = (service: string) => dotenv.parse(readFileSync(p.envFile(service)))
  const compose = () => parseYaml(readFileSync(p.composeFile, 'utf8'))

  async function pushOk(...extra: string[]) {
    const r = await p.push(...extra)
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    return r
  }

  describe('first push', () => {
    it('writes one file per sensitive key with the exact bytes (no added newline), 0600 in a 0700 directory', async () => {
      const r = await pushOk()
      expect(r.stdout).to.match(/applied/)
      expect(modeOf(p.secretsDir)).to.equal(0o700)
      for (const key of SECRET_KEYS) {
        expect(secretBytes(key).equals(Buffer.from(values[key], 'utf8')), `${key} bytes`).to.equal(true)
        expect(modeOf(p.secretFile(key)), `${key} mode`).to.equal(0o600)
      }
      // TLS_KEY ends in the value's own newline, JWT_SECRET in its last character: nothing added.
      expect(secretBytes('TLS_KEY').at(-1)).to.equal(0x0a)
      expect(secretBytes('TLS_KEY').at(-2)).to.not.equal(0x0a)
      expect(secretBytes('JWT_SECRET').at(-1)).to.not.equal(0x0a)
      // Config keys are not secret files; no temp file is left behind by the atomic writes.
      const entries = readdirSync(p.secretsDir)
      for (const key of CONFIG_KEYS) expect(entries).to.not.include(key)
      expect(entries.filter((e) => e.endsWith('.tmp'))).to.deep.equal([])
      expect(existsSync(p.composeFile)).to.equal(true)
      // The audit log names the keys that were written (the leak check proves it has no values).
      const audit = p.auditLog
      for (const key of [...SECRET_KEYS, ...CONFIG_KEYS]) expect(audit).to.include(key)
      const line = JSON.parse(audit.trim().split('\n').at(-1)!)
      expect(line.status).to.equal('applied')
      expect([...line.added].sort()).to.deep.equal([...SECRET_KEYS, ...CONFIG_KEYS].sort())
    })

    it('honours fileMode "0640" for every secret file; the directory stays 0700', async () => {
      p.writeManifest({...p.shape, docker: {fileMode: '0640'}})
      await pushOk()
      expect(modeOf(p.secretsDir)).to.equal(0o700)
      for (const key of SECRET_KEYS) expect(modeOf(p.secretFile(key)), key).to.equal(0o640)
      for (const service of ['backend', 'worker', 'frontend']) expect(modeOf(p.envFile(service)) & 0o007, `${service}.env is not world-readable`).to.equal(0)
    })

    it('gives files exactly the configured mode whatever the umask (0640 under umask 077, 0600 under umask 000)', async () => {
      p.writeManifest({...p.shape, docker: {fileMode: '0640'}})
      let r = await p.run(['push', p.env, '--yes'], {umask: 0o077})
      expect(r.exitCode, r.stderr).to.equal(0)
      for (const key of SECRET_KEYS) expect(modeOf(p.secretFile(key)), `${key} under umask 077`).to.equal(0o640)

      p.writeManifest({...p.shape, docker: {}, environment: 'qa'})
      p.setValues(initialValues(p))
      r = await p.run(['push', 'qa', '--yes'], {umask: 0})
      expect(r.exitCode, r.stderr).to.equal(0)
      for (const key of SECRET_KEYS) expect(modeOf(p.secretFile(key)), `${key} under umask 000`).to.equal(0o600)
      expect(modeOf(p.secretsDir)).to.equal(0o700)
    })

    it('--json gives the plan and the report with keys and fingerprints only', async () => {
      const r = await p.push('--json')
      expect(r.exitCode, r.stdout).to.equal(0)
      const out = parseJson(r.stdout)
      expect(out.ok).to.equal(true)
      expect(out.result.applied).to.equal(true)
      const keys = jsonKeys(out.result.plan)
      for (const key of [...SECRET_KEYS, ...CONFIG_KEYS]) {
        expect(keys[key].action, key).to.equal('add')
        expect(keys[key].local).to.match(/^[\w-]{10}$/)
      }
      expect(out.result.report.destinations[0].status).to.equal('applied')
    })
  })

  describe('in sync', () => {
    it('a second push says in sync and writes nothing (same inodes, times, modes, bytes)', async () => {
      await pushOk()
      const auditBefore = p.auditLog
      const extra = [p.composeFile, p.project.path('.envsync/ownership.tsv')]
      const before = snapshot(p.secretsDir, extra)
      await new Promise((r) => setTimeout(r, 20))
      const r = await pushOk()
      expect(r.stdout).to.match(/in sync/)
      expect(r.stdout).to.not.match(/applied/)
      expect(changedFiles(before, snapshot(p.secretsDir, extra))).to.deep.equal([])
      expect(p.auditLog).to.equal(auditBefore)

      const d = await p.diff('--exit-code')
      expect(d.exitCode).to.equal(0)
      expect(d.stdout).to.match(/in sync/)
      const j = parseJson((await p.diff('--json')).stdout)
      expect(j.result.changes).to.equal(0)
      expect(Object.values(jsonKeys(j.result)).every((k) => k.action === 'unchanged')).to.equal(true)
    })
  })

  describe('tampering', () => {
    it('a secret file edited by hand: diff shows an update with different fingerprints and exits 3; push restores it atomically', async () => {
      await pushOk()
      writeFileSync(p.secretFile('JWT_SECRET'), p.canary('TAMPERED'))
      const tamperedIno = statSync(p.secretFile('JWT_SECRET')).ino

      const d = await p.diff()
      expect(d.exitCode).to.equal(0)
      expect(d.stdout).to.match(/~ JWT_SECRET/)
      expect((await p.diff('--exit-code')).exitCode).to.equal(3)
      const j = parseJson((await p.diff('--json', '--exit-code')).stdout)
      expect(j.exitCode).to.equal(3)
      const k = jsonKeys(j.result).JWT_SECRET
      expect(k.action).to.equal('update')
      expect(k.local).to.be.a('string').and.not.equal(k.live)
      expect(jsonKeys(j.result).DB_PASSWORD.action).to.equal('unchanged')

      const others = snapshot(p.secretsDir)
      const r = await pushOk()
      expect(r.stdout).to.match(/1 updated/)
      expect(secretBytes('JWT_SECRET').equals(Buffer.from(values.JWT_SECRET))).to.equal(true)
      // Replaced by rename (a new inode), never rewritten in place; nothing else touched.
      expect(statSync(p.secretFile('JWT_SECRET')).ino).to.not.equal(tamperedIno)
      expect(changedFiles(others, snapshot(p.secretsDir)).filter((f) => !f.startsWith('.'))).to.deep.equal(['JWT_SECRET'])
      expect((await p.diff('--exit-code')).exitCode).to.equal(0)
    })

    it('a config value edited by hand in an env file is seen by diff and restored by push', async () => {
      await pushOk()
      const file = p.envFile('backend')
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^FEATURE_FLAGS=.*$/m, `FEATURE_FLAGS=${p.config('TAMPERED')}`))
      const j = parseJson((await p.diff('--json', '--exit-code')).stdout)
      expect(j.exitCode).to.equal(3)
      const k = jsonKeys(j.result).FEATURE_FLAGS
      expect(k.action).to.equal('update')
      expect(k.local).to.not.equal(k.live)
      await pushOk()
      expect(envOf('backend').FEATURE_FLAGS).to.equal(values.FEATURE_FLAGS)
      expect((await p.diff('--exit-code')).exitCode).to.equal(0)
    })
  })

  describe('ownership', () => {
    it('a file added by hand is unmanaged: shown by diff, kept by push, removed by push --prune after the plan shows it', async () => {
      await pushOk()
      const theirs = p.canary('THEIRS')
      writeFileSync(p.secretFile('HAND_ADDED'), theirs, {mode: 0o600})

      const d = await p.diff()
      expect(d.stdout).to.match(/! HAND_ADDED.*not envsync/)
      expect((await p.diff('--exit-code')).exitCode, 'an unmanaged file alone is not a difference').to.equal(0)
      expect(jsonKeys(parseJson((await p.diff('--json')).stdout).result).HAND_ADDED.action).to.equal('unmanaged')

      // A push that does write (one value changed) still leaves the hand-added file alone.
      values.JWT_SECRET = p.canary()
      p.setValues({JWT_SECRET: values.JWT_SECRET})
      await pushOk()
      expect(readFileSync(p.secretFile('HAND_ADDED'), 'utf8')).to.equal(theirs)

      const pruneDiff = parseJson((await p.diff('--prune', '--json')).stdout)
      expect(jsonKeys(pruneDiff.result).HAND_ADDED).to.include({action: 'remove', pruned: true})
      expect(existsSync(p.secretFile('HAND_ADDED')), 'diff --prune changes nothing').to.equal(true)

      const before = snapshot(p.secretsDir)
      const r = await pushOk('--prune')
      const planAt = r.stdout.search(/- HAND_ADDED.*--prune/)
      expect(planAt, r.stdout).to.be.greaterThan(-1)
      expect(planAt).to.be.lessThan(r.stdout.indexOf('applied'))
      expect(existsSync(p.secretFile('HAND_ADDED'))).to.equal(false)
      expect(changedFiles(before, snapshot(p.secretsDir)).filter((f) => !f.startsWith('.'))).to.deep.equal(['HAND_ADDED'])
      expect(p.auditLog).to.match(/"removed":\["HAND_ADDED"\]/)
    })

    it('a line added by hand to a service env file is unmanaged and survives pushes until --prune', async () => {
      await pushOk()
      const file = p.envFile('backend')
      const theirs = p.canary('THEIRS')
      writeFileSync(file, readFileSync(file, 'utf8') + `HAND_SETTING=${theirs}\n`)
      expect(jsonKeys(parseJson((await p.diff('--json')).stdout).result).HAND_SETTING.action).to.equal('unmanaged')

      // A config change rewrites backend.env: the unmanaged line must stay.
      values.FEATURE_FLAGS = p.config()
      p.setValues({FEATURE_FLAGS: values.FEATURE_FLAGS})
      await pushOk()
      expect(envOf('backend')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL, FEATURE_FLAGS: values.FEATURE_FLAGS, HAND_SETTING: theirs})

      await pushOk('--prune')
      expect(envOf('backend')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL, FEATURE_FLAGS: values.FEATURE_FLAGS})
      expect((await p.diff('--exit-code', '--prune')).exitCode).to.equal(0)
    })

    it('a key removed from the manifest: the next push removes its file (and its mount), nothing else', async () => {
      await pushOk()
      const {WORKER_TOKEN: _, ...rest} = baseSecrets()
      p.writeManifest({...p.shape, secrets: rest})
      p.setValues({WORKER_TOKEN: null})

      const j = parseJson((await p.diff('--json')).stdout)
      expect(jsonKeys(j.result).WORKER_TOKEN.action).to.equal('remove')
      expect((await p.diff()).stdout).to.match(/- WORKER_TOKEN/)
      expect(existsSync(p.secretFile('WORKER_TOKEN')), 'diff removes nothing').to.equal(true)

      const before = snapshot(p.secretsDir)
      const r = await pushOk()
      expect(r.stdout).to.match(/1 removed/)
      expect(existsSync(p.secretFile('WORKER_TOKEN'))).to.equal(false)
      expect(changedFiles(before, snapshot(p.secretsDir)).filter((f) => !f.startsWith('.'))).to.deep.equal(['WORKER_TOKEN'])
      const c = compose()
      expect(c.secrets).to.not.have.property('worker_token')
      expect(c.services.worker.secrets).to.deep.equal(['db_password'])
      expect(c.services.worker.environment).to.not.have.property('WORKER_TOKEN_FILE')
      expect(p.auditLog).to.match(/"removed":\["WORKER_TOKEN"\]/)
      expect((await p.diff('--exit-code')).exitCode).to.equal(0)
    })

    it("removing a service's last config key removes its env file (config-only and mixed services)", async () => {
      await pushOk()
      const {API_URL: _a, LOG_LEVEL: _l, ...rest} = baseSecrets()
      p.writeManifest({...p.shape, secrets: rest})
      p.setValues({API_URL: null, LOG_LEVEL: null})
      await pushOk()
      // frontend had only API_URL; worker had LOG_LEVEL besides its secrets.
      expect(existsSync(p.envFile('frontend')), 'frontend.env').to.equal(false)
      expect(existsSync(p.envFile('worker')), 'worker.env').to.equal(false)
      expect(envOf('backend')).to.deep.equal({FEATURE_FLAGS: values.FEATURE_FLAGS})
      const c = compose()
      expect(c.services).to.not.have.property('frontend')
      expect(c.services.worker).to.not.have.property('env_file')
      expect(c.services.backend.env_file).to.have.length(1)
      const d = await p.diff('--exit-code')
      expect(d.exitCode, d.stdout).to.equal(0)
      expect(d.stdout).to.not.match(/API_URL|LOG_LEVEL/)
    })
  })

  describe('layout', () => {
    it('a key shared by two services is one file, mounted by both', async () => {
      await pushOk()
      const c = compose()
      expect(Object.keys(c.secrets).filter((n) => n === 'db_password')).to.have.length(1)
      expect(c.secrets.db_password.file).to.equal('./secrets/staging/DB_PASSWORD')
      for (const service of ['backend', 'worker']) {
        expect(c.services[service].secrets, service).to.include('db_password')
        expect(c.services[service].environment.DB_PASSWORD_FILE, service).to.equal('/run/secrets/db_password')
      }
      expect(c.services.backend.secrets).to.deep.equal(['db_password', 'jwt_secret', 'tls_key'])
      expect(c.services.worker.secrets).to.deep.equal(['db_password', 'worker_token'])
      expect(c.services.frontend).to.not.have.property('secrets')
      expect(readdirSync(p.secretsDir).filter((f) => !f.startsWith('.')).sort()).to.deep.equal([...SECRET_KEYS, 'backend.env', 'frontend.env', 'worker.env'].sort())
    })

    it('config values land in <service>.env, read back exactly by dotenv; no secret value is in an env file', async () => {
      await pushOk()
      expect(envOf('backend')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL, FEATURE_FLAGS: values.FEATURE_FLAGS})
      expect(envOf('worker')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL})
      expect(envOf('frontend')).to.deep.equal({API_URL: values.API_URL})
      const envText = ['backend', 'worker', 'frontend'].map((s) => readFileSync(p.envFile(s), 'utf8')).join('\n')
      for (const key of SECRET_KEYS) expect(envText).to.not.include(key)
      assertNoLeak(p.canaries.filter((c) => SECRET_KEYS.some((k) => values[k].includes(c))), envText)
      const c = compose()
      expect(c.services.backend.env_file).to.deep.equal(['./secrets/staging/backend.env'])
      expect(c.services.frontend.env_file).to.deep.equal(['./secrets/staging/frontend.env'])
      // Config keys are plain environment via the env file: never *_FILE entries, never mounted.
      expect(c.services.backend.environment).to.not.have.property('LOG_LEVEL_FILE')
      expect(c.secrets).to.not.have.property('log_level')
    })

    it('a key changed between sensitive and config moves between a secret file and the env files', async () => {
      await pushOk()
      const secrets = baseSecrets()
      secrets.FEATURE_FLAGS = {services: ['backend']} // now sensitive
      secrets.JWT_SECRET = {services: ['backend'], sensitive: false} // now config
      p.writeManifest({...p.shape, secrets})
      // Declared plain config now: the plan shows its value, by design.
      p.canaries.splice(p.canaries.indexOf(values.JWT_SECRET), 1)
      const r = await pushOk()
      expect(r.stdout).to.match(/✓ applied/)
      expect(secretBytes('FEATURE_FLAGS').equals(Buffer.from(values.FEATURE_FLAGS))).to.equal(true)
      expect(existsSync(p.secretFile('JWT_SECRET')), 'the old secret file is gone').to.equal(false)
      expect(envOf('backend')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL, JWT_SECRET: values.JWT_SECRET})
      const c = compose()
      expect(c.services.backend.secrets).to.include('feature_flags').and.not.include('jwt_secret')
      expect((await p.diff('--exit-code')).exitCode).to.equal(0)
    })

    it('a service added to an existing key gets it mounted even though no value changed', async () => {
      await pushOk()
      const secrets = baseSecrets()
      secrets.JWT_SECRET = {services: ['backend', 'worker']}
      p.writeManifest({...p.shape, secrets})
      await pushOk()
      const c = compose()
      expect(c.services.worker.secrets).to.include('jwt_secret')
      expect(c.services.worker.environment.JWT_SECRET_FILE).to.equal('/run/secrets/jwt_secret')
    })
  })

  describe('restricting a push', () => {
    it('--service pushes only that service’s keys and leaves other services’ files and mounts alone', async () => {
      // On an empty directory: only the keys the worker receives are written. A key it shares is
      // one value (DB_PASSWORD one file, LOG_LEVEL the same line in both env files), so the
      // backend gets those too, but none of its own keys.
      let r = await pushOk('--service', 'worker')
      expect(readdirSync(p.secretsDir).filter((f) => !f.startsWith('.')).sort()).to.deep.equal(['DB_PASSWORD', 'WORKER_TOKEN', 'backend.env', 'worker.env'])
      expect(envOf('backend')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL})
      // Only what is on disk is mounted: Compose refuses to start on a missing env or secret file.
      expect(compose().services.frontend, 'frontend.env is not written yet, so not mounted').to.equal(undefined)
      expect(compose().services.backend.secrets ?? [], 'nor are the backend secret files').to.deep.equal(['db_password'])
      await pushOk()
      expect(compose().services.frontend.env_file, 'the full push mounts it').to.have.length(1)
      const composeBefore = readFileSync(p.composeFile, 'utf8')

      const next = {JWT_SECRET: p.canary(), WORKER_TOKEN: p.canary(), API_URL: `https://api.test/${p.config()}`, LOG_LEVEL: p.config()}
      p.setValues(next)
      const before = snapshot(p.secretsDir)
      const d = parseJson((await p.diff('--service', 'backend', '--json')).stdout)
      const planned = jsonKeys(d.result)
      expect(planned.JWT_SECRET.action).to.equal('update')
      for (const key of ['WORKER_TOKEN', 'API_URL']) expect(planned[key]?.action ?? 'absent', key).to.not.be.oneOf(['remove', 'add', 'update'])

      r = await pushOk('--service', 'backend')
      expect(r.stdout).to.not.match(/remove/)
      expect(secretBytes('JWT_SECRET').equals(Buffer.from(next.JWT_SECRET))).to.equal(true)
      expect(secretBytes('WORKER_TOKEN').equals(Buffer.from(values.WORKER_TOKEN)), 'worker-only key untouched').to.equal(true)
      expect(envOf('frontend')).to.deep.equal({API_URL: values.API_URL})
      expect(envOf('backend').LOG_LEVEL).to.equal(next.LOG_LEVEL)
      expect(changedFiles(before, snapshot(p.secretsDir)).filter((f) => !f.startsWith('.'))).to.not.include.members(['WORKER_TOKEN', 'frontend.env'])
      expect(readFileSync(p.composeFile, 'utf8'), 'the override still mounts every service').to.equal(composeBefore)

      // The rest is still pending, and nothing envsync owns was forgotten.
      const full = parseJson((await p.diff('--json')).stdout)
      const keys = jsonKeys(full.result)
      expect(keys.WORKER_TOKEN.action).to.equal('update')
      expect(keys.API_URL.action).to.equal('update')
      await pushOk()
      expect((await p.diff('--exit-code')).exitCode).to.equal(0)
    })

    it('--only KEY pushes that key alone (a secret file, or one line of the env files)', async () => {
      await pushOk()
      const next = {JWT_SECRET: p.canary(), WORKER_TOKEN: p.canary(), LOG_LEVEL: p.config(), FEATURE_FLAGS: p.config()}
      p.setValues(next)

      let before = snapshot(p.secretsDir)
      let r = await pushOk('--only', 'FEATURE_FLAGS')
      expect(r.stdout).to.match(/1 updated/)
      expect(envOf('backend')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL, FEATURE_FLAGS: next.FEATURE_FLAGS})
      expect(envOf('worker')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL})
      expect(changedFiles(before, snapshot(p.secretsDir)).filter((f) => !f.startsWith('.'))).to.deep.equal(['backend.env'])

      before = snapshot(p.secretsDir)
      r = await pushOk('--only', 'JWT_SECRET')
      expect(changedFiles(before, snapshot(p.secretsDir)).filter((f) => !f.startsWith('.'))).to.deep.equal(['JWT_SECRET'])
      expect(secretBytes('JWT_SECRET').equals(Buffer.from(next.JWT_SECRET))).to.equal(true)
      expect(secretBytes('WORKER_TOKEN').equals(Buffer.from(values.WORKER_TOKEN))).to.equal(true)

      const keys = jsonKeys(parseJson((await p.diff('--json')).stdout).result)
      expect(keys.WORKER_TOKEN.action).to.equal('update')
      expect(keys.LOG_LEVEL.action).to.equal('update')
      expect(keys.JWT_SECRET.action).to.equal('unchanged')
      expect(keys.FEATURE_FLAGS.action).to.equal('unchanged')
    })

    it('--only an unknown key is a usage error and writes nothing', async () => {
      const r = await p.push('--only', 'NOPE_KEY')
      expect(r.exitCode).to.equal(2)
      expect(existsSync(p.secretsDir)).to.equal(false)
    })
  })

  describe('check before push', () => {
    const nothingWritten = () => {
      expect(existsSync(p.secretsDir), 'secrets dir').to.equal(false)
      expect(existsSync(p.composeFile), 'compose override').to.equal(false)
      expect(p.auditLog).to.equal('')
    }

    it('a placeholder blocks the push with exit 1 and nothing written', async () => {
      p.setValues({JWT_SECRET: 'changeme'})
      const r = await p.push()
      expect(r.exitCode).to.equal(1)
      expect(r.stderr).to.match(/check found .* error/)
      expect(r.stderr).to.match(/JWT_SECRET/)
      expect(r.stdout + r.stderr).to.not.include('changeme')
      nothingWritten()
      const j = parseJson((await p.push('--json')).stdout)
      expect(j).to.deep.include({ok: false, exitCode: 1})
      expect(j.error.code).to.equal('CHECK_FAILED')
      nothingWritten()
    })

    it('a missing required value blocks the push with exit 1 and nothing written', async () => {
      p.setValues({WORKER_TOKEN: null})
      const r = await p.push()
      expect(r.exitCode).to.equal(1)
      expect(r.stderr).to.match(/WORKER_TOKEN/)
      nothingWritten()
    })

    it('--force pushes the rest but never the placeholder (first push)', async () => {
      p.setValues({JWT_SECRET: 'changeme', API_URL: 'changeme', WORKER_TOKEN: null})
      await pushOk('--force')
      expect(existsSync(p.secretFile('JWT_SECRET'))).to.equal(false)
      expect(existsSync(p.secretFile('WORKER_TOKEN'))).to.equal(false)
      expect(secretBytes('DB_PASSWORD').equals(Buffer.from(values.DB_PASSWORD))).to.equal(true)
      expect(envOf('backend')).to.deep.equal({LOG_LEVEL: values.LOG_LEVEL, FEATURE_FLAGS: values.FEATURE_FLAGS})
      expect(p.writtenText()).to.not.include('changeme')
    })

    it('--force over an earlier push keeps the last good value of a key that is now a placeholder', async () => {
      await pushOk()
      const next = {JWT_SECRET: 'changeme', LOG_LEVEL: 'changeme', DB_PASSWORD: p.canary()}
      p.setValues(next)
      expect((await p.push()).exitCode).to.equal(1)
      const r = await pushOk('--force')
      expect(r.stdout + r.stderr).to.not.include('changeme')
      expect(secretBytes('DB_PASSWORD').equals(Buffer.from(next.DB_PASSWORD))).to.equal(true)
      expect(secretBytes('JWT_SECRET').equals(Buffer.from(values.JWT_SECRET))).to.equal(true)
      expect(envOf('backend').LOG_LEVEL).to.equal(values.LOG_LEVEL)
      expect(envOf('worker').LOG_LEVEL).to.equal(values.LOG_LEVEL)
      expect(p.writtenText()).to.not.include('changeme')
    })
  })
})
