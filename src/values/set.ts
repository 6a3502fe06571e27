import {runCheck} from '../check/check.js'
import type {Finding} from '../check/rules.js'
import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {Secret} from '../secret.js'
import {fingerprintOf} from './key.js'
import {writeStore, type ValuesFile} from './store.js'

export interface SetPlan {
  environment: string
  spec: SecretDef
  store: ValuesFile
  value: Secret
  /** The key had a value already. */
  replaced: boolean
  /** What check would say about the new value (this key's findings only). */
  findings: Finding[]
}

export interface SetResult {
  environment: string
  key: string
  file: string
  action: 'added' | 'replaced'
  /** The new value's fingerprint (as diff shows it), never the value. */
  fingerprint: string
  /** check's warnings about the value (and its errors, when --force wrote it anyway). */
  findings: Finding[]
}

/** File-level findings say nothing about the value being set. */
const NOT_ABOUT_THE_VALUE = new Set(['unknown-key', 'duplicate'])

/**
 * What check would say if the key had this value: the same rules as `envsync check` (placeholder,
 * length, format, entropy, reuse, weak…), run on the store with the value in place, in memory.
 */
export async function planSet(manifest: Manifest, env: string, spec: SecretDef, value: string, store: ValuesFile): Promise<SetPlan> {
  const secret = new Secret(value)
  const proposed: ValuesFile = {...store, values: new Map(store.values).set(spec.key, secret)}
  const findings = (await runCheck(manifest, env, proposed)).findings.filter((f) => f.key === spec.key && !NOT_ABOUT_THE_VALUE.has(f.rule))
  return {environment: env, spec, store, value: secret, replaced: hasValue(store, spec.key), findings}
}

/** The store has a (non-empty) value for the key: setting it replaces one. */
export function hasValue(store: ValuesFile, key: string): boolean {
  return store.values.get(key)?.isEmpty === false
}

/** Writes the one value through the store (atomic, every store kind). */
export async function applySet(manifest: Manifest, plan: SetPlan): Promise<SetResult> {
  await writeStore(plan.store, new Map([[plan.spec.key, plan.value.reveal()]]))
  return {
    environment: plan.environment,
    key: plan.spec.key,
    file: plan.store.display,
    action: plan.replaced ? 'replaced' : 'added',
    fingerprint: fingerprintOf(manifest, plan.store, plan.value),
    findings: plan.findings,
  }
}
