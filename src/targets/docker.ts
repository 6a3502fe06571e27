import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync} from 'node:fs'
import path from 'node:path'

import jsyaml from 'js-yaml'

import {EnvsyncError} from '../errors.js'
import {syncDir, writeFileAtomic, writeFileAtomicAsync} from '../files.js'
import {mapLimit} from '../pool.js'
import {Secret} from '../secret.js'
import {encodeOrThrow, envValues, parseEnv} from '../values/dotenv.js'
import type {ApplyInput, Destination, LiveState, Target} from './target.js'

/**
 * Docker: one directory per environment with a file per sensitive key (content byte-exact, no
 * added newline, mode fileMode), a `<service>.env` file per service for non-sensitive config, and
 * a compose override that mounts the files as secrets. What envsync owns is recorded in the
 * directory itself (OWNERSHIP_FILE), so another checkout sees the same.
 */
export interface DockerConfig {
  project: string
  dir: string
  fileMode: number
  composeFile: string
  /** Sensitive key → services that mount it. */
  secretKeys: Record<string, string[]>
  /** Non-sensitive key → services whose env file holds it. */
  configKeys: Record<string, string[]>
}

export const OWNERSHIP_FILE = '.envsync-owned.json'
const KEY_FILE = /^[A-Za-z_][A-Za-z0-9_]*$/
const ENV_FILE = /^([a-z0-9][a-z0-9-]*)\.env$/

/** Compose secret name for a key: lowercase, as images document them (/run/secrets/db_password). */
export const composeSecretName = (key: string) => key.toLowerCase()

export class DockerTarget implements Target<DockerConfig> {
  readonly kind = 'docker' as const
  requests = 0

