import {spawnSync} from 'node:child_process'
import {chmodSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {writeValues, readValues} from '../../src/values/store.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {ageKeygen, encryptedProject, EncryptedProject, git, MANIFEST, requireAge} from './encrypted-support.js'

const json = (stdout: string) => JSON.parse(stdout) as {ok: boolean; result?: Record<string, unknown>; error?: {code: string; message: string; suggestion?: string; line?: number}}

/** Values that break naive files: empty, multi-line PEM, quotes and $, unicode, 64 KiB. */
function awkwardValues(): Record<string, string> {
  const pem = `-----BEGIN PRIVATE KEY-----\n${canary('PEM')}\n${'A'.repeat(64)}\n-----END PRIVATE KEY-----\n`
  return {
    JWT_SECRET: canary('JWT'),
    API_KEY: `${canary('API')} = "double" 'single' $HOME \${X} # not a comment`,
    TICKS: `\`tick\` "double" $PATH`,
    EMPTY: '',
    PEM: pem,
    UNICODE: `pässwörd 🔑 日本語 ${canary('UNI')}`,
    BIG: canary('BIG') + 'x'.repeat(64 * 1024 - 20),
  }
}

const AWKWARD_MANIFEST = `${MANIFEST}  EMPTY:
    services: [backend]
    required: false
  PEM:
    services: [backend]
  UNICODE:
    services: [backend]
  TICKS:
    services: [backend]
  BIG:
    services: [backend]
`

function ageDecrypt(ciphertext: Buffer, identityFile: string): {status: number | null; out: Buffer; err: string} {
  const r = spawnSync('age', ['-d', '-i', identityFile], {input: ciphertext})
  return {status: r.status, out: r.stdout, err: r.stderr.toString()}
}

describe('encrypted store (age): values a team can commit', function () {
  this.timeout(60_000)
  let p: EncryptedProject
  afterEach(() => p?.cleanup())

  /** A project whose production store was converted by `keys add` from a plain file of `values`. */
  async function encrypted(values: Record<string, string>, manifest = MANIFEST): Promise<EncryptedProject> {
    p = await encryptedProject(values, manifest)
    return p
  }

  it('writes every value so that `age -d` gives back its exact bytes, and no value is in the file or the output', async function () {
    requireAge(this)
    const values = awkwardValues()
    await encrypted(values, AWKWARD_MANIFEST)
    const text = p.text('.env.production')
    assertNoLeak(Object.values(values).filter(Boolean), text)
    for (const [key, value] of Object.entries(values)) {
      const line = text.split('\n').find((l) => l.startsWith(`${key}=`))!
      expect(line, key).to.match(/^[A-Z_]+=age:[A-Za-z0-9+/]+={0,2};tag:[A-Za-z0-9_-]{22}$/)
      const d = ageDecrypt(p.ciphertext(key), p.identityFile)
      expect(d.status, d.err).to.equal(0)
      expect(d.out.equals(Buffer.from(value, 'utf8')), key).to.equal(true)
    }
    // And envsync reads them back byte-exact.
    const out = await p.run(['export', 'production', '--format', 'json'])
    expect(out.exitCode, out.stderr).to.equal(0)
    expect(JSON.parse(out.stdout)).to.deep.equal(values)
    const check = await p.run(['check', 'production'])
    assertNoLeak(Object.values(values).filter(Boolean), check.stdout, check.stderr)
  })

  it("envsync's X25519 stanza (node:crypto) and the age-encryption library's own interoperate: each reads what the other wrote", async () => {
    const values = awkwardValues()
    await encrypted(values, AWKWARD_MANIFEST)
    const {Decrypter, Encrypter} = await import('age-encryption')
    const secretKey = readFileSync(p.identityFile, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!
    const d = new Decrypter()
    d.addIdentity(secretKey)
    for (const [key, value] of Object.entries(values)) expect(Buffer.from(await d.decrypt(new Uint8Array(p.ciphertext(key)))).equals(Buffer.from(value)), key).to.equal(true)
    const e = new Encrypter()
    e.addRecipient(p.recipient)
    // A value line must carry the store's tag, so what the library wrote comes in by import.
    const theirs = canary('LIB')
    p.write('theirs.env.age', Buffer.from(await e.encrypt(`API_KEY=${theirs}\n`)))
    const imported = await p.run(['import', 'production', 'theirs.env.age', '--overwrite', '--yes'])
    expect(imported.exitCode, imported.stderr).to.equal(0)
    const out = await p.run(['export', 'production', '--format', 'json'])
    expect(JSON.parse(out.stdout).API_KEY).to.equal(theirs)
  })

  it('imports a .env the `age` CLI encrypted (age-keygen identities); a raw age line pasted into the store is refused', async function () {
    requireAge(this)
    p = new EncryptedProject(MANIFEST.replace('  production:\n', `  production:\n    store:\n      encrypted:\n        recipients: [RECIPIENT]\n`))
    writeFileSync(p.manifest, p.text('envsync.yaml').replace('RECIPIENT', p.recipient))
    const secret = `${canary('CLI')}\nsecond line\r\n=$'`
    const sealed = spawnSync('age', ['-r', p.recipient], {input: `API_KEY="${secret}"\n`}).stdout as Buffer
    p.write('secrets.env.age', sealed)
    const imported = await p.run(['import', 'production', 'secrets.env.age', '--yes'])
    expect(imported.exitCode, imported.stderr).to.equal(0)
    const out = await p.run(['export', 'production', '--format', 'json'])
    expect(out.exitCode, out.stderr).to.equal(0)
    expect(JSON.parse(out.stdout)).to.deep.equal({API_KEY: secret.replace(/\r\n/g, '\n')})
    expect(p.text('.env.production')).to.match(/^#envsync:fingerprint-key=age:/m).and.match(/^#envsync:recipients=age1/m)
    // By hand: an untagged line is not one a holder of the store's key wrote.
    const raw = spawnSync('age', ['-r', p.recipient], {input: 'x'}).stdout as Buffer
    writeFileSync(p.path('.env.production'), p.text('.env.production').replace(/^API_KEY=.*$/m, `API_KEY=age:${raw.toString('base64')}`))
    expect(json((await p.run(['export', 'production', '--json'])).stdout).error?.code).to.equal('STORE_DAMAGED')
    assertNoLeak([secret], imported.stdout, imported.stderr)
  })

  it('changes only the lines of changed keys: generate and pull leave every other ciphertext as it was', async () => {
    const values = {JWT_SECRET: canary('JWT') + '-long-enough', API_KEY: canary('API')}
    await encrypted(values)
    p.commit()
    const before = p.text('.env.production')
    const gen = await p.run(['generate', 'production', 'JWT_SECRET', '--force', '--yes'])
    expect(gen.exitCode, gen.stderr).to.equal(0)
    const changed = (diff: string) => diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))
    let diff = changed(git(p.dir, 'diff', '--', '.env.production'))
    expect(diff.map((l) => l.slice(0, 12))).to.deep.equal(['-JWT_SECRET=', '+JWT_SECRET='])
    expect(p.text('.env.production').replace(/^JWT_SECRET=.*$/m, '')).to.equal(before.replace(/^JWT_SECRET=.*$/m, ''))
    p.commit()

    // A value that changed on the platform comes back through pull: only its line changes.
    const push = await p.run(['push', 'production', '--yes'])
    expect(push.exitCode, push.stderr).to.equal(0)
    p.commit()
    const pulled = canary('PULLED')
    writeFileSync(p.path('secrets/production/API_KEY'), pulled)
    const pull = await p.run(['pull', 'production', '--from', 'docker', '--overwrite'])
    expect(pull.exitCode, pull.stderr + pull.stdout).to.equal(0)
    diff = changed(git(p.dir, 'diff', '--', '.env.production'))
    expect(diff.map((l) => l.slice(0, 9))).to.deep.equal(['-API_KEY=', '+API_KEY='])
    const out = await p.run(['export', 'production', '--format', 'json'])
    expect(JSON.parse(out.stdout).API_KEY).to.equal(pulled)
    assertNoLeak([...Object.values(values), pulled], git(p.dir, 'log', '-p'), gen.stdout, gen.stderr, pull.stdout, pull.stderr, ...p.syncRecords())
  })

  describe('refuses to read or write without the right key, and writes nothing', () => {
    const writing = ['generate', 'production', '--force', '--yes']

    it('no identity at all: STORE_LOCKED, where it looked and `envsync keys generate`', async () => {
      await encrypted({JWT_SECRET: canary(), API_KEY: canary()})
      const before = p.text('.env.production')
      rmSync(p.identityFile)
      const r = await p.run([...writing, '--json'])
      expect(r.exitCode).to.not.equal(0)
      const e = json(r.stdout).error!
      expect(e.code).to.equal('STORE_LOCKED')
      expect(e.message).to.include("production's values are encrypted; no age identity found").and.include('ENVSYNC_AGE_KEY').and.include('~/.config/envsync/age.key')
      expect(e.suggestion).to.include('envsync keys generate')
      expect(p.text('.env.production')).to.equal(before)
    })

    it('an identity that is not a recipient: STORE_LOCKED naming both recipients and the `keys add` to ask for', async function () {
      requireAge(this)
      await encrypted({JWT_SECRET: canary(), API_KEY: canary()})
      const before = p.text('.env.production')
      const other = ageKeygen(p.identityFile + '.other')
      const r = await p.run([...writing, '--json'], {ENVSYNC_AGE_KEY_FILE: p.identityFile + '.other'})
      expect(r.exitCode).to.not.equal(0)
      const e = json(r.stdout).error!
      expect(e.code).to.equal('STORE_LOCKED')
      expect(e.message).to.include('production').and.include(p.recipient).and.include(other)
      expect(e.suggestion).to.equal(`ask a teammate to run \`envsync keys add production ${other}\``)
      expect(p.text('.env.production')).to.equal(before)
    })

    const damages: [string, (line: string) => string][] = [
      ['tampered ciphertext', (line) => {
        const b = Buffer.from(line.slice('API_KEY=age:'.length), 'base64')
        b[b.length - 20] ^= 1
        return `API_KEY=age:${b.toString('base64')}`
      }],
      ['truncated ciphertext', (line) => line.slice(0, 120)],
      ['not base64', (line) => line.replace('age:', 'age:*')],
      ['a plain value', () => `API_KEY=${canary('PLAIN')}`],
    ]
    for (const [what, damage] of damages) {
      it(`${what}: STORE_DAMAGED naming the key and its line`, async () => {
        await encrypted({JWT_SECRET: canary(), API_KEY: canary()})
        const lines = p.text('.env.production').split('\n')
        const at = lines.findIndex((l) => l.startsWith('API_KEY='))
        lines[at] = damage(lines[at])
        writeFileSync(p.path('.env.production'), lines.join('\n'))
        const before = p.text('.env.production')
        const r = await p.run([...writing, '--json'])
        expect(r.exitCode).to.not.equal(0)
        const e = json(r.stdout).error!
        expect(e.code, e.message).to.equal('STORE_DAMAGED')
        expect(e.message).to.include('API_KEY')
        expect(e.line).to.equal(at + 1)
        expect(p.text('.env.production')).to.equal(before)
        const text = await p.run(['diff', 'production'])
        expect(text.stderr).to.match(new RegExp(`\\.env\\.production:${at + 1}(:\\d+)?: API_KEY`))
        expect(text.stderr).to.not.match(/at .*\.js:\d+/)
      })
    }

    it('an identity file others can read is refused, like ssh does, with the chmod', async () => {
      await encrypted({JWT_SECRET: canary()})
      chmodSync(p.identityFile, 0o644)
      const r = await p.run(['export', 'production'])
      expect(r.exitCode).to.not.equal(0)
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.include('mode 0644').and.include('chmod 600 ~/.config/envsync/age.key')
    })

    it('an identity file inside the project is refused', async () => {
      await encrypted({JWT_SECRET: canary()})
      p.write('age.key', readFileSync(p.identityFile))
      const r = await p.run(['export', 'production'], {ENVSYNC_AGE_KEY_FILE: p.path('age.key')})
      expect(r.exitCode).to.not.equal(0)
      expect(r.stderr).to.include('inside the project').and.include('move it out')
    })
  })

  it('keeps each environment to its own recipients: staging readable with its key while production stays locked', async function () {
    requireAge(this)
    p = new EncryptedProject()
    const stagingKey = p.identityFile + '.staging'
    const staging = ageKeygen(stagingKey)
    const values = {staging: canary('STG'), production: canary('PRD')}
    for (const env of ['staging', 'production'] as const) writeValues(readValues(p.path(`.env.${env}`)), new Map([['JWT_SECRET', values[env]]]))
    expect((await p.run(['keys', 'add', 'production', p.recipient])).exitCode).to.equal(0)
    expect((await p.run(['keys', 'add', 'staging', staging])).exitCode).to.equal(0)
    const asStaging = {ENVSYNC_AGE_KEY_FILE: stagingKey}
    const s = await p.run(['export', 'staging', '--format', 'json'], asStaging)
    expect(s.exitCode, s.stderr).to.equal(0)
    expect(JSON.parse(s.stdout)).to.deep.equal({JWT_SECRET: values.staging})
    const prod = await p.run(['export', 'production', '--json'], asStaging)
    expect(json(prod.stdout).error?.code).to.equal('STORE_LOCKED')
    // And the production key cannot read staging.
    const other = await p.run(['export', 'staging', '--json'])
    expect(json(other.stdout).error?.code).to.equal('STORE_LOCKED')
    assertNoLeak([values.production], prod.stdout, prod.stderr)
  })

  it('CI: ENVSYNC_AGE_KEY alone, with a clean HOME, checks, diffs, pushes (Docker) and exports; the key never shows', async () => {
    const values = {JWT_SECRET: canary('JWT') + '-long-enough', API_KEY: canary('API')}
    await encrypted(values)
    p.commit()
    const secretKey = readFileSync(p.identityFile, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!
    const cleanHome = path.join(p.home, 'clean')
    rmSync(p.identityFile)
    const ci = {HOME: cleanHome, ENVSYNC_AGE_KEY: secretKey, CI: 'true'}
    const check = await p.run(['check', 'production', '--json'], ci)
    const findings = (json(check.stdout).result as {findings: {rule: string; message: string}[]}).findings
    // Committed on purpose: no file-mode or git-tracked findings for an encrypted file.
    expect(findings.map((f) => f.rule)).to.not.include.members(['file-mode', 'git-tracked', 'git-ignore', 'git-staged', 'git-ignored-encrypted'])
    const diff = await p.run(['diff', 'production'], ci)
    expect(diff.exitCode, diff.stderr).to.equal(0)
    expect(diff.stdout).to.include('JWT_SECRET').and.include('API_KEY')
    const push = await p.run(['push', 'production', '--yes'], ci)
    expect(push.exitCode, push.stderr).to.equal(0)
    expect(readFileSync(p.path('secrets/production/JWT_SECRET'), 'utf8')).to.equal(values.JWT_SECRET)
    expect(readFileSync(p.path('secrets/production/API_KEY'), 'utf8')).to.equal(values.API_KEY)
    const again = await p.run(['diff', 'production', '--json'], ci)
    expect(JSON.stringify(json(again.stdout).result)).to.not.match(/"(add|update)"/)
    const list = await p.run(['keys', 'list'], ci)
    expect(list.stdout).to.include(p.recipient).and.include('yours')
    const outputs = [check, diff, push, again, list].flatMap((r) => [r.stdout, r.stderr])
    assertNoLeak(Object.values(values), ...outputs, p.text('.env.production'), ...p.syncRecords())
    for (const o of outputs) expect(o).to.not.include(secretKey.slice(16, 40))
  })

  it('check warns when git ignores an encrypted file (teammates would not get it), with the fix', async () => {
    await encrypted({JWT_SECRET: canary()})
    writeFileSync(p.path('.gitignore'), '.env.*\n')
    const r = await p.run(['check', 'production', '--json'])
    const f = (json(r.stdout).result as {findings: {rule: string; severity: string; message: string; hint: string}[]}).findings.find((x) => x.rule === 'git-ignored-encrypted')!
    expect(f.severity).to.equal('warning')
    expect(f.message).to.include('.env.production').and.include('teammates')
    expect(f.hint).to.include('!.env.production')
  })

  it('a private key pasted as a recipient is refused at file:line:col, and never printed', async () => {
    p = new EncryptedProject()
    const secretKey = readFileSync(p.identityFile, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!
    writeFileSync(p.manifest, MANIFEST.replace('  production:\n', `  production:\n    store:\n      encrypted:\n        recipients:\n          - ${secretKey}\n`))
    const r = await p.run(['check', 'production'])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.match(/envsync\.yaml:12:13/).and.include('not an age X25519 recipient')
    expect(r.stderr + r.stdout).to.not.include(secretKey.slice(16, 40))
    expect(r.stderr).to.include('[redacted]')
  })
})
