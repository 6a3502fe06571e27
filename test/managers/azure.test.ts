import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {EnvsyncError} from '../../src/errors.js'
import {nameProblem} from '../../src/targets/managers/layout.js'
import {markerTags, type SecretManagerBackend} from '../../src/targets/managers/backend.js'
import {createBackend, MAX_VALUE_BYTES, vaultUrlOf} from '../../src/targets/managers/azure.js'
import {type AzureFake, API_VERSION, IDENTITY_HEADER, IDENTITY_PATH, startAzure, throttled} from '../fakes/azure.js'
import {EnvChanges, failure} from './backend-support.js'
import {applyThenDrop, drop, latency, serverError, tooManyRequests} from '../fakes/faults.js'
import {assertNoLeak, canary} from '../helpers/canary.js'

/**
 * The Azure Key Vault backend: the real @azure/keyvault-secrets client and the real
 * DefaultAzureCredential chain (through its App Service managed identity source, the fake's
 * IDENTITY_ENDPOINT) against the loopback fake, which checks every request and answer against
 * the published swagger.
 *
 * One fake for the whole file: MSAL keeps the managed identity source it found first for the
 * life of the process (endpoint included), so a second fake's endpoint would never be asked.
 */

const MARKER = {project: 'shop', environment: 'production'}
const CREDENTIAL_VARIABLES = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_TOKEN_CREDENTIALS', 'AZURE_USERNAME', 'MSI_ENDPOINT', 'IDENTITY_SERVER_THUMBPRINT', 'IMDS_ENDPOINT']

let fake: AzureFake
const changes = new EnvChanges()

const setEnv = (vars: Record<string, string | undefined>) => changes.set(vars)

async function backend(): Promise<SecretManagerBackend> {
  return createBackend({vault: fake.url}, process.env)
}


const ops = (operation: string) => fake.log.filter((l) => l.operation === operation && l.authenticated)

