import {readFile} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import type {SecretManagerServiceClient} from '@google-cloud/secret-manager'

import {EnvsyncError} from '../../errors.js'
import {mapLimit} from '../../pool.js'
import {registerSecret} from '../../redact.js'
import {backoff, endpointFrom, networkProblem, RETRY_STATUS, retryAfterMs, retrySettings} from '../http.js'
import {type CreateBackend, type Marker, markerOf, markerTags, type RemoteSecret, type SecretManagerBackend} from './backend.js'

/**
 * Google Secret Manager through the official client (@google-cloud/secret-manager 6, REST mode)
 * and google-auth-library's credential chain. The client's own retries are switched off: its
 * REST transport ignores deadlines and Retry-After, and retries RESOURCE_EXHAUSTED for up to
 * ten minutes. Instead every HTTP exchange goes through `transport` below (the auth object's
 * fetch, wrapped): counted, bounded in time, rate limits and 5xx waited out a bounded number of
 * times. There is no batch read: one AccessSecretVersion per name, at most 8 at once.
 */

const SERVICE = 'Google Secret Manager'
/** Overrides the API's base URL (a loopback fake, an emulator); neither client library has one. */
export const ENDPOINT_VARIABLE = 'ENVSYNC_GCP_SECRET_MANAGER_URL'
const DEFAULT_ENDPOINT = 'https://secretmanager.googleapis.com'
/** CreateSecretRequest.secret_id: letters, digits, - and _, at most 255. */
const NAME = /^[A-Za-z0-9_-]{1,255}$/
/** SecretPayload.data: "Must be no larger than 64KiB". */
export const MAX_VALUE_BYTES = 64 * 1024
/** Fewer requests for a big project; the API caps a page at 25,000. */
const PAGE_SIZE = 500
const CONCURRENCY = 8
/** Labels: a key starts with a lowercase letter; keys and values up to 63 of [a-z0-9_-]. */
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/
/** google.rpc.Code numbers, as the REST transport's errors carry them. */
const Code = {INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, UNAVAILABLE: 14, UNAUTHENTICATED: 16} as const

const CREDENTIAL_SUGGESTION =
  'set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, run `gcloud auth application-default login`, or run where a service account is attached (metadata server)'

type Settings = ReturnType<typeof retrySettings>

export const createBackend: CreateBackend = async (options, env) => {
  const endpoint = new URL(endpointFrom(env, ENDPOINT_VARIABLE, DEFAULT_ENDPOINT))
  const keyFilename = env.GOOGLE_APPLICATION_CREDENTIALS || undefined
  const keyProject = keyFilename ? await readKeyFile(keyFilename) : undefined
  const project = options.project || env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT || keyProject
  const settings = retrySettings()
  const {SecretManagerServiceClient} = await import('@google-cloud/secret-manager')
  const client = new SecretManagerServiceClient({
    fallback: true,
    apiEndpoint: endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(endpoint.port) || (endpoint.protocol === 'http:' ? 80 : 443),
    protocol: endpoint.protocol.slice(0, -1),
    ...(keyFilename ? {keyFilename} : {}),
    ...(project ? {projectId: project} : {}),
  })
  const counter = {requests: 0}
  const auth = client.auth as unknown as {fetch: Fetch}
  auth.fetch = transport(auth.fetch.bind(auth), counter, settings)
  return new GcpBackend(client, counter, settings, project)
}

/**
 * The key file GOOGLE_APPLICATION_CREDENTIALS names, checked before any request: its secrets
 * made known to redaction, its project returned. Errors name the variable and the file, never
 * the content.
 */
async function readKeyFile(file: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as {code?: string}).code ?? 'unreadable'
    throw new EnvsyncError(`${SERVICE}: GOOGLE_APPLICATION_CREDENTIALS names ${file}, which cannot be read (${code})`, {code: 'AUTH_MISSING', exitCode: 1, suggestion: 'point GOOGLE_APPLICATION_CREDENTIALS at the JSON key file of a service account, or unset it'})
  }
  let key: Record<string, unknown> | null = null
  try {
    key = JSON.parse(text) as Record<string, unknown> | null
  } catch {
    key = null
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    throw new EnvsyncError(`${SERVICE}: GOOGLE_APPLICATION_CREDENTIALS names ${file}, which is not a JSON credentials file`, {code: 'BAD_CREDENTIAL', exitCode: 1, suggestion: 'download the service account key again (JSON) or run `gcloud auth application-default login`'})
  }
  // Impersonation and external accounts nest theirs (source_credentials).
  registerStrings(key)
  return typeof key.project_id === 'string' && key.project_id ? key.project_id : undefined
}

