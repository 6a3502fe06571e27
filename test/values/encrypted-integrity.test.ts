import {spawnSync} from 'node:child_process'
import {createHmac, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {readValues, writeValues} from '../../src/values/store.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {ageKeygen, encryptedProject, EncryptedProject, git, MANIFEST, requireAge} from './encrypted-support.js'

const json = (stdout: string) => JSON.parse(stdout) as {ok: boolean; result?: Record<string, unknown>; error?: {code: string; message: string; suggestion?: string; line?: number}}

const TWO_KEYS = `${MANIFEST}  DB_PASSWORD:
    services: [backend]
  REDIS_PASSWORD:
    services: [backend]
`

/** Review findings on the encrypted store: lines bound to key and store, key rotation on removal, recipients in the header, key files, history, .gitignore. */
describe('encrypted store: every line is bound to its key and its store', function () {
  this.timeout(90_000)
  let p: EncryptedProject
  afterEach(() => p?.cleanup())

  const values = () => ({JWT_SECRET: canary('JWT') + '-long-enough', DB_PASSWORD: canary('DB'), REDIS_PASSWORD: canary('REDIS')})

  async function encrypted(v: Record<string, string>, manifest = TWO_KEYS): Promise<EncryptedProject> {
    p = await encryptedProject(v, manifest)
    return p
  }

  const lineIndex = (text: string, key: string) => text.split('\n').findIndex((l) => l.startsWith(`${key}=`))
  const setLine = (key: string, make: (line: string) => string) => {
    const lines = p.text('.env.production').split('\n')
    const at = lines.findIndex((l) => l.startsWith(`${key}=`))
    lines[at] = make(lines[at])
    writeFileSync(p.path('.env.production'), lines.join('\n'))
  }

  /** Every reading command refuses with STORE_DAMAGED at KEY's line, prints no value, and writes nothing. */
  async function expectDamaged(key: string | RegExp, line: number | undefined, v: Record<string, string>): Promise<void> {
    const before = p.text('.env.production')
    for (const args of [['get', 'production', 'DB_PASSWORD', '--json'], ['check', 'production', '--json'], ['generate', 'production', '--force', '--yes', '--json']]) {
      const r = await p.run(args)
      expect(r.exitCode, args.join(' ')).to.not.equal(0)
      const e = json(r.stdout).error!
      expect(e.code, `${args[0]}: ${e.message}`).to.equal('STORE_DAMAGED')
      expect(e.message).to.match(typeof key === 'string' ? new RegExp(`^${key} `) : key)
      if (line !== undefined) expect(e.line).to.equal(line)
      assertNoLeak(Object.values(v), r.stdout, r.stderr)
    }
    expect(p.text('.env.production')).to.equal(before)
  }

  it('swapping two keys’ lines is STORE_DAMAGED (not the other key’s value), naming the key and line', async () => {
    const v = values()
    await encrypted(v)
    const text = p.text('.env.production')
    const db = /^DB_PASSWORD=(.*)$/m.exec(text)![1]
    const redis = /^REDIS_PASSWORD=(.*)$/m.exec(text)![1]
    writeFileSync(p.path('.env.production'), text.replace(`DB_PASSWORD=${db}`, `DB_PASSWORD=${redis}`).replace(`REDIS_PASSWORD=${redis}`, `REDIS_PASSWORD=${db}`))
    const r = await p.run(['get', 'production', 'DB_PASSWORD'])
    expect(r.stdout).to.not.include(v.REDIS_PASSWORD)
    expect(r.stderr).to.include("not written by a holder of this store's key").and.include('envsync set production')
    await expectDamaged('DB_PASSWORD', lineIndex(text, 'DB_PASSWORD') + 1, v)
  })

  it('a line injected by someone without the key (age CLI to the public recipient, untagged or with a made-up tag) is refused', async function () {
    requireAge(this)
    const v = values()
    await encrypted(v)
    const sealed = (spawnSync('age', ['-r', p.recipient], {input: 'attacker'}).stdout as Buffer).toString('base64')
    const at = lineIndex(p.text('.env.production'), 'DB_PASSWORD') + 1
    setLine('DB_PASSWORD', () => `DB_PASSWORD=age:${sealed}`)
    await expectDamaged('DB_PASSWORD', at, v)
    setLine('DB_PASSWORD', () => `DB_PASSWORD=age:${sealed};tag:${randomBytes(16).toString('base64url')}`)
    await expectDamaged('DB_PASSWORD', at, v)
  })

  it('a line copied from another store (same key name, other fingerprint key) is refused', async () => {
    const v = values()
    await encrypted(v)
    const mine = p.text('.env.production')
    // Another store of the same recipient, made the same way.
    writeValues(readValues(p.path('.env.staging')), new Map([['DB_PASSWORD', 'other']]))
    expect((await p.run(['keys', 'add', 'staging', p.recipient])).exitCode).to.equal(0)
    const copied = /^DB_PASSWORD=.*$/m.exec(p.text('.env.staging'))![0]
    writeFileSync(p.path('.env.production'), mine.replace(/^DB_PASSWORD=.*$/m, copied))
    await expectDamaged('DB_PASSWORD', lineIndex(mine, 'DB_PASSWORD') + 1, v)
  })

  it("a header replaced with an attacker's own fingerprint key (every tag they can compute re-made) is refused; a deleted header too", async function () {
    requireAge(this)
    const v = values()
    await encrypted(v)
    const original = p.text('.env.production')
    // The attacker knows the format and the public recipient, not the values.
    const theirs = randomBytes(32)
    const sealedKey = (spawnSync('age', ['-r', p.recipient], {input: theirs}).stdout as Buffer).toString('base64')
    const mac = (domain: string, ...parts: Buffer[]) => {
      const h = createHmac('sha256', theirs).update(`envsync/v1/${domain}`)
      for (const part of parts) {
        const n = Buffer.alloc(4)
        n.writeUInt32BE(part.length)
        h.update(n).update(part)
      }
      return h.digest().subarray(0, 16).toString('base64url')
    }
    const forged = original
      .replace(/^#envsync:fingerprint-key=.*$/m, `#envsync:fingerprint-key=age:${sealedKey}`)
      .replace(/^#envsync:recipients=([^;]*);tag:.*$/m, (_, list: string) => `#envsync:recipients=${list};tag:${mac('recipients', Buffer.from(list))}`)
      .replace(/^([A-Z_]+)=age:([^;]*);tag:.*$/gm, (_, key: string, ct: string) => `${key}=age:${ct};tag:${mac('value', Buffer.from(key), Buffer.from(ct, 'base64'))}`)
    writeFileSync(p.path('.env.production'), forged)
    await expectDamaged(/^[A-Z_]+ fails its tag/, undefined, v)

    writeFileSync(p.path('.env.production'), original.replace(/^#envsync:fingerprint-key=.*\n/m, ''))
    await expectDamaged(/no #envsync:fingerprint-key header/, undefined, v)
    // The recipients line is tagged too.
    writeFileSync(p.path('.env.production'), original.replace(/^#envsync:recipients=([^;]*);/m, `#envsync:recipients=$1,${ageKeygen(p.identityFile + '.x')};`))
    await expectDamaged(/^the recipients header is altered/, undefined, v)
  })

  it('keys remove mints a new fingerprint key (the removed person knew the old one) and says sealed values are pushed once more', async function () {
    requireAge(this)
    const v = values()
    await encrypted(v)
    const leaverKey = p.identityFile + '.leaver'
    const leaver = ageKeygen(leaverKey)
    expect((await p.run(['keys', 'add', 'production', leaver])).exitCode).to.equal(0)
    const fingerprintKey = (identity: string) => {
      const line = /^#envsync:fingerprint-key=age:(.*)$/m.exec(p.text('.env.production'))![1]
      return spawnSync('age', ['-d', '-i', identity], {input: Buffer.from(line, 'base64')})
    }
    const old = fingerprintKey(leaverKey).stdout as Buffer
    expect(old.length).to.equal(32)
    const r = await p.run(['keys', 'remove', 'production', leaver])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('new fingerprint key').and.include('pushed once more on the next push')
    expect(fingerprintKey(leaverKey).status).to.not.equal(0)
    const now = fingerprintKey(p.identityFile).stdout as Buffer
    expect(now.length).to.equal(32)
    expect(now.equals(old)).to.equal(false)
    const out = await p.run(['export', 'production', '--format', 'json'])
    expect(JSON.parse(out.stdout)).to.deep.equal(v)
    assertNoLeak(Object.values(v), r.stdout, r.stderr, p.text('.env.production'))
  })

  it('a recipient added to envsync.yaml by hand: the error says the file predates them, `keys add` re-encrypts, `keys list` warns', async function () {
    requireAge(this)
    const v = values()
    await encrypted(v)
    const bobKey = p.identityFile + '.bob'
    const bob = ageKeygen(bobKey)
    // A merge (or a hand edit) lists Bob; the file was not re-encrypted.
    writeFileSync(p.manifest, p.text('envsync.yaml').replace(`- ${p.recipient}\n`, `- ${p.recipient}\n          - ${bob}\n`))
    expect(p.text('envsync.yaml')).to.include(bob)
    const asBob = {ENVSYNC_AGE_KEY_FILE: bobKey}
    const r = await p.run(['get', 'production', 'DB_PASSWORD', '--json'], asBob)
    const e = json(r.stdout).error!
    expect(e.code).to.equal('STORE_LOCKED')
    expect(e.message).to.include('envsync.yaml lists you').and.include('.env.production was encrypted before you were added')
    expect(e.suggestion).to.equal(`ask someone who can read it to run \`envsync keys add production ${bob}\``)
    expect(e.line).to.be.a('number')
    const list = await p.run(['keys', 'list'])
    expect(list.stdout).to.include('is encrypted to').and.include('not to the recipients envsync.yaml lists')
    const add = await p.run(['keys', 'add', 'production', bob])
    expect(add.exitCode, add.stderr).to.equal(0)
    expect(add.stdout).to.not.include('nothing to change')
    expect(add.stdout).to.include('re-encrypted 3 values')
    const read = await p.run(['export', 'production', '--format', 'json'], asBob)
    expect(read.exitCode, read.stderr).to.equal(0)
    expect(JSON.parse(read.stdout)).to.deep.equal(v)
    expect((await p.run(['keys', 'list'])).stdout).to.not.include('not to the recipients envsync.yaml lists')
    // Once in step, the same command has nothing to do.
    expect((await p.run(['keys', 'add', 'production', bob])).stdout).to.include('nothing to change (already 2 recipients)')
    assertNoLeak(Object.values(v), r.stdout, r.stderr, add.stdout, list.stdout)
  })

  it('keys generate refuses, before writing, a key file inside the project (ENVSYNC_AGE_KEY_FILE or XDG_CONFIG_HOME there)', async () => {
    p = new EncryptedProject()
    mkdirSync(p.path('sub'))
    for (const [env, file] of [
      [{ENVSYNC_AGE_KEY_FILE: p.path('my.key')}, p.path('my.key')],
      [{XDG_CONFIG_HOME: p.path('.config')}, p.path('.config/envsync/age.key')],
    ] as const) {
      const r = await p.run(['keys', 'generate', '--json'], env)
      expect(r.exitCode).to.not.equal(0)
      expect(json(r.stdout).error?.code).to.equal('IDENTITY_IN_PROJECT')
      expect(existsSync(file), file).to.equal(false)
    }
    expect(existsSync(p.path('.config'))).to.equal(false)
  })

  it('converting a plain file git already tracks warns that its values are in the history, and how to rotate', async () => {
    p = new EncryptedProject()
    const v = {JWT_SECRET: canary('JWT') + '-long-enough'}
    writeValues(readValues(p.path('.env.staging')), new Map(Object.entries(v)))
    git(p.dir, 'add', '-f', '.env.staging')
    git(p.dir, 'commit', '-q', '-m', 'oops')
    const r = await p.run(['keys', 'add', 'staging', p.recipient])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('its values are in the git history').and.include('envsync generate staging --force').and.include('envsync set staging KEY')
    assertNoLeak(Object.values(v), r.stdout, r.stderr)
    // An untracked file says nothing of the kind.
    writeValues(readValues(p.path('.env.production')), new Map(Object.entries(v)))
    expect((await p.run(['keys', 'add', 'production', p.recipient])).stdout).to.not.include('git history')
  })

  it('a values file whose name has gitignore specials gets an escaped negation line that un-ignores exactly it', async () => {
    p = new EncryptedProject(MANIFEST.replace('  production:\n', '  production:\n    file: "vals/prod[1] *?.env"\n'))
    writeFileSync(p.path('.gitignore'), '.env\n.env.*\n*.env\n')
    mkdirSync(p.path('vals'))
    writeValues(readValues(p.path('vals/prod[1] *?.env')), new Map([['JWT_SECRET', canary()]]))
    writeFileSync(p.path('vals/prod1 x.env'), 'X=1\n')
    const r = await p.run(['keys', 'add', 'production', p.recipient])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(p.text('.gitignore')).to.include('!/vals/prod\\[1\\] \\*\\?.env\n')
    expect(spawnSync('git', ['check-ignore', '-q', 'vals/prod[1] *?.env'], {cwd: p.dir}).status).to.equal(1)
    expect(spawnSync('git', ['check-ignore', '-q', 'vals/prod1 x.env'], {cwd: p.dir}).status).to.equal(0)
  })

  for (const armored of [false, true]) {
    it(`import reads a file the age CLI encrypted (${armored ? 'ASCII-armored' : 'binary'}): exact bytes, the plaintext never on disk`, async function () {
      requireAge(this)
      p = new EncryptedProject(TWO_KEYS.replace('  production:\n', `  production:\n    store:\n      encrypted:\n        recipients: [RECIPIENT]\n`))
      writeFileSync(p.manifest, p.text('envsync.yaml').replace('RECIPIENT', p.recipient))
      const secret = `${canary('CLI')} =$" é #`
      const plain = `DB_PASSWORD='${secret}'\nREDIS_PASSWORD=${canary('R')}\n`
      const sealed = spawnSync('age', ['-r', p.recipient, ...(armored ? ['-a'] : [])], {input: plain}).stdout as Buffer
      expect(sealed.subarray(0, 5).toString()).to.equal(armored ? '-----' : 'age-e')
      p.write('secrets.env.age', sealed, 0o644)
      const r = await p.run(['import', 'production', 'secrets.env.age', '--yes'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const out = await p.run(['get', 'production', 'DB_PASSWORD'])
      expect(out.exitCode, out.stderr).to.equal(0)
      expect(out.stdout.replace(/\n$/, '')).to.equal(secret)
      const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
        const full = path.join(dir, f)
        return statSync(full).isDirectory() ? (f === '.git' ? [] : files(full)) : [readFileSync(full, 'latin1')]
      })
      assertNoLeak([secret], r.stdout, r.stderr, ...files(p.dir), ...files(p.home))
      // Not ours to read: a clear error naming the file.
      const otherKey = p.identityFile + '.other'
      ageKeygen(otherKey)
      const locked = await p.run(['import', 'production', 'secrets.env.age', '--yes', '--json'], {ENVSYNC_AGE_KEY_FILE: otherKey})
      expect(locked.exitCode).to.not.equal(0)
    })
  }
})
