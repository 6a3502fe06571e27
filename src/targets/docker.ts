import {chmodSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, unlinkSync, type Dirent} from 'node:fs'
import path from 'node:path'

import jsyaml from 'js-yaml'

import {EnvsyncError} from '../errors.js'
import {lock, makeDir, readFileNoFollow, refuseSymlinkedPath, removeStaleTemps, symlinkRefused, syncDir, writeFileAtomic, writeFileAtomicAsync} from '../files.js'
import {mapLimit} from '../pool.js'
import {displayPath, shellWord} from '../paths.js'
import {Secret} from '../secret.js'
import {envValues, parseEnv, readsBack} from '../values/dotenv.js'
import {USER_COMPOSE_FILES} from '../manifest/user-compose.js'
import type {ApplyInput, Destination, LiveState, Redeploy, Target} from './target.js'

/**
 * Docker: one directory per environment with a file per key delivered as a file (content
 * byte-exact, no added newline, mode fileMode), a `<service>.env` file per service for the keys
 * delivered as plain environment (config, and secrets the manifest delivers so), and a compose
 * override that mounts the files as secrets and points `env_file:` at the env files. What envsync owns is recorded in the
 * directory itself (OWNERSHIP_FILE), so another checkout sees the same.
 *
 * The directory is envsync's: a push holds its lock file (LOCK_FILE) from the re-read to the
 * last write, refuses a directory that is a symbolic link (or under one), and refuses to move
 * into an existing directory it did not create that holds anything but this manifest's files.
 */
export interface DockerConfig {
  project: string
  /** The manifest's directory: the Docker dir must be inside it, without links on the way. */
  root: string
  dir: string
  fileMode: number
  composeFile: string
  /** Key delivered as a secret file → services that mount it. */
  secretKeys: Map<string, string[]>
  /** Key delivered as a secret file → the variable naming the file in the container (JWT_SECRET_FILE). */
  fileVariables: Map<string, string>
  /** Key delivered as plain environment → services whose env file holds it. */
  configKeys: Map<string, string[]>
  /** After a change: report the compose command that recreates the services reading it (push --deploy, rotate). */
  restart: boolean
}

export const OWNERSHIP_FILE = '.envsync-owned.json'
export const LOCK_FILE = '.envsync.lock'
const KEY_FILE = /^[A-Za-z_][A-Za-z0-9_]*$/
/**
 * A file nobody mapped that may be a secret file put there by hand (shown as unmanaged, removed
 * by --prune): an environment-variable style name (upper case), a regular file without execute
 * bits, readable by no more users than the secret files envsync writes there (fileMode). Other
 * files (Makefile, Dockerfile, a 0644 LICENSE, scripts, dotfiles, links) are not secrets: never
 * read, never deleted, not even with --prune.
 */
const HAND_SECRET = /^[A-Z_][A-Z0-9_]*$/
const ENV_FILE = /^([a-z0-9][a-z0-9-]*)\.env$/
/** Files a directory envsync did not create may hold besides the manifest's (kept as they are). */
const HARMLESS = new Set(['.gitignore', '.gitkeep', '.dockerignore', LOCK_FILE])

/** Compose secret name for a key: lowercase, as images document them (/run/secrets/db_password). */
export const composeSecretName = (key: string) => key.toLowerCase()

export class DockerTarget implements Target<DockerConfig> {
  readonly kind = 'docker' as const
  requests = 0

  async read(dest: Destination<DockerConfig>): Promise<LiveState> {
    this.requests++
    return readDir(dest.config)
  }

  /**
   * No engine is driven: the command that recreates the services reading a changed key. Secret
   * files are bind mounts, rewritten atomically (a new inode), and env files are read at
   * creation: a running container keeps the old values until it is recreated.
   */
  async finish(applied: Destination<DockerConfig>[], keys?: ReadonlyMap<string, string[]>): Promise<Redeploy[]> {
    return applied
      .filter((d) => d.config.restart)
      .map((d) => {
        const services = readersOf(d, keys?.get(d.id) ?? [])
        return {destination: d.id, label: d.label, what: `${services.length === 1 ? 'service' : 'services'} ${services.join(', ')} to recreate`, status: 'todo' as const, command: recreateCommand(d.config, services)}
      })
  }

