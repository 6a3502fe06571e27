import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../ui/base-command.js'
import {renderKeyList} from '../../ui/render-keys.js'
import {listRecipients} from '../../values/keys.js'

export default class KeysList extends BaseCommand<typeof KeysList> {
  static summary = 'Show the recipients of each encrypted environment, marking yours.'
  static description =
    'Lists every environment (or one) with its age recipients, and marks the ones your identity (ENVSYNC_AGE_KEY, ENVSYNC_AGE_KEY_FILE or ~/.config/envsync/age.key) matches: those are the environments you can read. Prints public recipients only.'

  static examples = [
    {description: 'Which environments can I read?', command: '<%= config.bin %> keys list'},
    {description: "production's recipients, as JSON", command: '<%= config.bin %> keys list production --json'},
  ]

  static args = {
    environment: Args.string({description: 'Only this environment (default: all).'}),
  }

  async run(): Promise<void> {
    await this.finish(await listRecipients(this.loadManifest(), this.args.environment), renderKeyList)
  }
}
