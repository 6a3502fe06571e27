import * as Flags from '@oclif/core/flags'

import {EnvsyncError} from '../errors.js'
import {answersFromFlags} from '../init/answers.js'
import {manifestExists, refuseOverwrite, writeProject} from '../init/init.js'
import {askImport, importFlag} from '../init/offer.js'
import {startingPoint} from '../init/previous.js'
import {askAnswers} from '../init/questions.js'
import {BaseCommand, renderError} from '../ui/base-command.js'
import {listFlag} from '../ui/list-flag.js'
import {canPrompt, prompter} from '../ui/prompt.js'
import {renderInit, renderInitSummary} from '../ui/render-init.js'

export default class Init extends BaseCommand<typeof Init> {
  static summary = 'Set up envsync in a project: manifest, generated values, env.template, .gitignore.'
  static description =
    'Asks for the project name, services, environments, secrets (from a built-in catalogue), where each environment is deployed and which environments are protected, shows what it will write (and which service gets each secret: by what the service is, read from its name — backend/api → API, worker/jobs → worker, grafana → observability), then lets you write, go back to an answer, or cancel. It writes envsync.yaml, envsync.schema.json beside it (for editors; commit both), a values file per environment with freshly generated values (different in each environment), env.template and .gitignore entries (the values files and secret directories; .envsync/ is shared state, committed — --force takes out the `.envsync/` line an older init added). When the directory has a .env (or .env.local), it offers to import it into an environment\'s store first (--import FILE[:ENV] in scripts): the team\'s values are kept, the rest generated. With --force it starts from the existing envsync.yaml: its answers are the defaults, its settings and values are kept. In scripts and CI, pass --yes with flags instead of answering questions.'

  static examples = [
    {description: 'Answer questions in a terminal', command: '<%= config.bin %> init'},
    {
      description: 'No questions (CI, scripts)',
      command:
        '<%= config.bin %> init --yes --project shop --services backend,frontend,worker --public frontend --environments development,production --secrets recommended,DATABASE_URL --targets development=docker,production=docker+kubernetes --protected production',
    },
    {description: 'Set up a demo project in ./demo', command: '<%= config.bin %> init --yes --dir demo'},
    {description: 'Redo the setup, starting from the existing envsync.yaml', command: '<%= config.bin %> init --force'},
    {description: 'Adopt the project\'s .env into development, no questions', command: '<%= config.bin %> init --yes --import .env:development'},
  ]

  static flags = {
    yes: Flags.boolean({char: 'y', description: 'Ask nothing: take flags and defaults.', default: false}),
    force: Flags.boolean({description: 'Replace an existing envsync.yaml, starting from it: its services, environments, targets and secrets are the defaults (values files are kept).', default: false}),
    dir: Flags.string({description: 'Project directory (created if missing).', default: '.'}),
    project: Flags.string({description: 'Project name (lowercase, digits, -). Default: the directory name.'}),
    services: listFlag({description: 'Services, repeated or comma-separated. Default: backend,frontend.'}),
    public: listFlag({description: 'Services bundled into browsers, repeated or comma-separated. Default: those named frontend, web, client, spa.'}),
    environments: listFlag({description: 'Environments, repeated or comma-separated. Default: development,staging,production.'}),
    secrets: listFlag({description: 'Catalogue keys and the groups "recommended" (default) and "all", mixed: --secrets recommended,DATABASE_URL.'}),
    targets: listFlag({
      description:
        'Where environments deploy: kinds for all ("docker", "docker+kubernetes"), env=kind[+kind] for one ("production=docker+kubernetes"), or both ("docker,production=kubernetes"); repeated or comma-separated. Kinds: docker, kubernetes, railway, render. Default: docker.',
    }),
    import: Flags.string({
      helpValue: 'FILE[:ENV]',
      description: 'Adopt an existing .env: its values of manifest keys go into ENV\'s store before missing ones are generated (default ENV: development, else the first). Without it, init in a terminal offers the .env or .env.local it finds.',
    }),
    protected: listFlag({
      description: 'Environments whose push needs the environment name typed, repeated or comma-separated, or "none". Default: those named like production (production, prod, prd, live, prod-eu…).',
    }),
  }

  async run(): Promise<void> {
    const {dir, force, yes} = this.flags
    if (manifestExists(dir) && !force) throw refuseOverwrite(dir)
    if (!yes && this.json) {
      // --json is for scripts: one envelope on stdout, never a question drawn over it.
      throw new EnvsyncError('init --json asks no questions', {code: 'NOT_INTERACTIVE', suggestion: `pass --yes with --json, and ${FLAGS_HINT}`})
    }
    if (!yes && !canPrompt()) {
      throw new EnvsyncError('init needs answers, and there is no terminal to ask them in', {code: 'NOT_INTERACTIVE', suggestion: `pass --yes, with ${FLAGS_HINT}`})
    }
    const p = yes ? undefined : await prompter()
    const previous = force && manifestExists(dir) ? await startingPoint(dir, p) : undefined
    const answers = p
      ? await askAnswers(p, this.flags, dir, {previous, force, show: (s) => (s instanceof EnvsyncError ? this.logToStderr(renderError(s).join('\n')) : this.log(renderInitSummary(s).join('\n')))})
      : answersFromFlags(this.flags, dir, previous)
    const adopt = this.flags.import === undefined ? p && (await askImport(p, dir, answers.environments)) : importFlag(this.flags.import, answers.environments)
    await this.finish(await writeProject(dir, answers, force, adopt), renderInit)
  }
}

const FLAGS_HINT = '--project, --services, --public, --environments, --secrets and --targets as needed'
