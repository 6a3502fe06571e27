import {asEnvsyncError} from '../errors.js'
import {redact} from '../redact.js'
import {planTotals} from '../sync/plan.js'
import type {SyncPlan, SyncReport} from '../sync/sync.js'
import {sharedErrors} from './render-plan.js'

/**
 * The plan as --json prints it: actions and fingerprints per key, and the values of plain config
 * only (`localValue`/`liveValue`, as the text shows them), never a secret's. An error several
 * destinations share (a broken kubeconfig, an unreachable cluster) is in `errors` once, with
 * their ids; a destination's own read error stays in its `error`.
 */
export function planJson(plan: SyncPlan) {
  const shared = sharedErrors(plan.plans)
  return {
    environment: plan.environment,
    changes: planTotals(plan.plans).changes,
    /** Requests made to read the destinations. */
    requests: plan.targets.requests,
    warnings: plan.warnings,
    destinations: plan.plans.map((p) => ({
      id: p.destination.id,
      kind: p.destination.kind,
      label: p.destination.label,
      exists: p.exists,
      ...(p.error ? {unreadable: true} : {}),
      ...(p.error && !shared.has(p.error) ? {error: redact(p.error.message)} : {}),
      keys: p.keys,
    })),
    ...(shared.size > 0
      ? {
          errors: [...new Set(shared.values())].map((group) => ({
            kind: group[0].destination.kind,
            ...asEnvsyncError(group[0].error).toJSON(),
            destinations: group.map((p) => p.destination.id),
          })),
        }
      : {}),
  }
}

/**
 * The push report for --json: a destination that could not be read carries no error of its own
 * there: the plan beside it in the envelope has it (in `errors` when shared), once.
 */
export function reportJson(report: SyncReport, plan: SyncPlan) {
  const unread = new Set(plan.plans.filter((p) => p.error).map((p) => p.destination.id))
  return {...report, destinations: report.destinations.map(({error, ...d}) => (unread.has(d.id) ? {...d, unreadable: true} : {...d, error}))}
}
