import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {EnvsyncError, ExitCode} from '../errors.js'
import {runScan} from '../scan/scan.js'
import {BaseCommand} from '../ui/base-command.js'
import {listFlag, listValues} from '../ui/list-flag.js'
import {renderScan} from '../ui/render-scan.js'

export default class Scan extends BaseCommand<typeof Scan> {
  static summary = 'Find the values of your secrets in files and in the git history.'
  static description = `Looks for the exact current values of every sensitive secret of every environment (and previous values kept for a grace period) in the project's files, and with --history in every version of every file in the git history — as they are, base64 (standard or URL-safe, padded or not, alone or inside a larger base64 blob, also wrapped across lines), URL-encoded (also in part, in lowercase hex, or with + for a space) or JSON-escaped. A value inside a longer token counts: it can be read there. Reports the file and line (or commit, path and line), the key and the environment, never the value (a value in a path is a finding, and shown as [redacted]), and the command that makes it worthless: \`envsync rotate ENV KEY\`.

Which files: without PATH, the project's — in a git work tree the files git tracks or would track (add --ignored for git-ignored ones too: logs, build output); with PATH, every file under it (a PATH that is a link to a directory is followed). Symbolic links, FIFOs and devices are skipped, and files over 64 MB; so are the places envsync keeps values by design (each environment's values file, the Docker target's secrets directory), counted in the summary. An environment whose store cannot be read here (no key for its encrypted store, no credentials for its secret manager) is named as not scanned — name it with --environment to make that an error; a store that does not parse is always an error. Values shorter than 8 characters are not looked for (they would match by chance).

Exit status: 0 when nothing was found, 1 when a value was found, 2 on bad input.`

  static strict = false

  static examples = [
    {description: 'The project, as git sees it', command: '<%= config.bin %> scan'},
    {description: 'Logs and build output too, and the whole git history', command: '<%= config.bin %> scan --ignored --history'},
    {description: 'A directory of CI logs, for production values only', command: '<%= config.bin %> scan ./ci-logs -e production'},
  ]

  static args = {
    path: Args.string({description: 'Files or directories to scan (several may be named); default: the project.', required: false}),
  }

  static flags = {
    history: Flags.boolean({description: 'Also scan every blob of the git history (all branches and tags).', default: false}),
    ignored: Flags.boolean({description: 'Also scan files git ignores (without PATH, in a git work tree).', default: false}),
    environment: listFlag({char: 'e', helpValue: 'ENV', description: 'Only the values of these environments (repeat the flag or give a comma list); their stores must be readable.'}),
  }

  async run(): Promise<void> {
    // Several paths: the arguments oclif leaves unparsed (strict = false).
    const {argv} = await this.parse({flags: Scan.flags, baseFlags: BaseCommand.baseFlags, args: Scan.args, strict: false})
    const paths = argv as string[]
    const flag = paths.find((p) => p.startsWith('-'))
    if (flag) throw new EnvsyncError(`Nonexistent flag: ${flag}`, {code: 'USAGE', suggestion: 'see `envsync scan --help` (a path starting with - is written ./-name)'})
    const result = await runScan(this.loadManifest(), {
      paths,
      environments: listValues(this.flags.environment, 'environment'),
      history: this.flags.history,
      ignored: this.flags.ignored,
    })
    await this.finish(result, renderScan, result.found > 0 ? ExitCode.failed : ExitCode.ok)
  }
}
