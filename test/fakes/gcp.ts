import {createSign, createVerify, generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import protobuf from 'protobufjs'

import {crc32c} from '../../src/targets/managers/gcp.js'
import {answerFault, dropConnection, type Fault, FaultInjector, type FaultRequest} from './faults.js'

/**
 * A state-keeping fake of Google Secret Manager's REST API (v1) on 127.0.0.1 and a random port,
 * for the real @google-cloud/secret-manager client in REST mode (`fallback: true`).
 *
 * The contract is the published proto (test/fixtures/gcp-secretmanager-v1-{service,resources}.proto,
 * copied from the client package; the google/* imports they name are read from google-gax's
 * bundled protos). Routes come from each method's google.api.http binding; query parameters and
 * JSON bodies are checked field by field against the request message (proto3 JSON mapping:
 * lowerCamel or original names, types, enums, maps, oneofs, REQUIRED fields), then against the
 * API's documented rules (secret id pattern, label rules, payload size, CRC32C). A request that
 * breaks the contract is answered as Google answers — 400 INVALID_ARGUMENT in the
 * {"error":{code,message,status}} shape — and recorded in `violations`; so is an operation the
 * fake does not implement, a path no binding matches, and any answer the fake builds that does
 * not match its response message (a fake that drifted).
 *
 * Auth is what the client really sends: google-auth-library signs a self-signed JWT with the
 * service account key (RS256, kid = private_key_id, iss = sub = client_email, scope
 * cloud-platform) and never calls the token endpoint (gtoken would post to a fixed
 * oauth2.googleapis.com URL, so token_uri in the key file is not used). The fake writes the key
 * file, and verifies each bearer's signature, claims and expiry.
 *
 * Assumed (not in the proto): ids in returned names use the project NUMBER; `latest` is the most
 * recently created version, and accessing it when disabled or destroyed is FAILED_PRECONDITION;
 * deletion is immediate; the list filter supports `name:VALUE` / `name:"VALUE"` (substring).
 */

const FIXTURES = new URL('../fixtures/', import.meta.url)
export const SERVICE_PROTO = fileURLToPath(new URL('gcp-secretmanager-v1-service.proto', FIXTURES))
export const RESOURCES_PROTO = fileURLToPath(new URL('gcp-secretmanager-v1-resources.proto', FIXTURES))
const GAX_PROTOS = fileURLToPath(new URL('../../node_modules/google-gax/build/protos/', import.meta.url))
const PACKAGE = 'google.cloud.secretmanager.v1'
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
export const PROJECT_ID = 'envsync-test'
export const PROJECT_NUMBER = '123456789012'
const MAX_BODY = 1024 * 1024

// ================================================================================================
// The contract: the proto, its HTTP bindings, a proto3-JSON checker
// ================================================================================================

interface Route {
  method: string
  /** The RPC name (ListSecrets). */
  operation: string
  regex: RegExp
  /** Request field (dotted) bound to each path variable, in order. */
  pathFields: string[]
  /** "" (no body), "*" (the rest of the request), or a field name. */
  body: string
  requestType: protobuf.Type
  responseType: protobuf.Type
}

let contract: {root: protobuf.Root; routes: Route[]} | undefined

export function loadContract(): {root: protobuf.Root; routes: Route[]} {
  if (contract) return contract
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => {
    if (target === SERVICE_PROTO || target === RESOURCES_PROTO) return target
    if (target === 'google/cloud/secretmanager/v1/resources.proto') return RESOURCES_PROTO
    return join(GAX_PROTOS, target)
  }
  root.loadSync(SERVICE_PROTO, {keepCase: true})
  root.resolveAll()
  const service = root.lookupService(`${PACKAGE}.SecretManagerService`)
  const routes: Route[] = []
  for (const method of service.methodsArray) {
    const http = (method.parsedOptions ?? []).find((o: Record<string, unknown>) => '(google.api.http)' in o)?.['(google.api.http)'] as Record<string, unknown> | undefined
    if (!http) continue
    const bindings = [http, ...[http.additional_bindings ?? []].flat()] as Record<string, unknown>[]
    for (const binding of bindings) {
      const verb = ['get', 'post', 'patch', 'delete', 'put'].find((v) => typeof binding[v] === 'string')!
      const template = binding[verb] as string
      const pathFields: string[] = []
      const pattern = template.replace(/[.:]/g, (c) => `\\${c}`).replace(/\{([^}=]+)(?:=([^}]+))?\}/g, (_m, field: string, sub?: string) => {
        pathFields.push(field)
        const inner = (sub ?? '*').split('/').map((s) => (s === '*' ? '[^/:]+' : s === '**' ? '.+' : s)).join('/')
        return `(${inner})`
      })
      routes.push({
        method: verb.toUpperCase(),
        operation: method.name,
        regex: new RegExp(`^${pattern}$`),
        pathFields,
        body: typeof binding.body === 'string' ? binding.body : '',
        requestType: root.lookupType(method.requestType),
        responseType: root.lookupType(method.responseType),
      })
    }
  }
  contract = {root, routes}
  return contract
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())

