import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../ui/base-command.js'
import {confirmProtected} from '../ui/prompt.js'
import {renderGenerate} from '../ui/render-generate.js'
import {plural} from '../ui/style.js'
import {applyGenerate, planGenerate} from '../values/generate.js'

export default class Generate extends BaseCommand<typeof Generate> {
  static summary = 'Fill missing values that have a generate recipe.'
  static description =
    'Draws new random values (base64:N, hex:N, alnum:N, password:N, uuid) for keys with a recipe and no value, and writes them to the environment\'s values file (atomic, mode 0600). Prints keys, recipes and lengths, never values. Each environment gets its own values.'

  static examples = [
    {description: 'Fill every missing generated secret', command: '<%= config.bin %> generate development'},
    {description: 'Rotate one secret in production', command: '<%= config.bin %> generate production JWT_SECRET --force'},
    {description: 'Rotate without a prompt (CI)', command: '<%= config.bin %> generate staging SESSION_SECRET --force --yes'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose values file receives the values.', required: true}),
    key: Args.string({multiple: true, description: 'Only these keys, one or more (default: every key with a recipe and no value).'}),
  }

  static flags = {
    force: Flags.boolean({description: 'Replace existing values too (rotation).', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation in protected environments.', default: false}),
  }

  static usage = '<%= command.id %> ENVIRONMENT [KEY...] [-m <value>] [--json] [--force] [-y]'

  async run(): Promise<void> {
    const keys = this.args.key ?? []
    const manifest = this.loadManifest()
    const env = this.args.environment
    const plan = await planGenerate(manifest, env, keys, this.flags.force)
    const replacing = plan.generate.filter((g) => g.replaced)
    if (replacing.length > 0 && manifest.isProtected(env)) {
      await confirmProtected(env, `Replace ${plural(replacing.length, 'existing value')} (${replacing.map((g) => g.key).join(', ')})`, {yes: this.flags.yes, interactive: !this.json})
    }
    await this.finish(await applyGenerate(manifest, plan), renderGenerate)
  }
}