describe('Azure Key Vault backend (real client against the fake)', () => {
  before(async () => {
    fake = await startAzure()
    setEnv({...Object.fromEntries(CREDENTIAL_VARIABLES.map((k) => [k, undefined])), ...fake.env, ENVSYNC_HTTP_TIMEOUT_MS: '2000', ENVSYNC_HTTP_BACKOFF_MS: '5'})
  })

  after(async () => {
    changes.restore()
    await fake.close()
  })

  beforeEach(() => fake.reset())

  afterEach(function () {
    // Every request the client sent and every answer the fake gave matched the contract.
    if (this.currentTest?.state === 'passed') expect(fake.violations).to.deep.equal([])
  })

  describe('list', () => {
    it('follows nextLink across every page and reads each marker from the tags, never a value', async () => {
      fake.options.pageSize = 4
      for (let i = 0; i < 10; i++) fake.put(`shop-key-${i}`, `value-${i}`, markerTags(MARKER))
      fake.put('shop-unowned', 'x', {owner: 'terraform'})
      fake.put('shop-other-env', 'x', markerTags({project: 'shop', environment: 'staging'}))
      fake.put('zzz-other', 'x', markerTags(MARKER))
      const b = await backend()
      const listed = await b.list('shop-')
      expect(listed.map((s) => s.name).sort()).to.deep.equal([...Array.from({length: 10}, (_, i) => `shop-key-${i}`), 'shop-other-env', 'shop-unowned'].sort())
      expect(listed.find((s) => s.name === 'shop-key-3')?.marker).to.deep.equal(MARKER)
      expect(listed.find((s) => s.name === 'shop-unowned')?.marker).to.equal(undefined)
      expect(listed.find((s) => s.name === 'shop-other-env')?.marker).to.deep.equal({project: 'shop', environment: 'staging'})
      // 13 secrets at 4 a page: 4 pages, each one GET (no value read).
      expect(ops('GetSecrets')).to.have.length(4)
      expect(ops('GetSecret')).to.have.length(0)
    })

    it('leaves deleted secrets out', async () => {
      fake.put('app-a', '1')
      fake.put('app-b', '2')
      fake.softDelete('app-b')
      expect((await (await backend()).list('app-')).map((s) => s.name)).to.deep.equal(['app-a'])
    })
  })

  describe('write', () => {
    it('creates with the marker, then adds versions (history kept, the marker on each)', async () => {
      const b = await backend()
      await b.write('db-url', 'one', MARKER, {exists: false})
      // A new secret costs one PUT (plus the client's first, token-less challenge request).
      expect(ops('SetSecret')).to.have.length(1)
      expect(ops('GetSecret')).to.have.length(0)
      await b.write('db-url', 'two', MARKER, {exists: true})
      await b.write('db-url', 'three', MARKER)
      expect(fake.versions('db-url')).to.deep.equal(['one', 'two', 'three'])
      expect(fake.tags('db-url')).to.deep.equal(markerTags(MARKER))
      expect(await b.read(['db-url'])).to.deep.equal(new Map([['db-url', 'three']]))
    })

    it("keeps another tool's tags on a new version (tags belong to versions in Key Vault)", async () => {
      fake.put('legacy', 'old', {owner: 'terraform'})
      const b = await backend()
      await b.list('')
      const before = fake.requests
      await b.write('legacy', 'new', MARKER, {exists: true})
      expect(fake.requests - before).to.equal(1) // the list told the tags: no GET first
      expect(fake.versions('legacy')).to.deep.equal(['old', 'new'])
      expect(fake.tags('legacy')).to.deep.equal({owner: 'terraform'})
      // A secret without tags stays without (the marker is not claimed on someone else's secret).
      fake.put('bare', 'old')
      await b.list('ba')
      await b.write('bare', 'new', MARKER, {exists: true})
      expect(fake.tags('bare')).to.deep.equal({})
      // Without a list first, the current version's tags are fetched, and kept.
      const fresh = await backend()
      await fresh.write('legacy', 'newer', MARKER)
      expect(fake.tags('legacy')).to.deep.equal({owner: 'terraform'})
    })

    it('round-trips awkward values byte-exact, the empty string and the 25 KiB maximum included', async () => {
      const pem = `-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.repeat(8).match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
      const values: Record<string, string> = {
        pem,
        unicode: 'Grüße, 東京 🚀👩‍👩‍👧 e\u0301 café\u0301',
        shell: `a=b==c "double" 'single' $HOME \${X} \`tick\` \\ back`,
        spaces: '  leading and trailing  \n\n',
        crlf: 'line1\r\nline2\r\n',
        empty: '',
        max: 'é'.repeat(MAX_VALUE_BYTES / 2),
      }
      const b = await backend()
      for (const [name, value] of Object.entries(values)) await b.write(name, value, MARKER)
      for (const [name, value] of Object.entries(values)) expect(fake.value(name), name).to.equal(value)
      const read = await (await backend()).read(Object.keys(values))
      for (const [name, value] of Object.entries(values)) expect(read.get(name), name).to.equal(value)
    })

    it('refuses a value above 25 KiB before sending it, naming the secret', async () => {
      const b = await backend()
      const before = fake.requests
      const error = await failure(b.write('huge-blob', 'x'.repeat(MAX_VALUE_BYTES + 1), MARKER))
      expect(error.code).to.equal('VALUE_TOO_LARGE')
      expect(error.message).to.contain('huge-blob').and.contain(String(MAX_VALUE_BYTES))
      expect(fake.requests).to.equal(before)
    })
  })

  describe('read', () => {
    it('reads many names with bounded concurrency and leaves missing ones out', async () => {
      const names = Array.from({length: 30}, (_, i) => `k-${i}`)
      for (const n of names.slice(0, 25)) fake.put(n, `v:${n}`)
      fake.faults.always(latency(30), {match: {operation: 'GetSecret'}})
      const values = await (await backend()).read(names)
      expect(values.size).to.equal(25)
      expect(values.get('k-7')).to.equal('v:k-7')
      expect(values.has('k-27')).to.equal(false)
      expect(fake.maxInFlight).to.be.within(2, 8)
    })
  })

  describe('throttling and failures', () => {
    it("waits out Key Vault's 429 Throttled with Retry-After, and a bare 429", async () => {
      const b = await backend()
      fake.faults.once(throttled(0), {match: {operation: 'SetSecret'}, times: 2})
      fake.faults.once(tooManyRequests(0), {match: {operation: 'SetSecret'}})
      await b.write('rate', 'v', MARKER, {exists: false})
      expect(fake.value('rate')).to.equal('v')
      expect(fake.faults.injected).to.have.length(3)
      fake.faults.once({kind: 'status', status: 429, body: '{"error":{"code":"Throttled","message":"slow down"}}'}, {match: {operation: 'GetSecret'}})
      expect((await b.read(['rate'])).get('rate')).to.equal('v')
    })

    it('gives up on endless throttling after a bounded number of attempts, with a clear error', async () => {
      const b = await backend()
      await b.read(['warm-up']) // the challenge and the token
      fake.faults.always(throttled(0))
      const start = Date.now()
      const error = await failure(b.read(['busy']))
      expect(error.code).to.equal('RATE_LIMITED')
      expect(error.message).to.contain('busy')
      expect(ops('GetSecret').filter((l) => l.path === '/secrets/busy/')).to.have.length(5) // 1 + 4 retries
      expect(Date.now() - start).to.be.below(5000)
    })

    it('does not sleep through a Retry-After beyond the longest wait', async () => {
      const b = await backend()
      await b.read(['warm-up'])
      fake.faults.always(throttled(3600))
      const start = Date.now()
      const error = await failure(b.write('later', 'v', MARKER, {exists: false}))
      expect(error.code).to.equal('RATE_LIMITED')
      expect(error.message).to.contain('3600 s')
      expect(Date.now() - start).to.be.below(2000)
    })

    it('retries 5xx answers and dropped connections', async () => {
      fake.put('flaky', 'ok')
      const b = await backend()
      fake.faults.once(serverError(503), {match: {operation: 'GetSecret'}})
      fake.faults.once(serverError(500), {match: {operation: 'GetSecret'}})
      fake.faults.once(drop(), {match: {operation: 'GetSecret'}})
      expect((await b.read(['flaky'])).get('flaky')).to.equal('ok')
      expect(fake.faults.injected).to.have.length(3)
      fake.faults.once(drop(), {match: {operation: 'GetSecrets'}})
      expect((await b.list('fla')).map((s) => s.name)).to.deep.equal(['flaky'])
    })

    it('a PUT whose answer was lost is sent again: the value lands (Key Vault has no idempotency token, so a second identical version may too)', async () => {
      const b = await backend()
      fake.faults.once(applyThenDrop(), {match: {operation: 'SetSecret'}})
      await b.write('lost-answer', 'v1', MARKER, {exists: false})
      expect(fake.value('lost-answer')).to.equal('v1')
      expect(fake.versions('lost-answer')).to.deep.equal(['v1', 'v1'])
    })

    it('ends in a bounded time with a clear error when the server stops answering', async () => {
      setEnv({ENVSYNC_HTTP_TIMEOUT_MS: '200'})
      try {
        const b = await backend()
        await b.read(['warm-up'])
        fake.faults.always(latency(30_000))
        const start = Date.now()
        const error = await failure(b.read(['slow']))
        expect(error.code).to.equal('UNREACHABLE')
        expect(error.message).to.contain('slow').and.contain('timed out')
        expect(Date.now() - start).to.be.below(5 * 200 + 2000)
      } finally {
        setEnv({ENVSYNC_HTTP_TIMEOUT_MS: '2000'})
      }
    })

    it('maps a 403 to what to grant, naming the secret', async () => {
      const b = await backend()
      fake.faults.once({kind: 'status', status: 403, body: JSON.stringify({error: {code: 'Forbidden', message: 'Caller is not authorized to perform action on resource.', innererror: {code: 'ForbiddenByRbac'}}})})
      const error = await failure(b.read(['locked']))
      expect(error.code).to.equal('AUTH_DENIED')
      expect(error.message).to.contain('locked')
      expect(error.suggestion).to.contain('Key Vault Secrets Officer')
    })

    it('says a disabled secret is disabled, not that access is denied', async () => {
      fake.put('paused', 'v')
      fake.disable('paused')
      const error = await failure((await backend()).read(['paused']))
      expect(error.code).to.equal('SECRET_DISABLED')
      expect(error.suggestion).to.contain('--name paused --enabled true')
    })

    it('never lets a value the server quotes in an error reach the error', async () => {
      const secret = canary()
      const b = await backend()
      fake.faults.once({kind: 'status', status: 400, body: JSON.stringify({error: {code: 'BadParameter', message: `Property value has invalid value ${secret}`}})}, {match: {operation: 'SetSecret'}})
      const error = await failure(b.write('leaky', secret, MARKER, {exists: false}))
      expect(error.message).to.contain('leaky').and.contain('BadParameter')
      assertNoLeak([secret], error.message, error.suggestion, JSON.stringify(error), String(error.stack))
    })
  })

  describe('delete and soft delete', () => {
    it('removes (soft delete; absent is done), and a later write recovers the name with its history', async () => {
      const b = await backend()
      await b.write('session-key', 'v1', MARKER, {exists: false})
      await b.remove('session-key')
      await b.remove('never-there')
      expect(fake.isDeleted('session-key')).to.equal(true)
      expect(await b.read(['session-key'])).to.deep.equal(new Map())
      await b.write('session-key', 'v2', MARKER, {exists: false})
      expect(fake.isDeleted('session-key')).to.equal(false)
      expect(fake.versions('session-key')).to.deep.equal(['v1', 'v2'])
      expect(fake.tags('session-key')).to.deep.equal(markerTags(MARKER))
      expect(ops('RecoverDeletedSecret')).to.have.length(1)
    })

    it('waits for a recovery to show, a bounded number of polls', async () => {
      fake.put('slow-recover', 'v1')
      fake.softDelete('slow-recover')
      fake.options.recoveryLag = 3
      const b = await backend()
      await b.write('slow-recover', 'v2', MARKER, {exists: false})
      expect(fake.value('slow-recover')).to.equal('v2')
      fake.put('stuck', 'v1')
      fake.softDelete('stuck')
      fake.options.recoveryLag = 1000
      const error = await failure(b.write('stuck', 'v2', MARKER, {exists: false}))
      expect(error.code).to.equal('RECOVERY_PENDING')
      expect(error.message).to.contain('stuck')
    })

    it('says to purge or recover when this identity may not recover, after one attempt (no loop)', async () => {
      fake.put('gone', 'old')
      fake.softDelete('gone')
      fake.options.canRecover = false
      const error = await failure((await backend()).write('gone', 'new', MARKER, {exists: false}))
      expect(error.code).to.equal('DELETED_SECRET')
      expect(error.message).to.contain('gone')
      expect(error.suggestion).to.contain('az keyvault secret purge').and.contain('az keyvault secret recover').and.contain('--name gone')
      expect(ops('SetSecret')).to.have.length(1)
      expect(ops('RecoverDeletedSecret')).to.have.length(1)
    })
  })

  describe('names, vault and credentials', () => {
    it("checks Key Vault's name rule", async () => {
      expect(nameProblem('azure', 'jwt-secret-2')).to.equal(undefined)
      expect(nameProblem('azure', 'JWT_SECRET')).to.contain('letters, digits and hyphens')
      expect(nameProblem('azure', 'a/b')).to.contain('letters, digits and hyphens')
      expect(nameProblem('azure', 'x'.repeat(127))).to.equal(undefined)
      expect(nameProblem('azure', 'x'.repeat(128))).to.contain('127')
      expect(nameProblem('azure', '')).to.contain('empty')
    })

    it('takes a vault name or an https URL; plain http only on loopback', () => {
      expect(vaultUrlOf('shop-prod-kv').vaultUrl).to.equal('https://shop-prod-kv.vault.azure.net')
      expect(vaultUrlOf('https://shop.vault.azure.cn/')).to.deep.equal({vaultUrl: 'https://shop.vault.azure.cn', insecure: false})
      expect(vaultUrlOf('http://127.0.0.1:8443')).to.deep.equal({vaultUrl: 'http://127.0.0.1:8443', insecure: true})
      expect(() => vaultUrlOf('http://shop.vault.azure.net')).to.throw(EnvsyncError, /not an https URL/)
      expect(() => vaultUrlOf('bad_name')).to.throw(EnvsyncError, /not a vault name/)
      expect(() => vaultUrlOf(undefined)).to.throw(EnvsyncError, /no vault/)
    })

    it('counts the requests it sends, as the server saw them', async () => {
      fake.put('c-1', '1')
      const b = await backend()
      await b.list('c-')
      await b.read(['c-1', 'c-2'])
      await b.write('c-1', '2', MARKER, {exists: true})
      expect(b.requests).to.equal(fake.requests)
      expect(b.requests).to.equal(5) // challenge, list, 2 reads, 1 write
    })

    it('names what is missing when no credential is found, in a bounded time', async function () {
      this.timeout(30_000)
      const env: Record<string, string> = {PATH: process.env.PATH ?? '', HOME: '/nonexistent', ENVSYNC_HTTP_TIMEOUT_MS: '3000'}
      const script = `
        const {createBackend} = await import(${JSON.stringify(fileURLToPath(new URL('../../src/targets/managers/azure.ts', import.meta.url)))})
        const b = await createBackend({vault: ${JSON.stringify(fake.url)}}, process.env)
        try { await b.read(['anything']); console.log(JSON.stringify({ok: true})) }
        catch (e) { console.log(JSON.stringify({name: e.name, code: e.code, message: e.message, suggestion: e.suggestion})) }
      `
      const start = Date.now()
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {env, timeout: 25_000}, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      )
      const result = JSON.parse(out.trim().split('\n').at(-1)!)
      expect(result.code).to.equal('AUTH_MISSING')
      expect(result.message).to.contain('anything').and.contain('no Azure credential')
      expect(result.suggestion).to.contain('AZURE_CLIENT_SECRET').and.contain('az login')
      expect(Date.now() - start).to.be.below(20_000)
    })
  })

  describe('start-up cost', () => {
    it('loads the Azure SDK only when a backend is created, not when the module is imported', async function () {
      this.timeout(30_000)
      const module = JSON.stringify(fileURLToPath(new URL('../../src/targets/managers/azure.ts', import.meta.url)))
      const loads = (script: string) =>
        new Promise<string>((resolve, reject) =>
          execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {env: {...process.env, NODE_DEBUG: 'esm'}, timeout: 25_000, maxBuffer: 256 * 1024 * 1024}, (error, _out, stderr) => (error ? reject(error) : resolve(stderr))),
        )
      expect(await loads(`await import(${module})`)).not.to.match(/@azure[\\/]keyvault-secrets|@azure[\\/]identity/)
      expect(await loads(`const {createBackend} = await import(${module}); await createBackend({vault: 'shop-kv'}, {})`)).to.match(/@azure[\\/]keyvault-secrets/)
    })
  })

  describe('the fake', () => {
    async function token(): Promise<string> {
      const res = await fetch(`${fake.url}${IDENTITY_PATH}?api-version=2019-08-01&resource=${encodeURIComponent('https://vault.azure.net')}`, {headers: {'x-identity-header': IDENTITY_HEADER}})
      return ((await res.json()) as {access_token: string}).access_token
    }

    it('rejects requests that break the contract with 400 BadParameter, and records them', async () => {
      const auth = {authorization: `Bearer ${await token()}`, 'content-type': 'application/json'}
      const put = (path: string, body: unknown) => fetch(`${fake.url}${path}`, {method: 'PUT', headers: auth, body: JSON.stringify(body)})
      const cases = [
        await put(`/secrets/bad_name?api-version=${API_VERSION}`, {value: 'x'}),
        await put(`/secrets/good?api-version=${API_VERSION}`, {valu: 'x'}),
        await put(`/secrets/good?api-version=${API_VERSION}`, {value: 'x', tags: {n: 1}}),
        await put('/secrets/good', {value: 'x'}),
        await put(`/secrets/good?api-version=7.0`, {value: 'x'}),
        await fetch(`${fake.url}/secrets?api-version=${API_VERSION}&maxresults=26`, {headers: auth}),
        await fetch(`${fake.url}/secrets?api-version=${API_VERSION}&$skiptoken=forged`, {headers: auth}),
        await fetch(`${fake.url}/secrets?api-version=${API_VERSION}`, {method: 'PATCH', headers: auth}),
      ]
      for (const res of cases) {
        expect(res.status).to.equal(400)
        expect(((await res.json()) as {error: {code: string}}).error.code).to.equal('BadParameter')
      }
      expect(fake.violations).to.have.length(cases.length)
      expect(fake.names()).to.deep.equal([])
      // A bare request gets the Bearer challenge the client needs, and a made-up token a 401.
      const bare = await fetch(`${fake.url}/secrets?api-version=${API_VERSION}`)
      expect(bare.status).to.equal(401)
      expect(bare.headers.get('www-authenticate')).to.match(/^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/vault\.azure\.net"$/)
      const forged = await fetch(`${fake.url}/secrets?api-version=${API_VERSION}`, {headers: {authorization: 'Bearer made-up'}})
      expect(forged.status).to.equal(401)
      fake.violations.length = 0
    })
  })
})
