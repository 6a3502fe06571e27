import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../ui/base-command.js'
import {renderRecipientsChange} from '../../ui/render-keys.js'
import {removeRecipient} from '../../values/keys.js'

export default class KeysRemove extends BaseCommand<typeof KeysRemove> {
  static summary = "Remove a recipient from an environment and re-encrypt its values without it."
  static description =
    'Re-encrypts every value of the environment to the remaining recipients and takes the recipient out of envsync.yaml. Refuses to remove the last one. Whoever held the removed key can still read every value they could before (the old ciphertexts are in git history): rotate those values.'

  static examples = [
    {description: 'A teammate leaves: remove their key, then rotate', command: '<%= config.bin %> keys remove production age1former…\n<%= config.bin %> generate production --force'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to remove the recipient from.', required: true}),
    recipient: Args.string({description: 'The age recipient (age1…) to remove.', required: true}),
  }

  async run(): Promise<void> {
    await this.finish(await removeRecipient(this.loadManifest(), this.args.environment, this.args.recipient), renderRecipientsChange)
  }
}
