import * as Flags from '@oclif/core/flags'

import type {SyncOptions} from '../sync/sync.js'
import type {TargetKind} from '../targets/target.js'

/** Flags diff and push share, and how they become sync options. */
export const syncFlags = {
  target: Flags.string({char: 't', description: 'Only this target kind.', options: ['docker', 'kubernetes', 'railway', 'render']}),
  service: Flags.string({char: 's', description: 'Only destinations of this service.'}),
  prune: Flags.boolean({description: 'Also remove live keys envsync does not own (shown in the plan first).', default: false}),
  verbose: Flags.boolean({char: 'v', description: 'List unchanged keys and keys without a local value too.', default: false}),
}

export function syncOptions(flags: {target?: string; service?: string; prune?: boolean}, extra: Partial<SyncOptions> = {}): SyncOptions {
  return {target: flags.target as TargetKind | undefined, service: flags.service, prune: flags.prune, ...extra}
}
