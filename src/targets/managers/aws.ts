import {randomUUID} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'

import type {BatchGetSecretValueCommandOutput, GetSecretValueCommandOutput, ListSecretsCommandOutput, ListSecretVersionIdsCommandOutput, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {EnvsyncError} from '../../errors.js'
import {mapLimit} from '../../pool.js'
import {registerSecret} from '../../redact.js'
import {plural} from '../../words.js'
import {backoff, credentialFrom, endpointFrom, retrySettings} from '../http.js'
import {type CreateBackend, knownDates, type Marker, markerOf, markerTags, type RemoteSecret, type SecretManagerBackend} from './backend.js'

/**
 * AWS Secrets Manager through the official v3 client. The client's own retries are off: one loop
 * here decides what is repeated (every request is: reads by nature, CreateSecret/PutSecretValue
 * because they carry a ClientRequestToken, so a repeat cannot make a second version), waits out
 * throttling with the Retry-After the server sends, and bounds each attempt in time.
 */

const SERVICE = 'AWS Secrets Manager'
/** SecretString limit (the quota says 64 KB; counted in UTF-8 bytes, the stricter reading). */
export const MAX_VALUE_BYTES = 65_536
/** BatchGetSecretValue takes at most 20 names; ListSecrets pages hold at most 100. */
const BATCH = 20
const PAGE = 100
const CONCURRENCY = 8
const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'Throttling'])
const AUTH_DENIED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'SignatureDoesNotMatch', 'ExpiredTokenException', 'InvalidClientTokenId', 'IncompleteSignature'])
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET'])
const CREDENTIALS_HINT = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or AWS_PROFILE / the manifest\'s profile (run `aws configure` or `aws sso login`)'

/** The ARN of a listed secret (ECS valueFrom). */
export function arnOf(secret: RemoteSecret): string | undefined {
  return secret.id
}

/** The error a failed SDK call carries, as far as envsync reads it. */
interface SdkError {
  name?: string
  message?: string
  code?: string
  $metadata?: {httpStatusCode?: number}
  $response?: {headers?: Record<string, string>}
  cause?: {code?: string}
}

