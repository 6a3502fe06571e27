import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {Config} from '@oclif/core'
import {captureOutput, runCommand} from '@oclif/test'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = `${ROOT}bin/run.js`

export interface CliResult {
  stdout: string
  stderr: string
  exitCode: number
}

/**
 * Runs the built binary in a child process: the real thing, with real exit codes, stdin and
 * environment. Use it for exit codes, stack-trace checks and anything touching process.cwd().
 */
export function runBin(args: string[], options: {cwd?: string; env?: Record<string, string | undefined>; input?: string; umask?: number} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, DEBUG: undefined, ...options.env}
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
    const spawnOptions = {cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] as ['pipe', 'pipe', 'pipe']}
    const child =
      options.umask === undefined
        ? spawn(process.execPath, [BIN, ...args], spawnOptions)
        : spawn('/bin/sh', ['-c', `umask ${options.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, process.execPath, BIN, ...args], spawnOptions)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({stdout, stderr, exitCode: code ?? -1}))
    child.stdin.end(options.input ?? '')
  })
}

/** Runs a command in-process through @oclif/test (fast); exit code from the thrown exit error. */
export async function runCli(args: string[]): Promise<CliResult> {
  const {stdout, stderr, error} = await runCommand(args, {root: ROOT})
  const exit = (error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
  return {stdout, stderr, exitCode: error ? (exit ?? 1) : 0}
}

let config: Config | undefined

/**
 * Runs a command class in-process from src/ (not dist/). runCli goes through oclif's command
 * discovery, which loads the compiled dist/commands — whose prompt seam is a different module
 * instance from the src/ui/prompt.ts a test installs its Prompter in. Same result as runCli.
 */
export async function runSource(command: {run(argv: string[], config: Config): Promise<unknown>}, args: string[]): Promise<CliResult> {
  config ??= await Config.load(ROOT)
  const {stdout, stderr, error} = await captureOutput(() => command.run(args, config!))
  const exit = (error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
  return {stdout, stderr, exitCode: error ? (exit ?? 1) : 0}
}
