import {EnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {didYouMean} from '../manifest/suggest.js'
import {readStore, writeStore, type ValuesFile} from './store.js'

export interface UnsetPlan {
  environment: string
  store: ValuesFile
  /** Keys with a value in the store: removed. */
  remove: string[]
  /** Keys named that have no value there: nothing to do. */
  absent: string[]
  /** Removed keys the manifest requires: check fails until they have a value again. */
  required: string[]
}

export interface UnsetResult {
  environment: string
  file: string
  removed: string[]
  absent: string[]
  required: string[]
}

/**
 * Which keys `unset` removes. A key of the environment, or one the store holds that the manifest
 * no longer lists (check's leftover): anything else is a typo, answered with a did-you-mean.
 */
export async function planUnset(manifest: Manifest, env: string, keys: string[]): Promise<UnsetPlan> {
  const applicable = manifest.secretsFor(env).map((s) => s.key)
  const store = await readStore(manifest, env)
  const known = [...new Set([...applicable, ...store.values.keys()])]
  for (const key of keys) {
    if (known.includes(key)) continue
    const elsewhere = manifest.secret(key)
    throw new EnvsyncError(elsewhere ? `${key} does not apply to ${env} and is not in ${store.display}` : `unknown key ${key}`, {
      code: 'UNKNOWN_KEY',
      suggestion: elsewhere ? `it applies only to ${elsewhere.environments?.join(', ')}` : (didYouMean(key, known) ?? `keys of ${env}: ${known.join(', ') || 'none'}`),
    })
  }
  const unique = [...new Set(keys)]
  const remove = unique.filter((k) => store.values.has(k))
  return {
    environment: env,
    store,
    remove,
    absent: unique.filter((k) => !store.values.has(k)),
    required: remove.filter((k) => {
      const spec = manifest.secret(k)
      return spec !== undefined && spec.required && spec.default === undefined && manifest.appliesTo(spec, env)
    }),
  }
}

/** Removes the keys in one atomic write through the store. */
export async function applyUnset(plan: UnsetPlan): Promise<UnsetResult> {
  if (plan.remove.length > 0) await writeStore(plan.store, new Map(plan.remove.map((k) => [k, null])), {action: 'unset'})
  return {environment: plan.environment, file: plan.store.display, removed: plan.remove, absent: plan.absent, required: plan.required}
}