  async read(dest: Destination<DockerConfig>): Promise<LiveState> {
    const c = dest.config
    const {dir, configKeys, secretKeys} = c
    this.requests++
    if (!existsSync(dir)) return {exists: false, values: new Map(), owned: new Set()}
    const values: LiveState['values'] = new Map()
    const envFiles = new Map<string, Map<string, string>>()
    const override = readOverride(c.composeFile)
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      if (!entry.isFile()) continue
      const file = path.join(dir, entry.name)
      if (KEY_FILE.test(entry.name)) {
        // A config key's value lives in the env files (this file is left from when it was sensitive).
        if (entry.name in configKeys) continue
        // A secret file the containers cannot use as the manifest says (wrong mode, not mounted
        // where it should be) is not live: push rewrites it and the override.
        if (entry.name in secretKeys && !secretDelivered(c, entry.name, file, override)) continue
        values.set(entry.name, new Secret(readFileSync(file, 'utf8')))
      } else if (ENV_FILE.test(entry.name)) {
        envFiles.set(ENV_FILE.exec(entry.name)![1], envValues(parseEnv(readFileSync(file, 'utf8'), file)))
      }
    }
    // A config key is live when every service that should have it has the same value (and the
    // override gives each of them its env file).
    for (const [key, services] of Object.entries(configKeys)) {
      const seen = services.map((s) => envFiles.get(s)?.get(key))
      const wired = services.every((s) => asList(override?.services?.[s]?.env_file).includes(rel(c.composeFile, envFile(c, s))))
      if (wired && seen.every((v) => v !== undefined && v === seen[0])) values.set(key, new Secret(seen[0]!))
    }
    // Keys in env files that the manifest no longer maps (removed), or never did (added by hand).
    // A sensitive key found in an env file is not its live value: push writes its file instead.
    for (const env of envFiles.values()) {
      for (const [key, v] of env) if (!(key in configKeys) && !(key in secretKeys) && !values.has(key)) values.set(key, new Secret(v))
    }
    return {exists: true, values, owned: readOwnership(dir)}
  }

  async apply(dest: Destination<DockerConfig>, input: ApplyInput): Promise<void> {
    const c = dest.config
    try {
      mkdirSync(c.dir, {recursive: true, mode: 0o700})
      chmodSync(c.dir, 0o700)
      // Ownership first as the union of before and after: an interrupted run never forgets a
      // file it may already have written. Narrowed to the final set at the end.
      writeOwnership(c.dir, new Set([...readOwnership(c.dir), ...input.owned]))
      const writes: {file: string; value: Buffer}[] = []
      for (const change of input.changes) {
        this.requests++
        const file = path.join(c.dir, change.key)
        if (change.key in c.configKeys) {
          // A key that was sensitive before: its old secret file goes (when envsync wrote it).
          if (input.live.owned?.has(change.key)) removeIfExists(file)
        } else if (change.action !== 'remove') {
          writes.push({file, value: Buffer.from(change.value!.reveal(), 'utf8')})
        } else {
          // A key gone from the manifest: its secret file, or its line in the env files.
          removeIfExists(file)
        }
      }
      // Each file atomic on its own; many at once so their fsyncs overlap and other targets'
      // requests are not held up behind a thousand synchronous writes.
      await mapLimit(writes, 16, (w) => writeFileAtomicAsync(w.file, w.value, c.fileMode))
      if (writes.length > 0) syncDir(c.dir)
      writeEnvFiles(c, input.changes)
      const override = composeOverride(c)
      if (!existsSync(c.composeFile) || readFileSync(c.composeFile, 'utf8') !== override) writeFileAtomic(c.composeFile, override, 0o644)
      writeOwnership(c.dir, input.owned)
    } catch (error) {
      if (error instanceof EnvsyncError) throw error
      throw new EnvsyncError(`cannot write ${c.dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
        code: 'DOCKER_WRITE',
        exitCode: 1,
        suggestion: 'check the permissions of the secrets directory',
      })
    }
  }
}

function removeIfExists(file: string): void {
  try {
    unlinkSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

const envFile = (c: DockerConfig, service: string) => path.join(c.dir, `${service}.env`)
const configOf = (c: DockerConfig, service: string) => Object.keys(c.configKeys).filter((k) => c.configKeys[k].includes(service))
const secretsOf = (c: DockerConfig, service: string) => Object.keys(c.secretKeys).filter((k) => c.secretKeys[k].includes(service)).sort()
/** Every service a key of this directory goes to. */
const servicesOf = (c: DockerConfig) => new Set([...Object.values(c.secretKeys), ...Object.values(c.configKeys)].flat())

/**
 * Applies the changes to the env files: each service's (and each env file left from a service
 * that no longer has config) gets the changed values of its keys and keeps everything else it
 * holds — values outside the push (--only, placeholders held back by --force, keys without a
 * local value) and lines added by hand (unmanaged until --prune). Drops keys that are removed,
 * sensitive now, or moved to other services. A file whose values do not change is not rewritten;
 * one left without values is removed.
 */
function writeEnvFiles(c: DockerConfig, changes: ApplyInput['changes']): void {
  const changed = new Map(changes.map((ch) => [ch.key, ch]))
  const services = servicesOf(c)
  for (const name of readdirSync(c.dir)) {
    const m = ENV_FILE.exec(name)
    if (m) services.add(m[1])
  }
  for (const service of services) {
    const file = envFile(c, service)
    const current = existsSync(file) ? envValues(parseEnv(readFileSync(file, 'utf8'), file)) : new Map<string, string>()
    const next = new Map<string, string>()
    for (const key of configOf(c, service)) {
      const ch = changed.get(key)
      const value = ch && ch.action !== 'remove' ? ch.value!.reveal() : ch ? undefined : current.get(key)
      if (value !== undefined) next.set(key, value)
    }
    for (const [key, value] of current) {
      if (next.has(key) || key in c.configKeys || key in c.secretKeys || changed.get(key)?.action === 'remove') continue
      next.set(key, value)
    }
    if (next.size === current.size && [...next].every(([k, v]) => current.get(k) === v)) continue
    if (next.size === 0) {
      removeIfExists(file)
      continue
    }
    const lines = [`# ${service} config for ${c.project}, written by envsync (non-sensitive values only)`]
    for (const [key, value] of next) lines.push(`${key}=${encodeOrThrow(key, value, `mark ${key} sensitive (a secret file holds any value)`, 1)}`)
    writeFileAtomic(file, lines.join('\n') + '\n', c.fileMode)
  }
}

interface OverrideService {
  secrets?: unknown
  environment?: unknown
  env_file?: unknown
}
interface Override {
  services?: Record<string, OverrideService | undefined>
  secrets?: Record<string, {file?: unknown} | undefined>
}

/** The compose override as last written (undefined: missing or unreadable). */
function readOverride(file: string): Override | undefined {
  try {
    const doc = jsyaml.load(readFileSync(file, 'utf8'))
    return doc && typeof doc === 'object' ? (doc as Override) : undefined
  } catch {
    return undefined
  }
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v])

