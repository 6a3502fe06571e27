import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {nameProblem} from '../../src/targets/managers/layout.js'
import {markerTags, type SecretManagerBackend} from '../../src/targets/managers/backend.js'
import {createBackend, ENDPOINT_VARIABLE, MAX_VALUE_BYTES} from '../../src/targets/managers/gcp.js'
import {applyThenDrop, drop, latency, tooManyRequests} from '../fakes/faults.js'
import {EnvChanges, failure} from './backend-support.js'
import {type GcpFake, PROJECT_ID, PROJECT_NUMBER, startGcp, throttled, unavailable} from '../fakes/gcp.js'
import {assertNoLeak, canary} from '../helpers/canary.js'

/**
 * The Google Secret Manager backend: the real @google-cloud/secret-manager client (REST mode)
 * and google-auth-library's service-account credentials (a self-signed JWT per request) against
 * the loopback fake, which checks every request and answer against the published proto.
 */

const MARKER = {project: 'shop', environment: 'production'}
const changes = new EnvChanges()
let fake: GcpFake

const setEnv = (vars: Record<string, string | undefined>) => changes.set(vars)

const backend = (env: Record<string, string | undefined> = fake.env, project?: string): Promise<SecretManagerBackend> => createBackend(project ? {project} : {}, env)


const ops = (operation: string) => fake.log.filter((l) => l.operation === operation)

