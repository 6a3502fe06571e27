import {Command} from '@oclif/core/command'

import {complete, type CommandInfo} from '../completion/complete.js'
import {manifestNames} from '../completion/names.js'
import {FILES} from '../completion/scripts.js'
import {write} from '../ui/base-command.js'

/** Bounded: a Tab that waits longer than this completes nothing. */
const DEADLINE_MS = 1500

/**
 * The completer the shell scripts call: `envsync __complete -- WORDS… CURRENT` prints one
 * candidate a line. Never prints an error (it would land in the user's prompt) and exits 0.
 */
export default class Complete extends Command {
  static hidden = true
  static strict = false
  static summary = 'Print completions for the words typed (used by the completion scripts).'

  async run(): Promise<void> {
    const deadline = setTimeout(() => process.exit(0), DEADLINE_MS).unref()
    const words = this.argv[0] === '--' ? this.argv.slice(1) : this.argv
    let names: ReturnType<typeof manifestNames> | null = null
    const result = complete(words.length > 0 ? words : [''], this.config.commands as unknown as CommandInfo[], () => (names ??= manifestNames(words)))
    // The answer is ready: the deadline's exit must not cut what a pipe has not read yet.
    clearTimeout(deadline)
    await write(process.stdout, 'files' in result ? `${FILES}\n` : result.words.map((w) => `${w}\n`).join(''))
  }

  async catch(): Promise<void> {
    // Nothing: a completion that fails offers nothing.
  }
}
