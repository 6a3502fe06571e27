import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'

import {answerFault, dropConnection, type Fault, FaultInjector, type FaultRequest} from './faults.js'

/**
 * A state-keeping fake of Azure Key Vault's secrets data plane on 127.0.0.1 (a random port), for
 * the Azure backend's tests: the real @azure/keyvault-secrets client and the real
 * DefaultAzureCredential chain talk to it.
 *
 * Checked against the published contract, test/fixtures/azure-keyvault-secrets-2025-07-01.json
 * (swagger 2.0, see test/fixtures/README.md): each request's operation (path and method),
 * api-version and other query parameters, path parameters and JSON body are validated with Ajv
 * against the operation's declared parameters and schemas; a request that breaks them gets the
 * vault's 400 {"error":{"code":"BadParameter",…}} and is recorded in `violations`. Each answer
 * is validated against the schema the operation declares for its status (`default`:
 * KeyVaultError) and a mismatch is recorded there too. Two things the document does not cover
 * (see its PROVENANCE): the 401 Bearer challenge answered to a request without a token (the
 * client sends its first request bare, body stripped, to learn the authority and resource), and
 * the latest version read as `/secrets/{name}/` (empty version segment).
 *
 * Credentials: the fake is also an App Service managed identity endpoint (`IDENTITY_ENDPOINT` +
 * `IDENTITY_HEADER`, which DefaultAzureCredential consults): MSAL refuses a plain-http authority
 * host, so the client-secret path cannot be pointed at a loopback fake. Tokens it issues are the
 * only ones the vault accepts.
 *
 * Behaviour (PLATFORMS.md, "Azure Key Vault secrets"): names are case-insensitive and keep the
 * case they were created with; each PUT is a new version, tags belong to the version, a secret's
 * versions are listed oldest first (the document states no order); lists page
 * at `pageSize` (≤ 25) with an absolute `nextLink`; values are never listed; DELETE is soft (the
 * name stays taken: PUT answers 409 ObjectIsDeletedButRecoverable until recovered or purged);
 * values above 25 KiB are refused. Faults (./faults.ts) apply to requests that carry a token.
 */

export const API_VERSION = '2025-07-01'
export const SPEC_FILE = new URL('../fixtures/azure-keyvault-secrets-2025-07-01.json', import.meta.url)
const SPEC_ID = 'keyvault-secrets.json'
/** The resource the challenge names and the token endpoint is asked for. */
export const VAULT_RESOURCE = 'https://vault.azure.net'
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
export const IDENTITY_PATH = '/msi/token'
const MAX_VALUE_BYTES = 25 * 1024
const MAX_BODY = 1024 * 1024

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

// ================================================================================================
// The contract
// ================================================================================================

interface Param {
  name: string
  in: 'path' | 'query' | 'body' | 'header'
  required: boolean
  /** A JSON schema for the value (a swagger 2.0 non-body parameter is one already). */
  schema: Json
}

interface Operation {
  operationId: string
  method: string
  template: string
  regex: RegExp
  pathNames: string[]
  params: Param[]
  /** status ("200", "default") → schema (undefined: no body). */
  responses: Map<string, Json | undefined>
}

export class KeyVaultSpec {
  readonly operations: Operation[] = []
  private readonly ajv = new Ajv({strict: false, allErrors: true})
  private readonly cache = new Map<string, ValidateFunction>()