/** The secret fields of a credentials file, at any depth (private_key, client_secret, refresh_token…). */
function registerStrings(object: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(object)) {
    if (typeof value === 'string' && /key|secret|token|password/i.test(field) && !/_uri$|_url$/i.test(field)) registerSecret(value)
    else if (value && typeof value === 'object') registerStrings(value as Record<string, unknown>)
  }
}

type Fetch = (url: string, init: RequestInit & Record<string, unknown>) => Promise<Response>

/** A transport failure the client passes through untouched (it rethrows what fetch throws). */
class TransportFailure extends Error {
  constructor(
    readonly problem: string,
    readonly attempts: number,
    /** The request may have been applied (a write whose answer was lost). */
    readonly maybeApplied: boolean,
  ) {
    super(problem)
    this.name = 'TransportFailure'
  }
}

class RateLimitWait extends Error {
  constructor(readonly waitMs: number) {
    super('rate limited')
    this.name = 'RateLimitWait'
  }
}

/**
 * Every HTTP exchange of the client: counted, each attempt bounded by timeoutMs (body
 * included), 429 waited out (Retry-After, else the error's RetryInfo, else backoff), 5xx and
 * dropped connections retried when the request is idempotent. Only AddSecretVersion is not: a
 * repeat would store a second version (the API has no idempotency token); the backend checks
 * before repeating it. Error answers come back as Responses so the client decodes the API's
 * error (code, details) itself.
 */
function transport(inner: Fetch, counter: {requests: number}, settings: Settings): Fetch {
  return async (url, init) => {
    const idempotent = !(init.method === 'POST' && /:addVersion(\?|$)/.test(new URL(url).pathname))
    for (let attempt = 0; ; attempt++) {
      counter.requests++
      const timeout = AbortSignal.timeout(settings.timeoutMs)
      const signal = init.signal ? AbortSignal.any([init.signal as AbortSignal, timeout]) : timeout
      let status: number
      let headers: Headers
      let body: ArrayBuffer
      try {
        // validateStatus: error answers are returned, not thrown, so their body can be read here.
        // Raced against the timeout too: a token refresh inside the auth client (user credentials,
        // external accounts) does not see this signal.
        const exchange = (async () => {
          const res = await inner(url, {...init, signal, validateStatus: () => true})
          return {status: res.status, headers: new Headers(res.headers), body: await res.arrayBuffer()}
        })()
        const result = await Promise.race([exchange, aborted(timeout)])
        status = result.status
        headers = result.headers
        body = result.body
      } catch (error) {
        if ((init.signal as AbortSignal | undefined)?.aborted) throw error
        if (isAuthError(error)) throw error
        const problem = timeout.aborted ? 'timed out' : transportProblem(error)
        if (!idempotent || attempt >= settings.retries) throw new TransportFailure(problem, attempt + 1, !idempotent)
        await sleep(backoff(attempt, settings.backoffMs))
        continue
      }
      // A 5xx to a version write may have stored it: the backend reads back before repeating.
      if (!idempotent && status !== 429 && RETRY_STATUS.has(status)) throw new TransportFailure(`HTTP ${status}`, attempt + 1, true)
      const retryable = status === 429 || (idempotent && RETRY_STATUS.has(status))
      if (retryable && attempt < settings.retries) {
        const wait = retryAfterMs(headers) ?? retryInfoMs(body) ?? backoff(attempt, settings.backoffMs)
        if (wait > settings.maxWaitMs) throw new RateLimitWait(wait)
        await sleep(wait)
        continue
      }
      // An error page that is not the API's JSON (a proxy's HTML 502) would reach the client as a
      // SyntaxError: named by its status instead.
      if (status >= 400 && !isJson(body)) throw new TransportFailure(`HTTP ${status}`, attempt + 1, false)
      return new Response(status === 204 ? null : body, {status, headers})
    }
  }
}

