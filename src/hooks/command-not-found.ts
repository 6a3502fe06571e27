import * as Errors from '@oclif/core/errors'
import type {Config, Hook} from '@oclif/core/interfaces'

import {EnvsyncError, ExitCode} from '../errors.js'
import {nearest} from '../manifest/suggest.js'
import {printError} from '../ui/base-command.js'

/**
 * An unknown command is an error, never a guess: a command that prints or pushes values must not
 * run because it was the closest match (oclif's not-found plugin offered "Did you mean export?"
 * and Enter printed every production value). No prompt, with or without a terminal.
 */
const hook: Hook.CommandNotFound = async function (opts) {
  const config = opts.config
  const argv = [...opts.id.split(':'), ...(opts.argv ?? [])]
  // With a space as topic separator oclif joins every leading word into the id: `pusj production`.
  // A word typed with a colon (`push:foo`) is named whole, as typed.
  const first = opts.id.split(':')[0]
  const typed = process.argv.slice(2).find((a) => a === first || a.startsWith(`${first}:`)) ?? first
  await printError(unknownCommand(typed, commandNames(config), config.bin), typed, argv.includes('--json'))
  throw new Errors.ExitError(ExitCode.usage)
}

/** The commands a person may type (hidden ones, such as the completer, are not offered). */
export function commandNames(config: Config): string[] {
  const visible = config.commands.filter((c) => !c.hidden)
  return [...new Set(visible.flatMap((c) => [c.id, ...c.aliases]).map((id) => id.split(':')[0]))]
}

export function unknownCommand(typed: string, commands: string[], bin: string): EnvsyncError {
  const list = `see \`${bin} help\` for the commands`
  if (typed.startsWith('-')) {
    return new EnvsyncError(`expected a command before ${typed}`, {code: 'UNKNOWN_COMMAND', suggestion: `flags go after the command, e.g. \`${bin} <command> ${typed}\`; ${list}`})
  }
  const near = nearest(typed, commands)
  const guess = near.length > 0 ? `did you mean ${near.map((c) => `\`${bin} ${c}\``).join(' or ')}? ` : ''
  return new EnvsyncError(`unknown command "${typed}"`, {code: 'UNKNOWN_COMMAND', suggestion: `${guess}${near.length > 0 ? `(${list})` : list}`})
}

export default hook
