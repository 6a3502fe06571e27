import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {displayPath} from '../paths.js'
import {readInputFile} from './input-file.js'
import {issuesToProblems} from './issues.js'
import {Manifest} from './manifest.js'
import {refuseSharedDestinations} from './resolve.js'
import {ManifestSchema} from './schema.js'
import {protoKeyProblems, validateReferences} from './validate.js'
import {YamlSource} from './yaml-source.js'

export const DEFAULT_MANIFEST = 'envsync.yaml'

/** --manifest, else $ENVSYNC_MANIFEST, else ./envsync.yaml. */
export function manifestPath(flag?: string): string {
  return path.resolve(flag ?? process.env.ENVSYNC_MANIFEST ?? DEFAULT_MANIFEST)
}

/** Reads, parses and validates a manifest; every problem is reported at file:line:col. */
export function loadManifest(file: string): Manifest {
  const display = displayPath(file)
  const read = readInputFile(file, 'manifest')
  if (!read) {
    throw new EnvsyncError(`no manifest at ${display}`, {
      code: 'MANIFEST_NOT_FOUND',
      location: {file: display},
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
