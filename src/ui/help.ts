import * as Errors from '@oclif/core/errors'
import {Help} from '@oclif/core/help'

/**
 * oclif's help, but `envsync help pusj` fails as `envsync pusj` does (unknown command, did you
 * mean push?, exit 2) instead of oclif's own " ›   Error: Command pusj not found.".
 * The error path is imported only when needed: `envsync push --help` loads this class on every
 * run, and base-command brings the manifest schema with it (~50 % of a --help's start-up).
 */
export default class EnvsyncHelp extends Help {
  async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const missing = /^Command (.+) not found\.$/.exec(error instanceof Error ? error.message : '')
      if (!missing) throw error
      const [{ExitCode}, {commandNames, unknownCommand}, {printError}] = await Promise.all([
        import('../errors.js'),
        import('../hooks/command-not-found.js'),
        import('./base-command.js'),
      ])
      await printError(unknownCommand(missing[1].split(':')[0], commandNames(this.config), this.config.bin), 'help', argv.includes('--json'))
      throw new Errors.ExitError(ExitCode.usage)
    }
  }
}
