import {EnvsyncError} from '../errors.js'
import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {didYouMean} from '../manifest/suggest.js'
import type {Secret} from '../secret.js'
import {SyncState} from '../sync/state.js'
import {fingerprintKeyOf, type ValuesFile} from './store.js'

/**
 * The manifest entry of a key named on the command line, for one environment: an unknown key is
 * an error with a did-you-mean, a key of other environments says which ones.
 */
export function applicableKey(manifest: Manifest, env: string, key: string): SecretDef {
  const applicable = manifest.secretsFor(env) // throws UNKNOWN_ENVIRONMENT with a suggestion
  const spec = applicable.find((s) => s.key === key)
  if (spec) return spec
  const known = manifest.secret(key)
  if (known) throw new EnvsyncError(`${key} does not apply to ${env} (only to ${known.environments?.join(', ')})`, {code: 'UNKNOWN_KEY', suggestion: `add ${env} to its environments in the manifest`})
  throw new EnvsyncError(`unknown key ${key}`, {
    code: 'UNKNOWN_KEY',
    suggestion: didYouMean(key, applicable.map((s) => s.key)) ?? `keys of ${env}: ${applicable.map((s) => s.key).join(', ') || 'none'}`,
  })
}

/** A value's fingerprint as diff and push show it: keyed by the store's key, else this checkout's. */
export function fingerprintOf(manifest: Manifest, store: ValuesFile, value: Secret): string {
  return value.fingerprint(fingerprintKeyOf(store) ?? new SyncState(manifest.dir).fingerprintKey())
}
