import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {
  buildClientSchema,
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  validate,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql'

import {delay, dropConnection, faultDelay, FaultInjector, sendStatusFault, type Fault, type FaultRequest} from './faults.js'

/**
 * A state-keeping fake of Railway's public GraphQL API (POST /graphql/v2) for tests.
 *
 * Documents are parsed, validated and EXECUTED with graphql-js against the schema built from
 * Railway's published introspection (test/fixtures/railway-schema.json), so a document the real
 * API would reject is rejected here too. Resolvers exist for what envsync sends (see
 * src/targets/railway-documents.ts) plus `variableUpsert`; any other root field answers
 * "… is not implemented in the fake" so a new document is noticed rather than silently null.
 *
 * Each behaviour below says where it comes from: [schema] the published schema, [platforms]
 * shared/PLATFORMS.md (gathered from Railway's docs and CLI), [cli] Railway's own CLI source,
 * [assumed] a choice made where the real answer is unknown — designed so that a client that is
 * correct against either answer passes; several are switchable through FakeRailwayOptions.
 *
 * The admin API is in-process only (methods on the object start() returns): nothing about it is
 * reachable over HTTP, so the client under test cannot cheat.
 */

// ---- schema -------------------------------------------------------------------------------

export const SCHEMA_FILE = new URL('../fixtures/railway-schema.json', import.meta.url)
let cachedSchema: GraphQLSchema | undefined

/** Railway's schema built from the published introspection (built once per process, ~0.2 s). */
export function railwaySchema(): GraphQLSchema {
  cachedSchema ??= buildClientSchema(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')).data)
  return cachedSchema
}

// ---- public types -------------------------------------------------------------------------

export interface FakeRailwayOptions {
  /**
   * HTTP status for documents that do not parse or validate, and for bad variables. [assumed]
   * Railway answers `{"errors":[…],"data":null}`; whether with 200 or 400 is unverified
   * (GraphQL-over-HTTP servers differ). Default 400; a client must read the body either way.
   */
  invalidDocumentStatus?: 200 | 400
  /**
   * variableDelete of a name that does not exist. [assumed] The real message is unverified:
   * 'error' (default) answers "Variable not found" (HTTP 200, data null); 'ok' answers true.
   */
  deleteMissing?: 'error' | 'ok'
  /**
   * Rendered reads of a service (`unrendered` false/omitted) include the variables Railway
   * provides (RAILWAY_PROJECT_ID, RAILWAY_SERVICE_NAME, RAILWAY_PRIVATE_DOMAIN, …). [assumed,
   * inferred from the Railway CLI listing them and from its `userVariables: variables(…,
   * unrendered: true)` alias] Unrendered reads return only what users set. Default true.
   */
  providedVariables?: boolean
}

export interface Scope {
  projectId: string
  environmentId: string
  /** undefined: the environment's shared variables. */
  serviceId?: string
}

export interface SeededProject {
  id: string
  name: string
  /** environment name → id */
  environments: Record<string, string>
  /** service name → id */
  services: Record<string, string>
}

export interface Deploy {
  seq: number
  projectId: string
  environmentId: string
  serviceId: string
  /** What caused it: a variable upsert/delete without skipDeploys, or serviceInstanceRedeploy. */
  cause: 'upsert' | 'delete' | 'redeploy'
}

export interface ReplaceUpsert {
  scope: Scope
  /** Names removed because they were not in the payload. */
  removed: string[]
}

export interface ReservedWrite {
  scope: Scope
  name: string
}

export type AuthKind = 'account' | 'project' | 'none' | 'invalid' | 'both'

export interface RequestLogEntry {
  seq: number
  method: string
  path: string
  operationName?: string
  operationType?: 'query' | 'mutation' | 'subscription'
  /** Root fields selected, e.g. ['variableCollectionUpsert']. */
  fields: string[]
  /** GraphQL variables with every value REDACTED: object keys and ids stay, values do not. */
  variables?: unknown
  /** Which credential the request carried (never the token itself). */
  auth: AuthKind
  /** HTTP status, or 'dropped' when the connection was destroyed without an answer. */
  status: number | 'dropped'
  /** The injected fault, if any. */
  fault?: Fault['kind']
  /** Whether the request reached the resolvers (a mutation's change was made). */
  executed: boolean
  /** Error messages of the answer, with any value from the request masked. */
  errors?: string[]
}

export interface Counters {
  requests: number
  byOperation: Record<string, number>
  byField: Record<string, number>
  byStatus: Record<string, number>
  byFault: Record<string, number>
}

interface Variable {
  value: string
  sealed: boolean
}

interface EnvironmentRecord {
  id: string
  name: string
  projectId: string
  createdAt: string
}

interface ServiceRecord {
  id: string
  name: string
  projectId: string
  createdAt: string
}

interface ProjectRecord {
  id: string
  name: string
  createdAt: string
  environments: Map<string, EnvironmentRecord>
  services: Map<string, ServiceRecord>
  /** `${environmentId}/${serviceId ?? 'shared'}` → name → variable */
  variables: Map<string, Map<string, Variable>>
}

type Token = {kind: 'account'; projects?: Set<string>} | {kind: 'project'; id: string; name: string; projectId: string; environmentId: string; createdAt: string}

type Auth = {kind: 'account'; projects?: Set<string>} | {kind: 'project'; token: Extract<Token, {kind: 'project'}>} | {kind: 'none' | 'invalid' | 'both'}

interface Context {
  auth: Auth
}

// ---- constants ----------------------------------------------------------------------------

export const ENDPOINT_PATH = '/graphql/v2'
/** [assumed] Railway's connections look like Pothos relay connections (type names such as
 * ProjectServicesConnectionEdge are Pothos's); Pothos defaults to 20 items and caps at 100. */
export const DEFAULT_PAGE = 20
export const MAX_PAGE = 100
/** [platforms] "Not Authorized" covers a bad token, the wrong header and no access. */
export const NOT_AUTHORIZED = 'Not Authorized'
/** [assumed] unverified wording; see FakeRailwayOptions.deleteMissing. */
export const VARIABLE_NOT_FOUND = 'Variable not found'

const REFERENCE = /\$\{\{\s*([^{}]*?)\s*\}\}/g
const IMPLEMENTED: Record<string, Set<string>> = {
  query: new Set(['project', 'projects', 'projectToken', 'variables', '__typename', '__schema', '__type']),
  mutation: new Set(['variableCollectionUpsert', 'variableUpsert', 'variableDelete', 'serviceInstanceRedeploy', '__typename']),
}
/** Keys whose string values are identifiers, not secrets: kept in the request log. */
const ID_KEYS = new Set(['id', 'projectId', 'environmentId', 'serviceId', 'name', 'after', 'before'])
/** Keys under which everything is a value: always redacted, whatever the inner key names. */
const VALUE_KEYS = new Set(['variables', 'value'])
export const REDACTED = '[REDACTED]'

const now = () => new Date().toISOString()
const scopeKey = (environmentId: string, serviceId?: string | null) => `${environmentId}/${serviceId ?? 'shared'}`
function fail(message: string): never {
  throw new GraphQLError(message)
}

/** Starts a fake on 127.0.0.1 at a random free port. */
export async function start(options: FakeRailwayOptions = {}): Promise<RailwayFake> {
  const fake = new RailwayFake(options)
  await fake.listen()
  return fake
}
export const startFakeRailway = start

export class RailwayFake {
  readonly faults = new FaultInjector()
  readonly options: Required<FakeRailwayOptions>
  url = ''
  origin = ''
  port = 0

  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => {
      // A bug in the fake: answer 500 with the reason (never a request value) rather than hang.
      if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'})
      res.end(`envsync Railway fake failed: ${(error as Error)?.stack ?? String(error)}`)
    })
  })
  private readonly stopping = new AbortController()
  private projects = new Map<string, ProjectRecord>()
  private tokens = new Map<string, Token>()
  private deployLog: Deploy[] = []
  private replaceLog: ReplaceUpsert[] = []
  private reservedLog: ReservedWrite[] = []
  private log: RequestLogEntry[] = []
  private stats: Counters = emptyCounters()
  private seq = 0
  private deploySeq = 0

  constructor(options: FakeRailwayOptions = {}) {
    this.options = {invalidDocumentStatus: 400, deleteMissing: 'error', providedVariables: true, ...options}
  }

  /** @internal use start() */
  async listen(): Promise<void> {
    railwaySchema()
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (this.server.address() as AddressInfo).port
    this.origin = `http://127.0.0.1:${this.port}`
    this.url = `${this.origin}${ENDPOINT_PATH}`
  }

  /** Closes the server, drops open connections and cuts pending latency short. */
  async stop(): Promise<void> {
    this.stopping.abort()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  // ---- admin: seeding ---------------------------------------------------------------------

  /** A project with environments (default: production) and services, ids like Railway's UUIDs. */
  addProject(spec: {name: string; id?: string; environments?: string[]; services?: string[]}): SeededProject {
    const project: ProjectRecord = {id: spec.id ?? randomUUID(), name: spec.name, createdAt: now(), environments: new Map(), services: new Map(), variables: new Map()}
    if (this.projects.has(project.id)) throw new Error(`project ${project.id} exists`)
    this.projects.set(project.id, project)
    for (const e of spec.environments ?? ['production']) this.addEnvironment(project.id, e)
    for (const s of spec.services ?? []) this.addService(project.id, s)
    return this.describe(project.id)
  }

  addEnvironment(projectId: string, name: string, id: string = randomUUID()): string {
    this.project(projectId).environments.set(id, {id, name, projectId, createdAt: now()})
    return id
  }

  addService(projectId: string, name: string, id: string = randomUUID()): string {
    this.project(projectId).services.set(id, {id, name, projectId, createdAt: now()})
    return id
  }

  /** The ids of a seeded project, by name. */
  describe(projectId: string): SeededProject {
    const p = this.project(projectId)
    return {
      id: p.id,
      name: p.name,
      environments: Object.fromEntries([...p.environments.values()].map((e) => [e.name, e.id])),
      services: Object.fromEntries([...p.services.values()].map((s) => [s.name, s.id])),
    }
  }

  /** An account/workspace token (Authorization: Bearer); `projects` limits what it sees (default: all). */
  accountToken(options: {token?: string; projects?: string[]} = {}): string {
    const token = options.token ?? `acct_${randomUUID()}`
    this.tokens.set(token, {kind: 'account', projects: options.projects ? new Set(options.projects) : undefined})
    return token
  }

  /** A project token (Project-Access-Token header) for one environment of one project. */
  projectToken(projectId: string, environmentId: string, options: {token?: string; name?: string} = {}): string {
    this.environment(projectId, environmentId)
    const token = options.token ?? randomUUID()
    this.tokens.set(token, {kind: 'project', id: randomUUID(), name: options.name ?? 'envsync-test', projectId, environmentId, createdAt: now()})
    return token
  }

  /** Seeds variables (no deploy, no log). `sealed: true` makes them write-only. */
  setVariables(scope: Scope, variables: Record<string, string>, options: {sealed?: boolean} = {}): void {
    const vars = this.vars(scope)
    for (const [k, v] of Object.entries(variables)) vars.set(k, {value: v, sealed: options.sealed ?? vars.get(k)?.sealed ?? false})
  }

  /** Seals existing variables (as the dashboard's "Seal" does: there is no unseal). */
  seal(scope: Scope, ...names: string[]): void {
    const vars = this.vars(scope)
    for (const n of names) {
      const v = vars.get(n)
      if (!v) throw new Error(`no variable ${n} to seal`)
      v.sealed = true
    }
  }

  // ---- admin: reading state ---------------------------------------------------------------

  /** Stored values of a scope, sealed ones included (the admin sees everything). */
  variables(scope: Scope): Record<string, string> {
    return Object.fromEntries([...this.vars(scope)].map(([k, v]) => [k, v.value]))
  }

  /** Names of the sealed variables of a scope. */
  sealed(scope: Scope): string[] {
    return [...this.vars(scope)].filter(([, v]) => v.sealed).map(([k]) => k)
  }

  /** Deploys recorded so far, optionally filtered. */
  deploys(filter: {serviceId?: string; environmentId?: string; cause?: Deploy['cause']} = {}): Deploy[] {
    return this.deployLog.filter((d) => (filter.serviceId === undefined || d.serviceId === filter.serviceId) && (filter.environmentId === undefined || d.environmentId === filter.environmentId) && (filter.cause === undefined || d.cause === filter.cause))
  }

  /** Number of deploys of one service (in one environment, if given). */
  deployCount(serviceId: string, environmentId?: string): number {
    return this.deploys({serviceId, environmentId}).length
  }

  /** Every variableCollectionUpsert with `replace: true` (envsync must never send one). */
  get replaceUpserts(): ReplaceUpsert[] {
    return structuredClone(this.replaceLog)
  }

  /** Writes of RAILWAY_* names, which Railway stores but overrides at deploy time. */
  get reservedWrites(): ReservedWrite[] {
    return structuredClone(this.reservedLog)
  }

  /** The request log (values redacted; safe to print). */
  get requests(): RequestLogEntry[] {
    return structuredClone(this.log)
  }

  get counters(): Counters {
    return structuredClone(this.stats)
  }

  /** Everything, as plain JSON (sealed values included: this is the admin's view). */
  snapshot(): {projects: (SeededProject & {variables: Record<string, Record<string, Variable>>})[]; deploys: Deploy[]; replaceUpserts: ReplaceUpsert[]; reservedWrites: ReservedWrite[]} {
    return structuredClone({
      projects: [...this.projects.values()].map((p) => ({
        ...this.describe(p.id),
        variables: Object.fromEntries([...p.variables].map(([k, m]) => [k, Object.fromEntries(m)])),
      })),
      deploys: this.deployLog,
      replaceUpserts: this.replaceLog,
      reservedWrites: this.reservedLog,
    })
  }

  /** Forgets requests and counters (state stays). */
  clearLog(): void {
    this.log = []
    this.stats = emptyCounters()
  }

  /** Back to empty: state, tokens, deploys, log, counters and faults. */
  reset(): void {
    this.projects = new Map()
    this.tokens = new Map()
    this.deployLog = []
    this.replaceLog = []
    this.reservedLog = []
    this.deploySeq = 0
    this.seq = 0
    this.clearLog()
    this.faults.reset()
  }

  // ---- HTTP -------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: RequestLogEntry = {seq: ++this.seq, method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, fields: [], auth: 'none', status: 0, executed: false}
    let raw: string
    try {
      raw = await readBody(req)
    } catch {
      return
    }
    let body: {query?: unknown; variables?: unknown; operationName?: unknown} | undefined
    try {
      body = raw ? JSON.parse(raw) : undefined
    } catch {
      body = undefined
    }
    let document: DocumentNode | undefined
    let operation: OperationDefinitionNode | undefined | null
    if (body && typeof body.query === 'string') {
      try {
        document = parse(body.query)
        operation = getOperationAST(document, typeof body.operationName === 'string' ? body.operationName : undefined)
      } catch {
        document = undefined
      }
    }
    entry.operationName = (typeof body?.operationName === 'string' ? body.operationName : undefined) ?? operation?.name?.value
    entry.operationType = operation?.operation as RequestLogEntry['operationType']
    if (document && operation) entry.fields = rootFields(document, operation.selectionSet)
    if (body && body.variables !== undefined) entry.variables = redact(body.variables)
    const auth = this.authenticate(req)
    entry.auth = auth.kind

    const faultRequest: FaultRequest = {method: entry.method, path: entry.path, write: entry.operationType === 'mutation', operationName: entry.operationName, fields: entry.fields, variables: entry.variables}
    const fault = this.faults.next(faultRequest)
    if (fault) entry.fault = fault.kind
    const wait = faultDelay(fault)
    if (wait > 0 && !(await delay(wait, this.stopping.signal))) {
      dropConnection(req, res)
      return this.record(entry, 'dropped')
    }
    if (fault?.kind === 'drop') {
      // Before anything is applied: the client cannot tell this from a request that never arrived.
      dropConnection(req, res)
      return this.record(entry, 'dropped')
    }
    if (fault?.kind === 'status') {
      // A proxy or the rate limiter answered: nothing was applied.
      sendStatusFault(res, fault)
      return this.record(entry, fault.status)
    }

    const answer = await this.answer(req, body, document, auth, entry)
    if (fault?.kind === 'applyThenDrop') {
      // The change IS made, then the answer is lost: a retrying client must converge anyway.
      dropConnection(req, res)
      return this.record(entry, 'dropped')
    }
    const text = answer.text ?? JSON.stringify(answer.json)
    res.writeHead(answer.status, {'content-type': answer.text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text))})
    res.end(text)
    this.record(entry, answer.status)
  }

  private record(entry: RequestLogEntry, status: number | 'dropped'): void {
    entry.status = status
    this.log.push(entry)
    const s = this.stats
    s.requests++
    const op = entry.operationName ?? '(anonymous)'
    s.byOperation[op] = (s.byOperation[op] ?? 0) + 1
    for (const f of entry.fields) s.byField[f] = (s.byField[f] ?? 0) + 1
    s.byStatus[String(status)] = (s.byStatus[String(status)] ?? 0) + 1
    if (entry.fault) s.byFault[entry.fault] = (s.byFault[entry.fault] ?? 0) + 1
  }

  /** [platforms] Authorization: Bearer <account token> or Project-Access-Token: <project token>. */
  private authenticate(req: IncomingMessage): Auth {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(String(req.headers.authorization ?? ''))?.[1]
    const projectHeader = req.headers['project-access-token']
    const projectTokenValue = Array.isArray(projectHeader) ? projectHeader[0] : projectHeader
    // [assumed] Railway's CLI refuses both at once; the fake refuses them too (a correct client
    // never sends both, so being strict costs nothing).
    if (req.headers.authorization !== undefined && projectTokenValue !== undefined) return {kind: 'both'}
    if (projectTokenValue !== undefined) {
      const t = this.tokens.get(projectTokenValue)
      // [platforms] an account token in the project header is the wrong header: Not Authorized.
      return t?.kind === 'project' ? {kind: 'project', token: t} : {kind: 'invalid'}
    }
    if (req.headers.authorization !== undefined) {
      const t = bearer === undefined ? undefined : this.tokens.get(bearer)
      // [platforms] a project token sent as Bearer is the wrong header: Not Authorized.
      return t?.kind === 'account' ? {kind: 'account', projects: t.projects} : {kind: 'invalid'}
    }
    return {kind: 'none'}
  }

  private async answer(req: IncomingMessage, body: {query?: unknown; variables?: unknown; operationName?: unknown} | undefined, document: DocumentNode | undefined, auth: Auth, entry: RequestLogEntry): Promise<{status: number; json?: unknown; text?: string}> {
    if (entry.path !== ENDPOINT_PATH) return {status: 404, text: 'Not Found'}
    if (req.method !== 'POST') return {status: 405, text: 'Method Not Allowed'}
    const bad = this.options.invalidDocumentStatus
    const secrets = requestStrings(body)
    const errorAnswer = (status: number, errors: readonly GraphQLError[] | {message: string}[]) => {
      const json = {errors: errors.map((e) => (e instanceof GraphQLError ? e.toJSON() : e)), data: null}
      entry.errors = errors.map((e) => mask(e.message, secrets))
      return {status, json}
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return errorAnswer(400, [{message: 'POST body must be a JSON object {query, variables}'}])
    if (typeof body.query !== 'string' || body.query.trim() === '') return errorAnswer(400, [{message: 'Must provide query string.'}])
    if (body.variables !== undefined && body.variables !== null && (typeof body.variables !== 'object' || Array.isArray(body.variables))) return errorAnswer(400, [{message: 'Variables must be an object.'}])
    let doc = document
    if (!doc) {
      try {
        doc = parse(body.query)
      } catch (error) {
        // Syntax errors: rejected before execution, like any invalid document.
        return errorAnswer(bad, [error as GraphQLError])
      }
    }
    for (const s of collectLiterals(doc)) secrets.add(s)
    // [schema] the document must validate against the published schema, whatever the token.
    const errors = validate(railwaySchema(), doc)
    if (errors.length > 0) return errorAnswer(bad, errors)
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined
    const operation = getOperationAST(doc, operationName)
    if (!operation) return errorAnswer(bad, [{message: operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.'}])
    const missing = rootFields(doc, operation.selectionSet).filter((f) => !IMPLEMENTED[operation.operation]?.has(f))
    if (missing.length > 0) return errorAnswer(200, missing.map((f) => ({message: `${operation.operation[0]!.toUpperCase()}${operation.operation.slice(1)}.${f} is not implemented in the envsync Railway fake`})))

    entry.executed = true
    const result = await execute({
      schema: railwaySchema(),
      document: doc,
      operationName,
      variableValues: (body.variables ?? undefined) as Record<string, unknown> | undefined,
      rootValue: operation.operation === 'mutation' ? this.mutationRoot() : this.queryRoot(),
      contextValue: {auth} satisfies Context,
    })
    if (!('data' in result) || result.data === undefined) {
      // Variable coercion failed: a request error, nothing executed.
      entry.executed = false
      return errorAnswer(bad, result.errors ?? [])
    }
    if (result.errors?.length) {
      // [platforms] errors answer HTTP 200; every root field envsync uses is non-null, so one
      // failure makes `data` null, as Railway's answers show ({"data":null,"errors":[…]}).
      const json = {errors: result.errors.map((e) => e.toJSON()), data: result.data ?? null}
      entry.errors = result.errors.map((e) => mask(e.message, secrets))
      return {status: 200, json}
    }
    return {status: 200, json: {data: result.data}}
  }

  // ---- resolvers ----------------------------------------------------------------------------

  private queryRoot(): Record<string, unknown> {
    return {
      project: ({id}: {id: string}, ctx: Context) => this.projectNode(this.authorizeProject(ctx, id)),
      projects: (args: ConnectionArgs, ctx: Context) => {
        // [assumed] listing projects needs an account/workspace token; a project token only
        // knows its own project (envsync asks projectToken instead).
        if (ctx.auth.kind !== 'account') fail(NOT_AUTHORIZED)
        const allowed = ctx.auth.kind === 'account' ? ctx.auth.projects : undefined
        const visible = [...this.projects.values()].filter((p) => !allowed || allowed.has(p.id))
        return connection(visible.map((p) => this.projectNode(p)), args)
      },
      projectToken: (_args: unknown, ctx: Context) => {
        // [platforms] tells a project token's project and environment. [assumed] with no
        // project token the answer is Not Authorized.
        if (ctx.auth.kind !== 'project') return fail(NOT_AUTHORIZED)
        const t = ctx.auth.token
        const project = this.projects.get(t.projectId)
        const environment = project?.environments.get(t.environmentId)
        if (!project || !environment) return fail(NOT_AUTHORIZED)
        return {
          id: t.id,
          name: t.name,
          createdAt: t.createdAt,
          displayToken: 'xxxx',
          projectId: t.projectId,
          environmentId: t.environmentId,
          project: () => this.projectNode(project),
          environment: () => environmentNode(environment),
        }
      },
      variables: (args: {projectId: string; environmentId: string; serviceId?: string | null; unrendered?: boolean | null}, ctx: Context) => {
        const {project, service} = this.authorizeScope(ctx, args)
        const vars = project.variables.get(scopeKey(args.environmentId, service?.id)) ?? new Map<string, Variable>()
        const out: Record<string, string | null> = {}
        if (args.unrendered === true) {
          // [platforms] unrendered: references come back literally, as stored.
          for (const [k, v] of vars) out[k] = v.sealed ? null : v.value
          return out
        }
        // [platforms] rendered (false or omitted): references are resolved; [assumed] a
        // reference that resolves to nothing renders as "".
        for (const [k, v] of vars) out[k] = v.sealed ? null : this.render(project, args.environmentId, service, v.value)
        if (service && this.options.providedVariables) Object.assign(out, this.provided(project, args.environmentId, service))
        return out
      },
    }
  }

  private mutationRoot(): Record<string, unknown> {
    return {
      variableCollectionUpsert: ({input}: {input: UpsertInput}, ctx: Context) => {
        const {project, service} = this.authorizeScope(ctx, input)
        const incoming = checkVariables(input.variables)
        const scope: Scope = {projectId: project.id, environmentId: input.environmentId, serviceId: service?.id}
        const vars = this.vars(scope)
        if (input.replace === true) {
          // [schema] "removes all existing variables before upserting the new collection" —
          // hand-set variables and references included; recorded so tests can assert envsync
          // never asks for it. Taken literally: a sealed variable re-sent here comes back unsealed.
          const removed = [...vars.keys()].filter((k) => !(k in incoming))
          this.replaceLog.push({scope, removed})
          vars.clear()
        }
        this.write(scope, vars, incoming)
        // [schema][platforms] a change redeploys the affected services unless skipDeploys.
        if (input.skipDeploys !== true) this.deployAffected(project, scope, Object.keys(incoming), 'upsert')
        return true
      },
      variableUpsert: ({input}: {input: UpsertOneInput}, ctx: Context) => {
        const {project, service} = this.authorizeScope(ctx, input)
        const scope: Scope = {projectId: project.id, environmentId: input.environmentId, serviceId: service?.id}
        this.write(scope, this.vars(scope), {[input.name]: input.value})
        if (input.skipDeploys !== true) this.deployAffected(project, scope, [input.name], 'upsert')
        return true
      },
      variableDelete: ({input}: {input: DeleteInput}, ctx: Context) => {
        const {project, service} = this.authorizeScope(ctx, input)
        const scope: Scope = {projectId: project.id, environmentId: input.environmentId, serviceId: service?.id}
        const vars = this.vars(scope)
        if (!vars.has(input.name)) {
          // [assumed] wording unverified; FakeRailwayOptions.deleteMissing switches to `true`.
          if (this.options.deleteMissing === 'ok') return true
          return fail(VARIABLE_NOT_FOUND)
        }
        vars.delete(input.name)
        // [platforms] variableDelete has no skipDeploys: a delete always redeploys.
        this.deployAffected(project, scope, [input.name], 'delete')
        return true
      },
      serviceInstanceRedeploy: ({environmentId, serviceId}: {environmentId: string; serviceId: string}, ctx: Context) => {
        // [platforms] one redeploy of one service instance.
        const project = [...this.projects.values()].find((p) => p.environments.has(environmentId))
        if (!project) return fail(NOT_AUTHORIZED)
        const {service} = this.authorizeScope(ctx, {projectId: project.id, environmentId, serviceId})
        this.recordDeploy(project.id, environmentId, service!.id, 'redeploy')
        return true
      },
    }
  }

  // ---- authorization ------------------------------------------------------------------------

  /**
   * [platforms] an account token sees its projects; a project token only its own project.
   * [assumed] a project that does not exist is also "Not Authorized" (no access to it).
   */
  private authorizeProject(ctx: Context, projectId: string): ProjectRecord {
    const a = ctx.auth
    const project = this.projects.get(projectId)
    if (!project) return fail(NOT_AUTHORIZED)
    if (a.kind === 'account' && (!a.projects || a.projects.has(projectId))) return project
    if (a.kind === 'project' && a.token.projectId === projectId) return project
    return fail(NOT_AUTHORIZED)
  }

  /**
   * [platforms] a project token is scoped to one environment: another one is Not Authorized.
   * [assumed] an environment or service that is not in the project is Not Authorized too.
   */
  private authorizeScope(ctx: Context, scope: {projectId: string; environmentId: string; serviceId?: string | null}): {project: ProjectRecord; service?: ServiceRecord} {
    const project = this.authorizeProject(ctx, scope.projectId)
    if (!project.environments.has(scope.environmentId)) fail(NOT_AUTHORIZED)
    if (ctx.auth.kind === 'project' && ctx.auth.token.environmentId !== scope.environmentId) fail(NOT_AUTHORIZED)
    if (scope.serviceId === undefined || scope.serviceId === null) return {project}
    const service = project.services.get(scope.serviceId)
    if (!service) return fail(NOT_AUTHORIZED)
    return {project, service}
  }

  // ---- state helpers ----------------------------------------------------------------------

  private write(scope: Scope, vars: Map<string, Variable>, incoming: Record<string, string>): void {
    for (const [k, v] of Object.entries(incoming)) {
      // [platforms] a sealed variable stays sealed when its value is replaced.
      vars.set(k, {value: v, sealed: vars.get(k)?.sealed ?? false})
      // [platforms] RAILWAY_* names are Railway's: the API stores them (they are also how some
      // settings are configured, e.g. RAILWAY_DOCKERFILE_PATH) but Railway's own values win at
      // deploy time and in rendered reads. Stored and recorded, never rejected.
      if (k.startsWith('RAILWAY_')) this.reservedLog.push({scope: {...scope}, name: k})
    }
  }

  /**
   * [assumed] "affected services": a service-scoped change redeploys that service; a shared
   * change redeploys the services of the environment whose variables reference a changed
   * shared name (`${{shared.X}}`). One deploy per affected service per request, however many
   * variables changed; an upsert of identical values still counts (Railway is not known to diff).
   */
  private deployAffected(project: ProjectRecord, scope: Scope, names: string[], cause: Deploy['cause']): void {
    if (scope.serviceId) return this.recordDeploy(project.id, scope.environmentId, scope.serviceId, cause)
    for (const service of project.services.values()) {
      const vars = project.variables.get(scopeKey(scope.environmentId, service.id))
      const refs = [...(vars?.values() ?? [])].flatMap((v) => [...v.value.matchAll(REFERENCE)].map((m) => m[1]!))
      if (refs.some((r) => names.some((n) => r === `shared.${n}`))) this.recordDeploy(project.id, scope.environmentId, service.id, cause)
    }
  }

  private recordDeploy(projectId: string, environmentId: string, serviceId: string, cause: Deploy['cause']): void {
    this.deployLog.push({seq: ++this.deploySeq, projectId, environmentId, serviceId, cause})
  }

  /** Railway-provided variables of a service instance (what the running service sees). */
  private provided(project: ProjectRecord, environmentId: string, service: ServiceRecord): Record<string, string> {
    const environment = project.environments.get(environmentId)!
    return {
      RAILWAY_PROJECT_ID: project.id,
      RAILWAY_PROJECT_NAME: project.name,
      RAILWAY_ENVIRONMENT_ID: environment.id,
      RAILWAY_ENVIRONMENT_NAME: environment.name,
      RAILWAY_ENVIRONMENT: environment.name,
      RAILWAY_SERVICE_ID: service.id,
      RAILWAY_SERVICE_NAME: service.name,
      RAILWAY_PRIVATE_DOMAIN: `${service.name.toLowerCase()}.railway.internal`,
    }
  }

  /**
   * [platforms + Railway docs] `${{shared.X}}` → the environment's shared X; `${{Service.X}}` →
   * X of the service named Service (case-sensitive); `${{X}}` → X in the same place. Rendered
   * recursively. [assumed] unknown references and cycles render as ""; a reference to a sealed
   * variable renders as "" too (the API never reveals a sealed value, not even through a reference).
   */
  private render(project: ProjectRecord, environmentId: string, service: ServiceRecord | undefined, value: string, depth = 0): string {
    if (depth > 10) return ''
    return value.replace(REFERENCE, (_all, ref: string) => {
      const dot = ref.indexOf('.')
      let target: ServiceRecord | undefined = service
      let name = ref
      if (dot >= 0) {
        const namespace = ref.slice(0, dot)
        name = ref.slice(dot + 1)
        if (namespace === 'shared') target = undefined
        else {
          target = [...project.services.values()].find((s) => s.name === namespace)
          if (!target) return ''
        }
      }
      const v = project.variables.get(scopeKey(environmentId, target?.id))?.get(name)
      if (target && this.options.providedVariables && name.startsWith('RAILWAY_')) {
        const p = this.provided(project, environmentId, target)[name]
        if (p !== undefined) return p
      }
      if (!v || v.sealed) return ''
      return this.render(project, environmentId, target, v.value, depth + 1)
    })
  }

  private projectNode(p: ProjectRecord): Record<string, unknown> & {id: string} {
    return {
      id: p.id,
      name: p.name,
      createdAt: p.createdAt,
      updatedAt: p.createdAt,
      deletedAt: null,
      description: null,
      isPublic: false,
      isTempProject: false,
      prDeploys: false,
      botPrEnvironments: false,
      focusedPrEnvironments: false,
      environments: (args: ConnectionArgs) => connection([...p.environments.values()].map(environmentNode), args),
      services: (args: ConnectionArgs) => connection([...p.services.values()].map((s) => ({...s, updatedAt: s.createdAt, deletedAt: null, project: () => this.projectNode(p)})), args),
    }
  }

  private project(id: string): ProjectRecord {
    const p = this.projects.get(id)
    if (!p) throw new Error(`no project ${id} in the fake`)
    return p
  }

  private environment(projectId: string, environmentId: string): EnvironmentRecord {
    const e = this.project(projectId).environments.get(environmentId)
    if (!e) throw new Error(`no environment ${environmentId} in project ${projectId}`)
    return e
  }

  private vars(scope: Scope): Map<string, Variable> {
    const p = this.project(scope.projectId)
    this.environment(scope.projectId, scope.environmentId)
    if (scope.serviceId !== undefined && !p.services.has(scope.serviceId)) throw new Error(`no service ${scope.serviceId} in project ${scope.projectId}`)
    const key = scopeKey(scope.environmentId, scope.serviceId)
    let m = p.variables.get(key)
    if (!m) p.variables.set(key, (m = new Map()))
    return m
  }
}

// ---- helpers --------------------------------------------------------------------------------

interface UpsertInput {
  projectId: string
  environmentId: string
  serviceId?: string | null
  variables: unknown
  replace?: boolean | null
  skipDeploys?: boolean | null
}

interface UpsertOneInput {
  projectId: string
  environmentId: string
  serviceId?: string | null
  name: string
  value: string
  skipDeploys?: boolean | null
}

interface DeleteInput {
  projectId: string
  environmentId: string
  serviceId?: string | null
  name: string
}

interface ConnectionArgs {
  first?: number | null
  after?: string | null
  last?: number | null
  before?: string | null
}

function emptyCounters(): Counters {
  return {requests: 0, byOperation: {}, byField: {}, byStatus: {}, byFault: {}}
}

function environmentNode(e: EnvironmentRecord): Record<string, unknown> & {id: string} {
  return {...e, updatedAt: e.createdAt, deletedAt: null, isEphemeral: false, canAccess: true}
}

/**
 * [schema] EnvironmentVariables is a JSON scalar: KEY → value. [assumed] values must be strings
 * (Railway stores strings; what it says about numbers or null is unverified).
 */
function checkVariables(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return fail('Variables must be an object of string values')
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`Variable ${k}: value must be a string`)
    if (k === '') fail('Variable names cannot be empty')
  }
  return value as Record<string, string>
}

/**
 * A relay connection. Cursors are opaque (base64 of the node id). [assumed] `first` defaults to
 * 20 and is capped at 100 (Pothos's defaults); an unknown cursor is an error.
 */
function connection<T extends {id: string}>(nodes: T[], args: ConnectionArgs): Record<string, unknown> {
  const cursor = (n: T) => Buffer.from(`GPC:S:${n.id}`).toString('base64')
  let start = 0
  if (args.after) {
    const i = nodes.findIndex((n) => cursor(n) === args.after)
    if (i < 0) fail('Invalid cursor')
    start = i + 1
  }
  if (args.first !== undefined && args.first !== null && args.first < 0) fail('Argument "first" must be a non-negative integer')
  const size = Math.min(args.first ?? DEFAULT_PAGE, MAX_PAGE)
  const page = nodes.slice(start, start + size)
  return {
    edges: page.map((node) => ({cursor: cursor(node), node})),
    pageInfo: {
      hasNextPage: start + page.length < nodes.length,
      hasPreviousPage: start > 0,
      startCursor: page.length ? cursor(page[0]!) : null,
      endCursor: page.length ? cursor(page.at(-1)!) : null,
    },
  }
}

function rootFields(doc: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>()): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
  const out: string[] = []
  for (const s of selectionSet.selections) {
    if (s.kind === Kind.FIELD) out.push(s.name.value)
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...rootFields(doc, s.selectionSet, seen))
    else if (!seen.has(s.name.value)) {
      seen.add(s.name.value)
      const f = fragments.get(s.name.value)
      if (f) out.push(...rootFields(doc, f.selectionSet, seen))
    }
  }
  return [...new Set(out)]
}

/**
 * The request log never holds a value: strings are replaced by REDACTED except identifiers
 * (ids, cursors, a variable's name), and everything under `variables`/`value` is redacted
 * whatever its inner keys are called (a secret named "projectId" stays hidden).
 */
export function redact(value: unknown, key?: string, inValues = false): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value
  if (typeof value === 'string') return !inValues && key !== undefined && ID_KEYS.has(key) ? value : REDACTED
  if (Array.isArray(value)) return value.map((v) => redact(v, undefined, inValues))
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k, inValues || VALUE_KEYS.has(k))]))
  }
  return REDACTED
}

/** Every string in the request's variables (to mask error messages for the log). */
function requestStrings(body: unknown): Set<string> {
  const out = new Set<string>()
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.add(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  if (body && typeof body === 'object') walk((body as {variables?: unknown}).variables)
  return out
}

/** String literals written inline in a document (a client might inline a value). */
function collectLiterals(doc: DocumentNode): string[] {
  const out: string[] = []
  visit(doc, {StringValue: (node) => void out.push(node.value)})
  return out
}

function mask(message: string, secrets: Set<string>): string {
  let out = message
  for (const s of [...secrets].filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED)
  return out
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
