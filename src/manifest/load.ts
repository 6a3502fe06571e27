import {existsSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {displayPath, setProjectRoot, shellPath} from '../paths.js'
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
 * the top of the git work tree it starts in (a manifest above it belongs to another project), at
 * $HOME when it starts inside it (nothing above a home directory is yours), and at the filesystem
 * root. A manifest found this way is used only when it is safe (see refuseUnsafe): it decides what
 * commands run with. Found nowhere: ./envsync.yaml, which loadManifest reports as missing.
 */
export function manifestPath(flag?: string): string {
  const given = flag ?? process.env.ENVSYNC_MANIFEST
  if (given !== undefined) return path.resolve(given)
  const start = process.cwd()
  const home = homedir()
  const inHome = home !== '' && (start === home || start.startsWith(home + path.sep))
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, DEFAULT_MANIFEST)
    if (existsSync(candidate)) {
      refuseUnsafe(candidate)
      if (dir !== start) setProjectRoot(dir)
      return candidate
    }
    if (existsSync(path.join(dir, '.git')) || path.dirname(dir) === dir || (inHome && dir === home)) {
      const fallback = path.join(start, DEFAULT_MANIFEST)
      if (dir !== start) searched.set(fallback, dir)
      return fallback
    }
  }
}

/**
 * As git's safe.directory: a discovered manifest (not one named with --manifest) must be owned by
 * the current user — root included, since a planted file would run as root — and must sit in a
 * directory that others cannot write (world-writable is fine only with the sticky bit, as /tmp,
 * where others cannot replace a file they do not own). Otherwise anyone with write access to a
 * parent directory chooses what `envsync run` starts.
 */
function refuseUnsafe(file: string): void {
  const uid = process.getuid?.()
  if (uid === undefined) return
  const st = statSync(file)
  const dir = statSync(path.dirname(file))
  const reason =
    st.uid !== uid
      ? `it is owned by another user (uid ${st.uid})`
      : (dir.mode & 0o002) !== 0 && (dir.mode & 0o1000) === 0
        ? `its directory ${path.dirname(file)} can be written by anyone`
        : undefined
  if (reason === undefined) return
  throw new EnvsyncError(`found ${file} but did not use it: ${reason}`, {
    code: 'MANIFEST_UNSAFE',
    location: {file},
    suggestion: `use it on purpose with \`--manifest ${shellPath(file)}\` (or ENVSYNC_MANIFEST) if you trust it, or run envsync from inside your project`,
  })
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
