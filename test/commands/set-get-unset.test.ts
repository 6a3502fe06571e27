/**
 * `envsync set`, `get` and `unset` through the built binary, as a user runs them: values piped
 * on stdin (never argv), checked with check's rules, written through the store; get prints the
 * asked-for value exactly; a canary proves no other output carries a value.
 */
import {readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'

const EXTRA = `  API_TOKEN:
    services: [backend]
    required: false
`

describe('envsync set / get / unset', () => {
  let p: TempProject
  const values = (env: string) => dotenv.parse(readFileSync(p.path(`.env.${env}`)))
  const file = (env: string) => readFileSync(p.path(`.env.${env}`), 'utf8')
  const bin = (args: string[], input?: string) => runBin(args, {cwd: p.dir, input})
  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest(EXTRA))
  })
  afterEach(() => p.cleanup())

  describe('set', () => {
    it('reads the value from stdin, drops one trailing newline, and prints the key and a fingerprint, never the value', async () => {
      const secret = canary('TOKEN')
      const echoed = await bin(['set', 'development', 'API_TOKEN'], `${secret}\n`)
      expect(echoed.exitCode, echoed.stderr).to.equal(0)
      expect(echoed.stdout).to.match(/^set API_TOKEN in \.env\.development \(added, fingerprint [\w-]{10}\)\n$/)
      expect(values('development').API_TOKEN).to.equal(secret)
      const printed = await bin(['set', 'development', 'API_TOKEN'], secret)
      expect(printed.stdout).to.include('(replaced, fingerprint')
      expect(values('development').API_TOKEN).to.equal(secret)
      assertNoLeak([secret], echoed.stdout, echoed.stderr, printed.stdout, printed.stderr)
    })

    it('--keep-newline keeps the bytes exactly, multi-line values included', async () => {
      const pem = `-----BEGIN KEY-----\n${canary('PEM')}\n-----END KEY-----\n`
      const r = await bin(['set', 'development', 'API_TOKEN', '--keep-newline'], pem)
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(values('development').API_TOKEN).to.equal(pem)
      const got = await bin(['get', 'development', 'API_TOKEN'])
      expect(got.stdout).to.equal(pem)
      assertNoLeak([pem], r.stdout, r.stderr)
    })

    it('refuses a value on the command line without repeating it, and writes nothing', async () => {
      const secret = canary('ARGV')
      for (const args of [['set', 'development', 'API_TOKEN', secret], ['set', 'development', `API_TOKEN=${secret}`], ['set', 'development', 'API_TOKEN', 'two', secret]]) {
        const r = await bin(args)
        expect(r.exitCode).to.equal(2)
        expect(r.stderr).to.include('a value on the command line is not accepted: it would be kept in shell history')
        expect(r.stderr).to.include('printf %s "$VALUE" | envsync set development API_TOKEN')
        assertNoLeak([secret], r.stdout, r.stderr)
      }
      // A value that starts with '-' reads as an unknown flag: that is not repeated either.
      const dashed = `-${secret}`
      const r = await bin(['set', 'development', 'API_TOKEN', dashed])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('unknown flag (not repeated: it may be a value)')
      assertNoLeak([secret], r.stdout, r.stderr)
      // The value typed where the key goes, like no key at all: not repeated.
      const asKey = await bin(['set', 'development', secret], 'x')
      expect(asKey.exitCode).to.equal(2)
      expect(asKey.stderr).to.include('unknown key (not repeated: it may be a value)').and.include('keys of development: JWT_SECRET')
      assertNoLeak([secret], asKey.stdout, asKey.stderr)
      expect(() => file('development')).to.throw()
    })

    it('an unknown key gets a did-you-mean; a key of another environment says so', async () => {
      const r = await bin(['set', 'development', 'JWT_SECRT'], 'x')
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('unknown key JWT_SECRT').and.include('did you mean "JWT_SECRET"?')
      p.write('envsync.yaml', smallManifest(`  PROD_ONLY:\n    services: [backend]\n    environments: [production]\n`))
      const other = await bin(['set', 'development', 'PROD_ONLY'], 'x')
      expect(other.stderr).to.include('PROD_ONLY does not apply to development (only to production)')
    })

    it("refuses a value check rejects (placeholder, format) and keeps the file; --force writes it, warnings shown", async () => {
      writeFileSync(p.path('.env.development'), '# notes\nAPI_TOKEN=keep\n', {mode: 0o600})
      const placeholder = await bin(['set', 'development', 'DATABASE_URL'], 'changeme')
      expect(placeholder.exitCode).to.equal(2)
      expect(placeholder.stderr).to.include('DATABASE_URL: the new value fails check').and.include('nothing was written').and.include('--force')
      expect(placeholder.stderr).to.include('looks like a placeholder')
      const notUrl = await bin(['set', 'development', 'DATABASE_URL'], 'mysql://u@h/db')
      expect(notUrl.exitCode).to.equal(2)
      expect(notUrl.stderr).to.include('format')
      expect(file('development')).to.equal('# notes\nAPI_TOKEN=keep\n')
      const forced = await bin(['set', 'development', 'DATABASE_URL', '--force'], 'mysql://u@h/db')
      expect(forced.exitCode, forced.stderr).to.equal(0)
      expect(values('development').DATABASE_URL).to.equal('mysql://u@h/db')
      expect(file('development').startsWith('# notes\nAPI_TOKEN=keep\n')).to.equal(true)
    })

    it('a short JWT_SECRET is refused with its length named', async () => {
      const r = await bin(['set', 'development', 'JWT_SECRET'], 'Zq8#kT2!')
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('has 8 characters; at least 32 are required')
      assertNoLeak(['Zq8#kT2!'], r.stdout, r.stderr)
    })

    it('--generate draws a value by the recipe; a key without one says so', async () => {
      const r = await bin(['set', 'development', 'JWT_SECRET', '--generate'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const v = values('development').JWT_SECRET
      expect(v).to.have.length(64)
      assertNoLeak([v], r.stdout, r.stderr)
      const none = await bin(['set', 'development', 'API_TOKEN', '--generate'])
      expect(none.exitCode).to.equal(2)
      expect(none.stderr).to.include('API_TOKEN has no generate recipe')
    })

    it('empty stdin is not a value', async () => {
      const r = await bin(['set', 'development', 'API_TOKEN'], '')
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('no value for API_TOKEN: stdin was empty')
    })

    it('replacing a value in a protected environment needs --yes without a terminal; adding does not', async () => {
      const first = canary('PROD')
      const added = await bin(['set', 'production', 'API_TOKEN'], first)
      expect(added.exitCode, added.stderr).to.equal(0)
      const second = canary('PROD')
      const refused = await bin(['set', 'production', 'API_TOKEN'], second)
      expect(refused.exitCode).to.equal(2)
      expect(refused.stderr).to.include('needs confirmation').and.include('--yes')
      expect(values('production').API_TOKEN).to.equal(first)
      const yes = await bin(['set', 'production', 'API_TOKEN', '--yes', '--json'], second)
      expect(yes.exitCode, yes.stderr).to.equal(0)
      const envelope = JSON.parse(yes.stdout)
      expect(envelope.result).to.include({key: 'API_TOKEN', action: 'replaced', file: '.env.production'})
      expect(values('production').API_TOKEN).to.equal(second)
      assertNoLeak([first, second], added.stdout, added.stderr, refused.stdout, refused.stderr, yes.stdout, yes.stderr)
    })
  })

  describe('get', () => {
    it('prints the value exactly to a pipe (no newline added); --json gives key and value', async () => {
      const secret = `${canary('GET')} with "quotes" and $dollar`
      await bin(['set', 'development', 'API_TOKEN'], secret)
      const r = await bin(['get', 'development', 'API_TOKEN'])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal(secret)
      expect(r.stderr).to.equal('')
      const json = await bin(['get', 'development', 'API_TOKEN', '--json'])
      expect(JSON.parse(json.stdout).result).to.deep.include({key: 'API_TOKEN', value: secret, source: 'store'})
    })

    it("a key's manifest default is its value; no value exits 1 naming set", async () => {
      const d = await bin(['get', 'development', 'VITE_API_URL'])
      expect(d.stdout).to.equal('http://localhost:3000')
      const none = await bin(['get', 'development', 'DATABASE_URL'])
      expect(none.exitCode).to.equal(1)
      expect(none.stdout).to.equal('')
      expect(none.stderr).to.include('DATABASE_URL has no value in .env.development').and.include('envsync set development DATABASE_URL')
      const gen = await bin(['get', 'development', 'JWT_SECRET'])
      expect(gen.stderr).to.include('envsync set development JWT_SECRET --generate')
      const typo = await bin(['get', 'development', 'DATABASE_UR'])
      expect(typo.exitCode).to.equal(2)
      expect(typo.stderr).to.include('did you mean "DATABASE_URL"?')
    })
  })

  it('piped stdin is never taken as a missing argument (oclif would read it as the key)', async () => {
    const secret = canary('PIPE')
    writeFileSync(p.path('.env.development'), `API_TOKEN=${secret}\n`, {mode: 0o600})
    const get = await bin(['get', 'development'], 'API_TOKEN\n')
    expect(get.exitCode).to.equal(2)
    expect(get.stderr).to.include('Missing 1 required arg')
    const unset = await bin(['unset', 'development'], 'API_TOKEN\n')
    expect(unset.exitCode).to.equal(2)
    expect(values('development').API_TOKEN).to.equal(secret)
    assertNoLeak([secret], get.stdout, get.stderr, unset.stdout, unset.stderr)
  })

  describe('unset', () => {
    it('removes keys in one write and warns when a required key is left without a value', async () => {
      const secret = canary('GONE')
      writeFileSync(p.path('.env.development'), `# notes\nDATABASE_URL=postgres://u:${secret}@h/db\nAPI_TOKEN=${secret}\nJWT_SECRET=keep\n`, {mode: 0o600})
      const r = await bin(['unset', 'development', 'DATABASE_URL', 'API_TOKEN'])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('removed DATABASE_URL, API_TOKEN from .env.development\n')
      expect(r.stderr).to.include('1 required key now without a value (DATABASE_URL): `envsync check development` fails')
      expect(file('development')).to.equal('# notes\nJWT_SECRET=keep\n')
      assertNoLeak([secret], r.stdout, r.stderr)
      const again = await bin(['unset', 'development', 'API_TOKEN'])
      expect(again.exitCode).to.equal(0)
      expect(again.stdout).to.include('nothing removed')
    })

    it('a leftover key the manifest no longer lists can be removed; a typo cannot', async () => {
      writeFileSync(p.path('.env.development'), 'OLD_KEY=1\nAPI_TOKEN=t\n', {mode: 0o600})
      const typo = await bin(['unset', 'development', 'API_TOKN'])
      expect(typo.exitCode).to.equal(2)
      expect(typo.stderr).to.include('unknown key API_TOKN').and.include('did you mean "API_TOKEN"?')
      const old = await bin(['unset', 'development', 'OLD_KEY'])
      expect(old.exitCode, old.stderr).to.equal(0)
      expect(file('development')).to.equal('API_TOKEN=t\n')
    })

    it('in a protected environment needs --yes without a terminal, and changes nothing until then', async () => {
      writeFileSync(p.path('.env.production'), 'API_TOKEN=t\n', {mode: 0o600})
      const r = await bin(['unset', 'production', 'API_TOKEN'])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('needs confirmation').and.include('--yes')
      expect(file('production')).to.equal('API_TOKEN=t\n')
      const yes = await bin(['unset', 'production', 'API_TOKEN', '--yes', '--json'])
      expect(JSON.parse(yes.stdout).result).to.deep.include({removed: ['API_TOKEN']})
      expect(file('production')).to.equal('')
    })
  })
})
