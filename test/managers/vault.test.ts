import {createHash} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {nameProblem} from '../../src/targets/managers/layout.js'
import {markerTags, type SecretManagerBackend} from '../../src/targets/managers/backend.js'
import {createBackend} from '../../src/targets/managers/vault.js'
import {applyThenDrop, drop, latency, serverError, tooManyRequests} from '../fakes/faults.js'
import {failure} from './backend-support.js'
import {FAKE_TOKEN, sealedFault, SPEC_FILE, startVault, type VaultFake, vaultSpec, vaultThrottled} from '../fakes/vault.js'
import {assertNoLeak, canary} from '../helpers/canary.js'

/**
 * The Vault KV v2 backend (plain HTTP through HttpClient) against the loopback fake, which checks
 * every request and answer against Vault's OpenAPI document (test/fixtures/vault-openapi.json).
 */

const MARKER = {project: 'shop', environment: 'production'}
const FOLDER = 'shop/production/'

let fake: VaultFake
let home: string
/** Short timeouts and backoffs for every request (HttpClient reads them per request). */
const FAST = {ENVSYNC_HTTP_TIMEOUT_MS: '1000', ENVSYNC_HTTP_BACKOFF_MS: '5'}
const before_: Partial<Record<keyof typeof FAST, string>> = {}

/** The backend as envsync opens it, pointed at the fake (HOME without a token file). */
function backend(env: Record<string, string | undefined> = {}, options = {}): Promise<SecretManagerBackend> {
  return createBackend(options, {...fake.env, HOME: home, ...env})
}


const one = (value: string) => JSON.stringify({value})
const ops = (operation: string) => fake.log.filter((l) => l.operation === operation)

