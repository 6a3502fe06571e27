import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {runCheck} from '../check/check.js'
import {runCheckAll} from '../check/check-all.js'
import {now} from '../clock.js'
import {ExitCode} from '../errors.js'
import {BaseCommand} from '../ui/base-command.js'
import {renderCheck, renderCheckAll} from '../ui/render-check.js'

export default class Check extends BaseCommand<typeof Check> {
  static summary = 'Audit the values of an environment, or of every environment.'
  static description =
    'Reports missing values, placeholders, values that are too short, in the wrong format or not random, values reused from another environment, secrets exposed to public services, and values files that are readable by others, committed to or staged in git, or not git-ignored. With no environment it checks every environment, one heading each, and exits with the worst result; an environment whose encrypted store this machine has no key for is skipped (named in the summary line, with the reason under its heading; the exit code does not count it) — name it to make that an error. An environment whose values file cannot be read (a parse error, a damaged store) is reported failed with its error under its heading, the others are still checked, and the exit code is the worst (2 for bad input). Required values never set are listed as a to-do: what each is, what it looks like and where it goes (the values file, or `envsync generate` for keys with a recipe); they still fail the check.\n\nRotation: each key with `rotate:` and a value is due one period after it last changed (by the shared change history in .envsync/history.jsonl — set, generate and rotate, from any clone — or the secret manager\'s version date, whichever is later). Overdue is an error in a protected environment and a warning elsewhere; due within two weeks (at most a quarter of the period) is a warning. A key whose last change was never recorded is a note, not a finding: `envsync rotate ENV KEY` renews it and starts the clock. A previous key still holding a value after its grace period is a warning (`envsync rotate ENV --finish`). ENVSYNC_NOW=2027-03-01 shows what check will say on that day. Never prints a value.'

  static examples = [
    {description: 'Audit every environment (from anywhere in the project)', command: '<%= config.bin %> check'},
    {description: 'Audit production before a release', command: '<%= config.bin %> check production'},
    {description: 'Fail CI on warnings too', command: '<%= config.bin %> check staging --strict'},
    {description: 'Machine-readable findings', command: '<%= config.bin %> check production --json'},
    {description: 'What check will say on 1 March (rotation due dates)', command: 'ENVSYNC_NOW=2027-03-01 <%= config.bin %> check production'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to audit (as named in the manifest). Default: every environment.', required: false}),
  }

  static flags = {
    strict: Flags.boolean({description: 'Exit 1 on warnings as well as errors: then a secret due for rotation soon, or overdue outside a protected environment, fails too.', default: false}),
  }

  async run(): Promise<void> {
    const manifest = this.loadManifest()
    // Named: the result keeps its one-environment shape, which scripts read.
    const at = now()
    const result = this.args.environment === undefined ? await runCheckAll(manifest, {at}) : await runCheck(manifest, this.args.environment, undefined, {at})
    const failed = result.errors > 0 || (this.flags.strict && result.warnings > 0)
    // An environment that could not be read (check-all only) makes the exit its error's (2: bad input).
    const exitCode = Math.max(failed ? ExitCode.failed : ExitCode.ok, 'environments' in result ? result.exitCode : 0)
    if ('environments' in result) await this.finish(result, renderCheckAll, exitCode)
    else await this.finish(result, renderCheck, exitCode)
  }
}
