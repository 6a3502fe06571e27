import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {ExitCode} from '../errors.js'
import {needsAttention, status, unreadable} from '../sync/status.js'
import {BaseCommand} from '../ui/base-command.js'
import {renderStatus} from '../ui/render-status.js'
import {contextFlag} from '../ui/sync-flags.js'

export default class Status extends BaseCommand<typeof Status> {
  static summary = 'Show every environment and destination at a glance.'
  static description = `For each environment (or those named): its values store (plain or encrypted, or locked when this machine holds no key for it), required values still missing, placeholders, secrets due for rotation (how many are overdue or due soon, and which key is due next; running grace periods), and for each destination the last push (when, by whom, applied or failed, from the shared change history). With --live it also reads every destination, as diff does, and shows what push would change there; a destination that cannot be read is shown, and the others go on. Never prints a value.

Exit status: 0 when status could be shown, even with values missing or drift (it informs, like git status); 1 when something could not be read (a damaged store, an unreadable destination with --live); with --exit-code, ${ExitCode.differs} when anything needs attention (values missing, placeholders, a secret overdue for rotation, drift).`

  static strict = false

  static examples = [
    {description: 'Every environment', command: '<%= config.bin %> status'},
    {description: 'Staging and production, with what differs on the platforms', command: '<%= config.bin %> status staging production --live'},
    {description: `Fail a CI step when production needs attention (exit ${ExitCode.differs})`, command: '<%= config.bin %> status production --live --exit-code'},
  ]

  static args = {
    environment: Args.string({description: 'Environments to show (several may be named); default: all.', required: false}),
  }

  static flags = {
    live: Flags.boolean({description: 'Also read every destination and show what push would change (drift).', default: false}),
    'exit-code': Flags.boolean({description: `Exit ${ExitCode.differs} when values are missing, placeholders remain, a secret is overdue for rotation or (with --live) anything would change.`, default: false}),
    context: contextFlag,
  }

  async run(): Promise<void> {
    // Several environment names: the arguments oclif leaves unparsed (strict = false).
    const {argv} = await this.parse({flags: Status.flags, baseFlags: BaseCommand.baseFlags, args: Status.args, strict: false})
    const result = await status(this.loadManifest(), argv as string[], {live: this.flags.live, kubernetes: {context: this.flags.context}})
    const exit = unreadable(result) ? ExitCode.failed : this.flags['exit-code'] && needsAttention(result) ? ExitCode.differs : ExitCode.ok
    await this.finish(result, renderStatus, exit)
  }
}
