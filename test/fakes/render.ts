import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'

import {delay, dropConnection, type Fault, FaultInjector, type FaultRequest, faultDelay, seededRandom} from './faults.js'

/**
 * A state-keeping fake of Render's public REST API (https://api.render.com/v1), on 127.0.0.1 and
 * a random free port, for envsync's Render target and its tests and benchmarks.
 *
 * The fake cannot drift from Render's published OpenAPI document (a copy in
 * test/fixtures/render-openapi.json, see the README there): every request's path, query
 * parameters and JSON body are checked with Ajv against the schemas of the operation the route
 * belongs to (compiled straight from the spec, $refs resolved by Ajv inside the document), and an
 * invalid request gets 400 {id, message} the way Render answers. Every response the fake builds
 * is checked against the schema the spec declares for that operation and status before it is
 * sent; a mismatch is a bug in the fake and throws (SpecDriftError) instead of being sent.
 *
 * Behaviour (see PLATFORMS.md, "Render (REST)"): bearer API keys; cursor paging (limit <= 100,
 * default 20, each item carries its cursor, pass the last one); bulk PUT of env vars and secret
 * files replaces everything; env groups read whole; deploys counted per service; rate limits
 * (GET 400/min and writes 30/min per API key, deploys 10/min per service) with Ratelimit-*
 * headers on every answer and 429 + Retry-After beyond the budget, on a clock tests can advance;
 * faults on demand through ./faults.ts. Anything the spec and PLATFORMS.md leave open is marked
 * "Assumed" below.
 */

export const RENDER_BASE_PATH = '/v1'
/** Registered on every fake unless `apiKeys` says otherwise. */
export const DEFAULT_API_KEY = 'rnd_fakeRenderKey_0123456789abcdef'
export const SPEC_FILE = new URL('../fixtures/render-openapi.json', import.meta.url)
const SPEC_ID = 'render-openapi.json'
const REDACTED = '[REDACTED]'
const MAX_BODY = 16 * 1024 * 1024

// ================================================================================================
// The spec: loading, $ref resolution, OpenAPI 3.0 -> JSON Schema, compiled validators
// ================================================================================================

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** Thrown when a response the fake built does not match the spec (the fake has drifted). */
export class SpecDriftError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SpecDriftError'
  }
}

/**
 * Where the fake deliberately reads the spec differently from a literal JSON Schema reading.
 * Exported so a test can pin them.
 */
export const SPEC_PATCHES = [
  'components.schemas.service.properties.serviceDetails: oneOf -> anyOf. The five detail schemas have no ' +
    'discriminator and no additionalProperties:false, and their required sets nest (webServiceDetails ⊇ ' +
    'privateServiceDetails ⊇ backgroundWorkerDetails), so every real web or private service would fail "exactly one".',
]

/** An operation of the spec, with pointers (into the spec document) to its schemas. */
interface OperationDef {
  operationId: string
  method: string
  template: string
  regex: RegExp
  pathParamNames: string[]
  params: ParamDef[]
  requestBody?: {required: boolean; pointer?: string}
  /** status ("200", "default") -> pointer of the JSON schema, or undefined for "no content". */
  responses: Map<string, string | undefined>
}

interface ParamDef {
  name: string
  in: string
  required: boolean
  style?: string
  explode?: boolean
  /** Pointer of the parameter's schema inside the spec. */
  pointer: string
  /** The schema with top-level and items $refs resolved, for string -> value coercion only. */
  shape: Json
}

function escapeSegment(s: string): string {
  return encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))
}

function pointerOf(...segments: (string | number)[]): string {
  return '/' + segments.map((s) => escapeSegment(String(s))).join('/')
}

/** OpenAPI 3.0 `nullable: true` -> JSON Schema (`type: [t, "null"]`, or anyOf with null). */
function convertNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) convertNullable(n)
    return
  }
  if (!node || typeof node !== 'object') return
  const obj = node as Json
  for (const v of Object.values(obj)) convertNullable(v)
  if (typeof obj.nullable !== 'boolean') return
  const nullable = obj.nullable
  delete obj.nullable
  if (!nullable) return
  if (typeof obj.type === 'string') {
    obj.type = [obj.type, 'null']
    if (Array.isArray(obj.enum) && !obj.enum.includes(null)) obj.enum.push(null)
  } else if (Array.isArray(obj.type)) {
    if (!obj.type.includes('null')) obj.type.push('null')
  } else {
    const rest = {...obj}
    for (const k of Object.keys(obj)) delete obj[k]
    obj.anyOf = [rest, {type: 'null'}]
  }
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/

export class RenderSpec {
  readonly doc: Json
  readonly operations: OperationDef[] = []
  private readonly byId = new Map<string, OperationDef>()
  private readonly ajv: Ajv
  private readonly cache = new Map<string, ValidateFunction>()

