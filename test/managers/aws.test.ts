import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {expect} from 'chai'

import {nameProblem} from '../../src/targets/managers/layout.js'
import {arnOf, createBackend} from '../../src/targets/managers/aws.js'
import {markerTags, type SecretManagerBackend} from '../../src/targets/managers/backend.js'
import {type AwsFake, awsError, PAGINATORS, FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, startAws, throttling} from '../fakes/aws.js'
import {EnvChanges, failure} from './backend-support.js'
import {applyThenDrop, drop, latency, serverError, tooManyRequests} from '../fakes/faults.js'
import {assertNoLeak, canary} from '../helpers/canary.js'

/**
 * The AWS Secrets Manager backend: the real @aws-sdk/client-secrets-manager through createBackend
 * against the loopback fake, which checks each request against the published API model
 * (test/fixtures/aws-secretsmanager-2017-10-17.min.json) and verifies its SigV4 signature.
 */

const MARKER = {project: 'shop', environment: 'production'}
const PREFIX = 'shop/production/'
/** Short timeouts and backoffs (read when a backend is created). */
const FAST: Record<string, string> = {ENVSYNC_HTTP_TIMEOUT_MS: '1500', ENVSYNC_HTTP_BACKOFF_MS: '5'}
/** Variables of the SDK's own chain that must not leak in from the machine running the tests. */
const AWS_VARS = ['AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']

let fake: AwsFake
let home: string
const changes = new EnvChanges()

const setEnv = (vars: Record<string, string | undefined>) => changes.set(vars)

/** The backend as envsync opens it, pointed at the fake. */
function backend(env: Record<string, string | undefined> = {}, options = {}): Promise<SecretManagerBackend> {
  return createBackend({region: fake.region, ...options}, {...fake.env, ...env})
}


const ops = (operation: string) => fake.log.filter((l) => l.operation === operation).length

