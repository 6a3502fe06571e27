import {readInputFile} from '../manifest/input-file.js'
import {manifestPath} from '../manifest/load.js'
import {YamlSource} from '../manifest/yaml-source.js'
import type {ManifestNames} from './complete.js'
import {manifestFlag} from './complete.js'

const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})

/**
 * The names a completion offers, from the manifest the command would read (--manifest/-m among
 * the words, ENVSYNC_MANIFEST, the nearest envsync.yaml up from here). Parsed, not validated: a Tab must answer at once,
 * and checking every key of a big manifest takes seconds. A missing or unparsable manifest offers none.
 */
export function manifestNames(words: readonly string[]): ManifestNames | undefined {
  try {
    const file = manifestPath(manifestFlag(words))
    const read = readInputFile(file, 'manifest')
    if (!read) return undefined
    const data = record(YamlSource.parse(file, read.bytes).data)
    const environments = Object.keys(record(data.environments))
    const secrets = Object.entries(record(data.secrets)).map(([key, spec]) => ({key, environments: record(spec).environments}))
    return {
      environments,
      services: Object.keys(record(data.services)),
      // Keys of the environment typed, when it is one (a key with `environments:` applies only to those); else every key.
      keys: (env) =>
        secrets.filter((s) => env === undefined || !environments.includes(env) || !Array.isArray(s.environments) || s.environments.includes(env)).map((s) => s.key),
    }
  } catch {
    return undefined
  }
}