  constructor(raw: Json) {
    const doc = structuredClone(raw)
    const details = doc.components?.schemas?.service?.properties?.serviceDetails
    if (!details?.oneOf) throw new Error('render spec: service.serviceDetails.oneOf not found (update SPEC_PATCHES)')
    details.anyOf = details.oneOf
    delete details.oneOf
    convertNullable(doc)
    this.doc = doc
    // strict: false — the document is OpenAPI, not JSON Schema: `example`, `deprecated`,
    // `x-go-type`, parameter objects with boolean `required` and so on are not keywords.
    this.ajv = new Ajv({strict: false, allErrors: true})
    this.ajv.addFormat('date-time', {type: 'string', validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s))})
    this.ajv.addFormat('int64', {type: 'number', validate: (n: number) => Number.isInteger(n)})
    this.ajv.addFormat('float', {type: 'number', validate: (n: number) => Number.isFinite(n)})
    this.ajv.addFormat('password', true)
    this.ajv.addSchema(doc, SPEC_ID)
    this.index()
  }

  static load(file: URL = SPEC_FILE): RenderSpec {
    return new RenderSpec(JSON.parse(readFileSync(file, 'utf8')))
  }

  operation(operationId: string): OperationDef {
    const op = this.byId.get(operationId)
    if (!op) throw new Error(`render spec: no operation "${operationId}"`)
    return op
  }

  /** Resolves a local "#/…" reference in the spec; returns the target and its pointer. */
  resolve(node: Json, pointer: string): {node: Json; pointer: string} {
    let n = node
    let p = pointer
    for (let i = 0; i < 20 && n && typeof n.$ref === 'string'; i++) {
      const ref: string = n.$ref
      if (!ref.startsWith('#/')) throw new Error(`render spec: external $ref ${ref}`)
      p = ref.slice(1)
      n = this.at(p)
    }
    return {node: n, pointer: p}
  }

  at(pointer: string): Json {
    let n: unknown = this.doc
    for (const raw of pointer.split('/').slice(1)) {
      const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
      n = (n as Json | undefined)?.[key]
    }
    if (n === undefined) throw new Error(`render spec: nothing at ${pointer}`)
    return n as Json
  }

  /** A validator for the schema at `pointer` (compiled once, Ajv resolves the $refs). */
  validator(pointer: string): ValidateFunction {
    let v = this.cache.get(pointer)
    if (!v) {
      v = this.ajv.compile({$ref: `${SPEC_ID}#${pointer}`})
      this.cache.set(pointer, v)
    }
    return v
  }

  /** A validator for an operation's parameters of one location (path or query). */
  paramsValidator(op: OperationDef, location: 'path' | 'query'): ValidateFunction {
    const key = `params:${op.operationId}:${location}`
    let v = this.cache.get(key)
    if (!v) {
      const defs = op.params.filter((p) => p.in === location)
      v = this.ajv.compile({
        type: 'object',
        properties: Object.fromEntries(defs.map((p) => [p.name, {$ref: `${SPEC_ID}#${p.pointer}`}])),
        required: defs.filter((p) => p.required).map((p) => p.name),
        // Assumed: Render ignores unknown query parameters; the fake refuses them so that a
        // misspelt filter (which Render would silently drop) is caught in tests.
        additionalProperties: false,
      })
      this.cache.set(key, v)
    }
    return v
  }

  /** The operation for a method and a path below /v1; `known` when only the path exists. */
  match(method: string, path: string): {op: OperationDef; params: Record<string, string>} | {known: true} | undefined {
    let known = false
    for (const op of this.operations) {
      const m = op.regex.exec(path)
      if (!m) continue
      if (op.method !== method) {
        known = true
        continue
      }
      const params: Record<string, string> = {}
      op.pathParamNames.forEach((name, i) => (params[name] = m[i + 1]!))
      return {op, params}
    }
    return known ? {known: true} : undefined
  }

  /**
   * Checks a response against the spec; throws SpecDriftError when it does not match.
   * Successes must be declared by the operation. Error statuses the operation does not declare
   * (a 400 for list-services, whose entry lists none) are checked against the shared `error`
   * schema, as are answers to requests that matched no operation.
   */
  checkResponse(operationId: string | undefined, status: number, body: unknown): void {
    const op = operationId ? this.operation(operationId) : undefined
    const where = `${operationId ?? '(no operation)'} ${status}`
    let pointer: string | undefined
    if (op && op.responses.has(String(status))) {
      pointer = op.responses.get(String(status))
      if (pointer === undefined) {
        if (body !== undefined) throw new SpecDriftError(`${where}: the spec declares no content, the fake sent a body`)
        return
      }
    } else {
      if (status < 400) throw new SpecDriftError(`${where}: status not declared by the spec`)
      pointer = '/components/schemas/error'
    }
    if (body === undefined) throw new SpecDriftError(`${where}: the spec declares a body, the fake sent none`)
    const validate = this.validator(pointer)
    if (!validate(body)) throw new SpecDriftError(`${where}: response does not match the spec: ${formatErrors(validate.errors, 'response')}`)
    if (status >= 400) {
      const e = body as Json
      if (typeof e.id !== 'string' || typeof e.message !== 'string') throw new SpecDriftError(`${where}: error without id and message`)
    }
  }

  private index(): void {
    for (const [template, item] of Object.entries(this.doc.paths as Json)) {
      const pathLevel: Json[] = item.parameters ?? []
      for (const [method, raw] of Object.entries(item as Json)) {
        if (!['get', 'put', 'post', 'patch', 'delete'].includes(method)) continue
        const opPointer = ['paths', template, method] as const
        const params = new Map<string, ParamDef>()
        const addParams = (list: Json[], base: (string | number)[]) =>
          list.forEach((p, i) => {
            const {node, pointer} = this.resolve(p, pointerOf(...base, i))
            params.set(`${node.in}:${node.name}`, {
              name: node.name,
              in: node.in,
              required: node.required === true,
              style: node.style,
              explode: node.explode,
              pointer: `${pointer}/schema`,
              shape: this.shape(node.schema),
            })
          })
        addParams(pathLevel, ['paths', template, 'parameters'])
        addParams(raw.parameters ?? [], [...opPointer, 'parameters']) // operation level wins
        const pathParamNames = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)
        const regex = new RegExp(
          '^' + template.split(/\{[^}]+\}/).map((lit) => lit.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('([^/]+)') + '$',
        )
        let requestBody: OperationDef['requestBody']
        if (raw.requestBody) {
          const {node, pointer} = this.resolve(raw.requestBody, pointerOf(...opPointer, 'requestBody'))
          requestBody = {
            required: node.required === true,
            pointer: node.content?.['application/json'] ? `${pointer}/content/${escapeSegment('application/json')}/schema` : undefined,
          }
        }
        const responses = new Map<string, string | undefined>()
        for (const [status, r] of Object.entries(raw.responses ?? {})) {
          const {node, pointer} = this.resolve(r as Json, pointerOf(...opPointer, 'responses', status))
          responses.set(status, node.content?.['application/json'] ? `${pointer}/content/${escapeSegment('application/json')}/schema` : undefined)
        }
        const op: OperationDef = {
          operationId: raw.operationId,
          method: method.toUpperCase(),
          template,
          regex,
          pathParamNames,
          params: [...params.values()],
          requestBody,
          responses,
        }
        this.operations.push(op)
        this.byId.set(op.operationId, op)
      }
    }
    // Literal segments beat templates ("/logs/subscribe" before "/logs/{x}").
    const literal = (t: string) => t.split('/').filter((s) => s && !s.startsWith('{')).length
    this.operations.sort((a, b) => literal(b.template) - literal(a.template))
  }

  private shape(schema: Json | undefined): Json {
    if (!schema) return {}
    const s = {...this.resolve(schema, '').node}
    if (s.items) s.items = this.resolve(s.items, '').node
    return s
  }
}

let sharedSpec: RenderSpec | undefined
/** The spec, loaded and indexed once per process (validators are compiled lazily and cached). */
export function renderSpec(): RenderSpec {
  sharedSpec ??= RenderSpec.load()
  return sharedSpec
}

/** Ajv errors as one line, without data values (request bodies carry secrets). */
function formatErrors(errors: ErrorObject[] | null | undefined, where: string): string {
  if (!errors?.length) return `${where} is invalid`
  const seen = new Set<string>()
  for (const e of errors) {
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as {additionalProperty: string}).additionalProperty}"` : ''
    seen.add(`${where}${e.instancePath} ${e.message ?? 'is invalid'}${extra}`)
    if (seen.size >= 5) break
  }
  return [...seen].join('; ')
}

// ================================================================================================
// State
// ================================================================================================

export type ServiceType = 'static_site' | 'web_service' | 'private_service' | 'background_worker' | 'cron_job'
const SHORT_TYPE: Record<ServiceType, string> = {
  static_site: 'static',
  web_service: 'web',
  private_service: 'pserv',
  background_worker: 'worker',
  cron_job: 'cron',
}

interface Item {
  value: string
  seq: number
}

interface OwnerState {
  id: string
  name: string
  email: string
  type: 'user' | 'team'
}

interface DeployState {
  id: string
  status: 'created'
  trigger: 'api'
  clearCache: string
  commitId?: string
  createdAt: string
}

interface ServiceState {
  id: string
  name: string
  ownerId: string
  type: ServiceType
  environmentId?: string
  suspended: boolean
  seq: number
  createdAt: string
  updatedAt: string
  envVars: Map<string, Item>
  secretFiles: Map<string, Item>
  deploys: DeployState[]
}

interface EnvGroupState {
  id: string
  name: string
  ownerId: string
  environmentId?: string
  seq: number
  createdAt: string
  updatedAt: string
  envVars: Map<string, Item>
  secretFiles: Map<string, Item>
  serviceIds: string[]
}

interface ApiKeyState {
  label: string
  /** Workspaces the key can see; undefined = all. */
  ownerIds?: Set<string>
}

export interface ServiceSnapshot {
  id: string
  name: string
  ownerId: string
  type: ServiceType
  environmentId?: string
  suspended: boolean
  envVars: Record<string, string>
  secretFiles: Record<string, string>
  deployCount: number
  deploys: {id: string; createdAt: string; clearCache: string; commitId?: string}[]
}

export interface EnvGroupSnapshot {
  id: string
  name: string
  ownerId: string
  environmentId?: string
  envVars: Record<string, string>
  secretFiles: Record<string, string>
  serviceIds: string[]
}

export interface SeedService {
  id?: string
  name: string
  ownerId?: string
  type?: ServiceType
  environmentId?: string
  suspended?: boolean
  envVars?: Record<string, string>
  secretFiles?: Record<string, string>
}

