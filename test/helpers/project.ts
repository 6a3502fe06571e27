import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

/** A temporary project directory with a manifest and values files, removed by cleanup(). */
export class TempProject {
  readonly dir: string

  constructor(prefix = 'envsync-test-') {
    this.dir = mkdtempSync(path.join(tmpdir(), prefix))
  }

  path(name: string): string {
    return path.join(this.dir, name)
  }

  write(name: string, content: string | Buffer, mode = 0o600): string {
    const file = this.path(name)
    writeFileSync(file, content, {mode})
    return file
  }

  get manifest(): string {
    return this.path('envsync.yaml')
  }

  /** envsync's committed records (change history, ownership), for leak checks: keys and fingerprints only. */
  syncRecords(): string[] {
    return ['history.jsonl', 'ownership.tsv', '.gitignore', '.gitattributes'].map((f) => {
      try {
        return readFileSync(this.path(`.envsync/${f}`), 'utf8')
      } catch {
        return ''
      }
    })
  }

  cleanup(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }
}

/** A small valid manifest for tests; extra YAML is appended under `secrets:`. */
export function smallManifest(extraSecrets = ''): string {
  return `version: 1
project: shop
services:
  backend: {}
  frontend: {public: true}
environments:
  development: {}
  production: {}
secrets:
  JWT_SECRET:
    services: [backend]
    generate: base64:48
  DATABASE_URL:
    services: [backend]
    format: postgres-url
  VITE_API_URL:
    services: [frontend]
    sensitive: false
    format: url
    default: http://localhost:3000
${extraSecrets}`
}

/**
 * .envsync/ownership.tsv of a project directory as {destination: {keys, pushed}} (fingerprints
 * by key; a key whose fingerprint is unknown has none), {} when there is none.
 */
export function ownershipRecords(dir: string): Record<string, {keys: string[]; pushed: Record<string, string>}> {
  let text: string
  try {
    text = readFileSync(path.join(dir, '.envsync/ownership.tsv'), 'utf8')
  } catch {
    return {}
  }
  const out: Record<string, {keys: string[]; pushed: Record<string, string>}> = {}
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const [id, key, , fp] = line.split('\t')
    out[id] ??= {keys: [], pushed: {}}
    out[id].keys.push(key)
    if (fp !== '-') out[id].pushed[key] = fp
  }
  return out
}
