import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../ui/base-command.js'
import {renderRecipientsChange} from '../../ui/render-keys.js'
import {addRecipients} from '../../values/keys.js'

export default class KeysAdd extends BaseCommand<typeof KeysAdd> {
  static summary = "Add recipients to an environment's encrypted values (encrypts a plain store)."
  static description =
    "Adds age recipients (age1…) to environments.<env>.store.encrypted.recipients and re-encrypts every value to the new set: the values file first (atomic), then envsync.yaml. On a plain environment this converts it: its values are encrypted in place, and the file is un-ignored in .gitignore so it can be committed. You must be able to read the values already (hold an identity that is a recipient), except on that first conversion."

  static examples = [
    {description: 'Encrypt production to your key and the deploy runner', command: '<%= config.bin %> keys add production age1you… age1ci…'},
    {description: "Give a teammate staging's values", command: '<%= config.bin %> keys add staging age1teammate…'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose values are encrypted to the recipients.', required: true}),
    recipient: Args.string({multiple: true, description: 'One or more age recipients (age1…), as `envsync keys generate` prints them.', required: true}),
  }

  static usage = '<%= command.id %> ENVIRONMENT RECIPIENT... [-m <value>] [--json]'

  async run(): Promise<void> {
    await this.finish(await addRecipients(this.loadManifest(), this.args.environment, this.args.recipient), renderRecipientsChange)
  }
}