export interface SeedEnvGroup {
  id?: string
  name: string
  ownerId?: string
  environmentId?: string
  envVars?: Record<string, string>
  secretFiles?: Record<string, string>
  /** Linked services, by id or name. */
  services?: string[]
}

export interface SeedData {
  apiKeys?: (string | {key: string; label?: string; ownerIds?: string[]})[]
  owners?: {id?: string; name?: string; email?: string; type?: 'user' | 'team'}[]
  services?: SeedService[]
  envGroups?: SeedEnvGroup[]
}

// ================================================================================================
// Requests, log, limits, clock
// ================================================================================================

export interface RenderLogEntry {
  seq: number
  /** Fake-clock time (ms) the request arrived. */
  at: number
  method: string
  /** Full path, /v1 included, no query. */
  path: string
  /** The query string ("?name=a,b&limit=100") or "". Queries carry no secret values. */
  query: string
  operationId?: string
  /** 0 when the connection was dropped without an answer. */
  status: number
  /** The API key's label (never the key itself); undefined when unauthenticated. */
  apiKey?: string
  /** Top-level body field names (for an array body: the fields of its items). */
  bodyKeys: string[]
  /** The body with every value replaced by "[REDACTED]", except `key` and `name` (identifiers). */
  body?: unknown
  fault?: Fault['kind']
  /** For applyThenDrop: whether the write went through before the connection was dropped. */
  applied?: boolean
}

export interface RenderCounters {
  total: number
  byMethod: Record<string, number>
  byOperation: Record<string, number>
  /** "dropped" for connections destroyed without an answer. */
  byStatus: Record<string, number>
}

export interface RateLimits {
  /** GET requests per window per API key (Render: 400/min). */
  get: number
  /** PUT/POST/PATCH/DELETE per window per API key, deploys excluded (Render: 30/min). */
  write: number
  /** Deploy triggers per window per service (Render: 10/min). */
  deploy: number
  windowMs: number
}

export const RENDER_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({get: 400, write: 30, deploy: 10, windowMs: 60_000})

export interface FakeClock {
  now(): number
  advance(ms: number): void
}

/** Real time plus an offset that advance() moves: sleeping clients and advancing tests both work. */
export function offsetClock(): FakeClock {
  let offset = 0
  return {now: () => Date.now() + offset, advance: (ms) => void (offset += ms)}
}

/** Time that stands still unless advanced. */
export function manualClock(start = Date.parse('2026-01-01T00:00:00Z')): FakeClock {
  let t = start
  return {now: () => t, advance: (ms) => void (t += ms)}
}

export interface RenderFakeOptions {
  /** Defaults to 0 (a random free port). */
  port?: number
  /** API keys that authenticate; defaults to [DEFAULT_API_KEY]. */
  apiKeys?: string[]
  /** 'real' (default): wall clock + advance() offset; 'manual': frozen unless advanced. */
  clock?: 'real' | 'manual' | FakeClock
  limits?: Partial<RateLimits>
  /** Seed of the RNG behind ids and generated values (faults take their own seeds). */
  seed?: number
  /** POST /deploys answers 201 with the deploy (default) or 202 with no body. */
  deployResponse?: 201 | 202
  /**
   * How GET /services?name= matches (Render's semantics are unverified; PLATFORMS.md says to
   * filter on the exact name client-side). 'exact' (default) or 'substring' (case-insensitive),
   * to prove a client filters.
   */
  nameMatch?: 'exact' | 'substring'
  /**
   * On a response that does not match the spec: answer 500, record it in driftErrors and then
   * 'throw' (default: rethrown outside the request, an uncaught exception that fails the test
   * or run) or only 'record'.
   */
  onDrift?: 'throw' | 'record'
  /** Seed data, applied after the defaults. */
  data?: SeedData
}

type Reply = {status: number; body?: unknown; headers?: Record<string, string>}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

interface Ctx {
  key: ApiKeyState
  path: Record<string, string>
  query: Json
  body: unknown
}

type Handler = (ctx: Ctx) => Reply

function statusFault(f: Fault | undefined): f is Extract<Fault, {kind: 'status'}> {
  return f?.kind === 'status'
}

// ================================================================================================
// The fake
// ================================================================================================

export class RenderFake {
  readonly spec: RenderSpec
  readonly clock: FakeClock
  /** Fault scheduling (./faults.ts): fake.faults.once(renderFault(503)), .always(…), .random(…). */
  readonly faults = new FaultInjector()
  /** Responses that failed the spec (the fake's bugs), and requests for spec operations the fake does not implement. */
  readonly driftErrors: SpecDriftError[] = []
  readonly unimplemented: string[] = []
  url = ''
  port = 0

  private server?: Server
  private readonly sockets = new Set<Socket>()
  private readonly stopping = new AbortController()
  private readonly options: RenderFakeOptions
  private rng: () => number
  private limitsNow: RateLimits
  private deployMode: 201 | 202
  private nameMatchMode: 'exact' | 'substring'
  private transform?: (operationId: string | undefined, status: number, body: unknown) => unknown

  private owners = new Map<string, OwnerState>()
  private services = new Map<string, ServiceState>()
  private envGroups = new Map<string, EnvGroupState>()
  private apiKeys = new Map<string, ApiKeyState>()
  private buckets = new Map<string, {start: number; count: number}>()
  private entries: RenderLogEntry[] = []
  private count: RenderCounters = {total: 0, byMethod: {}, byOperation: {}, byStatus: {}}
  private seq = 0
  private logSeq = 0
  private defaultOwner?: string

  private readonly handlers: Record<string, Handler> = {
    'list-services': (c) => this.listServices(c),
    'retrieve-service': (c) => ({status: 200, body: this.serviceJson(this.serviceFor(c))}),
    'get-env-vars-for-service': (c) => ({status: 200, body: this.pageItems(this.serviceFor(c).envVars, 'envVar', c.query)}),
    'update-env-vars-for-service': (c) => this.replaceEnvVars(c),
    'retrieve-env-var': (c) => ({status: 200, body: this.one(this.serviceFor(c).envVars, c.path.envVarKey!, 'envVar')}),
    'update-env-var': (c) => this.putEnvVar(this.serviceFor(c), c, 'service'),
    'delete-env-var': (c) => this.deleteItem(this.serviceFor(c), 'envVars', c.path.envVarKey!, 'environment variable'),
    'list-secret-files-for-service': (c) => ({status: 200, body: this.pageItems(this.serviceFor(c).secretFiles, 'secretFile', c.query)}),
    'update-secret-files-for-service': (c) => this.replaceSecretFiles(c),
    'retrieve-secret-file': (c) => ({status: 200, body: this.one(this.serviceFor(c).secretFiles, c.path.secretFileName!, 'secretFile')}),
    'add-or-update-secret-file': (c) => this.putSecretFile(this.serviceFor(c), c, 'service'),
    'delete-secret-file': (c) => this.deleteItem(this.serviceFor(c), 'secretFiles', c.path.secretFileName!, 'secret file'),
    'create-deploy': (c) => this.createDeploy(c),
    'list-env-groups': (c) => this.listEnvGroups(c),
    'retrieve-env-group': (c) => ({status: 200, body: this.envGroupJson(this.envGroupFor(c))}),
    'retrieve-env-group-env-var': (c) => ({status: 200, body: this.one(this.envGroupFor(c).envVars, c.path.envVarKey!, 'envVar')}),
    'update-env-group-env-var': (c) => this.putEnvVar(this.envGroupFor(c), c, 'group'),
    'delete-env-group-env-var': (c) => this.deleteItem(this.envGroupFor(c), 'envVars', c.path.envVarKey!, 'environment variable'),
    'retrieve-env-group-secret-file': (c) => ({status: 200, body: this.one(this.envGroupFor(c).secretFiles, c.path.secretFileName!, 'secretFile')}),
    'update-env-group-secret-file': (c) => this.putSecretFile(this.envGroupFor(c), c, 'group'),
    'delete-env-group-secret-file': (c) => this.deleteItem(this.envGroupFor(c), 'secretFiles', c.path.secretFileName!, 'secret file'),
  }

