import type {z} from 'zod'

import {formatPath, type Problem} from '../errors.js'
import {ManifestSchema} from './schema.js'
import {didYouMean} from './suggest.js'
import type {YamlSource} from './yaml-source.js'

type Path = (string | number)[]
type Issue = z.core.$ZodIssue

/** zod issues → problems a person can act on, each at its file:line:col. */
export function issuesToProblems(issues: readonly Issue[], source: YamlSource): Problem[] {
  const problems: Problem[] = []
  for (const issue of issues) collect(issue, [], source, problems)
  // An unknown key is usually the cause of a "required" problem beside it (`enviroments:`), so
  // it comes first: the headline then names the misspelling, at its line, with a "did you mean".
  const unknown = (p: Problem) => p.message.startsWith('unknown key ')
  return [...problems.filter(unknown), ...problems.filter((p) => !unknown(p))]
}

function collect(issue: Issue, prefix: Path, source: YamlSource, out: Problem[]): void {
  const path = [...prefix, ...(issue.path as Path)]
  const field = formatPath(path) || 'the manifest'
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path)
      for (const key of issue.keys) {
        out.push({
          message: `unknown key "${key}" in ${field}`,
          path: [...path, key],
          location: source.locate([...path, key], {key: true}),
          suggestion: didYouMean(key, known) ?? (known.length > 0 ? `allowed here: ${known.join(', ')}` : undefined),
        })
      }
      return
    }
    case 'invalid_union': {
      const branch = pickBranch(issue.errors as Issue[][])
      if (branch) {
        for (const sub of branch) collect(sub, path, source, out)
        return
      }
      out.push({message: `${field} has the wrong shape: ${describeUnion(path)}`, path, location: source.locate(path)})
      return
    }
    case 'invalid_key': {
      const key = String(path[path.length - 1])
      const reason = (issue.issues as Issue[])[0]?.message ?? 'invalid name'
      out.push({message: `invalid name "${key}" in ${formatPath(path.slice(0, -1))}: ${reason}`, path, location: source.locate(path, {key: true})})
      return
    }
    case 'invalid_type': {
      const missing = (issue as {input?: unknown}).input === undefined && issue.message.includes('received undefined')
      out.push(
        missing
          ? {message: `${field} is required`, path, location: source.locate(path.slice(0, -1), {key: true}), suggestion: `add "${path[path.length - 1]}:"`}
          : {message: `${field} must be ${article(issue.expected)}`, path, location: source.locate(path)},
      )
      return
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v))
      const actual = valueAt(source, path)
      out.push({
        message: `${field} must be one of ${allowed.join(', ')}`,
        path,
        location: source.locate(path),
        suggestion: typeof actual === 'string' ? didYouMean(actual, issue.values.map(String)) : undefined,
      })
      return
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum
      const what = issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : ''
      const rel = issue.code === 'too_small' ? 'at least' : 'at most'
      out.push({message: `${field} needs ${rel} ${String(bound)}${what ? ` ${what}` : ''}`, path, location: source.locate(path)})
      return
    }
    default:
      out.push({message: `${field}: ${issue.message}`, path, location: source.locate(path)})
  }
}

/** The union branch the author most likely meant: the right type, fewest problems. */
function pickBranch(branches: Issue[][]): Issue[] | undefined {
  const typed = branches.filter((b) => !b.some((i) => i.code === 'invalid_type' && i.path.length === 0))
  if (typed.length === 0) return undefined
  if (typed.length === 1) return typed[0]
  // Several plausible shapes (e.g. a rule with a misspelled key): report the unknown keys, the
  // one thing all branches agree on, else the branch with the fewest problems.
  const unknown = typed[0].filter((i) => i.code === 'unrecognized_keys' && typed.every((b) => b.some((j) => j.code === i.code && formatPath(j.path as Path) === formatPath(i.path as Path))))
  if (unknown.length > 0) return unknown
  return [...typed].sort((a, b) => a.length - b.length)[0]
}

function article(expected: string): string {
  if (expected === 'object' || expected === 'record') return 'a mapping (key: value)'
  if (expected === 'array') return 'a list'
  if (expected === 'int') return 'a whole number'
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`
}

function valueAt(source: YamlSource, path: Path): unknown {
  const node = source.doc.getIn(path)
  return node
}

// --- walking the zod schema to find which keys are allowed at a path -----------------------

type AnySchema = {_zod: {def: Record<string, unknown> & {type: string}}}

function defOf(s: unknown): AnySchema['_zod']['def'] {
  return (s as AnySchema)._zod.def
}

function unwrap(s: unknown): unknown[] {
  const def = defOf(s)
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'prefault':
    case 'readonly':
      return unwrap(def.innerType)
    case 'pipe':
      return unwrap(def.in)
    case 'union':
      return (def.options as unknown[]).flatMap((o) => unwrap(o))
    default:
      return [s]
  }
}

function schemasAt(path: Path): unknown[] {
  let current: unknown[] = [ManifestSchema]
  for (const part of path) {
    const next: unknown[] = []
    for (const s of current.flatMap((c) => unwrap(c))) {
      const def = defOf(s)
      if (def.type === 'object') {
        const shape = def.shape as Record<string, unknown>
        if (typeof part === 'string' && shape[part]) next.push(shape[part])
      } else if (def.type === 'record') next.push(def.valueType)
      else if (def.type === 'array' && typeof part === 'number') next.push(def.element)
    }
    current = next
  }
  return current.flatMap((c) => unwrap(c))
}

export function knownKeys(path: Path): string[] {
  const keys = new Set<string>()
  for (const s of schemasAt(path)) {
    const def = defOf(s)
    if (def.type === 'object') for (const k of Object.keys(def.shape as object)) if (k !== '$schema') keys.add(k)
  }
  return [...keys]
}

function describeUnion(path: Path): string {
  const kinds = new Set<string>()
  for (const s of schemasAt(path)) {
    const def = defOf(s)
    if (def.type === 'object') kinds.add(`a mapping with ${Object.keys(def.shape as object).slice(0, 2).join('/')}`)
    else if (def.type === 'enum') kinds.add(`one of ${Object.keys(def.entries as object).join(', ')}`)
    else kinds.add(`a ${def.type}`)
  }
  return `expected ${[...kinds].join(', or ')}`
}