function isJson(body: ArrayBuffer): boolean {
  try {
    JSON.parse(Buffer.from(body).toString('utf8'))
    return true
  } catch {
    return false
  }
}

/** Rejects when the signal aborts (never resolves). */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), {once: true}))
}

/** google.rpc.RetryInfo.retryDelay ("1.5s") from an error body, in ms. */
function retryInfoMs(body: ArrayBuffer): number | undefined {
  try {
    const details = (JSON.parse(Buffer.from(body).toString('utf8')) as {error?: {details?: {'@type'?: string; retryDelay?: string}[]}}).error?.details
    const delay = details?.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay
    const match = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null
    return match ? Number(match[1]) * 1000 : undefined
  } catch {
    return undefined
  }
}

function transportProblem(error: unknown): string {
  const code = (error as {code?: unknown}).code
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : networkProblem(error)
}

/** Errors of the credential chain (no key, a key that cannot sign) surface from fetch too. */
function isAuthError(error: unknown): boolean {
  return /default credentials|private key|invalid_grant|credential/i.test((error as {message?: string}).message ?? '')
}

interface SecretPayload {
  data?: Uint8Array | string | null
  dataCrc32c?: string | number | null
}

class GcpBackend implements SecretManagerBackend {
  readonly kind = 'gcp' as const
  readonly service = SERVICE
  readonly structured = false
  private parentPromise?: Promise<string>
  /** The number of each secret's latest version, as read or written here. */
  private readonly current = new Map<string, number>()

  constructor(
    private readonly client: SecretManagerServiceClient,
    private readonly counter: {requests: number},
    private readonly settings: Settings,
    private readonly project: string | undefined,
  ) {}

  get requests(): number {
    return this.counter.requests
  }


  async list(prefix: string): Promise<RemoteSecret[]> {
    const parent = await this.parent('list secrets')
    // `name:` matches part of the name (not only its start): narrowed here as well.
    const filter = prefix !== '' && NAME.test(prefix) ? `name:"${prefix}"` : undefined
    const out: RemoteSecret[] = []
    const seen = new Set<string>()
    let pageToken: string | undefined
    do {
      const [secrets, , response] = await this.call('list secrets', prefix === '' ? undefined : `${prefix}*`, () =>
        this.client.listSecrets({parent, pageSize: PAGE_SIZE, ...(pageToken ? {pageToken} : {}), ...(filter ? {filter} : {})}, {autoPaginate: false, retry: null}),
      )
      for (const secret of secrets) {
        // Names come back as projects/<project NUMBER>/secrets/<id>: only the id is ours.
        const id = (secret.name ?? '').split('/').pop() ?? ''
        if (!id.startsWith(prefix)) continue
        out.push({name: id, marker: markerOf(secret.labels ?? undefined), ...(secret.name ? {id: secret.name} : {})})
      }
      pageToken = response?.nextPageToken || undefined
      if (pageToken && seen.has(pageToken)) {
        throw new EnvsyncError(`${SERVICE}: cannot list secrets: the service repeated a page token`, {code: 'PLATFORM_ERROR', exitCode: 1, suggestion: 'run the command again'})
      }
      if (pageToken) seen.add(pageToken)
    } while (pageToken)
    return out
  }

  async read(names: string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>()
    await mapLimit(names, CONCURRENCY, async (name) => {
      const value = await this.latest(name, 'read')
      if (value !== undefined) values.set(name, value)
    })
    return values
  }

  async write(name: string, value: string, marker: Marker, hint: {exists?: boolean} = {}): Promise<void> {
    const data = this.checkValue(name, value)
    const labels = this.labelsOf(marker)
    const parent = await this.parent('write')
    const secret = `${parent}/secrets/${name}`
    if (hint.exists !== true) await this.create(parent, name, labels)
    try {
      await this.addVersion(secret, name, data, value)
    } catch (error) {
      // The list that said "exists" is stale (deleted since): create it, once.
      if (hint.exists !== true || codeOf(error) !== Code.NOT_FOUND) throw this.failure(error, 'write', name)
      await this.create(parent, name, labels)
      try {
        await this.addVersion(secret, name, data, value)
      } catch (again) {
        throw this.failure(again, 'write', name)
      }
    }
  }

