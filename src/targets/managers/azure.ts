import {setTimeout as sleep} from 'node:timers/promises'

import type {AccessToken, GetTokenOptions, TokenCredential} from '@azure/identity'
import type {SecretClient, SecretClientOptions} from '@azure/keyvault-secrets'

import {EnvsyncError} from '../../errors.js'
import {mapLimit} from '../../pool.js'
import {registerSecret} from '../../redact.js'
import {backoff, retryAfterMs, retrySettings} from '../http.js'
import {type CreateBackend, knownDates, type Marker, markerOf, markerTags, type RemoteSecret, type SecretManagerBackend} from './backend.js'

/**
 * Azure Key Vault secrets through the official client (@azure/keyvault-secrets 4.11, whose
 * pipeline answers the vault's 401 Bearer challenge) and DefaultAzureCredential. Key Vault has no
 * batch read and no server-side prefix filter: a list is every page of the vault, filtered here,
 * and a read is one GET per name (bounded concurrency). Tags belong to a version, not to the
 * secret: a write that sent no tags would strip the ownership marker, so each new version carries
 * the tags of the one it replaces (known from a list or read made by this backend, else fetched).
 */

const SERVICE = 'Azure Key Vault'
/** Key Vault refuses a secret value above 25 KB; refused here first, naming the secret. */
export const MAX_VALUE_BYTES = 25 * 1024
/** The largest page Key Vault serves. */
const PAGE_SIZE = 25
/** Pages of a secret's versions looked through for its previous value (100 versions); one more page read shows there are more. */
const VERSION_PAGES = 4
const CONCURRENCY = 8
/** Polls of a recovery (each after a backoff) before it is reported as still running. */
const RECOVER_POLLS = 10
/** Vault names: 3–24 letters, digits and single hyphens, starting with a letter. */
const VAULT_NAME = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

const CREDENTIAL_SUGGESTION =
  'set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), run `az login`, or run where a managed or workload identity is assigned'

export const createBackend: CreateBackend = async (options, env) => {
  const {vaultUrl, insecure} = vaultUrlOf(options.vault)
  const settings = retrySettings()
  // Credentials the chain will read from the environment are made known to redaction first.
  for (const variable of ['AZURE_CLIENT_SECRET', 'IDENTITY_HEADER', 'MSI_SECRET']) registerSecret(env[variable])
  const [{SecretClient}, {DefaultAzureCredential}] = await Promise.all([import('@azure/keyvault-secrets'), import('@azure/identity')])
  // The CLI credentials (az, azd, pwsh) spawn processes: their wait is bounded like a request.
  const chain = new DefaultAzureCredential({processTimeoutInMs: settings.timeoutMs, retryOptions: {maxRetries: settings.retries}})
  const counter = {requests: 0}
  const client = new SecretClient(vaultUrl, boundedCredential(chain, settings.timeoutMs), {
    retryOptions: {maxRetries: settings.retries, retryDelayInMs: settings.backoffMs, maxRetryDelayInMs: settings.maxWaitMs},
    // Only a loopback http URL (a local fake or emulator) may skip TLS and the challenge's domain check.
    allowInsecureConnection: insecure,
    disableChallengeResourceVerification: insecure,
    additionalPolicies: [{policy: sentPolicy(counter, settings), position: 'perRetry'}],
  })
  return new AzureBackend(client, counter, settings, vaultUrl)
}

