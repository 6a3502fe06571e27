import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {EnvsyncError} from '../../errors.js'
import {mapLimit} from '../../pool.js'
import {registerSecret} from '../../redact.js'
import {credentialFrom, endpointFrom, HttpClient, type HttpResponse} from '../http.js'
import {type CreateBackend, knownDates, type Marker, markerOf, markerTags, type RemoteSecret, type SecretManagerBackend} from './backend.js'

/**
 * HashiCorp Vault's KV version 2 engine over plain HTTP (there is no official Node client), through
 * the one helper HttpClient: its timeouts, retries, Retry-After and request count.
 *
 * A Vault secret is a map of fields, so values here are JSON object texts (structured). Every write
 * is a check-and-set against the version this backend saw (read or list), so a value changed by
 * someone else in between is refused, never overwritten; the same check makes a repeated write
 * harmless, which is why writes are retried like idempotent requests: a repeat of a write that did
 * go through fails the check, and a re-read then shows our own value (success).
 *
 * remove() is Vault's soft delete of the latest version (DELETE /data/…), not the destroy of every
 * version (DELETE /metadata/…): like AWS's recovery window and Azure's soft delete it can be undone
 * (`vault kv undelete`), and history and metadata stay. A later write puts a new version on top.
 */

const SERVICE = 'Vault'
const CONCURRENCY = 8
const CAS_MISMATCH = 'check-and-set parameter did not match'

export const createBackend: CreateBackend = async (options, env) => {
  const address = addressOf(options.address, env)
  const token = await tokenOf(env)
  const namespace = options.namespace ?? (env.VAULT_NAMESPACE || undefined)
  const headers: Record<string, string> = {'x-vault-token': token.value, 'x-vault-request': 'true'}
  if (namespace) headers['x-vault-namespace'] = namespace
  return new VaultBackend(new HttpClient({service: SERVICE}), address, options.mount ?? 'secret', headers, token.source)
}

/** The manifest's `address` wins (like the CLI's -address flag), else VAULT_ADDR; one is needed. */
function addressOf(address: string | undefined, env: NodeJS.ProcessEnv): string {
  if (address) return endpointFrom({address}, 'address', 'https://vault.example.com:8200')
  const url = endpointFrom(env, 'VAULT_ADDR', '')
  if (url) return url
  throw new EnvsyncError('Vault: no address: VAULT_ADDR is not set and the manifest gives no `address`', {
    code: 'VAULT_NO_ADDRESS',
    exitCode: 1,
    suggestion: 'export VAULT_ADDR=https://vault.example.com:8200 (as for the vault CLI), or set `address:` under vault in the manifest',
  })
}

/** VAULT_TOKEN, else the token file `vault login` writes (~/.vault-token). */
async function tokenOf(env: NodeJS.ProcessEnv): Promise<{value: string; source: string}> {
  const fromEnv = credentialFrom(env, 'VAULT_TOKEN')
  if (fromEnv) return {value: fromEnv, source: 'VAULT_TOKEN'}
  const file = join(env.HOME || homedir(), '.vault-token')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new EnvsyncError('Vault: VAULT_TOKEN is not set and there is no ~/.vault-token (no token to send)', {
      code: 'VAULT_NO_TOKEN',
      exitCode: 1,
      suggestion: 'set VAULT_TOKEN or run `vault login` (it writes ~/.vault-token)',
    })
  }
  // The CLI writes the token alone; an editor or `echo` adds a line break.
  const value = text.trim()
  registerSecret(value)
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new EnvsyncError(value ? '~/.vault-token holds more than one token-shaped line' : '~/.vault-token is empty', {
      code: 'VAULT_NO_TOKEN',
      exitCode: 1,
      suggestion: 'run `vault login` again, or set VAULT_TOKEN',
    })
  }
  return {value, source: '~/.vault-token'}
}

type Json = Record<string, unknown>

/** KV v2's version record in a data read's or a write's `metadata`. */
interface VersionInfo {
  version?: number
  created_time?: string
  deletion_time?: string
  destroyed?: boolean
}

class VaultBackend implements SecretManagerBackend {
  readonly kind = 'vault' as const
  readonly service = SERVICE
  readonly structured = true
  /** Per name, the current version seen by this backend (0: none): the check-and-set of the next write. */
  private readonly versions = new Map<string, number>()
  /** When the current version read was written (its created_time). */
  private readonly created = new Map<string, Date>()
  /** Names whose current version is (soft) deleted: a write puts a new version on top. */
  private readonly deleted = new Set<string>()
  /** custom_metadata seen by list(): kept when the marker is added over a deleted secret. */
  private readonly metadata = new Map<string, Record<string, string>>()