function behaviors(field: protobuf.Field): string[] {
  return ((field.parsedOptions ?? []) as Record<string, unknown>[]).flatMap((o: Record<string, unknown>) => ('(google.api.field_behavior)' in o ? [String(o['(google.api.field_behavior)'])] : []))
}

/** A message's field by its JSON name (lowerCamel) or its proto name. */
function fieldOf(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return type.fields[key] ?? type.fieldsArray.find((f) => camel(f.name) === key)
}

const INT64 = /^-?\d{1,19}$/
const WELL_KNOWN: Record<string, (v: unknown) => boolean> = {
  'google.protobuf.Timestamp': (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(v),
  'google.protobuf.Duration': (v) => typeof v === 'string' && /^-?\d+(\.\d{1,9})?s$/.test(v),
  'google.protobuf.FieldMask': (v) => typeof v === 'string',
}

/**
 * Problems of `value` as the proto3 JSON of `type`, worded like Google's ("Invalid JSON payload
 * received. Unknown name …"). `requireRequired`: REQUIRED fields must be present (requests).
 */
export function checkMessage(type: protobuf.Type, value: unknown, at: string, requireRequired: boolean): string[] {
  const wk = WELL_KNOWN[type.fullName.slice(1)]
  if (wk) return wk(value) ? [] : [`Invalid value at '${at}' (${type.name})`]
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`Invalid value at '${at}' (type.googleapis.com/${type.fullName.slice(1)}), expected an object`]
  const problems: string[] = []
  const oneofs = new Map<string, string>()
  for (const [key, v] of Object.entries(value)) {
    const field = fieldOf(type, key)
    const where = at ? `${at}.${key}` : key
    if (!field) {
      problems.push(`Invalid JSON payload received. Unknown name "${key}"${at ? ` at '${at}'` : ''}: Cannot find field.`)
      continue
    }
    if (field.partOf && v !== null) {
      const other = oneofs.get(field.partOf.name)
      if (other) problems.push(`Invalid JSON payload received. Oneof field '${field.partOf.name}' is already set. Cannot set '${key}'`)
      oneofs.set(field.partOf.name, key)
    }
    if (v === null) continue
    if (field.map) {
      if (typeof v !== 'object' || Array.isArray(v)) problems.push(`Invalid value at '${where}', expected a map`)
      else for (const [k, item] of Object.entries(v as object)) problems.push(...checkScalarOrMessage(field, item, `${where}[${JSON.stringify(k)}]`, requireRequired))
    } else if (field.repeated) {
      if (!Array.isArray(v)) problems.push(`Invalid value at '${where}', expected a list`)
      else v.forEach((item, i) => problems.push(...checkScalarOrMessage(field, item, `${where}[${i}]`, requireRequired)))
    } else problems.push(...checkScalarOrMessage(field, v, where, requireRequired))
  }
  if (requireRequired) {
    for (const field of type.fieldsArray) {
      if (!behaviors(field).includes('REQUIRED')) continue
      const present = Object.keys(value).some((k) => fieldOf(type, k) === field && (value as Record<string, unknown>)[k] !== null)
      if (!present) problems.push(`Field [${at ? `${at}.` : ''}${field.name}] is required.`)
    }
  }
  return problems
}

