/** `init --force`: the manifest being replaced is where the answers start. */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {asEnvsyncError, EnvsyncError} from '../errors.js'
import {loadManifest} from '../manifest/load.js'
import type {Manifest} from '../manifest/manifest.js'
import {YamlSource} from '../manifest/yaml-source.js'
import {displayPath} from '../paths.js'
import {clause} from '../words.js'
import {aborted, type Prompter} from '../ui/prompt.js'
import {MANIFEST_NAME} from './init.js'
import type {InitAnswers, RawManifest} from './scaffold.js'

/**
 * `init --force` starts from the manifest it replaces: its names are every default. A manifest
 * that does not load is never silently replaced: an error, or (asked) a start from scratch.
 */
export async function startingPoint(dir: string, p?: Prompter): Promise<InitAnswers | undefined> {
  const file = path.join(path.resolve(dir), MANIFEST_NAME)
  let manifest: Manifest
  let raw: RawManifest
  try {
    manifest = loadManifest(file)
    raw = YamlSource.parse(displayPath(file), readFileSync(file)).data as RawManifest
  } catch (error) {
    const e = asEnvsyncError(error)
    // An empty file holds no answers to keep: replacing it loses nothing (and is what its own error suggests).
    if (e.code === 'MANIFEST_EMPTY') return undefined
    if (!p) {
      throw new EnvsyncError(`init --force starts from ${displayPath(file)}, and it does not load: ${e.message}`, {
        code: e.code,
        location: e.location,
        suggestion: `${e.suggestion ? clause(e.suggestion) : 'fix it where shown'}, or remove it to start from scratch`,
      })
    }
    const fresh = await p.confirm({message: `${displayPath(file)} does not load (${e.message}). Start from scratch and replace it?`, default: false})
    if (!fresh) throw aborted()
    return undefined
  }
  const environments = manifest.environmentNames
  return {
    project: manifest.project,
    services: manifest.serviceNames.map((name) => ({name, public: manifest.isPublicService(name)})),
    environments,
    secrets: manifest.secrets.map((s) => s.key),
    targets: Object.fromEntries(environments.map((env) => [env, manifest.targetsOf(env)])),
    protected: environments.filter((env) => manifest.isProtected(env)),
    previous: raw,
  }
}

