import {BaseCommand} from '../../ui/base-command.js'
import {renderGeneratedKey} from '../../ui/render-keys.js'
import {generateKeyFile} from '../../values/keys.js'

export default class KeysGenerate extends BaseCommand<typeof KeysGenerate> {
  static summary = 'Create your age identity (private key) and print its public recipient.'
  static description =
    'Writes a new age X25519 identity to $XDG_CONFIG_HOME/envsync/age.key (default ~/.config/envsync/age.key, or ENVSYNC_AGE_KEY_FILE), mode 0600, outside any repository, and prints its public recipient (age1…) to share. Never overwrites an existing identity and never prints the private key. In CI, put the identity in ENVSYNC_AGE_KEY instead.'

  static examples = [
    {description: 'Create your identity and see the recipient to share', command: '<%= config.bin %> keys generate'},
    {description: 'Keep the identity somewhere else', command: 'ENVSYNC_AGE_KEY_FILE=~/secure/envsync.key <%= config.bin %> keys generate'},
  ]

  async run(): Promise<void> {
    await this.finish(await generateKeyFile(), renderGeneratedKey)
  }
}
