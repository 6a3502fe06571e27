import type {Manifest} from '../manifest/manifest.js'
import {redactValue} from '../redact.js'
import type {Secret} from '../secret.js'
import {WRITE_ONLY, type LiveState} from '../targets/target.js'
import type {ValuesFile} from '../values/store.js'

/**
 * What a plan may show of plain config (`sensitive: false`): its values, so `info → debug` reads
 * as such. Secrets stay fingerprints, and so does a plain value that is also a secret's value
 * (here, in the values file or live in the same destination): showing it would print the secret.
 * A secret inside a longer plain value, or a credential-looking part, is redacted as everywhere.
 */
export function plainValues(manifest: Manifest, env: string, store: ValuesFile): (live: LiveState) => (key: string, value: Secret) => string | undefined {
  const plain = new Set(manifest.secretsFor(env).filter((s) => !s.sensitive).map((s) => s.key))
  // Every stored value but plain config's is a secret's (a key the manifest lacks included).
  const secrets = new Set([...store.values].filter(([k]) => !plain.has(k)).map(([, v]) => v.reveal()))
  for (const s of manifest.secretsFor(env)) if (s.sensitive) for (const v of Object.values(s.targets ?? {})) if (typeof v === 'string') secrets.add(v)
  return (live) => {
    const here = new Set(secrets)
    for (const [k, v] of live.values) if (!plain.has(k) && v !== WRITE_ONLY) here.add(v.reveal())
    here.delete('') // an empty value shows nothing of anyone's
    return (key, value) => {
      if (!plain.has(key) || !value.isText) return undefined
      const text = value.reveal()
      return here.has(text) ? undefined : redactValue(text, new Set([text]))
    }
  }
}
