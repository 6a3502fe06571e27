import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {Ajv, type ValidateFunction} from 'ajv'

import {answerFault, dropConnection, type Fault, FaultInjector, type FaultRequest} from './faults.js'

/**
 * A state-keeping fake of HashiCorp Vault's KV version 2 engine, on 127.0.0.1 and a random free
 * port, for envsync's Vault backend (src/targets/managers/vault.ts), its tests and benchmarks.
 *
 * Checked against Vault's published OpenAPI document (test/fixtures/vault-openapi.json, see the
 * README there): each request is routed by the document's KV v2 path templates and methods to an
 * operationId, its query parameters checked against the operation's (required, enum), its JSON
 * body with Ajv against the operation's request schema (KvV2WriteRequest, …) plus the rules
 * Vault's handlers add (a write needs `data`; `cas` a non-negative integer; custom_metadata holds
 * at most 64 string pairs, keys ≤ 128 and values ≤ 512 characters). A request that breaks them is
 * answered 400 {"errors": […]} as Vault answers, and recorded in `violations`; so is an operation
 * the document does not have (405 "unsupported operation", or 404 "no handler for route") and an
 * operation of the document this fake does not serve. Every answer is wrapped in Vault's envelope
 * and checked (envelope and inner `data` against the operation's 200 schema) before it is sent;
 * a mismatch is recorded too, so a test asserting `violations` is empty also catches the fake.
 *
 * Behaviour: X-Vault-Token (403 "permission denied" without the right one), X-Vault-Namespace
 * when the fake has a namespace; versions kept up to max_versions (default 10, oldest pruned), each
 * readable by ?version=N (documented in the API reference, absent from the OpenAPI document);
 * check-and-set (cas 0 = create only, else the current version); soft delete of the latest
 * version (reads 404 with the version's metadata, as Vault does); maps answered with their keys
 * sorted (Go's encoder). KV lists have no paging in Vault: one answer holds a folder's keys.
 * Faults through ./faults.ts, plus Vault's own shapes: `vaultThrottled` (429 rate limit quota)
 * and `sealed()`.
 */

export const SPEC_FILE = new URL('../fixtures/vault-openapi.json', import.meta.url)
export const FAKE_TOKEN = 'hvs.fakeVaultToken0123456789abcdefABCDEF'
const SPEC_ID = 'vault-openapi.json'
/** Vault's default max_request_size. */
const MAX_BODY = 32 * 1024 * 1024
const CUSTOM_METADATA = {keys: 64, keyLength: 128, valueLength: 512}

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

// ================================================================================================
// The contract: KV v2 operations from the OpenAPI document
// ================================================================================================

interface Operation {
  operationId: string
  method: string
  template: string
  regex: RegExp
  query: {name: string; required: boolean; enum?: string[]}[]
  request?: string
  response?: string
}

/**
 * Where the fake reads the document differently from a literal JSON Schema reading, exported so a
 * test can pin them: Vault serialises an unset Go map as null (custom_metadata of a secret that
 * has none, `data` of a deleted version), which the document types as plain objects.
 */
export const SPEC_PATCHES = ['response schemas: a property of type object may also be null (an unset Go map)']

export class VaultSpec {
  readonly operations: Operation[] = []
  private readonly ajv = new Ajv({strict: false, allErrors: true})
  private readonly schemas: Json
  private readonly cache = new Map<string, ValidateFunction>()

