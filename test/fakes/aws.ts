import {createHash, createHmac, randomBytes, randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {answerFault, dropConnection, type Fault, FaultInjector, type FaultRequest} from './faults.js'

/**
 * A state-keeping fake of AWS Secrets Manager (JSON 1.1 protocol: POST / with X-Amz-Target
 * secretsmanager.<Op>), on 127.0.0.1 and a random port, for the AWS backend's tests and the
 * end-to-end tests. It answers the real @aws-sdk/client-secrets-manager.
 *
 * Contract: the published API model (test/fixtures/aws-secretsmanager-2017-10-17.min.json, see
 * the README there). Every request body is checked against its operation's input shape (known
 * members only, required members, types) and every answer against the output shape; the model
 * copy carries no lengths or patterns, so the documented ones (API reference, quotas page) are in
 * LIMITS below. A request that breaks them gets 400 with AWS's error shape
 * ({"__type": …, "message": …}) and is recorded in `violations`; an answer that breaks the model
 * is a bug of the fake and is recorded there too. Each request's SigV4 signature is verified
 * with the fake's known keys (credential scope <region>/secretsmanager/aws4_request).
 *
 * State: secrets with ARNs (…:secret:<name>-<6 random>), versions and their stages (AWSCURRENT,
 * AWSPREVIOUS; a version read by VersionId or VersionStage; versions without a stage listed by
 * ListSecretVersionIds with IncludeDeprecated, never cleaned up here), tags, and scheduled deletion (DeleteSecret's recovery window: the name stays
 * taken, RestoreSecret brings it back). "Assumed" marks behaviour the documents leave open.
 */

export const MODEL_FILE = new URL('../fixtures/aws-secretsmanager-2017-10-17.min.json', import.meta.url)
export const PAGINATORS_FILE = new URL('../fixtures/aws-secretsmanager-2017-10-17.paginators.json', import.meta.url)
/** The published paginators: which operations page, by which token and limit members. */
export const PAGINATORS: Record<string, {input_token: string; output_token: string; limit_key: string}> = JSON.parse(readFileSync(PAGINATORS_FILE, 'utf8')).pagination
export const FAKE_ACCOUNT = '123456789012'
export const FAKE_REGION = 'eu-west-1'
export const FAKE_ACCESS_KEY_ID = 'AKIAFAKEENVSYNC00001'
export const FAKE_SECRET_ACCESS_KEY = 'fakeSecretKey/envsync+0123456789abcdefghijklmn'
const MAX_BODY = 1024 * 1024

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Documented limits the model copy does not carry (AWS API reference of each operation, and the
 * Secrets Manager quotas page): [min, max] length (strings: characters; SecretString: UTF-8
 * bytes, as the 64 KB quota counts), patterns, enums. Keyed by "Operation.Member" or by a
 * structure member path.
 */
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/
interface Limit {
  min?: number
  max?: number
  bytes?: boolean
  pattern?: RegExp
  enum?: string[]
}
const LIMITS: Record<string, Limit> = {
  'CreateSecret.Name': {min: 1, max: 512, pattern: NAME_PATTERN},
  // Assumed: the empty string is no value ("Either SecretString or SecretBinary must have a value").
  'CreateSecret.SecretString': {min: 1, max: 65_536, bytes: true},
  'PutSecretValue.SecretString': {min: 1, max: 65_536, bytes: true},
  'CreateSecret.ClientRequestToken': {min: 32, max: 64},
  'PutSecretValue.ClientRequestToken': {min: 32, max: 64},
  '*.SecretId': {min: 1, max: 2048},
  'ListSecrets.MaxResults': {min: 1, max: 100},
  'ListSecretVersionIds.MaxResults': {min: 1, max: 100},
  '*.VersionId': {min: 32, max: 64},
  '*.VersionStage': {min: 1, max: 256},
  'BatchGetSecretValue.MaxResults': {min: 1, max: 20},
  'BatchGetSecretValue.SecretIdList': {min: 1, max: 20},
  '*.NextToken': {min: 1, max: 4096},
  'Filter.Key': {enum: ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all']},
  'Filter.Values': {min: 1, max: 10},
  'Filter.Value': {max: 512, pattern: /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/},
  'Tag.Key': {min: 1, max: 128},
  'Tag.Value': {min: 0, max: 256},
  'ListSecrets.SortOrder': {enum: ['asc', 'desc']},
}

export interface Violation {
  operation: string
  problem: string
  /** 'request': the client sent it; 'response': the fake built it (a bug of the fake). */
  side: 'request' | 'response'
}

export interface Version {
  id: string
  /** undefined: a binary version (envsync never writes one). */
  string?: string
  stages: string[]
  created: Date
}

export interface FakeSecret {
  name: string
  arn: string
  tags: Map<string, string>
  versions: Version[]
  created: Date
  changed: Date
  deletedDate?: Date
  /** When the recovery window ends. */
  deletionDate?: Date
}

export interface AwsLogEntry {
  method: string
  path: string
  operation?: string
  status: number
  accessKeyId?: string
  /** The __type of an error answer. */
  error?: string
}

export interface AwsFakeOptions {
  /** ListSecrets page size (the client's MaxResults is honoured when smaller). Default 100. */
  pageSize?: number
  /** BatchGetSecretValue page size. Default 20. */
  batchPageSize?: number
  region?: string
  /** accessKeyId → secretAccessKey the fake accepts; the default pair always works. */
  keys?: Record<string, string>
}

/** AWS's throttling answer: HTTP 400 with ThrottlingException (retried by clients by its name). */
export function throttling(retryAfter?: number): Fault {
  return {kind: 'status', status: 400, retryAfter, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({__type: 'ThrottlingException', message: 'Rate exceeded'})}
}

/** An error answer in AWS's shape, as a fault (e.g. 500 InternalServiceError). */
export function awsError(status: number, type: string, message: string, retryAfter?: number): Fault {
  return {kind: 'status', status, retryAfter, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({__type: type, message})}
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

const NOT_FOUND = "Secrets Manager can't find the specified secret."
const MARKED = "You can't perform this operation on the secret because it was marked for deletion."

export class AwsFake {
  readonly faults = new FaultInjector()
  readonly violations: Violation[] = []
  readonly log: AwsLogEntry[] = []
  requests = 0
  url = ''
  readonly region: string
  /**
   * Test hook: when set, a write answers 400 InvalidParameterException whose message quotes the
   * SecretString it was sent (as a careless server might), for the leak tests.
   */
  quoteValueInErrors = false
  private readonly secrets = new Map<string, FakeSecret>()
  private readonly model: Json
  private readonly keys: Record<string, string>
  private readonly pageSize: number
  private readonly batchPageSize: number
  private readonly sockets = new Set<Socket>()
  private readonly stopping = new AbortController()
  private server = createServer((req, res) => void this.handle(req, res))

  constructor(options: AwsFakeOptions = {}) {
    this.model = JSON.parse(readFileSync(MODEL_FILE, 'utf8'))
    this.region = options.region ?? FAKE_REGION
    this.keys = {[FAKE_ACCESS_KEY_ID]: FAKE_SECRET_ACCESS_KEY, ...options.keys}
    this.pageSize = options.pageSize ?? 100
    this.batchPageSize = options.batchPageSize ?? 20
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  async close(): Promise<void> {
    this.stopping.abort()
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Variables that point the real client at this fake with valid fake credentials. */
  get env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.url,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
      // No instance-metadata probe on a machine that is not EC2.
      AWS_EC2_METADATA_DISABLED: 'true',
    }
  }

  // ---- state accessors -----------------------------------------------------------------------

  /** Every secret the fake holds, deleted ones included. */
  names(): string[] {
    return [...this.secrets.keys()]
  }

  secret(name: string): FakeSecret | undefined {
    return this.secrets.get(name)
  }

  /** The AWSCURRENT text of a secret (deleted ones too: AWS keeps it until the window ends). */
  value(name: string): string | undefined {
    return this.secrets.get(name)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.string
  }

  versions(name: string): Version[] {
    return this.secrets.get(name)?.versions ?? []
  }

  tags(name: string): Record<string, string> | undefined {
    const s = this.secrets.get(name)
    return s ? Object.fromEntries(s.tags) : undefined
  }

  /** As another tool would put it there: no request counted. */
  seed(name: string, text: string, tags: Record<string, string> = {}): FakeSecret {
    const s = this.secrets.get(name) ?? this.newSecret(name, new Map(Object.entries(tags)))
    for (const [k, v] of Object.entries(tags)) s.tags.set(k, v)
    this.addVersion(s, randomUUID(), text)
    return s
  }

  /** Schedules a secret for deletion as DeleteSecret would. */
  markDeleted(name: string): void {
    const s = this.secrets.get(name)
    if (!s) throw new Error(`no secret ${name}`)
    s.deletedDate = new Date()
    s.deletionDate = new Date(Date.now() + 30 * 86_400_000)
  }

  /** The operations of the log (for "only one request" assertions). */
  operations(): string[] {
    return this.log.map((l) => l.operation ?? '?')
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++
    const entry: AwsLogEntry = {method: req.method ?? '', path: req.url ?? '', status: 0}
    this.log.push(entry)
    let body: Buffer
    try {
      body = await readBody(req)
    } catch {
      return dropConnection(req, res)
    }
    const target = String(req.headers['x-amz-target'] ?? '')
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : undefined
    entry.operation = operation
    const fault = this.faults.next({method: entry.method, path: entry.path, operation, write: operation !== undefined && !/^(Get|List|Describe|BatchGet)/.test(operation)} as FaultRequest)
    if (await answerFault(fault, req, res, this.stopping.signal, (status) => (entry.status = status))) return
    let status = 200
    let answer: Json
    try {
      answer = this.dispatch(req, body, operation, entry)
    } catch (error) {
      const e = error instanceof AwsError ? error : new AwsError('InternalServiceError', 'An error occurred on the server side.', 500)
      status = e.status
      answer = {__type: e.type, message: e.message}
      entry.error = e.type
    }
    entry.status = status
    if (fault?.kind === 'applyThenDrop') return dropConnection(req, res)
    const text = JSON.stringify(answer)
    res.writeHead(status, {'content-type': 'application/x-amz-json-1.1', 'content-length': String(Buffer.byteLength(text)), 'x-amzn-requestid': randomUUID()})
    res.end(text)
  }

  private reject(operation: string, type: string, problem: string, status = 400): never {
    this.violations.push({operation, problem, side: 'request'})
    throw new AwsError(type, problem, status)
  }

  private dispatch(req: IncomingMessage, body: Buffer, operation: string | undefined, entry: AwsLogEntry): Json {
    const op = operation ?? '(none)'
    if (req.method !== 'POST' || (req.url ?? '') !== '/') this.reject(op, 'UnknownOperationException', `${req.method} ${req.url}: the JSON protocol is POST /`, 404)
    const contentType = String(req.headers['content-type'] ?? '')
    if (contentType !== 'application/x-amz-json-1.1') this.reject(op, 'SerializationException', `Content-Type must be application/x-amz-json-1.1, not ${contentType || 'absent'}`)
    if (!operation || !this.model.operations[operation]) this.reject(op, 'UnknownOperationException', `unknown operation ${String(req.headers['x-amz-target'] ?? '(no X-Amz-Target)')}`)
    entry.accessKeyId = this.authenticate(req, body, operation)
    let input: unknown
    try {
      input = body.length ? JSON.parse(body.toString('utf8')) : {}
    } catch {
      this.reject(operation, 'SerializationException', 'the body is not JSON')
    }
    const problems: string[] = []
    this.check(this.model.operations[operation].input ?? {type: 'structure', members: {}}, input, operation, operation, problems)
    if (problems.length > 0) this.reject(operation, problems[0]!.startsWith('missing') ? 'ValidationException' : 'InvalidParameterException', problems.join('; '))
    const output = this.run(operation, input as Json)
    const outProblems: string[] = []
    this.check(this.model.operations[operation].output ?? {type: 'structure', members: {}}, output, operation, `${operation}Response`, outProblems, false)
    for (const p of outProblems) this.violations.push({operation, problem: p, side: 'response'})
    return output
  }

  /** SigV4: header present and well-formed, known key, scope <date>/<region>/secretsmanager/aws4_request, signature right. */
  private authenticate(req: IncomingMessage, body: Buffer, operation: string): string {
    const auth = String(req.headers.authorization ?? '')
    if (!auth) this.reject(operation, 'MissingAuthenticationTokenException', 'Request is missing Authentication Token')
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth)
    if (!m) this.reject(operation, 'IncompleteSignatureException', 'the Authorization header is not a SigV4 header')
    const [, keyId, date, region, service, signedHeaders, signature] = m
    if (service !== 'secretsmanager') this.reject(operation, 'InvalidSignatureException', `Credential should be scoped to correct service: 'secretsmanager'`)
    if (region !== this.region) this.reject(operation, 'InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'`)
    const secret = this.keys[keyId!]
    // Not a contract violation: a client with wrong keys is a case the tests make on purpose.
    if (!secret) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.')
    const amzDate = String(req.headers['x-amz-date'] ?? '')
    if (!amzDate.startsWith(date!)) this.reject(operation, 'IncompleteSignatureException', 'X-Amz-Date is missing or does not match the credential scope date')
    const names = signedHeaders!.split(';')
    if (!names.includes('host') || !names.includes('x-amz-date')) this.reject(operation, 'IncompleteSignatureException', 'host and x-amz-date must be signed')
    const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replaceAll(/\s+/g, ' ')}\n`).join('')
    const payloadHash = createHash('sha256').update(body).digest('hex')
    const canonical = ['POST', '/', '', canonicalHeaders, signedHeaders, payloadHash].join('\n')
    const scope = `${date}/${region}/${service}/aws4_request`
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n')
    const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()
    const kSigning = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request')
    if (createHmac('sha256', kSigning).update(toSign).digest('hex') !== signature) {
      throw new AwsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.')
    }
    return keyId!
  }

  // ---- the contract --------------------------------------------------------------------------

  private resolve(shape: Json): Json {
    return shape.shape ? this.model.shapes[shape.shape] : shape
  }

  /** Checks a value against a model shape (and LIMITS), collecting problems. */
  private check(shapeRef: Json, value: unknown, operation: string, path: string, problems: string[], isInput = true): void {
    const shape = this.resolve(shapeRef)
    const type = shape.type ?? 'string'
    const member = path.split('.').pop()!
    const limit = LIMITS[`${operation}.${member}`] ?? LIMITS[`*.${member}`] ?? LIMITS[path.replace(/^.*\.(Filters|Tags)\[\d+\]\./, (_, l) => `${l === 'Filters' ? 'Filter' : 'Tag'}.`)]
    const here = path
    switch (type) {
      case 'structure': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return void problems.push(`${here} must be an object`)
        for (const r of shape.required ?? []) if ((value as Json)[r] === undefined) problems.push(`missing required member ${here}.${r}`)
        for (const [k, v] of Object.entries(value as Json)) {
          const m = shape.members?.[k]
          if (!m) problems.push(`${here}.${k} is not a member of ${here}`)
          else if (v !== null) this.check(m, v, operation, `${here}.${k}`, problems, isInput)
        }
        return
      }
      case 'list': {
        if (!Array.isArray(value)) return void problems.push(`${here} must be a list`)
        if (limit?.min !== undefined && value.length < limit.min) problems.push(`${here} has ${value.length} members, at least ${limit.min}`)
        if (limit?.max !== undefined && value.length > limit.max) problems.push(`${here} has ${value.length} members, at most ${limit.max}`)
        const itemPath = here.endsWith('.Values') ? here.replace(/\.Values$/, '.Value') : `${here}[i]`
        value.forEach((v, i) => this.check(shape.member, v, operation, itemPath.replace('[i]', `[${i}]`), problems, isInput))
        return
      }
      case 'map': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return void problems.push(`${here} must be a map`)
        for (const [k, v] of Object.entries(value as Json)) this.check(shape.value, v, operation, `${here}[${k}]`, problems, isInput)
        return
      }
      case 'boolean':
        if (typeof value !== 'boolean') problems.push(`${here} must be a boolean`)
        return
      case 'integer':
      case 'long':
        if (typeof value !== 'number' || !Number.isInteger(value)) return void problems.push(`${here} must be an integer`)
        if (limit?.min !== undefined && value < limit.min) problems.push(`${here} must be at least ${limit.min}`)
        if (limit?.max !== undefined && value > limit.max) problems.push(`${here} must be at most ${limit.max}`)
        return
      case 'timestamp':
        // JSON 1.1: epoch seconds.
        if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${here} must be a timestamp in epoch seconds`)
        return
      case 'blob':
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) problems.push(`${here} must be base64`)
        return
      default: {
        if (typeof value !== 'string') return void problems.push(`${here} must be a string`)
        if (!isInput || !limit) return
        const length = limit.bytes ? Buffer.byteLength(value, 'utf8') : [...value].length
        if (limit.min !== undefined && length < limit.min) problems.push(`${here} must have length at least ${limit.min}`)
        if (limit.max !== undefined && length > limit.max) problems.push(`${here} must have length at most ${limit.max}${limit.bytes ? ' bytes' : ''}`)
        if (limit.pattern && !limit.pattern.test(value)) problems.push(`${here} must match ${limit.pattern.source}`)
        if (limit.enum && !limit.enum.includes(value)) problems.push(`${here} must be one of ${limit.enum.join(', ')}`)
      }
    }
  }

  // ---- operations ----------------------------------------------------------------------------

  /** The operations the fake implements; the rest of the model is answered as unknown. */
  private readonly handlers: Record<string, (input: Json) => Json> = {
    ListSecrets: (i) => this.listSecrets(i),
    BatchGetSecretValue: (i) => this.batchGet(i),
    GetSecretValue: (i) => this.valueEntry(this.live(i.SecretId), i),
    ListSecretVersionIds: (i) => this.listVersionIds(i),
    DescribeSecret: (i) => this.describe(i),
    CreateSecret: (i) => this.create(i),
    PutSecretValue: (i) => this.put(i),
    DeleteSecret: (i) => this.delete(i),
    RestoreSecret: (i) => this.restore(i),
    TagResource: (i) => this.tag(i),
  }

  private run(operation: string, input: Json): Json {
    const handler = this.handlers[operation]
    // In the model but not faked: the backend must not use it (recorded, so a test sees it).
    if (!handler) this.reject(operation, 'UnknownOperationException', `${operation} is not implemented by the fake`)
    return handler(input)
  }

  private find(id: string): FakeSecret {
    const s = this.secrets.get(id) ?? [...this.secrets.values()].find((x) => x.arn === id)
    if (!s) throw new AwsError('ResourceNotFoundException', NOT_FOUND)
    return s
  }

  private live(id: string): FakeSecret {
    const s = this.find(id)
    if (s.deletedDate) throw new AwsError('InvalidRequestException', MARKED)
    return s
  }

  private newSecret(name: string, tags: Map<string, string>): FakeSecret {
    const suffix = randomBytes(6).toString('base64url').replaceAll(/[-_]/g, 'x').slice(0, 6)
    const now = new Date()
    const s: FakeSecret = {name, arn: `arn:aws:secretsmanager:${this.region}:${FAKE_ACCOUNT}:secret:${name}-${suffix}`, tags, versions: [], created: now, changed: now}
    this.secrets.set(name, s)
    return s
  }

  /** A new version with AWSCURRENT; the old current one becomes AWSPREVIOUS (the older loses it). */
  private addVersion(s: FakeSecret, id: string, text: string): Version {
    for (const v of s.versions) v.stages = v.stages.filter((st) => st !== 'AWSPREVIOUS')
    for (const v of s.versions) if (v.stages.includes('AWSCURRENT')) v.stages = [...v.stages.filter((st) => st !== 'AWSCURRENT'), 'AWSPREVIOUS']
    const version: Version = {id, string: text, stages: ['AWSCURRENT'], created: new Date()}
    s.versions.push(version)
    s.changed = version.created
    return version
  }

  private quote(value: unknown): void {
    if (this.quoteValueInErrors) throw new AwsError('InvalidParameterException', `The parameter SecretString "${String(value)}" is not valid.`)
  }

  private page<T>(items: T[], token: string | undefined, size: number): {items: T[]; next?: string} {
    const start = token ? Number(Buffer.from(token, 'base64').toString('utf8').replace(/^offset:/, '')) : 0
    if (!Number.isInteger(start) || start < 0) throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.')
    const slice = items.slice(start, start + size)
    return {items: slice, next: start + size < items.length ? Buffer.from(`offset:${start + size}`).toString('base64') : undefined}
  }

  private matchesFilters(s: FakeSecret, filters: Json[] | undefined): boolean {
    return (filters ?? []).every((f) => {
      const values: string[] = f.Values ?? []
      const hit = (text: string) => values.some((v) => (v.startsWith('!') ? !text.startsWith(v.slice(1)) : text.startsWith(v)))
      if (f.Key === 'name') return hit(s.name)
      if (f.Key === 'tag-key') return [...s.tags.keys()].some(hit)
      if (f.Key === 'tag-value') return [...s.tags.values()].some(hit)
      if (f.Key === 'all') return hit(s.name) || [...s.tags.keys(), ...s.tags.values()].some(hit)
      return false
    })
  }

  private listSecrets(input: Json): Json {
    const all = [...this.secrets.values()].filter((s) => (input.IncludePlannedDeletion || !s.deletedDate) && this.matchesFilters(s, input.Filters))
    const {items, next} = this.page(all, input.NextToken, Math.min(input.MaxResults ?? 100, this.pageSize))
    return {
      SecretList: items.map((s) => ({
        ARN: s.arn,
        Name: s.name,
        CreatedDate: s.created.getTime() / 1000,
        LastChangedDate: s.changed.getTime() / 1000,
        ...(s.deletedDate ? {DeletedDate: s.deletedDate.getTime() / 1000} : {}),
        ...(s.tags.size ? {Tags: [...s.tags].map(([Key, Value]) => ({Key, Value}))} : {}),
        SecretVersionsToStages: Object.fromEntries(s.versions.filter((v) => v.stages.length).map((v) => [v.id, v.stages])),
      })),
      ...(next ? {NextToken: next} : {}),
    }
  }

  /** A version by VersionId and/or VersionStage (both: they must name the same one), else AWSCURRENT. */
  private valueEntry(s: FakeSecret, which: {VersionId?: string; VersionStage?: string} = {}): Json {
    const stage = which.VersionStage ?? (which.VersionId ? undefined : 'AWSCURRENT')
    const v = s.versions.find((x) => (which.VersionId === undefined || x.id === which.VersionId) && (stage === undefined || x.stages.includes(stage)))
    if (!v && which.VersionId) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${which.VersionId}`)
    if (!v) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${stage}`)
    return {ARN: s.arn, Name: s.name, VersionId: v.id, SecretString: v.string, VersionStages: v.stages, CreatedDate: v.created.getTime() / 1000}
  }

  /** Versions with a stage; IncludeDeprecated adds those without (kept, as AWS keeps them for a while). */
  private listVersionIds(input: Json): Json {
    const s = this.live(input.SecretId)
    const all = s.versions.filter((v) => input.IncludeDeprecated || v.stages.length > 0)
    const {items, next} = this.page(all, input.NextToken, Math.min(input.MaxResults ?? 100, this.pageSize))
    return {
      ARN: s.arn,
      Name: s.name,
      Versions: items.map((v) => ({VersionId: v.id, ...(v.stages.length ? {VersionStages: v.stages} : {}), CreatedDate: v.created.getTime() / 1000})),
      ...(next ? {NextToken: next} : {}),
    }
  }

  private batchGet(input: Json): Json {
    if (input.SecretIdList && input.Filters) this.reject('BatchGetSecretValue', 'InvalidParameterException', 'Either SecretIdList or Filters, not both')
    if (!input.SecretIdList && !input.Filters) this.reject('BatchGetSecretValue', 'InvalidParameterException', 'SecretIdList or Filters is required')
    if (input.SecretIdList && input.MaxResults !== undefined) this.reject('BatchGetSecretValue', 'InvalidParameterException', 'MaxResults goes with Filters, not with SecretIdList')
    const errors: Json[] = []
    const values: Json[] = []
    if (input.SecretIdList) {
      const ids: string[] = input.SecretIdList
      const {items, next} = this.page(ids, input.NextToken, this.batchPageSize)
      for (const id of items) {
        try {
          values.push(this.valueEntry(this.live(id)))
        } catch (error) {
          const e = error as AwsError
          errors.push({SecretId: id, ErrorCode: e.type, Message: e.message})
        }
      }
      return {SecretValues: values, Errors: errors, ...(next ? {NextToken: next} : {})}
    }
    const all = [...this.secrets.values()].filter((s) => !s.deletedDate && this.matchesFilters(s, input.Filters))
    const {items, next} = this.page(all, input.NextToken, Math.min(input.MaxResults ?? 20, this.batchPageSize))
    return {SecretValues: items.map((s) => this.valueEntry(s)), Errors: [], ...(next ? {NextToken: next} : {})}
  }

  private describe(input: Json): Json {
    const s = this.find(input.SecretId)
    return {
      ARN: s.arn,
      Name: s.name,
      CreatedDate: s.created.getTime() / 1000,
      ...(s.deletedDate ? {DeletedDate: s.deletedDate.getTime() / 1000} : {}),
      Tags: [...s.tags].map(([Key, Value]) => ({Key, Value})),
      VersionIdsToStages: Object.fromEntries(s.versions.filter((v) => v.stages.length).map((v) => [v.id, v.stages])),
    }
  }

  private create(input: Json): Json {
    if (input.SecretString !== undefined && input.SecretBinary !== undefined) throw new AwsError('InvalidParameterException', "You can't specify both a binary secret value and a string secret value in the same secret.")
    this.quote(input.SecretString)
    const existing = this.secrets.get(input.Name)
    if (existing?.deletedDate) throw new AwsError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.")
    if (existing) throw new AwsError('ResourceExistsException', `The operation failed because the secret ${input.Name} already exists.`)
    const s = this.newSecret(input.Name, new Map((input.Tags ?? []).map((t: Json) => [t.Key, t.Value])))
    const out: Json = {ARN: s.arn, Name: s.name}
    if (input.SecretString !== undefined) out.VersionId = this.addVersion(s, input.ClientRequestToken ?? randomUUID(), input.SecretString).id
    return out
  }

  private put(input: Json): Json {
    if (input.SecretString === undefined) throw new AwsError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.')
    this.quote(input.SecretString)
    const s = this.live(input.SecretId)
    const token: string = input.ClientRequestToken ?? randomUUID()
    const same = s.versions.find((v) => v.id === token)
    // The idempotency token: the same request again is answered, not applied twice.
    if (same && same.string === input.SecretString) return {ARN: s.arn, Name: s.name, VersionId: same.id, VersionStages: same.stages}
    if (same) throw new AwsError('ResourceExistsException', 'A resource with the ID you requested already exists.')
    const v = this.addVersion(s, token, input.SecretString)
    return {ARN: s.arn, Name: s.name, VersionId: v.id, VersionStages: v.stages}
  }

  private delete(input: Json): Json {
    const s = this.find(input.SecretId)
    if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) this.reject('DeleteSecret', 'InvalidParameterException', "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
    const days = input.RecoveryWindowInDays ?? 30
    if (!input.ForceDeleteWithoutRecovery && (days < 7 || days > 30)) this.reject('DeleteSecret', 'InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).')
    if (s.deletedDate) throw new AwsError('InvalidRequestException', MARKED)
    const now = new Date()
    if (input.ForceDeleteWithoutRecovery) {
      this.secrets.delete(s.name)
      return {ARN: s.arn, Name: s.name, DeletionDate: now.getTime() / 1000}
    }
    s.deletedDate = now
    s.deletionDate = new Date(now.getTime() + days * 86_400_000)
    return {ARN: s.arn, Name: s.name, DeletionDate: s.deletionDate.getTime() / 1000}
  }

  private restore(input: Json): Json {
    const s = this.find(input.SecretId)
    s.deletedDate = undefined
    s.deletionDate = undefined
    return {ARN: s.arn, Name: s.name}
  }

  private tag(input: Json): Json {
    const s = this.live(input.SecretId)
    for (const t of input.Tags as Json[]) s.tags.set(t.Key, t.Value)
    return {}
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) reject(new Error('body too large'))
      else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Starts a fake on 127.0.0.1 and a free port. */
export async function startAws(options: AwsFakeOptions = {}): Promise<AwsFake> {
  return new AwsFake(options).listen()
}
