import * as Flags from '@oclif/core/flags'

import type {SyncOptions} from '../sync/sync.js'
import type {TargetKind} from '../targets/target.js'

/** --context, for every command that talks to Kubernetes (diff, push, pull). */
export const contextFlag = Flags.string({description: 'Kubernetes: the kubeconfig context to use, over the manifest\'s `context:` and current-context.'})

/** Flags diff and push share, and how they become sync options. */
export const syncFlags = {
  context: contextFlag,
  target: Flags.string({char: 't', description: 'Only this target kind.', options: ['docker', 'kubernetes', 'railway', 'render']}),
  service: Flags.string({char: 's', description: 'Only destinations of this service.'}),
  prune: Flags.boolean({description: 'Also remove live keys envsync does not own (shown in the plan first).', default: false}),
  verbose: Flags.boolean({char: 'v', description: 'List unchanged keys and keys without a local value too.', default: false}),
}

export function syncOptions(flags: {target?: string; service?: string; prune?: boolean; context?: string}, extra: Partial<SyncOptions> = {}): SyncOptions {
  return {target: flags.target as TargetKind | undefined, service: flags.service, prune: flags.prune, kubernetes: {context: flags.context}, ...extra}
}
