import * as Flags from '@oclif/core/flags'

import {targetKinds} from '../manifest/schema.js'
import type {SyncOptions} from '../sync/sync.js'
import type {TargetKind} from '../targets/target.js'
import {listFlag, listValues} from './list-flag.js'

/** --context, for every command that talks to Kubernetes (diff, push, pull). */
export const contextFlag = Flags.string({description: 'Kubernetes: the kubeconfig context to use, over the manifest\'s `context:` and current-context.'})

/** --service, for every command that can narrow to services (diff, push, pull, export). */
export const serviceFlag = (what: string) => listFlag({char: 's', helpValue: '<service>', description: `Only ${what} of these services (repeat the flag or give a comma list).`})

/** Flags diff and push share, and how they become sync options. */
export const syncFlags = {
  context: contextFlag,
  target: listFlag({char: 't', description: 'Only these target kinds (repeat the flag or give a comma list).', options: targetKinds}),
  service: serviceFlag('destinations'),
  prune: Flags.boolean({description: 'Also remove live keys envsync does not own (shown in the plan first).', default: false}),
  verbose: Flags.boolean({char: 'v', description: 'List unchanged keys and keys without a local value too.', default: false}),
}

export function syncOptions(flags: {target?: string[]; service?: string[]; prune?: boolean; context?: string}, extra: Partial<SyncOptions> = {}): SyncOptions {
  return {targets: listValues(flags.target, 'target') as TargetKind[] | undefined, services: listValues(flags.service, 'service'), prune: flags.prune, kubernetes: {context: flags.context}, ...extra}
}