  constructor(
    private readonly http: HttpClient,
    private readonly address: string,
    private readonly mount: string,
    private readonly headers: Record<string, string>,
    private readonly tokenSource: string,
  ) {}

  get requests(): number {
    return this.http.requests
  }


  async list(prefix: string): Promise<RemoteSecret[]> {
    // KV lists one folder: "a/b/" is that folder, "a/b-" is folder "a/" filtered by "b-".
    const cut = prefix.lastIndexOf('/') + 1
    const folder = prefix.slice(0, cut)
    const start = prefix.slice(cut)
    const res = await this.send('GET', 'metadata', folder, {query: '?list=true'})
    if (res.status === 404 && !noRoute(res)) return []
    if (res.status !== 200) throw this.failure(res, 'list', folder || '/')
    const keys = (dataOf(res)?.keys ?? []) as unknown[]
    const names = keys.filter((k): k is string => typeof k === 'string' && !k.endsWith('/') && k.startsWith(start)).map((k) => folder + k)
    // The marker lives in each secret's metadata: one GET per listed secret.
    const found = await mapLimit(names, CONCURRENCY, (name) => this.readMetadata(name))
    return found.filter((s): s is RemoteSecret => s !== undefined)
  }

  private async readMetadata(name: string): Promise<RemoteSecret | undefined> {
    const res = await this.send('GET', 'metadata', name)
    if (res.status === 404 && !noRoute(res)) return undefined
    if (res.status !== 200) throw this.failure(res, 'read metadata of', name)
    const meta = dataOf(res) ?? {}
    const current = typeof meta.current_version === 'number' ? meta.current_version : 0
    const custom = stringMap(meta.custom_metadata)
    this.metadata.set(name, custom)
    this.versions.set(name, current)
    const info = ((meta.versions ?? {}) as Record<string, VersionInfo>)[String(current)]
    if (current === 0 || !info || isGone(info)) {
      this.deleted.add(name)
      return undefined
    }
    this.deleted.delete(name)
    return {name, marker: markerOf(custom)}
  }

  async read(names: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    await mapLimit([...new Set(names)], CONCURRENCY, async (name) => {
      const text = await this.readOne(name)
      if (text !== undefined) out.set(name, text)
    })
    return out
  }

  /** The current version's fields as JSON text, or undefined (absent, deleted or destroyed). */
  private async readOne(name: string): Promise<string | undefined> {
    const res = await this.send('GET', 'data', name)
    const body = dataOf(res)
    const meta = (body?.metadata ?? undefined) as VersionInfo | undefined
    if (res.status === 404 && !noRoute(res)) {
      // A deleted or destroyed latest version answers 404 with its metadata: its number is the check-and-set.
      this.versions.set(name, typeof meta?.version === 'number' ? meta.version : 0)
      if (meta?.version) this.deleted.add(name)
      return undefined
    }
    if (res.status !== 200) throw this.failure(res, 'read', name)
    this.versions.set(name, typeof meta?.version === 'number' ? meta.version : 0)
    const fields = body?.data
    if (!isObject(fields)) {
      this.deleted.add(name)
      return undefined
    }
    this.deleted.delete(name)
    const created = Date.parse(meta?.created_time ?? '')
    if (Number.isNaN(created)) this.created.delete(name)
    else this.created.set(name, new Date(created))
    for (const v of Object.values(fields)) if (typeof v === 'string') registerSecret(v)
    // Fields other tools wrote (numbers, objects) stay as they are: the layer above keeps them.
    return JSON.stringify(fields)
  }

  /** The current version's created_time, sent with its data: no request. */
  async dates(names: string[]): Promise<Map<string, Date>> {
    return knownDates(names, (name) => this.created.get(name))
  }

