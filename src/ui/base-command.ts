// Subpath imports: '@oclif/core' itself loads the whole library (semver, ux…) on every run.
import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import * as Flags from '@oclif/core/flags'
import type * as Interfaces from '@oclif/core/interfaces'

import {asEnvsyncError, EnvsyncError, ExitCode, formatLocation} from '../errors.js'
import {loadManifest, manifestPath} from '../manifest/load.js'
import {didYouMean} from '../manifest/suggest.js'
import type {Manifest} from '../manifest/manifest.js'
import {redact} from '../redact.js'
import {isPromptAbort} from './prompt.js'
import {style} from './style.js'

export type ParsedFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type ParsedArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** The JSON envelope every command prints with --json: one object on stdout. */
export interface Envelope<T> {
  ok: boolean
  command: string
  exitCode: number
  result?: T
  error?: ReturnType<EnvsyncError['toJSON']>
}

/**
 * Shared flags (--manifest, --json), one way to finish (human text or the JSON envelope, and the
 * exit code) and one way to fail (message, place, suggestion; no stack trace unless DEBUG).
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    manifest: Flags.string({
      char: 'm',
      description: 'Path to the manifest. Default: envsync.yaml in the working directory or the nearest parent (within the git work tree).',
      env: 'ENVSYNC_MANIFEST',
      helpGroup: 'GLOBAL',
    }),
    json: Flags.boolean({
      description: 'Print one JSON result envelope on stdout instead of text.',
      helpGroup: 'GLOBAL',
      default: false,
    }),
  }

  protected flags!: ParsedFlags<T>
  protected args!: ParsedArgs<T>

  public async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      // oclif fills a missing argument from piped stdin (`echo x | envsync check` checked x); stdin
      // is a value for set and the command's own for run, never an argument.
      args: Object.fromEntries(Object.entries(this.ctor.args ?? {}).map(([name, arg]) => [name, {...arg, ignoreStdin: true}])),
      strict: this.ctor.strict,
    })
    this.flags = flags as ParsedFlags<T>
    this.args = args as ParsedArgs<T>
  }

  protected get json(): boolean {
    return this.flags?.json === true || (this.flags === undefined && this.argv.includes('--json'))
  }

  protected loadManifest(): Manifest {
    return loadManifest(manifestPath(this.flags.manifest))
  }

  /**
   * Prints the result (the envelope, or `human` as text) and exits with `exitCode`.
   * Errors in the result are a normal outcome (check findings), not an exception.
   */
  protected async finish<R>(result: R, human: (r: R) => string[], exitCode: number = ExitCode.ok): Promise<void> {
    if (this.json) {
      const envelope: Envelope<R> = {ok: exitCode === 0, command: this.id ?? '', exitCode, result}
      await write(process.stdout, JSON.stringify(envelope, null, 2) + '\n')
    } else {
      const lines = human(result)
      if (lines.length > 0) await write(process.stdout, lines.join('\n') + '\n')
    }
    if (exitCode !== 0) this.exit(exitCode)
  }

  /** Progress and notes for people: stderr, so stdout stays clean for pipes and --json. */
  protected note(line: string): void {
    if (!this.json) process.stderr.write(line + '\n')
  }

  public async catch(error: Error & {oclif?: {exit?: number}; exitCode?: number}): Promise<never> {
    if (error instanceof Errors.ExitError) throw error
    const e = toEnvsyncError(error)
    await printError(e, this.id ?? '', this.json)
    if (process.env.DEBUG && error.stack) process.stderr.write(redact(error.stack) + '\n')
    throw new Errors.ExitError(e.exitCode)
  }
}

export function toEnvsyncError(error: Error & {oclif?: {exit?: number}}): EnvsyncError {
  if (error instanceof EnvsyncError) return error
  if (isPromptAbort(error)) return new EnvsyncError('aborted: nothing was changed', {code: 'ABORTED', exitCode: ExitCode.aborted})
  if (error instanceof Errors.CLIError || error.oclif?.exit !== undefined) {
    // oclif's parse errors: unknown flag, missing argument, bad option.
    const lines = error.message.split('\n').filter((l) => l.trim() && !/^See more help/.test(l))
    // oclif names an unknown flag once per use (`--only a --only b`): once is enough.
    const unknown = /^(?:Error: )?Nonexistent flags?: (.*)$/.exec(lines[0]?.trim() ?? '')
    if (unknown) {
      const names = [...new Set(unknown[1].split(/,\s*/))]
      lines[0] = `Nonexistent flag${names.length === 1 ? '' : 's'}: ${names.join(', ')}`
    }
    // A value outside a flag's or argument's options (--target dockr): name it, and the likely one.
    const option = /^Expected (?:--([\w-]+)=)?(.*) to be one of: (.*)$/.exec(lines[0]?.trim() ?? '')
    if (option) {
      const [, flag, value, options] = option
      return new EnvsyncError(`${flag ? `--${flag}: ` : ''}"${value}" is not one of ${options}`, {
        code: 'USAGE',
        exitCode: error.oclif?.exit ?? ExitCode.usage,
        suggestion: didYouMean(value, options.split(', ')) ?? 'see `envsync help` or add --help to the command',
      })
    }
    return new EnvsyncError(lines.map((l) => l.trim()).join(' ').replace(/^Error: /, ''), {
      code: 'USAGE',
      exitCode: error.oclif?.exit ?? ExitCode.usage,
      suggestion: 'see `envsync help` or add --help to the command',
    })
  }
  return asEnvsyncError(error)
}

/** A failure as every command shows it: the envelope on stdout with --json, else the message on stderr. */
export async function printError(e: EnvsyncError, command: string, json: boolean): Promise<void> {
  if (json) {
    const envelope: Envelope<never> = {ok: false, command, exitCode: e.exitCode, error: e.toJSON()}
    await write(process.stdout, JSON.stringify(envelope, null, 2) + '\n')
  } else {
    await write(process.stderr, renderError(e).join('\n') + '\n')
  }
}

export function renderError(e: EnvsyncError): string[] {
  const err = process.stderr
  const where = e.where ? `${e.where}: ` : ''
  const lines = [`${style.red('error', err)} ${where}${redact(e.message)}`]
  if (e.problems.length > 1) {
    for (const p of e.problems) {
      const at = formatLocation(p.location)
      lines.push(`  ${at ? style.bold(at, err) + ' ' : ''}${redact(p.message)}${p.suggestion ? style.dim(` (${redact(p.suggestion)})`, err) : ''}`)
    }
  } else if (e.suggestion) {
    lines.push(`  ${style.cyan('→', err)} ${redact(e.suggestion)}`)
  }
  return lines
}

/**
 * Writes and waits until the data is handed to the OS: a non-zero exit ends the process at once,
 * and a pipe (`envsync push --json | jq`) would otherwise get a truncated envelope.
 */
export function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()))
    // Nothing left in the stream's buffer: written already (or captured by a test's stub, which
    // never calls back).
    if (stream.writableLength === 0) resolve()
  })
}
