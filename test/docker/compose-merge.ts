/**
 * A small model of how `docker compose -f base.yml -f override.yml` combines two files
 * (https://docs.docker.com/reference/compose-file/merge/), enough to check that envsync's
 * override combines with a user's own compose file:
 * - mappings are merged key by key (services by name, top-level secrets by name), the later
 *   file winning for scalars;
 * - `environment` and `labels` may be a list (KEY=VALUE) or a mapping: merged in mapping form;
 * - `command`, `entrypoint` and `healthcheck.test` are replaced, not appended;
 * - other sequences are appended; entries that name the same thing are merged, the later one
 *   winning: `secrets`/`configs` by source, `volumes` by target, `env_file` by path, `ports`
 *   and the rest by value.
 * Relative paths are left as written: Compose resolves them from the first file's directory.
 */

import {spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'

type Yaml = unknown
type Mapping = Record<string, Yaml>

const isMapping = (v: Yaml): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v)

const REPLACED = new Set(['command', 'entrypoint', 'test'])
const LIST_OR_DICT = new Set(['environment', 'labels', 'annotations', 'sysctls', 'extra_hosts'])

/** KEY=VALUE list → mapping; a bare KEY means "taken from the shell", kept as null. */
function toMapping(v: Yaml): Mapping {
  if (isMapping(v)) return v
  if (!Array.isArray(v)) return {}
  return Object.fromEntries(
    v.map((item) => {
      const s = String(item)
      const eq = s.indexOf('=')
      return eq === -1 ? [s, null] : [s.slice(0, eq), s.slice(eq + 1)]
    }),
  )
}

/** What a sequence entry is about, so a later entry about the same thing replaces it. */
function identity(parent: string, item: Yaml): string {
  if ((parent === 'secrets' || parent === 'configs') && (typeof item === 'string' || isMapping(item))) {
    return `source:${typeof item === 'string' ? item : String(item.source)}`
  }
  if (parent === 'volumes' && typeof item === 'string') return `target:${item.split(':')[1] ?? item}`
  if (parent === 'volumes' && isMapping(item)) return `target:${String(item.target)}`
  if (parent === 'env_file') return `path:${typeof item === 'string' ? item : isMapping(item) ? String(item.path) : ''}`
  return `value:${JSON.stringify(item)}`
}

function mergeValue(key: string, base: Yaml, over: Yaml): Yaml {
  if (over === undefined) return base
  if (base === undefined) return over
  if (REPLACED.has(key)) return over
  if (LIST_OR_DICT.has(key)) return {...toMapping(base), ...toMapping(over)}
  if (key === 'env_file' || Array.isArray(base) || Array.isArray(over)) {
    const list = (v: Yaml) => (Array.isArray(v) ? v : [v])
    const merged = new Map<string, Yaml>()
    for (const item of [...list(base), ...list(over)]) {
      const id = identity(key, item)
      const before = merged.get(id)
      merged.set(id, isMapping(before) && isMapping(item) ? mergeMapping(before, item) : item)
    }
    return [...merged.values()]
  }
  if (isMapping(base) && isMapping(over)) return mergeMapping(base, over)
  return over
}

function mergeMapping(base: Mapping, over: Mapping): Mapping {
  const out: Mapping = {...base}
  for (const [k, v] of Object.entries(over)) out[k] = mergeValue(k, base[k], v)
  return out
}

/** The combined model of several compose documents, in `-f` order. */
export function mergeCompose(...docs: Yaml[]): Mapping {
  return docs.filter(isMapping).reduce<Mapping>((acc, doc) => mergeMapping(acc, doc), {})
}

/** The compose CLI on this machine, for the secondary check: v2 (`docker compose`) or v1 (`docker-compose`, Debian's 1.29). */
export interface ComposeCli {
  argv: string[]
  major: number
}

export function findComposeCli(): ComposeCli | undefined {
  for (const argv of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(argv[0], [...argv.slice(1), 'version', '--short'], {encoding: 'utf8', timeout: 10_000})
    const major = r.status === 0 ? Number(/^v?(\d+)\./.exec(r.stdout.trim())?.[1]) : NaN
    if (major >= 1) return {argv, major}
  }
  return undefined
}

/**
 * `compose -f a -f b config` in `dir`. Compose v1 predates the top-level `name:` (added to the
 * Compose Specification in 2022) and rejects it: for v1 the name moves to `-p NAME`, and a file
 * that has one is given as a copy without it, beside the original so relative paths still resolve.
 */
export function composeConfig(cli: ComposeCli, dir: string, files: string[]): SpawnSyncReturns<string> {
  let project: string | undefined
  const given = files.map((file) => {
    if (cli.major >= 2) return file
    const doc = parseYaml(readFileSync(path.join(dir, file), 'utf8')) as Yaml
    if (!isMapping(doc) || doc.name === undefined) return file
    project = String(doc.name)
    const {name: _, ...rest} = doc
    const copy = `${path.basename(file, path.extname(file))}.compose-v1${path.extname(file)}`
    writeFileSync(path.join(dir, copy), stringifyYaml(rest))
    return copy
  })
  const args = [...cli.argv.slice(1), ...(project ? ['-p', project] : []), ...given.flatMap((f) => ['-f', f]), 'config']
  return spawnSync(cli.argv[0], args, {cwd: dir, encoding: 'utf8', timeout: 30_000})
}
