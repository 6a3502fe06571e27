import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {ValidateFunction} from 'ajv'
import {expect} from 'chai'
import {parse as parseYaml} from 'yaml'

import {assertNoLeak} from '../helpers/canary.js'
import {BIN} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {compileComposeSpec, DockerProject, modeOf, parseJson, requireBuild, type ManifestShape, type SecretEntry} from './support.js'

/**
 * The Docker directory as a place that is not trusted: built-in object names as keys and
 * services, files that do not exist never mounted, interrupted and concurrent pushes, symbolic
 * links, a directory that is not envsync's, and file modes that would expose the secrets.
 */

const TEMP = /^\..+\.[0-9a-f]{12}\d+\.tmp$/
const temps = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => TEMP.test(f)) : [])

describe('docker target: a directory that is not trusted', function () {
  this.timeout(120_000)
  let p: DockerProject
  let validate: ValidateFunction

  before(() => {
    requireBuild()
    validate = compileComposeSpec()
  })

  afterEach(() => {
    if (p) {
      assertNoLeak(p.canaries, ...p.outputs, p.auditLog)
      p.cleanup()
    }
  })

  /** Every file the override mounts exists, and it is a valid Compose file. */
  function assertOverrideUsable(): Record<string, any> {
    const doc = parseYaml(readFileSync(p.composeFile, 'utf8'))
    expect(validate(doc), JSON.stringify(validate.errors)).to.equal(true)
    const base = path.dirname(p.composeFile)
    for (const [name, s] of Object.entries<any>(doc.secrets ?? {})) expect(existsSync(path.resolve(base, s.file)), `secret ${name}: ${s.file}`).to.equal(true)
    for (const [name, svc] of Object.entries<any>(doc.services ?? {})) {
      for (const f of svc.env_file ?? []) expect(existsSync(path.resolve(base, f)), `${name} env_file ${f}`).to.equal(true)
      for (const s of svc.secrets ?? []) expect(doc.secrets, `${name} mounts ${s}`).to.have.property(s)
    }
    return doc
  }

  describe('keys, services and environments named like object built-ins (#10)', () => {
    const builtins = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__']

    it('every key lands, is read back in sync, and is removed when dropped (sensitive and config, service "constructor", environment "constructor")', async () => {
      const secrets: Record<string, SecretEntry> = {}
      builtins.forEach((k, i) => (secrets[k] = {services: i % 2 ? ['constructor'] : ['backend', 'constructor'], sensitive: i % 3 !== 0}))
      p = new DockerProject({environment: 'constructor', services: ['backend', 'constructor'], secrets})
      const values = Object.fromEntries(builtins.map((k) => [k, secrets[k].sensitive === false ? p.config('BUILTIN') : p.canary('BUILTIN')]))
      p.setValues(values)
      const r = await p.push('--json')
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      const report = parseJson(r.stdout).result.report
      expect(report.destinations[0].added.sort()).to.deep.equal([...builtins].sort())
      for (const [k, s] of Object.entries(secrets)) {
        if (s.sensitive === false) {
          for (const svc of s.services) expect(readFileSync(p.envFile(svc), 'utf8'), `${k} in ${svc}.env`).to.include(`${k}=${values[k]}`)
        } else {
          expect(readFileSync(p.secretFile(k), 'utf8'), k).to.equal(values[k])
        }
      }
      const doc = assertOverrideUsable()
      expect(Object.keys(doc.secrets).sort()).to.deep.equal(builtins.filter((_, i) => i % 3 !== 0).map((k) => k.toLowerCase()).sort())
      expect(doc.services.constructor.environment.constructor_FILE).to.equal('/run/secrets/constructor')
      const d = await p.diff('--exit-code')
      expect(d.exitCode, d.stdout).to.equal(0)

      // Dropped from the manifest: removed (ownership of such names is real, not inherited).
      const kept = Object.fromEntries(Object.entries(secrets).filter(([k]) => k === 'toString'))
      p.writeManifest({...p.shape, secrets: kept})
      const again = await p.push('--json')
      expect(again.exitCode, again.stdout + again.stderr).to.equal(0)
      expect(parseJson(again.stdout).result.report.destinations[0].removed.sort()).to.deep.equal(builtins.filter((k) => k !== 'toString').sort())
      for (const k of builtins.filter((x) => x !== 'toString')) expect(existsSync(p.secretFile(k)), k).to.equal(false)
      expect((await p.diff('--exit-code')).exitCode).to.equal(0)
    })

    it('a hand-made file named like a built-in is unmanaged, not taken as a config key or as owned', async () => {
      p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}, LOG_LEVEL: {services: ['backend'], sensitive: false}}})
      p.setValues({JWT_SECRET: p.canary(), LOG_LEVEL: 'info'})
      expect((await p.push()).exitCode).to.equal(0)
      writeFileSync(p.secretFile('constructor'), 'by hand', {mode: 0o600})
      const d = parseJson((await p.diff('--json')).stdout)
      const keys = d.result.destinations[0].keys.map((k: any) => k.key)
      // Lower case: not a name envsync could have written by hand-convention, so not even shown; never removed.
      expect(keys).to.not.include('constructor')
      expect((await p.push('--prune')).exitCode).to.equal(0)
      expect(readFileSync(p.secretFile('constructor'), 'utf8')).to.equal('by hand')
    })
  })

  describe('the compose override mounts only files that exist (#11)', () => {
    it('an optional secret without a value, a config key without a value, and a placeholder held back are not mounted; compose can start', async () => {
      const secrets: ManifestShape['secrets'] = {
        JWT_SECRET: {services: ['backend']},
        SENTRY_DSN: {services: ['backend', 'worker'], required: false},
        STRIPE_KEY: {services: ['backend']},
        API_URL: {services: ['frontend'], sensitive: false, required: false},
        LOG_LEVEL: {services: ['backend'], sensitive: false},
      }
      p = new DockerProject({secrets})
      p.setValues({JWT_SECRET: p.canary(), STRIPE_KEY: 'changeme', LOG_LEVEL: 'debug'})
      const r = await p.push('--force')
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(existsSync(p.secretFile('STRIPE_KEY')), 'the placeholder is held back').to.equal(false)
      expect(existsSync(p.secretFile('SENTRY_DSN'))).to.equal(false)
      const doc = assertOverrideUsable()
      expect(Object.keys(doc.secrets)).to.deep.equal(['jwt_secret'])
      expect(doc.services).to.not.have.property('frontend')
      expect(doc.services).to.not.have.property('worker')
      expect(doc.services.backend.secrets).to.deep.equal(['jwt_secret'])
      expect((await p.diff('--exit-code')).exitCode, 'in sync as it is').to.not.equal(1)

      // The value arrives: mounted then.
      p.setValues({SENTRY_DSN: `https://${p.canary()}@sentry.io/1`})
      expect((await p.push('--force')).exitCode).to.equal(0)
      const after = assertOverrideUsable()
      expect(Object.keys(after.secrets).sort()).to.deep.equal(['jwt_secret', 'sentry_dsn'])
      expect(after.services.worker.secrets).to.deep.equal(['sentry_dsn'])
    })
  })

  describe('interrupted and concurrent pushes (#13)', () => {
    /** Starts a push and SIGKILLs it as soon as its first temp file shows up in the directory. */
    async function killDuringWrite(dir: string, cwd: string, args: string[]): Promise<boolean> {
      const child = spawn(process.execPath, [BIN, ...args], {cwd, env: {...process.env, NO_COLOR: '1'}, stdio: 'ignore'})
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      let killed = false
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline && child.exitCode === null) {
        if (temps(dir).length > 0) {
          child.kill('SIGKILL')
          killed = true
          break
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      await exited
      return killed
    }

    it('kill -9 while taking over a hand-made file never makes it envsync\'s; left temp files are cleaned by the next push', async () => {
      const many: ManifestShape['secrets'] = {}
      for (let i = 0; i < 300; i++) many[`KEY_${String(i).padStart(3, '0')}`] = {services: ['backend']}
      p = new DockerProject({secrets: many})
      const first = Object.fromEntries(Object.keys(many).map((k) => [k, p.canary()]))
      p.setValues(first)
      expect((await p.push()).exitCode).to.equal(0)

      let kills = 0
      let leftTemps = 0
      let handSurvived = 0
      for (let round = 0; round < 6; round++) {
        // A file the user made, which the manifest now also names: a takeover.
        const hand = p.canary('HAND')
        writeFileSync(p.secretFile('ZZ_HAND'), hand, {mode: 0o600})
        p.writeManifest({...p.shape, secrets: {...many, ZZ_HAND: {services: ['backend']}}})
        p.setValues({...Object.fromEntries(Object.keys(many).map((k) => [k, p.canary()])), ZZ_HAND: p.canary()})
        if (await killDuringWrite(p.secretsDir, p.dir, ['push', p.env, '--yes'])) kills++
        leftTemps += temps(p.secretsDir).length
        const stillHand = readFileSync(p.secretFile('ZZ_HAND'), 'utf8') === hand
        // The manifest drops the key again: a file envsync never wrote must survive (no --prune).
        p.writeManifest({...p.shape, secrets: many})
        const r = await p.push()
        expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
        expect(temps(p.secretsDir), 'the next push removes what the killed one left').to.deep.equal([])
        if (stillHand) {
          handSurvived++
          expect(existsSync(p.secretFile('ZZ_HAND')), `round ${round}: the hand-made file was deleted`).to.equal(true)
          expect(readFileSync(p.secretFile('ZZ_HAND'), 'utf8')).to.equal(hand)
        }
      }
      expect(kills, 'the pushes were killed mid-write').to.be.greaterThan(3)
      expect(leftTemps, 'kills left temp files behind (what the cleanup is for)').to.be.greaterThan(0)
      expect(handSurvived, 'some kills came before the takeover was written').to.be.greaterThan(0)
    })

    it('two pushes of different values to one directory at once: one whole value set wins, the other fails clearly (never a mix)', async () => {
      const many: ManifestShape['secrets'] = {}
      for (let i = 0; i < 200; i++) many[`KEY_${String(i).padStart(3, '0')}`] = {services: ['backend']}
      p = new DockerProject({secrets: many})
      const base = readFileSync(p.project.manifest, 'utf8')
      // Two manifests of one project, one directory, two values files.
      const sets = ['a', 'b'].map((name) => {
        p.project.write(`envsync.${name}.yaml`, base.replace('protected: false', `protected: false\n    file: .env.${name}`), 0o644)
        const values = Object.fromEntries(Object.keys(many).map((k) => [k, p.canary(name.toUpperCase())]))
        p.project.write(`.env.${name}`, Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
        return {name, values}
      })
      for (let round = 0; round < 4; round++) {
        const runs = await Promise.all(sets.map((s) => p.run(['push', p.env, '--yes', '-m', `envsync.${s.name}.yaml`])))
        const onDisk = Object.fromEntries(Object.keys(many).map((k) => [k, readFileSync(p.secretFile(k), 'utf8')]))
        const winner = sets.find((s) => Object.entries(s.values).every(([k, v]) => onDisk[k] === v))
        expect(winner, `round ${round}: the directory holds a mix of both pushes`).to.not.equal(undefined)
        expect(runs.some((r) => r.exitCode === 0)).to.equal(true)
        for (const r of runs.filter((x) => x.exitCode !== 0)) expect(r.stdout + r.stderr, r.stdout + r.stderr).to.match(/changed since it was read|is locked by another envsync run/)
        // Swap the values, so the next round changes every file again.
        for (const s of sets) for (const k of Object.keys(s.values)) s.values[k] = p.canary(s.name.toUpperCase())
        for (const s of sets) p.project.write(`.env.${s.name}`, Object.entries(s.values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
      }
    })

    it('a lock left by a killed push is taken over; a lock held by a running one makes the push wait, then fail naming it', async () => {
      p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}}})
      p.setValues({JWT_SECRET: p.canary()})
      mkdirSync(p.secretsDir, {recursive: true, mode: 0o700})
      writeFileSync(path.join(p.secretsDir, '.envsync-owned.json'), '{"writtenBy": "envsync", "keys": []}\n', {mode: 0o600})
      // A dead pid of this host: the lock of a push killed with -9.
      const dead = spawn(process.execPath, ['-e', '0'])
      await new Promise((resolve) => dead.on('exit', resolve))
      const lock = path.join(p.secretsDir, '.envsync.lock')
      writeFileSync(lock, JSON.stringify({pid: dead.pid, host: os.hostname(), since: new Date().toISOString()}))
      const r = await p.push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(existsSync(lock)).to.equal(false)

      // A live holder (this test process): bounded wait, then a clear error; nothing written.
      writeFileSync(lock, JSON.stringify({pid: process.pid, host: os.hostname(), since: new Date().toISOString()}))
      p.setValues({JWT_SECRET: p.canary()})
      const before = readFileSync(p.secretFile('JWT_SECRET'), 'utf8')
      const started = Date.now()
      const locked = await p.run(['push', p.env, '--yes'], {env: {ENVSYNC_LOCK_TIMEOUT_MS: '1500'}})
      expect(locked.exitCode).to.equal(1)
      expect(Date.now() - started).to.be.lessThan(15_000)
      expect(locked.stdout + locked.stderr).to.match(new RegExp(`is locked by another envsync run \\(pid ${process.pid} on .*\\): secrets/staging/\\.envsync\\.lock`))
      expect(locked.stdout + locked.stderr).to.match(/if no envsync is running, delete secrets\/staging\/\.envsync\.lock/)
      expect(readFileSync(p.secretFile('JWT_SECRET'), 'utf8')).to.equal(before)
    })
  })

  describe('symbolic links (#14)', () => {
    let elsewhere: TempProject
    beforeEach(() => {
      elsewhere = new TempProject('envsync-elsewhere-')
      elsewhere.write('Makefile', 'all:\n', 0o755)
    })
    afterEach(() => elsewhere.cleanup())

    const untouched = () => {
      expect(readdirSync(elsewhere.dir).sort()).to.deep.equal(['Makefile'])
      expect(statSync(elsewhere.dir).mode & 0o777, 'not chmodded').to.not.equal(0o700)
    }

    for (const [what, setup] of [
      ['the directory itself', (q: DockerProject) => (mkdirSync(path.dirname(q.secretsDir), {recursive: true}), symlinkSync(elsewhere.dir, q.secretsDir))],
      ['a folder above it', (q: DockerProject) => symlinkSync(elsewhere.dir, q.project.path('secrets'))],
    ] as const) {
      it(`a symlinked Docker dir (${what}) is refused by diff and push; the link's target is untouched`, async () => {
        p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}}})
        p.setValues({JWT_SECRET: p.canary()})
        chmodSync(elsewhere.dir, 0o755)
        setup(p)
        for (const args of [['diff', p.env], ['push', p.env, '--yes']]) {
          const r = await p.run(args)
          expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
          expect(r.stdout + r.stderr).to.match(/is a symbolic link: envsync does not write or read its directory through links/)
        }
        untouched()
        if (what === 'a folder above it') expect(existsSync(path.join(elsewhere.dir, 'staging'))).to.equal(false)
      })
    }

    for (const name of ['JWT_SECRET', 'backend.env', '.envsync-owned.json']) {
      it(`a symlink in place of ${name} is refused, never written through or replaced`, async () => {
        p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}, LOG_LEVEL: {services: ['backend'], sensitive: false}}})
        p.setValues({JWT_SECRET: p.canary(), LOG_LEVEL: 'info'})
        expect((await p.push()).exitCode).to.equal(0)
        p.setValues({JWT_SECRET: p.canary(), LOG_LEVEL: 'debug'})
        const target = elsewhere.write('target', 'precious', 0o644)
        const link = path.join(p.secretsDir, name)
        rmSync(link)
        symlinkSync(target, link)
        const r = await p.push()
        expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
        expect(r.stdout + r.stderr).to.match(/is a symbolic link/)
        expect(readFileSync(target, 'utf8')).to.equal('precious')
        expect(lstatSync(link).isSymbolicLink()).to.equal(true)
      })
    }

    it('a symlinked compose override is refused, its target untouched', async () => {
      p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}}})
      p.setValues({JWT_SECRET: p.canary()})
      const target = elsewhere.write('compose.yml', 'services: {}\n', 0o644)
      symlinkSync(target, p.composeFile)
      const r = await p.push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(r.stdout + r.stderr).to.match(/docker-compose\.staging\.secrets\.yml is a symbolic link/)
      expect(readFileSync(target, 'utf8')).to.equal('services: {}\n')
    })

    it('generate refuses a symlinked values file (the link and its target stay as they were)', async () => {
      p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}}})
      const raw = readFileSync(p.project.manifest, 'utf8').replace('JWT_SECRET:\n    services:', 'JWT_SECRET:\n    generate: base64:32\n    services:')
      p.project.write('envsync.yaml', raw, 0o644)
      const target = elsewhere.write('shared.env', 'OTHER=1\n', 0o600)
      symlinkSync(target, p.valuesFile)
      const r = await p.run(['generate', p.env])
      expect(r.exitCode, r.stdout + r.stderr).to.not.equal(0)
      expect(r.stdout + r.stderr).to.match(/\.env\.staging is a symbolic link/)
      expect(lstatSync(p.valuesFile).isSymbolicLink()).to.equal(true)
      expect(readFileSync(target, 'utf8')).to.equal('OTHER=1\n')
    })
  })

  describe('a directory that is not envsync\'s (#15)', () => {
    for (const dir of ['.', './', '..', '../../..', '/tmp', '/etc/envsync', '.git/secrets', '.envsync', '../elsewhere']) {
      it(`docker.dir "${dir}" is refused with its place in the manifest; nothing is written`, async () => {
        p = new DockerProject({docker: {dir}, secrets: {JWT_SECRET: {services: ['backend']}}})
        p.setValues({JWT_SECRET: p.canary()})
        for (const args of [['diff', p.env], ['push', p.env, '--yes']]) {
          const r = await p.run(args)
          expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
          expect(r.stderr).to.match(/the Docker secrets directory .* (is the project directory itself|is outside the project|is inside \.(git|envsync)\/|contains the manifest)/)
          expect(r.stderr).to.match(/envsync\.yaml:\d+:\d+/)
        }
        expect(existsSync(p.project.path('JWT_SECRET'))).to.equal(false)
        expect(existsSync(p.composeFile)).to.equal(false)
      })
    }

    it('an existing folder envsync did not create that holds other files is refused; its files are untouched', async () => {
      p = new DockerProject({docker: {dir: 'deploy'}, secrets: {JWT_SECRET: {services: ['backend']}}})
      p.setValues({JWT_SECRET: p.canary()})
      mkdirSync(p.project.path('deploy'))
      for (const f of ['Makefile', 'LICENSE', 'Dockerfile', 'README']) p.project.write(`deploy/${f}`, `${f}\n`, 0o644)
      for (const args of [['diff', p.env], ['push', p.env, '--yes', '--prune']]) {
        const r = await p.run(args)
        expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
        expect(r.stdout + r.stderr).to.match(/deploy already exists, was not made by envsync .* Dockerfile, LICENSE, Makefile, README/)
      }
      expect(readdirSync(p.project.path('deploy')).sort()).to.deep.equal(['Dockerfile', 'LICENSE', 'Makefile', 'README'])
      expect(modeOf(p.project.path('deploy'))).to.not.equal(0o700)
    })

    it('a hand-made secrets folder holding only the manifest\'s files is taken over', async () => {
      p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}}})
      const v = p.canary()
      p.setValues({JWT_SECRET: v})
      mkdirSync(p.secretsDir, {recursive: true})
      writeFileSync(p.secretFile('JWT_SECRET'), 'old', {mode: 0o600})
      writeFileSync(path.join(p.secretsDir, '.gitignore'), '*\n')
      const r = await p.push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(readFileSync(p.secretFile('JWT_SECRET'), 'utf8')).to.equal(v)
    })

    it('--prune in envsync\'s own folder removes hand-made secret files but never Makefile, a 0644 LICENSE, scripts or dotfiles', async () => {
      p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}}})
      p.setValues({JWT_SECRET: p.canary()})
      expect((await p.push()).exitCode).to.equal(0)
      const theirs = {Makefile: 0o644, LICENSE: 0o644, Dockerfile: 0o644, RUN_ME: 0o700, '.notes': 0o600, lower_case: 0o600}
      for (const [f, mode] of Object.entries(theirs)) writeFileSync(path.join(p.secretsDir, f), `${f}\n`, {mode})
      writeFileSync(p.secretFile('HAND_SECRET'), p.canary(), {mode: 0o600})
      const r = await p.push('--prune')
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(existsSync(p.secretFile('HAND_SECRET'))).to.equal(false)
      for (const f of Object.keys(theirs)) expect(readFileSync(path.join(p.secretsDir, f), 'utf8'), f).to.equal(`${f}\n`)
    })

    it('secret files in a folder git does not ignore, or world-readable ones: check and push warn (and stop warning once fixed)', async () => {
      p = new DockerProject({docker: {fileMode: '0644'}, secrets: {JWT_SECRET: {services: ['backend']}}})
      p.setValues({JWT_SECRET: p.canary()})
      expect(spawnSync('git', ['init', '-q', p.dir]).status).to.equal(0)
      p.project.write('.gitignore', '.env.*\n.envsync/\n', 0o644)
      const c = await p.run(['check', p.env, '--json'])
      const rules = JSON.parse(c.stdout).result.findings.map((f: any) => `${f.severity} ${f.rule}`)
      expect(rules).to.include.members(['warning git-ignore', 'warning file-mode'])
      const r = await p.push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(r.stdout).to.match(/! warning +the Docker secrets directory secrets\/staging is not git-ignored/)
      expect(r.stdout).to.match(/! warning +fileMode "0644" makes the secret files in secrets\/staging readable by every user/)
      expect(parseJson((await p.diff('--json')).stdout).result.warnings.map((w: any) => w.rule)).to.deep.equal(['git-ignore', 'file-mode'])

      p.project.write('.gitignore', '.env.*\n.envsync/\nsecrets/\n', 0o644)
      p.writeManifest({...p.shape, docker: {fileMode: '0640'}})
      const after = await p.run(['check', p.env, '--json'])
      expect(JSON.parse(after.stdout).result.findings.map((f: any) => f.rule)).to.not.include.members(['git-ignore', 'file-mode'])
      expect((await p.diff()).stdout).to.not.match(/! warning/)
    })

    for (const [mode, why] of [
      ['0777', 'lets every user of the machine rewrite'],
      ['0666', 'lets every user of the machine rewrite'],
      ['0602', 'lets every user of the machine rewrite'],
      ['0000', 'does not let the owner read'],
      ['0200', 'does not let the owner read'],
      ['0044', 'does not let the owner read'],
    ]) {
      it(`fileMode "${mode}" is refused with its place in the manifest`, async () => {
        p = new DockerProject({docker: {fileMode: mode}, secrets: {JWT_SECRET: {services: ['backend']}}})
        p.setValues({JWT_SECRET: p.canary()})
        const r = await p.run(['push', p.env, '--yes'])
        expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
        expect(r.stderr).to.include(why)
        expect(r.stderr).to.match(/envsync\.yaml:\d+:\d+/)
        expect(existsSync(p.secretsDir)).to.equal(false)
      })
    }
  })
})