describe('Vault KV v2 backend (against the fake)', () => {
  before(async () => {
    fake = await startVault()
    home = await mkdtemp(join(tmpdir(), 'envsync-vault-home-'))
    for (const [k, v] of Object.entries(FAST) as [keyof typeof FAST, string][]) {
      before_[k] = process.env[k]
      process.env[k] = v
    }
  })

  after(async () => {
    for (const [k, v] of Object.entries(before_) as [keyof typeof FAST, string | undefined][]) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    await fake.close()
    await rm(home, {recursive: true, force: true})
  })

  beforeEach(() => fake.reset())

  afterEach(function () {
    // Every request sent and every answer given matched the contract.
    if (this.currentTest?.state === 'passed') expect(fake.violations).to.deep.equal([])
  })

  describe('list', () => {
    it('lists a folder\'s secrets (not sub-folders, not deleted ones) with the marker from custom_metadata', async () => {
      for (let i = 0; i < 20; i++) fake.put(`${FOLDER}KEY_${i}`, {value: `v${i}`}, markerTags(MARKER))
      fake.put(`${FOLDER}UNOWNED`, {value: 'x'}, {owner: 'terraform'})
      fake.put(`${FOLDER}nested/DEEP`, {value: 'x'}, markerTags(MARKER))
      fake.put(`${FOLDER}GONE`, {value: 'x'}, markerTags(MARKER))
      fake.softDelete(`${FOLDER}GONE`)
      fake.put('shop/staging/KEY_0', {value: 'x'}, markerTags(MARKER))
      fake.faults.always(latency(10), {match: {operation: 'kv-v2-read-metadata'}})
      const b = await backend()
      const listed = await b.list(FOLDER)
      expect(listed.map((s) => s.name).sort()).to.deep.equal([...Array.from({length: 20}, (_, i) => `${FOLDER}KEY_${i}`), `${FOLDER}UNOWNED`].sort())
      expect(listed.find((s) => s.name === `${FOLDER}KEY_3`)?.marker).to.deep.equal(MARKER)
      expect(listed.find((s) => s.name === `${FOLDER}UNOWNED`)?.marker).to.equal(undefined)
      // One list, then one metadata read per key (23: the folder's 22 secrets and nothing else), at most 8 at once.
      expect(ops('kv-v2-list')).to.have.length(1)
      expect(ops('kv-v2-read-metadata')).to.have.length(22)
      expect(ops('kv-v2-read')).to.have.length(0)
      expect(b.requests).to.equal(23)
      expect(fake.requests).to.equal(23)
      expect(fake.maxInFlight).to.be.within(2, 8)
    })

    it('a prefix that is not a folder lists its folder and keeps the names that start with it', async () => {
      fake.put('shop-a', {value: '1'})
      fake.put('shop-b', {value: '2'})
      fake.put('other', {value: '3'})
      fake.put('shop-dir/x', {value: '4'})
      const b = await backend()
      expect((await b.list('shop-')).map((s) => s.name).sort()).to.deep.equal(['shop-a', 'shop-b'])
      expect(fake.log[0]).to.include({method: 'GET', path: '/v1/secret/metadata/'})
      expect((await b.list('shop/production/DB_')).map((s) => s.name)).to.deep.equal([])
    })

    it('an empty or missing folder is an empty list (Vault answers 404)', async () => {
      const b = await backend()
      expect(await b.list(FOLDER)).to.deep.equal([])
      expect(fake.log[0]?.status).to.equal(404)
    })
  })

  describe('read', () => {
    it('reads several secrets at once, leaves out missing and deleted ones, keeps foreign fields as they are', async () => {
      fake.put(`${FOLDER}A`, {value: 'alpha'})
      fake.put(`${FOLDER}group`, {url: 'redis://x', port: 6379, tls: true, extra: {nested: ['a', 1]}})
      fake.put(`${FOLDER}DEL`, {value: 'old'})
      fake.softDelete(`${FOLDER}DEL`)
      const b = await backend()
      const got = await b.read([`${FOLDER}A`, `${FOLDER}group`, `${FOLDER}MISSING`, `${FOLDER}DEL`])
      expect([...got.keys()].sort()).to.deep.equal([`${FOLDER}A`, `${FOLDER}group`])
      expect(JSON.parse(got.get(`${FOLDER}A`)!)).to.deep.equal({value: 'alpha'})
      expect(JSON.parse(got.get(`${FOLDER}group`)!)).to.deep.equal({url: 'redis://x', port: 6379, tls: true, extra: {nested: ['a', 1]}})
      expect(ops('kv-v2-read')).to.have.length(4)
    })

    it('reads 40 names with at most 8 requests at once', async () => {
      for (let i = 0; i < 40; i++) fake.put(`${FOLDER}K${i}`, {value: String(i)})
      fake.faults.always(latency(20), {match: {operation: 'kv-v2-read'}})
      const b = await backend()
      const got = await b.read(Array.from({length: 40}, (_, i) => `${FOLDER}K${i}`))
      expect(got.size).to.equal(40)
      expect(fake.maxInFlight).to.be.within(2, 8)
    })
  })

  describe('write', () => {
    it('creates with the marker, then adds versions with check-and-set (history kept)', async () => {
      const b = await backend()
      const name = `${FOLDER}JWT_SECRET`
      await b.write(name, one('first'), MARKER, {exists: false})
      expect(fake.value(name)).to.deep.equal({value: 'first'})
      expect(fake.secret(name)?.custom_metadata).to.deep.equal(markerTags(MARKER))
      const writes = fake.log.filter((l) => l.method === 'POST')
      expect(writes.map((l) => l.operation)).to.deep.equal(['kv-v2-write', 'kv-v2-write-metadata'])

      await b.write(name, one('second'), MARKER, {exists: true})
      const b2 = await backend()
      await b2.read([name])
      await b2.write(name, one('third'), MARKER, {exists: true})
      expect(fake.versionCount(name)).to.equal(3)
      expect(fake.secret(name)?.versions.get(1)?.data).to.deep.equal({value: 'first'})
      expect(fake.value(name)).to.deep.equal({value: 'third'})
      // The marker is written once, at creation.
      expect(ops('kv-v2-write-metadata')).to.have.length(1)
    })

    it('a secret changed by someone else since it was read is refused (VAULT_CONFLICT), their value kept', async () => {
      const name = `${FOLDER}API_KEY`
      fake.put(name, {value: 'v1'})
      const b = await backend()
      await b.read([name])
      fake.put(name, {value: 'changed by a colleague'})
      const error = await failure(b.write(name, one('mine'), MARKER, {exists: true}))
      expect(error.code).to.equal('VAULT_CONFLICT')
      expect(error.message).to.include(`secret/${name}`).and.include('changed by someone else')
      expect(error.suggestion).to.include('run again')
      expect(fake.value(name)).to.deep.equal({value: 'changed by a colleague'})
      expect(fake.versionCount(name)).to.equal(2)
    })

    it('a name that exists but was never read is not overwritten blindly (cas 0 = create only)', async () => {
      const name = `${FOLDER}EXISTING`
      fake.put(name, {value: 'theirs'})
      const error = await failure((await backend()).write(name, one('mine'), MARKER))
      expect(error.code).to.equal('VAULT_CONFLICT')
      expect(fake.value(name)).to.deep.equal({value: 'theirs'})
    })

    it('keeps the fields it was given, non-string ones included, and refuses text that is not a JSON object', async () => {
      const name = `${FOLDER}group`
      fake.put(name, {url: 'x', port: 5432})
      const b = await backend()
      const text = (await b.read([name])).get(name)!
      const fields = {...JSON.parse(text), url: 'postgres://new'}
      await b.write(name, JSON.stringify(fields), MARKER)
      expect(fake.value(name)).to.deep.equal({url: 'postgres://new', port: 5432})
      const error = await failure(b.write(`${FOLDER}bad`, 'plain text', MARKER))
      expect(error.code).to.equal('VAULT_NOT_OBJECT')
      expect(error.message).to.include(`${FOLDER}bad`)
      expect(fake.names()).to.not.include(`${FOLDER}bad`)
    })

    const awkward: [string, string][] = [
      ['a multi-line PEM', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n'],
      ['unicode with emoji and combining characters', 'pässwörd 🔑🇩🇪 e\u0301 \u200d ☃ 中文'],
      ['= quotes $ and backslashes', 'a=b "c" \'d\' $HOME ${X} `e` \\n \\'],
      ['the empty string', ''],
      ['64 KiB', 'x'.repeat(65_536 - 7) + '\n\t\r é'],
    ]
    for (const [what, value] of awkward) {
      it(`round-trips ${what} byte for byte`, async () => {
        const name = `${FOLDER}AWKWARD`
        const b = await backend()
        await b.write(name, one(value), MARKER, {exists: false})
        const text = (await (await backend()).read([name])).get(name)
        expect(text).to.not.equal(undefined)
        const back = JSON.parse(text!).value as string
        expect(Buffer.from(back, 'utf8').equals(Buffer.from(value, 'utf8'))).to.equal(true)
        expect(createHash('sha256').update(back).digest('hex')).to.equal(createHash('sha256').update(value).digest('hex'))
      })
    }
  })

  describe('deleted names and remove', () => {
    it('remove() soft-deletes the current version: gone from list and read, history kept, absent is done', async () => {
      const name = `${FOLDER}OLD`
      const b = await backend()
      await b.write(name, one('v1'), MARKER, {exists: false})
      await b.remove(name)
      expect(ops('kv-v2-delete')).to.have.length(1)
      expect(fake.value(name)).to.equal(undefined)
      expect(fake.versionCount(name)).to.equal(1)
      expect(fake.secret(name)?.versions.get(1)?.data).to.deep.equal({value: 'v1'})
      expect(await b.list(FOLDER)).to.deep.equal([])
      expect((await b.read([name])).size).to.equal(0)
      await b.remove(`${FOLDER}NEVER_THERE`)
    })

    it('writing a soft-deleted name puts a new version on top (after a list, a read, or neither), marker kept with other tools\' metadata', async () => {
      for (const [i, how] of ['list', 'read', 'none'].entries()) {
        const name = `${FOLDER}DELETED_${i}`
        fake.put(name, {value: 'old'}, {team: 'payments'})
        fake.softDelete(name)
        const b = await backend()
        if (how === 'list') expect(await b.list(FOLDER)).to.deep.equal([])
        if (how === 'read') expect((await b.read([name])).size).to.equal(0)
        await b.write(name, one('new'), MARKER, how === 'none' ? {} : {exists: false})
        expect(fake.value(name)).to.deep.equal({value: 'new'})
        expect(fake.versionCount(name)).to.equal(2)
        expect(fake.secret(name)?.custom_metadata).to.deep.equal({team: 'payments', ...markerTags(MARKER)})
      }
    })
  })

  describe('throttling, server errors, dropped connections, timeouts', () => {
    it('waits out Vault\'s 429 (rate limit quota, Retry-After) and a plain 429', async () => {
      fake.put(`${FOLDER}A`, {value: 'a'})
      fake.faults.once(vaultThrottled(0.05), {match: {operation: 'kv-v2-read'}}).once(tooManyRequests(0), {match: {operation: 'kv-v2-read'}})
      const b = await backend()
      const started = Date.now()
      expect((await b.read([`${FOLDER}A`])).get(`${FOLDER}A`)).to.equal(one('a'))
      expect(Date.now() - started).to.be.at.least(45)
      expect(b.requests).to.equal(3)
      expect(fake.faults.injected).to.have.length(2)
    })

    it('gives up on an endless rate limit with RATE_LIMITED, in bounded time', async () => {
      fake.faults.always(vaultThrottled(0), {match: {operation: 'kv-v2-write'}})
      const b = await backend()
      const started = Date.now()
      const error = await failure(b.write(`${FOLDER}A`, one('a'), MARKER))
      expect(error.code).to.equal('RATE_LIMITED')
      expect(error.message).to.include(`${FOLDER}A`)
      expect(Date.now() - started).to.be.below(5000)
      expect(b.requests).to.equal(5)
    })

    it('retries 5xx and dropped connections on reads and writes; a write is applied once', async () => {
      fake.put(`${FOLDER}R`, {value: 'r'})
      fake.faults.once(serverError(500), {match: {operation: 'kv-v2-read'}}).once(drop(), {match: {operation: 'kv-v2-read'}})
      fake.faults.once(serverError(502), {match: {operation: 'kv-v2-write'}}).once(drop(), {match: {operation: 'kv-v2-write'}})
      const b = await backend()
      expect((await b.read([`${FOLDER}R`])).get(`${FOLDER}R`)).to.equal(one('r'))
      await b.write(`${FOLDER}R`, one('r2'), MARKER)
      expect(fake.versionCount(`${FOLDER}R`)).to.equal(2)
      expect(fake.value(`${FOLDER}R`)).to.deep.equal({value: 'r2'})
    })

    it('a write whose answer was lost (applied, then the connection dropped) is not written twice nor reported as a conflict', async () => {
      const name = `${FOLDER}LOST`
      fake.put(name, {value: 'v1'})
      const b = await backend()
      await b.read([name])
      fake.faults.once(applyThenDrop(), {match: {operation: 'kv-v2-write'}})
      await b.write(name, one('v2'), MARKER, {exists: true})
      expect(fake.versionCount(name)).to.equal(2)
      expect(fake.value(name)).to.deep.equal({value: 'v2'})
      // Then a create whose answer was lost: created once, marker written.
      fake.faults.once(applyThenDrop(), {match: {operation: 'kv-v2-write'}})
      await b.write(`${FOLDER}NEW`, one('n'), MARKER, {exists: false})
      expect(fake.versionCount(`${FOLDER}NEW`)).to.equal(1)
      expect(fake.secret(`${FOLDER}NEW`)?.custom_metadata).to.deep.equal(markerTags(MARKER))
    })

    it('an unresponsive server ends in bounded time with UNREACHABLE naming the address', async () => {
      fake.faults.always(latency(30_000))
      const b = await backend()
      const started = Date.now()
      const error = await failure(b.read([`${FOLDER}A`]))
      expect(error.code).to.equal('UNREACHABLE')
      expect(error.message).to.include(new URL(fake.url).host).and.include('timed out')
      // 5 attempts of 1 s (ENVSYNC_HTTP_TIMEOUT_MS) and short backoffs.
      expect(Date.now() - started).to.be.within(4000, 8000)
    })
  })

  describe('credentials, permissions and errors', () => {
    it('missing token names VAULT_TOKEN and `vault login`; missing address names VAULT_ADDR', async () => {
      const error = await failure(backend({VAULT_TOKEN: undefined}))
      expect(error.code).to.equal('VAULT_NO_TOKEN')
      expect(error.message).to.include('VAULT_TOKEN').and.include('~/.vault-token')
      expect(error.suggestion).to.include('vault login')
      const noAddress = await failure(backend({VAULT_ADDR: undefined}))
      expect(noAddress.code).to.equal('VAULT_NO_ADDRESS')
      expect(noAddress.message + noAddress.suggestion).to.include('VAULT_ADDR').and.include('address')
      expect(fake.requests).to.equal(0)
    })

    it('uses ~/.vault-token (as `vault login` writes it) when VAULT_TOKEN is unset', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'envsync-vault-login-'))
      try {
        await writeFile(join(dir, '.vault-token'), FAKE_TOKEN + '\n')
        fake.put(`${FOLDER}A`, {value: 'a'})
        const b = await backend({VAULT_TOKEN: undefined, HOME: dir})
        expect((await b.read([`${FOLDER}A`])).size).to.equal(1)
      } finally {
        await rm(dir, {recursive: true, force: true})
      }
    })

    it('a wrong token or a policy that denies: VAULT_DENIED naming the path and the token variable', async () => {
      const wrong = await failure((await backend({VAULT_TOKEN: 'hvs.notTheRightToken123'})).read([`${FOLDER}A`]))
      expect(wrong.code).to.equal('VAULT_DENIED')
      expect(wrong.message).to.include(`secret/${FOLDER}A`)
      expect(wrong.suggestion).to.include('VAULT_TOKEN')
      expect(wrong.message + wrong.suggestion).to.not.include('notTheRightToken')
      fake.violations.length = 0 // the fake records the unknown token on purpose

      fake.deny(/^secret\/data\/shop\/production\/LOCKED$/)
      const denied = await failure((await backend()).write(`${FOLDER}LOCKED`, one('x'), MARKER))
      expect(denied.code).to.equal('VAULT_DENIED')
      expect(denied.message).to.include(`secret/${FOLDER}LOCKED`)
      expect(denied.suggestion).to.include('"create" and "update"').and.include(`secret/data/${FOLDER}LOCKED`)
    })

    it('a sealed Vault says so', async () => {
      fake.seal()
      const error = await failure((await backend()).read([`${FOLDER}A`]))
      expect(error.code).to.equal('VAULT_SEALED')
      expect(error.message).to.include('sealed')
      fake.seal(false)
      fake.faults.always(sealedFault())
      expect((await failure((await backend()).list(FOLDER))).code).to.equal('VAULT_SEALED')
    })

    it('a mount that does not exist is an error naming it, not an empty store', async () => {
      const b = await backend({}, {mount: 'nope'})
      const error = await failure(b.read([`${FOLDER}A`]))
      expect(error.code).to.equal('VAULT_NO_MOUNT')
      expect(error.suggestion).to.include('vault secrets enable -path=nope kv-v2')
      expect((await failure(b.list(FOLDER))).code).to.equal('VAULT_NO_MOUNT')
      fake.violations.length = 0 // routes outside the mount are recorded by the fake
    })

    it('a value the server quotes in an error never reaches the message', async () => {
      const secret = canary()
      fake.faults.always({kind: 'status', status: 500, body: JSON.stringify({errors: [`1 error occurred:\n\t* cannot store "${secret}"`]})}, {match: {operation: 'kv-v2-write'}})
      const error = await failure((await backend()).write(`${FOLDER}LEAK`, one(secret), MARKER))
      expect(error.code).to.equal('VAULT_ERROR')
      expect(error.message).to.include(`secret/${FOLDER}LEAK`).and.include('HTTP 500')
      assertNoLeak([secret], error.message, error.suggestion, JSON.stringify(error.toJSON()))
    })

    it('sends X-Vault-Namespace from VAULT_NAMESPACE or the manifest option', async () => {
      const nsFake = await startVault({namespace: 'team-a'})
      try {
        nsFake.put('app/A', {value: 'a'})
        const viaEnv = await createBackend({}, {...nsFake.env, HOME: home})
        expect((await viaEnv.read(['app/A'])).size).to.equal(1)
        const viaOption = await createBackend({namespace: 'team-a'}, {VAULT_ADDR: nsFake.url, VAULT_TOKEN: nsFake.token, HOME: home})
        expect((await viaOption.read(['app/A'])).size).to.equal(1)
        const without = await createBackend({}, {VAULT_ADDR: nsFake.url, VAULT_TOKEN: nsFake.token, HOME: home})
        expect((await failure(without.read(['app/A']))).code).to.equal('VAULT_NO_MOUNT')
      } finally {
        await nsFake.close()
      }
    })
  })

  describe('names', () => {
    it('refuses empty segments, . and .., leading or trailing /, control characters; accepts folders', async () => {
      // The rules live with the layout (checked at manifest load), one table for every platform.
      for (const bad of ['', 'a//b', '/a', 'a/', '../x', 'a/./b', 'a/..', 'line\nbreak', 'x'.repeat(769)]) expect(nameProblem('vault', bad), bad).to.be.a('string')
      for (const good of ['shop/production/JWT_SECRET', 'shop-production', 'a/b/c.d_e-f']) expect(nameProblem('vault', good), good).to.equal(undefined)
    })
  })

  describe('the fake keeps to the contract', () => {
    it('answers a body or an operation that breaks the contract the way Vault does, and records it', async () => {
      const headers = {'x-vault-token': fake.token, 'content-type': 'application/json'}
      const noData = await fetch(`${fake.url}/v1/secret/data/x`, {method: 'POST', headers, body: JSON.stringify({options: {cas: 0}})})
      expect(noData.status).to.equal(400)
      expect(((await noData.json()) as {errors: string[]}).errors).to.include('no data provided')
      const badType = await fetch(`${fake.url}/v1/secret/data/x`, {method: 'POST', headers, body: JSON.stringify({data: 'not a map'})})
      expect(badType.status).to.equal(400)
      const badMeta = await fetch(`${fake.url}/v1/secret/metadata/x`, {method: 'POST', headers, body: JSON.stringify({custom_metadata: {k: 'v'.repeat(513)}})})
      expect(badMeta.status).to.equal(400)
      const unknownOp = await fetch(`${fake.url}/v1/secret/data/x`, {method: 'PUT', headers, body: '{}'})
      expect(unknownOp.status).to.equal(405)
      const noList = await fetch(`${fake.url}/v1/secret/metadata/x/`, {headers})
      expect(noList.status).to.equal(400)
      const unknownMember = await fetch(`${fake.url}/v1/secret/data/x`, {method: 'POST', headers, body: JSON.stringify({data: {a: 'b'}, metadata: {}})})
      expect(unknownMember.status).to.equal(400)
      expect(fake.violations.map((v) => v.kind)).to.deep.equal(['request', 'request', 'request', 'unknown-operation', 'request', 'request'])
      expect(fake.violations[5]?.message).to.include('unknown member "metadata"')
      expect(fake.names()).to.deep.equal([])
      fake.violations.length = 0
    })

    it('checks its own answers against the operation\'s response schema', () => {
      const spec = vaultSpec()
      const op = spec.operations.find((o) => o.operationId === 'kv-v2-read-metadata')!
      expect(spec.checkResponse(op, {current_version: 3, custom_metadata: null, versions: {}})).to.deep.equal([])
      expect(spec.checkResponse(op, {current_version: '3', versions: []})).to.have.length(2)
    })

    it('serves the fixture copied unchanged from the shared contract', async () => {
      const hash = createHash('sha256').update(await readFile(SPEC_FILE)).digest('hex')
      expect(hash).to.equal('88cecf828db6787963f4b9e11b751dcbdc22b7193cac603e0f24505bb19f22c9')
    })
  })
})