  async remove(name: string): Promise<void> {
    const parent = await this.parent('delete')
    try {
      // Deletion is immediate and final (no recovery window): the id is free again at once.
      await this.client.deleteSecret({name: `${parent}/secrets/${name}`}, {retry: null})
    } catch (error) {
      if (codeOf(error) !== Code.NOT_FOUND) throw this.failure(error, 'delete', name)
    }
  }

  /** CreateSecret with the marker; one that exists already (ours or not) is left as it is. */
  private async create(parent: string, name: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.client.createSecret({parent, secretId: name, secret: {replication: {automatic: {}}, labels}}, {retry: null})
    } catch (error) {
      if (codeOf(error) !== Code.ALREADY_EXISTS) throw this.failure(error, 'create', name)
    }
  }

  /**
   * AddSecretVersion with the payload's CRC32C (the service checks it). A lost answer may mean
   * the version was stored: the current value is read before sending again, so a retry never
   * stores a second copy of a version that arrived.
   */
  private async addVersion(secret: string, name: string, data: Buffer, value: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [version] = await this.client.addSecretVersion({parent: secret, payload: {data, dataCrc32c: crc32c(data)}}, {retry: null})
        this.setCurrent(name, version.name)
        return
      } catch (error) {
        const lost = (error instanceof TransportFailure && error.maybeApplied) || codeOf(error) === Code.UNAVAILABLE
        if (!lost || attempt >= this.settings.retries) throw error
        await sleep(backoff(attempt, this.settings.backoffMs))
        if ((await this.latest(name, 'write')) === value) return
      }
    }
  }

  /** The value of the latest version; undefined when there is none that can be read. */
  private async latest(name: string, operation: string): Promise<string | undefined> {
    const got = await this.access(name, 'latest', operation)
    if (typeof got === 'string') {
      this.current.delete(name)
      return undefined
    }
    this.setCurrent(name, got.name)
    return got.text
  }

  /** A version's number from its resource name (…/versions/7). */
  private setCurrent(name: string, resource: string | null | undefined): void {
    const number = Number(/\/versions\/(\d+)$/.exec(resource ?? '')?.[1])
    if (Number.isInteger(number) && number > 0) this.current.set(name, number)
    else this.current.delete(name)
  }

  /**
   * One version's value. 'absent': no such secret or version (NOT_FOUND); 'unreadable': the
   * version is disabled or destroyed (FAILED_PRECONDITION).
   */
  private async access(name: string, version: string, operation: string): Promise<{text: string; name?: string | null} | 'absent' | 'unreadable'> {
    const parent = await this.parent(operation)
    let payload: SecretPayload | null | undefined
    let resource: string | null | undefined
    try {
      const [got] = await this.client.accessSecretVersion({name: `${parent}/secrets/${name}/versions/${version}`}, {retry: null})
      payload = got.payload as SecretPayload | null | undefined
      resource = got.name
    } catch (error) {
      const code = codeOf(error)
      if (code === Code.NOT_FOUND) return 'absent'
      if (code === Code.FAILED_PRECONDITION) return 'unreadable'
      throw this.failure(error, operation, name)
    }
    const data = payload?.data ? Buffer.from(payload.data as Uint8Array) : Buffer.alloc(0)
    if (payload?.dataCrc32c !== undefined && payload.dataCrc32c !== null && Number(payload.dataCrc32c) !== crc32c(data)) {
      throw new EnvsyncError(`${SERVICE}: the value of ${name} arrived damaged (CRC32C mismatch)`, {code: 'DATA_CORRUPT', exitCode: 1, suggestion: 'run the command again; if it persists, check proxies between here and Google'})
    }
    let text: string
    try {
      // ignoreBOM keeps a leading U+FEFF: the value round-trips byte for byte.
      text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(data)
    } catch {
      throw new EnvsyncError(`${SERVICE}: the value of ${name} is not UTF-8 text (${data.length} bytes)`, {code: 'NOT_TEXT', exitCode: 1, suggestion: 'envsync stores text; write a text value to this secret (e.g. base64 of the binary)'})
    }
    registerSecret(text)
    return {text, name: resource}
  }

  /**
   * The access answer carries no date: one GetSecretVersion per name for its createTime. A
   * policy without secretmanager.versions.get leaves the dates to the change history.
   */
  async dates(names: string[]): Promise<Map<string, Date>> {
    const out = new Map<string, Date>()
    const known = names.filter((n) => this.current.has(n))
    if (known.length === 0) return out
    const parent = await this.parent('read version dates')
    await mapLimit(known, CONCURRENCY, async (name) => {
      try {
        const [version] = await this.client.getSecretVersion({name: `${parent}/secrets/${name}/versions/${this.current.get(name)}`}, {retry: null})
        const t = version.createTime
        const ms = t ? Number(String(t.seconds ?? 0)) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1e6) : Number.NaN
        if (Number.isFinite(ms)) out.set(name, new Date(ms))
      } catch (error) {
        const code = codeOf(error)
        if (code === Code.NOT_FOUND || code === Code.PERMISSION_DENIED) return
        throw this.failure(error, 'read the version date of', name)
      }
    })
    return out
  }

  /** versions/N-1, N-2…: one access each; a disabled or destroyed one ends the walk (no older value stands in for it). */
  async *older(name: string, limit: number): AsyncGenerator<string> {
    const current = this.current.get(name)
    if (current === undefined) return
    for (let n = current - 1; n >= 1 && n >= current - limit; n--) {
      const got = await this.access(name, String(n), 'read an older version of')
      if (typeof got === 'string') return
      yield got.text
    }
  }

  /** projects/<project>, once the credentials are known to be there (bounded in time). */
  private parent(operation: string): Promise<string> {
    this.parentPromise ??= this.resolveParent()
    return this.parentPromise.catch((error: unknown) => {
      this.parentPromise = undefined
      throw this.failure(error, operation)
    })
  }

  private async resolveParent(): Promise<string> {
    const auth = this.client.auth
    await this.bounded(auth.getClient(), 'no Google credential answered')
    const project = this.project || (await this.bounded(auth.getProjectId().catch(() => ''), 'the project could not be found'))
    if (!project) {
      throw new EnvsyncError(`${SERVICE}: no Google Cloud project given`, {code: 'CONFIG_MISSING', exitCode: 1, suggestion: 'set `project:` in the manifest, or GOOGLE_CLOUD_PROJECT, or use a key file that carries project_id'})
    }
    return `projects/${project}`
  }

  private async bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EnvsyncError(`${SERVICE}: ${what} within ${this.settings.timeoutMs} ms`, {code: 'AUTH_MISSING', exitCode: 1, suggestion: CREDENTIAL_SUGGESTION})), this.settings.timeoutMs)
    })
    try {
      return await Promise.race([promise, expired])
    } finally {
      clearTimeout(timer)
    }
  }

  private async call<T>(operation: string, name: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw this.failure(error, operation, name)
    }
  }

  private checkValue(name: string, value: string): Buffer {
    const data = Buffer.from(value, 'utf8')
    if (data.length === 0) {
      throw new EnvsyncError(`${SERVICE}: ${name} would be empty, and a Secret Manager version cannot hold an empty value`, {code: 'EMPTY_VALUE', exitCode: 1, suggestion: 'give the key a value, or leave it out of this environment'})
    }
    if (data.length > MAX_VALUE_BYTES) {
      throw new EnvsyncError(`${SERVICE}: the value of ${name} is ${data.length} bytes; a Secret Manager version holds at most ${MAX_VALUE_BYTES}`, {code: 'VALUE_TOO_LARGE', exitCode: 1, suggestion: 'store a smaller value (a file reference, or split it into several keys)'})
    }
    return data
  }

  /** The marker as labels; names that break the label rules are refused, never changed. */
  private labelsOf(marker: Marker): Record<string, string> {
    const labels = markerTags(marker)
    for (const [key, value] of Object.entries(labels)) {
      if (!LABEL_KEY.test(key) || !LABEL_VALUE.test(value)) {
        throw new EnvsyncError(`${SERVICE}: "${value}" cannot be a label value (lowercase letters, digits, - and _, at most 63)`, {code: 'BAD_MARKER', exitCode: 1, suggestion: 'use a project and environment name of lowercase letters, digits and -'})
      }
    }
    return labels
  }

  /** Any failure as an EnvsyncError naming the operation and the secret, never a value. */
  private failure(error: unknown, operation: string, name?: string): EnvsyncError {
    if (error instanceof EnvsyncError) return error
    const what = `${SERVICE}: cannot ${operation}${name ? ` ${name}` : ''}`
    if (error instanceof RateLimitWait) {
      return new EnvsyncError(`${SERVICE} rate limit: the next request is allowed in ${Math.ceil(error.waitMs / 1000)} s`, {code: 'RATE_LIMITED', exitCode: 1, suggestion: 'wait and run the command again; it only sends what still differs'})
    }
    if (error instanceof TransportFailure) {
      return new EnvsyncError(`${what}: cannot reach ${SERVICE} (${error.problem}) after ${error.attempts} attempt${error.attempts === 1 ? '' : 's'}`, {
        code: 'UNREACHABLE',
        exitCode: 1,
        suggestion: `check the network${error.maybeApplied ? '; the new version may have been stored' : ''}; rerunning converges because only what still differs is sent`,
      })
    }
    const code = codeOf(error)
    if (code === undefined) {
      if (isAuthError(error)) return new EnvsyncError(`${what}: no usable Google credential found`, {code: 'AUTH_MISSING', exitCode: 1, suggestion: CREDENTIAL_SUGGESTION})
      return new EnvsyncError(`${what}: unexpected failure (${(error as {name?: string}).name ?? 'error'})`, {code: 'PLATFORM_ERROR', exitCode: 1, suggestion: 'run again; if it persists, report it'})
    }
    // The status and reason, never the service's message: it may quote what was sent.
    const reason = (error as {reason?: unknown}).reason
    const server = ` (${STATUS_NAME[code] ?? `code ${code}`}${typeof reason === 'string' && /^[A-Z_]{1,64}$/.test(reason) ? ` ${reason}` : ''})`
    switch (code) {
      case Code.UNAUTHENTICATED:
        return new EnvsyncError(`${what}: the credential was refused${server}`, {code: 'AUTH_FAILED', exitCode: 1, suggestion: 'check the key file (it may have been revoked) or run `gcloud auth application-default login` again'})
      case Code.PERMISSION_DENIED:
        return new EnvsyncError(`${what}: access denied${server}`, {
          code: 'AUTH_DENIED',
          exitCode: 1,
          suggestion: 'grant this identity roles/secretmanager.admin on the project (or secretmanager.secrets.list/create/delete and secretmanager.versions.add/access/get), and check that the Secret Manager API is enabled',
        })
      case Code.NOT_FOUND:
        return new EnvsyncError(`${what}: not found${server}`, {code: 'NOT_FOUND', exitCode: 1, suggestion: 'check the project id'})
      case Code.RESOURCE_EXHAUSTED:
        return new EnvsyncError(`${what}: rate limited after ${this.settings.retries + 1} attempts${server}`, {code: 'RATE_LIMITED', exitCode: 1, suggestion: 'wait and run the command again; it only sends what still differs'})
      case Code.UNAVAILABLE:
      case Code.DEADLINE_EXCEEDED:
        return new EnvsyncError(`${what}: the service is unavailable${server}`, {code: 'PLATFORM_ERROR', exitCode: 1, suggestion: 'run the command again later; it only sends what still differs'})
      default:
        return new EnvsyncError(`${what}: the service refused the request${server}`, {code: 'PLATFORM_ERROR', exitCode: 1, suggestion: 'check the secret name and the project'})
    }
  }
}

const STATUS_NAME: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
}

/** The google.rpc.Code of a client error (GoogleError), when it has one. */
function codeOf(error: unknown): number | undefined {
  const code = (error as {code?: unknown} | undefined)?.code
  return typeof code === 'number' ? code : undefined
}

/** CRC-32C (Castagnoli), the checksum SecretPayload.data_crc32c carries. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
