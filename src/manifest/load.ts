import {existsSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {displayPath, setProjectRoot} from '../paths.js'
import {readInputFile} from './input-file.js'
import {issuesToProblems} from './issues.js'
import {Manifest} from './manifest.js'
import {refuseSharedDestinations} from './resolve.js'
import {ManifestSchema} from './schema.js'
import {protoKeyProblems, validateReferences} from './validate.js'
import {YamlSource} from './yaml-source.js'

export const DEFAULT_MANIFEST = 'envsync.yaml'

/** Where discovery looked for a manifest it did not find: the default path → the top directory searched. */
const searched = new Map<string, string>()

/**
 * --manifest, else $ENVSYNC_MANIFEST, else the nearest envsync.yaml in the working directory or
 * its parents, as git finds .git — so every command works from a subdirectory. The walk stops at
 * the top of the git work tree it starts in (a manifest above it belongs to another project) and
 * at the filesystem root. Found nowhere: ./envsync.yaml, which loadManifest reports as missing.
 */
export function manifestPath(flag?: string): string {
  const given = flag ?? process.env.ENVSYNC_MANIFEST
  if (given !== undefined) return path.resolve(given)
  const start = process.cwd()
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, DEFAULT_MANIFEST)
    if (existsSync(candidate)) {
      if (dir !== start) setProjectRoot(dir)
      return candidate
    }
    if (existsSync(path.join(dir, '.git')) || path.dirname(dir) === dir) {
      const fallback = path.join(start, DEFAULT_MANIFEST)
      if (dir !== start) searched.set(fallback, dir)
      return fallback
    }
  }
}

/** Reads, parses and validates a manifest; every problem is reported at file:line:col. */
export function loadManifest(file: string): Manifest {
  const display = displayPath(file)
  const read = readInputFile(file, 'manifest')
  if (!read) {
    const top = searched.get(file)
    const where = top === undefined ? `manifest at ${display}` : `${DEFAULT_MANIFEST} in this directory or its parents (up to ${top})`
    throw new EnvsyncError(`no ${where}`, {
      code: 'MANIFEST_NOT_FOUND',
      location: top === undefined ? {file: display} : undefined,
      suggestion: 'Run `envsync init` to create one, or pass --manifest (or set ENVSYNC_MANIFEST).',
    })
  }
  return parseManifest(display, read.bytes, file)
}

export function parseManifest(display: string, bytes: Buffer, absolute = path.resolve(display)): Manifest {
  const source = YamlSource.parse(display, bytes)
  const reserved = protoKeyProblems(source.data, (p) => source.locate(p, {key: true}))
  if (reserved.length > 0) throw invalid(display, reserved)
  const parsed = ManifestSchema.safeParse(source.data)
  if (!parsed.success) {
    throw invalid(display, issuesToProblems(parsed.error.issues, source))
  }
  const manifest = new Manifest(absolute, parsed.data, (p, o) => source.locate(p, o))
  const problems = validateReferences(manifest)
  if (problems.length > 0) throw invalid(display, problems)
  // Two environments writing one place is wrong whatever the command: every command says so.
  refuseSharedDestinations(manifest)
  return manifest
}

function invalid(display: string, problems: EnvsyncError['problems']): EnvsyncError {
  const first = problems[0]
  const count = problems.length === 1 ? '' : ` (${problems.length} problems)`
  return new EnvsyncError(`${display} is not a valid manifest${count}: ${first.message}`, {
    code: 'MANIFEST_INVALID',
    location: first.location,
    path: first.path,
    suggestion: first.suggestion,
    problems,
  })
}
