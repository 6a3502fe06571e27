import * as Flags from '@oclif/core/flags'

import {renderTemplate} from '../manifest/template.js'
import {BaseCommand} from '../ui/base-command.js'
import {displayPath} from '../paths.js'
import {writeFileAtomic} from '../files.js'

export default class Template extends BaseCommand<typeof Template> {
  static summary = 'Print an env.template that documents every key, without values.'
  static description =
    'Every key with its description, services, whether it is required, the recipe as the equivalent openssl command and the rotation period. Safe to commit: it never contains a value.'

  static examples = [
    {description: 'Print the template', command: '<%= config.bin %> template'},
    {description: 'Write it beside the manifest', command: '<%= config.bin %> template --out env.template'},
  ]

  static flags = {
    out: Flags.string({char: 'o', description: 'Write to this file instead of stdout.'}),
  }

  async run(): Promise<void> {
    const text = renderTemplate(this.loadManifest())
    if (this.flags.out) {
      writeFileAtomic(this.flags.out, text, 0o644)
      await this.finish({file: displayPath(this.flags.out), bytes: Buffer.byteLength(text)}, (r) => [`wrote ${r.file}`])
    } else {
      await this.finish({template: text}, () => [text.trimEnd()])
    }
  }
}
