import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {applyImport, planImport} from '../values/import.js'
import {BaseCommand} from '../ui/base-command.js'
import {canPrompt, confirmProtected, prompter} from '../ui/prompt.js'
import {renderImport} from '../ui/render-import.js'
import {plural} from '../words.js'

export default class Import extends BaseCommand<typeof Import> {
  static summary = 'Adopt an existing .env file: its manifest keys go into the environment\'s store.'
  static description =
    'For teams arriving with a .env: reads FILE (never changes it) and writes the values of manifest keys that apply to the environment into its store (.env.<environment>, or the encrypted store). A key with no value in the store is added; one with the same value is left; one whose value differs is kept unless you confirm or pass --overwrite. Keys the manifest does not have are not imported: a manifest entry is printed for each, to paste under secrets:. A protected environment asks for its name to be typed (or --yes). Imported values are audited (placeholders, too short…), and a FILE that git tracks is flagged: its values are in plain text in the history. Prints key names, never values.'

  static examples = [
    {description: 'Adopt the .env the project used until now', command: '<%= config.bin %> import development .env'},
    {description: 'Replace store values that differ, no questions', command: '<%= config.bin %> import staging .env.staging --overwrite --yes'},
    {description: 'In a script: no questions, one JSON result', command: '<%= config.bin %> import production prod.env --yes --json'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose store receives the values.', required: true}),
    file: Args.string({description: 'The .env file to import (KEY=value lines, as dotenv reads them).', required: true}),
  }

  static flags = {
    overwrite: Flags.boolean({description: 'Replace store values that differ from the file\'s (otherwise asked in a terminal, kept without one).', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Ask nothing: confirm a protected environment; differing values are kept unless --overwrite.', default: false}),
  }

  async run(): Promise<void> {
    const manifest = this.loadManifest()
    const env = this.args.environment
    const plan = await planImport(manifest, env, this.args.file)
    const interactive = !this.json && !this.flags.yes && canPrompt()
    let {overwrite} = this.flags
    if (!overwrite && interactive && plan.differing.length > 0) {
      overwrite = await (await prompter()).confirm({message: `${plan.store.display} has other values for ${plan.differing.join(', ')}. Replace them with ${plan.result.file}'s?`, default: false})
    }
    const writes = plan.result.keys.filter((k) => k.action === 'added' || (overwrite && k.action === 'kept-local')).length
    if (writes > 0 && manifest.isProtected(env)) {
      await confirmProtected(env, `Import ${plural(writes, 'value')} into ${plan.store.display}`, {yes: this.flags.yes, interactive: !this.json})
    }
    await this.finish(await applyImport(manifest, plan, overwrite), renderImport)
  }
}
