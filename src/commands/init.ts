import * as Flags from '@oclif/core/flags'

import {EnvsyncError} from '../errors.js'
import {answersFromFlags, askAnswers, manifestExists, refuseOverwrite, writeProject} from '../init/init.js'
import {BaseCommand} from '../ui/base-command.js'
import {canPrompt, prompter} from '../ui/prompt.js'
import {renderInit} from '../ui/render-init.js'

export default class Init extends BaseCommand<typeof Init> {
  static summary = 'Set up envsync in a project: manifest, generated values, env.template, .gitignore.'
  static description =
    'Asks for the project name, services, environments, secrets (from a built-in catalogue), where each environment is deployed and which environments are protected, then writes envsync.yaml, envsync.schema.json beside it (for editors; commit both), a values file per environment with freshly generated values (different in each environment), env.template and .gitignore entries. In scripts and CI, pass --yes with flags instead of answering questions.'

  static examples = [
    {description: 'Answer questions in a terminal', command: '<%= config.bin %> init'},
    {
      description: 'No questions (CI, scripts)',
      command:
        '<%= config.bin %> init --yes --project shop --services backend,frontend --public frontend --environments development,production --targets development=docker,production=docker+kubernetes --protected production',
    },
    {description: 'Set up a demo project in ./demo', command: '<%= config.bin %> init --yes --dir demo'},
  ]

  static flags = {
    yes: Flags.boolean({char: 'y', description: 'Ask nothing: take flags and defaults.', default: false}),
    force: Flags.boolean({description: 'Replace an existing envsync.yaml (values files are kept).', default: false}),
    dir: Flags.string({description: 'Project directory (created if missing).', default: '.'}),
    project: Flags.string({description: 'Project name (lowercase, digits, -). Default: the directory name.'}),
    services: Flags.string({description: 'Comma-separated services. Default: backend,frontend.'}),
    public: Flags.string({description: 'Comma-separated services bundled into browsers. Default: those named frontend, web, client, spa.'}),
    environments: Flags.string({description: 'Comma-separated environments. Default: development,staging,production.'}),
    secrets: Flags.string({description: 'Comma-separated catalogue keys, "recommended" (default) or "all".'}),
    targets: Flags.string({
      description:
        'Where environments deploy: kinds for all ("docker", "docker+kubernetes"), env=kind[+kind] for one ("production=docker+kubernetes"), or both ("docker,production=kubernetes"). Kinds: docker, kubernetes, railway, render. Default: docker.',
    }),
    protected: Flags.string({
      description: 'Comma-separated environments whose push needs the environment name typed, or "none". Default: those named like production (production, prod, prd, live, prod-eu…).',
    }),
  }

  async run(): Promise<void> {
    const {dir, force, yes} = this.flags
    if (manifestExists(dir) && !force) throw refuseOverwrite(dir)
    let answers
    if (yes) answers = answersFromFlags(this.flags, dir)
    else if (!this.json && canPrompt()) answers = await askAnswers(await prompter(), this.flags, dir)
    else {
      throw new EnvsyncError('init needs answers, and there is no terminal to ask them in', {
        code: 'NOT_INTERACTIVE',
        suggestion: 'pass --yes, with --project, --services, --public, --environments, --secrets and --targets as needed',
      })
    }
    await this.finish(writeProject(dir, answers, force), renderInit)
  }
}
