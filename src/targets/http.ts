import {setTimeout as sleep} from 'node:timers/promises'

import {EnvsyncError} from '../errors.js'
import {registerSecret} from '../redact.js'
import {plural} from '../words.js'

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

export const RETRY_STATUS = new Set([429, 500, 502, 503, 504])

export class HttpClient {
  requests = 0
  /** When the server said the budget is spent, the time it refills. */
  private blockedUntil = 0

  constructor(private readonly options: HttpOptions) {}

  async send(req: HttpRequest): Promise<HttpResponse> {
    const {timeoutMs, retries, backoffMs, maxWaitMs} = retrySettings(this.options)
    const idempotent = req.idempotent ?? req.method !== 'POST'
    let lastProblem = ''
    for (let attempt = 0; ; attempt++) {
      const wait = this.blockedUntil - Date.now()
      if (wait > maxWaitMs) throw this.rateLimited(wait)
      if (wait > 0) await sleep(wait)
      let res: Response
      let text: string
      checkRequest(req, this.options.service)
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
        // fetch refuses to build a request (a header or URL it rejects) with a bare TypeError whose
        // message quotes the offending value: a local configuration error, never retried.
        if (error instanceof TypeError && error.cause === undefined) throw badRequest(this.options.service, 'the request')
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
    return new EnvsyncError(`cannot reach ${this.options.service} at ${host} (${problem}) after ${plural(attempts, 'attempt')}`, {
      code: 'UNREACHABLE',
      exitCode: 1,
      suggestion: 'check the network; rerunning converges because only what still differs is sent',
    })
  }
}

/**
 * A platform's base URL from the environment (tests point it at a fake), or the default. A URL
 * that does not parse, is not http(s) or carries userinfo is a local configuration error naming
 * the variable, never the value (userinfo is a password).
 */
export function endpointFrom(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const raw = env[variable]
  if (raw === undefined || raw === '') return fallback
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new EnvsyncError(`${variable} is not a URL`, {code: 'BAD_ENDPOINT', exitCode: 1, suggestion: `set ${variable} to an http(s) URL such as ${fallback}, or unset it`})
  }
  if (url.username || url.password) {
    if (url.password) registerSecret(decoded(url.password))
    throw new EnvsyncError(`${variable} carries a user name or password (${url.protocol}//…@${url.host})`, {
      code: 'BAD_ENDPOINT',
      exitCode: 1,
      suggestion: `remove the credentials from ${variable}: the API token is sent in a header`,
    })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EnvsyncError(`${variable} must be an http(s) URL, not ${url.protocol}`, {code: 'BAD_ENDPOINT', exitCode: 1, suggestion: `set ${variable} to an http(s) URL such as ${fallback}`})
  }
  return raw.replace(/\/+$/, '')
}

/** A URL part percent-decoded, or as it is when its escapes are malformed (it is still a password). */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

/**
 * A credential from the environment, checked before any request: made known to the redaction
 * point, and refused (naming the variable, never the value) when it cannot be a header value —
 * a line break, a control character, or white space around it (a paste gone wrong).
 */
export function credentialFrom(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = env[variable]
  if (value === undefined || value === '') return undefined
  registerSecret(value)
  if (!HEADER_VALUE.test(value) || value.trim() !== value) {
    throw new EnvsyncError(`${variable} contains ${/[\r\n]/.test(value) ? 'a line break' : /\s$|^\s/.test(value) ? 'white space at its start or end' : 'a character a token cannot have'}`, {
      code: 'BAD_CREDENTIAL',
      exitCode: 1,
      suggestion: `set ${variable} to the token alone, on one line (e.g. export ${variable}="$(tr -d '\\n' < token-file)")`,
    })
  }
  return value
}

/** What fetch accepts in a header value: visible ASCII, spaces and tabs, Latin-1 (no CR/LF/NUL). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/** Headers and URL that fetch would refuse, refused first with a message that quotes neither. */
function checkRequest(req: HttpRequest, service: string): void {
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (!HEADER_VALUE.test(value)) throw badRequest(service, `the ${name} header`)
  }
  let url: URL
  try {
    url = new URL(req.url)
  } catch {
    throw badRequest(service, 'the URL')
  }
  if (url.username || url.password) throw badRequest(service, 'the URL (it carries a user name or password)')
}

function badRequest(service: string, what: string): EnvsyncError {
  return new EnvsyncError(`cannot send a request to ${service}: ${what} is not valid`, {
    code: 'BAD_REQUEST_CONFIG',
    exitCode: 1,
    suggestion: 'check the token and URL variables for line breaks or stray characters; nothing was sent',
  })
}

/**
 * Timeout and retry settings, the same for every platform (the Kubernetes client's transport
 * uses them too): an option passed wins, then the environment, then the defaults.
 */
export function retrySettings(o: Omit<HttpOptions, 'service'> = {}): Required<Omit<HttpOptions, 'service'>> {
  return {
    timeoutMs: o.timeoutMs ?? envMs('ENVSYNC_HTTP_TIMEOUT_MS') ?? 30_000,
    retries: o.retries ?? 4,
    backoffMs: o.backoffMs ?? envMs('ENVSYNC_HTTP_BACKOFF_MS') ?? 250,
    maxWaitMs: o.maxWaitMs ?? 120_000,
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
export function backoff(attempt: number, baseMs: number): number {
  return Math.random() * baseMs * 2 ** attempt
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

export function networkProblem(error: unknown): string {
  const e = error as {name?: string; cause?: {code?: string; message?: string}; message?: string}
  if (e.name === 'TimeoutError') return 'timed out'
  return e.cause?.code ?? e.cause?.message ?? e.message ?? 'network error'
}
