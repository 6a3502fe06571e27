import {constants} from 'node:os'

import {effectiveValues, placeholderKeys} from '../check/check.js'
import {EnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {requireServices} from '../manifest/resolve.js'
import type {Secret} from '../secret.js'
import {fillHint} from '../values/generate.js'
import {readStore} from '../values/store.js'

/** What `envsync run` hands a command: keys and values, and what it holds back. */
export interface RunSelection {
  environment: string
  services?: string[]
  values: Map<string, Secret>
  /** Required keys with no value (none when the command may start). */
  missing: string[]
  /** Keys whose value is a placeholder: never passed on (as push holds them back). */
  placeholders: string[]
}

/**
 * The environment's effective values (store, else manifest default) — every key of the
 * environment, or only those the services receive. Missing required values and placeholders stop
 * the run unless `force`; with it they are left out, so the command sees what the parent had.
 */
export async function selectRunValues(manifest: Manifest, env: string, options: {services?: string[]; force: boolean}): Promise<RunSelection> {
  const specs = manifest.secretsFor(env).filter((s) => !options.services || s.services.some((svc) => options.services!.includes(svc)))
  requireServices(manifest, options.services)
  if (options.services && specs.length === 0) {
    throw new EnvsyncError(`no key of ${env} goes to ${options.services.join(' or ')}`, {code: 'NOTHING_TO_RUN_WITH', suggestion: 'leave out --service for every key of the environment'})
  }
  const store = await readStore(manifest, env)
  const all = effectiveValues(manifest, env, store)
  const held = placeholderKeys(manifest, env, store)
  const values = new Map<string, Secret>()
  const missing: string[] = []
  const placeholders: string[] = []
  for (const spec of specs) {
    const v = all.get(spec.key)
    if (held.has(spec.key)) placeholders.push(spec.key)
    else if (v && !(v.isEmpty && spec.required)) values.set(spec.key, v)
    else if (spec.required) missing.push(spec.key)
  }
  if (!options.force && (missing.length > 0 || placeholders.length > 0)) {
    const parts = [missing.length > 0 ? `no value for ${missing.join(', ')}` : '', placeholders.length > 0 ? `a placeholder in ${placeholders.join(', ')}` : ''].filter(Boolean)
    const fill = [...missing, ...placeholders]
    throw new EnvsyncError(`not running: ${parts.join(' and ')} (in ${store.display})`, {
      code: 'VALUES_NOT_READY',
      suggestion: `${fillHint(manifest, env, fill, store.display)}; or pass --force to run without ${fill.length === 1 ? 'it' : 'them'}`,
    })
  }
  return {environment: env, services: options.services, values, missing, placeholders}
}

export interface RunOutcome {
  /** The command's exit code; 128+n when a signal ended it (as a shell reports it). */
  exitCode: number
  signal?: string
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
/** envsync's own age key, never passed on. */
const PRIVATE = ['ENVSYNC_AGE_KEY', 'ENVSYNC_AGE_KEY_FILE']

/**
 * Runs the command with the values in its environment, over the parent's: no shell, nothing on
 * its command line or on disk. Signals envsync receives go to the command (a terminal's Ctrl-C
 * once, not twice), and envsync waits for it to end, so it never outlives us as an orphan.
 * `stdoutToStderr` keeps envsync's stdout for its --json envelope.
 */
export async function runWithValues(command: string, args: string[], values: Map<string, Secret>, options: {stdoutToStderr: boolean}): Promise<RunOutcome> {
  const {spawn} = await import('node:child_process')
  const env: NodeJS.ProcessEnv = {...process.env}
  // The key that decrypts the store is envsync's, not the command's: it would decrypt production.
  for (const key of PRIVATE) delete env[key]
  for (const [key, value] of values) {
    if (value.reveal().includes('\0')) throw nulError(key)
    env[key] = value.reveal()
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {env, stdio: ['inherit', options.stdoutToStderr ? 2 : 'inherit', 'inherit']})
    // Ctrl-C at a terminal already reaches the command (same foreground process group): sent again,
    // many programs take the second SIGINT as "force quit" and skip their clean shutdown.
    const forward = (signal: NodeJS.Signals) => {
      if (!(signal === 'SIGINT' && process.stdin.isTTY)) child.kill(signal)
    }
    for (const s of FORWARDED) process.on(s, forward)
    const done = () => {
      for (const s of FORWARDED) process.off(s, forward)
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      done()
      reject(startError(command, error))
    })
    child.once('exit', (code, signal) => {
      done()
      if (signal) resolve({exitCode: 128 + (constants.signals[signal] ?? 0), signal})
      else resolve({exitCode: code ?? 1})
    })
  })
}

/** Checked before spawn: Node's own refusal would quote the whole value. */
function nulError(key: string): EnvsyncError {
  return new EnvsyncError(`the value of ${key} contains a NUL byte: no environment variable can hold one`, {code: 'VALUE_NUL', suggestion: `set a new value: \`envsync set ENV ${key}\``})
}

/** As a shell says it: 127 for a command that is not there, 126 for one that cannot run. */
function startError(command: string, error: NodeJS.ErrnoException): EnvsyncError {
  if (error.code === 'ENOENT') return new EnvsyncError(`command not found: ${command}`, {code: 'COMMAND_NOT_FOUND', exitCode: 127, suggestion: 'check the name, or give its path (the command runs without a shell, from PATH)'})
  if (error.code === 'EACCES') return new EnvsyncError(`cannot run ${command}: permission denied`, {code: 'COMMAND_NOT_EXECUTABLE', exitCode: 126, suggestion: `make it executable (chmod +x) or run it through its interpreter`})
  return new EnvsyncError(`cannot run ${command}: ${error.message}`, {code: 'COMMAND_FAILED', exitCode: 126})
}
