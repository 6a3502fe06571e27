import {EnvsyncError} from '../errors.js'
import {planTotals} from '../sync/plan.js'
import type {SyncPlan, SyncReport} from '../sync/sync.js'
import {sharedErrors} from './render-plan.js'

/**
 * The plan as --json prints it: actions and fingerprints per key, never values. An error several
 * destinations share (a broken kubeconfig) is in `errors` once, with their ids; a destination's
 * own read error stays in its `error`.
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
      ...(p.error && !shared.has(p.error) ? {error: p.error.message} : {}),
      keys: p.keys,
    })),
    ...(shared.size > 0
      ? {
          errors: [...shared].map(([error, group]) => ({
            kind: group[0].destination.kind,
            ...(error instanceof EnvsyncError ? error.toJSON() : {message: error.message}),
            destinations: group.map((p) => p.destination.id),
          })),
        }
      : {}),
  }
}

/** The push report for --json: a destination stopped by a shared error refers to the plan's `errors`. */
export function reportJson(report: SyncReport, plan: SyncPlan) {
  const shared = new Set([...sharedErrors(plan.plans).values()].flat().map((p) => p.destination.id))
  return {...report, destinations: report.destinations.map(({error, ...d}) => (shared.has(d.id) ? {...d, unreadable: true} : {...d, error}))}
}