  constructor(readonly doc: Json) {
    this.ajv.addFormat('unixtime', {type: 'number', validate: (n: number) => Number.isInteger(n)})
    this.ajv.addFormat('int32', {type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31})
    this.ajv.addFormat('uri', true)
    this.ajv.addSchema(doc, SPEC_ID)
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      for (const [method, raw] of Object.entries(item as Json)) {
        const params: Param[] = (raw.parameters as Json[]).map((p) => {
          const node = p.$ref ? this.at(p.$ref.slice(1)) : p
          const {name, in: where, required, description: _d, schema, ...rest} = node
          return {name, in: where, required: required === true, schema: where === 'body' ? schema : stripSwagger(rest)}
        })
        const pathNames = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)
        // The version segment may be empty: `/secrets/{name}/` is the latest version.
        const regex = new RegExp('^' + template.replaceAll(/\{([^}]+)\}/g, (_, n: string) => (n === 'secret-version' ? '([^/]*)' : '([^/]+)')) + '$')
        const responses = new Map<string, Json | undefined>()
        for (const [status, r] of Object.entries(raw.responses as Json)) responses.set(status, (r as Json).schema)
        this.operations.push({operationId: raw.operationId, method: method.toUpperCase(), template, regex, pathNames, params, responses})
      }
    }
    // Literal segments first: `/secrets/{name}/versions` before `/secrets/{name}/{version}`.
    const literal = (t: string) => t.split('/').filter((s) => s && !s.startsWith('{')).length
    this.operations.sort((a, b) => literal(b.template) - literal(a.template))
  }

  static load(file: URL = SPEC_FILE): KeyVaultSpec {
    return new KeyVaultSpec(JSON.parse(readFileSync(file, 'utf8')))
  }

  at(pointer: string): Json {
    let node: unknown = this.doc
    for (const key of pointer.split('/').slice(1)) node = (node as Json)[key.replaceAll('~1', '/').replaceAll('~0', '~')]
    if (node === undefined) throw new Error(`keyvault spec: nothing at ${pointer}`)
    return node as Json
  }

  match(method: string, path: string): {op: Operation; params: Record<string, string>} | undefined {
    for (const op of this.operations) {
      const m = op.method === method ? op.regex.exec(path) : null
      if (!m) continue
      const params: Record<string, string> = {}
      op.pathNames.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)))
      return {op, params}
    }
    return undefined
  }

  /** Problems of one request against its operation (empty: valid). */
  checkRequest(op: Operation, path: Record<string, string>, query: URLSearchParams, body: unknown, extraQuery: string[] = []): string[] {
    const problems: string[] = []
    const known = new Set(op.params.filter((p) => p.in === 'query').map((p) => p.name))
    for (const name of new Set(query.keys())) {
      if (!known.has(name) && !extraQuery.includes(name)) problems.push(`query parameter "${name}" is not a parameter of ${op.operationId}`)
    }
    for (const p of op.params) {
      if (p.in === 'header') continue
      if (p.in === 'body') {
        if (body === undefined) {
          if (p.required) problems.push('the request body is required')
          continue
        }
        const v = this.validator(`body:${op.operationId}`, {$ref: `${SPEC_ID}#${p.schema.$ref.slice(1)}`})
        if (!v(body)) problems.push(formatErrors(v.errors, 'body'))
        continue
      }
      const raw = p.in === 'path' ? path[p.name] : (query.get(p.name) ?? undefined)
      if (raw === undefined) {
        if (p.required) problems.push(`${p.in} parameter "${p.name}" is required`)
        continue
      }
      // secret-version may be empty (the latest); any other path parameter may not.
      if (raw === '' && p.name !== 'secret-version') {
        problems.push(`${p.in} parameter "${p.name}" is empty`)
        continue
      }
      const value = p.schema.type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw
      const v = this.validator(`param:${op.operationId}:${p.name}`, p.schema)
      if (!v(value)) problems.push(formatErrors(v.errors, `${p.in} parameter "${p.name}"`))
    }
    return problems
  }

  /** Problems of one answer against the schema the operation declares for its status. */
  checkResponse(op: Operation | undefined, status: number, body: unknown): string[] {
    const schema = op ? (op.responses.get(String(status)) ?? (status >= 400 ? op.responses.get('default') : undefined)) : this.doc.paths['/secrets'].get.responses.default.schema
    if (op && !op.responses.has(String(status)) && status < 400) return [`${op.operationId}: status ${status} is not declared`]
    if (!schema) return body === undefined ? [] : [`${op?.operationId}: ${status} declares no body`]
    const v = this.validator(`response:${op?.operationId}:${status}`, {$ref: `${SPEC_ID}#${schema.$ref.slice(1)}`})
    if (v(body)) return []
    return [formatErrors(v.errors, `${op?.operationId ?? 'error'} ${status} response`)]
  }

  private validator(key: string, schema: Json): ValidateFunction {
    let v = this.cache.get(key)
    if (!v) {
      v = this.ajv.compile(schema)
      this.cache.set(key, v)
    }
    return v
  }
}

