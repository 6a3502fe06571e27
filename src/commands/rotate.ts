import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {ExitCode} from '../errors.js'
import {rotate} from '../sync/rotate.js'
import {BaseCommand} from '../ui/base-command.js'
import {progress} from '../ui/progress.js'
import {confirmProtected} from '../ui/prompt.js'
import {renderRotate, renderRotationPlan} from '../ui/render-rotate.js'
import {contextFlag} from '../ui/sync-flags.js'
import {readValue} from '../ui/value-input.js'

export default class Rotate extends BaseCommand<typeof Rotate> {
  static summary = 'Rotate secrets: new values, the old one kept for a grace period, pushed and redeployed everywhere.'
  static description = `Draws a new value for each key by its generate recipe (a key without one — a provider-issued API key — is typed at a hidden prompt, twice, or piped on stdin for one key), checks it like \`set\`, shows the plan (fingerprints, never values), asks in protected environments, writes the store once, then pushes the keys to every destination and redeploys what reads them: Railway and Render services are deployed, Kubernetes workloads using the Secret restarted, and for Docker the compose command to run is printed.

A key with \`previous:\` and \`grace:\` keeps its old value under the previous key until the grace ends, so apps that accept both log no one out; after it, \`envsync rotate ENV --finish\` (or the next push of every destination and key) removes it from every destination, then from the store — which keeps it while any destination fails. A key in its grace period is not rotated again without --force.

A rotation that did not reach every destination (a platform down, a deploy failed) is resumed by running the same command again: the value already in the store is pushed and redeployed, no new one is drawn (not even with --force), and the grace starts again from the rerun so that every destination keeps the previous value for a full grace.`

  static examples = [
    {description: 'Rotate the JWT secret; the old one stays for its grace period', command: '<%= config.bin %> rotate production JWT_SECRET'},
    {description: 'After the grace period: remove the previous value everywhere', command: '<%= config.bin %> rotate production --finish'},
    {description: 'Every secret due (or overdue) for rotation', command: '<%= config.bin %> rotate production --due --yes'},
    {description: 'A provider-issued key, piped in', command: 'printf %s "$NEW_KEY" | <%= config.bin %> rotate production STRIPE_SECRET_KEY --yes'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose secrets to rotate.', required: true}),
    keys: Args.string({multiple: true, description: 'Keys to rotate (secrets of the environment).'}),
  }

  static flags = {
    due: Flags.boolean({description: 'Rotate the secrets that are overdue or due soon (their `rotate:` period).', default: false}),
    finish: Flags.boolean({description: 'End the grace periods that ran out: remove the previous values from the store and every destination.', default: false}),
    force: Flags.boolean({description: 'Rotate a key in its grace period, end a grace early, or write a value check finds errors in. A rotation that did not reach every destination is resumed all the same.', default: false}),
    'dry-run': Flags.boolean({char: 'n', description: 'Show the plan and stop.', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation in a protected environment.', default: false}),
    context: contextFlag,
  }

  static usage = '<%= command.id %> ENVIRONMENT [KEY...] [--due] [--finish] [--force] [-n] [-y] [--json]'

  async run(): Promise<void> {
    const {environment} = this.args
    const keys = this.args.keys ?? []
    const manifest = this.loadManifest()
    const interactive = !this.json
    let planShown = false
    const outcome = await rotate(
      manifest,
      environment,
      {keys, due: this.flags.due, finish: this.flags.finish, force: this.flags.force, dryRun: this.flags['dry-run'], kubernetes: {context: this.flags.context}},
      {
        readValue: (key) => readValue(key, {interactive, keepNewline: false}),
        canReadSeveral: Boolean(process.stdin.isTTY),
        onProgress: this.json ? undefined : progress(process.stderr),
        confirm: async (plan) => {
          if (!manifest.isProtected(environment) || this.flags.yes) return
          if (!this.json) process.stdout.write(renderRotationPlan(plan).join('\n') + '\n\n')
          planShown = true
          await confirmProtected(environment, `Rotate ${plan.keys.map((k) => k.key).join(', ')}`, {yes: false, interactive})
        },
      },
    )
    const failed = outcome.kind === 'report' && outcome.report.pending.length > 0
    await this.finish(outcome, (o) => renderRotate(o, planShown), failed ? ExitCode.failed : ExitCode.ok)
  }
}