  async apply(dest: Destination<DockerConfig>, input: ApplyInput): Promise<void> {
    const c = dest.config
    let release: (() => void) | undefined
    try {
      refuseSymlinkedPath(c.root, c.dir)
      makeDir(c.dir, 0o700)
      chmodSync(c.dir, 0o700)
      release = await lock(path.join(c.dir, LOCK_FILE), `docker ${displayPath(c.dir)}`)
      // Under the lock no other envsync writes here: what a killed run left can go.
      removeStaleTemps(c.dir)
      removeStaleTemps(path.dirname(c.composeFile), {of: (name) => name === path.basename(c.composeFile)})
      const now = readDir(c)
      if (!sameLive(now, input.live)) {
        throw new EnvsyncError(`docker ${displayPath(c.dir)} changed since it was read (another push?): nothing written`, {
          code: 'DOCKER_CHANGED',
          exitCode: 1,
          suggestion: 'run the push again: it plans against what is there now',
        })
      }
      const entries = new Map(readdirSync(c.dir, {withFileTypes: true}).map((e) => [e.name, e]))
      const onDisk = keysOnDisk(c, entries)
      const owned = readOwnership(c.dir)
      // Ownership first, as the union of before and the keys this run adds where nothing was:
      // an interrupted run never forgets a file it may have written. A key taken over (a file
      // or line envsync did not write) is recorded only at the end, once written, so an
      // interruption never makes a hand-made file envsync's. Narrowed to the final set at the end.
      // Env files composed first: a value no env file can hold is refused before anything is written.
      const envWrites = envFileWrites(c, input.changes)
      const adding = input.changes.filter((ch) => ch.action !== 'remove' && !onDisk.has(ch.key)).map((ch) => ch.key)
      writeOwnership(c.dir, new Set([...owned, ...adding]))
      const writes: {file: string; value: Buffer}[] = []
      for (const change of input.changes) {
        this.requests++
        const file = path.join(c.dir, change.key)
        if (entries.get(change.key)?.isSymbolicLink()) throw symlinkRefused(file)
        if (c.configKeys.has(change.key)) {
          // A key delivered as a file before: its old secret file goes (when envsync wrote it).
          if (owned.has(change.key)) removeIfExists(file)
        } else if (change.action !== 'remove') {
          writes.push({file, value: Buffer.from(change.value!.reveal(), 'utf8')})
        } else if (owned.has(change.key) || looksLikeHandSecret(c, entries.get(change.key), file)) {
          // A key gone from the manifest (or pruned): its secret file, or its line in the env files.
          removeIfExists(file)
        }
      }
      // Each file atomic on its own; many at once so their fsyncs overlap and other targets'
      // requests are not held up behind a thousand synchronous writes.
      await mapLimit(writes, 16, (w) => writeFileAtomicAsync(w.file, w.value, c.fileMode))
      if (writes.length > 0) syncDir(c.dir)
      for (const w of envWrites) {
        if (w.text === undefined) removeIfExists(w.file)
        else writeFileAtomic(w.file, w.text, c.fileMode)
      }
      const override = composeOverride(c)
      if (!existsSync(c.composeFile) || readFileNoFollow(c.composeFile).toString('utf8') !== override) writeFileAtomic(c.composeFile, override, 0o644)
      writeOwnership(c.dir, input.owned)
    } catch (error) {
      if (error instanceof EnvsyncError) throw error
      throw new EnvsyncError(`cannot write ${displayPath(c.dir)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
        code: 'DOCKER_WRITE',
        exitCode: 1,
        suggestion: 'check the permissions of the secrets directory',
      })
    } finally {
      release?.()
    }
  }
}

/** The directory as it is: secret files, env-file values, what envsync owns. */
function readDir(c: DockerConfig): LiveState {
  const {dir, configKeys, secretKeys} = c
  refuseSymlinkedPath(c.root, dir)
  if (!existsSync(dir)) return {exists: false, values: new Map(), owned: new Set()}
  if (!lstatSync(dir).isDirectory()) {
    throw new EnvsyncError(`${displayPath(dir)} is not a directory`, {code: 'DOCKER_DIR', exitCode: 1, suggestion: 'point docker.dir at a directory envsync may fill with secret files'})
  }
  const entries = readdirSync(dir, {withFileTypes: true})
  const owned = readOwnership(dir)
  if (!existsSync(path.join(dir, OWNERSHIP_FILE))) refuseForeign(c, entries)
  const values: LiveState['values'] = new Map()
  const envFiles = new Map<string, Map<string, string>>()
  // Secret files of manifest keys that do not reach the containers as the manifest says now.
  const stale = new Map<string, Secret>()
  const override = readOverride(c.composeFile)
  const mounts = indexMounts(override)
  for (const entry of entries) {
    if (!entry.isFile()) continue
    const file = path.join(dir, entry.name)
    if (KEY_FILE.test(entry.name)) {
      // An env-delivered key's file is left from when it was a file; a secret file the containers
      // cannot use as the manifest says (wrong mode, not mounted where it should be) is not live
      // either: push rewrites it and the override.
      if (configKeys.has(entry.name) || (secretKeys.has(entry.name) && !secretDelivered(c, entry.name, file, override, mounts))) {
        stale.set(entry.name, Secret.fromBytes(readFileSync(file)))
        continue
      }
      if (!secretKeys.has(entry.name) && !owned.has(entry.name) && !looksLikeHandSecret(c, entry, file)) continue
      values.set(entry.name, Secret.fromBytes(readFileSync(file)))
    } else if (ENV_FILE.test(entry.name)) {
      envFiles.set(ENV_FILE.exec(entry.name)![1], envValues(parseEnv(readFileSync(file, 'utf8'), file)))
    }
  }
  // An env-delivered key is live when every service that should have it has the same value (and the
  // override gives each of them its env file).
  for (const [key, services] of configKeys) {
    const seen = services.map((s) => envFiles.get(s)?.get(key))
    const wired = services.every((s) => asList(own(own(own(override, 'services'), s), 'env_file')).includes(rel(c.composeFile, envFile(c, s))))
    if (wired && seen.every((v) => v !== undefined && v === seen[0])) values.set(key, new Secret(seen[0]!))
  }
  // A manifest key not delivered as the manifest says, but held here all the same (copies that
  // disagree, a file left from the other delivery): live, as the copies it has, so the plan
  // rewrites it and pull reads it back whatever the delivery is now.
  const copies = new Map<string, {where: string; value: Secret}[]>()
  for (const [key, services] of [...configKeys, ...secretKeys]) {
    if (values.has(key)) continue
    const inEnv = [...envFiles].filter(([, env]) => env.has(key))
    const theirs = inEnv.filter(([s]) => services.includes(s))
    const found = (theirs.length > 0 ? theirs : inEnv).map(([s, env]) => ({where: `${s}.env`, value: new Secret(env.get(key)!)}))
    if (stale.has(key)) found.push({where: key, value: stale.get(key)!})
    if (found.length === 0) continue
    values.set(key, found[0].value)
    copies.set(key, found)
  }
  // Keys in env files that the manifest no longer maps (removed), or never did (added by hand).
  for (const env of envFiles.values()) {
    for (const [key, v] of env) if (!configKeys.has(key) && !secretKeys.has(key) && !values.has(key)) values.set(key, new Secret(v))
  }
  return {exists: true, values, owned, copies}
}

function looksLikeHandSecret(c: DockerConfig, entry: Dirent | undefined, file: string): boolean {
  if (!entry?.isFile() || !HAND_SECRET.test(entry.name)) return false
  const mode = statSync(file).mode & 0o777
  return (mode & 0o111) === 0 && (mode & 0o077 & ~c.fileMode) === 0
}

/** Two reads of one directory found the same: no other push wrote in between. */
function sameLive(a: LiveState, b: LiveState): boolean {
  if (a.values.size !== b.values.size) return false
  for (const [k, v] of a.values) {
    const w = b.values.get(k)
    if (!(v instanceof Secret) || !(w instanceof Secret) || !v.equals(w)) return false
  }
  return true
}

/** Keys that have a file or an env-file line in the directory now (written by envsync or not). */
function keysOnDisk(c: DockerConfig, entries: Map<string, Dirent>): Set<string> {
  const out = new Set<string>()
  for (const [name, entry] of entries) {
    if (KEY_FILE.test(name)) out.add(name)
    else if (ENV_FILE.test(name) && entry.isFile()) for (const key of envValues(parseEnv(readFileSync(path.join(c.dir, name), 'utf8'), name)).keys()) out.add(key)
  }
  return out
}

/**
 * An existing directory envsync did not create (no ownership file) is taken only when it holds
 * nothing but this manifest's files: a secrets directory made by hand. A directory with other
 * files (a project folder, a home directory) would get secret files beside them, a chmod 0700,
 * and --prune deleting them.
 */
function refuseForeign(c: DockerConfig, entries: Dirent[]): void {
  const services = servicesOf(c)
  const foreign = entries
    .map((e) => e.name)
    .filter((name) => {
      if (HARMLESS.has(name) || TEMP.test(name)) return false
      if (c.secretKeys.has(name) || c.configKeys.has(name)) return false
      const m = ENV_FILE.exec(name)
      return !(m && services.has(m[1]))
    })
  if (foreign.length === 0) return
  const shown = foreign.sort().slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} in all)` : '')
  throw new EnvsyncError(`${displayPath(c.dir)} already exists, was not made by envsync (no ${OWNERSHIP_FILE}) and holds files that are not this manifest's secrets: ${shown}`, {
    code: 'DOCKER_DIR_FOREIGN',
    exitCode: 1,
    suggestion: 'point docker.dir at a new or empty directory (default ./secrets/<environment>), or move those files out',
  })
}
const TEMP = /^\..+\.[0-9a-f]{12}\d+\.tmp$/

function removeIfExists(file: string): void {
  try {
    unlinkSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/** An own property of a parsed YAML mapping (never an inherited one: a service named "constructor"). */
function own(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null && Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined
}

const fileVariable = (c: DockerConfig, key: string) => c.fileVariables.get(key) ?? `${key}_FILE`
const envFile = (c: DockerConfig, service: string) => path.join(c.dir, `${service}.env`)
const keysFor = (m: Map<string, string[]>, service: string) => [...m].filter(([, services]) => services.includes(service)).map(([k]) => k).sort()
const configOf = (c: DockerConfig, service: string) => keysFor(c.configKeys, service)
const secretsOf = (c: DockerConfig, service: string) => keysFor(c.secretKeys, service)
/** Every service a key of this directory goes to. */
const servicesOf = (c: DockerConfig) => new Set([...c.secretKeys.values(), ...c.configKeys.values()].flat())

/**
 * The changes to the env files, as files to write (text) or remove: each service's (and each env file left from a service
 * that no longer has config) gets the changed values of its keys and keeps everything else it
 * holds — values outside the push (--only, placeholders held back by --force, keys without a
 * local value) and lines added by hand (unmanaged until --prune). Drops keys that are removed,
 * delivered as files now, or moved to other services. A file whose values do not change is not rewritten;
 * one left without values is removed.
 */
function envFileWrites(c: DockerConfig, changes: ApplyInput['changes']): {file: string; text?: string}[] {
  const writes: {file: string; text?: string}[] = []
  const changed = new Map(changes.map((ch) => [ch.key, ch]))
  const services = servicesOf(c)
  for (const name of readdirSync(c.dir)) {
    const m = ENV_FILE.exec(name)
    if (m) services.add(m[1])
  }
  for (const service of services) {
    const file = envFile(c, service)
    const current = existsSync(file) ? envValues(parseEnv(readFileNoFollow(file).toString('utf8'), file)) : new Map<string, string>()
    const next = new Map<string, string>()
    for (const key of configOf(c, service)) {
      const ch = changed.get(key)
      const value = ch && ch.action !== 'remove' ? ch.value!.reveal() : ch ? undefined : current.get(key)
      if (value !== undefined) next.set(key, value)
    }
    for (const [key, value] of current) {
      if (next.has(key) || c.configKeys.has(key) || c.secretKeys.has(key) || changed.get(key)?.action === 'remove') continue
      next.set(key, value)
    }
    if (next.size === current.size && [...next].every(([k, v]) => current.get(k) === v)) continue
    if (next.size === 0) {
      writes.push({file})
      continue
    }
    const lines = [`# ${service} environment for ${c.project}, written by envsync (keys delivered as plain environment)`]
    for (const [key, value] of next) lines.push(`${key}=${envFileForm(key, value)}`)
    writes.push({file, text: lines.join('\n') + '\n'})
  }
  return writes
}

/**
 * A value as an env_file line that Compose v1 (python-dotenv, which decodes `\\` and `\'`, expands
 * `${VAR}`, reads text mode so a carriage return becomes a newline), Compose v2 (compose-go's godotenv, which
 * expands `$` outside single quotes and unescapes any `\x` in double quotes) and envsync's own
 * reader all read as the same bytes: plain, single-quoted, or double-quoted with `\n`. A value
 * none of them holds is refused, never delivered altered.
 */
export function envFileValue(value: string): string | undefined {
  const backslashSafe = !/\\\\|\\$/.test(value)
  const candidates = [
    value === '' ? '' : undefined,
    /^[A-Za-z0-9_\-.,:;/@+=%!?*~^()[\]{}<>|&]+$/.test(value) ? value : undefined,
    backslashSafe && !/['\r]/.test(value) ? `'${value}'` : undefined,
    !/["\\$\r]/.test(value) ? `"${value.replace(/\n/g, '\\n')}"` : undefined,
  ]
  // Compose v1 expands ${VAR} even in single quotes, and has no escape for it.
  return value.includes('${') ? undefined : candidates.find((f) => f !== undefined && readsBack(f, value))
}

/** The env-file form of a key's value, or a clear error naming the key. */
function envFileForm(key: string, value: string): string {
  const form = envFileValue(value)
  if (form === undefined) {
    throw new EnvsyncError(`the value of ${key} cannot be written to a Docker env file: Compose would read it altered (\${, a carriage return, \\\\ or a trailing \\, or ' together with ", \\ or $)`, {
      code: 'VALUE_UNREPRESENTABLE',
      exitCode: 1,
      suggestion: `deliver ${key} as a file (\`docker: {delivery: files}\` on the key): a secret file holds any value byte for byte`,
    })
  }
  return form
}

/** The compose override as last written (undefined: missing or unreadable). */
function readOverride(file: string): unknown {
  try {
    return jsyaml.load(readFileNoFollow(file).toString('utf8'))
  } catch {
    return undefined
  }
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v])

/**
 * A secret file reaches the containers as the manifest says: its mode, the override's secret
 * pointing at it, mounted with its variable (`<KEY>_FILE` by default) by exactly the services that receive it.
 */
function secretDelivered(c: DockerConfig, key: string, file: string, override: unknown, mounts: Mounts): boolean {
  if ((statSync(file).mode & 0o777) !== c.fileMode) return false
  const name = composeSecretName(key)
  const declared = own(own(own(override, 'secrets'), name), 'file')
  if (typeof declared !== 'string' || path.resolve(path.dirname(c.composeFile), declared) !== file) return false
  const receivers = new Set(c.secretKeys.get(key))
  for (const [service, {secrets, environment}] of mounts) {
    const mounted = secrets.has(name)
    if (mounted !== receivers.has(service)) return false
    if (mounted && own(environment, fileVariable(c, key)) !== `/run/secrets/${name}`) return false
    receivers.delete(service)
  }
  return receivers.size === 0
}

/** Each override service's mounted secret names (short and long syntax) and environment. */
type Mounts = Map<string, {secrets: Set<unknown>; environment: unknown}>

/**
 * Indexed once per read: checking each secret file against every service's whole mount list made
 * an in-sync read quadratic in the number of secrets (3.2 s at 20,000, bench/scaling.js).
 */
function indexMounts(override: unknown): Mounts {
  const services = own(override, 'services')
  const out: Mounts = new Map()
  for (const service of typeof services === 'object' && services !== null ? Object.keys(services) : []) {
    const spec = own(services, service)
    out.set(service, {secrets: new Set(asList(own(spec, 'secrets')).map((s) => (typeof s === 'string' ? s : own(s, 'source')))), environment: own(spec, 'environment')})
  }
  return out
}

/** The directory's ownership record; a damaged one is refused (read as empty it would forget what envsync wrote). */
function readOwnership(dir: string): Set<string> {
  const file = path.join(dir, OWNERSHIP_FILE)
  let text: string
  try {
    text = readFileNoFollow(file).toString('utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set()
    throw error
  }
  let keys: unknown
  try {
    keys = JSON.parse(text).keys
  } catch {
    keys = undefined
  }
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw new EnvsyncError(`${displayPath(file)} is damaged: not a list of the keys envsync wrote here`, {
      code: 'STATE_CORRUPT',
      exitCode: 1,
      location: {file: displayPath(file)},
      suggestion: `restore it, or write {"keys": [...]} with the secret files envsync manages in ${displayPath(dir)} (deleting it makes them unmanaged)`,
    })
  }
  return new Set(keys)
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

const isFile = (file: string) => {
  try {
    return lstatSync(file).isFile()
  } catch {
    return false
  }
}

/** The services that read the keys; a key gone from the manifest was read by any of them. */
function readersOf(d: Destination<DockerConfig>, keys: string[]): string[] {
  const c = d.config
  const out = new Set<string>()
  for (const k of keys) for (const s of c.secretKeys.get(k) ?? c.configKeys.get(k) ?? d.services) out.add(s)
  return [...(out.size > 0 ? out : servicesOf(c))].sort()
}

/** The override files Compose loads beside its default file when no -f is given, in its order of preference. */
const USER_OVERRIDE_FILES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml']

/**
 * `docker compose -f <the project's compose file> [-f <its override file>] -f <envsync's override>
 * up -d --force-recreate <services>`, from the project directory: the files Compose loads by
 * default (with -f it loads no other, so the project's override would be lost), then envsync's.
 */
export function recreateCommand(c: DockerConfig, services: string[]): string {
  const first = (names: string[]) => names.map((name) => path.join(c.root, name)).find((file) => file !== c.composeFile && isFile(file))
  const user = first(USER_COMPOSE_FILES)
  const files = [user, user && first(USER_OVERRIDE_FILES), c.composeFile].filter((f): f is string => f !== undefined).map((f) => path.relative(c.root, f).split(path.sep).join('/'))
  return ['docker', 'compose', ...files.flatMap((f) => ['-f', f]), 'up', '-d', '--force-recreate', ...services].map(shellWord).join(' ')
}

/**
 * The compose override: top-level `secrets:` with `file:`, each service's `secrets:` list and
 * the variables naming the files (`<KEY>_FILE` by default), and its env file. Combine with the user's own:
 * `docker compose -f docker-compose.yml -f docker-compose.<env>.secrets.yml up`.
 * Only files that exist are mounted (a key without a local value, a placeholder held back):
 * Compose refuses to start on a missing secret file or env file.
 */
export function composeOverride(c: DockerConfig, exists: (file: string) => boolean = isFile): string {
  const secretFile = (k: string) => path.join(c.dir, k)
  const present = new Set([...c.secretKeys.keys()].filter((k) => exists(secretFile(k))))
  const services = [...servicesOf(c)].sort()
  const out = [
    `# Generated by envsync for ${c.project}. Do not edit: \`envsync push\` rewrites it.`,
    `# Use: docker compose -f docker-compose.yml -f ${path.basename(c.composeFile)} up`,
  ]
  const body: string[] = []
  for (const service of services) {
    const secrets = secretsOf(c, service).filter((k) => present.has(k))
    const config = exists(envFile(c, service)) ? configOf(c, service) : []
    if (secrets.length === 0 && config.length === 0) continue
    body.push(`  ${service}:`)
    if (secrets.length > 0) {
      body.push('    secrets:', ...secrets.map((k) => `      - ${composeSecretName(k)}`))
      body.push('    environment:', ...secrets.map((k) => `      ${fileVariable(c, k)}: /run/secrets/${composeSecretName(k)}`))
    }
    if (config.length > 0) body.push('    env_file:', `      - ${yamlPath(rel(c.composeFile, envFile(c, service)))}`)
  }
  out.push(body.length > 0 ? 'services:' : 'services: {}', ...body)
  const all = [...present].sort()
  if (all.length > 0) {
    out.push('secrets:')
    for (const key of all) out.push(`  ${composeSecretName(key)}:`, `    file: ${yamlPath(rel(c.composeFile, secretFile(key)))}`)
  }
  return out.join('\n') + '\n'
}
