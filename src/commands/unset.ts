import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../ui/base-command.js'
import {confirmProtected} from '../ui/prompt.js'
import {renderRequiredNote, renderUnset} from '../ui/render-values.js'
import {plural} from '../ui/style.js'
import {fillHint} from '../values/generate.js'
import {applyUnset, planUnset} from '../values/unset.js'

export default class Unset extends BaseCommand<typeof Unset> {
  static summary = "Remove values from an environment's store."
  static description = `Removes the keys' values in one atomic write through the environment's store; other lines stay as they are. A key the store holds but the manifest no longer lists can be removed too. Removing a required key is allowed and warned about: \`envsync check\` fails until it has a value again. In a protected environment you type its name to confirm (--yes skips it). A key with no value is reported, not an error.`

  static examples = [
    {description: 'Remove one value', command: '<%= config.bin %> unset development SENTRY_DSN'},
    {description: 'Several, without a prompt (CI)', command: '<%= config.bin %> unset production OLD_API_KEY LEGACY_TOKEN --yes'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose store loses the values.', required: true}),
    key: Args.string({multiple: true, required: true, description: 'The keys to remove, one or more.'}),
  }

  static flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation in protected environments.', default: false}),
  }

  static usage = '<%= command.id %> ENVIRONMENT KEY... [-y] [-m <value>] [--json]'

  async run(): Promise<void> {
    const manifest = this.loadManifest()
    const env = this.args.environment
    const plan = await planUnset(manifest, env, this.args.key)
    if (plan.remove.length > 0 && manifest.isProtected(env)) {
      await confirmProtected(env, `Remove ${plural(plan.remove.length, 'value')} (${plan.remove.join(', ')})`, {yes: this.flags.yes, interactive: !this.json})
    }
    const result = await applyUnset(plan)
    for (const line of renderRequiredNote(result, fillHint(manifest, env, result.required, result.file))) this.note(line)
    await this.finish(result, renderUnset)
  }
}
