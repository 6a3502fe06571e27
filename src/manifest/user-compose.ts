import {createRequire} from 'node:module'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {displayPath} from '../paths.js'
import {readInputFile} from './input-file.js'

/** The files Compose reads from a project directory, in its order of preference. */
export const USER_COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml']

/**
 * The project's own compose file beside the manifest and the services it defines, or undefined
 * when there is none. envsync's override must name only those: Compose refuses to merge a
 * service that has no image or build. `override` (envsync's own file) is never taken for it.
 * Read bounded (8 MiB, regular files only) with the `yaml` package, which keeps Compose's own
 * tags (!reset, !override) and says where a syntax error is.
 */
export function userComposeServices(dir: string, override: string): {file: string; services: string[]} | undefined {
  for (const name of USER_COMPOSE_FILES) {
    const file = path.join(dir, name)
    if (file === override) continue
    const read = readInputFile(file, 'compose file')
    if (read) return {file, services: servicesOf(displayPath(file), read.bytes.toString('utf8'))}
  }
  return undefined
}

function servicesOf(display: string, text: string): string[] {
  const {isMap, isScalar, LineCounter, parseDocument} = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  const lines = new LineCounter()
  const fix = `fix ${display} (\`docker compose config\` says the same): envsync reads it to know which services the override may name`
  // merge: Compose resolves `<<: *base` (and lists of aliases) as YAML 1.1 merge keys, and aliases.
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: true, uniqueKeys: false, merge: true})
  const [error] = doc.errors
  if (error) {
    throw new EnvsyncError(`${display} is not valid YAML: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`, {
      code: 'COMPOSE_YAML',
      location: {file: display, line: error.linePos?.[0].line, column: error.linePos?.[0].col},
      suggestion: fix,
    })
  }
  let services: unknown
  try {
    // Bounded like Compose's own reader: an alias bomb is refused, not expanded.
    const data = doc.toJS({maxAliasCount: 1000}) as unknown
    services = typeof data === 'object' && data !== null && Object.hasOwn(data, 'services') ? (data as Record<string, unknown>).services : undefined
  } catch (error) {
    throw new EnvsyncError(`${display} cannot be read: ${(error as Error).message}`, {
      code: 'COMPOSE_YAML',
      location: {file: display},
      suggestion: fix,
    })
  }
  if (typeof services !== 'object' || services === null || Array.isArray(services)) {
    const at = isMap(doc.contents) ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'services')?.key : undefined
    const pos = lines.linePos((at as {range?: number[]} | undefined)?.range?.[0] ?? 0)
    throw new EnvsyncError(`${display} has no services: mapping`, {
      code: 'COMPOSE_NO_SERVICES',
      location: {file: display, line: pos.line, column: pos.col},
      suggestion: 'define the services there (services: {backend: {image: …}}), or name them in the docker target: `services: [backend]`',
    })
  }
  return Object.keys(services)
}