  constructor(doc: Json) {
    this.schemas = doc.components.schemas
    this.ajv.addFormat('map', true)
    this.ajv.addFormat('int64', {type: 'number', validate: (n: number) => Number.isInteger(n)})
    this.ajv.addFormat('duration', {type: 'string', validate: (s: string) => /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^-?\d+$/.test(s)})
    this.ajv.addFormat('date-time', {type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s))})
    // Only the schemas: the 1,077 paths are not JSON Schema and need no compiling.
    this.ajv.addSchema({$id: SPEC_ID, components: {schemas: this.schemas}})
    const responseSchemas = structuredClone(this.schemas)
    for (const s of Object.values(responseSchemas) as Json[]) {
      for (const p of Object.values(s.properties ?? {}) as Json[]) if (p.type === 'object') p.type = ['object', 'null']
    }
    this.ajv.addSchema({$id: `responses-${SPEC_ID}`, components: {schemas: responseSchemas}})
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      if (!template.startsWith('/{kv_v2_mount_path}/') || template.includes('^')) continue
      const rest = template.slice('/{kv_v2_mount_path}'.length)
      // {path} spans segments; a list's folder may be the mount's root ("").
      const regex = new RegExp('^' + rest.replace('{path}/', '(.*/)?').replace('{path}', '(.+)') + '$')
      for (const method of ['get', 'post', 'patch', 'delete']) {
        const op = item[method]
        if (!op) continue
        this.operations.push({
          operationId: op.operationId,
          method: method.toUpperCase(),
          template,
          regex,
          query: (op.parameters ?? []).filter((p: Json) => p.in === 'query').map((p: Json) => ({name: p.name, required: p.required === true, enum: p.schema?.enum})),
          request: refName(op.requestBody?.content?.['application/json']?.schema),
          response: refName(op.responses?.['200']?.content?.['application/json']?.schema),
        })
      }
    }
    // The folder template ("metadata/{path}/") before the secret one ("metadata/{path}").
    this.operations.sort((a, b) => b.template.length - a.template.length)
  }

  static load(): VaultSpec {
    return new VaultSpec(JSON.parse(readFileSync(SPEC_FILE, 'utf8')))
  }

  /** The operation for a method and a path under the mount (`/data/a/b`), and the secret path. */
  route(method: string, rest: string): {op?: Operation; path?: string; pathKnown: boolean} {
    let pathKnown = false
    for (const op of this.operations) {
      const m = op.regex.exec(rest)
      if (!m) continue
      pathKnown = true
      if (op.method === method) return {op, path: (m[1] ?? '').replace(/\/$/, ''), pathKnown}
    }
    return {pathKnown}
  }

  /** Problems of a request body against the operation's schema, plus unknown members. */
  checkRequest(op: Operation, body: unknown): string[] {
    if (!op.request) return []
    const problems = this.validate(`${SPEC_ID}#/components/schemas/${op.request}`, body)
    const known = Object.keys(this.schemas[op.request]?.properties ?? {})
    // Stricter than Vault, which answers with a warning: an ignored member is a bug in the client.
    if (body && typeof body === 'object') for (const k of Object.keys(body)) if (!known.includes(k)) problems.push(`unknown member "${k}" (not in ${op.request})`)
    return problems
  }

  checkResponse(op: Operation, data: unknown): string[] {
    return op.response ? this.validate(`responses-${SPEC_ID}#/components/schemas/${op.response}`, data) : []
  }

  private validate(ref: string, value: unknown): string[] {
    let v = this.cache.get(ref)
    if (!v) this.cache.set(ref, (v = this.ajv.compile({$ref: ref})))
    return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}`)
  }
}

function refName(schema: Json | undefined): string | undefined {
  return typeof schema?.$ref === 'string' ? schema.$ref.split('/').pop() : undefined
}

let sharedSpec: VaultSpec | undefined
export function vaultSpec(): VaultSpec {
  return (sharedSpec ??= VaultSpec.load())
}

// ================================================================================================
// State
// ================================================================================================

export interface VersionState {
  version: number
  data: Json
  created_time: string
  deletion_time: string
  destroyed: boolean
}

export interface SecretState {
  versions: Map<number, VersionState>
  current_version: number
  oldest_version: number
  custom_metadata: Record<string, string> | null
  cas_required: boolean
  created_time: string
  updated_time: string
}

/** A request (or an answer of the fake) that broke the contract: `at` is "METHOD /v1/…". */
export interface Violation {
  kind: 'request' | 'response' | 'unknown-operation' | 'auth'
  at: string
  operation?: string
  message: string
}

export interface LoggedRequest {
  method: string
  path: string
  operation?: string
  status?: number
}

export interface VaultFakeOptions {
  token?: string
  mount?: string
  /** Vault Enterprise namespace the mount lives in: requests must send it as X-Vault-Namespace. */
  namespace?: string
  /** Versions kept per secret (Vault's default 10). */
  maxVersions?: number
  /**
   * The mount's delete_version_after in ms (0: off): every new version carries a deletion_time
   * that far ahead, is served until then and counts as deleted once it has passed.
   */
  deleteVersionAfterMs?: number
}

export interface VaultFake {
  url: string
  /** Points envsync's Vault backend at the fake with a valid token. */
  env: Record<string, string>
  token: string
  mount: string
  faults: FaultInjector
  violations: Violation[]
  log: LoggedRequest[]
  /** HTTP requests received (faulted ones included). */
  readonly requests: number
  /** Most requests handled at once. */
  readonly maxInFlight: number
  names(): string[]
  secret(name: string): SecretState | undefined
  /** The current version's fields, undefined when absent or deleted. */
  value(name: string): Json | undefined
  versionCount(name: string): number
  /** As another tool would: a new version (and custom_metadata when given). */
  put(name: string, data: Json, customMetadata?: Record<string, string>): void
  /** `vault kv delete`: the latest version soft-deleted. */
  softDelete(name: string): void
  /** Paths the token's policy denies (403). */
  deny(pattern: RegExp): void
  seal(sealed?: boolean): void
  reset(): void
  close(): Promise<void>
}

/** A map with its keys sorted at every depth, as Vault's Go encoder writes it. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (!value || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Json)[k])]))
}

// ================================================================================================
// The server
// ================================================================================================

export async function startVault(options: VaultFakeOptions = {}): Promise<VaultFake> {
  const spec = vaultSpec()
  const token = options.token ?? FAKE_TOKEN
  const mount = options.mount ?? 'secret'
  const maxVersions = options.maxVersions ?? 10
  const secrets = new Map<string, SecretState>()
  const faults = new FaultInjector()
  const violations: Violation[] = []
  const log: LoggedRequest[] = []
  const denied: RegExp[] = []
  const sockets = new Set<Socket>()
  const stopping = new AbortController()
  let sealed = false
  let requests = 0
  let inFlight = 0
  let maxInFlight = 0
  const now = () => new Date().toISOString()
  const deleteAfterMs = options.deleteVersionAfterMs ?? 0
  // A deletion_time is a date, not a flag: with delete_version_after every live version has a
  // future one, and it counts as deleted only once that moment has passed (on Vault's clock).
  const gone = (v: VersionState) => v.destroyed || (v.deletion_time !== '' && Date.parse(v.deletion_time) <= Date.now())

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {'cache-control': 'no-store', ...(body === undefined ? {} : {'content-type': 'application/json'}), 'content-length': String(Buffer.byteLength(text)), ...headers})
    res.end(text)
  }
  const envelope = (data: unknown, warnings: string[] | null = null) => ({
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings,
    auth: null,
    mount_type: 'kv',
  })

  const versionMeta = (s: SecretState, v: VersionState) => ({
    created_time: v.created_time,
    custom_metadata: s.custom_metadata,
    deletion_time: v.deletion_time,
    destroyed: v.destroyed,
    version: v.version,
  })

  const newSecret = (): SecretState => ({versions: new Map(), current_version: 0, oldest_version: 0, custom_metadata: null, cas_required: false, created_time: now(), updated_time: now()})

  const addVersion = (name: string, data: Json): VersionState => {
    const s = secrets.get(name) ?? newSecret()
    secrets.set(name, s)
    const v: VersionState = {version: s.current_version + 1, data: structuredClone(data), created_time: now(), deletion_time: deleteAfterMs > 0 ? new Date(Date.now() + deleteAfterMs).toISOString() : '', destroyed: false}
    s.versions.set(v.version, v)
    s.current_version = v.version
    s.updated_time = v.created_time
    // Older versions beyond max_versions are pruned, as Vault does.
    for (const old of [...s.versions.keys()].sort((a, b) => a - b)) if (s.versions.size > maxVersions) s.versions.delete(old)
    s.oldest_version = Math.min(...s.versions.keys())
    return v
  }

  const current = (name: string): VersionState | undefined => {
    const s = secrets.get(name)
    return s?.versions.get(s.current_version)
  }

  /** Vault's rules on custom_metadata (path_metadata.go), beyond the document's "object". */
  const customMetadataProblems = (cm: unknown): string[] => {
    if (cm === undefined || cm === null) return []
    if (typeof cm !== 'object' || Array.isArray(cm)) return ['custom_metadata must be a map of strings']
    const entries = Object.entries(cm as Json)
    const problems: string[] = []
    if (entries.length > CUSTOM_METADATA.keys) problems.push(`payload must contain at most ${CUSTOM_METADATA.keys} keys, provided: ${entries.length}`)
    for (const [k, v] of entries) {
      if (k.length === 0 || k.length > CUSTOM_METADATA.keyLength) problems.push(`length of key "${k}" is ${k.length} which exceeds the limit of ${CUSTOM_METADATA.keyLength}`)
      if (typeof v !== 'string') problems.push(`custom_metadata value of key "${k}" is not a string`)
      else if (v.length > CUSTOM_METADATA.valueLength) problems.push(`length of value for key "${k}" is ${v.length} which exceeds the limit of ${CUSTOM_METADATA.valueLength}`)
    }
    return problems
  }

  /** The operation itself, on valid input: status and the inner `data` (undefined: no body). */
  const handle = (operationId: string, path: string, body: Json, version = 0): {status: number; data?: unknown; errors?: string[]} => {
    const s = secrets.get(path)
    switch (operationId) {
      case 'kv-v2-read': {
        // ?version=N (0: the current one); a version pruned past max_versions is 404 without metadata.
        const v = version === 0 ? current(path) : s?.versions.get(version)
        if (!s || !v) return {status: 404, errors: []}
        // A deleted or destroyed latest version: 404 carrying its metadata, data null.
        if (gone(v)) return {status: 404, data: {data: null, metadata: versionMeta(s, v)}}
        return {status: 200, data: {data: sorted(v.data), metadata: versionMeta(s, v)}}
      }
      case 'kv-v2-write': {
        const opts = (body.options ?? {}) as Json
        const cas = opts.cas as number | undefined
        if (s?.cas_required && cas === undefined) return {status: 400, errors: ['check-and-set parameter required for this call']}
        if (cas !== undefined && cas !== (s?.current_version ?? 0)) return {status: 400, errors: ['check-and-set parameter did not match the current version']}
        const v = addVersion(path, body.data)
        return {status: 200, data: versionMeta(secrets.get(path)!, v)}
      }
      case 'kv-v2-delete': {
        const v = current(path)
        if (v && !gone(v)) v.deletion_time = now()
        return {status: 204}
      }
      case 'kv-v2-read-metadata': {
        if (!s) return {status: 404, errors: []}
        return {
          status: 200,
          data: {
            cas_required: s.cas_required,
            created_time: s.created_time,
            current_version: s.current_version,
            custom_metadata: s.custom_metadata === null ? null : sorted(s.custom_metadata),
            delete_version_after: `${Math.round(deleteAfterMs / 1000)}s`,
            max_versions: 0,
            oldest_version: s.oldest_version,
            updated_time: s.updated_time,
            versions: Object.fromEntries([...s.versions.values()].map((v) => [String(v.version), {created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed}])),
          },
        }
      }
      case 'kv-v2-write-metadata': {
        const t = s ?? newSecret()
        secrets.set(path, t)
        // Fields not sent keep their values; custom_metadata sent replaces the whole map.
        if (body.custom_metadata !== undefined) t.custom_metadata = body.custom_metadata === null ? null : {...body.custom_metadata}
        if (typeof body.cas_required === 'boolean') t.cas_required = body.cas_required
        t.updated_time = now()
        return {status: 204}
      }
      case 'kv-v2-delete-metadata-and-all-versions':
        secrets.delete(path)
        return {status: 204}
      case 'kv-v2-list': {
        const folder = path === '' ? '' : path + '/'
        const keys = new Set<string>()
        for (const name of secrets.keys()) {
          if (!name.startsWith(folder)) continue
          const rest = name.slice(folder.length)
          const slash = rest.indexOf('/')
          keys.add(slash < 0 ? rest : rest.slice(0, slash + 1))
        }
        if (keys.size === 0) return {status: 404, errors: []}
        return {status: 200, data: {keys: [...keys].sort()}}
      }
      default:
        return {status: 405, errors: ['1 error occurred:\n\t* unsupported operation\n\n']}
    }
  }

  const SERVED = new Set(['kv-v2-read', 'kv-v2-write', 'kv-v2-delete', 'kv-v2-read-metadata', 'kv-v2-write-metadata', 'kv-v2-delete-metadata-and-all-versions', 'kv-v2-list'])

  const readBody = (req: IncomingMessage): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      req.on('data', (c: Buffer) => {
        size += c.length
        if (size <= MAX_BODY) chunks.push(c)
      })
      req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')))
      req.on('error', reject)
    })

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    requests++
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const method = req.method === 'LIST' ? 'GET' : (req.method ?? 'GET')
    const entry: LoggedRequest = {method: req.method ?? '', path: url.pathname}
    log.push(entry)
    const answer = (status: number, body?: unknown, headers?: Record<string, string>) => {
      entry.status = status
      send(res, status, body, headers)
    }
    const text = await readBody(req)
    if (text === undefined) return answer(413, {errors: ['http: request body too large']})

    // Routing: /v1/<mount>/<rest>, the mount in the fake's namespace.
    const segments = url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s))
    const pathname = '/' + segments.join('/')
    const prefix = `/v1/${mount}/`
    const namespace = (req.headers['x-vault-namespace'] as string | undefined)?.replace(/^\/|\/$/g, '') || undefined
    const inNamespace = namespace === options.namespace
    const routed = pathname.startsWith(prefix) && inNamespace ? spec.route(method, pathname.slice(prefix.length - 1)) : {pathKnown: false}
    const op = routed.op
    if (op) entry.operation = op.operationId
    const write = method !== 'GET'
    const faultRequest: FaultRequest = {method, path: pathname, operation: op?.operationId, write, secret: routed.path, version: url.searchParams.get('version') ?? undefined}

    if (sealed) return answer(503, {errors: ['Vault is sealed']})
    if (req.headers['x-vault-token'] !== token) {
      violations.push({kind: 'auth', operation: op?.operationId, at: `${method} ${pathname}`, message: req.headers['x-vault-token'] ? 'a token the fake did not issue' : 'no X-Vault-Token'})
      return answer(403, {errors: ['permission denied']})
    }
    const fault: Fault | undefined = faults.next(faultRequest)
    if (await answerFault(fault, req, res, stopping.signal, (status) => (entry.status = status))) return

    if (!op) {
      const message = routed.pathKnown ? `${req.method} is not an operation of ${pathname}` : `no KV v2 operation at ${pathname}`
      violations.push({kind: 'unknown-operation', at: `${method} ${pathname}`, message})
      if (routed.pathKnown) return answer(405, {errors: ['1 error occurred:\n\t* unsupported operation\n\n']})
      return answer(404, {errors: [`no handler for route "${pathname.slice(4)}". route entry not found.`]})
    }
    const problems: string[] = []
    const secretPath = routed.path ?? ''
    if (secretPath.split('/').some((s) => s === '..' || s === '.')) problems.push('invalid path')
    if (op.operationId !== 'kv-v2-list' && secretPath === '') problems.push('missing path')
    const queryNames = op.query.map((q) => q.name)
    for (const q of op.query) {
      const v = url.searchParams.get(q.name)
      if (v === null && q.required && !(q.name === 'list' && req.method === 'LIST')) problems.push(`missing required query parameter "${q.name}"`)
      if (v !== null && q.enum && !q.enum.includes(v)) problems.push(`query parameter "${q.name}" must be one of ${q.enum.join(', ')}`)
    }
    // The API reference documents ?version= on a data read; the OpenAPI document leaves it out.
    if (op.operationId === 'kv-v2-read') queryNames.push('version')
    const version = url.searchParams.get('version')
    if (version !== null && !/^\d+$/.test(version)) problems.push('query parameter "version" must be a non-negative integer')
    for (const k of url.searchParams.keys()) if (!queryNames.includes(k)) problems.push(`unknown query parameter "${k}"`)
    let body: Json = {}
    if (op.request) {
      try {
        body = text ? JSON.parse(text) : undefined
      } catch {
        problems.push('failed to parse JSON input')
      }
      if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
        problems.push('the body must be a JSON object')
        body = {}
      } else problems.push(...spec.checkRequest(op, body))
      if (op.operationId === 'kv-v2-write') {
        if (body.data === undefined || body.data === null || typeof body.data !== 'object' || Array.isArray(body.data)) problems.push('no data provided')
        const opts = body.options
        if (opts !== undefined) {
          for (const k of Object.keys(opts ?? {})) if (k !== 'cas') problems.push(`unknown option "${k}"`)
          if (opts?.cas !== undefined && !(Number.isInteger(opts.cas) && opts.cas >= 0)) problems.push('cas must be a non-negative integer')
        }
      }
      if (op.operationId === 'kv-v2-write-metadata') problems.push(...customMetadataProblems(body.custom_metadata))
    } else if (text) problems.push(`${op.operationId} takes no body`)
    if (problems.length > 0) {
      violations.push({kind: 'request', operation: op.operationId, at: `${method} ${pathname}`, message: problems.join('; ')})
      return answer(400, {errors: problems})
    }
    if (!SERVED.has(op.operationId)) {
      violations.push({kind: 'unknown-operation', operation: op.operationId, at: `${method} ${pathname}`, message: `${op.operationId} is not implemented by the fake`})
      return answer(405, {errors: ['1 error occurred:\n\t* unsupported operation\n\n']})
    }
    const capabilityPath = `${mount}/${pathname.slice(prefix.length)}`
    if (denied.some((d) => d.test(capabilityPath))) return answer(403, {errors: ['1 error occurred:\n\t* permission denied\n\n']})

    const result = handle(op.operationId, secretPath, body, Number(url.searchParams.get('version') ?? 0))
    if (result.status === 200) {
      for (const message of spec.checkResponse(op, result.data)) violations.push({kind: 'response', operation: op.operationId, at: `${method} ${pathname}`, message})
    }
    if (fault?.kind === 'applyThenDrop') return dropConnection(req, res)
    if (result.status === 204) return answer(204)
    if (result.errors) return answer(result.status, {errors: result.errors})
    return answer(result.status, envelope(result.data))
  }

  const server = createServer((req, res) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.on('close', () => inFlight--)
    serve(req, res).catch((error: Error) => {
      violations.push({kind: 'response', at: `${req.method} ${req.url ?? ''}`, message: `fake crashed: ${error.message}`})
      if (!res.headersSent) send(res, 500, {errors: ['internal error']})
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    env: {VAULT_ADDR: url, VAULT_TOKEN: token, ...(options.namespace ? {VAULT_NAMESPACE: options.namespace} : {})},
    token,
    mount,
    faults,
    violations,
    log,
    get requests() {
      return requests
    },
    get maxInFlight() {
      return maxInFlight
    },
    names: () => [...secrets.keys()].sort(),
    secret: (name) => secrets.get(name),
    value(name) {
      const v = current(name)
      return v && !gone(v) ? structuredClone(v.data) : undefined
    },
    versionCount: (name) => secrets.get(name)?.versions.size ?? 0,
    put(name, data, customMetadata) {
      addVersion(name, data)
      if (customMetadata) secrets.get(name)!.custom_metadata = {...customMetadata}
    },
    softDelete(name) {
      const v = current(name)
      if (v) v.deletion_time = now()
    },
    deny: (pattern) => void denied.push(pattern),
    seal(value = true) {
      sealed = value
    },
    reset() {
      secrets.clear()
      faults.reset()
      violations.length = 0
      log.length = 0
      denied.length = 0
      sealed = false
      requests = 0
      maxInFlight = 0
    },
    close() {
      stopping.abort()
      for (const s of sockets) s.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Vault's answer when a rate limit quota is spent: 429, Retry-After and its error shape. */
export function vaultThrottled(retryAfter: number | string = 1, path = 'secret/data/app'): Fault {
  return {
    kind: 'status',
    status: 429,
    retryAfter,
    headers: {'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(retryAfter)},
    body: JSON.stringify({errors: [`request path "${path}": rate limit quota exceeded`]}),
  }
}

/** What every request gets from a sealed Vault. */
export function sealedFault(): Fault {
  return {kind: 'status', status: 503, body: JSON.stringify({errors: ['Vault is sealed']})}
}
