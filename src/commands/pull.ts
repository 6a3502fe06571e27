import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {ExitCode} from '../errors.js'
import {pull} from '../sync/pull.js'
import type {TargetKind} from '../targets/target.js'
import {BaseCommand} from '../ui/base-command.js'
import {renderPull} from '../ui/render-pull.js'
import {listFlag, listValues} from '../ui/list-flag.js'
import {contextFlag, serviceFlag} from '../ui/sync-flags.js'

export default class Pull extends BaseCommand<typeof Pull> {
  static summary = 'Import live values from a platform into the local values file.'
  static description =
    'For teams adopting envsync on an existing deployment: reads the environment\'s destinations on one target and writes the values of manifest keys into .env.<environment> (atomically, 0600). A local value that differs is kept unless --overwrite; a key whose destinations disagree, or whose live value is binary, is left alone (exit 1); a key the manifest sets per target (targets:) is not imported; write-only values (Railway sealed) cannot be pulled. Prints keys, never values.'

  static examples = [
    {description: 'Import production values from Railway', command: '<%= config.bin %> pull production --from railway'},
    {description: 'One service, two keys, replacing local values', command: '<%= config.bin %> pull staging --from render --service backend --keys JWT_SECRET,SESSION_SECRET --overwrite'},
    {description: 'Also import keys the manifest does not know, with entries to paste', command: '<%= config.bin %> pull production --from kubernetes --include-unmanaged'},
  ]

  static args = {
    environment: Args.string({description: 'Environment whose values file receives the values.', required: true}),
  }

  static flags = {
    from: Flags.string({description: 'Target to read from.', options: ['docker', 'kubernetes', 'railway', 'render'], required: true}),
    service: serviceFlag('destinations'),
    keys: listFlag({helpValue: '<key>', description: 'Only these keys (repeat the flag or give a comma list).'}),
    overwrite: Flags.boolean({description: 'Replace local values that differ.', default: false}),
    'include-unmanaged': Flags.boolean({description: 'Also pull keys the manifest does not have, and print manifest entries for them.', default: false}),
    context: contextFlag,
  }

  async run(): Promise<void> {
    const result = await pull(this.loadManifest(), this.args.environment, {
      from: this.flags.from as TargetKind,
      services: listValues(this.flags.service, 'service'),
      keys: listValues(this.flags.keys, 'keys'),
      overwrite: this.flags.overwrite,
      includeUnmanaged: this.flags['include-unmanaged'],
      kubernetes: {context: this.flags.context},
    })
    const conflicts = result.keys.some((k) => k.action === 'conflict' || k.action === 'not-text')
    await this.finish(result, renderPull, conflicts ? ExitCode.failed : ExitCode.ok)
  }
}
