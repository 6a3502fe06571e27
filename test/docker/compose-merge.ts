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
