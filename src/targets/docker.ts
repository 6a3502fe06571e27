import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {writeFileAtomic} from '../files.js'
import {Secret} from '../secret.js'
import {encodeValue, envValues, parseEnv} from '../values/dotenv.js'
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
    const {dir, configKeys} = dest.config
    this.requests++
    if (!existsSync(dir)) return {exists: false, values: new Map(), owned: new Set()}
    const values: LiveState['values'] = new Map()
    const envFiles = new Map<string, Map<string, string>>()
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      if (!entry.isFile()) continue
      const file = path.join(dir, entry.name)
      if (KEY_FILE.test(entry.name)) {
        values.set(entry.name, new Secret(readFileSync(file, 'utf8')))
      } else if (ENV_FILE.test(entry.name)) {
        envFiles.set(ENV_FILE.exec(entry.name)![1], envValues(parseEnv(readFileSync(file, 'utf8'), file)))
      }
    }
    // A config key is live when every service that should have it has the same value.
    for (const [key, services] of Object.entries(configKeys)) {
      const seen = services.map((s) => envFiles.get(s)?.get(key))
      if (seen.every((v) => v !== undefined && v === seen[0])) values.set(key, new Secret(seen[0]!))
    }
    // Config keys in env files that the manifest no longer maps (removed or moved).
    for (const env of envFiles.values()) for (const [key, v] of env) if (!(key in configKeys) && !values.has(key)) values.set(key, new Secret(v))
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
      let configChanged = false
      for (const change of input.changes) {
        this.requests++
        const file = path.join(c.dir, change.key)
        if (change.key in c.configKeys) configChanged = true
        else if (change.action !== 'remove') writeFileAtomic(file, Buffer.from(change.value!.reveal(), 'utf8'), c.fileMode)
        else {
          // A key gone from the manifest: its secret file, or its line in the env files.
          removeIfExists(file)
          configChanged = true
        }
      }
      const services = new Set([...Object.values(c.secretKeys), ...Object.values(c.configKeys)].flat())
      if (configChanged || [...services].some((s) => configOf(c, s).length > 0 && !existsSync(envFile(c, s)))) {
        for (const service of services) writeEnvFile(c, service, input.desired)
      }
      writeFileAtomic(c.composeFile, composeOverride(c), 0o644)
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

/** Rewrites a service's env file from the desired config values; removes it when it has none. */
function writeEnvFile(c: DockerConfig, service: string, desired: Map<string, Secret>): void {
  const keys = configOf(c, service).filter((k) => desired.has(k))
  if (keys.length === 0) return removeIfExists(envFile(c, service))
  const lines = [`# ${service} config for ${c.project}, written by envsync (non-sensitive values only)`]
  for (const key of keys) {
    const encoded = encodeValue(desired.get(key)!.reveal())
    if (encoded === undefined) {
      throw new EnvsyncError(`the value of ${key} cannot be written to an env file`, {code: 'VALUE_UNREPRESENTABLE', exitCode: 1})
    }
    lines.push(`${key}=${encoded}`)
  }
  writeFileAtomic(envFile(c, service), lines.join('\n') + '\n', c.fileMode)
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

/**
 * The compose override: top-level `secrets:` with `file:`, each service's `secrets:` list and
 * `<KEY>_FILE` variables, and its env file. Combine with the user's own:
 * `docker compose -f docker-compose.yml -f docker-compose.secrets.yml up`.
 */
export function composeOverride(c: DockerConfig): string {
  const services = [...new Set([...Object.values(c.secretKeys), ...Object.values(c.configKeys)].flat())].sort()
  const out = [
    `# Generated by envsync for ${c.project}. Do not edit: \`envsync push\` rewrites it.`,
    `# Use: docker compose -f docker-compose.yml -f ${path.basename(c.composeFile)} up`,
    'services:',
  ]
  for (const service of services) {
    const secrets = Object.keys(c.secretKeys).filter((k) => c.secretKeys[k].includes(service)).sort()
    const config = configOf(c, service)
    out.push(`  ${service}:`)
    if (secrets.length > 0) {
      out.push('    secrets:', ...secrets.map((k) => `      - ${composeSecretName(k)}`))
      out.push('    environment:', ...secrets.map((k) => `      ${k}_FILE: /run/secrets/${composeSecretName(k)}`))
    }
    if (config.length > 0) out.push('    env_file:', `      - ${rel(c.composeFile, envFile(c, service))}`)
  }
  const all = Object.keys(c.secretKeys).sort()
  if (all.length > 0) {
    out.push('secrets:')
    for (const key of all) out.push(`  ${composeSecretName(key)}:`, `    file: ${rel(c.composeFile, path.join(c.dir, key))}`)
  }
  return out.join('\n') + '\n'
}
