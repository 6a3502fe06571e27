import type {Secret} from '../secret.js'
import {WRITE_ONLY, type Change, type Destination, type LiveState} from '../targets/target.js'

/**
 * What happens to each key of a destination:
 * add / update / remove (envsync put it there and the manifest dropped it) / unchanged /
 * unmanaged (live, never ours: left alone unless --prune) / unknown (live but write-only) /
 * missing (in the manifest, no local value: left as it is live).
 */
export type KeyAction = 'add' | 'update' | 'remove' | 'unchanged' | 'unmanaged' | 'unknown' | 'missing'

export interface KeyPlan {
  key: string
  action: KeyAction
  /** Keyed fingerprints (never values): what we have, what is there. */
  local?: string
  live?: string
  /** A remove of a key envsync does not own (--prune). */
  pruned?: boolean
  /** 'missing' because its value is a placeholder, which is never pushed. */
  heldBack?: boolean
  /** Plain config (`sensitive: false`): the values themselves, redacted, beside the fingerprints. */
  localValue?: string
  liveValue?: string
  /** An update of a key other field managers hold (Kubernetes): push needs --force-conflicts. */
  conflict?: string[]
}

export interface DestinationPlan {
  destination: Destination
  exists: boolean
  keys: KeyPlan[]
  changes: Change[]
  desired: Map<string, Secret>
  /** Keys envsync owns here after the apply. */
  owned: Set<string>
  /** Fingerprints of what envsync will have pushed here after the apply (owned keys). */
  pushed: Map<string, string>
  live: LiveState
  /** The read failed: nothing is known, nothing will be written. */
  error?: Error
}

export interface PlanInput {
  destination: Destination
  desired: Map<string, Secret>
  manifestKeys: Set<string>
  live: LiveState
  /** Keys envsync put here before (from the platform or the local record). */
  owned: Set<string>
  /** Fingerprints of the values envsync last pushed (local record), for write-only live values. */
  pushed?: Map<string, string>
  prune: boolean
  /** Only these keys (push --only); undefined: all. */
  only?: Set<string>
  /** Keys left out of desired because their value is a placeholder. */
  heldBack?: Set<string>
  fingerprint: (s: Secret) => string
  /** The text a plan may show of a key's value (plain config); undefined: a fingerprint only. */
  shown?: (key: string, value: Secret) => string | undefined
}

/** Pure: desired + live + ownership → per-key actions and the changes to apply. */
export function planDestination(input: PlanInput): DestinationPlan {
  const {destination, desired, manifestKeys, live, owned, prune, only, fingerprint, pushed, heldBack, shown} = input
  const keys: KeyPlan[] = []
  const changes: Change[] = []
  const inScope = (k: string) => !only || only.has(k)

  for (const key of [...manifestKeys].sort()) {
    if (!inScope(key)) continue
    const want = desired.get(key)
    const copies = live.copies?.get(key)
    // Copies that disagree: the one that differs from the local value is what push changes.
    const have = copies?.find((c) => !want || !c.value.equals(want))?.value ?? live.values.get(key)
    const liveFp = have === undefined ? undefined : have === WRITE_ONLY ? 'write-only' : fingerprint(have)
    const liveValue = have === undefined || have === WRITE_ONLY ? undefined : shown?.(key, have)
    if (!want) {
      keys.push({key, action: 'missing', live: liveFp, ...values(undefined, liveValue), ...(heldBack?.has(key) ? {heldBack: true} : {})})
      continue
    }
    const local = fingerprint(want)
    const both = values(shown?.(key, want), liveValue)
    if (have === undefined) {
      keys.push({key, action: 'add', local, ...both})
      changes.push({key, action: 'add', value: want})
    } else if (have === WRITE_ONLY) {
      // Unreadable live value: rewrite it only if the local value changed since envsync pushed it.
      // One envsync owns with no usable fingerprint (another key's, or two a merge kept) is
      // written once more and recorded; one it never wrote is someone else's: left as it is.
      const last = pushed?.get(key)
      if (last === undefined && !owned.has(key)) keys.push({key, action: 'unknown', local, live: liveFp, ...both})
      else if (last === local) keys.push({key, action: 'unchanged', local, live: liveFp, ...both})
      else {
        keys.push({key, action: 'update', local, live: liveFp, ...both})
        changes.push({key, action: 'update', value: want})
      }
    } else if (have.equals(want) && !copies) {
      keys.push({key, action: 'unchanged', local, live: liveFp, ...both})
    } else {
      const conflict = live.conflicts?.get(key)
      keys.push({key, action: 'update', local, live: liveFp, ...both, ...(conflict ? {conflict} : {})})
      changes.push({key, action: 'update', value: want})
    }
  }
  for (const [key, have] of [...live.values].sort(([a], [b]) => a.localeCompare(b))) {
    if (manifestKeys.has(key) || !inScope(key)) continue
    const liveFp = have === WRITE_ONLY ? 'write-only' : fingerprint(have)
    if (owned.has(key) || prune) {
      keys.push({key, action: 'remove', live: liveFp, ...(owned.has(key) ? {} : {pruned: true})})
      changes.push({key, action: 'remove'})
    } else {
      keys.push({key, action: 'unmanaged', live: liveFp})
    }
  }
  // After the apply envsync owns what it wrote or left in place from the manifest, minus removals;
  // keys outside the scope (-s, --only) keep their previous ownership exactly.
  // A write-only value envsync did not write ('unknown': a sealed variable someone else set)
  // keeps the ownership and fingerprint it had: recording it as pushed would make the next diff
  // call it unchanged while the platform holds another value. So does a key with no local value
  // ('missing': left as it is live, still envsync's). An owned key in scope that is neither in
  // the manifest nor live is gone: forgotten.
  const kept = new Set(keys.filter((p) => p.action === 'unknown' || p.action === 'missing').map((p) => p.key))
  const after = new Set([...owned].filter((k) => !only || !only.has(k) || kept.has(k)))
  const settled = new Set<string>()
  for (const k of keys) {
    if (k.action === 'add' || k.action === 'update' || k.action === 'unchanged') {
      after.add(k.key)
      settled.add(k.key)
    }
    if (k.action === 'remove') after.delete(k.key)
  }
  const desiredAfter = new Map([...desired].filter(([k]) => after.has(k)))
  const pushedAfter = new Map([...(pushed ?? [])].filter(([k]) => after.has(k)))
  for (const [k, v] of desiredAfter) if (settled.has(k)) pushedAfter.set(k, fingerprint(v))
  return {destination, exists: live.exists, keys, changes, desired: desiredAfter, owned: after, pushed: pushedAfter, live}
}

/** The shown values of a key, only the sides there are. */
function values(localValue: string | undefined, liveValue: string | undefined): Pick<KeyPlan, 'localValue' | 'liveValue'> {
  return {...(localValue === undefined ? {} : {localValue}), ...(liveValue === undefined ? {} : {liveValue})}
}

export function countActions(plan: DestinationPlan): Record<KeyAction, number> {
  const counts: Record<KeyAction, number> = {add: 0, update: 0, remove: 0, unchanged: 0, unmanaged: 0, unknown: 0, missing: 0}
  for (const k of plan.keys) counts[k.action]++
  return counts
}

/** A whole plan in numbers: changes, destinations with changes, destinations that could not be read. */
export function planTotals(plans: DestinationPlan[]): {changes: number; changed: number; unreadable: number} {
  return {
    changes: plans.reduce((n, p) => n + p.changes.length, 0),
    changed: plans.filter((p) => p.changes.length > 0).length,
    unreadable: plans.filter((p) => p.error).length,
  }
}
