import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {ExitCode} from '../errors.js'
import {planTotals} from '../sync/plan.js'
import {planSync} from '../sync/sync.js'
import {BaseCommand} from '../ui/base-command.js'
import {planJson} from '../ui/plan-json.js'
import {renderPlan} from '../ui/render-plan.js'
import {syncFlags, syncOptions} from '../ui/sync-flags.js'

export default class Diff extends BaseCommand<typeof Diff> {
  static summary = 'Show what differs between the manifest and what is live.'
  static description =
    'Reads every destination of the environment (Docker secret files and compose override, Kubernetes Secrets, Railway service and shared variables, Render env vars, env groups and secret files) and shows, per key, whether push would add, update or remove it, with short keyed fingerprints of the local and live values — never the values. Keys envsync did not put there are shown as unmanaged and left alone.'

  static examples = [
    {description: 'What would change in production', command: '<%= config.bin %> diff production'},
    {description: 'Only the Kubernetes Secret of one service', command: '<%= config.bin %> diff staging --target kubernetes --service backend'},
    {description: 'Railway and Render, two services', command: '<%= config.bin %> diff production -t railway,render -s backend,worker'},
    {description: 'Fail a CI step when production drifted (exit 3)', command: '<%= config.bin %> diff production --exit-code'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to compare.', required: true}),
  }

  static flags = {
    ...syncFlags,
    'exit-code': Flags.boolean({description: `Exit ${ExitCode.differs} when anything would change (0 when in sync).`, default: false}),
  }

  async run(): Promise<void> {
    const plan = await planSync(this.loadManifest(), this.args.environment, syncOptions(this.flags))
    const {changes, unreadable} = planTotals(plan.plans)
    const exit = unreadable > 0 ? ExitCode.failed : this.flags['exit-code'] && changes > 0 ? ExitCode.differs : ExitCode.ok
    await this.finish(planJson(plan), () => renderPlan(plan, {verbose: this.flags.verbose}), exit)
  }
}