/**
 * A secret file reaches the containers as the manifest says: its mode, the override's secret
 * pointing at it, mounted with its `<KEY>_FILE` variable by exactly the services that receive it.
 */
function secretDelivered(c: DockerConfig, key: string, file: string, override: Override | undefined): boolean {
  if ((statSync(file).mode & 0o777) !== c.fileMode) return false
  const name = composeSecretName(key)
  const declared = override?.secrets?.[name]?.file
  if (typeof declared !== 'string' || path.resolve(path.dirname(c.composeFile), declared) !== file) return false
  const receivers = new Set(c.secretKeys[key])
  for (const [service, spec] of Object.entries(override?.services ?? {})) {
    const mounted = asList(spec?.secrets).some((s) => s === name || (typeof s === 'object' && s !== null && (s as {source?: unknown}).source === name))
    if (mounted !== receivers.has(service)) return false
    if (mounted && (spec?.environment as Record<string, unknown> | undefined)?.[`${key}_FILE`] !== `/run/secrets/${name}`) return false
    receivers.delete(service)
  }
  return receivers.size === 0
}

function readOwnership(dir: string): Set<string> {
  try {
    return new Set(JSON.parse(readFileSync(path.join(dir, OWNERSHIP_FILE), 'utf8')).keys ?? [])
  } catch {
    return new Set()
  }
}

function writeOwnership(dir: string, keys: Set<string>): void {
  writeFileAtomic(path.join(dir, OWNERSHIP_FILE), JSON.stringify({writtenBy: 'envsync', keys: [...keys].sort()}, null, 2) + '\n', 0o600)
}

const rel = (from: string, to: string) => {
  const r = path.relative(path.dirname(from), to).split(path.sep).join('/')
  return r.startsWith('.') ? r : `./${r}`
}

/** A path as a YAML scalar: plain when it is safe, else double-quoted (JSON is valid YAML). */
const yamlPath = (p: string) => (/^[\w./-]+$/.test(p) ? p : JSON.stringify(p))

/**
 * The compose override: top-level `secrets:` with `file:`, each service's `secrets:` list and
 * `<KEY>_FILE` variables, and its env file. Combine with the user's own:
 * `docker compose -f docker-compose.yml -f docker-compose.secrets.yml up`.
 */
export function composeOverride(c: DockerConfig): string {
  const services = [...servicesOf(c)].sort()
  const out = [
    `# Generated by envsync for ${c.project}. Do not edit: \`envsync push\` rewrites it.`,
    `# Use: docker compose -f docker-compose.yml -f ${path.basename(c.composeFile)} up`,
    'services:',
  ]
  for (const service of services) {
    const secrets = secretsOf(c, service)
    const config = configOf(c, service)
    out.push(`  ${service}:`)
    if (secrets.length > 0) {
      out.push('    secrets:', ...secrets.map((k) => `      - ${composeSecretName(k)}`))
      out.push('    environment:', ...secrets.map((k) => `      ${k}_FILE: /run/secrets/${composeSecretName(k)}`))
    }
    if (config.length > 0) out.push('    env_file:', `      - ${yamlPath(rel(c.composeFile, envFile(c, service)))}`)
  }
  const all = Object.keys(c.secretKeys).sort()
  if (all.length > 0) {
    out.push('secrets:')
    for (const key of all) out.push(`  ${composeSecretName(key)}:`, `    file: ${yamlPath(rel(c.composeFile, path.join(c.dir, key)))}`)
  }
  return out.join('\n') + '\n'
}
