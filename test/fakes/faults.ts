import type {IncomingMessage, ServerResponse} from 'node:http'

/**
 * Fault injection for the platform fakes (Railway now, Render later). Generic: it knows HTTP,
 * not GraphQL or REST. A fake describes each incoming request as a FaultRequest (whatever it
 * can tell: method, path, operation, whether it writes) and asks `next(request)` which fault,
 * if any, to apply to it.
 *
 * Three ways to schedule faults, consulted in this order for every request:
 *  - `once(fault, {match, times})`: the next `times` matching requests (a FIFO queue);
 *  - `always(fault, {match})`: every matching request until `clear()`;
 *  - `random(rules, {seed, match})`: one draw per matching request from a seeded RNG, so a
 *    "10 % of requests fail" run is reproducible from its seed.
 */

/** What a fault can do to one request. `latencyMs` delays any kind before it takes effect. */
export type Fault =
  /** Wait, then handle the request normally. */
  | {kind: 'latency'; ms: number; latencyMs?: number}
  /** Answer with this status instead of handling the request (nothing is applied). */
  | {kind: 'status'; status: number; retryAfter?: number | string; body?: string; contentType?: string; headers?: Record<string, string>; latencyMs?: number}
  /** Destroy the socket before handling: the client sees a reset, nothing is applied. */
  | {kind: 'drop'; latencyMs?: number}
  /** Handle the request (a write IS applied), then destroy the socket instead of answering. */
  | {kind: 'applyThenDrop'; latencyMs?: number}

export type FaultKind = Fault['kind']

/** What a fake can tell about a request; fakes add their own fields (operationName, fields…). */
export interface FaultRequest {
  method: string
  path: string
  /** The request writes (a GraphQL mutation, a PUT/POST/DELETE). */
  write?: boolean
  [key: string]: unknown
}

/** A predicate, or an object whose fields must all equal the request's (arrays: any of). */
export type FaultMatch = ((request: FaultRequest) => boolean) | Record<string, unknown>

export interface RandomRule {
  /** Probability in [0, 1]; the rules' probabilities must add up to at most 1. */
  probability: number
  fault: Fault
}

export interface InjectedFault {
  seq: number
  fault: Fault
  request: FaultRequest
}

// ---- convenience constructors --------------------------------------------------------------

export const HTML_429 =
  '<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head>\n<body><center><h1>429 Too Many Requests</h1></center><hr><center>cloudflare</center></body></html>\n'

/** HTTP 429 with Retry-After (seconds); `html: true` sends an HTML page instead of JSON. */
export function tooManyRequests(retryAfter: number | string = 1, options: {html?: boolean; body?: string} = {}): Fault {
  if (options.html) return {kind: 'status', status: 429, retryAfter, body: options.body ?? HTML_429, contentType: 'text/html; charset=utf-8'}
  return {kind: 'status', status: 429, retryAfter, body: options.body ?? JSON.stringify({errors: [{message: 'Too Many Requests'}], data: null})}
}

/** HTTP 5xx: 500 with a JSON body; 502/503/504 with the plain HTML a proxy in front sends. */
export function serverError(status: 500 | 502 | 503 | 504 = 500, options: {retryAfter?: number; body?: string} = {}): Fault {
  if (status === 500) return {kind: 'status', status, retryAfter: options.retryAfter, body: options.body ?? JSON.stringify({errors: [{message: 'Internal Server Error'}], data: null})}
  const text = {502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'}[status]
  return {kind: 'status', status, retryAfter: options.retryAfter, body: options.body ?? `<html><head><title>${status} ${text}</title></head><body><h1>${status} ${text}</h1></body></html>\n`, contentType: 'text/html; charset=utf-8'}
}

export const latency = (ms: number): Fault => ({kind: 'latency', ms})
export const drop = (): Fault => ({kind: 'drop'})
export const applyThenDrop = (): Fault => ({kind: 'applyThenDrop'})

// ---- the scheduler ------------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). Same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function matches(match: FaultMatch | undefined, request: FaultRequest): boolean {
  if (match === undefined) return true
  if (typeof match === 'function') return match(request)
  return Object.entries(match).every(([k, want]) => {
    const have = request[k]
    if (Array.isArray(want)) return want.some((w) => w === have || (Array.isArray(have) && have.includes(w)))
    return want === have || (Array.isArray(have) && have.includes(want))
  })
}

interface Queued {
  fault: Fault
  match?: FaultMatch
  remaining: number
}

