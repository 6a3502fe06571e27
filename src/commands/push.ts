import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {ExitCode} from '../errors.js'
import {pushEndingGraces} from '../sync/rotate.js'
import {planTotals} from '../sync/plan.js'
import {BaseCommand} from '../ui/base-command.js'
import {planJson, reportJson} from '../ui/plan-json.js'
import {progress} from '../ui/progress.js'
import {confirmPush} from '../ui/prompt.js'
import {renderPlan, renderReport} from '../ui/render-plan.js'
import {graceEndedNote} from '../ui/render-rotate.js'
import {listFlag, listValues} from '../ui/list-flag.js'
import {syncFlags, syncOptions} from '../ui/sync-flags.js'

export default class Push extends BaseCommand<typeof Push> {
  static summary = 'Apply the difference to every destination: plan, confirm, apply, report.'
  static description =
    'Checks the values (errors block the push unless --force; placeholders are never pushed), reads every destination, shows the plan, asks for confirmation (in protected environments you type the environment name), then writes only what differs — Docker secret files and compose override, Kubernetes Secrets by server-side apply, Railway service and shared variables, Render env vars, env groups and secret files — and reports each destination as applied, in sync or failed. Keys envsync did not put somewhere are never deleted without --prune. Re-running converges.'

  static examples = [
    {description: 'See what would happen', command: '<%= config.bin %> push production --dry-run'},
    {description: 'Push to every destination of staging', command: '<%= config.bin %> push staging'},
    {description: 'CI: no prompt, one service, one key', command: '<%= config.bin %> push production --yes --service backend --only JWT_SECRET'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to push.', required: true}),
  }

  static flags = {
    ...syncFlags,
    'dry-run': Flags.boolean({char: 'n', description: 'Show the plan and stop.', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation: each destination is written as soon as its plan is known.', default: false}),
    only: listFlag({helpValue: '<key>', description: 'Only these keys (repeat the flag or give a comma list).'}),
    force: Flags.boolean({description: 'Push even when check reports errors (placeholders are still never pushed).', default: false}),
    'force-conflicts': Flags.boolean({description: 'Kubernetes: take over keys another field manager owns.', default: false}),
    'create-namespace': Flags.boolean({description: 'Kubernetes: create a missing namespace.', default: false}),
    deploy: Flags.boolean({description: 'After all writes, redeploy what reads the changed values: each changed Railway and Render service once (as `deploy: true` in the manifest), a rollout restart of the Kubernetes workloads that use a changed Secret, and for Docker the compose command that recreates the services reading them. A redeploy that failed is made again by the next push.', default: false}),
  }

  async run(): Promise<void> {
    const manifest = this.loadManifest()
    const env = this.args.environment
    let planShown = false
    const dryRun = this.flags['dry-run']
    const {plan, report, gracesEnded} = await pushEndingGraces(manifest, env, {
      ...syncOptions(this.flags, {only: listValues(this.flags.only, 'only'), deploy: this.flags.deploy}),
      kubernetes: {context: this.flags.context, forceConflicts: this.flags['force-conflicts'], createNamespace: this.flags['create-namespace']},
      force: this.flags.force,
      dryRun,
      onProgress: this.json ? undefined : progress(process.stderr),
      confirm: this.flags.yes
        ? undefined
        : async (p) => {
            if (!this.json) process.stdout.write(renderPlan(p, {verbose: this.flags.verbose}).join('\n') + '\n\n')
            planShown = true
            await confirmPush(env, manifest.isProtected(env), {...planTotals(p.plans), redeploys: p.redeploy?.length ?? 0}, {interactive: !this.json})
          },
    })
    for (const g of gracesEnded) this.note(graceEndedNote(g, env, dryRun))
    const shown = () => renderPlan(plan, {verbose: this.flags.verbose})
    const graces = gracesEnded.length > 0 ? {gracesEnded: gracesEnded.map(({key, previous, until, removedFromStore}) => ({key, previous, until, removedFromStore}))} : {}
    if (!report) {
      await this.finish({plan: planJson(plan), applied: false, ...graces}, shown, planTotals(plan.plans).unreadable > 0 ? ExitCode.failed : ExitCode.ok)
      return
    }
    const text = () => (planShown ? renderReport(report, plan) : [...shown(), '', ...renderReport(report, plan)])
    await this.finish({plan: planJson(plan), applied: true, report: reportJson(report, plan), ...graces}, text, report.failed > 0 ? ExitCode.failed : ExitCode.ok)
  }
}