/** `vault`: a name (https://NAME.vault.azure.net) or a URL; http only for a loopback address. */
export function vaultUrlOf(vault: string | undefined): {vaultUrl: string; insecure: boolean} {
  if (vault === undefined || vault.trim() === '') {
    throw new EnvsyncError('Azure Key Vault: no vault given', {code: 'CONFIG_MISSING', exitCode: 1, suggestion: 'set `vault:` to the vault name (my-vault) or its URL (https://my-vault.vault.azure.net)'})
  }
  if (!vault.includes('://')) {
    if (!VAULT_NAME.test(vault)) {
      throw new EnvsyncError(`Azure Key Vault: "${vault}" is not a vault name (3–24 letters, digits and hyphens, starting with a letter)`, {code: 'BAD_ENDPOINT', exitCode: 1, suggestion: 'set `vault:` to the vault name or its full URL'})
    }
    return {vaultUrl: `https://${vault}.vault.azure.net`, insecure: false}
  }
  let url: URL
  try {
    url = new URL(vault)
  } catch {
    throw new EnvsyncError('Azure Key Vault: `vault` is not a URL', {code: 'BAD_ENDPOINT', exitCode: 1, suggestion: 'set `vault:` to https://NAME.vault.azure.net or the vault name'})
  }
  if (url.username || url.password) {
    throw new EnvsyncError('Azure Key Vault: `vault` carries a user name or password', {code: 'BAD_ENDPOINT', exitCode: 1, suggestion: 'remove them: the credential comes from DefaultAzureCredential'})
  }
  const insecure = url.protocol === 'http:'
  if (insecure ? !LOOPBACK.has(url.hostname) : url.protocol !== 'https:') {
    throw new EnvsyncError(`Azure Key Vault: ${url.protocol}//${url.host} is not an https URL`, {code: 'BAD_ENDPOINT', exitCode: 1, suggestion: 'use https://NAME.vault.azure.net (plain http only for a loopback address)'})
  }
  return {vaultUrl: url.origin, insecure}
}

/**
 * The credential chain with every token request bounded (a managed identity endpoint that does
 * not answer would otherwise hang the command) and every token made known to redaction.
 */