  constructor(options: RenderFakeOptions = {}) {
    this.options = options
    this.spec = renderSpec()
    for (const id of Object.keys(this.handlers)) this.spec.operation(id) // every handler is a spec operation
    this.clock = options.clock === 'manual' ? manualClock() : options.clock && options.clock !== 'real' ? options.clock : offsetClock()
    this.rng = seededRandom(options.seed ?? 1)
    this.limitsNow = {...RENDER_RATE_LIMITS, ...options.limits}
    this.deployMode = options.deployResponse ?? 201
    this.nameMatchMode = options.nameMatch ?? 'exact'
    this.initState()
  }

  /** The operationIds the fake serves (each one validated against the spec). */
  get operationIds(): string[] {
    return Object.keys(this.handlers)
  }

  // ---- lifecycle --------------------------------------------------------------------------

  async listen(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        // Only reached by bugs in handle() itself; answer if still possible.
        this.noteBug(error)
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, {'content-type': 'application/json'})
          res.end(JSON.stringify({id: randomUUID(), message: 'fake: internal error'}))
        }
      })
    })
    server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve())
    })
    this.server = server
    this.port = (server.address() as AddressInfo).port
    this.url = `http://127.0.0.1:${this.port}${RENDER_BASE_PATH}`
    return this
  }

  /** Stops; throws if it answered outside the spec or was called on an operation it lacks. */
  async stopAndVerify(): Promise<void> {
    const drift = this.driftErrors.map((e) => e.message)
    const unimplemented = [...this.unimplemented]
    await this.stop()
    if (drift.length > 0) throw new Error(`the fake answered outside the spec:\n${drift.join('\n')}`)
    if (unimplemented.length > 0) throw new Error(`envsync called operations the fake does not implement: ${unimplemented.join(', ')}`)
  }

  async stop(): Promise<void> {
    this.stopping.abort()
    const server = this.server
    if (!server) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    await closed
  }

  // ---- admin: seeding ---------------------------------------------------------------------

  addApiKey(key: string, options: {label?: string; ownerIds?: string[]} = {}): void {
    this.apiKeys.set(key, {label: options.label ?? `key${this.apiKeys.size + 1}`, ownerIds: options.ownerIds ? new Set(options.ownerIds) : undefined})
  }

  removeApiKey(key: string): void {
    this.apiKeys.delete(key)
  }

  addOwner(owner: {id?: string; name?: string; email?: string; type?: 'user' | 'team'} = {}): string {
    const type = owner.type ?? 'team'
    const id = owner.id ?? this.newId(type === 'team' ? 'tea' : 'usr')
    this.owners.set(id, {id, name: owner.name ?? `Workspace ${this.owners.size + 1}`, email: owner.email ?? `owner${this.owners.size + 1}@example.com`, type})
    return id
  }

  addService(s: SeedService): string {
    const id = s.id ?? this.newId('srv')
    if (this.services.has(id)) throw new Error(`fake: service ${id} exists`)
    const ownerId = s.ownerId ?? this.ownerDefault()
    if (!this.owners.has(ownerId)) this.addOwner({id: ownerId})
    const now = this.iso()
    this.services.set(id, {
      id,
      name: s.name,
      ownerId,
      type: s.type ?? 'web_service',
      environmentId: s.environmentId,
      suspended: s.suspended ?? false,
      seq: ++this.seq,
      createdAt: now,
      updatedAt: now,
      envVars: this.items(s.envVars),
      secretFiles: this.items(s.secretFiles),
      deploys: [],
    })
    return id
  }

  addEnvGroup(g: SeedEnvGroup): string {
    const id = g.id ?? this.newId('evg')
    if (this.envGroups.has(id)) throw new Error(`fake: env group ${id} exists`)
    const ownerId = g.ownerId ?? this.ownerDefault()
    if (!this.owners.has(ownerId)) this.addOwner({id: ownerId})
    const serviceIds = (g.services ?? []).map((ref) => {
      const s = this.findService(ref)
      if (!s) throw new Error(`fake: no service ${ref} to link to env group ${g.name}`)
      return s.id
    })
    const now = this.iso()
    this.envGroups.set(id, {
      id,
      name: g.name,
      ownerId,
      environmentId: g.environmentId,
      seq: ++this.seq,
      createdAt: now,
      updatedAt: now,
      envVars: this.items(g.envVars),
      secretFiles: this.items(g.secretFiles),
      serviceIds,
    })
    return id
  }

  /** Seeds everything at once; returns the ids by name. */
  seed(data: SeedData): {owners: string[]; services: Record<string, string>; envGroups: Record<string, string>} {
    for (const k of data.apiKeys ?? []) typeof k === 'string' ? this.addApiKey(k) : this.addApiKey(k.key, k)
    const owners = (data.owners ?? []).map((o) => this.addOwner(o))
    const services = Object.fromEntries((data.services ?? []).map((s) => [s.name, this.addService(s)]))
    const envGroups = Object.fromEntries((data.envGroups ?? []).map((g) => [g.name, this.addEnvGroup(g)]))
    return {owners, services, envGroups}
  }

  /** Sets (value) or deletes (undefined) an env var behind envsync's back, e.g. a concurrent edit. */
  setEnvVar(serviceOrGroupId: string, key: string, value: string | undefined): void {
    this.setItem(serviceOrGroupId, 'envVars', key, value)
  }

  /** The same for a secret file. */
  setSecretFile(serviceOrGroupId: string, name: string, content: string | undefined): void {
    this.setItem(serviceOrGroupId, 'secretFiles', name, content)
  }

  private setItem(serviceOrGroupId: string, field: 'envVars' | 'secretFiles', name: string, value: string | undefined): void {
    const target = this.services.get(serviceOrGroupId) ?? this.envGroups.get(serviceOrGroupId)
    if (!target) throw new Error(`fake: no service or env group ${serviceOrGroupId}`)
    if (value === undefined) target[field].delete(name)
    else target[field].set(name, {value, seq: target[field].get(name)?.seq ?? ++this.seq})
  }

  // ---- admin: reading state ---------------------------------------------------------------

  service(idOrName: string): ServiceSnapshot | undefined {
    const s = this.findService(idOrName)
    return s && this.serviceSnapshot(s)
  }

  envVars(serviceOrGroup: string): Record<string, string> {
    const t = this.findService(serviceOrGroup) ?? this.findEnvGroup(serviceOrGroup)
    if (!t) throw new Error(`fake: no service or env group ${serviceOrGroup}`)
    return record(t.envVars)
  }

  secretFiles(serviceOrGroup: string): Record<string, string> {
    const t = this.findService(serviceOrGroup) ?? this.findEnvGroup(serviceOrGroup)
    if (!t) throw new Error(`fake: no service or env group ${serviceOrGroup}`)
    return record(t.secretFiles)
  }

  envGroup(idOrName: string): EnvGroupSnapshot | undefined {
    const g = this.findEnvGroup(idOrName)
    return g && {id: g.id, name: g.name, ownerId: g.ownerId, environmentId: g.environmentId, envVars: record(g.envVars), secretFiles: record(g.secretFiles), serviceIds: [...g.serviceIds]}
  }

  deployCount(serviceIdOrName: string): number {
    return this.findService(serviceIdOrName)?.deploys.length ?? 0
  }

  state(): {owners: OwnerState[]; apiKeys: string[]; services: ServiceSnapshot[]; envGroups: EnvGroupSnapshot[]} {
    return {
      owners: [...this.owners.values()].map((o) => ({...o})),
      apiKeys: [...this.apiKeys.values()].map((k) => k.label),
      services: [...this.services.values()].map((s) => this.serviceSnapshot(s)),
      envGroups: [...this.envGroups.values()].map((g) => this.envGroup(g.id)!),
    }
  }

  /** The request log (copies). Never holds a value, a secret file's content or an API key. */
  log(): RenderLogEntry[] {
    return structuredClone(this.entries)
  }

  clearLog(): void {
    this.entries = []
  }

  counters(): RenderCounters {
    return structuredClone(this.count)
  }

  // ---- admin: behaviour -------------------------------------------------------------------

  get limits(): RateLimits {
    return {...this.limitsNow}
  }

  /** Changes the budget (e.g. a tiny one for a test); the current windows' counts stay. */
  setLimits(limits: Partial<RateLimits>): void {
    this.limitsNow = {...this.limitsNow, ...limits}
  }

  /** Forgets every rate-limit window. */
  resetRateLimits(): void {
    this.buckets.clear()
  }

  setDeployResponse(status: 201 | 202): void {
    this.deployMode = status
  }

  setNameMatch(mode: 'exact' | 'substring'): void {
    this.nameMatchMode = mode
  }

  /** Moves the fake's clock (rate-limit windows, timestamps) forward. */
  advance(ms: number): void {
    this.clock.advance(ms)
  }

  now(): number {
    return this.clock.now()
  }

  /**
   * Test hook: rewrites a response body before it is checked against the spec, to prove that
   * a drifted response cannot get out. undefined removes it.
   */
  setResponseTransform(fn?: (operationId: string | undefined, status: number, body: unknown) => unknown): void {
    this.transform = fn
  }

  /** Back to a fresh fake: state, keys (the configured ones again), log, counters, faults, limits, windows. */
  reset(): void {
    this.initState()
  }

  // ---- the request pipeline ---------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const rel = url.pathname.startsWith(RENDER_BASE_PATH + '/') ? url.pathname.slice(RENDER_BASE_PATH.length) : undefined
    const matched = rel === undefined ? undefined : this.spec.match(method, rel)
    const route = matched && 'op' in matched ? matched : undefined
    const operationId = route?.op.operationId
    const entry: RenderLogEntry = {seq: ++this.logSeq, at: this.clock.now(), method, path: url.pathname, query: url.search, operationId, status: 0, bodyKeys: []}
    this.entries.push(entry)
    this.count.total++
    this.count.byMethod[method] = (this.count.byMethod[method] ?? 0) + 1
    if (operationId) this.count.byOperation[operationId] = (this.count.byOperation[operationId] ?? 0) + 1

    let raw: Buffer
    try {
      raw = await readBody(req)
    } catch {
      this.finishDropped(entry, req, res)
      return
    }
    let parsed: unknown
    let parseError = false
    if (raw.length > 0) {
      try {
        parsed = JSON.parse(raw.toString('utf8'))
        entry.bodyKeys = bodyKeys(parsed)
        entry.body = redact(parsed)
      } catch {
        parseError = true
      }
    }

    const credential = bearer(req.headers.authorization)
    const key = credential === undefined ? undefined : this.apiKeys.get(credential)
    entry.apiKey = key?.label
    const faultRequest: FaultRequest = {
      method,
      path: rel ?? url.pathname,
      write: method !== 'GET',
      operationId,
      serviceId: route?.params.serviceId,
      envGroupId: route?.params.envGroupId,
    }
    const fault = this.faults.next(faultRequest)
    if (fault) entry.fault = fault.kind
    const wait = faultDelay(fault)
    if (wait > 0 && !(await delay(wait, this.stopping.signal))) return
    if (fault?.kind === 'drop') {
      this.finishDropped(entry, req, res)
      return
    }

    const bucket = this.bucketFor(method, route, credential)
    let reply: Reply
    if (statusFault(fault)) {
      if (fault.body !== undefined) {
        // A body given with the fault (e.g. faults.ts's HTML 503 of a proxy) is not Render's
        // answer and goes out verbatim, unchecked.
        const headers: Record<string, string> = {'content-type': fault.contentType ?? 'application/json; charset=utf-8', ...this.peekHeaders(bucket), ...fault.headers}
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter)
        entry.status = fault.status
        this.countStatus(String(fault.status))
        res.writeHead(fault.status, headers)
        res.end(fault.body)
        return
      }
      const headers = {...this.peekHeaders(bucket), ...fault.headers}
      if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter)
      if (fault.status === 429) headers['Ratelimit-Remaining'] = '0'
      reply = {status: fault.status, body: errorBody(FAULT_MESSAGES[fault.status] ?? 'injected fault'), headers}
    } else {
      try {
        reply = this.process(method, req, matched, route, key, bucket, url, raw, parsed, parseError)
      } catch (error) {
        this.noteBug(error)
        reply = {status: 500, body: errorBody('fake: internal error')}
      }
    }

    let body = reply.body
    if (this.transform) body = this.transform(operationId, reply.status, body)
    let drift = false
    try {
      this.spec.checkResponse(reply.status === 501 ? undefined : operationId, reply.status, body)
    } catch (error) {
      if (!(error instanceof SpecDriftError)) throw error
      drift = true
      this.driftErrors.push(error)
      reply = {status: 500, headers: reply.headers}
      body = errorBody(`fake: response drifted from the spec: ${error.message}`)
      if ((this.options.onDrift ?? 'throw') === 'throw')
        setImmediate(() => {
          throw error
        })
    }

    if (fault?.kind === 'applyThenDrop' && !drift) {
      entry.applied = reply.status < 300
      this.finishDropped(entry, req, res)
      return
    }
    entry.status = reply.status
    this.countStatus(String(reply.status))
    const headers: Record<string, string> = {...reply.headers}
    if (body === undefined) {
      res.writeHead(reply.status, headers)
      res.end()
    } else {
      const text = JSON.stringify(body)
      headers['Content-Type'] = 'application/json; charset=utf-8'
      headers['Content-Length'] = String(Buffer.byteLength(text))
      res.writeHead(reply.status, headers)
      res.end(text)
    }
  }

  /** Auth, rate limit, routing, validation, then the handler. Returns the answer to send. */
  private process(
    method: string,
    req: IncomingMessage,
    matched: ReturnType<RenderSpec['match']>,
    route: {op: OperationDef; params: Record<string, string>} | undefined,
    key: ApiKeyState | undefined,
    bucket: {id: string; limit: number},
    url: URL,
    raw: Buffer,
    parsed: unknown,
    parseError: boolean,
  ): Reply {
    // Assumed: unauthenticated requests are not counted against any budget; they still carry
    // the Ratelimit-* headers of the budget they would use.
    if (!key) return {status: 401, body: errorBody('unauthorized'), headers: this.peekHeaders(bucket)}
    const limit = this.take(bucket)
    if (!limit.ok) return {status: 429, body: errorBody('rate limit exceeded'), headers: limit.headers}
    const reply = (r: Reply): Reply => ({...r, headers: {...limit.headers, ...r.headers}})

    if (!matched || !('op' in matched)) return reply({status: 404, body: errorBody('not found')})
    const op = matched.op
    const handler = this.handlers[op.operationId]
    if (!handler) {
      this.unimplemented.push(`${method} ${url.pathname} (${op.operationId})`)
      return reply({status: 501, body: errorBody(`fake: ${op.operationId} is not implemented by the Render fake`)})
    }
    if (!acceptsJson(req.headers.accept)) return reply({status: 406, body: errorBody('not acceptable: this API answers application/json')})

    // Path parameters.
    const pathParams: Record<string, string> = {}
    try {
      for (const [k, v] of Object.entries(route!.params)) pathParams[k] = decodeURIComponent(v)
    } catch {
      return reply({status: 400, body: errorBody('invalid request: malformed percent-encoding in the path')})
    }
    const vPath = this.spec.paramsValidator(op, 'path')
    if (!vPath(pathParams)) return reply({status: 400, body: errorBody(`invalid request: ${formatErrors(vPath.errors, 'path')}`)})

    // Query parameters, coerced from strings the way the spec's style/explode say.
    const query: Json = {}
    const names = new Set(url.searchParams.keys())
    for (const name of names) {
      const values = url.searchParams.getAll(name)
      const def = op.params.find((p) => p.in === 'query' && p.name === name)
      query[name] = def ? coerceParam(def, values) : values.length === 1 ? values[0] : values
    }
    const vQuery = this.spec.paramsValidator(op, 'query')
    if (!vQuery(query)) return reply({status: 400, body: errorBody(`invalid request: ${formatErrors(vQuery.errors, 'query')}`)})

    // Body.
    let body: unknown
    if (op.requestBody) {
      if (raw.length === 0) {
        if (op.requestBody.required) return reply({status: 400, body: errorBody('invalid request: a JSON body is required')})
      } else {
        const type = String(req.headers['content-type'] ?? '')
        if (!/^application\/json\b/i.test(type)) return reply({status: 400, body: errorBody('invalid request: Content-Type must be application/json')})
        if (parseError) return reply({status: 400, body: errorBody('invalid request: the body is not valid JSON')})
        body = parsed
        if (op.requestBody.pointer) {
          const vBody = this.spec.validator(op.requestBody.pointer)
          if (!vBody(body)) return reply({status: 400, body: errorBody(`invalid request: ${formatErrors(vBody.errors, 'body')}`)})
        }
      }
    }
    // Assumed: a body sent to an operation that takes none is ignored.

    try {
      return reply(handler({key, path: pathParams, query, body}))
    } catch (error) {
      if (error instanceof ApiError) return reply({status: error.status, body: errorBody(error.message)})
      throw error
    }
  }

  private finishDropped(entry: RenderLogEntry, req: IncomingMessage, res: ServerResponse): void {
    entry.status = 0
    this.countStatus('dropped')
    dropConnection(req, res)
  }

  private countStatus(status: string): void {
    this.count.byStatus[status] = (this.count.byStatus[status] ?? 0) + 1
  }

  private noteBug(error: unknown): void {
    const e = error instanceof SpecDriftError ? error : new SpecDriftError(`fake bug: ${(error as Error)?.stack ?? String(error)}`)
    this.driftErrors.push(e)
    if ((this.options.onDrift ?? 'throw') === 'throw')
      setImmediate(() => {
        throw e
      })
  }

  // ---- rate limits ------------------------------------------------------------------------

  /**
   * The budget a request draws on. Deploy triggers: their own per-service budget (PLATFORMS.md:
   * "other POST/PATCH/DELETE 30/min", deploys 10/min per service), not the write budget.
   * Assumed: fixed windows that open with the first counted request; requests that match no
   * route still count against the method's budget.
   */
  private bucketFor(method: string, route: {op: OperationDef; params: Record<string, string>} | undefined, credential: string | undefined): {id: string; limit: number} {
    if (route?.op.operationId === 'create-deploy') return {id: `deploy:${route.params.serviceId}`, limit: this.limitsNow.deploy}
    if (method === 'GET' || method === 'HEAD') return {id: `get:${credential ?? ''}`, limit: this.limitsNow.get}
    return {id: `write:${credential ?? ''}`, limit: this.limitsNow.write}
  }

  private window(id: string): {start: number; count: number} {
    const now = this.clock.now()
    const b = this.buckets.get(id)
    return b && now < b.start + this.limitsNow.windowMs ? b : {start: now, count: 0}
  }

  private headersFor(limit: number, w: {start: number; count: number}): Record<string, string> {
    const resetMs = Math.max(0, w.start + this.limitsNow.windowMs - this.clock.now())
    return {
      'Ratelimit-Limit': String(limit),
      'Ratelimit-Remaining': String(Math.max(0, limit - w.count)),
      'Ratelimit-Reset': String(Math.ceil(resetMs / 1000)),
    }
  }

  private peekHeaders(bucket: {id: string; limit: number}): Record<string, string> {
    return this.headersFor(bucket.limit, this.window(bucket.id))
  }

  private take(bucket: {id: string; limit: number}): {ok: boolean; headers: Record<string, string>} {
    const w = this.window(bucket.id)
    if (w.count >= bucket.limit) {
      const headers = this.headersFor(bucket.limit, w)
      headers['Retry-After'] = String(Math.max(1, Number(headers['Ratelimit-Reset'])))
      return {ok: false, headers}
    }
    w.count++
    this.buckets.set(bucket.id, w)
    return {ok: true, headers: this.headersFor(bucket.limit, w)}
  }

  // ---- handlers ---------------------------------------------------------------------------

  private listServices(c: Ctx): Reply {
    const q = c.query
    for (const unsupported of ['env', 'region', 'createdBefore', 'createdAfter', 'updatedBefore', 'updatedAfter']) {
      if (q[unsupported] !== undefined) throw new ApiError(400, `fake: the "${unsupported}" filter is not implemented by the Render fake`)
    }
    const names: string[] | undefined = q.name
    const list = [...this.services.values()]
      .filter((s) => visible(c.key, s.ownerId))
      .filter((s) => !names || names.some((n) => this.nameMatches(s.name, n)))
      .filter((s) => !q.ownerId || q.ownerId.includes(s.ownerId))
      .filter((s) => !q.type || q.type.includes(s.type))
      .filter((s) => !q.environmentId || (s.environmentId !== undefined && q.environmentId.includes(s.environmentId)))
      .filter((s) => !q.suspended || q.suspended.includes(s.suspended ? 'suspended' : 'not_suspended'))
    // includePreviews: the fake has no preview services, so true and false list the same.
    const page = this.page(list, 'service', q)
    return {status: 200, body: page.map((s) => ({service: this.serviceJson(s), cursor: cursorOf('service', s.seq)}))}
  }

  private listEnvGroups(c: Ctx): Reply {
    const q = c.query
    for (const unsupported of ['createdBefore', 'createdAfter', 'updatedBefore', 'updatedAfter']) {
      if (q[unsupported] !== undefined) throw new ApiError(400, `fake: the "${unsupported}" filter is not implemented by the Render fake`)
    }
    const names: string[] | undefined = q.name
    const list = [...this.envGroups.values()]
      .filter((g) => visible(c.key, g.ownerId))
      .filter((g) => !names || names.some((n) => this.nameMatches(g.name, n)))
      .filter((g) => !q.ownerId || q.ownerId.includes(g.ownerId))
      .filter((g) => !q.environmentId || (g.environmentId !== undefined && q.environmentId.includes(g.environmentId)))
      .sort((a, b) => a.seq - b.seq)
    // The spec's list-env-groups items are bare envGroupMeta objects, without a cursor.
    // Assumed: the cursor to pass is the last group's id.
    let start = 0
    if (q.cursor !== undefined) {
      const i = list.findIndex((g) => g.id === q.cursor)
      if (i < 0) throw new ApiError(400, 'invalid cursor')
      start = i + 1
    }
    const limit: number = q.limit ?? 20
    return {status: 200, body: list.slice(start, start + limit).map((g) => this.envGroupMetaJson(g))}
  }

  private replaceEnvVars(c: Ctx): Reply {
    const s = this.serviceFor(c)
    const input = c.body as {key: string; value?: string; generateValue?: boolean}[]
    const next = new Map<string, Item>()
    for (const [i, v] of input.entries()) {
      // Assumed (the spec is silent): empty keys, a key twice and generateValue:false without a value are refused.
      if (v.key === '') throw new ApiError(400, `invalid request: body/${i}/key must not be empty`)
      if (next.has(v.key)) throw new ApiError(400, `invalid request: body/${i}/key is given twice`)
      next.set(v.key, {value: this.valueOf(v, `body/${i}`), seq: s.envVars.get(v.key)?.seq ?? ++this.seq})
    }
    s.envVars = sortBySeq(next)
    s.updatedAt = this.iso()
    return {status: 200, body: this.allItems(s.envVars, 'envVar')}
  }

  private replaceSecretFiles(c: Ctx): Reply {
    const s = this.serviceFor(c)
    const input = c.body as {name: string; content: string}[]
    const next = new Map<string, Item>()
    for (const [i, f] of input.entries()) {
      if (f.name === '') throw new ApiError(400, `invalid request: body/${i}/name must not be empty`)
      if (next.has(f.name)) throw new ApiError(400, `invalid request: body/${i}/name is given twice`)
      next.set(f.name, {value: f.content, seq: s.secretFiles.get(f.name)?.seq ?? ++this.seq})
    }
    s.secretFiles = sortBySeq(next)
    s.updatedAt = this.iso()
    return {status: 200, body: this.allItems(s.secretFiles, 'secretFile')}
  }

  private putEnvVar(target: ServiceState | EnvGroupState, c: Ctx, kind: 'service' | 'group'): Reply {
    const key = c.path.envVarKey!
    if (key === '') throw new ApiError(400, 'invalid request: the key must not be empty')
    const value = this.valueOf(c.body as {value?: string; generateValue?: boolean}, 'body')
    target.envVars.set(key, {value, seq: target.envVars.get(key)?.seq ?? ++this.seq})
    target.updatedAt = this.iso()
    // The spec: a service's answer is the env var, an env group's is the whole group.
    return {status: 200, body: kind === 'service' ? {key, value} : this.envGroupJson(target as EnvGroupState)}
  }

  private putSecretFile(target: ServiceState | EnvGroupState, c: Ctx, kind: 'service' | 'group'): Reply {
    const name = c.path.secretFileName!
    // The spec's add-or-update-secret-file body schema has `properties` but no `type` and no
    // `required`. Assumed: a non-object is refused, a missing content means an empty file.
    const body = c.body
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'invalid request: body must be an object')
    const content = (body as {content?: string}).content ?? ''
    target.secretFiles.set(name, {value: content, seq: target.secretFiles.get(name)?.seq ?? ++this.seq})
    target.updatedAt = this.iso()
    // The spec: a service answers 201 with the file, an env group 200 with the whole group.
    return kind === 'service' ? {status: 201, body: {name, content}} : {status: 200, body: this.envGroupJson(target as EnvGroupState)}
  }

  private deleteItem(target: ServiceState | EnvGroupState, field: 'envVars' | 'secretFiles', name: string, what: string): Reply {
    if (!target[field].delete(name)) throw new ApiError(404, `${what} not found`)
    target.updatedAt = this.iso()
    return {status: 204}
  }

  private createDeploy(c: Ctx): Reply {
    const s = this.serviceFor(c)
    const body = (c.body ?? {}) as {clearCache?: string; commitId?: string}
    const now = this.iso()
    const deploy: DeployState = {id: this.newId('dep'), status: 'created', trigger: 'api', clearCache: body.clearCache ?? 'do_not_clear', commitId: body.commitId, createdAt: now}
    s.deploys.push(deploy)
    if (this.deployMode === 202) return {status: 202}
    return {
      status: 201,
      body: {
        id: deploy.id,
        commit: {id: deploy.commitId ?? 'c0ffee0000000000000000000000000000000000', message: 'fake commit', createdAt: now},
        status: deploy.status,
        trigger: deploy.trigger,
        createdAt: now,
        updatedAt: now,
      },
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  private serviceFor(c: Ctx): ServiceState {
    const s = this.services.get(c.path.serviceId!)
    if (!s) throw new ApiError(404, 'service not found')
    // Assumed: a key that cannot see the service's workspace gets 403 (declared for services).
    if (!visible(c.key, s.ownerId)) throw new ApiError(403, 'forbidden')
    return s
  }

  private envGroupFor(c: Ctx): EnvGroupState {
    const g = this.envGroups.get(c.path.envGroupId!)
    // Assumed: not visible = not found (the env-group operations declare no 403).
    if (!g || !visible(c.key, g.ownerId)) throw new ApiError(404, 'environment group not found')
    return g
  }

  private one(items: Map<string, Item>, name: string, kind: 'envVar' | 'secretFile'): Json {
    const item = items.get(name)
    if (!item) throw new ApiError(404, `${kind === 'envVar' ? 'environment variable' : 'secret file'} not found`)
    return kind === 'envVar' ? {key: name, value: item.value} : {name, content: item.value}
  }

  private itemJson(kind: 'envVar' | 'secretFile', name: string, item: Item): Json {
    return kind === 'envVar'
      ? {envVar: {key: name, value: item.value}, cursor: cursorOf(kind, item.seq)}
      : {secretFile: {name, content: item.value}, cursor: cursorOf(kind, item.seq)}
  }

  private allItems(items: Map<string, Item>, kind: 'envVar' | 'secretFile'): Json[] {
    return [...items].sort((a, b) => a[1].seq - b[1].seq).map(([n, it]) => this.itemJson(kind, n, it))
  }

  private pageItems(items: Map<string, Item>, kind: 'envVar' | 'secretFile', q: Json): Json[] {
    const list = [...items].map(([name, it]) => ({name, it, seq: it.seq}))
    return this.page(list, kind, q).map((x) => this.itemJson(kind, x.name, x.it))
  }

  /**
   * Cursor paging: items in creation order; the cursor of an item names its position, so
   * passing the last item's cursor continues after it even when that item has been deleted
   * meanwhile. Assumed: a cursor of another resource or not issued by the fake is a 400.
   */
  private page<T extends {seq: number}>(list: T[], kind: string, q: Json): T[] {
    const sorted = [...list].sort((a, b) => a.seq - b.seq)
    let after = 0
    if (q.cursor !== undefined) {
      const seq = parseCursor(kind, q.cursor)
      if (seq === undefined) throw new ApiError(400, 'invalid cursor')
      after = seq
    }
    const limit: number = q.limit ?? 20
    return sorted.filter((x) => x.seq > after).slice(0, limit)
  }

  private valueOf(v: {value?: string; generateValue?: boolean}, where: string): string {
    if (v.value !== undefined) return v.value
    if (v.generateValue === true) return this.generated()
    throw new ApiError(400, `invalid request: ${where} needs a value or generateValue: true`)
  }

  /** Render: "a base64-encoded 256-bit value" (assumed: standard base64 of 32 random bytes). */
  private generated(): string {
    const bytes = Buffer.alloc(32)
    for (let i = 0; i < 32; i++) bytes[i] = Math.floor(this.rng() * 256)
    return bytes.toString('base64')
  }

  private nameMatches(name: string, wanted: string): boolean {
    return this.nameMatchMode === 'exact' ? name === wanted : name.toLowerCase().includes(wanted.toLowerCase())
  }

  private serviceJson(s: ServiceState): Json {
    const slug = s.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || s.id
    const url = `https://${slug}.onrender.com`
    const common = {env: 'node', runtime: 'node', envSpecificDetails: {buildCommand: 'npm ci', startCommand: 'npm start'}, plan: 'starter', region: 'oregon', buildPlan: 'starter'}
    const details: Record<ServiceType, Json> = {
      web_service: {...common, numInstances: 1, healthCheckPath: '', openPorts: [{port: 10_000, protocol: 'TCP'}], url},
      private_service: {...common, numInstances: 1, openPorts: [{port: 10_000, protocol: 'TCP'}], url},
      background_worker: {...common, numInstances: 1},
      cron_job: {...common, schedule: '0 * * * *'},
      static_site: {buildCommand: 'npm run build', publishPath: 'dist', url, buildPlan: 'starter'},
    }
    return {
      id: s.id,
      autoDeploy: 'yes',
      branch: 'main',
      createdAt: s.createdAt,
      dashboardUrl: `https://dashboard.render.com/${SHORT_TYPE[s.type]}/${s.id}`,
      ...(s.environmentId ? {environmentId: s.environmentId} : {}),
      name: s.name,
      notifyOnFail: 'default',
      ownerId: s.ownerId,
      repo: 'https://github.com/example/app',
      rootDir: '',
      slug,
      suspended: s.suspended ? 'suspended' : 'not_suspended',
      suspenders: s.suspended ? ['user'] : [],
      type: s.type,
      updatedAt: s.updatedAt,
      serviceDetails: details[s.type],
    }
  }

  private envGroupMetaJson(g: EnvGroupState): Json {
    return {
      id: g.id,
      name: g.name,
      ownerId: g.ownerId,
      createdAt: g.createdAt,
      updatedAt: g.updatedAt,
      serviceLinks: g.serviceIds.flatMap((id) => {
        const s = this.services.get(id)
        return s ? [{id: s.id, name: s.name, type: SHORT_TYPE[s.type]}] : []
      }),
      ...(g.environmentId ? {environmentId: g.environmentId} : {}),
    }
  }

  private envGroupJson(g: EnvGroupState): Json {
    const byseq = (m: Map<string, Item>) => [...m].sort((a, b) => a[1].seq - b[1].seq)
    return {
      ...this.envGroupMetaJson(g),
      envVars: byseq(g.envVars).map(([key, it]) => ({key, value: it.value})),
      secretFiles: byseq(g.secretFiles).map(([name, it]) => ({name, content: it.value})),
    }
  }

  private serviceSnapshot(s: ServiceState): ServiceSnapshot {
    return {
      id: s.id,
      name: s.name,
      ownerId: s.ownerId,
      type: s.type,
      environmentId: s.environmentId,
      suspended: s.suspended,
      envVars: record(s.envVars),
      secretFiles: record(s.secretFiles),
      deployCount: s.deploys.length,
      deploys: s.deploys.map((d) => ({id: d.id, createdAt: d.createdAt, clearCache: d.clearCache, commitId: d.commitId})),
    }
  }

  private findService(idOrName: string): ServiceState | undefined {
    return this.services.get(idOrName) ?? [...this.services.values()].find((s) => s.name === idOrName)
  }

  private findEnvGroup(idOrName: string): EnvGroupState | undefined {
    return this.envGroups.get(idOrName) ?? [...this.envGroups.values()].find((g) => g.name === idOrName)
  }

  private items(values: Record<string, string> | undefined): Map<string, Item> {
    return new Map(Object.entries(values ?? {}).map(([k, v]) => [k, {value: v, seq: ++this.seq}]))
  }

  private ownerDefault(): string {
    this.defaultOwner ??= this.addOwner({name: 'My Workspace'})
    return this.defaultOwner
  }

  /** Render-style ids: a prefix and 20 lowercase letters and digits (from the seeded RNG). */
  private newId(prefix: string): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
    let id = ''
    do {
      id = `${prefix}-` + Array.from({length: 20}, () => alphabet[Math.floor(this.rng() * alphabet.length)]).join('')
    } while (this.services.has(id) || this.envGroups.has(id) || this.owners.has(id))
    return id
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString()
  }

  private initState(): void {
    this.owners = new Map()
    this.services = new Map()
    this.envGroups = new Map()
    this.apiKeys = new Map()
    this.buckets = new Map()
    this.entries = []
    this.count = {total: 0, byMethod: {}, byOperation: {}, byStatus: {}}
    this.seq = 0
    this.logSeq = 0
    this.defaultOwner = undefined
    this.rng = seededRandom(this.options.seed ?? 1)
    this.limitsNow = {...RENDER_RATE_LIMITS, ...this.options.limits}
    this.deployMode = this.options.deployResponse ?? 201
    this.nameMatchMode = this.options.nameMatch ?? 'exact'
    this.transform = undefined
    this.faults.reset()
    this.driftErrors.length = 0
    this.unimplemented.length = 0
    for (const k of this.options.apiKeys ?? [DEFAULT_API_KEY]) this.addApiKey(k)
    if (this.options.data) this.seed(this.options.data)
  }
}