/** A swagger 2.0 parameter's own fields as JSON schema (x-ms-* and the like are not keywords). */
function stripSwagger(node: Json): Json {
  return Object.fromEntries(Object.entries(node).filter(([k]) => !k.startsWith('x-')))
}

/** Ajv errors as one line, without data values (bodies carry secrets). */
function formatErrors(errors: ErrorObject[] | null | undefined, where: string): string {
  if (!errors?.length) return `${where} is invalid`
  return errors
    .slice(0, 4)
    .map((e) => `${where}${e.instancePath} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` "${(e.params as {additionalProperty: string}).additionalProperty}"` : ''}`)
    .join('; ')
}

let sharedSpec: KeyVaultSpec | undefined
export function keyVaultSpec(): KeyVaultSpec {
  sharedSpec ??= KeyVaultSpec.load()
  return sharedSpec
}

// ================================================================================================
// State
// ================================================================================================

interface Version {
  id: string
  value: string
  tags?: Record<string, string>
  contentType?: string
  enabled: boolean
  created: number
}

interface SecretState {
  name: string
  versions: Version[]
  deleted?: {deletedDate: number; scheduledPurgeDate: number}
  /** GETs after a recovery still answered 404 (a recovery takes a while to show). */
  recovering: number
}

export interface Violation {
  kind: 'request' | 'response' | 'unknown-operation' | 'auth'
  operation?: string
  method: string
  path: string
  message: string
}

export interface LoggedRequest {
  method: string
  path: string
  operation?: string
  status: number
  authenticated: boolean
}

export interface AzureFakeOptions {
  /** Largest page a list serves (the API's own limit is 25). */
  pageSize?: number
  /** Whether this identity may recover deleted secrets (false: 403 Forbidden). */
  canRecover?: boolean
  /** GETs of a just-recovered secret answered 404 before it shows (default 0). */
  recoveryLag?: number
}

export interface AzureFake {
  url: string
  /** Variables that point DefaultAzureCredential at the fake's managed identity endpoint. */
  env: Record<string, string>
  faults: FaultInjector
  violations: Violation[]
  log: LoggedRequest[]
  options: Required<AzureFakeOptions>
  /** Vault requests received (challenges and faulted ones included; token requests not). */
  readonly requests: number
  readonly tokenRequests: number
  /** Most vault requests handled at once. */
  readonly maxInFlight: number
  /** Current value of a live secret (undefined: absent or deleted). */
  value(name: string): string | undefined
  /** Every version's value, oldest first. */
  versions(name: string): string[]
  /** When the current version of a live secret was created (whole seconds, as the service keeps it). */
  createdOn(name: string): Date | undefined
  tags(name: string): Record<string, string> | undefined
  isDeleted(name: string): boolean
  /** Seeds a secret version directly (no request). */
  put(name: string, value: string, tags?: Record<string, string>): void
  /** Disables the current version (or the `nth`, 1 the oldest), as `az keyvault secret set-attributes --enabled false` would. */
  disable(name: string, nth?: number): void
  /** Soft-deletes directly, as another tool or the portal would. */
  softDelete(name: string): void
  purge(name: string): void
  names(): string[]
  /** Forgets secrets, faults, violations, the log and counters (the identity endpoint stays). */
  reset(): void
  close(): Promise<void>
}

export const IDENTITY_HEADER = 'fake-identity-header-5a1c0e2f9b7d4e3a'

