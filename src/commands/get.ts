import * as Args from '@oclif/core/args'

import {BaseCommand, write} from '../ui/base-command.js'
import {renderExportWarning} from '../ui/render-export.js'
import {getValue} from '../values/get.js'

export default class Get extends BaseCommand<typeof Get> {
  static summary = 'Print one value (on purpose): the store\'s, else the manifest default.'
  static description = `Prints the value of one key, exactly: nothing added when stdout is a pipe or a file (\`$(envsync get …)\`, \`envsync get … > file\` hold the bytes as stored), a newline after it on a terminal, with a warning on stderr as export gives. A key with no value exits 1 and says how to set one.

--json: {"key", "value", "source"} — the value included, since it was asked for.`

  static examples = [
    {description: 'Use a value in a script', command: 'psql "$(<%= config.bin %> get development DATABASE_URL)"'},
    {description: 'As JSON', command: '<%= config.bin %> get staging JWT_SECRET --json'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to read.', required: true}),
    key: Args.string({description: 'The key, as named in the manifest.', required: true}),
  }

  async run(): Promise<void> {
    const got = await getValue(this.loadManifest(), this.args.environment, this.args.key)
    const value = got.value.reveal()
    if (this.json) {
      await this.finish({environment: got.environment, key: got.key, value, source: got.source, file: got.file}, () => [])
      return
    }
    if (process.stdout.isTTY) {
      process.stderr.write(renderExportWarning('pipe it or use $(…) to keep it off the screen') + '\n')
      await write(process.stdout, value + '\n')
    } else await write(process.stdout, value)
  }
}
