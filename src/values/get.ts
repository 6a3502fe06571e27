import {EnvsyncError, ExitCode} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {valueOf} from '../manifest/resolve.js'
import type {Secret} from '../secret.js'
import {applicableKey} from './key.js'
import {readStore} from './store.js'

export interface GotValue {
  environment: string
  key: string
  value: Secret
  /** Where it came from: the store, or the manifest default (non-sensitive config). */
  source: 'store' | 'default'
  file: string
}

/** One key's effective value (store, else manifest default); none is an error saying how to set it. */
export async function getValue(manifest: Manifest, env: string, key: string): Promise<GotValue> {
  const spec = applicableKey(manifest, env, key)
  const store = await readStore(manifest, env)
  const value = valueOf(spec, store)
  if (!value) {
    throw new EnvsyncError(`${key} has no value in ${store.display}`, {
      code: 'NO_VALUE',
      exitCode: ExitCode.failed,
      suggestion: spec.generate ? `run \`envsync set ${env} ${key} --generate\` (or \`envsync generate ${env}\`)` : `run \`envsync set ${env} ${key}\` to type or pipe one`,
    })
  }
  return {environment: env, key, value, source: store.values.has(key) ? 'store' : 'default', file: store.display}
}