/** Starts a fake on 127.0.0.1 and a free port; `url` ends in /v1. */
export async function startRenderFake(options: RenderFakeOptions = {}): Promise<RenderFake> {
  return new RenderFake(options).listen()
}

export {startRenderFake as start}

/**
 * Render-shaped status faults for `fake.faults.once/always/random` (no body: the fake answers
 * {id, message}, checked against the spec, with the Ratelimit-* headers).
 */
export function renderFault(status: 429 | 500 | 503, options: {retryAfter?: number; latencyMs?: number} = {}): Fault {
  return {kind: 'status', status, retryAfter: options.retryAfter ?? (status === 429 ? 1 : undefined), latencyMs: options.latencyMs}
}

// ================================================================================================
// Small functions
// ================================================================================================

const FAULT_MESSAGES: Record<number, string> = {
  429: 'rate limit exceeded',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
}

/** Assumed: Render's error id is an opaque string; the fake uses a UUID. */
function errorBody(message: string): {id: string; message: string} {
  return {id: randomUUID(), message}
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer +(\S+)\s*$/i.exec(header ?? '')
  return m?.[1]
}

function visible(key: ApiKeyState, ownerId: string): boolean {
  return !key.ownerIds || key.ownerIds.has(ownerId)
}

function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]!.trim().toLowerCase()
    return type === 'application/json' || type === 'application/*' || type === '*/*' || type === ''
  })
}