describe('Google Secret Manager backend (real client against the fake)', () => {
  before(() => {
    // The credential chain must find only what a test gives it.
    setEnv({GOOGLE_APPLICATION_CREDENTIALS: undefined, GOOGLE_CLOUD_PROJECT: undefined, GCLOUD_PROJECT: undefined, ENVSYNC_HTTP_TIMEOUT_MS: '2000', ENVSYNC_HTTP_BACKOFF_MS: '5'})
  })

  after(() => {
    changes.restore()
  })

  beforeEach(async () => {
    fake = await startGcp({pageSize: 3})
  })

  afterEach(async function () {
    // Every request the client sent and every answer the fake gave matched the proto.
    const violations = [...fake.violations]
    await fake.close()
    if (this.currentTest?.state === 'passed') expect(violations).to.deep.equal([])
  })

  describe('list', () => {
    it('follows pageToken across every page, ids out of project-number names, markers from labels', async () => {
      for (let i = 0; i < 8; i++) fake.seed(`shop-key-${i}`, [`value-${i}`], markerTags(MARKER))
      fake.seed('shop-unowned', ['x'], {owner: 'terraform'})
      fake.seed('shop-staging', ['x'], markerTags({project: 'shop', environment: 'staging'}))
      fake.seed('zzz-shop-later', ['x'], markerTags(MARKER)) // contains the prefix, does not start with it
      fake.seed('other', ['x'], markerTags(MARKER))
      const b = await backend()
      const listed = await b.list('shop-')
      expect(listed.map((s) => s.name).sort()).to.deep.equal([...Array.from({length: 8}, (_, i) => `shop-key-${i}`), 'shop-staging', 'shop-unowned'].sort())
      expect(listed.find((s) => s.name === 'shop-key-3')).to.deep.equal({name: 'shop-key-3', marker: MARKER, id: `projects/${PROJECT_NUMBER}/secrets/shop-key-3`})
      expect(listed.find((s) => s.name === 'shop-unowned')?.marker).to.equal(undefined)
      expect(listed.find((s) => s.name === 'shop-staging')?.marker).to.deep.equal({project: 'shop', environment: 'staging'})
      // 11 secrets hold "shop-" (the server filter), 3 a page: 4 pages; no value read.
      expect(ops('ListSecrets')).to.have.length(4)
      expect(ops('AccessSecretVersion')).to.have.length(0)
    })

    it('lists everything with an empty prefix', async () => {
      for (let i = 0; i < 7; i++) fake.seed(`k${i}`, ['v'])
      expect((await (await backend()).list('')).map((s) => s.name).sort()).to.deep.equal(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6'])
      expect(ops('ListSecrets')).to.have.length(3)
    })
  })

  describe('write and read', () => {
    it('creates with the marker, then adds versions (history kept)', async () => {
      const b = await backend()
      await b.write('db-url', 'one', MARKER, {exists: false})
      expect(fake.log.map((l) => l.operation)).to.deep.equal(['CreateSecret', 'AddSecretVersion'])
      await b.write('db-url', 'two', MARKER, {exists: true})
      await b.write('db-url', 'three', MARKER)
      expect(fake.versions('db-url')).to.deep.equal(['one', 'two', 'three'])
      expect(fake.secret('db-url')?.labels).to.deep.equal(markerTags(MARKER))
      // hint.exists: one request per new version; no hint: a create answered ALREADY_EXISTS first.
      expect(ops('AddSecretVersion')).to.have.length(3)
      expect(ops('CreateSecret').map((l) => l.status)).to.deep.equal([200, 409])
      expect(await b.read(['db-url'])).to.deep.equal(new Map([['db-url', 'three']]))
    })

    it("leaves another tool's secret and labels as they are when adding a version", async () => {
      fake.seed('legacy', ['old'], {owner: 'terraform'})
      const b = await backend()
      await b.write('legacy', 'new', MARKER)
      expect(fake.versions('legacy')).to.deep.equal(['old', 'new'])
      expect(fake.secret('legacy')?.labels).to.deep.equal({owner: 'terraform'})
    })

    it('round-trips awkward values byte-exact, the 64 KiB maximum included', async () => {
      const pem = `-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.repeat(3)}\nAbc+/=\n-----END PRIVATE KEY-----\n`
      const values: Record<string, string> = {
        pem,
        unicode: 'héllo wörld 🔐👩‍💻 e\u0301 ﬁ \u200b',
        shell: `a=b="c" 'd' $HOME \${X} \`id\` \\n %s`,
        crlf: 'line1\r\nline2\r\n',
        bom: '\ufeffstarts with a BOM',
        max: 'x'.repeat(MAX_VALUE_BYTES - 4) + '🔐', // 4-byte emoji: exactly 65,536 bytes
      }
      const b = await backend()
      for (const [name, value] of Object.entries(values)) await b.write(name, value, MARKER, {exists: false})
      const read = await b.read(Object.keys(values))
      for (const [name, value] of Object.entries(values)) {
        expect(read.get(name), name).to.equal(value)
        expect(fake.secret(name)?.versions[0]?.data.equals(Buffer.from(value, 'utf8')), name).to.equal(true)
      }
    })

    it('refuses an empty value (Secret Manager cannot store one) and one above 64 KiB, naming the secret, sending nothing', async () => {
      const b = await backend()
      const empty = await failure(b.write('EMPTY_ONE', '', MARKER))
      expect(empty.code).to.equal('EMPTY_VALUE')
      expect(empty.message).to.include('EMPTY_ONE')
      const big = await failure(b.write('BIG_ONE', 'é'.repeat(MAX_VALUE_BYTES / 2 + 1), MARKER))
      expect(big.code).to.equal('VALUE_TOO_LARGE')
      expect(big.message).to.include('BIG_ONE').and.include(`${MAX_VALUE_BYTES + 2} bytes`)
      expect(fake.requests).to.equal(0)
    })

    it('reads many names, at most 8 at once, and leaves missing and version-less ones out', async () => {
      for (let i = 0; i < 20; i++) fake.seed(`k${i}`, [`v${i}`])
      fake.seed('no-versions', [])
      fake.faults.always(latency(40), {match: {operation: 'AccessSecretVersion'}})
      let inFlight = 0
      let most = 0
      const b = await backend()
      const watch = setInterval(() => {
        inFlight = fake.log.filter((l) => l.status === 0).length
        most = Math.max(most, inFlight)
      }, 5)
      const names = [...Array.from({length: 20}, (_, i) => `k${i}`), 'missing', 'no-versions']
      const values = await b.read(names).finally(() => clearInterval(watch))
      expect(values.size).to.equal(20)
      expect(values.get('k7')).to.equal('v7')
      expect(values.has('missing')).to.equal(false)
      expect(values.has('no-versions')).to.equal(false)
      expect(ops('AccessSecretVersion')).to.have.length(22)
      expect(most).to.be.within(2, 8)
    })

    it('checks the CRC32C of what it reads', async () => {
      fake.seed('tampered', ['good value'])
      fake.secret('tampered')!.versions[0]!.data = Buffer.from('evil value')
      const error = await failure((await backend()).read(['tampered']))
      expect(error.code).to.equal('DATA_CORRUPT')
      expect(error.message).to.include('tampered')
    })
  })

  describe('deleted names', () => {
    it('removes (absent is done); the id is free at once and a later write creates it afresh with the marker', async () => {
      const b = await backend()
      await b.write('gone', 'v1', MARKER, {exists: false})
      await b.remove('gone')
      await b.remove('gone')
      expect(fake.secret('gone')).to.equal(undefined)
      expect(ops('DeleteSecret').map((l) => l.status)).to.deep.equal([200, 404])
      expect(await b.read(['gone'])).to.deep.equal(new Map())
      // A list made before the delete said "exists": the NOT_FOUND leads to one create, no loop.
      await b.write('gone', 'v2', MARKER, {exists: true})
      expect(fake.versions('gone')).to.deep.equal(['v2'])
      expect(fake.secret('gone')?.labels).to.deep.equal(markerTags(MARKER))
      expect(ops('AddSecretVersion').map((l) => l.status)).to.deep.equal([200, 404, 200])
    })

    it('treats a disabled or destroyed latest version as absent, and a write adds an enabled one (history kept)', async () => {
      fake.seed('rotated', ['old', 'revoked'], markerTags(MARKER))
      fake.setVersionState('rotated', 2, 'DISABLED')
      fake.seed('destroyed', ['x'], markerTags(MARKER))
      fake.setVersionState('destroyed', 1, 'DESTROYED')
      const b = await backend()
      expect(await b.read(['rotated', 'destroyed'])).to.deep.equal(new Map())
      await b.write('rotated', 'new', MARKER, {exists: true})
      expect(fake.versions('rotated')).to.deep.equal(['old', 'revoked', 'new'])
      expect(await b.read(['rotated'])).to.deep.equal(new Map([['rotated', 'new']]))
    })
  })

  describe('throttling, failures, time bounds', () => {
    it("waits out Secret Manager's RESOURCE_EXHAUSTED (RetryInfo) and a 429 with Retry-After", async () => {
      fake.seed('a', ['1'])
      fake.faults.once(throttled({retryDelaySeconds: 0.05}), {match: {operation: 'AccessSecretVersion'}})
      fake.faults.once(tooManyRequests(0), {match: {operation: 'AccessSecretVersion'}})
      fake.faults.once(throttled({retryAfter: 0}), {match: {operation: 'AddSecretVersion'}})
      const b = await backend()
      expect(await b.read(['a'])).to.deep.equal(new Map([['a', '1']]))
      await b.write('a', '2', MARKER, {exists: true})
      expect(fake.versions('a')).to.deep.equal(['1', '2'])
      expect(fake.faults.injected).to.have.length(3)
      expect(b.requests).to.equal(5)
    })

    it('gives up on endless throttling after a bounded number of attempts, with a clear error', async () => {
      fake.faults.always(throttled(), {match: {operation: 'AccessSecretVersion'}})
      const b = await backend()
      const error = await failure(b.read(['endless']))
      expect(error.code).to.equal('RATE_LIMITED')
      expect(error.message).to.include('endless').and.include('5 attempts').and.include('RESOURCE_EXHAUSTED')
      expect(ops('AccessSecretVersion')).to.have.length(5)
    })

    it('does not sleep through a Retry-After beyond the longest wait', async () => {
      fake.faults.always(throttled({retryAfter: 3600}))
      const started = Date.now()
      const error = await failure((await backend()).list(''))
      expect(error.code).to.equal('RATE_LIMITED')
      expect(error.message).to.include('3600 s')
      expect(Date.now() - started).to.be.below(2000)
    })

    it('retries 503 and dropped connections for reads, lists and deletes', async () => {
      fake.seed('a', ['1'])
      fake.seed('b', ['2'])
      fake.faults.once(unavailable(), {match: {operation: 'AccessSecretVersion'}})
      fake.faults.once(drop(), {match: {operation: 'ListSecrets'}})
      fake.faults.once(applyThenDrop(), {match: {operation: 'DeleteSecret'}})
      const b = await backend()
      expect(await b.read(['a'])).to.deep.equal(new Map([['a', '1']]))
      expect((await b.list('')).map((s) => s.name).sort()).to.deep.equal(['a', 'b'])
      await b.remove('b') // applied, answer lost; the repeat finds it gone: done
      expect(fake.secret('b')).to.equal(undefined)
    })

    it('a version write whose answer was lost is not stored twice: the value is read back first', async () => {
      fake.seed('once', ['old'])
      fake.faults.once(applyThenDrop(), {match: {operation: 'AddSecretVersion'}})
      const b = await backend()
      await b.write('once', 'new', MARKER, {exists: true})
      expect(fake.versions('once')).to.deep.equal(['old', 'new'])
      expect(fake.log.map((l) => l.operation)).to.deep.equal(['AddSecretVersion', 'AccessSecretVersion'])
    })

    it('a version write dropped before it arrived is sent again', async () => {
      fake.seed('again', ['old'])
      fake.faults.once(drop(), {match: {operation: 'AddSecretVersion'}})
      fake.faults.once(unavailable(), {match: {operation: 'AddSecretVersion'}})
      const b = await backend()
      await b.write('again', 'new', MARKER, {exists: true})
      expect(fake.versions('again')).to.deep.equal(['old', 'new'])
    })

    it('ends in a bounded time with a clear error when the server stops answering', async () => {
      setEnv({ENVSYNC_HTTP_TIMEOUT_MS: '200'})
      try {
        fake.faults.always(latency(60_000))
        const started = Date.now()
        const error = await failure((await backend()).read(['slow']))
        expect(error.code).to.equal('UNREACHABLE')
        expect(error.message).to.include('timed out').and.include('slow').and.include('5 attempts')
        expect(Date.now() - started).to.be.below(5000)
      } finally {
        setEnv({ENVSYNC_HTTP_TIMEOUT_MS: '2000'})
      }
    })

    it('never lets a value the server quotes in an error reach the error', async () => {
      const secret = canary()
      const body = JSON.stringify({error: {code: 400, message: `Invalid value at 'payload.data' (TYPE_BYTES), "${secret}"`, status: 'INVALID_ARGUMENT'}})
      fake.faults.once({kind: 'status', status: 400, body}, {match: {operation: 'AddSecretVersion'}})
      const error = await failure((await backend()).write('leaky', secret, MARKER, {exists: true}))
      expect(error.code).to.equal('PLATFORM_ERROR')
      expect(error.message).to.include('leaky').and.include('INVALID_ARGUMENT')
      assertNoLeak([secret], error.message, error.suggestion, JSON.stringify(error.toJSON()))
    })

    it('maps PERMISSION_DENIED to what to grant, naming the secret', async () => {
      const b = await backend(fake.env, 'someone-elses-project')
      const error = await failure(b.read(['db-url']))
      expect(error.code).to.equal('AUTH_DENIED')
      expect(error.message).to.include('db-url')
      expect(error.suggestion).to.include('roles/secretmanager')
    })
  })

  describe('credentials and configuration', () => {
    it('takes the project from the key file, or from GOOGLE_CLOUD_PROJECT / the option first', async () => {
      await (await backend()).write('k', 'v', MARKER, {exists: false})
      expect(fake.log[0]?.path).to.equal(`/v1/projects/${PROJECT_ID}/secrets`)
      const other = await backend({...fake.env, GOOGLE_CLOUD_PROJECT: PROJECT_NUMBER})
      await other.write('k', 'v2', MARKER, {exists: true})
      expect(fake.log.at(-1)?.path).to.equal(`/v1/projects/${PROJECT_NUMBER}/secrets/k:addVersion`)
    })

    it('names what is missing when no credential is found, in a bounded time', async () => {
      const home = mkdtempSync(join(tmpdir(), 'envsync-gcp-home-'))
      setEnv({HOME: home, METADATA_SERVER_DETECTION: 'none', CLOUDSDK_CONFIG: join(home, 'gcloud')})
      try {
        const b = await backend({[ENDPOINT_VARIABLE]: fake.url}, PROJECT_ID)
        const error = await failure(b.list(''))
        expect(error.code).to.equal('AUTH_MISSING')
        expect(error.suggestion).to.include('GOOGLE_APPLICATION_CREDENTIALS').and.include('gcloud auth application-default login')
        expect(fake.requests).to.equal(0)
      } finally {
        setEnv({HOME: changes.saved.HOME, METADATA_SERVER_DETECTION: changes.saved.METADATA_SERVER_DETECTION, CLOUDSDK_CONFIG: changes.saved.CLOUDSDK_CONFIG})
        rmSync(home, {recursive: true, force: true})
      }
    })

    it('says which file GOOGLE_APPLICATION_CREDENTIALS names when it cannot be used, never its content', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'envsync-gcp-key-'))
      try {
        const missing = await failure(backend({...fake.env, GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'nope.json')}))
        expect(missing.code).to.equal('AUTH_MISSING')
        expect(missing.message).to.include('GOOGLE_APPLICATION_CREDENTIALS').and.include('nope.json').and.include('ENOENT')
        const secret = canary()
        writeFileSync(join(dir, 'bad.json'), `{"private_key": "${secret}",`)
        const bad = await failure(backend({...fake.env, GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'bad.json')}))
        expect(bad.code).to.equal('BAD_CREDENTIAL')
        assertNoLeak([secret], bad.message, bad.suggestion)
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    })

    it('refuses a key the fake does not know: UNAUTHENTICATED is an auth failure, not a retry', async () => {
      const other = await startGcp()
      try {
        const b = await backend({...fake.env, GOOGLE_APPLICATION_CREDENTIALS: other.keyFile})
        const error = await failure(b.read(['x']))
        expect(error.code).to.equal('AUTH_FAILED')
        expect(fake.requests).to.equal(1)
      } finally {
        await other.close()
      }
    })

    it('loads the Google client only when a backend is created, not when the module is imported', async function () {
      this.timeout(30_000)
      const module = JSON.stringify(fileURLToPath(new URL('../../src/targets/managers/gcp.ts', import.meta.url)))
      // The client is CommonJS: what it loaded shows in require.cache.
      const loaded = (script: string) =>
        new Promise<string>((resolve, reject) =>
          execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${script}; const {createRequire} = await import('node:module'); console.log(Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('secret-manager')))`], {timeout: 25_000}, (error, out) => (error ? reject(error) : resolve(out.trim()))),
        )
      expect(await loaded(`await import(${module})`)).to.equal('false')
      expect(await loaded(`const {createBackend} = await import(${module}); await createBackend({project: 'p'}, {})`)).to.equal('true')
    })

    it("checks Secret Manager's secret id rule", async () => {
      expect(nameProblem('gcp', 'JWT_SECRET')).to.equal(undefined)
      expect(nameProblem('gcp', 'shop-production-db_url')).to.equal(undefined)
      expect(nameProblem('gcp', 'a'.repeat(255))).to.equal(undefined)
      expect(nameProblem('gcp', 'a'.repeat(256))).to.include('255')
      expect(nameProblem('gcp', '')).to.include('empty')
      expect(nameProblem('gcp', 'shop/db')).to.include('letters')
      expect(nameProblem('gcp', 'shop.db')).to.include('letters')
    })

    it('counts the requests it sends, as the server saw them', async () => {
      fake.seed('a', ['1'])
      fake.faults.once(unavailable(), {match: {operation: 'AccessSecretVersion'}})
      const b = await backend()
      await b.read(['a', 'b'])
      await b.write('c', 'v', MARKER)
      await b.list('')
      expect(b.requests).to.equal(fake.requests)
      expect(b.requests).to.equal(3 + 2 + 1)
    })
  })

  describe('the fake', () => {
    it('rejects requests that break the proto with 400 INVALID_ARGUMENT, and records them', async () => {
      const unknownField = await fake.raw('POST', `/v1/projects/${PROJECT_ID}/secrets?secretId=x`, {replication: {automatic: {}}, labelz: {a: 'b'}})
      expect(unknownField.status).to.equal(400)
      expect(unknownField.json).to.have.nested.property('error.status', 'INVALID_ARGUMENT')
      expect(JSON.stringify(unknownField.json)).to.include('Unknown name \\"labelz\\"')
      const wrongType = await fake.raw('POST', `/v1/projects/${PROJECT_ID}/secrets?secretId=y`, {replication: {automatic: {}}, labels: {a: 1}})
      expect(wrongType.status).to.equal(400)
      const missing = await fake.raw('POST', `/v1/projects/${PROJECT_ID}/secrets`, {replication: {automatic: {}}})
      expect(missing.status).to.equal(400)
      expect(JSON.stringify(missing.json)).to.include('secret_id')
      const badLabel = await fake.raw('POST', `/v1/projects/${PROJECT_ID}/secrets?secretId=z`, {replication: {automatic: {}}, labels: {Owner: 'x'}})
      expect(badLabel.status).to.equal(400)
      const badQuery = await fake.raw('GET', `/v1/projects/${PROJECT_ID}/secrets?pageSise=3`)
      expect(badQuery.status).to.equal(400)
      const noRoute = await fake.raw('GET', `/v1/projects/${PROJECT_ID}/sekrets`)
      expect(noRoute.status).to.equal(404)
      expect(fake.secrets.size).to.equal(0)
      expect(fake.violations).to.have.length.of.at.least(6)
      fake.violations.length = 0
    })

    it('rejects a request without a valid bearer with 401 UNAUTHENTICATED', async () => {
      const res = await fake.raw('GET', `/v1/projects/${PROJECT_ID}/secrets`, undefined, {authorization: 'Bearer not-a-jwt'})
      expect(res.status).to.equal(401)
      expect(res.json).to.have.nested.property('error.status', 'UNAUTHENTICATED')
    })
  })
})
