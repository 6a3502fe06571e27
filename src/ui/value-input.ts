import {EnvsyncError, ExitCode} from '../errors.js'
import {Secret} from '../secret.js'
import {aborted, canPrompt, isPromptAbort, prompter} from './prompt.js'

/** A value on stdin is text for one key: more than this is a mistake (a whole file piped in). */
const MAX_STDIN_BYTES = 1024 * 1024
/** Bounded like every wait: a pipe whose writer never closes it is not a value. */
const STDIN_TIMEOUT_MS = 30_000

/**
 * A value for `set`: typed at a hidden prompt (twice, as passwd asks) when stdin is a terminal,
 * else read from stdin. From stdin, one trailing newline is dropped (`echo value |` and
 * `printf %s value |` set the same value) unless keepNewline.
 */
export async function readValue(key: string, options: {interactive: boolean; keepNewline: boolean}): Promise<string> {
  if (process.stdin.isTTY) {
    if (!options.interactive || !canPrompt()) {
      throw new EnvsyncError(`no value for ${key}: stdin is a terminal and envsync cannot ask here`, {code: 'NO_VALUE', exitCode: ExitCode.usage, suggestion: 'pipe the value in (printf %s "$VALUE" | envsync set …), or run without --json to type it'})
    }
    return askHidden(key)
  }
  const bytes = await readStdin()
  // Secret.fromBytes keeps bytes that are not UTF-8 as bytes: a values file cannot hold them.
  const value = Secret.fromBytes(bytes)
  if (!value.isText) throw notText(key)
  const text = options.keepNewline ? value.reveal() : value.reveal().replace(/\r?\n$/, '')
  // Empty after the newline is dropped too: `echo "" |` must not blank a value `printf '' |` may not.
  if (text === '') {
    throw new EnvsyncError(`no value for ${key}: stdin was empty${bytes.length > 0 ? ' (only a newline)' : ''}`, {code: 'NO_VALUE', exitCode: ExitCode.usage, suggestion: 'pipe the value in (printf %s "$VALUE" | envsync set …), or use --generate; `envsync unset` removes a value'})
  }
  return text
}

async function askHidden(key: string): Promise<string> {
  const p = await prompter()
  const password = p.password?.bind(p)
  if (!password) throw new EnvsyncError('this prompter cannot ask for hidden input', {code: 'NO_VALUE', exitCode: ExitCode.usage, suggestion: 'pipe the value in on stdin'})
  try {
    const first = await password({message: `Value for ${key} (hidden):`})
    const again = await password({message: `${key} again, to confirm:`})
    if (first !== again) throw new EnvsyncError(`the two entries for ${key} differ: nothing was changed`, {code: 'VALUE_MISMATCH', exitCode: ExitCode.usage, suggestion: 'run the command again and type the same value twice'})
    return first
  } catch (error) {
    if (isPromptAbort(error)) throw aborted()
    throw error
  }
}

function readStdin(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const timer = setTimeout(() => finish(new EnvsyncError(`stdin was still open after ${STDIN_TIMEOUT_MS / 1000} s`, {code: 'STDIN_TIMEOUT', exitCode: ExitCode.usage, suggestion: 'close the pipe after the value (printf %s "$VALUE" | envsync set …)'})), STDIN_TIMEOUT_MS)
    const finish = (error?: Error) => {
      clearTimeout(timer)
      process.stdin.off('data', onData).off('end', onEnd).off('error', finish)
      process.stdin.pause()
      if (error) reject(error)
      else resolve(Buffer.concat(chunks))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_STDIN_BYTES) finish(new EnvsyncError(`the value on stdin is over ${MAX_STDIN_BYTES} bytes`, {code: 'VALUE_TOO_LARGE', exitCode: ExitCode.usage, suggestion: 'pipe one value, not a file of them (`envsync import` adopts a .env file)'}))
      else chunks.push(chunk)
    }
    const onEnd = () => finish()
    if (process.stdin.readableEnded) return finish()
    process.stdin.on('data', onData).on('end', onEnd).on('error', finish)
  })
}

function notText(key: string): EnvsyncError {
  return new EnvsyncError(`the value for ${key} on stdin is not UTF-8 text`, {code: 'VALUE_BINARY', exitCode: ExitCode.usage, suggestion: 'a values file holds text; base64-encode binary data first'})
}
