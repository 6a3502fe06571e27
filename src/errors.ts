import {redact} from './redact.js'

/** Exit codes, documented in the README. One table so commands and tests agree. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found problems (check errors, failed writes). */
  failed: 1,
  /** The input is wrong: flags, manifest, values file. Nothing was changed. */
  usage: 2,
  /** `diff --exit-code`: something would change. */
  differs: 3,
  /** The user declined a confirmation. */
  aborted: 130,
} as const

export interface SourceLocation {
  file: string
  line?: number
  column?: number
}

export interface EnvsyncErrorOptions {
  code: string
  exitCode?: number
  suggestion?: string
  location?: SourceLocation
  /** Path of the offending field, e.g. ['secrets', 'JWT_SECRET', 'generate']. */
  path?: (string | number)[]
  /** Further problems of the same input, each with its own place (all schema errors at once). */
  problems?: Problem[]
}

export interface Problem {
  message: string
  location?: SourceLocation
  path?: (string | number)[]
  suggestion?: string
}

/**
 * The one error type: a message for people, an exit code and what to try next.
 * Messages must never contain secret values; callers pass keys, paths and lengths.
 */
const BRAND = Symbol.for('envsync.error')

export class EnvsyncError extends Error {
  /**
   * instanceof fails across two copies of this module (a dynamically imported adapter can load
   * its own under some loaders); the brand does not.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }

  readonly [BRAND] = true

  readonly code: string
  readonly exitCode: number
  readonly suggestion?: string
  readonly location?: SourceLocation
  readonly path?: (string | number)[]
  readonly problems: Problem[]

  constructor(message: string, options: EnvsyncErrorOptions) {
    // Messages are often built from foreign text (a platform's answer, a parser's complaint).
    super(redact(message))
    this.name = 'EnvsyncError'
    this.code = options.code
    this.exitCode = options.exitCode ?? ExitCode.usage
    this.suggestion = options.suggestion === undefined ? undefined : redact(options.suggestion)
    this.location = options.location
    this.path = options.path
    this.problems = (options.problems ?? []).map((p) => ({...p, message: redact(p.message), suggestion: p.suggestion === undefined ? undefined : redact(p.suggestion)}))
  }

  /** `file:line:col` when known, else the file, else ''. */
  get where(): string {
    return formatLocation(this.location)
  }

  /** Redacted again at output: a value may have become known after the error was made. */
  toJSON() {
    return {
      code: this.code,
      message: redact(this.message),
      exitCode: this.exitCode,
      ...(this.suggestion ? {suggestion: redact(this.suggestion)} : {}),
      ...(this.location ? {file: this.location.file, line: this.location.line, column: this.location.column} : {}),
      ...(this.path ? {path: formatPath(this.path)} : {}),
      ...(this.problems.length > 0
        ? {
            problems: this.problems.map((p) => ({
              message: redact(p.message),
              where: formatLocation(p.location) || undefined,
              path: p.path ? formatPath(p.path) : undefined,
              suggestion: p.suggestion === undefined ? undefined : redact(p.suggestion),
            })),
          }
        : {}),
    }
  }
}

/**
 * Anything thrown, as an EnvsyncError: a foreign error (a library's TypeError, a parser's
 * exception) becomes an internal error whose message — foreign text — is redacted like any other.
 */
export function asEnvsyncError(error: unknown): EnvsyncError {
  if (error instanceof EnvsyncError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new EnvsyncError(`internal error: ${message}`, {
    code: 'INTERNAL',
    exitCode: ExitCode.failed,
    suggestion: 'run again with DEBUG=1 for a stack trace, and report it',
  })
}

/** secrets.JWT_SECRET.services[0] */
export function formatPath(path: readonly (string | number)[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${part}` : part
  }
  return out
}

/** `file:line:col` when known, else the file, else ''. */
export function formatLocation(l: SourceLocation | undefined): string {
  if (!l) return ''
  if (l.line === undefined) return l.file
  return `${l.file}:${l.line}:${l.column ?? 1}`
}