describe('AWS Secrets Manager backend (against the fake)', () => {
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'envsync-aws-home-'))
    // A machine's own AWS set-up must not reach the SDK's chain: empty HOME, no files, no IMDS.
    setEnv({...Object.fromEntries(AWS_VARS.map((k) => [k, undefined])), ...FAST, HOME: home, AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_CONFIG_FILE: join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true'})
  })

  after(async () => {
    changes.restore()
    await rm(home, {recursive: true, force: true})
  })

  beforeEach(async () => {
    fake = await startAws({pageSize: 2, batchPageSize: 20})
  })

  afterEach(async function () {
    const violations = fake.violations
    await fake.close()
    if (this.currentTest?.state !== 'failed') expect(violations, 'requests the API model rejects').to.deep.equal([])
  })

  describe('contract', () => {
    it('the fake rejects what the model rejects (so the violations check can fail)', async () => {
      const client = new SecretsManagerClient({region: fake.region, endpoint: fake.url, credentials: {accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: FAKE_SECRET_ACCESS_KEY}, maxAttempts: 1})
      // A name with a space breaks the documented pattern; the SDK sends it as it is.
      const error = await client.send(new CreateSecretCommand({Name: 'bad name', SecretString: 'x'})).then(
        () => expect.fail('accepted'),
        (e: {name: string; $metadata: {httpStatusCode: number}}) => e,
      )
      expect(error.name).to.equal('InvalidParameterException')
      expect(error.$metadata.httpStatusCode).to.equal(400)
      // An operation the model does not have, and an unknown member.
      const unknown = await fetch(fake.url, {method: 'POST', headers: {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.NoSuchOperation'}, body: '{}'})
      expect(unknown.status).to.equal(400)
      expect(((await unknown.json()) as {__type: string}).__type).to.equal('UnknownOperationException')
      client.destroy()
      expect(fake.violations.map((v) => v.operation)).to.deep.equal(['CreateSecret', 'NoSuchOperation'])
      expect(fake.violations[0]!.problem).to.match(/Name must match/)
      fake.violations.length = 0
    })

    it('answers an unsigned request as AWS does, and verifies the signature', async () => {
      const res = await fetch(fake.url, {method: 'POST', headers: {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets'}, body: '{}'})
      expect(res.status).to.equal(400)
      expect(((await res.json()) as {__type: string}).__type).to.equal('MissingAuthenticationTokenException')
      fake.violations.length = 0
      const b = await backend({AWS_SECRET_ACCESS_KEY: 'not-the-fake-secret-key-0123456789'})
      const e = await failure(b.list(PREFIX))
      expect(e.code).to.equal('AUTH_DENIED')
      expect(e.message).to.include('InvalidSignatureException')
      expect(e.suggestion).to.include('secretsmanager:').and.include('PutSecretValue')
    })
  })

  describe('list', () => {
    it('the operations the backend pages are paginated by NextToken in the published paginators', () => {
      for (const op of ['ListSecrets', 'BatchGetSecretValue']) expect(PAGINATORS[op], op).to.deep.equal({input_token: 'NextToken', output_token: 'NextToken', limit_key: 'MaxResults'})
    })

    it('follows NextToken over every page; names, ARNs and markers; deleted and outside names left out', async () => {
      for (let i = 0; i < 7; i++) fake.seed(`${PREFIX}key-${i}`, `v${i}`, i % 2 ? markerTags(MARKER) : {team: 'other'})
      fake.seed('shop/staging/key-0', 'x', markerTags({project: 'shop', environment: 'staging'}))
      fake.seed('shop/productionx', 'x')
      fake.seed(`${PREFIX}gone`, 'x', markerTags(MARKER))
      fake.markDeleted(`${PREFIX}gone`)
      const b = await backend()
      const listed = await b.list(PREFIX)
      expect(listed.map((s) => s.name)).to.deep.equal([0, 1, 2, 3, 4, 5, 6].map((i) => `${PREFIX}key-${i}`))
      expect(ops('ListSecrets'), '7 secrets in pages of 2').to.equal(4)
      for (const s of listed) {
        expect(arnOf(s)).to.match(new RegExp(`^arn:aws:secretsmanager:${fake.region}:\\d{12}:secret:${s.name}-[A-Za-z0-9]{6}$`))
        expect(arnOf(s)).to.equal(fake.secret(s.name)!.arn)
      }
      expect(listed.filter((s) => s.marker).map((s) => s.name)).to.deep.equal([1, 3, 5].map((i) => `${PREFIX}key-${i}`))
      expect(listed[1]!.marker).to.deep.equal(MARKER)
      expect(b.requests).to.equal(fake.requests)
    })
  })

  describe('write and read', () => {
    it('creates with the marker, then adds versions (history kept, AWSCURRENT/AWSPREVIOUS)', async () => {
      const b = await backend()
      const name = `${PREFIX}jwt-secret`
      await b.write(name, 'one', MARKER)
      await b.write(name, 'two', MARKER, {exists: true})
      await b.write(name, 'three', MARKER)
      expect(fake.tags(name)).to.deep.equal(markerTags(MARKER))
      const versions = fake.versions(name)
      expect(versions.map((v) => v.string)).to.deep.equal(['one', 'two', 'three'])
      expect(versions.map((v) => v.stages)).to.deep.equal([[], ['AWSPREVIOUS'], ['AWSCURRENT']])
      expect(ops('CreateSecret')).to.equal(1)
      expect(ops('PutSecretValue'), 'the first write tried an update first (no hint)').to.equal(3)
      expect((await b.read([name])).get(name)).to.equal('three')
    })

    it('hint.exists saves the failed first attempt either way, and a wrong hint still converges', async () => {
      const b = await backend()
      await b.write(`${PREFIX}a`, 'x', MARKER, {exists: false})
      expect(fake.operations()).to.deep.equal(['CreateSecret'])
      await b.write(`${PREFIX}a`, 'y', MARKER, {exists: true})
      expect(fake.operations()).to.deep.equal(['CreateSecret', 'PutSecretValue'])
      // A name created meanwhile by someone else: create fails, update follows.
      await b.write(`${PREFIX}a`, 'z', MARKER, {exists: false})
      expect(fake.operations().slice(2)).to.deep.equal(['CreateSecret', 'PutSecretValue'])
      expect(fake.versions(`${PREFIX}a`)).to.have.length(3)
      expect(b.requests).to.equal(fake.requests)
    })

    it('reads in batches of 20 (BatchGetSecretValue), missing and deleted names left out', async () => {
      const names = Array.from({length: 45}, (_, i) => `${PREFIX}k${i}`)
      names.forEach((n, i) => i % 3 !== 0 && fake.seed(n, `value ${i}`))
      fake.markDeleted(names[1]!)
      const b = await backend()
      const got = await b.read(names)
      expect(ops('BatchGetSecretValue')).to.equal(3)
      expect(fake.requests).to.equal(3)
      const expected = names.filter((_, i) => i % 3 !== 0 && i !== 1)
      expect([...got.keys()]).to.deep.equal(expected)
      expect(got.get(names[2]!)).to.equal('value 2')
    })

    it('a policy without BatchGetSecretValue: reads fall back to GetSecretValue per name', async () => {
      const names = Array.from({length: 25}, (_, i) => `${PREFIX}g${i}`)
      names.forEach((n, i) => i !== 3 && fake.seed(n, `v${i}`))
      fake.faults.always(awsError(400, 'AccessDeniedException', 'not authorized to perform: secretsmanager:BatchGetSecretValue'), {match: {operation: 'BatchGetSecretValue'}})
      const b = await backend()
      const got = await b.read(names)
      expect([...got.keys()]).to.deep.equal(names.filter((_, i) => i !== 3))
      expect(ops('GetSecretValue')).to.equal(25)
      expect(ops('BatchGetSecretValue'), 'asked once, then not again').to.be.at.most(2)
      expect(fake.log.filter((l) => l.operation === 'GetSecretValue' && l.error).length).to.equal(1)
    })

    it('follows NextToken inside a batch when the service pages it', async () => {
      await fake.close()
      fake = await startAws({batchPageSize: 3})
      const names = Array.from({length: 7}, (_, i) => `${PREFIX}p${i}`)
      for (const n of names) fake.seed(n, n.toUpperCase())
      const got = await (await backend()).read(names)
      expect(got.size).to.equal(7)
      expect(ops('BatchGetSecretValue')).to.equal(3)
    })

    it('awkward values round trip byte-exact', async () => {
      const values: Record<string, string> = {
        pem: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nabc+/=\n-----END PRIVATE KEY-----\n',
        unicode: 'naïve café 🔑🚀 e\u0301 (combining) 中文 \u200b',
        symbols: `a=b "quoted" 'single' $HOME \${X} \`tick\` \\back\\slash\r\ntrailing  `,
        json: '{"url":"redis://:p@h:6379/0","password":"p=\\"q\\""}',
        max: 'x'.repeat(65_536),
        maxMultibyte: '€'.repeat(21_845) + 'a',
      }
      const b = await backend()
      for (const [k, v] of Object.entries(values)) await b.write(PREFIX + k, v, MARKER, {exists: false})
      const back = await b.read(Object.keys(values).map((k) => PREFIX + k))
      for (const [k, v] of Object.entries(values)) {
        expect(fake.value(PREFIX + k), k).to.equal(v)
        expect(back.get(PREFIX + k) === v, `${k} read back byte-exact`).to.equal(true)
      }
    })

    it('refuses the empty value and a value over 65,536 bytes by name, before any request', async () => {
      const b = await backend()
      const empty = await failure(b.write(`${PREFIX}empty-key`, '', MARKER))
      expect(empty.code).to.equal('VALUE_REFUSED')
      expect(empty.message).to.match(/shop\/production\/empty-key.*empty/)
      const huge = canary('HUGE') + '€'.repeat(21_846)
      const big = await failure(b.write(`${PREFIX}huge-key`, huge, MARKER))
      expect(big.code).to.equal('VALUE_TOO_LARGE')
      expect(big.message).to.match(/shop\/production\/huge-key.*at most 65,536/)
      assertNoLeak([huge.slice(0, 30)], big.message, big.suggestion)
      expect(fake.requests).to.equal(0)
      expect(fake.names()).to.deep.equal([])
    })
  })

  describe('deleted names', () => {
    it('remove schedules deletion (absent = done); a write restores the name and adds a version', async () => {
      const b = await backend()
      const name = `${PREFIX}api-key`
      await b.write(name, 'first', MARKER, {exists: false})
      await b.remove(name)
      expect(fake.secret(name)!.deletedDate).to.be.instanceOf(Date)
      await b.remove(name) // already scheduled
      await b.remove(`${PREFIX}never-there`)
      expect(await b.list(PREFIX)).to.deep.equal([])
      expect((await b.read([name])).size).to.equal(0)
      // The list said it is absent: create first, told "scheduled for deletion", restore, update.
      await b.write(name, 'second', MARKER, {exists: false})
      expect(fake.operations().slice(-3)).to.deep.equal(['CreateSecret', 'RestoreSecret', 'PutSecretValue'])
      expect(fake.secret(name)!.deletedDate).to.equal(undefined)
      expect(fake.versions(name).map((v) => v.string)).to.deep.equal(['first', 'second'])
      expect(fake.value(name)).to.equal('second')
      // Update first (no hint) on a deleted name: restored the same way, once.
      await b.remove(name)
      await b.write(name, 'third', MARKER)
      expect(fake.operations().slice(-3)).to.deep.equal(['PutSecretValue', 'RestoreSecret', 'PutSecretValue'])
      expect(fake.value(name)).to.equal('third')
    })

    it('a restore that is refused ends in one clear error, not a loop', async () => {
      const b = await backend()
      fake.seed(`${PREFIX}locked`, 'x')
      fake.markDeleted(`${PREFIX}locked`)
      fake.faults.always(awsError(400, 'AccessDeniedException', 'not allowed: secretsmanager:RestoreSecret'), {match: {operation: 'RestoreSecret'}})
      const e = await failure(b.write(`${PREFIX}locked`, 'y', MARKER, {exists: false}))
      expect(e.code).to.equal('AUTH_DENIED')
      expect(e.message).to.include('restore shop/production/locked')
      expect(fake.requests).to.equal(2)
    })
  })

  describe('throttling, server errors, dropped connections, timeouts', () => {
    it('waits out ThrottlingException (HTTP 400, by its name) with backoff', async () => {
      fake.seed(`${PREFIX}a`, 'x')
      fake.faults.once(throttling(), {times: 3})
      const got = await (await backend()).read([`${PREFIX}a`])
      expect(got.get(`${PREFIX}a`)).to.equal('x')
      expect(fake.requests).to.equal(4)
    })

    it('honours Retry-After on a 429', async () => {
      fake.faults.once(tooManyRequests(1))
      const b = await backend()
      const started = Date.now()
      await b.list(PREFIX)
      expect(Date.now() - started).to.be.greaterThan(900)
      expect(fake.requests).to.equal(2)
    })

    it('gives up on endless throttling with a clear error after a bounded number of attempts', async () => {
      fake.faults.always(throttling())
      const b = await backend()
      const started = Date.now()
      const e = await failure(b.write(`${PREFIX}a`, 'v', MARKER))
      expect(e.code).to.equal('RATE_LIMITED')
      expect(e.message).to.match(/AWS Secrets Manager: cannot write shop\/production\/a: rate limited \(ThrottlingException\) after 5 attempts/)
      expect(fake.requests).to.equal(5)
      expect(Date.now() - started).to.be.lessThan(5000)
    })

    it('does not wait for a Retry-After beyond the longest wait', async () => {
      fake.faults.always(tooManyRequests(3600))
      const started = Date.now()
      const e = await failure((await backend()).list(PREFIX))
      expect(e.code).to.equal('RATE_LIMITED')
      expect(e.message).to.include('3600 s')
      expect(Date.now() - started).to.be.lessThan(2000)
    })

    it('retries 5xx answers and dropped connections', async () => {
      fake.seed(`${PREFIX}a`, 'x')
      fake.faults.once(serverError(500)).once(awsError(500, 'InternalServiceError', 'An error occurred')).once(serverError(503)).once(drop())
      const got = await (await backend()).read([`${PREFIX}a`])
      expect(got.get(`${PREFIX}a`)).to.equal('x')
      expect(fake.requests).to.equal(5)
    })

    it('a version write whose answer is lost is repeated with the same token: one version, not two', async () => {
      const b = await backend()
      const name = `${PREFIX}db-url`
      fake.faults.once(applyThenDrop(), {match: {operation: 'CreateSecret'}})
      await b.write(name, 'first', MARKER, {exists: false})
      fake.faults.once(applyThenDrop(), {match: {operation: 'PutSecretValue'}})
      await b.write(name, 'second', MARKER, {exists: true})
      expect(fake.versions(name).map((v) => v.string)).to.deep.equal(['first', 'second'])
      expect(fake.operations()).to.deep.equal(['CreateSecret', 'CreateSecret', 'PutSecretValue', 'PutSecretValue', 'PutSecretValue'])
    })

    it('an unresponsive server ends in a bounded time with a clear error', async () => {
      setEnv({ENVSYNC_HTTP_TIMEOUT_MS: '200'})
      try {
        fake.faults.always(latency(30_000))
        const b = await backend()
        const started = Date.now()
        const e = await failure(b.list(PREFIX))
        expect(e.code).to.equal('UNREACHABLE')
        expect(e.message).to.match(/cannot list secrets shop\/production\/: unreachable \(timed out\) after 5 attempts/)
        expect(Date.now() - started).to.be.lessThan(4000)
      } finally {
        setEnv({ENVSYNC_HTTP_TIMEOUT_MS: FAST.ENVSYNC_HTTP_TIMEOUT_MS})
      }
    })

    it('a server that is not there is reported as unreachable', async () => {
      const url = fake.url
      await fake.close()
      const e = await failure((await createBackend({region: 'eu-west-1'}, {...fake.env, AWS_ENDPOINT_URL_SECRETS_MANAGER: url})).list(PREFIX))
      expect(e.code).to.equal('UNREACHABLE')
      expect(e.message).to.include('ECONNREFUSED')
      fake = await startAws()
    })
  })

  describe('credentials, region, endpoint', () => {
    it('no credentials anywhere: an error naming what to set, nothing sent', async () => {
      const b = await backend({AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined})
      const e = await failure(b.list(PREFIX))
      expect(e.code).to.equal('AUTH_MISSING')
      expect(e.suggestion).to.include('AWS_ACCESS_KEY_ID').and.include('AWS_PROFILE')
      expect(fake.requests).to.equal(0)
      expect(b.requests).to.equal(0)
    })

    it('half a key pair names the missing half', async () => {
      const e = await failure(backend({AWS_SECRET_ACCESS_KEY: undefined}))
      expect(e.code).to.equal('AUTH_MISSING')
      expect(e.message).to.include('AWS_SECRET_ACCESS_KEY is not set')
    })

    it('no region: an error naming AWS_REGION', async () => {
      const e = await failure(createBackend({}, {...fake.env, AWS_REGION: undefined}).then((b) => b.list(PREFIX)))
      expect(e.code).to.equal('REGION_MISSING')
      expect(e.suggestion).to.include('AWS_REGION')
      expect(fake.requests).to.equal(0)
    })

    it('AWS_DEFAULT_REGION (the CLI\'s variable) and AWS_ENDPOINT_URL are honoured', async () => {
      const b = await createBackend({}, {...fake.env, AWS_REGION: undefined, AWS_DEFAULT_REGION: fake.region, AWS_ENDPOINT_URL_SECRETS_MANAGER: undefined, AWS_ENDPOINT_URL: fake.url})
      await b.list(PREFIX)
      expect(fake.requests).to.equal(1)
    })

    it('credentials from a named profile in a shared credentials file', async () => {
      await fake.close()
      fake = await startAws({keys: {AKIAPROFILEENVSYNC01: 'profileSecretKey/0123456789abcdefghijklmnopq'}})
      const credentials = join(home, 'credentials')
      await writeFile(credentials, '[envsync-test]\naws_access_key_id = AKIAPROFILEENVSYNC01\naws_secret_access_key = profileSecretKey/0123456789abcdefghijklmnopq\n')
      setEnv({AWS_SHARED_CREDENTIALS_FILE: credentials})
      try {
        const env = {AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined}
        // The manifest's profile, and AWS_PROFILE.
        await (await backend(env, {profile: 'envsync-test'})).write(`${PREFIX}a`, 'from profile', MARKER)
        await (await backend({...env, AWS_PROFILE: 'envsync-test'})).list(PREFIX)
        expect(fake.log.map((l) => l.accessKeyId)).to.deep.equal(['AKIAPROFILEENVSYNC01', 'AKIAPROFILEENVSYNC01', 'AKIAPROFILEENVSYNC01'])
        const e = await failure((await backend(env, {profile: 'no-such-profile'})).list(PREFIX))
        expect(e.code).to.equal('AUTH_MISSING')
      } finally {
        setEnv({AWS_SHARED_CREDENTIALS_FILE: join(home, 'none')})
      }
    })

    it('a credential_process that never answers (waiting for MFA) ends in a bounded time, not a hang', async () => {
      const config = join(home, 'config-hang')
      await writeFile(config, '[profile hang]\ncredential_process = sleep 5\n')
      setEnv({AWS_CONFIG_FILE: config, ENVSYNC_HTTP_TIMEOUT_MS: '300'})
      try {
        const started = Date.now()
        const e = await failure((await backend({AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined}, {profile: 'hang'})).list(PREFIX))
        expect(Date.now() - started, 'bounded by the timeout and retries, not by the process').to.be.below(4000)
        expect(e.message).to.match(/timed out/)
        expect(fake.requests).to.equal(0)
      } finally {
        setEnv({AWS_CONFIG_FILE: join(home, 'none'), ENVSYNC_HTTP_TIMEOUT_MS: FAST.ENVSYNC_HTTP_TIMEOUT_MS})
      }
    })

    it('a canary the server quotes in an error never reaches the message', async () => {
      const secret = canary('AWSLEAK')
      fake.quoteValueInErrors = true
      const b = await backend()
      const e = await failure(b.write(`${PREFIX}leaky`, secret, MARKER, {exists: false}))
      expect(e.message).to.include('InvalidParameterException')
      assertNoLeak([secret], e.message, e.suggestion, JSON.stringify(e.toJSON()))
    })
  })

  describe('names', () => {
    it('nameProblem follows the platform rules', async () => {
      expect(nameProblem('aws', 'shop/production/JWT_SECRET+x=y.z@w-v')).to.equal(undefined)
      expect(nameProblem('aws', 'a'.repeat(512))).to.equal(undefined)
      expect(nameProblem('aws', 'a'.repeat(513))).to.include('512')
      expect(nameProblem('aws', 'has space')).to.include('/_+=.@-')
      expect(nameProblem('aws', 'ünïcode')).to.include('letters, digits')
      expect(nameProblem('aws', '')).to.include('empty')
      expect(fake.requests).to.equal(0)
    })
  })
})
