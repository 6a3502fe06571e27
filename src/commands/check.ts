import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {runCheck} from '../check/check.js'
import {runCheckAll} from '../check/check-all.js'
import {ExitCode} from '../errors.js'
import {BaseCommand} from '../ui/base-command.js'
import {renderCheck, renderCheckAll} from '../ui/render-check.js'

export default class Check extends BaseCommand<typeof Check> {
  static summary = 'Audit the values of an environment, or of every environment.'
  static description =
    'Reports missing values, placeholders, values that are too short, in the wrong format or not random, values reused from another environment, secrets exposed to public services, and values files that are readable by others, committed to or staged in git, or not git-ignored. With no environment it checks every environment, one heading each, and exits with the worst result; an environment whose encrypted store this machine has no key for is skipped (named in the summary line, with the reason under its heading; the exit code does not count it) — name it to make that an error. An environment whose values file cannot be read (a parse error, a damaged store) is reported failed with its error under its heading, the others are still checked, and the exit code is the worst (2 for bad input). Required values never set are listed as a to-do: what each is, what it looks like and where it goes (the values file, or `envsync generate` for keys with a recipe); they still fail the check. Never prints a value.'

  static examples = [
    {description: 'Audit every environment (from anywhere in the project)', command: '<%= config.bin %> check'},
    {description: 'Audit production before a release', command: '<%= config.bin %> check production'},
    {description: 'Fail CI on warnings too', command: '<%= config.bin %> check staging --strict'},
    {description: 'Machine-readable findings', command: '<%= config.bin %> check production --json'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to audit (as named in the manifest). Default: every environment.', required: false}),
  }

  static flags = {
    strict: Flags.boolean({description: 'Exit 1 on warnings as well as errors.', default: false}),
  }

  async run(): Promise<void> {
    const manifest = this.loadManifest()
    // Named: the result keeps its one-environment shape, which scripts read.
    const result = this.args.environment === undefined ? await runCheckAll(manifest) : await runCheck(manifest, this.args.environment)
    const failed = result.errors > 0 || (this.flags.strict && result.warnings > 0)
    // An environment that could not be read (check-all only) makes the exit its error's (2: bad input).
    const exitCode = Math.max(failed ? ExitCode.failed : ExitCode.ok, 'environments' in result ? result.exitCode : 0)
    if ('environments' in result) await this.finish(result, renderCheckAll, exitCode)
    else await this.finish(result, renderCheck, exitCode)
  }
}