export const createBackend: CreateBackend = async (options, env) => {
  // The SDK warns on Node 20 about its releases of 2027; envsync pins the client, the warning
  // would only clutter every command's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const sdk = await import('@aws-sdk/client-secrets-manager')
  const settings = retrySettings()
  // AWS_DEFAULT_REGION is the AWS CLI's name; the SDK reads only AWS_REGION and the profile.
  const region = options.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ? endpointFrom(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER', '') : env.AWS_ENDPOINT_URL ? endpointFrom(env, 'AWS_ENDPOINT_URL', '') : undefined
  const profile = options.profile || env.AWS_PROFILE || undefined
  // A profile (the manifest's, else AWS_PROFILE) wins over keys in the variables, as in the SDK's
  // own chain; with neither, the rest of that chain (SSO, web identity, container and instance
  // roles) is tried.
  const accessKeyId = profile ? undefined : credentialFrom(env, 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = profile ? undefined : credentialFrom(env, 'AWS_SECRET_ACCESS_KEY')
  const sessionToken = profile ? undefined : credentialFrom(env, 'AWS_SESSION_TOKEN')
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new EnvsyncError(`${accessKeyId ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not set (${accessKeyId ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is)`, {
      code: 'AUTH_MISSING',
      exitCode: 1,
      suggestion: 'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither to use a profile',
    })
  }
  const client: SecretsManagerClient = new sdk.SecretsManagerClient({
    region,
    endpoint,
    profile,
    credentials: accessKeyId && secretAccessKey ? {accessKeyId, secretAccessKey, sessionToken} : undefined,
    // Retries are ours (see above): one attempt per send.
    maxAttempts: 1,
    requestHandler: {connectionTimeout: settings.timeoutMs, requestTimeout: settings.timeoutMs},
  })
  const backend = new AwsBackend(client, sdk, settings)
  // Counted where the request leaves, after signing: a call refused for want of credentials sent nothing.
  // Credentials from a profile, SSO, web identity or the instance role were never in a variable:
  // the session token and signature they put on the request are made known to redaction here.
  client.middlewareStack.add(
    (next) => async (args) => {
      backend.requests++
      const headers = (args.request as {headers?: Record<string, string>}).headers ?? {}
      registerSecret(headers['x-amz-security-token'])
      registerSecret(/Signature=([0-9a-f]+)/.exec(headers.authorization ?? '')?.[1])
      return next(args)
    },
    {step: 'deserialize', priority: 'low', name: 'envsyncRequestCount'},
  )
  return backend
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager')

class AwsBackend implements SecretManagerBackend {
  readonly kind = 'aws' as const
  readonly service = SERVICE
  readonly structured = false
  requests = 0
  /** BatchGetSecretValue was refused once: later reads go name by name straight away. */
  private batchDenied = false
  /** The current version of each secret read: its id and when it was written. */
  private readonly current = new Map<string, {id?: string; created?: Date}>()

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly sdk: Sdk,
    private readonly settings: ReturnType<typeof retrySettings>,
  ) {}


  async list(prefix: string): Promise<RemoteSecret[]> {
    const out: RemoteSecret[] = []
    let NextToken: string | undefined
    const seen = new Set<string>()
    do {
      // The name filter matches a prefix; an empty prefix is no filter (the API refuses an empty value).
      const page = await this.call<ListSecretsCommandOutput>('list secrets', prefix || '(all)', () =>
        new this.sdk.ListSecretsCommand({MaxResults: PAGE, NextToken, ...(prefix ? {Filters: [{Key: 'name', Values: [prefix]}]} : {})}),
      )
      for (const s of page.SecretList ?? []) {
        if (!s.Name || !s.Name.startsWith(prefix) || s.DeletedDate) continue
        out.push({name: s.Name, id: s.ARN, marker: markerOf(Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])))})
      }
      NextToken = nextToken(page.NextToken, seen, 'list secrets')
    } while (NextToken)
    return out
  }

  async read(names: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(names)]
    const chunks: string[][] = []
    for (let i = 0; i < unique.length; i += BATCH) chunks.push(unique.slice(i, i + BATCH))
    const values = new Map<string, string>()
    const oneByOne: string[] = []
    await mapLimit(chunks, CONCURRENCY, async (chunk) => {
      if (!this.batchDenied) {
        try {
          return await this.readBatch(chunk, values)
        } catch (error) {
          // A policy may grant GetSecretValue without BatchGetSecretValue: one request per name then.
          if ((error as {sdk?: SdkError}).sdk?.name !== 'AccessDeniedException') throw error
          this.batchDenied = true
        }
      }
      oneByOne.push(...chunk)
    })
    await mapLimit(oneByOne, CONCURRENCY, async (name) => {
      try {
        const v = await this.call<GetSecretValueCommandOutput>('read', name, () => new this.sdk.GetSecretValueCommand({SecretId: name}))
        if (v.SecretString === undefined) return
        registerSecret(v.SecretString)
        values.set(name, v.SecretString)
        this.current.set(name, {id: v.VersionId, created: v.CreatedDate})
      } catch (error) {
        const e = (error as {sdk?: SdkError}).sdk
        if (e?.name === 'ResourceNotFoundException' || (e?.name === 'InvalidRequestException' && isDeleted(e.message))) return
        throw error
      }
    })
    // Results in the order asked (a batch answers in its own order).
    return new Map(unique.filter((n) => values.has(n)).map((n) => [n, values.get(n)!]))
  }

  /** One BatchGetSecretValue of up to 20 names, every page of it. */
  private async readBatch(chunk: string[], values: Map<string, string>): Promise<void> {
    let NextToken: string | undefined
    const seen = new Set<string>()
    do {
      const page = await this.call<BatchGetSecretValueCommandOutput>('read secrets', chunk.length === 1 ? chunk[0]! : `${chunk[0]} and ${plural(chunk.length - 1, 'other')}`, () =>
        new this.sdk.BatchGetSecretValueCommand({SecretIdList: chunk, NextToken}),
      )
      for (const v of page.SecretValues ?? []) {
        if (v.Name === undefined || v.SecretString === undefined) continue
        registerSecret(v.SecretString)
        values.set(v.Name, v.SecretString)
        this.current.set(v.Name, {id: v.VersionId, created: v.CreatedDate})
      }
      for (const e of page.Errors ?? []) {
        // Absent, or scheduled for deletion: not there, as the interface says.
        if (e.ErrorCode === 'ResourceNotFoundException' || (e.ErrorCode === 'InvalidRequestException' && isDeleted(e.Message))) continue
        throw this.fail('read', e.SecretId ?? chunk[0]!, {name: e.ErrorCode, message: e.Message})
      }
      NextToken = nextToken(page.NextToken, seen, 'read secrets')
    } while (NextToken)
  }

  /** The value's own CreatedDate, sent with it by the read: no request. */
  async dates(names: string[]): Promise<Map<string, Date>> {
    return knownDates(names, (name) => this.current.get(name)?.created)
  }

  /**
   * AWSPREVIOUS first (the version the last write replaced: one request); further back, the
   * versions listed older than it (ListSecretVersionIds, newest first), never one newer: a
   * rotation Lambda's AWSPENDING version is newer than AWSCURRENT and no previous value.
   */
  async *older(name: string, limit: number): AsyncGenerator<string> {
    if (limit < 1) return
    const previous = await this.version(name, {VersionStage: 'AWSPREVIOUS'})
    if (previous?.text === undefined) return
    yield previous.text
    if (limit < 2) return
    const ids = await this.versionIds(name)
    const at = ids.indexOf(previous.id!)
    // Not listed: where the older ones start is not known, so none is taken.
    if (at < 0) return
    for (const id of ids.slice(at + 1, at + limit)) {
      const v = await this.version(name, {VersionId: id})
      if (v?.text === undefined) return
      yield v.text
    }
  }

  /** One version by stage or id; undefined when there is none (text undefined: a binary one). */
  private async version(name: string, which: {VersionStage?: string; VersionId?: string}): Promise<{id?: string; text?: string} | undefined> {
    try {
      const v = await this.call<GetSecretValueCommandOutput>('read an older version of', name, () => new this.sdk.GetSecretValueCommand({SecretId: name, ...which}))
      registerSecret(v.SecretString)
      return {id: v.VersionId, text: v.SecretString}
    } catch (error) {
      if ((error as {sdk?: SdkError}).sdk?.name === 'ResourceNotFoundException') return undefined
      throw error
    }
  }

  /** Every version id of a secret, deprecated ones included, newest first; AWSCURRENT's and AWSPENDING's (a same-second tie) are left out. */
  private async versionIds(name: string): Promise<string[]> {
    const versions: {id: string; created: number}[] = []
    let NextToken: string | undefined
    const seen = new Set<string>()
    do {
      const page = await this.call<ListSecretVersionIdsCommandOutput>('list the versions of', name, () => new this.sdk.ListSecretVersionIdsCommand({SecretId: name, IncludeDeprecated: true, MaxResults: PAGE, NextToken}))
      for (const v of page.Versions ?? []) {
        if (v.VersionId && !v.VersionStages?.some((stage) => stage === 'AWSCURRENT' || stage === 'AWSPENDING')) versions.push({id: v.VersionId, created: v.CreatedDate?.getTime() ?? 0})
      }
      NextToken = nextToken(page.NextToken, seen, 'list versions')
    } while (NextToken)
    return versions.sort((a, b) => b.created - a.created).map((v) => v.id)
  }

  async write(name: string, value: string, marker: Marker, hint: {exists?: boolean} = {}): Promise<void> {
    registerSecret(value)
    this.checkValue(name, value)
    // One token for every attempt of this write: AWS makes one version of it however often it arrives.
    const token = randomUUID()
    const put = () => this.call('write', name, () => new this.sdk.PutSecretValueCommand({SecretId: name, SecretString: value, ClientRequestToken: token}))
    const create = () =>
      this.call('create', name, () =>
        new this.sdk.CreateSecretCommand({Name: name, SecretString: value, ClientRequestToken: token, Tags: Object.entries(markerTags(marker)).map(([Key, Value]) => ({Key, Value}))}),
      )
    // Each fallback happens at most once: update → create, create → update, deleted → restore → update.
    const restoreThenPut = async () => {
      await this.call('restore', name, () => new this.sdk.RestoreSecretCommand({SecretId: name}))
      await put()
    }
    const attempt = async (first: 'put' | 'create') => {
      try {
        await (first === 'put' ? put() : create())
      } catch (error) {
        const e = (error as {sdk?: SdkError}).sdk
        if (!e) throw error
        if (first === 'put' && e.name === 'ResourceNotFoundException') return create().catch(async (error2) => {
          // Created meanwhile by someone else: a new version of theirs.
          if ((error2 as {sdk?: SdkError}).sdk?.name === 'ResourceExistsException') return put()
          throw error2
        })
        if (first === 'create' && e.name === 'ResourceExistsException') return put()
        if (e.name === 'InvalidRequestException' && isDeleted(e.message)) return restoreThenPut()
        throw error
      }
    }
    await attempt(hint.exists === false ? 'create' : 'put')
    // The token is the new version's id.
    this.current.set(name, {id: token})
  }

  async remove(name: string): Promise<void> {
    try {
      // The recovery window (30 days, AWS's default) keeps the name restorable: write() restores it.
      await this.call('delete', name, () => new this.sdk.DeleteSecretCommand({SecretId: name}))
    } catch (error) {
      const e = (error as {sdk?: SdkError}).sdk
      if (e?.name === 'ResourceNotFoundException' || (e?.name === 'InvalidRequestException' && isDeleted(e.message))) return
      throw error
    }
  }

  private checkValue(name: string, value: string): void {
    if (value === '') {
      throw new EnvsyncError(`${name}: ${SERVICE} cannot hold an empty value`, {
        code: 'VALUE_REFUSED',
        exitCode: 1,
        suggestion: 'give the key a value, or leave it out of this destination',
      })
    }
    const bytes = Buffer.byteLength(value, 'utf8')
    if (bytes > MAX_VALUE_BYTES) {
      throw new EnvsyncError(`${name}: the value is ${bytes.toLocaleString('en-US')} bytes; ${SERVICE} holds at most ${MAX_VALUE_BYTES.toLocaleString('en-US')} per secret`, {
        code: 'VALUE_TOO_LARGE',
        exitCode: 1,
        suggestion: 'split the value over several keys, or keep it in a file the app reads',
      })
    }
  }

  /**
   * One SDK command, retried on throttling (Retry-After honoured up to maxWaitMs), 5xx and dropped
   * connections, each attempt bounded by the timeout. An error leaving here is an EnvsyncError;
   * the SDK's (name and message only) rides along as `sdk` for the caller's fallbacks.
   */
  private async call<O = unknown>(operation: string, name: string, command: () => object): Promise<O> {
    const {timeoutMs, retries, backoffMs, maxWaitMs} = this.settings
    let waited = 0
    for (let attempt = 0; ; attempt++) {
      let error: SdkError
      try {
        // A fresh command per attempt; the signal bounds the whole attempt (credentials, connect, answer).
        // Raced as well: the signal reaches the HTTP handler only, not the credential chain (a
        // credential_process waiting for MFA, an SSO or STS call), which must not hang envsync.
        const signal = AbortSignal.timeout(timeoutMs)
        const sent = (this.client as unknown as {send(c: object, o: object): Promise<O>}).send(command(), {abortSignal: signal})
        return await Promise.race([sent, timedOut(signal)])
      } catch (caught) {
        error = caught as SdkError
      }
      const kind = classify(error)
      // Missing credentials or region stay missing: not worth a second attempt.
      if (kind === 'other' || kind === 'auth' || kind === 'credentials' || kind === 'region' || attempt >= retries) throw this.fail(operation, name, error, attempt + 1)
      let wait = backoff(attempt, backoffMs)
      if (kind === 'throttled') {
        const hinted = retryAfter(error)
        if (hinted !== undefined && hinted > maxWaitMs) throw this.fail(operation, name, error, attempt + 1, hinted)
        wait = Math.max(wait, hinted ?? backoffMs * 2 ** attempt)
      }
      if (waited + wait > maxWaitMs) throw this.fail(operation, name, error, attempt + 1, wait)
      waited += wait
      await sleep(wait)
    }
  }

  /** The EnvsyncError for a failed call: names the operation and the secret, never a value. */
  private fail(operation: string, name: string, error: SdkError, attempts = 1, waitMs?: number): EnvsyncError {
    const kind = classify(error)
    const what = `${SERVICE}: cannot ${operation} ${name}`
    const detail = `${error.name ?? 'error'}${error.message ? `: ${error.message}` : ''}`
    const sdk = {name: error.name, message: error.message}
    let e: EnvsyncError
    if (kind === 'credentials') {
      e = new EnvsyncError(`${what}: no AWS credentials found`, {code: 'AUTH_MISSING', exitCode: 1, suggestion: CREDENTIALS_HINT})
    } else if (kind === 'region') {
      e = new EnvsyncError(`${what}: no AWS region`, {code: 'REGION_MISSING', exitCode: 1, suggestion: 'set region: in the manifest\'s aws options, or AWS_REGION, or a region in the AWS profile'})
    } else if (kind === 'auth') {
      e = new EnvsyncError(`${what}: access denied (${detail})`, {
        code: 'AUTH_DENIED',
        exitCode: 1,
        suggestion: 'check the AWS credentials, and that their policy allows secretsmanager:ListSecrets, BatchGetSecretValue, GetSecretValue, ListSecretVersionIds, CreateSecret, PutSecretValue, TagResource, DeleteSecret and RestoreSecret',
      })
    } else if (kind === 'throttled') {
      e = new EnvsyncError(`${what}: rate limited (${error.name ?? 'HTTP 429'}) after ${plural(attempts, 'attempt')}${waitMs ? `; the next request is allowed in ${Math.ceil(waitMs / 1000)} s` : ''}`, {
        code: 'RATE_LIMITED',
        exitCode: 1,
        suggestion: 'wait and run the command again; it only sends what still differs',
      })
    } else if (kind === 'network' || kind === 'server') {
      e = new EnvsyncError(`${what}: ${kind === 'server' ? `server error ${error.$metadata?.httpStatusCode ?? ''}`.trim() : `unreachable (${networkCode(error)})`} after ${plural(attempts, 'attempt')}`, {
        code: 'UNREACHABLE',
        exitCode: 1,
        suggestion: 'check the network and the endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION); rerunning converges because only what still differs is sent',
      })
    } else if (error.name === 'ResourceNotFoundException') {
      e = new EnvsyncError(`${what}: no such secret`, {code: 'NOT_FOUND', exitCode: 1})
    } else if (error.name === 'InvalidRequestException' && isDeleted(error.message)) {
      e = new EnvsyncError(`${what}: the secret is scheduled for deletion`, {
        code: 'SECRET_DELETED',
        exitCode: 1,
        suggestion: `restore it with \`aws secretsmanager restore-secret --secret-id ${name}\`, or wait until its recovery window ends`,
      })
    } else {
      e = new EnvsyncError(`${what} (${detail})`, {code: 'PLATFORM_ERROR', exitCode: 1})
    }
    Object.defineProperty(e, 'sdk', {value: sdk, enumerable: false})
    return e
  }
}

