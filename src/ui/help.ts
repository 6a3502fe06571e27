import * as Errors from '@oclif/core/errors'
import {Help} from '@oclif/core/help'

import {ExitCode} from '../errors.js'
import {commandNames, unknownCommand} from '../hooks/command-not-found.js'
import {printError} from './base-command.js'

/**
 * oclif's help, but `envsync help pusj` fails as `envsync pusj` does (unknown command, did you
 * mean push?, exit 2) instead of oclif's own " ›   Error: Command pusj not found.".
 */
export default class EnvsyncHelp extends Help {
  async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const missing = /^Command (.+) not found\.$/.exec(error instanceof Error ? error.message : '')
      if (!missing) throw error
      await printError(unknownCommand(missing[1].split(':')[0], commandNames(this.config), this.config.bin), 'help', argv.includes('--json'))
      throw new Errors.ExitError(ExitCode.usage)
    }
  }
}
