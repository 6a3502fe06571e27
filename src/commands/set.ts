import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {EnvsyncError, ExitCode} from '../errors.js'
import {BaseCommand} from '../ui/base-command.js'
import {confirmProtected} from '../ui/prompt.js'
import {renderFindings, renderSet} from '../ui/render-values.js'
import {readValue} from '../ui/value-input.js'
import {setValue} from '../values/set.js'

export default class SetCommand extends BaseCommand<typeof SetCommand> {
  static summary = 'Set one value in an environment: typed hidden, piped on stdin, or generated.'
  static description = `The value comes from a hidden prompt on a terminal (typed twice), from stdin when it is piped in, or from the key's recipe with --generate — never from the command line, where it would land in shell history and in \`ps\`. From stdin, one trailing newline is dropped, so \`echo "$V" |\` and \`printf %s "$V" |\` set the same value; --keep-newline keeps the bytes exactly.

The new value is checked with the rules of \`envsync check\` (placeholder, length, format, randomness, reuse, weak): errors refuse it unless --force, warnings are printed. Replacing a value in a protected environment asks you to type the environment's name (--yes skips it). Written through the environment's store, atomically; the output names the key and a fingerprint, never the value.`

  static examples = [
    {description: 'Type a value (hidden)', command: '<%= config.bin %> set production STRIPE_SECRET_KEY'},
    {description: 'Pipe it from another tool', command: 'vault kv get -field=key secret/stripe | <%= config.bin %> set production STRIPE_SECRET_KEY --yes'},
    {description: 'A new random value by its recipe', command: '<%= config.bin %> set staging JWT_SECRET --generate'},
    {description: 'A value ending in a newline, byte-exact', command: 'cat key.pem | <%= config.bin %> set development TLS_KEY --keep-newline'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose store receives the value.', required: true}),
    key: Args.string({description: 'The key, as named in the manifest.', required: true}),
    value: Args.string({multiple: true, description: 'Not accepted: a value on the command line lands in shell history. Type it at the prompt or pipe it on stdin.'}),
  }

  static flags = {
    generate: Flags.boolean({char: 'g', description: "Draw a new random value by the key's generate recipe.", default: false}),
    'keep-newline': Flags.boolean({description: 'Keep a trailing newline of the value read from stdin.', default: false}),
    force: Flags.boolean({description: 'Write the value even when check finds errors in it.', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation when replacing a value in a protected environment.', default: false}),
  }

  static usage = '<%= command.id %> ENVIRONMENT KEY [-g] [--keep-newline] [--force] [-y] [-m <value>] [--json]'

  public async catch(error: Error & {oclif?: {exit?: number}}): Promise<never> {
    // An unknown "flag" may be a value that starts with '-': it is not repeated.
    if (/^(?:Error: )?Nonexistent flags?:/.test(error.message ?? '')) {
      return super.catch(new EnvsyncError('unknown flag (not repeated: it may be a value)', {
        code: 'USAGE',
        exitCode: ExitCode.usage,
        suggestion: 'the flags of set are --generate, --keep-newline, --force, --yes, --manifest, --json; a value is typed at the prompt or piped on stdin',
      }))
    }
    return super.catch(error)
  }

  async run(): Promise<void> {
    const {environment, key, value} = this.args
    const interactive = !this.json
    const result = await setValue({environment, key, extra: value, generate: this.flags.generate, force: this.flags.force}, {
      manifest: () => this.loadManifest(),
      confirmReplace: (action) => confirmProtected(environment, action, {yes: this.flags.yes, interactive}),
      readValue: () => readValue(key, {interactive, keepNewline: this.flags['keep-newline']}),
      warn: (findings) => {
        for (const line of renderFindings(findings)) this.note(line)
      },
    })
    await this.finish(result, renderSet)
  }
}
