import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {readValues, writeValues} from '../../src/values/store.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {ageKeygen, EncryptedProject, requireAge} from '../values/encrypted-support.js'

const envelope = (stdout: string) => JSON.parse(stdout) as {ok: boolean; result?: Record<string, unknown>; error?: {code: string; message: string; suggestion?: string}}

describe('envsync keys: your identity and who can read each environment', function () {
  this.timeout(60_000)
  let p: EncryptedProject
  afterEach(() => p?.cleanup())

  const values = () => ({JWT_SECRET: canary('JWT') + '-long-enough', API_KEY: canary('API')})

  it('keys generate creates a 0600 identity under XDG_CONFIG_HOME, prints only the recipient, and never overwrites it', async function () {
    requireAge(this)
    p = new EncryptedProject()
    const config = path.join(p.home, 'xdg')
    const r = await p.run(['keys', 'generate'], {XDG_CONFIG_HOME: config})
    expect(r.exitCode, r.stderr).to.equal(0)
    const file = path.join(config, 'envsync', 'age.key')
    expect(statSync(file).mode & 0o777).to.equal(0o600)
    const content = readFileSync(file, 'utf8')
    const secretKey = content.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!
    const recipient = /age1[0-9a-z]{58}/.exec(r.stdout)![0]
    expect(r.stdout).to.include('Back it up')
    expect(r.stdout + r.stderr).to.not.include(secretKey.slice(16, 40))
    // age itself agrees the file is an identity for that recipient.
    const sealed = spawnSync('age', ['-r', recipient], {input: 'probe'}).stdout
    expect(spawnSync('age', ['-d', '-i', file], {input: sealed}).stdout.toString()).to.equal('probe')
    const again = await p.run(['keys', 'generate', '--json'], {XDG_CONFIG_HOME: config})
    expect(again.exitCode).to.not.equal(0)
    expect(envelope(again.stdout).error?.code).to.equal('IDENTITY_EXISTS')
    expect(readFileSync(file, 'utf8')).to.equal(content)
  })

  it('keys add converts a plain store in place: the manifest keeps its comments, .gitignore lets the file be committed', async () => {
    p = new EncryptedProject()
    const v = values()
    writeValues(readValues(p.path('.env.production')), new Map(Object.entries(v)))
    const r = await p.run(['keys', 'add', 'production', p.recipient])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('encrypted 2 values in place').and.include('.gitignore: added !/.env.production')
    const manifest = p.text('envsync.yaml')
    expect(manifest).to.include('# staging is shared with contractors').and.include('services: [backend]')
    expect(manifest).to.include(`    store:\n      encrypted:\n        recipients:\n          - ${p.recipient}\n`)
    expect(spawnSync('git', ['check-ignore', '-q', '.env.production'], {cwd: p.dir}).status).to.equal(1)
    expect(spawnSync('git', ['check-ignore', '-q', '.env.staging'], {cwd: p.dir}).status).to.equal(0)
    assertNoLeak(Object.values(v), p.text('.env.production'), r.stdout, r.stderr)
    const out = await p.run(['export', 'production', '--format', 'json'])
    expect(JSON.parse(out.stdout)).to.deep.equal(v)
  })

  it('keys add gives a teammate access (every value re-encrypted); keys remove takes it away for new ciphertexts and says to rotate', async function () {
    requireAge(this)
    p = new EncryptedProject()
    const v = values()
    writeValues(readValues(p.path('.env.production')), new Map(Object.entries(v)))
    expect((await p.run(['keys', 'add', 'production', p.recipient])).exitCode).to.equal(0)
    const teammateKey = p.identityFile + '.teammate'
    const teammate = ageKeygen(teammateKey)
    const asTeammate = {ENVSYNC_AGE_KEY_FILE: teammateKey}
    expect(envelope((await p.run(['export', 'production', '--json'], asTeammate)).stdout).error?.code).to.equal('STORE_LOCKED')

    const before = p.text('.env.production')
    const add = await p.run(['keys', 'add', 'production', teammate, '--json'])
    expect(add.exitCode, add.stdout).to.equal(0)
    expect(envelope(add.stdout).result).to.include({environment: 'production', reencrypted: 2, converted: false})
    const lines = (t: string) => t.split('\n').filter((l) => /^(#envsync:|[A-Z_]+=)/.test(l))
    // Every ciphertext is new (the fingerprint key too), the key names and order are not.
    for (const [a, b] of lines(before).map((l, i) => [l, lines(p.text('.env.production'))[i]])) {
      expect(a.split('=')[0]).to.equal(b.split('=')[0])
      expect(a).to.not.equal(b)
    }
    const read = await p.run(['export', 'production', '--format', 'json'], asTeammate)
    expect(JSON.parse(read.stdout)).to.deep.equal(v)
    const list = await p.run(['keys', 'list', 'production', '--json'], asTeammate)
    expect(envelope(list.stdout).result).to.deep.include({yours: [teammate]})
    expect(JSON.stringify(envelope(list.stdout).result)).to.include(`{"recipient":"${p.recipient}","yours":false}`).and.include(`{"recipient":"${teammate}","yours":true}`)

    const remove = await p.run(['keys', 'remove', 'production', teammate])
    expect(remove.exitCode, remove.stderr).to.equal(0)
    expect(remove.stdout).to.include('can still read every value they could before').and.include('envsync generate production --force')
    expect(p.text('envsync.yaml')).to.not.include(teammate)
    for (const key of Object.keys(v)) {
      const d = spawnSync('age', ['-d', '-i', teammateKey], {input: p.ciphertext(key)})
      expect(d.status, key).to.not.equal(0)
      expect(spawnSync('age', ['-d', '-i', p.identityFile], {input: p.ciphertext(key)}).stdout.toString()).to.equal(v[key as keyof typeof v])
    }
    expect(envelope((await p.run(['export', 'production', '--json'], asTeammate)).stdout).error?.code).to.equal('STORE_LOCKED')
    assertNoLeak(Object.values(v), add.stdout, remove.stdout, remove.stderr, list.stdout, p.text('.env.production'), p.text('envsync.yaml'))
  })

  it('refuses to remove the last recipient, or to add one for someone who cannot read the values; nothing is written', async function () {
    requireAge(this)
    p = new EncryptedProject()
    writeValues(readValues(p.path('.env.production')), new Map(Object.entries(values())))
    expect((await p.run(['keys', 'add', 'production', p.recipient])).exitCode).to.equal(0)
    const files = () => [p.text('.env.production'), p.text('envsync.yaml'), p.text('.gitignore')]
    const before = files()
    const last = await p.run(['keys', 'remove', 'production', p.recipient, '--json'])
    expect(last.exitCode).to.not.equal(0)
    expect(envelope(last.stdout).error?.code).to.equal('RECIPIENT_LAST')
    const outsiderKey = p.identityFile + '.outsider'
    const outsider = ageKeygen(outsiderKey)
    const add = await p.run(['keys', 'add', 'production', outsider, '--json'], {ENVSYNC_AGE_KEY_FILE: outsiderKey})
    expect(add.exitCode).to.not.equal(0)
    expect(envelope(add.stdout).error?.code).to.equal('STORE_LOCKED')
    const bad = await p.run(['keys', 'add', 'production', 'age1notarecipient'])
    expect(bad.exitCode).to.not.equal(0)
    expect(bad.stderr).to.include('not an age X25519 recipient')
    const unknown = await p.run(['keys', 'remove', 'production', outsider])
    expect(unknown.stderr).to.include('is not a recipient of production')
    expect(files()).to.deep.equal(before)
  })

  it('every keys command has help with examples', async () => {
    p = new EncryptedProject()
    for (const sub of ['generate', 'add', 'remove', 'list']) {
      const r = await p.run(['keys', sub, '--help'])
      expect(r.exitCode, sub).to.equal(0)
      expect(r.stdout, sub).to.include('EXAMPLES')
    }
    expect(existsSync(p.path('.env.production'))).to.equal(false)
  })
})
