import {mkdirSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import type {CheckResult} from '../../src/check/check.js'
import type {Finding} from '../../src/check/rules.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {cleanValues, draw, git, hasGit, pgUrl, smallManifest, summary, useCheckProjects} from './support.js'

const GEN_JWT_PROD = 'run `envsync generate production JWT_SECRET --force`'

/** The one finding of a rule for a key (fails when there is none, or more than one). */
function only(r: CheckResult, rule: string, key?: string): Finding {
  const found = r.findings.filter((f) => f.rule === rule && f.key === key)
  expect(found, `${rule} ${key ?? '-'} in ${JSON.stringify(summary(r.findings))}`).to.have.length(1)
  return found[0]
}

describe('check: rules (runCheck on temp projects)', () => {
  const {project, current} = useCheckProjects()

  it('a clean environment has no findings, and the result says what was checked', async () => {
    const r = await project(smallManifest(), {'.env.production': cleanValues(), '.env.development': cleanValues()}).check('production')
    expect(r.findings).to.deep.equal([])
    expect(r).to.include({environment: 'production', checked: 3, errors: 0, warnings: 0, file: current().path('.env.production')})
  })

  describe('missing', () => {
    it('a required key without a value is an error; the hint generates it or names the file', async () => {
      const r = await project(smallManifest(), {'.env.production': {}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error missing JWT_SECRET', 'error missing DATABASE_URL'])
      expect(only(r, 'missing', 'JWT_SECRET')).to.deep.equal({
        severity: 'error',
        rule: 'missing',
        key: 'JWT_SECRET',
        message: 'JWT_SECRET is required and has no value',
        hint: 'run `envsync generate production`',
      })
      expect(only(r, 'missing', 'DATABASE_URL').hint).to.equal(`add DATABASE_URL=… to ${current().path('.env.production')}`)
      expect(r.errors).to.equal(2)
    })

    it('no values file at all: every required key is missing, and no file finding', async () => {
      const r = await project(smallManifest()).check('production')
      expect(summary(r.findings)).to.deep.equal(['error missing JWT_SECRET', 'error missing DATABASE_URL'])
    })

    it('an empty value is missing ("is empty"), and nothing else is said about it', async () => {
      const r = await project(smallManifest(), {'.env.production': {JWT_SECRET: '', DATABASE_URL: pgUrl()}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error missing JWT_SECRET'])
      expect(r.findings[0].message).to.equal('JWT_SECRET is empty')
    })

    it('an optional key may be absent or empty', async () => {
      const m = smallManifest(`  SENTRY_DSN:\n    services: [backend]\n    required: false\n    format: url\n  OPTIONAL_TOKEN:\n    services: [backend]\n    required: false\n    generate: hex:32\n`)
      expect((await project(m, {'.env.production': {...cleanValues(), OPTIONAL_TOKEN: ''}}).check('production')).findings).to.deep.equal([])
    })

    it('a default of non-sensitive config counts as its value (and is checked like one)', async () => {
      const m = smallManifest(`  NODE_ENV:\n    services: [backend]\n    sensitive: false\n    format: {enum: [development, production]}\n    default: production\n`)
      expect((await project(m, {'.env.production': cleanValues()}).check('production')).findings).to.deep.equal([])
      current().cleanup()
      // The values file wins over the default, for better and for worse.
      const r = await project(m, {'.env.production': {...cleanValues(), NODE_ENV: 'prod', VITE_API_URL: 'localhost:3000'}}).check('production')
      // localhost:3000 is no URL, and a local address in production besides.
      expect(summary(r.findings)).to.deep.equal(['error format VITE_API_URL', 'error weak VITE_API_URL', 'error format NODE_ENV'])
    })

    describe('per-target literal overrides', () => {
      const manifest = (productionTargets: string) => `project: shop
services: {backend: {}}
environments:
  development: {}
  production:
    targets:
${productionTargets}
secrets:
  DATABASE_URL:
    services: [backend]
    format: postgres-url
    targets:
      railway: \${{Postgres.DATABASE_URL}}
      render: postgres://from-render:5432/db
`
      const railway = '      railway: {project: shop, services: {backend: api}}\n'
      const render = '      render: {services: {backend: srv-123}}\n'
      const docker = '      docker: {}\n'

      it('a key whose every target has an override is not missing', async () => {
        expect((await project(manifest(railway), {'.env.production': {}}).check('production')).findings).to.deep.equal([])
        current().cleanup()
        expect((await project(manifest(railway + render), {'.env.production': {}}).check('production')).findings).to.deep.equal([])
      })

      it('one target without an override needs the local value', async () => {
        const r = await project(manifest(railway + docker), {'.env.production': {}}).check('production')
        expect(summary(r.findings)).to.deep.equal(['error missing DATABASE_URL'])
      })

      it('an environment without targets needs the local value', async () => {
        const r = await project(manifest(railway), {'.env.development': {}}).check('development')
        expect(summary(r.findings)).to.deep.equal(['error missing DATABASE_URL'])
      })
    })
  })

  it('a missing key gets only the missing finding, even when its spec has other problems (current behaviour)', async () => {
    // A missing value does not hide that the manifest itself exposes the key.
    const m = smallManifest(`  VITE_SECRET:\n    services: [frontend]\n`)
    const pr = project(m, {'.env.production': cleanValues()})
    expect(summary((await pr.check('production')).findings)).to.deep.equal(['error missing VITE_SECRET', 'error public-service VITE_SECRET', 'error public-prefix VITE_SECRET'])
    pr.values('.env.production', {...cleanValues(), VITE_SECRET: draw('alnum:40')})
    expect(summary((await pr.check('production')).findings)).to.deep.equal(['error public-service VITE_SECRET', 'error public-prefix VITE_SECRET'])
  })

  describe('placeholder', () => {
    const placeholders = [
      'changeme',
      'change-me',
      'your-jwt-secret-here',
      'xxx',
      'TODO',
      'example',
      'placeholder',
      'dummy',
      '<jwt-secret>',
      'password',
      'dev-secret-change-me',
      'change-me-in-prod',
      'sk_test_xxxxxxxx',
      'your-api-key-here',
    ]
    for (const value of placeholders) {
      it(`JWT_SECRET=${value} is a placeholder error with the generate --force hint`, async () => {
        const r = await project(smallManifest(), {'.env.production': {JWT_SECRET: value, DATABASE_URL: pgUrl()}}).check('production')
        const f = only(r, 'placeholder', 'JWT_SECRET')
        expect(f.severity).to.equal('error')
        // The message names the kind of marker, never the value.
        expect(f.message).to.match(/^JWT_SECRET looks like a placeholder \((change-me|placeholder|dummy|example|todo|weak default|<…>|xxx|your-…)\)$/)
        expect(f.hint).to.equal(GEN_JWT_PROD)
      })
    }

    it('a placeholder in a long random-looking value is still one, and the only finding', async () => {
      const r = await project(smallManifest(), {'.env.production': {JWT_SECRET: `${draw('base64:48')}-change-me`, DATABASE_URL: pgUrl()}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error placeholder JWT_SECRET'])
    })

    it('a key without a recipe: the hint asks for a real value', async () => {
      const r = await project(smallManifest(), {'.env.production': {JWT_SECRET: draw('base64:48'), DATABASE_URL: 'postgres://user:changeme@localhost:5432/app'}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error placeholder DATABASE_URL'])
      expect(r.findings[0].hint).to.equal(`set a real value for DATABASE_URL in ${current().path('.env.production')}`)
    })

    it('non-sensitive config is checked too', async () => {
      const r = await project(smallManifest(), {'.env.production': {...cleanValues(), VITE_API_URL: 'https://api.example.com'}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error placeholder VITE_API_URL'])
    })
  })

  describe('min-length', () => {
    it('a generated secret needs 32 characters by default', async () => {
      const r = await project(smallManifest(), {'.env.production': {JWT_SECRET: draw('alnum:31'), DATABASE_URL: pgUrl()}}).check('production')
      const f = only(r, 'min-length', 'JWT_SECRET')
      expect(f).to.deep.equal({
        severity: 'error',
        rule: 'min-length',
        key: 'JWT_SECRET',
        message: 'JWT_SECRET has 31 characters; at least 32 are required',
        hint: GEN_JWT_PROD,
      })
      current().cleanup()
      expect((await project(smallManifest(), {'.env.production': {JWT_SECRET: draw('alnum:32'), DATABASE_URL: pgUrl()}}).check('production')).findings).to.deep.equal([])
    })

    it('a recipe that makes fewer than 32 characters sets the minimum', async () => {
      const m = smallManifest(`  PIN_KEY:\n    services: [backend]\n    generate: hex:8\n  ADMIN_PASSWORD:\n    services: [backend]\n    generate: password:24\n`)
      const ok = {...cleanValues(), PIN_KEY: draw('hex:8'), ADMIN_PASSWORD: draw('password:24')}
      expect((await project(m, {'.env.production': ok}).check('production')).findings).to.deep.equal([])
      current().cleanup()
      const r = await project(m, {'.env.production': {...ok, PIN_KEY: draw('hex:8').slice(1), ADMIN_PASSWORD: draw('password:23')}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error min-length PIN_KEY', 'error min-length ADMIN_PASSWORD'])
      expect(only(r, 'min-length', 'PIN_KEY').message).to.equal('PIN_KEY has 15 characters; at least 16 are required')
      expect(only(r, 'min-length', 'ADMIN_PASSWORD').message).to.equal('ADMIN_PASSWORD has 23 characters; at least 24 are required')
      expect(only(r, 'min-length', 'ADMIN_PASSWORD').hint).to.equal('run `envsync generate production ADMIN_PASSWORD --force`')
    })

    it('an explicit minLength applies to a secret without a recipe; the hint names the length', async () => {
      const m = smallManifest(`  SMTP_PASSWORD:\n    services: [backend]\n    minLength: 16\n`)
      const r = await project(m, {'.env.production': {...cleanValues(), SMTP_PASSWORD: 'Kq8vP2xLm9Zt4wB'}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error min-length SMTP_PASSWORD'])
      expect(r.findings[0].hint).to.equal('use a value of at least 16 characters')
    })

    it('lengths count characters, not bytes or UTF-16 units', async () => {
      const m = smallManifest(`  PASSPHRASE:\n    services: [backend]\n    minLength: 8\n`)
      expect((await project(m, {'.env.production': {...cleanValues(), PASSPHRASE: '🔑🗝️é中文字ñø'}}).check('production')).findings).to.deep.equal([])
      current().cleanup()
      const r = await project(m, {'.env.production': {...cleanValues(), PASSPHRASE: '🔑🔒🔓🗝'}}).check('production')
      expect(only(r, 'min-length', 'PASSPHRASE').message).to.equal('PASSPHRASE has 4 characters; at least 8 are required')
    })

    it('non-sensitive generated config has no default minimum', async () => {
      const m = smallManifest(`  BUILD_ID:\n    services: [backend]\n    sensitive: false\n    generate: alnum:40\n`)
      expect((await project(m, {'.env.production': {...cleanValues(), BUILD_ID: 'Kq8vP2xLm9'}}).check('production')).findings).to.deep.equal([])
    })
  })

  describe('format', () => {
    const m = smallManifest(`  F_URL: {services: [backend], sensitive: false, format: url}
  F_PG: {services: [backend], sensitive: false, format: postgres-url}
  F_REDIS: {services: [backend], sensitive: false, format: redis-url}
  F_EMAIL: {services: [backend], sensitive: false, format: email}
  F_PORT: {services: [backend], sensitive: false, format: port}
  F_INT: {services: [backend], sensitive: false, format: int}
  F_BOOL: {services: [backend], sensitive: false, format: bool}
  F_ENUM: {services: [backend], sensitive: false, format: {enum: [red, blue]}}
  F_REGEX: {services: [backend], sensitive: false, format: {regex: '[A-Z]{3}-[0-9]{4}'}}
`)
    const good = {
      F_URL: 'https://api.shop.io/v1',
      F_PG: 'postgresql://u:Kq8vP2xLm9@pg.internal:5432/d',
      F_REDIS: 'rediss://:Kq8vP2xLm9@cache.internal:6380/0',
      F_EMAIL: 'ops@shop.io',
      F_PORT: '65535',
      F_INT: '-42',
      F_BOOL: 'yes',
      F_ENUM: 'blue',
      F_REGEX: 'ABC-1234',
    }
    const expected: Record<string, [string, string]> = {
      // A URL of another scheme says which, and offers the format that takes it (hints.test.ts follows it).
      F_URL: ['ftp://files.shop.io', "expected an http(s) URL such as https://api.example.com; if F_URL really is a ftp:// URL, set `format: {regex: 'ftp://.+'}` on F_URL in the manifest"],
      F_PG: ['mysql://u:p@db.internal/d', "expected a URL of the form postgres://user:password@host:5432/db; if F_PG really is a mysql:// URL, set `format: {regex: 'mysql://.+'}` on F_PG in the manifest"],
      F_REDIS: ['http://cache.internal:6379', 'expected a URL of the form redis://:password@host:6379/0; if F_REDIS really is a http:// URL, set `format: url` on F_REDIS in the manifest'],
      F_EMAIL: ['ops.shop.io', 'expected an email address'],
      F_PORT: ['70000', 'expected a port number from 1 to 65535'],
      F_INT: ['4.2', 'expected a whole number'],
      F_BOOL: ['maybe', 'expected true or false'],
      F_ENUM: ['green', 'expected one of red, blue'],
      F_REGEX: ['ABC-12345', 'expected a value matching /[A-Z]{3}-[0-9]{4}/'],
    }

    it('values in their formats pass', async () => {
      expect((await project(m, {'.env.production': {...cleanValues(), ...good}}).check('production')).findings).to.deep.equal([])
    })

    it('each format rejects a value outside it, with what it expects as the hint', async () => {
      const bad = Object.fromEntries(Object.entries(expected).map(([k, [v]]) => [k, v]))
      const r = await project(m, {'.env.production': {...cleanValues(), ...bad}}).check('production')
      expect(summary(r.findings)).to.deep.equal(Object.keys(expected).map((k) => `error format ${k}`))
      for (const [key, [value, hint]] of Object.entries(expected)) {
        const f = only(r, 'format', key)
        expect(f.hint, key).to.equal(hint)
        expect(f.message, key).to.match(new RegExp(`^${key} (is not |is a [a-z]+:// URL, but its format [a-z-]+ takes )`))
        expect(f.message, key).not.to.include(value)
      }
    })

    it('edges: port 0 and 65536, a URL without a host, an email without a domain, a regex matching only part of the value', async () => {
      const pr = project(m, {'.env.production': {...cleanValues(), ...good, F_PORT: '0', F_URL: 'https://', F_PG: 'postgres:///d', F_REDIS: 'redis:///0', F_EMAIL: 'ops@shop', F_REGEX: 'xABC-1234'}})
      expect(summary((await pr.check('production')).findings)).to.deep.equal([
        'error format F_URL',
        'error format F_PG',
        'error format F_REDIS',
        'error format F_EMAIL',
        'error format F_PORT',
        'error format F_REGEX',
      ])
      pr.values('.env.production', {...cleanValues(), ...good, F_PORT: '65536', F_URL: 'http://api.shop.io', F_EMAIL: 'ops team@shop.io', F_BOOL: 'FALSE', F_PG: 'postgres://pg.internal/d'})
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error format F_EMAIL', 'error format F_PORT'])
    })
  })

  describe('entropy', () => {
    it('a generated secret that does not look random is an error with the generate --force hint', async () => {
      for (const value of ['a'.repeat(64), 'Zq7vK2mPx9LrT4wB'.repeat(3), `${draw('base64:24')}0000000000${draw('base64:24')}`]) {
        const r = await project(smallManifest(), {'.env.production': {JWT_SECRET: value, DATABASE_URL: pgUrl()}}).check('production')
        expect(summary(r.findings), value).to.deep.equal(['error entropy JWT_SECRET'])
        expect(r.findings[0].message).to.match(/^JWT_SECRET does not look random: /)
        expect(r.findings[0].hint).to.equal(GEN_JWT_PROD)
        current().cleanup()
      }
    })

    it('applies only to sensitive secrets with a recipe', async () => {
      const m = smallManifest(`  HUMAN_SECRET:\n    services: [backend]\n  PUBLIC_SEED:\n    services: [backend]\n    sensitive: false\n    generate: hex:32\n`)
      const r = await project(m, {'.env.production': {...cleanValues(), HUMAN_SECRET: 'a'.repeat(40), PUBLIC_SEED: '0'.repeat(64)}}).check('production')
      expect(r.findings).to.deep.equal([])
    })
  })

  describe('reused', () => {
    const threeEnvs = (extra = '', prodExtra = '') => `project: shop
services: {backend: {}}
environments:
  development: {}
  staging: {${extra}}
  production: {${prodExtra}}
secrets:
  JWT_SECRET: {services: [backend], generate: "base64:48"}
  DATABASE_URL: {services: [backend], format: postgres-url}
  LOG_LEVEL: {services: [backend], sensitive: false, required: false}
  OPTIONAL_KEY: {services: [backend], required: false}
`
    it('production sharing a value with development: an error on both sides', async () => {
      const shared = draw('base64:48')
      const pr = project(threeEnvs(), {
        '.env.production': {...cleanValues(), JWT_SECRET: shared, LOG_LEVEL: 'info'},
        '.env.development': {...cleanValues(), JWT_SECRET: shared, LOG_LEVEL: 'info'},
      })
      const prod = await pr.check('production')
      expect(summary(prod.findings)).to.deep.equal(['error reused JWT_SECRET'])
      expect(prod.findings[0]).to.deep.equal({
        severity: 'error',
        rule: 'reused',
        key: 'JWT_SECRET',
        message: 'JWT_SECRET in production has the same value as in development',
        hint: GEN_JWT_PROD,
      })
      const dev = await pr.check('development')
      expect(summary(dev.findings)).to.deep.equal(['error reused JWT_SECRET'])
      expect(dev.findings[0].message).to.equal('JWT_SECRET in development has the same value as in production')
      expect(dev.findings[0].hint).to.equal('run `envsync generate development JWT_SECRET --force`')
      expect(dev.errors).to.equal(1)
      expect(dev.warnings).to.equal(0)
    })

    it('names every environment with the same value; a key without a recipe gets its own-value hint', async () => {
      const url = pgUrl()
      const pr = project(threeEnvs(), {
        '.env.production': {JWT_SECRET: draw('base64:48'), DATABASE_URL: url},
        '.env.staging': {JWT_SECRET: draw('base64:48'), DATABASE_URL: url},
        '.env.development': {JWT_SECRET: draw('base64:48'), DATABASE_URL: url},
      })
      const f = only((await pr.check('production')), 'reused', 'DATABASE_URL')
      expect(f.severity).to.equal('error')
      expect(f.message).to.equal('DATABASE_URL in production has the same value as in development, staging')
      expect(f.hint).to.equal('give production its own value')
    })

    it('a value shared with a protected environment is an error on both sides', async () => {
      const shared = draw('base64:48')
      const pr = project(threeEnvs('protected: true'), {
        '.env.staging': {...cleanValues(), JWT_SECRET: shared},
        '.env.development': {...cleanValues(), JWT_SECRET: shared},
      })
      expect(summary((await pr.check('staging')).findings)).to.deep.equal(['error reused JWT_SECRET'])
      expect(summary((await pr.check('development')).findings)).to.deep.equal(['error reused JWT_SECRET'])
    })

    it('two unprotected environments sharing a value: a warning in each', async () => {
      const shared = draw('base64:48')
      const pr = project(threeEnvs(), {
        '.env.staging': {...cleanValues(), JWT_SECRET: shared},
        '.env.development': {...cleanValues(), JWT_SECRET: shared},
      })
      expect(summary((await pr.check('staging')).findings)).to.deep.equal(['warning reused JWT_SECRET'])
      expect(summary((await pr.check('development')).findings)).to.deep.equal(['warning reused JWT_SECRET'])
    })

    it('production marked unprotected is only an error when it shares with a protected environment', async () => {
      const shared = draw('base64:48')
      const pr = project(threeEnvs('protected: true', 'protected: false'), {
        '.env.production': {...cleanValues(), JWT_SECRET: shared},
        '.env.development': {...cleanValues(), JWT_SECRET: shared},
      })
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['warning reused JWT_SECRET'])
      expect(summary((await pr.check('development')).findings)).to.deep.equal(['warning reused JWT_SECRET'])
    })

    it("another environment's unreadable values file is a warning, not the end of the audit", async () => {
      const pr = project(threeEnvs(), {'.env.production': cleanValues()})
      pr.values('.env.development', 'JWT_SECRET="never closed\n')
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['warning reused -'])
      expect(r.findings[0].message).to.include('could not compare with development')
    })

    it('non-sensitive config, empty values and environments sharing one values file are not reuse', async () => {
      const pr = project(threeEnvs(), {
        '.env.production': {...cleanValues(), LOG_LEVEL: 'info', OPTIONAL_KEY: ''},
        '.env.development': {...cleanValues(), LOG_LEVEL: 'info', OPTIONAL_KEY: ''},
      })
      expect((await pr.check('production')).findings).to.deep.equal([])
      current().cleanup()
      const m = smallManifest().replace('development: {}\n  production: {}', 'development: {file: .env}\n  production: {file: .env}')
      expect((await project(m, {'.env': cleanValues()}).check('production')).findings).to.deep.equal([])
      expect((await current().check('development')).findings).to.deep.equal([])
    })

    it('differing values are not reuse', async () => {
      const pr = project(threeEnvs(), {'.env.production': cleanValues(), '.env.development': cleanValues(), '.env.staging': cleanValues()})
      for (const env of ['production', 'staging', 'development']) expect((await pr.check(env)).findings, env).to.deep.equal([])
    })
  })

  describe('public-service and public-prefix', () => {
    it('a sensitive secret sent to a public service is an error', async () => {
      const m = smallManifest(`  SHARED_KEY:\n    services: [backend, frontend]\n`)
      const r = await project(m, {'.env.production': {...cleanValues(), SHARED_KEY: draw('alnum:40')}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error public-service SHARED_KEY'])
      expect(r.findings[0].message).to.equal('SHARED_KEY is sensitive but goes to the public service frontend (bundled into the browser)')
      expect(r.findings[0].hint).to.equal('remove frontend from its services, or set `sensitive: false` if the value is meant to be public')
    })

    it('non-sensitive config may go to a public service', async () => {
      const m = smallManifest(`  APP_NAME:\n    services: [backend, frontend]\n    sensitive: false\n`)
      expect((await project(m, {'.env.production': {...cleanValues(), APP_NAME: 'shop'}}).check('production')).findings).to.deep.equal([])
    })

    for (const prefix of ['VITE_', 'NEXT_PUBLIC_', 'REACT_APP_', 'EXPO_PUBLIC_']) {
      it(`a sensitive ${prefix}* key is an error even on a private service`, async () => {
        const key = `${prefix}STRIPE_SECRET`
        const m = smallManifest(`  ${key}:\n    services: [backend]\n  ${prefix}PLAIN:\n    services: [backend]\n    sensitive: false\n`)
        const r = await project(m, {'.env.production': {...cleanValues(), [key]: draw('alnum:40'), [`${prefix}PLAIN`]: 'shop'}}).check('production')
        expect(summary(r.findings)).to.deep.equal([`error public-prefix ${key}`])
        expect(r.findings[0].message).to.equal(`${key} is marked sensitive, but bundlers inline ${prefix}* variables into browser code`)
        expect(r.findings[0].hint).to.include('`sensitive: false`').and.include(`rename it without ${prefix}`)
      })
    }

    it('a sensitive VITE_ key on the public frontend gets both findings', async () => {
      const m = smallManifest(`  VITE_SECRET:\n    services: [frontend]\n`)
      const r = await project(m, {'.env.production': {...cleanValues(), VITE_SECRET: draw('alnum:40')}}).check('production')
      expect(summary(r.findings)).to.deep.equal(['error public-service VITE_SECRET', 'error public-prefix VITE_SECRET'])
    })
  })

  describe('values file', () => {
    for (const mode of [0o640, 0o604, 0o660, 0o644, 0o700 | 0o007]) {
      it(`mode ${mode.toString(8)} is readable by others: an error with a chmod hint`, async () => {
        const pr = project(smallManifest())
        const file = pr.values('.env.production', cleanValues(), mode)
        const r = await pr.check('production')
        expect(summary(r.findings)).to.deep.equal(['error file-mode -'])
        expect(r.findings[0].message).to.equal(`${file} is readable by other users (mode ${mode.toString(8).padStart(4, '0')})`)
        expect(r.findings[0].hint).to.equal(`run \`chmod 600 ${file}\``)
      })
    }

    for (const mode of [0o600, 0o400]) {
      it(`mode ${mode.toString(8)} is fine`, async () => {
        const pr = project(smallManifest())
        pr.values('.env.production', cleanValues(), mode)
        expect((await pr.check('production')).findings).to.deep.equal([])
      })
    }

    it('a key set twice is a warning naming the line that wins, and the winning value is the one checked', async () => {
      const real = draw('base64:48')
      const pr = project(smallManifest(), {'.env.production': `JWT_SECRET=changeme\nDATABASE_URL=${pgUrl()}\nJWT_SECRET=${real}\n`})
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['warning duplicate JWT_SECRET'])
      expect(r.findings[0].message).to.equal(`JWT_SECRET is set more than once in ${pr.path('.env.production')} (line 3 wins)`)
      expect(r.findings[0].hint).to.equal('remove the other lines')
    })

    it('a key set three times is one warning, naming the last line', async () => {
      const pr = project(smallManifest(), {'.env.production': `JWT_SECRET=${draw('base64:48')}\nDATABASE_URL=${pgUrl()}\nJWT_SECRET=${draw('base64:48')}\nJWT_SECRET=changeme\n`})
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['error placeholder JWT_SECRET', 'error min-length JWT_SECRET', 'warning duplicate JWT_SECRET'])
      expect(only(r, 'duplicate', 'JWT_SECRET').message).to.equal(`JWT_SECRET is set more than once in ${pr.path('.env.production')} (line 4 wins)`)
    })

    it('a key the manifest does not know is a warning', async () => {
      const pr = project(smallManifest(), {'.env.production': {...cleanValues(), LEGACY_TOKEN: draw('hex:16')}})
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['warning unknown-key LEGACY_TOKEN'])
      expect(r.findings[0].message).to.equal(`LEGACY_TOKEN is in ${pr.path('.env.production')} but not in the manifest`)
      expect(r.findings[0].hint).to.equal(`add LEGACY_TOKEN under secrets: in the manifest, or remove it from ${pr.path('.env.production')}`)
    })

    it('a key that applies only to other environments is a warning', async () => {
      const m = smallManifest(`  SMTP_PASSWORD:\n    services: [backend]\n    environments: [production]\n`)
      const pr = project(m, {'.env.development': {...cleanValues(), SMTP_PASSWORD: draw('alnum:32')}})
      const r = await pr.check('development')
      expect(summary(r.findings)).to.deep.equal(['warning unknown-key SMTP_PASSWORD'])
      expect(r.findings[0].message).to.equal(`SMTP_PASSWORD is in ${pr.path('.env.development')} but applies only to production`)
      expect(r.findings[0].hint).to.equal(`remove it from ${pr.path('.env.development')}, or add development to its environments`)
      // …and in production it is a required key like any other.
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error missing JWT_SECRET', 'error missing DATABASE_URL', 'error missing SMTP_PASSWORD'])
    })

    it('findings list errors before warnings', async () => {
      const pr = project(smallManifest(), {'.env.production': `EXTRA=1\nJWT_SECRET=x\nJWT_SECRET=changeme\nDATABASE_URL=nope\n`})
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['error placeholder JWT_SECRET', 'error min-length JWT_SECRET', 'error format DATABASE_URL', 'warning duplicate JWT_SECRET', 'warning unknown-key EXTRA'])
      expect(r).to.include({errors: 3, warnings: 2})
    })
  })

  describe('git', function () {
    before(function () {
      if (!hasGit()) this.skip()
    })

    it('outside a repository nothing is reported', async () => {
      const pr = project(smallManifest(), {'.env.production': cleanValues()})
      expect((await pr.check('production')).findings).to.deep.equal([])
    })

    it('in a repository, a values file that is not git-ignored is an error', async () => {
      const pr = project(smallManifest(), {'.env.production': cleanValues()})
      git(pr.dir, 'init', '-q')
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['error git-ignore -'])
      expect(r.findings[0].message).to.equal(`${pr.path('.env.production')} is not git-ignored: \`git add .\` would commit it`)
      expect(r.findings[0].hint).to.equal(`add ${pr.path('.env.production')} (or .env.*) to .gitignore`)
    })

    it('a git-ignored values file is fine; a missing one is not reported', async () => {
      const pr = project(smallManifest(), {'.env.production': cleanValues()})
      git(pr.dir, 'init', '-q')
      writeFileSync(pr.path('.gitignore'), '.env.*\n')
      expect((await pr.check('production')).findings).to.deep.equal([])
      expect(summary((await pr.check('development')).findings)).to.deep.equal(['error missing JWT_SECRET', 'error missing DATABASE_URL'])
    })

    it('a values file committed to git is an error even if it is ignored as well: rotate, unstage, rewrite history', async () => {
      const pr = project(smallManifest(), {'.env.production': cleanValues()})
      const file = pr.path('.env.production')
      git(pr.dir, 'init', '-q')
      git(pr.dir, 'add', '.env.production')
      git(pr.dir, 'commit', '-q', '-m', 'oops')
      const tracked = await pr.check('production')
      expect(summary(tracked.findings)).to.deep.equal(['error git-tracked -'])
      expect(tracked.findings[0].message).to.equal(`${file} is committed to git: its values are in the repository history`)
      expect(tracked.findings[0].hint).to.equal(`rotate every value in it (every clone has them), run \`git rm --cached ${file}\`, add it to .gitignore, and remove it from the history (e.g. with git filter-repo)`)
      writeFileSync(pr.path('.gitignore'), '.env.*\n')
      const ignored = await pr.check('production')
      expect(summary(ignored.findings)).to.deep.equal(['error git-tracked -'])
      expect(ignored.findings[0].hint).to.equal(`rotate every value in it (every clone has them), run \`git rm --cached ${file}\`, and remove it from the history (e.g. with git filter-repo)`)
    })

    it('committed once and since removed from the index: still in the history', async () => {
      const pr = project(smallManifest(), {'.env.production': cleanValues()})
      git(pr.dir, 'init', '-q')
      git(pr.dir, 'add', '.env.production')
      git(pr.dir, 'commit', '-q', '-m', 'oops')
      git(pr.dir, 'rm', '-q', '--cached', '.env.production')
      git(pr.dir, 'commit', '-q', '-m', 'untrack')
      writeFileSync(pr.path('.gitignore'), '.env.*\n')
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['error git-tracked -'])
      expect(r.findings[0].message).to.equal(`${pr.path('.env.production')} was committed to git before: its values are still in the repository history`)
      expect(r.findings[0].hint).to.equal('rotate every value in it (every clone has them) and remove it from the history (e.g. with git filter-repo)')
    })

    it('staged but not committed: unstage it, nothing to rotate', async () => {
      const pr = project(smallManifest(), {'.env.production': cleanValues()})
      const file = pr.path('.env.production')
      git(pr.dir, 'init', '-q')
      git(pr.dir, 'add', '.env.production')
      const r = await pr.check('production')
      expect(summary(r.findings)).to.deep.equal(['error git-staged -'])
      expect(r.findings[0].message).to.equal(`${file} is staged in git (not committed yet): the next commit would put its values in the history`)
      expect(r.findings[0].hint).to.equal(`run \`git rm --cached ${file}\` and add it to .gitignore; nothing to rotate, as it was never committed (unless its values were shared another way)`)
    })

    it('a values file in a subdirectory of the repository is checked where it is', async () => {
      const m = smallManifest().replace('production: {}', 'production: {file: config/prod.env}')
      const pr = project(m)
      git(pr.dir, 'init', '-q')
      mkdirSync(pr.path('config'))
      pr.values('config/prod.env', cleanValues())
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error git-ignore -'])
      writeFileSync(pr.path('.gitignore'), 'config/*.env\n')
      expect((await pr.check('production')).findings).to.deep.equal([])
    })
  })

  describe('oneOf and requires rules', () => {
    const payments = (rule: string) =>
      smallManifest(`  STRIPE_KEY: {services: [backend], required: false}
  PADDLE_KEY: {services: [backend], required: false}
  REDIS_URL: {services: [backend], required: false, format: redis-url}
  USE_PG_QUEUE: {services: [backend], required: false, sensitive: false, format: bool}
rules:
${rule}`)
    const oneOf = '  - oneOf: [STRIPE_KEY, PADDLE_KEY]\n    description: a payment provider\n'
    const exclusive = '  - oneOf: [STRIPE_KEY, PADDLE_KEY]\n    exclusive: true\n'
    const requires = '  - requires: [REDIS_URL, {key: USE_PG_QUEUE, equals: "true"}]\n    description: a job queue backend\n'
    const key = () => draw('alnum:40')

    it('oneOf: none set is an error naming the keys and the description', async () => {
      const r = await project(payments(oneOf), {'.env.production': cleanValues()}).check('production')
      expect(r.findings).to.deep.equal([
        {severity: 'error', rule: 'one-of', message: 'none of STRIPE_KEY, PADDLE_KEY is set (a payment provider)', hint: `set one of them in ${current().path('.env.production')}`},
      ])
    })

    it('oneOf: an empty value does not count as set; one or both set is fine', async () => {
      const pr = project(payments(oneOf), {'.env.production': {...cleanValues(), STRIPE_KEY: ''}})
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error one-of -'])
      pr.values('.env.production', {...cleanValues(), PADDLE_KEY: key()})
      expect((await pr.check('production')).findings).to.deep.equal([])
      pr.values('.env.production', {...cleanValues(), STRIPE_KEY: key(), PADDLE_KEY: key()})
      expect((await pr.check('production')).findings).to.deep.equal([])
    })

    it('oneOf exclusive: two set is an error; one set is fine', async () => {
      const pr = project(payments(exclusive), {'.env.production': {...cleanValues(), STRIPE_KEY: key(), PADDLE_KEY: key()}})
      expect((await pr.check('production')).findings).to.deep.equal([
        {
          severity: 'error',
          rule: 'one-of',
          message: 'only one of STRIPE_KEY, PADDLE_KEY may be set, but STRIPE_KEY and PADDLE_KEY are',
          hint: 'remove all but one of STRIPE_KEY, PADDLE_KEY',
        },
      ])
      pr.values('.env.production', {...cleanValues(), STRIPE_KEY: key(), PADDLE_KEY: ''})
      expect((await pr.check('production')).findings).to.deep.equal([])
    })

    it('requires: no alternative holds is an error listing them', async () => {
      const r = await project(payments(requires), {'.env.production': cleanValues()}).check('production')
      expect(r.findings).to.deep.equal([
        {
          severity: 'error',
          rule: 'requires',
          message: 'needs REDIS_URL, or USE_PG_QUEUE=true (a job queue backend)',
          hint: `set REDIS_URL (or another alternative) in ${current().path('.env.production')}`,
        },
      ])
    })

    it('requires: a key with a value, or a key equal to the value, satisfies it', async () => {
      const pr = project(payments(requires), {'.env.production': {...cleanValues(), REDIS_URL: `redis://:${key()}@cache.internal:6379/0`}})
      expect((await pr.check('production')).findings).to.deep.equal([])
      pr.values('.env.production', {...cleanValues(), USE_PG_QUEUE: 'true'})
      expect((await pr.check('production')).findings).to.deep.equal([])
      pr.values('.env.production', {...cleanValues(), USE_PG_QUEUE: 'false'})
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error requires -'])
      pr.values('.env.production', {...cleanValues(), REDIS_URL: ''})
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error requires -'])
    })

    it('requires: a bool key equals "true" in any spelling its format accepts', async () => {
      const pr = project(payments(requires), {'.env.production': {...cleanValues(), USE_PG_QUEUE: '1'}})
      expect((await pr.check('production')).findings).to.deep.equal([])
      for (const yes of ['TRUE', 'yes', 'On']) {
        pr.values('.env.production', {...cleanValues(), USE_PG_QUEUE: yes})
        expect((await pr.check('production')).findings, yes).to.deep.equal([])
      }
      for (const no of ['0', 'no', 'off', 'FALSE']) {
        pr.values('.env.production', {...cleanValues(), USE_PG_QUEUE: no})
        expect(summary((await pr.check('production')).findings), no).to.deep.equal(['error requires -'])
      }
    })

    it('requires: a bool key that is no bool at all never equals "false"', async () => {
      const m = payments(requires.replace('equals: "true"', 'equals: "false"'))
      const pr = project(m, {'.env.production': {...cleanValues(), USE_PG_QUEUE: 'off'}})
      expect((await pr.check('production')).findings).to.deep.equal([])
      pr.values('.env.production', {...cleanValues(), USE_PG_QUEUE: 'maybe'})
      // The format finding, and the rule does not hold: "maybe" is not false.
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error format USE_PG_QUEUE', 'error requires -'])
    })

    it('requires: a default counts as the value', async () => {
      const m = payments(requires).replace('format: bool}', 'format: bool, default: "true"}')
      expect((await project(m, {'.env.production': cleanValues()}).check('production')).findings).to.deep.equal([])
    })

    it('a rule limited to some environments is not checked in others', async () => {
      const pr = project(payments(oneOf + '    environments: [production]\n' + requires + '    environments: [production]\n'), {
        '.env.production': cleanValues(),
        '.env.development': cleanValues(),
      })
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error one-of -', 'error requires -'])
      expect((await pr.check('development')).findings).to.deep.equal([])
    })

    it('a rule whose keys apply only to other environments asks nothing of this one', async () => {
      const m = smallManifest(`  STRIPE_KEY: {services: [backend], required: false, environments: [production]}
  PADDLE_KEY: {services: [backend], required: false, environments: [production]}
  SENTRY_DSN: {services: [backend], required: false, format: url, environments: [production]}
rules:
  - oneOf: [STRIPE_KEY, PADDLE_KEY]
  - requires: [SENTRY_DSN]
`)
      const pr = project(m, {'.env.production': cleanValues(), '.env.development': cleanValues()})
      expect((await pr.check('development')).findings).to.deep.equal([])
      expect(summary((await pr.check('production')).findings)).to.deep.equal(['error one-of -', 'error requires -'])
    })

    it('only the alternatives that apply to the environment are listed', async () => {
      const m = smallManifest(`  REDIS_URL: {services: [backend], required: false, format: redis-url}
  USE_PG_QUEUE: {services: [backend], required: false, sensitive: false, format: bool, environments: [production]}
rules:
  - requires: [REDIS_URL, {key: USE_PG_QUEUE, equals: "true"}]
`)
      const pr = project(m, {'.env.development': cleanValues()})
      expect((await pr.check('development')).findings.map((f) => f.message)).to.deep.equal(['needs REDIS_URL'])
    })
  })

  it('no finding repeats a value it is about', async () => {
    const c = {ph: canary('PH'), fmt: canary('FMT'), short: canary('SHORT'), low: canary('LOW'), reused: canary('REUSED'), unknown: canary('UNKNOWN')}
    const values = {
      JWT_SECRET: `${c.ph}-change-me`,
      DATABASE_URL: `postgres//shop:${c.fmt}@db:5432/shop`,
      SHORT_SECRET: c.short.slice(0, 20),
      LOW_SECRET: `${c.low}${'a'.repeat(40)}`,
      REUSED_SECRET: `${c.reused}${draw('alnum:16')}`,
      UNKNOWN_KEY: c.unknown,
    }
    const m = smallManifest(`  SHORT_SECRET: {services: [backend], generate: "base64:48"}
  LOW_SECRET: {services: [backend], generate: "base64:48"}
  REUSED_SECRET: {services: [backend], generate: "alnum:40"}
`)
    const pr = project(m, {'.env.production': values, '.env.development': {REUSED_SECRET: values.REUSED_SECRET}})
    const r = await pr.check('production')
    expect(summary(r.findings)).to.deep.equal([
      'error placeholder JWT_SECRET',
      'error format DATABASE_URL',
      'error min-length SHORT_SECRET',
      'error entropy LOW_SECRET',
      'error reused REUSED_SECRET',
      'warning unknown-key UNKNOWN_KEY',
    ])
    assertNoLeak(Object.values(c), JSON.stringify(r))
  })
})