  /**
   * data?version=N-1, N-2…: one GET each. A deleted or destroyed one (404 with its metadata) ends
   * the walk, as a pruned one (404 without) does: an older value must not stand in for it.
   */
  async *older(name: string, limit: number): AsyncGenerator<string> {
    const current = this.versions.get(name) ?? 0
    for (let n = current - 1; n >= 1 && n >= current - limit; n--) {
      const res = await this.send('GET', 'data', name, {query: `?version=${n}`})
      if (res.status === 404 && !noRoute(res)) return
      if (res.status !== 200) throw this.failure(res, 'read an older version of', name)
      const fields = dataOf(res)?.data
      if (!isObject(fields)) return
      for (const v of Object.values(fields)) if (typeof v === 'string') registerSecret(v)
      yield JSON.stringify(fields)
    }
  }

  // hint.exists is not needed: the one POST creates or updates, so there is no failed first attempt.
  async write(name: string, value: string, marker: Marker): Promise<void> {
    const fields = fieldsOf(value, name)
    for (const v of Object.values(fields)) if (typeof v === 'string') registerSecret(v)
    // No version seen in this run: 0, "create only".
    const cas = this.versions.get(name) ?? 0
    const created = cas === 0 || this.deleted.has(name)
    let written = await this.put(name, fields, cas)
    if (written === undefined) written = await this.settleConflict(name, fields, cas)
    this.versions.set(name, written)
    this.created.delete(name)
    if (created) await this.mark(name, marker, written)
    this.deleted.delete(name)
  }

  /** POST data with check-and-set: the new version, or undefined when the check failed. */
  private async put(name: string, fields: Json, cas: number): Promise<number | undefined> {
    // A repeat can apply at most once (the check fails the second time): safe to retry.
    const res = await this.send('POST', 'data', name, {body: {data: fields, options: {cas}}, idempotent: true})
    if (res.status === 400 && errorsOf(res).some((e) => e.includes(CAS_MISMATCH))) return undefined
    if (res.status !== 200) throw this.failure(res, 'write', name)
    const version = dataOf(res)?.version
    return typeof version === 'number' ? version : cas + 1
  }

  /**
   * A failed check-and-set: our own earlier attempt (its answer lost, the retry refused) when the
   * current value is ours; a deleted current version (not seen by this run) gets one write on top;
   * anything else is someone else's change, reported, never overwritten.
   */
  private async settleConflict(name: string, fields: Json, cas: number): Promise<number> {
    const current = await this.readOne(name)
    const version = this.versions.get(name) ?? 0
    if (current !== undefined && version > cas && sameJson(JSON.parse(current), fields)) return version
    if (current === undefined && version !== cas) {
      const again = await this.put(name, fields, version)
      if (again !== undefined) return again
    }
    throw new EnvsyncError(`Vault: ${this.where(name)} was changed by someone else since it was read (version ${version}, expected ${cas})`, {
      code: 'VAULT_CONFLICT',
      exitCode: 1,
      suggestion: 'run again: envsync reads the new version and writes only what still differs',
    })
  }

  /** The ownership marker in custom_metadata, beside whatever other tools keep there. */
  private async mark(name: string, marker: Marker, version: number): Promise<void> {
    let custom = this.metadata.get(name)
    if (custom === undefined && version > 1) {
      // Written over an older, deleted history: its custom_metadata may hold other tools' keys.
      const res = await this.send('GET', 'metadata', name)
      if (res.status !== 200 && res.status !== 404) throw this.failure(res, 'read metadata of', name)
      custom = stringMap(dataOf(res)?.custom_metadata)
    }
    const merged = {...custom, ...markerTags(marker)}
    const res = await this.send('POST', 'metadata', name, {body: {custom_metadata: merged}, idempotent: true})
    if (res.status !== 204 && res.status !== 200) throw this.failure(res, 'write metadata of', name)
    this.metadata.set(name, merged)
  }

  async remove(name: string): Promise<void> {
    // Soft delete of the current version: recoverable with `vault kv undelete`, history kept.
    const res = await this.send('DELETE', 'data', name)
    if (res.status !== 204 && res.status !== 200 && !(res.status === 404 && !noRoute(res))) throw this.failure(res, 'delete', name)
    this.deleted.add(name)
  }

  /** A request to /v1/<mount>/<area>/<name>, each segment encoded; a folder ("", "a/") keeps its "/". */
  private send(method: 'GET' | 'POST' | 'DELETE', area: 'data' | 'metadata', name: string, extra: {query?: string; body?: unknown; idempotent?: boolean} = {}): Promise<HttpResponse> {
    const path = [...this.mount.split('/'), area, ...name.split('/')].filter((s) => s !== '').map(encodeURIComponent).join('/')
    const trailing = name === '' || name.endsWith('/') ? '/' : ''
    return this.http.send({method, url: `${this.address}/v1/${path}${trailing}${extra.query ?? ''}`, headers: this.headers, body: extra.body, idempotent: extra.idempotent})
  }