function checkScalarOrMessage(field: protobuf.Field, v: unknown, at: string, requireRequired: boolean): string[] {
  if (field.resolvedType instanceof protobuf.Type) return checkMessage(field.resolvedType, v, at, requireRequired)
  if (field.resolvedType instanceof protobuf.Enum) {
    const values = field.resolvedType.values
    const ok = typeof v === 'number' ? Object.values(values).includes(v) : typeof v === 'string' && v in values
    return ok ? [] : [`Invalid value at '${at}' (type.googleapis.com/${field.resolvedType.fullName.slice(1)}), ${JSON.stringify(v)}`]
  }
  const bad = [`Invalid value at '${at}' (TYPE_${field.type.toUpperCase()})`]
  switch (field.type) {
    case 'string':
      return typeof v === 'string' ? [] : bad
    case 'bool':
      return typeof v === 'boolean' ? [] : bad
    case 'bytes':
      return typeof v === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(v) ? [] : bad
    case 'int32':
    case 'uint32':
    case 'sint32':
    case 'fixed32':
      return Number.isInteger(typeof v === 'string' ? Number(v) : v) && Math.abs(Number(v)) < 2 ** 32 ? [] : bad
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && INT64.test(v)) ? [] : bad
    case 'double':
    case 'float':
      return typeof v === 'number' ? [] : bad
    default:
      return bad
  }
}

// ================================================================================================
// Errors in Google's shape, and the throttling answer
// ================================================================================================

const HTTP_OF: Record<string, number> = {INVALID_ARGUMENT: 400, FAILED_PRECONDITION: 400, UNAUTHENTICATED: 401, PERMISSION_DENIED: 403, NOT_FOUND: 404, ALREADY_EXISTS: 409, RESOURCE_EXHAUSTED: 429, UNIMPLEMENTED: 501, UNAVAILABLE: 503, INTERNAL: 500}

export function googleError(status: keyof typeof HTTP_OF, message: string, details?: unknown[]): {code: number; body: string} {
  const code = HTTP_OF[status]!
  return {code, body: JSON.stringify({error: {code, message, status, ...(details ? {details} : {})}})}
}

/**
 * Secret Manager's own throttling answer: 429 RESOURCE_EXHAUSTED with an ErrorInfo
 * (RATE_LIMIT_EXCEEDED) and, when `retryDelaySeconds` is given, a RetryInfo; `retryAfter` adds
 * the Retry-After header a proxy in front may send.
 */