type ErrorKind = 'credentials' | 'region' | 'auth' | 'throttled' | 'server' | 'network' | 'other'

/** Rejects with a TimeoutError when the signal aborts. */
function timedOut(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('timed out'), {name: 'TimeoutError'})), {once: true}))
}

/** The next page's token; one seen before (a server or proxy gone wrong) would page forever. */
function nextToken(token: string | undefined, seen: Set<string>, operation: string): string | undefined {
  if (!token) return undefined
  if (seen.has(token)) throw new EnvsyncError(`${SERVICE}: cannot ${operation}: the service sent the same page token twice`, {code: 'PLATFORM_ERROR', exitCode: 1, suggestion: 'run the command again; if it persists, check proxies between here and AWS'})
  seen.add(token)
  return token
}

function classify(error: SdkError): ErrorKind {
  const status = error.$metadata?.httpStatusCode
  if (error.name === 'CredentialsProviderError' || /could not load credentials/i.test(error.message ?? '')) return 'credentials'
  if (/region is missing/i.test(error.message ?? '')) return 'region'
  if (AUTH_DENIED.has(error.name ?? '')) return 'auth'
  if (THROTTLING.has(error.name ?? '') || status === 429) return 'throttled'
  if (status !== undefined && status >= 500) return 'server'
  if (status === undefined && (error.name === 'TimeoutError' || error.name === 'AbortError' || NETWORK.has(networkCode(error)))) return 'network'
  return 'other'
}

function networkCode(error: SdkError): string {
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out'
  return error.code ?? error.cause?.code ?? error.name ?? 'network error'
}

/** Retry-After (seconds or an HTTP date) of a throttled answer, in ms. */
function retryAfter(error: SdkError): number | undefined {
  const headers = error.$response?.headers ?? {}
  const raw = Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1]
  if (!raw) return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** AWS says a name is scheduled for deletion in InvalidRequestException's message only. */
function isDeleted(message: string | undefined): boolean {
  return /scheduled for deletion|marked for deletion/i.test(message ?? '')
}
