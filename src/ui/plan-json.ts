import {planTotals} from '../sync/plan.js'
import type {SyncPlan} from '../sync/sync.js'

/** The plan as --json prints it: actions and fingerprints per key, never values. */
export function planJson(plan: SyncPlan) {
  return {
    environment: plan.environment,
    changes: planTotals(plan.plans).changes,
    /** Requests made to read the destinations. */
    requests: plan.targets.requests,
    destinations: plan.plans.map((p) => ({
      id: p.destination.id,
      kind: p.destination.kind,
      label: p.destination.label,
      exists: p.exists,
      ...(p.error ? {error: p.error.message} : {}),
      keys: p.keys,
    })),
  }
}