function cursorOf(kind: string, seq: number): string {
  return Buffer.from(`${kind}:${seq}`).toString('base64url')
}

function parseCursor(kind: string, cursor: string): number | undefined {
  const m = /^([a-zA-Z]+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  return m && m[1] === kind ? Number(m[2]) : undefined
}

function coerceParam(def: ParamDef, raw: string[]): unknown {
  const scalar = (schema: Json, v: string): unknown => {
    if (schema.type === 'integer' && /^-?\d+$/.test(v)) return Number(v)
    if (schema.type === 'number' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
    if (schema.type === 'boolean' && (v === 'true' || v === 'false')) return v === 'true'
    return v
  }
  if (def.shape.type === 'array') {
    const explode = def.explode ?? (def.style ?? 'form') === 'form'
    // Assumed: a non-exploded array given twice (name=a&name=b) is the union.
    const parts = explode ? raw : raw.flatMap((r) => r.split(','))
    return parts.map((p) => scalar(def.shape.items ?? {}, p))
  }
  return raw.length === 1 ? scalar(def.shape, raw[0]!) : raw // repeated scalar: fails validation
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new Error('body too large'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function bodyKeys(body: unknown): string[] {
  if (Array.isArray(body)) return [...new Set(body.flatMap((x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.keys(x) : [])))]
  if (body && typeof body === 'object') return Object.keys(body)
  return []
}

/** Keeps the shape and the identifiers (`key`, `name`), redacts every other value. */
function redact(body: unknown, field?: string): unknown {
  if (Array.isArray(body)) return body.map((x) => redact(x))
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, redact(v, k)]))
  if ((field === 'key' || field === 'name') && typeof body === 'string') return body
  return REDACTED
}

function record(items: Map<string, Item>): Record<string, string> {
  return Object.fromEntries([...items].sort((a, b) => a[1].seq - b[1].seq).map(([k, it]) => [k, it.value]))
}

function sortBySeq(items: Map<string, Item>): Map<string, Item> {
  return new Map([...items].sort((a, b) => a[1].seq - b[1].seq))
}
