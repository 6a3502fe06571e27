import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {runCheck} from '../check/check.js'
import {ExitCode} from '../errors.js'
import {BaseCommand} from '../ui/base-command.js'
import {renderCheck} from '../ui/render-check.js'

export default class Check extends BaseCommand<typeof Check> {
  static summary = 'Audit the values of an environment.'
  static description =
    'Reports missing values, placeholders, values that are too short, in the wrong format or not random, values reused from another environment, secrets exposed to public services, and values files that are readable by others, committed to or staged in git, or not git-ignored. Required values never set are listed as a to-do: what each is, what it looks like and where it goes (the values file, or `envsync generate` for keys with a recipe); they still fail the check. Never prints a value.'

  static examples = [
    {description: 'Audit production before a release', command: '<%= config.bin %> check production'},
    {description: 'Fail CI on warnings too', command: '<%= config.bin %> check staging --strict'},
    {description: 'Machine-readable findings', command: '<%= config.bin %> check production --json'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to audit (as named in the manifest).', required: true}),
  }

  static flags = {
    strict: Flags.boolean({description: 'Exit 1 on warnings as well as errors.', default: false}),
  }

  async run(): Promise<void> {
    const result = runCheck(this.loadManifest(), this.args.environment)
    const failed = result.errors > 0 || (this.flags.strict && result.warnings > 0)
    await this.finish(result, renderCheck, failed ? ExitCode.failed : ExitCode.ok)
  }
}
