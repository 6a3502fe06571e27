import * as Args from '@oclif/core/args'

import {commandNames, unknownCommand} from '../hooks/command-not-found.js'
import {BaseCommand} from '../ui/base-command.js'
import EnvsyncHelp from '../ui/help.js'

/**
 * `envsync help [COMMAND]`, envsync's own so that it takes the flags every command takes
 * (--json) and fails the one way every command fails: oclif's help plugin rejected --json with a
 * stack trace.
 */
export default class Help extends BaseCommand<typeof Help> {
  static summary = 'Show help for envsync or one of its commands.'
  static description = 'The same text as `envsync COMMAND --help`. With --json, the command\'s summary, arguments and flags as fields.'
  static strict = false

  static examples = [
    {description: 'Every command', command: '<%= config.bin %> help'},
    {description: 'One command', command: '<%= config.bin %> help push'},
  ]

  static args = {
    command: Args.string({description: 'The command to show help for.', required: false}),
  }

  async run(): Promise<void> {
    const words = this.argv.filter((a) => !a.startsWith('-'))
    const id = words.join(':')
    if (!this.json) {
      await new EnvsyncHelp(this.config).showHelp(words)
      return
    }
    if (id === '') {
      const commands = this.config.commands.filter((c) => !c.hidden).map((c) => ({command: c.id, summary: c.summary ?? ''}))
      await this.finish({commands}, () => [])
      return
    }
    const command = this.config.findCommand(id)
    if (!command || command.hidden) throw unknownCommand(words[0], commandNames(this.config), this.config.bin)
    await this.finish(
      {
        command: command.id,
        summary: command.summary ?? '',
        description: command.description ?? '',
        args: Object.values(command.args).map((a) => ({name: a.name, description: a.description ?? '', required: a.required === true})),
        flags: Object.values(command.flags)
          .filter((f) => !f.hidden)
          .map((f) => ({name: f.name, char: f.char, description: f.summary ?? f.description ?? '', multiple: f.type === 'option' && f.multiple === true})),
      },
      () => [],
    )
  }
}