/**
 * MSAL keeps the managed identity it found, and the tokens it got, for the life of the process:
 * a later fake in the same test process is started on the port of the first (once that one is
 * closed) and accepts the tokens any fake of this process issued, as one vault and one identity
 * would. Kept on globalThis: a test loaded as CommonJS and one loaded as ESM each get their own
 * copy of this module.
 */
const SHARED = ((globalThis as Record<symbol, unknown>)[Symbol.for('envsync.test.azureFake')] ??= {issued: new Set<string>(), port: undefined}) as {issued: Set<string>; port?: number}
const ISSUED = SHARED.issued

// ================================================================================================
// The server
// ================================================================================================

export async function startAzure(options: AzureFakeOptions = {}): Promise<AzureFake> {
  const spec = keyVaultSpec()
  const opts: Required<AzureFakeOptions> = {pageSize: 25, canRecover: true, recoveryLag: 0, ...options}
  const secrets = new Map<string, SecretState>()
  const tokens = ISSUED
  const skipTokens = new Set<string>()
  const faults = new FaultInjector()
  const violations: Violation[] = []
  const log: LoggedRequest[] = []
  const sockets = new Set<Socket>()
  const stopping = new AbortController()
  let requests = 0
  let tokenRequests = 0
  let inFlight = 0
  let maxInFlight = 0
  let base = ''

  const now = () => Math.floor(Date.now() / 1000)
  const live = (name: string) => {
    const s = secrets.get(name.toLowerCase())
    return s && !s.deleted ? s : undefined
  }
  const attributes = (v: Version) => ({enabled: v.enabled, created: v.created, updated: v.created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90})
  const bundle = (s: SecretState, v: Version) => ({
    value: v.value,
    id: `${base}/secrets/${s.name}/${v.id}`,
    attributes: attributes(v),
    ...(v.tags ? {tags: v.tags} : {}),
    ...(v.contentType ? {contentType: v.contentType} : {}),
  })
  const deletedBundle = (s: SecretState) => ({...bundle(s, s.versions.at(-1)!), recoveryId: `${base}/deletedsecrets/${s.name}`, ...s.deleted})
  const addVersion = (name: string, value: string, tags?: Record<string, string>, contentType?: string) => {
    const key = name.toLowerCase()
    let s = secrets.get(key)
    if (!s) secrets.set(key, (s = {name, versions: [], recovering: 0}))
    const v: Version = {id: randomBytes(16).toString('hex'), value, tags, contentType, enabled: true, created: now()}
    s.versions.push(v)
    return {s, v}
  }

  const error = (status: number, code: string, message: string, inner?: string) => ({status, body: {error: {code, message, ...(inner ? {innererror: {code: inner}} : {})}}})
  const notFound = (name: string) => error(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`)

  type Answer = {status: number; body?: unknown}
  const handlers: Record<string, (p: Record<string, string>, q: URLSearchParams, body: Json | undefined) => Answer> = {
    GetSecrets(_p, q) {
      const size = Math.min(Number(q.get('maxresults') ?? 25), opts.pageSize)
      const token = q.get('$skiptoken')
      const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0
      const all = [...secrets.values()].filter((s) => !s.deleted).sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
      const page = all.slice(start, start + size).map((s) => {
        const v = s.versions.at(-1)!
        return {id: `${base}/secrets/${s.name}`, attributes: attributes(v), ...(v.tags ? {tags: v.tags} : {}), ...(v.contentType ? {contentType: v.contentType} : {})}
      })
      let nextLink: string | undefined
      if (start + size < all.length) {
        const next = Buffer.from(String(start + size)).toString('base64url')
        skipTokens.add(next)
        nextLink = `${base}/secrets?api-version=${API_VERSION}&$skiptoken=${next}&maxresults=${size}`
      }
      // The service sends "nextLink": null on the last page; the schema's string type does not
      // allow null, so the fake leaves it out (the client treats both alike).
      return {status: 200, body: {value: page, ...(nextLink ? {nextLink} : {})}}
    },
    GetSecretVersions(p, q) {
      const s = live(p['secret-name']!)
      if (!s) return notFound(p['secret-name']!)
      const size = Math.min(Number(q.get('maxresults') ?? 25), opts.pageSize)
      const token = q.get('$skiptoken')
      const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0
      // Listed oldest first (the service states no order).
      const page = s.versions.slice(start, start + size).map((v) => ({id: `${base}/secrets/${s.name}/${v.id}`, attributes: attributes(v), ...(v.tags ? {tags: v.tags} : {}), ...(v.contentType ? {contentType: v.contentType} : {})}))
      let nextLink: string | undefined
      if (start + size < s.versions.length) {
        const next = Buffer.from(String(start + size)).toString('base64url')
        skipTokens.add(next)
        nextLink = `${base}/secrets/${s.name}/versions?api-version=${API_VERSION}&$skiptoken=${next}&maxresults=${size}`
      }
      return {status: 200, body: {value: page, ...(nextLink ? {nextLink} : {})}}
    },
    GetSecret(p) {
      const s = live(p['secret-name']!)
      if (!s) return notFound(p['secret-name']!)
      if (s.recovering > 0) {
        s.recovering--
        return notFound(p['secret-name']!)
      }
      const version = p['secret-version']
      const v = version ? s.versions.find((x) => x.id === version) : s.versions.at(-1)
      if (!v) return error(404, 'SecretNotFound', `A secret with (name/id) ${p['secret-name']}/${version} was not found in this key vault.`)
      if (!v.enabled) return error(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled')
      return {status: 200, body: bundle(s, v)}
    },
    SetSecret(p, _q, body) {
      const name = p['secret-name']!
      const s = secrets.get(name.toLowerCase())
      if (s?.deleted) {
        return error(409, 'Conflict', `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`, 'ObjectIsDeletedButRecoverable')
      }
      if (Buffer.byteLength(body!.value) > MAX_VALUE_BYTES) return error(400, 'BadParameter', 'Property value has invalid value: the secret value is too large (25 KB at most).')
      const {s: state, v} = addVersion(name, body!.value, body!.tags, body!.contentType)
      return {status: 200, body: bundle(state, v)}
    },
    DeleteSecret(p) {
      const s = live(p['secret-name']!)
      if (!s) return notFound(p['secret-name']!)
      s.deleted = {deletedDate: now(), scheduledPurgeDate: now() + 90 * 86_400}
      return {status: 200, body: deletedBundle(s)}
    },
    GetDeletedSecret(p) {
      const s = secrets.get(p['secret-name']!.toLowerCase())
      if (!s?.deleted) return error(404, 'SecretNotFound', `Deleted Secret not found: ${p['secret-name']}`)
      return {status: 200, body: deletedBundle(s)}
    },
    RecoverDeletedSecret(p) {
      const s = secrets.get(p['secret-name']!.toLowerCase())
      if (!s?.deleted) return error(404, 'SecretNotFound', `Deleted Secret not found: ${p['secret-name']}`)
      if (!opts.canRecover) return error(403, 'Forbidden', 'The user, group or application does not have secrets recover permission on key vault. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287', 'ForbiddenByPolicy')
      delete s.deleted
      s.recovering = opts.recoveryLag
      return {status: 200, body: bundle(s, s.versions.at(-1)!)}
    },
    PurgeDeletedSecret(p) {
      const s = secrets.get(p['secret-name']!.toLowerCase())
      if (!s?.deleted) return error(404, 'SecretNotFound', `Deleted Secret not found: ${p['secret-name']}`)
      secrets.delete(p['secret-name']!.toLowerCase())
      return {status: 204}
    },
  }

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {...(body === undefined ? {} : {'content-type': 'application/json; charset=utf-8'}), 'content-length': String(Buffer.byteLength(text)), 'x-ms-keyvault-service-version': '1.9.0.0', ...headers})
    res.end(text)
  }

  const identity = (req: IncomingMessage, url: URL, res: ServerResponse) => {
    tokenRequests++
    const problems: string[] = []
    if (req.method !== 'GET') problems.push(`token requests are GET, not ${req.method}`)
    if (url.searchParams.get('api-version') !== '2019-08-01') problems.push('api-version must be 2019-08-01')
    if (url.searchParams.get('resource') !== VAULT_RESOURCE) problems.push(`resource must be ${VAULT_RESOURCE}`)
    if (req.headers['x-identity-header'] !== IDENTITY_HEADER) {
      violations.push({kind: 'auth', method: req.method ?? '', path: url.pathname, message: 'token request without the X-IDENTITY-HEADER'})
      return send(res, 401, {error: 'unauthorized', error_description: 'X-IDENTITY-HEADER missing or wrong'})
    }
    if (problems.length) {
      violations.push({kind: 'request', method: req.method ?? '', path: url.pathname, message: problems.join('; ')})
      return send(res, 400, {error: 'invalid_request', error_description: problems.join('; ')})
    }
    const token = `fake-kv-token-${randomBytes(12).toString('hex')}`
    tokens.add(token)
    send(res, 200, {access_token: token, expires_on: String(now() + 3600), resource: VAULT_RESOURCE, token_type: 'Bearer', client_id: '00000000-0000-0000-0000-00000000c0de'})
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY) chunks.push(c)
    })
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error_: unknown) => {
        violations.push({kind: 'response', method: req.method ?? '', path: req.url ?? '', message: `fake crashed: ${(error_ as Error).message}`})
        if (!res.headersSent) send(res, 500, {error: {code: 'InternalServerError', message: 'fake crashed'}})
      })
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse, text: string): Promise<void> {
    const url = new URL(req.url ?? '/', base)
    if (url.pathname === IDENTITY_PATH) return identity(req, url, res)
    requests++
    maxInFlight = Math.max(maxInFlight, ++inFlight)
    res.once('close', () => inFlight--)
    const method = req.method ?? 'GET'
    const matched = spec.match(method, url.pathname)
    const entry: LoggedRequest = {method, path: url.pathname, operation: matched?.op.operationId, status: 0, authenticated: false}
    log.push(entry)
    const answer = (status: number, body?: unknown, headers?: Record<string, string>) => {
      entry.status = status
      if (entry.authenticated) {
        for (const message of spec.checkResponse(matched?.op, status, body)) violations.push({kind: 'response', operation: matched?.op.operationId, method, path: url.pathname, message})
      }
      send(res, status, body, headers)
    }

    // The client's first request carries no token (and no body): it learns where to get one.
    const auth = req.headers.authorization
    if (!auth) {
      return answer(401, {error: {code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.'}}, {
        'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="${VAULT_RESOURCE}"`,
      })
    }
    entry.authenticated = true
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
      violations.push({kind: 'auth', operation: matched?.op.operationId, method, path: url.pathname, message: 'a token the identity endpoint did not issue'})
      return answer(401, {error: {code: 'Unauthorized', message: 'AKV10032: Invalid issuer.'}})
    }

    const request: FaultRequest = {method, path: url.pathname, operation: matched?.op.operationId, write: method !== 'GET', name: matched?.params['secret-name']}
    const fault = faults.next(request)
    if (await answerFault(fault, req, res, stopping.signal, (status) => (entry.status = status))) return

    if (!matched) {
      violations.push({kind: 'unknown-operation', method, path: url.pathname, message: `${method} ${url.pathname} is no operation of the contract`})
      return answer(400, {error: {code: 'BadParameter', message: `The request URI ${method} ${url.pathname} is not supported.`}})
    }
    const {op, params} = matched
    const problems: string[] = []
    const apiVersion = url.searchParams.get('api-version')
    if (apiVersion !== null && apiVersion !== API_VERSION) problems.push(`api-version ${apiVersion} is not ${API_VERSION}`)
    let body: Json | undefined
    const bodyParam = op.params.some((p) => p.in === 'body')
    if (text !== '') {
      if (!bodyParam) problems.push(`${op.operationId} takes no body`)
      else if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) problems.push('the body must be application/json')
      try {
        body = JSON.parse(text) as Json
      } catch {
        problems.push('the body is not JSON')
      }
    }
    // A $skiptoken is only valid as part of a nextLink the fake handed out.
    const token = url.searchParams.get('$skiptoken')
    const paged = op.operationId === 'GetSecrets' || op.operationId === 'GetSecretVersions'
    if (token !== null && (!paged || !skipTokens.has(token))) problems.push('$skiptoken was not issued by this vault')
    problems.push(...spec.checkRequest(op, params, url.searchParams, body, paged && token !== null ? ['$skiptoken'] : []))
    if (problems.length > 0) {
      violations.push({kind: 'request', operation: op.operationId, method, path: url.pathname, message: problems.join('; ')})
      return answer(400, {error: {code: 'BadParameter', message: problems.join('; ')}})
    }
    const handler = handlers[op.operationId]
    if (!handler) {
      violations.push({kind: 'unknown-operation', operation: op.operationId, method, path: url.pathname, message: `${op.operationId} is not implemented by the fake`})
      return answer(400, {error: {code: 'BadParameter', message: `${op.operationId} is not supported here.`}})
    }
    const result = handler(params, url.searchParams, body)
    if (fault?.kind === 'applyThenDrop') {
      entry.status = -1
      return dropConnection(req, res)
    }
    answer(result.status, result.body)
  }

  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  // The first port may be taken (that fake still open, or another process): any free one then.
  await (SHARED.port === undefined ? listen(0) : listen(SHARED.port).catch(() => listen(0)))
  SHARED.port ??= (server.address() as AddressInfo).port
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: base,
    env: {IDENTITY_ENDPOINT: `${base}${IDENTITY_PATH}`, IDENTITY_HEADER},
    faults,
    violations,
    log,
    options: opts,
    get requests() {
      return requests
    },
    get tokenRequests() {
      return tokenRequests
    },
    get maxInFlight() {
      return maxInFlight
    },
    value: (name) => live(name)?.versions.at(-1)?.value,
    versions: (name) => secrets.get(name.toLowerCase())?.versions.map((v) => v.value) ?? [],
    createdOn(name) {
      const v = live(name)?.versions.at(-1)
      return v ? new Date(v.created * 1000) : undefined
    },
    tags: (name) => live(name)?.versions.at(-1)?.tags,
    isDeleted: (name) => secrets.get(name.toLowerCase())?.deleted !== undefined,
    put(name, value, tags) {
      addVersion(name, value, tags)
    },
    disable(name, nth) {
      const v = live(name)?.versions.at(nth === undefined ? -1 : nth - 1)
      if (v) v.enabled = false
    },
    softDelete(name) {
      const s = live(name)
      if (s) s.deleted = {deletedDate: now(), scheduledPurgeDate: now() + 90 * 86_400}
    },
    purge(name) {
      secrets.delete(name.toLowerCase())
    },
    names: () => [...secrets.values()].filter((s) => !s.deleted).map((s) => s.name),
    reset() {
      secrets.clear()
      skipTokens.clear()
      faults.reset()
      violations.length = 0
      log.length = 0
      requests = 0
      tokenRequests = 0
      maxInFlight = 0
      Object.assign(opts, {pageSize: 25, canRecover: true, recoveryLag: 0, ...options})
    },
    async close() {
      stopping.abort()
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Key Vault's own throttling answer: 429, Retry-After (seconds) and its error shape. */
export function throttled(retryAfter: number | string = 1): Fault {
  return {
    kind: 'status',
    status: 429,
    retryAfter,
    body: JSON.stringify({error: {code: 'Throttled', message: 'Request was not processed because too many requests were received. Reason: A  vault transaction limit was exceeded.'}}),
  }
}
