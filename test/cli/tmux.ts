/**
 * A real pseudo-terminal for tests: a detached tmux session (private socket, fixed size) runs a
 * command; the test reads the screen with capture-pane and types with send-keys, as a person would.
 */
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'

const TMUX = 'tmux'

export function tmuxAvailable(): boolean {
  const r = spawnSync(TMUX, ['-V'], {encoding: 'utf8'})
  return r.status === 0 && /^tmux /.test(r.stdout)
}

export const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** One tmux server on a private socket, one session, one pane. */
export class TmuxSession {
  readonly socket = `envsync-test-${process.pid}-${randomBytes(4).toString('hex')}`
  private started = false
  private socketPath = ''

  private tmux(...args: string[]): string {
    const r = spawnSync(TMUX, ['-L', this.socket, '-f', '/dev/null', ...args], {encoding: 'utf8', timeout: 5000})
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
    return r.stdout
  }

  /** Starts `command` in a 120x50 pane; the pane then prints __EXIT_<code>__ and stays open. */
  start(command: string): void {
    this.tmux('new-session', '-d', '-s', 'main', '-x', '120', '-y', '50', `${command}; echo __EXIT_$?__; sleep 120`)
    this.started = true
    this.socketPath = this.tmux('display-message', '-p', '-t', 'main', '#{socket_path}').trim()
  }

  /** The pane's text, history included, wrapped lines joined; with `escapes`, colour codes kept. */
  screen(escapes = false): string {
    return this.tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', 'main', '-S', '-500')
  }

  /** Polls the pane until `pattern` appears; fails with the screen after `ms`. */
  async waitFor(pattern: string | RegExp, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms
    for (;;) {
      const text = this.screen()
      if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${pattern}; the screen:\n${text}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** Key names (Enter, Space, Down, C-c). */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys)
  }

  /** Literal text. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text)
  }

  /** Empties the screen and its history (the shell's prompt is redrawn on the next key). */
  clear(): void {
    this.tmux('send-keys', '-t', 'main', '-R')
    this.tmux('clear-history', '-t', 'main')
  }

  kill(): void {
    if (!this.started) return
    this.started = false
    spawnSync(TMUX, ['-L', this.socket, 'kill-server'], {timeout: 5000})
    // tmux leaves the socket file behind.
    if (this.socketPath.endsWith(this.socket)) rmSync(this.socketPath, {force: true})
  }
}
