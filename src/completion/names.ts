import {loadManifest, manifestPath} from '../manifest/load.js'
import type {ManifestNames} from './complete.js'
import {manifestFlag} from './complete.js'

/**
 * The names a completion offers, from the manifest the command would read (--manifest/-m among
 * the words, ENVSYNC_MANIFEST, ./envsync.yaml). A missing or broken manifest offers none.
 */
export function manifestNames(words: readonly string[]): ManifestNames | undefined {
  try {
    const m = loadManifest(manifestPath(manifestFlag(words)))
    return {
      environments: m.environmentNames,
      services: m.serviceNames,
      // Keys of the environment typed, when it is one; else every key.
      keys: (env) => (env !== undefined && m.environmentNames.includes(env) ? m.secretsFor(env) : m.secrets).map((s) => s.key),
    }
  } catch {
    return undefined
  }
}