interface RandomPlan {
  rules: RandomRule[]
  match?: FaultMatch
  rng: () => number
}

export class FaultInjector {
  private queue: Queued[] = []
  private standing: {fault: Fault; match?: FaultMatch}[] = []
  private randomPlans: RandomPlan[] = []
  private seq = 0
  /** Every fault handed out, in order (for assertions such as "the retry saw a 429"). */
  readonly injected: InjectedFault[] = []

  /** The next `times` requests that match get `fault`. */
  once(fault: Fault, options: {match?: FaultMatch; times?: number} = {}): this {
    this.queue.push({fault, match: options.match, remaining: options.times ?? 1})
    return this
  }

  /** Every matching request gets `fault` until clear(). */
  always(fault: Fault, options: {match?: FaultMatch} = {}): this {
    this.standing.push({fault, match: options.match})
    return this
  }

  /** Each matching request draws once; rule i applies with probability rules[i].probability. */
  random(rules: RandomRule[], options: {seed?: number; match?: FaultMatch} = {}): this {
    const total = rules.reduce((s, r) => s + r.probability, 0)
    if (rules.some((r) => r.probability < 0) || total > 1 + 1e-9) throw new Error(`fault probabilities must be >= 0 and add up to <= 1 (got ${total})`)
    this.randomPlans.push({rules, match: options.match, rng: seededRandom(options.seed ?? 1)})
    return this
  }

  /** Removes every scheduled fault (the history in `injected` stays until reset()). */
  clear(): this {
    this.queue = []
    this.standing = []
    this.randomPlans = []
    return this
  }

  /** clear() and forget the history. */
  reset(): this {
    this.clear()
    this.injected.length = 0
    this.seq = 0
    return this
  }

  /** How many faults are still queued by once(). */
  get pending(): number {
    return this.queue.reduce((n, q) => n + q.remaining, 0)
  }

  /** The fault for this request, if any; consumes a once() entry. */
  next(request: FaultRequest): Fault | undefined {
    const fault = this.pick(request)
    if (fault) this.injected.push({seq: ++this.seq, fault, request})
    return fault
  }

  private pick(request: FaultRequest): Fault | undefined {
    const i = this.queue.findIndex((q) => matches(q.match, request))
    if (i >= 0) {
      const q = this.queue[i]!
      if (--q.remaining <= 0) this.queue.splice(i, 1)
      return q.fault
    }
    const s = this.standing.find((x) => matches(x.match, request))
    if (s) return s.fault
    for (const plan of this.randomPlans) {
      if (!matches(plan.match, request)) continue
      let r = plan.rng()
      for (const rule of plan.rules) {
        if (r < rule.probability) return rule.fault
        r -= rule.probability
      }
    }
    return undefined
  }
}

// ---- applying a fault to a node:http exchange ---------------------------------------------

/** Resolves after `ms`, or early (false) when `signal` aborts (the fake is stopping). */
export function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** Total delay a fault asks for before it takes effect. */
export function faultDelay(fault: Fault | undefined): number {
  if (!fault) return 0
  return (fault.latencyMs ?? 0) + (fault.kind === 'latency' ? fault.ms : 0)
}

/** Writes a `status` fault's response. */
export function sendStatusFault(res: ServerResponse, fault: Extract<Fault, {kind: 'status'}>): void {
  const headers: Record<string, string> = {'content-type': fault.contentType ?? 'application/json; charset=utf-8', ...fault.headers}
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter)
  const body = fault.body ?? ''
  headers['content-length'] = String(Buffer.byteLength(body))
  res.writeHead(fault.status, headers)
  res.end(body)
}

/**
 * A fault's effect before the request is handled: its delay, then a drop or a status answer.
 * True when the fault answered (the fake handles nothing more); `sent` hears the status sent.
 */
export async function answerFault(fault: Fault | undefined, req: IncomingMessage, res: ServerResponse, signal: AbortSignal, sent?: (status: number) => void): Promise<boolean> {
  const wait = faultDelay(fault)
  if ((wait > 0 && !(await delay(wait, signal))) || fault?.kind === 'drop') {
    dropConnection(req, res)
    return true
  }
  if (fault?.kind !== 'status') return false
  sent?.(fault.status)
  sendStatusFault(res, fault)
  return true
}

/** Destroys the connection without an answer (the client sees "socket hang up"/ECONNRESET). */
export function dropConnection(req: IncomingMessage, res: ServerResponse): void {
  const socket = res.socket ?? req.socket
  socket?.resetAndDestroy?.()
  socket?.destroy()
}
