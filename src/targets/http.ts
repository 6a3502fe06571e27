import {setTimeout as sleep} from 'node:timers/promises'

import {EnvsyncError} from '../errors.js'

/**
 * The one HTTP helper every platform adapter uses: timeouts, retries with exponential backoff
 * and full jitter, Retry-After and Ratelimit-* headers, request counting. It never puts a
 * request or response body into an error: bodies carry secret values.
 */

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  headers?: Record<string, string>
  /** Sent as JSON. */
  body?: unknown
  /**
   * Whether a request that may have reached the server can be sent again. Idempotent writes
   * (PUT, a GraphQL upsert of the same values) can; a deploy trigger cannot.
   */
  idempotent?: boolean
}

export interface HttpResponse {
  status: number
  headers: Headers
  /** Parsed JSON when the body is JSON, else undefined. */
  json: unknown
  text: string
}

export interface HttpOptions {
  /** For messages: "Railway", "Render". */
  service: string
  timeoutMs?: number
  /** Attempts after the first. */
  retries?: number
  /** Base of the exponential backoff. */
  backoffMs?: number
  /** Longest wait for a rate limit before giving up with a clear error. */
  maxWaitMs?: number
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504])

export class HttpClient {
  requests = 0
  /** When the server said the budget is spent, the time it refills. */
  private blockedUntil = 0

  constructor(private readonly options: HttpOptions) {}

  async send(req: HttpRequest): Promise<HttpResponse> {
    const {timeoutMs = envMs('ENVSYNC_HTTP_TIMEOUT_MS') ?? 30_000, retries = 4, backoffMs = envMs('ENVSYNC_HTTP_BACKOFF_MS') ?? 250, maxWaitMs = 120_000} = this.options
    const idempotent = req.idempotent ?? req.method !== 'POST'
    let lastProblem = ''
    for (let attempt = 0; ; attempt++) {
      const wait = this.blockedUntil - Date.now()
      if (wait > maxWaitMs) throw this.rateLimited(wait)
      if (wait > 0) await sleep(wait)
      let res: Response
      let text: string
      try {
        this.requests++
        res = await fetch(req.url, {
          method: req.method,
          headers: {accept: 'application/json', ...(req.body === undefined ? {} : {'content-type': 'application/json'}), ...req.headers},
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(timeoutMs),
        })
        this.noteRateLimit(res.headers)
        // A connection dropped in the middle of the body is as good as no answer.
        text = await res.text()
      } catch (error) {
        lastProblem = networkProblem(error)
        // A request that may have been applied is only repeated when repeating is harmless.
        if (attempt >= retries || !idempotent) throw this.unreachable(req, lastProblem, attempt + 1)
        await sleep(backoff(attempt, backoffMs))
        continue
      }
      if (RETRY_STATUS.has(res.status) && attempt < retries && (idempotent || res.status === 429 || res.status === 503)) {
        const retryAfter = retryAfterMs(res.headers)
        if (retryAfter !== undefined && retryAfter > maxWaitMs) throw this.rateLimited(retryAfter)
        lastProblem = `HTTP ${res.status}`
        await sleep(retryAfter ?? backoff(attempt, backoffMs))
        continue
      }
      let json: unknown
      try {
        json = text ? JSON.parse(text) : undefined
      } catch {
        json = undefined // HTML error pages (Railway's 429s sometimes are)
      }
      return {status: res.status, headers: res.headers, json, text}
    }
  }

  private noteRateLimit(headers: Headers): void {
    const remaining = Number(headers.get('ratelimit-remaining'))
    const reset = Number(headers.get('ratelimit-reset'))
    if (headers.has('ratelimit-remaining') && remaining <= 0 && Number.isFinite(reset)) this.blockedUntil = Date.now() + reset * 1000
  }

  private rateLimited(waitMs: number): EnvsyncError {
    return new EnvsyncError(`${this.options.service} rate limit: the next request is allowed in ${Math.ceil(waitMs / 1000)} s`, {
      code: 'RATE_LIMITED',
      exitCode: 1,
      suggestion: 'wait and run the command again; it only sends what still differs',
    })
  }

  private unreachable(req: HttpRequest, problem: string, attempts: number): EnvsyncError {
    const host = new URL(req.url).host
    return new EnvsyncError(`cannot reach ${this.options.service} at ${host} (${problem}) after ${attempts} attempt(s)`, {
      code: 'UNREACHABLE',
      exitCode: 1,
      suggestion: 'check the network; rerunning converges because only what still differs is sent',
    })
  }
}

/**
 * Defaults the environment may override (tests: fast backoff, short timeouts); an option passed
 * to the constructor wins. Unset, empty or not a non-negative number: undefined.
 */
function envMs(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const ms = Number(raw)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

/** Exponential backoff with full jitter: spreads retries of many clients apart. */
function backoff(attempt: number, baseMs: number): number {
  return Math.random() * baseMs * 2 ** attempt
}

/** Retry-After in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function networkProblem(error: unknown): string {
  const e = error as {name?: string; cause?: {code?: string; message?: string}; message?: string}
  if (e.name === 'TimeoutError') return 'timed out'
  return e.cause?.code ?? e.cause?.message ?? e.message ?? 'network error'
}