function boundedCredential(inner: TokenCredential, timeoutMs: number): TokenCredential {
  return {
    async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken | null> {
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.abortSignal ? [options.abortSignal as AbortSignal] : [])])
      let timer: NodeJS.Timeout | undefined
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('token request timed out'), {name: 'CredentialTimeout'})), timeoutMs)
      })
      try {
        const token = await Promise.race([inner.getToken(scopes, {...options, abortSignal: signal}), expired])
        registerSecret(token?.token)
        return token
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

type PipelinePolicy = NonNullable<SecretClientOptions['additionalPolicies']>[number]['policy']

/**
 * Counts each request sent (retries included), bounds each in time, and bounds the SDK's rate-limit waits: a
 * Retry-After beyond the longest wait is reported at once, and a 429 without one gets this
 * project's backoff (the SDK's throttling strategy would not retry it at all).
 */
function sentPolicy(counter: {requests: number}, settings: ReturnType<typeof retrySettings>): PipelinePolicy {
  let attempt = 0
  return {
    name: 'envsyncRequests',
    async sendRequest(request, next) {
      counter.requests++
      request.timeout = settings.timeoutMs
      const response = await next(request)
      if (response.status !== 429 && response.status !== 503) return response
      const wait = retryAfter(response.headers)
      if (wait !== undefined && wait > settings.maxWaitMs) throw rateLimited(wait)
      if (wait === undefined && response.status === 429) response.headers.set('retry-after-ms', String(Math.round(Math.min(backoff(Math.min(attempt++, settings.retries), settings.backoffMs), settings.maxWaitMs))))
      return response
    },
  }
}

/** The SDK's own millisecond headers first, then Retry-After (seconds or a date). */
function retryAfter(headers: {get(n: string): string | undefined}): number | undefined {
  const ms = Number(headers.get('retry-after-ms') ?? headers.get('x-ms-retry-after-ms') ?? Number.NaN)
  return Number.isFinite(ms) ? ms : retryAfterMs(headers as unknown as Headers)
}

function rateLimited(waitMs: number): EnvsyncError {
  return new EnvsyncError(`${SERVICE} rate limit: the next request is allowed in ${Math.ceil(waitMs / 1000)} s`, {
    code: 'RATE_LIMITED',
    exitCode: 1,
    suggestion: 'wait and run the command again; it only sends what still differs',
  })
}

type Tags = Record<string, string>

class AzureBackend implements SecretManagerBackend {
  readonly kind = 'azure' as const
  readonly service = SERVICE
  readonly structured = false
  readonly notes: string[] = []
  /** Tags of each secret's current version as last seen (undefined: seen absent). */
  private readonly tags = new Map<string, Tags | undefined>()
  /** Each secret's current version as read: its id and when it was created. */
  private readonly current = new Map<string, {version?: string; created?: Date}>()

  constructor(
    private readonly client: SecretClient,
    private readonly counter: {requests: number},
    private readonly settings: ReturnType<typeof retrySettings>,
    private readonly vaultUrl: string,
  ) {}

  get requests(): number {
    return this.counter.requests
  }


  async list(prefix: string): Promise<RemoteSecret[]> {
    const out: RemoteSecret[] = []
    try {
      for await (const page of this.client.listPropertiesOfSecrets().byPage({maxPageSize: PAGE_SIZE})) {
        for (const item of page) {
          // Certificates keep a managed secret of the same name: not a secret of anyone's config.
          if (item.managed || !item.name.startsWith(prefix)) continue
          this.tags.set(item.name, item.tags ?? {})
          out.push({name: item.name, marker: markerOf(item.tags), ...(item.id ? {id: item.id} : {})})
        }
      }
    } catch (error) {
      throw this.failure(error, 'list secrets', prefix === '' ? undefined : `${prefix}*`)
    }
    return out
  }

  async read(names: string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>()
    await mapLimit(names, CONCURRENCY, async (name) => {
      const secret = await this.latest(name, 'read')
      if (secret) values.set(name, secret.value)
    })
    return values
  }

  async write(name: string, value: string, marker: Marker, hint: {exists?: boolean} = {}): Promise<void> {
    this.checkValue(name, value)
    // A new version carries the current version's tags (the marker stays where it was); a new
    // secret gets the marker.
    let tags: Tags | undefined
    if (hint.exists === false) tags = undefined
    else if (this.tags.has(name)) tags = this.tags.get(name)
    else tags = (await this.latest(name, 'write'))?.tags
    const created = tags === undefined
    const sent = tags ?? markerTags(marker)
    let written: {properties: {version?: string; createdOn?: Date}}
    try {
      written = await this.client.setSecret(name, value, {tags: sent})
    } catch (error) {
      if (!isDeletedButRecoverable(error)) throw this.failure(error, 'write', name)
      await this.recover(name)
      try {
        // What was recovered was deleted: for the layout above this is a new secret, so it gets the marker.
        written = await this.client.setSecret(name, value, {tags: markerTags(marker)})
      } catch (again) {
        throw this.failure(again, 'write', name)
      }
    }
    this.tags.set(name, created ? markerTags(marker) : sent)
    this.current.set(name, {version: written.properties.version, created: written.properties.createdOn})
  }

  async remove(name: string): Promise<void> {
    try {
      // One poll: the DELETE (soft delete) and a look at the deleted secret; no waiting for the
      // purge, which is the vault's retention period away.
      await this.client.beginDeleteSecret(name, {intervalInMs: this.settings.backoffMs})
    } catch (error) {
      if (statusOf(error) !== 404) throw this.failure(error, 'delete', name)
    }
    this.tags.set(name, undefined)
  }

  /** The current version, or undefined when the name has none (absent, or deleted). */
  private async latest(name: string, operation: string): Promise<{value: string; tags?: Tags} | undefined> {
    try {
      const secret = await this.client.getSecret(name)
      this.tags.set(name, secret.properties.tags ?? {})
      this.current.set(name, {version: secret.properties.version, created: secret.properties.createdOn})
      return {value: secret.value ?? '', tags: secret.properties.tags ?? {}}
    } catch (error) {
      if (statusOf(error) === 404) {
        this.tags.set(name, undefined)
        this.current.delete(name)
        return undefined
      }
      throw this.failure(error, operation, name)
    }
  }

  /** The current version's createdOn, sent with its value: no request. (updatedOn also moves when tags change.) */
  async dates(names: string[]): Promise<Map<string, Date>> {
    return knownDates(names, (name) => this.current.get(name)?.created)
  }

  /**
   * Key Vault lists a secret's versions in no stated order: the pages of them, newest first by
   * createdOn (whole seconds: a tie goes to the one listed later), then one GET per version. At
   * most VERSION_PAGES + 1 pages are read (a read in a grace runs on every command): a secret with
   * more versions gets no previous value and a note, since the one before the current may be on
   * a page not read. A disabled version ends the walk, as backend.ts says.
   */
  async *older(name: string, limit: number): AsyncGenerator<string> {
    const current = this.current.get(name)?.version
    const versions: {version: string; enabled: boolean; created: number; at: number}[] = []
    try {
      let pages = 0
      for await (const page of this.client.listPropertiesOfSecretVersions(name).byPage({maxPageSize: PAGE_SIZE})) {
        // The client's pages carry no continuation token: a page past the bound is how more shows.
        if (pages++ === VERSION_PAGES) {
          this.notes.push(`${SERVICE}: ${name} has more versions than envsync looks through (${VERSION_PAGES} pages) for the one before the current, so it gives no previous value`)
          return
        }
        for (const v of page) if (v.version && v.version !== current) versions.push({version: v.version, enabled: v.enabled !== false, created: v.createdOn?.getTime() ?? 0, at: versions.length})
      }
    } catch (error) {
      if (statusOf(error) === 404) return
      throw this.failure(error, 'list the versions of', name)
    }
    versions.sort((a, b) => b.created - a.created || b.at - a.at)
    for (const {version, enabled} of versions.slice(0, limit)) {
      if (!enabled) return
      let value: string | undefined
      try {
        value = (await this.client.getSecret(name, {version})).value
      } catch (error) {
        // Deleted or disabled since it was listed.
        if (statusOf(error) === 404 || statusOf(error) === 403) return
        throw this.failure(error, 'read an older version of', name)
      }
      if (value === undefined) return
      registerSecret(value)
      yield value
    }
  }

  /**
   * Recovers a soft-deleted secret so a new version can be written: mostly envsync's own remove
   * deleted it, and recovery keeps its history (a purge would lose it and needs a right most
   * deployments do not grant). The recovery is polled a bounded number of times.
   */
  private async recover(name: string): Promise<void> {
    const purge = `az keyvault secret purge --vault-name ${this.vaultName()} --name ${name}`
    const recover = `az keyvault secret recover --vault-name ${this.vaultName()} --name ${name}`
    try {
      const poller = await this.client.beginRecoverDeletedSecret(name, {intervalInMs: this.settings.backoffMs})
      for (let poll = 0; !poller.isDone(); poll++) {
        if (poll >= RECOVER_POLLS) {
          throw new EnvsyncError(`${SERVICE}: ${name} was deleted and its recovery is still running`, {code: 'RECOVERY_PENDING', exitCode: 1, suggestion: 'run the command again in a minute'})
        }
        await sleep(this.settings.backoffMs * (poll + 1))
        await poller.poll()
      }
    } catch (error) {
      if (error instanceof EnvsyncError) throw error
      const status = statusOf(error)
      if (status === 403 || status === 401) {
        throw new EnvsyncError(`${SERVICE}: ${name} is deleted but recoverable (soft delete), and this identity may not recover it`, {
          code: 'DELETED_SECRET',
          exitCode: 1,
          suggestion: `recover it (${recover}) or purge it (${purge}), or grant the secrets recover permission (Key Vault Secrets Officer), then run again`,
        })
      }
      throw this.failure(error, 'recover the deleted secret', name)
    }
  }

  private vaultName(): string {
    return new URL(this.vaultUrl).hostname.split('.')[0]!
  }

  private checkValue(name: string, value: string): void {
    const bytes = Buffer.byteLength(value)
    if (bytes > MAX_VALUE_BYTES) {
      throw new EnvsyncError(`${SERVICE}: the value of ${name} is ${bytes} bytes; a Key Vault secret holds at most ${MAX_VALUE_BYTES}`, {
        code: 'VALUE_TOO_LARGE',
        exitCode: 1,
        suggestion: 'store a smaller value (a file reference, or split it into several keys)',
      })
    }
  }

  /** An SDK or credential error as an EnvsyncError naming the operation and the secret, never a value. */
  private failure(error: unknown, operation: string, name?: string): EnvsyncError {
    if (error instanceof EnvsyncError) return error
    const e = error as {name?: string; code?: string; statusCode?: number; message?: string}
    const what = `${SERVICE}: cannot ${operation}${name ? ` ${name}` : ''}`
    const status = statusOf(error)
    if (e.name === 'AggregateAuthenticationError' || e.name === 'CredentialUnavailableError') {
      return new EnvsyncError(`${what}: no Azure credential found`, {code: 'AUTH_MISSING', exitCode: 1, suggestion: CREDENTIAL_SUGGESTION})
    }
    if (e.name === 'CredentialTimeout') {
      return new EnvsyncError(`${what}: no Azure credential answered within ${this.settings.timeoutMs} ms`, {code: 'AUTH_MISSING', exitCode: 1, suggestion: CREDENTIAL_SUGGESTION})
    }
    if (e.name === 'AuthenticationError' || e.name === 'AuthenticationRequiredError') {
      return new EnvsyncError(`${what}: Microsoft Entra ID refused the credential`, {code: 'AUTH_FAILED', exitCode: 1, suggestion: 'check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run `az login` again'})
    }
    // The service's codes, never its message: a message may quote the value sent.
    const codes = [e.code, innerCode(error)].filter((c): c is string => typeof c === 'string' && CODE.test(c))
    const server = status ? ` (HTTP ${status}${codes.length ? ` ${[...new Set(codes)].join('/')}` : ''})` : ''
    if (status === 401) return new EnvsyncError(`${what}: the vault refused the token${server}`, {code: 'AUTH_FAILED', exitCode: 1, suggestion: 'check that the credential belongs to the vault\'s tenant (AZURE_TENANT_ID)'})
    if (status === 403 && codes.includes('SecretDisabled')) {
      return new EnvsyncError(`${what}: the secret is disabled${server}`, {code: 'SECRET_DISABLED', exitCode: 1, suggestion: `enable it (az keyvault secret set-attributes --vault-name ${this.vaultName()} --name ${name ?? 'NAME'} --enabled true) or remove it from the manifest`})
    }
    if (status === 403) {
      return new EnvsyncError(`${what}: access denied${server}`, {
        code: 'AUTH_DENIED',
        exitCode: 1,
        suggestion: `grant this identity the Key Vault Secrets Officer role on ${this.vaultName()} (or secrets get/list/set/delete/recover in the vault's access policy), and check the vault's firewall`,
      })
    }
    if (status === 404) return new EnvsyncError(`${what}: not found${server}`, {code: 'NOT_FOUND', exitCode: 1, suggestion: `check the vault (${this.vaultUrl})`})
    if (status === 429) return new EnvsyncError(`${what}: rate limited after ${this.settings.retries + 1} attempts${server}`, {code: 'RATE_LIMITED', exitCode: 1, suggestion: 'wait and run the command again; it only sends what still differs'})
    if (status !== undefined && status >= 500) return new EnvsyncError(`${what}: the service failed${server} after ${this.settings.retries + 1} attempts`, {code: 'PLATFORM_ERROR', exitCode: 1, suggestion: 'run the command again later; it only sends what still differs'})
    if (status !== undefined) return new EnvsyncError(`${what}: the vault refused the request${server}`, {code: 'PLATFORM_ERROR', exitCode: 1, suggestion: 'check the secret name and the vault'})
    const problem = e.name === 'AbortError' || /abort/i.test(e.message ?? '') ? 'timed out' : (e.code ?? 'network error')
    return new EnvsyncError(`${what}: cannot reach ${new URL(this.vaultUrl).host} (${problem})`, {
      code: 'UNREACHABLE',
      exitCode: 1,
      suggestion: 'check the network and the vault URL; rerunning converges because only what still differs is sent',
    })
  }
}

const CODE = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/

/** The innermost code of the service's error (ObjectIsDeletedButRecoverable, ForbiddenByRbac). */
function innerCode(error: unknown): string | undefined {
  let e = (errorBody(error) as {error?: {innerError?: unknown; innererror?: unknown}} | undefined)?.error as {code?: string; innerError?: unknown; innererror?: unknown} | undefined
  let code: string | undefined
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (depth > 0 && typeof e.code === 'string') code = e.code
    e = (e.innerError ?? e.innererror) as typeof e
  }
  return code
}

function statusOf(error: unknown): number | undefined {
  const status = (error as {statusCode?: unknown} | undefined)?.statusCode
  return typeof status === 'number' ? status : undefined
}

function isDeletedButRecoverable(error: unknown): boolean {
  if (statusOf(error) !== 409) return false
  return innerCode(error) === 'ObjectIsDeletedButRecoverable' || /deleted but recoverable/i.test((error as {message?: string}).message ?? '')
}

/** The service's error object ({error: {code, message, innerError}}) as the client kept it. */
function errorBody(error: unknown): unknown {
  return (error as {details?: unknown} | undefined)?.details
}
