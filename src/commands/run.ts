import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {EnvsyncError, ExitCode} from '../errors.js'
import {runWithValues, selectRunValues} from '../run/run.js'
import {BaseCommand} from '../ui/base-command.js'
import {listValues} from '../ui/list-flag.js'
import {confirmProtected} from '../ui/prompt.js'
import {plural, style} from '../ui/style.js'
import {serviceFlag} from '../ui/sync-flags.js'

export interface RunResult {
  environment: string
  services?: string[]
  command: string
  /** Keys passed to the command (never values). */
  keys: string[]
  /** Left out with --force: required keys without a value, placeholders. */
  missing: string[]
  placeholders: string[]
  exitCode: number
  signal?: string
}

export default class Run extends BaseCommand<typeof Run> {
  static summary = "Run a command with an environment's values in its environment."
  static description = `Starts CMD (everything after --) with the environment's values as environment variables — the store's values, else the manifest defaults; every key of the environment, or with --service only the keys those services receive. They override variables of the same name that envsync itself was started with; everything else is inherited, except envsync's own age key (ENVSYNC_AGE_KEY, ENVSYNC_AGE_KEY_FILE), which the command never receives. No shell runs and nothing is written: values are never on a command line or on disk.

CMD's exit code is envsync's; a command ended by a signal gives 128+n, as a shell reports it. SIGINT, SIGTERM and SIGHUP sent to envsync are passed on to CMD (Ctrl-C at a terminal reaches CMD by itself, once), and envsync waits for it to end. A command that is not found exits 127.

A required key without a value, or a placeholder value, stops the run and names the keys (as push holds placeholders back); --force runs anyway, without them. A protected environment asks you to type its name (--yes skips it).

--json: CMD's stdout goes to stderr, and stdout holds only the envelope, printed when CMD ends (its keys and exit code, never values).`

  static examples = [
    {description: 'Start the backend with its development values', command: '<%= config.bin %> run development --service backend -- npm run dev'},
    {description: 'A one-off task in production (CI)', command: '<%= config.bin %> run production --yes -- node scripts/migrate.js'},
    {description: "Flags after -- are the command's", command: '<%= config.bin %> run staging -- node -e "console.log(process.env.APP_URL)"'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose values the command gets.', required: true}),
    command: Args.string({multiple: true, description: 'The command and its arguments, after --.'}),
  }

  static flags = {
    service: serviceFlag('the keys'),
    force: Flags.boolean({description: 'Run even when required values are missing or are placeholders (they are left out).', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation in protected environments.', default: false}),
  }

  static usage = '<%= command.id %> ENVIRONMENT [-s <service>] [--force] [-y] [-m <value>] [--json] -- CMD [ARGS...]'

  public async catch(error: Error & {oclif?: {exit?: number}}): Promise<never> {
    // `envsync run dev node -e …`: the command's flags were read as envsync's; say where they go.
    if (!this.argv.includes('--') && /^(?:Error: )?Nonexistent flags?:/.test(error.message ?? '')) return super.catch(noCommand(false))
    return super.catch(error)
  }

  async run(): Promise<void> {
    const [command, ...args] = commandAfterDashDash(this.argv)
    const env = this.args.environment
    const manifest = this.loadManifest()
    const services = listValues(this.flags.service, 'service')
    const selection = await selectRunValues(manifest, env, {services, force: this.flags.force})
    if (manifest.isProtected(env)) await confirmProtected(env, `Run ${command} with ${plural(selection.values.size, 'value')}`, {yes: this.flags.yes, interactive: !this.json})
    const left = [...selection.missing, ...selection.placeholders]
    if (left.length > 0) this.note(`${style.yellow('note', process.stderr)} left out (--force): ${left.join(', ')}`)
    const outcome = await runWithValues(command, args, selection.values, {stdoutToStderr: this.json})
    const result: RunResult = {environment: env, ...(services ? {services} : {}), command, keys: [...selection.values.keys()], missing: selection.missing, placeholders: selection.placeholders, ...outcome}
    await this.finish(result, () => [], outcome.exitCode)
  }
}

/** CMD and its arguments: every word after the first --, flags included. */
function commandAfterDashDash(argv: string[]): string[] {
  const at = argv.indexOf('--')
  const words = at === -1 ? [] : argv.slice(at + 1)
  if (words.length === 0) throw noCommand(at !== -1)
  return words
}

function noCommand(dashDash: boolean): EnvsyncError {
  return new EnvsyncError(dashDash ? 'no command after --' : 'no command: put it after --', {
    code: 'USAGE',
    exitCode: ExitCode.usage,
    suggestion: 'envsync run ENVIRONMENT -- CMD [ARGS...], e.g. envsync run development -- npm start',
  })
}
