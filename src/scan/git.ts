import {spawn, spawnSync} from 'node:child_process'

import {EnvsyncError} from '../errors.js'

/**
 * git as scan runs it: every call bounded. A listing (ls-files, rev-parse) must answer within
 * LIST_TIMEOUT_MS; a stream (rev-list, cat-file, log over the whole history) may run as long as
 * it keeps producing, and is ended when it is silent for IDLE_TIMEOUT_MS (a lock, a hung
 * network filesystem, a partial clone fetching a missing object).
 */
export const LIST_TIMEOUT_MS = 60_000
export const IDLE_TIMEOUT_MS = 60_000

/** The output of a short git command, or undefined when it fails (not a repository, no git). */
export function gitOutput(cwd: string, args: string[]): Buffer | undefined {
  const r = spawnSync('git', args, {cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: LIST_TIMEOUT_MS, maxBuffer: 1 << 30})
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw gitFailed(args, `did not answer within ${LIST_TIMEOUT_MS / 1000} s`)
  return r.error || r.status !== 0 ? undefined : r.stdout
}

/** Like gitOutput, but a failure is an error naming the command and git's own words. */
export function gitRequired(cwd: string, args: string[]): Buffer {
  const r = spawnSync('git', args, {cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: LIST_TIMEOUT_MS, maxBuffer: 1 << 30})
  if (r.error) throw gitFailed(args, (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `did not answer within ${LIST_TIMEOUT_MS / 1000} s` : (r.error as Error).message)
  if (r.status !== 0) throw gitFailed(args, r.stderr.toString('utf8').trim().split('\n')[0] || `exit ${r.status}`)
  return r.stdout
}

export interface GitStream {
  /** Writes to git's stdin. */
  write(data: string): void
  end(): void
  /** Resolves when git exits 0 and its output was consumed; rejects with an EnvsyncError otherwise. */
  done: Promise<void>
}

/**
 * A long git command whose stdout is handed on chunk by chunk. Ended when it stays silent for
 * IDLE_TIMEOUT_MS; its stdin is written as given (git reads it as it goes).
 */
export function gitStream(cwd: string, args: string[], onData: (chunk: Buffer) => void, options: {stdin?: boolean} = {}): GitStream {
  const child = spawn('git', args, {cwd, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']})
  let stderr = ''
  let failure: EnvsyncError | undefined
  let timer: NodeJS.Timeout | undefined
  const idle = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      failure = gitFailed(args, `produced nothing for ${IDLE_TIMEOUT_MS / 1000} s`)
      child.kill('SIGKILL')
    }, IDLE_TIMEOUT_MS)
  }
  idle()
  const done = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      idle()
      try {
        onData(chunk)
      } catch (error) {
        failure = error instanceof EnvsyncError ? error : gitFailed(args, (error as Error).message)
        child.kill('SIGKILL')
      }
    })
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-2000)))
    // git exits early (a bad revision) while stdin is still written: the EPIPE is its error, not ours.
    child.stdin?.on('error', () => undefined)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(gitFailed(args, error.message))
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (failure) reject(failure)
      else if (code !== 0) reject(gitFailed(args, stderr.trim().split('\n')[0] || `exit ${code}`))
      else resolve()
    })
  })
  return {write: (data) => child.stdin!.write(data), end: () => child.stdin!.end(), done}
}

function gitFailed(args: string[], why: string): EnvsyncError {
  return new EnvsyncError(`\`git ${args.slice(0, 2).join(' ')}\` failed: ${why}`, {
    code: 'SCAN_GIT',
    exitCode: 1,
    suggestion: 'check that git works in this repository (`git status`), then run the scan again',
  })
}