export function throttled(options: {retryAfter?: number; retryDelaySeconds?: number} = {}): Fault {
  const details: unknown[] = [
    {'@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com', metadata: {service: 'secretmanager.googleapis.com', quota_metric: 'secretmanager.googleapis.com/access_requests', quota_limit: 'AccessRequestsPerMinutePerProject'}},
  ]
  if (options.retryDelaySeconds !== undefined) details.push({'@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${options.retryDelaySeconds}s`})
  const {body} = googleError('RESOURCE_EXHAUSTED', "Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute per project' of service 'secretmanager.googleapis.com'.", details)
  return {kind: 'status', status: 429, body, ...(options.retryAfter !== undefined ? {retryAfter: options.retryAfter} : {})}
}

/** 503 UNAVAILABLE in Google's shape. */
export function unavailable(): Fault {
  return {kind: 'status', status: 503, body: googleError('UNAVAILABLE', 'The service is currently unavailable.').body}
}

// ================================================================================================
// State
// ================================================================================================

export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED'
const STATE_NUMBER: Record<VersionState, number> = {ENABLED: 1, DISABLED: 2, DESTROYED: 3}

export interface FakeVersion {
  number: number
  data: Buffer
  crc32c: number
  state: VersionState
  createTime: string
}

export interface FakeSecret {
  id: string
  labels: Record<string, string>
  createTime: string
  /** Creation order (a clock can repeat a timestamp). */
  seq: number
  versions: FakeVersion[]
}

export interface GcpFakeOptions {
  /** Largest page ListSecrets serves (default 3, so paging is exercised). */
  pageSize?: number
  /** The key file's project_id (default envsync-test). */
  project?: string
}

export interface LoggedRequest {
  method: string
  path: string
  operation: string
  status: number
}

export interface GcpFake {
  url: string
  /** Variables that point the real client at this fake with valid credentials. */
  env: Record<string, string>
  keyFile: string
  clientEmail: string
  faults: FaultInjector
  violations: string[]
  log: LoggedRequest[]
  readonly requests: number
  secrets: Map<string, FakeSecret>
  secret(id: string): FakeSecret | undefined
  /** Values of a secret's versions, oldest first. */
  versions(id: string): string[]
  seed(id: string, values: string[], labels?: Record<string, string>): void
  setVersionState(id: string, number: number, state: VersionState): void
  /** Sends a raw request (tests that prove the contract check can fail). */
  raw(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{status: number; json: unknown}>
  /** A valid bearer for raw(). */
  bearer(): string
  close(): Promise<void>
}

// ================================================================================================
// The server
// ================================================================================================

export async function startGcp(options: GcpFakeOptions = {}): Promise<GcpFake> {
  const {routes} = loadContract()
  const pageMax = options.pageSize ?? 3
  const project = options.project ?? PROJECT_ID
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const keyId = 'fakekey0123456789abcdef0123456789abcdef'
  const clientEmail = `envsync@${project}.iam.gserviceaccount.com`
  const dir = mkdtempSync(join(tmpdir(), 'envsync-gcp-'))
  const keyFile = join(dir, 'service-account.json')
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: project,
      private_key_id: keyId,
      private_key: privateKey.export({type: 'pkcs8', format: 'pem'}),
      client_email: clientEmail,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
    }),
    {mode: 0o600},
  )
  const secrets = new Map<string, FakeSecret>()
  const faults = new FaultInjector()
  const violations: string[] = []
  const log: LoggedRequest[] = []
  let requests = 0
  let seq = 0
  let clock = Date.parse('2026-01-01T00:00:00Z')
  const now = () => new Date((clock += 1000)).toISOString()
  const stopping = new AbortController()
  const sockets = new Set<Socket>()

  const secretName = (id: string) => `projects/${PROJECT_NUMBER}/secrets/${id}`
  const projectOf = (parent: string) => /^projects\/([^/]+)$/.exec(parent)?.[1]
  const knownProject = (p: string | undefined) => p === project || p === PROJECT_NUMBER

  function secretJson(s: FakeSecret) {
    return {name: secretName(s.id), replication: {automatic: {}}, createTime: s.createTime, labels: s.labels, etag: `"${s.seq}"`}
  }

  function versionJson(s: FakeSecret, v: FakeVersion) {
    return {name: `${secretName(s.id)}/versions/${v.number}`, createTime: v.createTime, state: STATE_NUMBER[v.state], replicationStatus: {automatic: {}}, etag: `"${v.number}"`, clientSpecifiedPayloadChecksum: true}
  }

  /** Bearer: a self-signed JWT of the fake's service account. */
  function authProblem(header: string | undefined): string | undefined {
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(header ?? '')
    if (!m) return 'no bearer JWT'
    const [, h, p, sig] = m
    let head: Record<string, unknown>
    let claims: Record<string, unknown>
    try {
      head = JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as Record<string, unknown>
      claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>
    } catch {
      return 'a JWT that does not parse'
    }
    if (head.alg !== 'RS256' || head.kid !== keyId) return 'a JWT not signed with the service account key (alg/kid)'
    const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(sig!, 'base64url'))
    if (!ok) return 'a JWT whose signature does not verify'
    if (claims.iss !== clientEmail || claims.sub !== clientEmail) return 'a JWT of another account'
    if (!String(claims.scope ?? '').split(' ').includes(SCOPE) && claims.aud === undefined) return 'a JWT without the cloud-platform scope or an audience'
    const t = Math.floor(Date.now() / 1000)
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp < t || claims.iat > t + 300 || claims.exp - claims.iat > 3600) return 'an expired or over-long JWT'
    return undefined
  }

  function send(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, {'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(body))})
    res.end(body)
  }

  interface Answer {
    status: number
    json: unknown
    /** Checked against the response message before sending. */
    type?: protobuf.Type
  }

  const fail = (status: keyof typeof HTTP_OF, message: string, details?: unknown[]): Answer => {
    const e = googleError(status, message, details)
    return {status: e.code, json: JSON.parse(e.body)}
  }

  const invalid = (problems: string[], what: string): Answer => {
    for (const p of problems) violations.push(`${what}: ${p}`)
    return fail('INVALID_ARGUMENT', problems[0]!, [{'@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: problems.map((description) => ({description}))}])
  }

  /** The operations envsync uses, after the contract checks. */
  function handle(route: Route, request: Record<string, unknown>): Answer {
    const ok = (json: unknown): Answer => ({status: 200, json, type: route.responseType})
    const parent = String(request.parent ?? '')
    switch (route.operation) {
      case 'ListSecrets': {
        if (!knownProject(projectOf(parent))) return fail('PERMISSION_DENIED', `Permission 'secretmanager.secrets.list' denied for resource '${parent}' (or it may not exist).`)
        const filter = typeof request.filter === 'string' ? request.filter : ''
        let needle: string | undefined
        if (filter !== '') {
          const f = /^name:(?:"([^"\\]*)"|([A-Za-z0-9_-]+))$/.exec(filter.trim())
          if (!f) return invalid([`the fake supports only name:VALUE filters, not ${JSON.stringify(filter)}`], 'ListSecrets')
          needle = (f[1] ?? f[2]!).toLowerCase()
        }
        const all = [...secrets.values()].sort((a, b) => b.seq - a.seq).filter((s) => needle === undefined || secretName(s.id).toLowerCase().includes(needle))
        const size = Number(request.page_size ?? 0)
        if (size < 0) return fail('INVALID_ARGUMENT', 'page_size must be non-negative')
        const limit = Math.min(size === 0 ? pageMax : size, pageMax)
        let offset = 0
        if (request.page_token) {
          const decoded = /^o:(\d+)$/.exec(Buffer.from(String(request.page_token), 'base64url').toString('utf8'))
          if (!decoded) return fail('INVALID_ARGUMENT', 'The page token is invalid.')
          offset = Number(decoded[1])
        }
        const page = all.slice(offset, offset + limit)
        const next = offset + limit < all.length ? Buffer.from(`o:${offset + limit}`).toString('base64url') : undefined
        return ok({secrets: page.map(secretJson), ...(next ? {nextPageToken: next} : {}), ...(needle === undefined ? {totalSize: all.length} : {})})
      }
      case 'CreateSecret': {
        if (!knownProject(projectOf(parent))) return fail('PERMISSION_DENIED', `Permission 'secretmanager.secrets.create' denied for resource '${parent}' (or it may not exist).`)
        const id = String(request.secret_id ?? '')
        const secret = (request.secret ?? {}) as Record<string, unknown>
        const problems: string[] = []
        if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) problems.push('Invalid secret_id: must be at most 255 letters, digits, - and _.')
        if (!secret.replication) problems.push('Field [secret.replication] is required.')
        const labels = (secret.labels ?? {}) as Record<string, string>
        if (Object.keys(labels).length > 64) problems.push('A secret may have at most 64 labels.')
        for (const [k, v] of Object.entries(labels)) {
          if (!/^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u.test(k) || Buffer.byteLength(k) > 128) problems.push(`Invalid label key ${JSON.stringify(k)}.`)
          if (!/^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u.test(v) || Buffer.byteLength(v) > 128) problems.push(`Invalid label value for key ${JSON.stringify(k)}.`)
        }
        if (problems.length) return invalid(problems, 'CreateSecret')
        if (secrets.has(id)) return fail('ALREADY_EXISTS', `Secret [${secretName(id)}] already exists.`)
        const s: FakeSecret = {id, labels: {...labels}, createTime: now(), seq: ++seq, versions: []}
        secrets.set(id, s)
        return ok(secretJson(s))
      }
      case 'AddSecretVersion': {
        const m = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(parent)
        if (!m || !knownProject(m[1])) return fail('PERMISSION_DENIED', `Permission 'secretmanager.versions.add' denied for resource '${parent}' (or it may not exist).`)
        const s = secrets.get(m[2]!)
        if (!s) return fail('NOT_FOUND', `Secret [${secretName(m[2]!)}] not found or has no versions.`)
        const payload = (request.payload ?? {}) as {data?: string; dataCrc32c?: string | number; data_crc32c?: string | number}
        const data = Buffer.from(payload.data ?? '', 'base64')
        // An empty payload is refused (proto3 JSON leaves empty bytes out: "payload is required").
        if (data.length === 0) return invalid(['Field [payload] is required.'], 'AddSecretVersion')
        if (data.length > 65536) return invalid([`Secret payload size ${data.length} exceeds the limit of 65536 bytes.`], 'AddSecretVersion')
        const sent = payload.dataCrc32c ?? payload.data_crc32c
        if (sent !== undefined && Number(sent) !== crc32c(data)) return invalid(['The provided data_crc32c does not match the checksum of the payload.'], 'AddSecretVersion')
        const v: FakeVersion = {number: s.versions.length + 1, data, crc32c: crc32c(data), state: 'ENABLED', createTime: now()}
        s.versions.push(v)
        return ok(versionJson(s, v))
      }
      case 'AccessSecretVersion': {
        const name = String(request.name ?? '')
        const m = /^projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/]+)$/.exec(name)
        if (!m || !knownProject(m[1])) return fail('PERMISSION_DENIED', `Permission 'secretmanager.versions.access' denied for resource '${name}' (or it may not exist).`)
        const s = secrets.get(m[2]!)
        const v = s && (m[3] === 'latest' ? s.versions.at(-1) : s.versions.find((x) => String(x.number) === m[3]))
        if (!s || !v) return fail('NOT_FOUND', `Secret Version [${secretName(m[2]!)}/versions/${m[3]}] not found.`)
        if (v.state !== 'ENABLED') return fail('FAILED_PRECONDITION', `Secret Version [${secretName(s.id)}/versions/${v.number}] is in ${v.state} state.`)
        return ok({name: `${secretName(s.id)}/versions/${v.number}`, payload: {data: v.data.toString('base64'), dataCrc32c: String(v.crc32c)}})
      }
      case 'GetSecretVersion': {
        const name = String(request.name ?? '')
        const m = /^projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/]+)$/.exec(name)
        if (!m || !knownProject(m[1])) return fail('PERMISSION_DENIED', `Permission 'secretmanager.versions.get' denied for resource '${name}' (or it may not exist).`)
        const s = secrets.get(m[2]!)
        const v = s && (m[3] === 'latest' ? s.versions.at(-1) : s.versions.find((x) => String(x.number) === m[3]))
        if (!s || !v) return fail('NOT_FOUND', `Secret Version [${secretName(m[2]!)}/versions/${m[3]}] not found.`)
        return ok(versionJson(s, v))
      }
      case 'DeleteSecret': {
        const name = String(request.name ?? '')
        const m = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(name)
        if (!m || !knownProject(m[1])) return fail('PERMISSION_DENIED', `Permission 'secretmanager.secrets.delete' denied for resource '${name}' (or it may not exist).`)
        if (!secrets.delete(m[2]!)) return fail('NOT_FOUND', `Secret [${secretName(m[2]!)}] not found.`)
        return ok({})
      }
      default:
        violations.push(`${route.operation}: an operation the fake does not implement`)
        return fail('UNIMPLEMENTED', `Method ${route.operation} is not implemented by the fake.`)
    }
  }

  /** Builds the request message from path, query and body, and checks it against the proto. */
  function decode(route: Route, match: RegExpExecArray, url: URL, text: string): {request?: Record<string, unknown>; problems: string[]} {
    const problems: string[] = []
    const request: Record<string, unknown> = {}
    route.pathFields.forEach((f, i) => (request[f] = decodeURIComponent(match[i + 1]!)))
    for (const [key, value] of url.searchParams) {
      if (key === '$alt') {
        if (value !== 'json;enum-encoding=int' && value !== 'json') problems.push(`Invalid system parameter $alt=${value}`)
        continue
      }
      if (key === '$prettyPrint') continue
      const field = fieldOf(route.requestType, key)
      if (!field || route.pathFields.includes(field.name) || route.body === '*' || field.name === route.body) {
        problems.push(`Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. Field '${key}' could not be found in request message.`)
        continue
      }
      request[field.name] = field.type === 'string' ? value : Number(value)
    }
    if (route.body === '') {
      if (text.trim() !== '') problems.push(`${route.operation} takes no request body`)
    } else {
      let body: unknown
      try {
        body = text.trim() === '' ? {} : JSON.parse(text)
      } catch {
        return {problems: ['Invalid JSON payload received. Unexpected token.']}
      }
      if (route.body !== '*') request[route.body] = body
      else if (typeof body !== 'object' || body === null || Array.isArray(body)) problems.push('Invalid JSON payload received. Expected an object.')
      else {
        for (const [k, v] of Object.entries(body)) {
          const name = fieldOf(route.requestType, k)?.name ?? k
          if (route.pathFields.includes(name)) problems.push(`Invalid JSON payload received. Unknown name "${k}": the path binds it.`)
          else request[name] = v
        }
      }
    }
    problems.push(...checkMessage(route.requestType, request, '', true))
    return {request, problems}
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > MAX_BODY) return send(res, 413, googleError('INVALID_ARGUMENT', 'Request payload size exceeds the limit.').body)
      chunks.push(chunk as Buffer)
    }
    const text = Buffer.concat(chunks).toString('utf8')
    requests++
    const url = new URL(req.url ?? '/', 'http://fake')
    const method = req.method ?? 'GET'
    let match: RegExpExecArray | null = null
    const route = routes.find((r) => r.method === method && (match = r.regex.exec(url.pathname)) !== null)
    const operation = route?.operation ?? 'unknown'
    const entry: LoggedRequest = {method, path: url.pathname, operation, status: 0}
    log.push(entry)
    const faultRequest: FaultRequest = {method, path: url.pathname, operation, write: method !== 'GET'}
    const fault = faults.next(faultRequest)
    if (await answerFault(fault, req, res, stopping.signal, (status) => (entry.status = status))) return
    let answer: Answer
    const authError = authProblem(req.headers.authorization)
    if (authError) {
      answer = fail('UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.')
    } else if (!route) {
      violations.push(`${method} ${url.pathname}: no google.api.http binding matches`)
      answer = fail('NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`)
    } else {
      const {request, problems} = decode(route, match!, url, text)
      if (problems.length > 0 || !request) answer = invalid(problems, operation)
      else if (req.headers['content-type'] && !/^application\/json/.test(req.headers['content-type'])) answer = invalid([`content-type ${req.headers['content-type']}`], operation)
      else answer = handle(route, request)
    }
    if (answer.type) {
      const drift = checkMessage(answer.type, answer.json, '', false)
      if (drift.length > 0) {
        violations.push(...drift.map((d) => `${operation} response: ${d}`))
        answer = fail('INTERNAL', 'The fake built an answer its proto does not allow.')
      }
    }
    entry.status = answer.status
    if (fault?.kind === 'applyThenDrop') return void dropConnection(req, res)
    send(res, answer.status, JSON.stringify(answer.json))
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      violations.push(`fake crashed: ${(error as Error).message}`)
      if (!res.headersSent) send(res, 500, googleError('INTERNAL', 'Internal error.').body)
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`

  function bearer(): string {
    const iat = Math.floor(Date.now() / 1000)
    const h = Buffer.from(JSON.stringify({alg: 'RS256', typ: 'JWT', kid: keyId})).toString('base64url')
    const p = Buffer.from(JSON.stringify({iss: clientEmail, sub: clientEmail, scope: SCOPE, iat, exp: iat + 3600})).toString('base64url')
    const sig = createSign('RSA-SHA256').update(`${h}.${p}`).sign(privateKey).toString('base64url')
    return `Bearer ${h}.${p}.${sig}`
  }

  return {
    url,
    env: {ENVSYNC_GCP_SECRET_MANAGER_URL: url, GOOGLE_APPLICATION_CREDENTIALS: keyFile},
    keyFile,
    clientEmail,
    faults,
    violations,
    log,
    get requests() {
      return requests
    },
    secrets,
    secret: (id) => secrets.get(id),
    versions: (id) => (secrets.get(id)?.versions ?? []).map((v) => v.data.toString('utf8')),
    seed(id, values, labels = {}) {
      const s: FakeSecret = {id, labels, createTime: now(), seq: ++seq, versions: []}
      for (const value of values) {
        const data = Buffer.from(value, 'utf8')
        s.versions.push({number: s.versions.length + 1, data, crc32c: crc32c(data), state: 'ENABLED', createTime: now()})
      }
      secrets.set(id, s)
    },
    setVersionState(id, number, state) {
      const v = secrets.get(id)?.versions.find((x) => x.number === number)
      if (!v) throw new Error(`no version ${number} of ${id}`)
      v.state = state
    },
    async raw(method, path, body, headers = {}) {
      const r = await fetch(`${url}${path}`, {method, headers: {authorization: bearer(), 'content-type': 'application/json', ...headers}, body: body === undefined ? undefined : JSON.stringify(body)})
      return {status: r.status, json: await r.json().catch(() => undefined)}
    },
    bearer,
    async close() {
      stopping.abort()
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