  private where(name: string): string {
    return `${this.mount}/${name}`
  }

  /** An answer that is not success, as an EnvsyncError naming the operation and the secret. */
  private failure(res: HttpResponse, op: string, name: string): EnvsyncError {
    const errors = errorsOf(res)
    const said = errors.join('; ').replace(/\s+/g, ' ').trim().slice(0, 300)
    const where = this.where(name)
    if (res.status === 403 || res.status === 401) {
      return new EnvsyncError(`Vault denied ${op} ${where}: ${said || 'permission denied'}`, {
        code: 'VAULT_DENIED',
        exitCode: 1,
        suggestion: `check the token in ${this.tokenSource} (expired? run \`vault login\`) and that its policy grants ${CAPABILITY[op] ?? 'read'} on ${this.mount}/${op === 'list' || op.includes('metadata') ? 'metadata' : 'data'}/${name}`,
      })
    }
    if (res.status === 503 && /sealed/i.test(said)) {
      return new EnvsyncError(`Vault is sealed: cannot ${op} ${where}`, {code: 'VAULT_SEALED', exitCode: 1, suggestion: 'ask an operator to unseal it (`vault operator unseal`), then run again'})
    }
    if (res.status === 429) {
      return new EnvsyncError(`Vault rate limit: ${op} ${where} still refused after retries`, {code: 'RATE_LIMITED', exitCode: 1, suggestion: 'wait and run the command again; it only sends what still differs'})
    }
    if (res.status === 404) {
      return new EnvsyncError(`Vault: cannot ${op} ${where}: ${said || 'not found'}`, {
        code: 'VAULT_NO_MOUNT',
        exitCode: 1,
        suggestion: `check that a KV version 2 engine is mounted at ${this.mount}/ (vault secrets enable -path=${this.mount} kv-v2) and the namespace`,
      })
    }
    return new EnvsyncError(`Vault: cannot ${op} ${where} (HTTP ${res.status}${said ? `: ${said}` : ''})`, {
      code: 'VAULT_ERROR',
      exitCode: 1,
      suggestion: res.status >= 500 ? 'run again later: only what still differs is sent' : `check the mount (${this.mount}) and the secret's name`,
    })
  }
}

const CAPABILITY: Record<string, string> = {
  list: '"list"',
  read: '"read"',
  'read an older version of': '"read"',
  'read metadata of': '"read"',
  write: '"create" and "update"',
  'write metadata of': '"create" and "update"',
  delete: '"delete"',
}

/**
 * Deleted or destroyed. A deletion_time alone is not: with delete_version_after every live version
 * carries a future one, and Vault serves it until that moment (judged on the wall clock, as the
 * server does: ENVSYNC_NOW is envsync's own calendar, not Vault's).
 */
function isGone(info: VersionInfo): boolean {
  return info.destroyed === true || (Boolean(info.deletion_time) && Date.parse(info.deletion_time!) <= Date.now())
}

/** A 404 for a mount that does not exist (or is not KV), not for a secret that does not. */
function noRoute(res: HttpResponse): boolean {
  return errorsOf(res).some((e) => e.includes('no handler for route'))
}

function dataOf(res: HttpResponse): Json | undefined {
  const data = isObject(res.json) ? res.json.data : undefined
  return isObject(data) ? data : undefined
}

function errorsOf(res: HttpResponse): string[] {
  const errors = isObject(res.json) ? res.json.errors : undefined
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : []
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stringMap(v: unknown): Record<string, string> {
  if (!isObject(v)) return {}
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
}

/** The JSON object text a write receives, as the fields Vault stores. */
function fieldsOf(text: string, name: string): Json {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (!isObject(parsed)) {
    throw new EnvsyncError(`Vault: ${name} would not be a JSON object of fields`, {code: 'VAULT_NOT_OBJECT', exitCode: 1, suggestion: 'a Vault secret is a map of fields: write {"value": "…"} (this is a bug if envsync built it)'})
  }
  return parsed
}

/** Equal as JSON values, whatever the key order (Vault answers with its keys sorted). */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameJson(a[k], b[k]))
  }
  return a === b
}
