import {EnvsyncError} from '../errors.js'
import {Secret} from '../secret.js'
import {credentialFrom, endpointFrom, HttpClient, type HttpResponse} from './http.js'
import type {ApplyInput, Destination, LiveState, Redeploy, Target} from './target.js'

/**
 * Render (REST): a destination per mapped service, plus an env group for shared keys.
 *
 * Writes to a service are one bulk PUT: Render's per-key writes share a budget of 30 per minute,
 * so 100 keys key by key would take over three minutes, and 1,000 over half an hour. The bulk PUT
 * replaces everything, so it is built from a complete read (every page, never truncated) merged
 * with the changes — every key envsync does not manage is sent back as it was — and the
 * response, which lists the result, is checked against what was meant. Env groups have no bulk
 * write: one PUT or DELETE per changed key, paced by the Ratelimit headers.
 *
 * Secret files (file-shaped secrets) are a second name space beside env vars, so they are a
 * destination of their own, keyed by file name, written the same way.
 */
export interface RenderConfig {
  /** Service id (srv-…) or exact name. */
  service?: string
  /** Env group id (evg-…) or exact name; set for the shared-keys destination. */
  envGroup?: string
  /** For the env group: the Render services (ids or names) it feeds, redeployed when it changes. */
  linkedServices?: string[]
  /** A secret-files destination (keys are file names), not env vars. */
  files?: boolean
  deploy: boolean
}

export const RENDER_ENDPOINT = 'https://api.render.com/v1'
const PAGE = 100

type Page<T> = ({cursor: string} & T)[]

/** Where env vars and secret files live in Render's API, and what their fields are called. */
const KINDS = {
  vars: {path: 'env-vars', item: 'envVar', name: 'key', value: 'value'},
  files: {path: 'secret-files', item: 'secretFile', name: 'name', value: 'content'},
} as const
type Kind = (typeof KINDS)[keyof typeof KINDS]

/** Services and env groups: how their ids look and how a name is looked up. */
const COLLECTIONS = {
  services: {path: 'services', id: /^srv-[a-z0-9]+(-[a-z0-9]+)*$/, query: '&includePreviews=false', wrapped: true, what: 'service'},
  groups: {path: 'env-groups', id: /^evg-[a-z0-9]+(-[a-z0-9]+)*$/, query: '', wrapped: false, what: 'env group'},
} as const
type Collection = (typeof COLLECTIONS)[keyof typeof COLLECTIONS]

interface Item {
  name: string
  value: string
}

interface Group {
  envVars: {key: string; value: string}[]
  secretFiles: {name: string; content: string}[]
}

export class RenderTarget implements Target<RenderConfig> {
  readonly kind = 'render' as const
  private readonly http = new HttpClient({service: 'Render'})
  private readonly ids = new Map<string, Promise<string>>()
  private readonly groupReads = new Map<string, Promise<Group>>()

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get requests(): number {
    return this.http.requests
  }

  async read(dest: Destination<RenderConfig>): Promise<LiveState> {
    const {envGroup, service, files} = dest.config
    let items: Item[]
    if (envGroup) {
      const group = await this.group(await this.groupId(envGroup))
      items = files ? group.secretFiles.map((f) => ({name: f.name, value: f.content})) : group.envVars.map((v) => ({name: v.key, value: v.value}))
    } else {
      items = await this.serviceItems(await this.serviceId(service!), files ? KINDS.files : KINDS.vars)
    }
    return {exists: true, values: new Map(items.map((i) => [i.name, new Secret(i.value)]))}
  }

  async apply(dest: Destination<RenderConfig>, input: ApplyInput): Promise<void> {
    const kind = dest.config.files ? KINDS.files : KINDS.vars
    if (dest.config.envGroup) {
      const id = await this.groupId(dest.config.envGroup)
      this.groupReads.delete(id)
      return this.applyGroup(id, kind, input)
    }
    const id = await this.serviceId(dest.config.service!)
    const merged = new Map<string, string>()
    for (const [k, v] of input.live.values) if (typeof v !== 'symbol') merged.set(k, v.reveal())
    for (const c of input.changes) {
      if (c.action === 'remove') merged.delete(c.key)
      else merged.set(c.key, c.value!.reveal())
    }
    const body = [...merged].map(([name, value]) => ({[kind.name]: name, [kind.value]: value}))
    const res = await this.send('PUT', `/services/${id}/${kind.path}`, body)
    const result = new Map((res.json as Page<Record<string, Record<string, string>>>).map((i) => [i[kind.item][kind.name], i[kind.item][kind.value]]))
    const same = result.size === merged.size && [...merged].every(([k, v]) => result.get(k) === v)
    if (!same) {
      throw new EnvsyncError(`Render did not store the ${kind.path.replace('-', ' ')} of service ${dest.config.service} as sent`, {
        code: 'RENDER_VERIFY',
        exitCode: 1,
        suggestion: 'someone may have changed them at the same time; run diff and push again',
      })
    }
  }

  private async applyGroup(id: string, kind: Kind, input: ApplyInput): Promise<void> {
    for (const c of input.changes) {
      const path = `/env-groups/${id}/${kind.path}/${encodeURIComponent(c.key)}`
      if (c.action === 'remove') {
        const res = await this.http.send({method: 'DELETE', url: this.url(path), headers: this.headers()})
        // 404 after a retried delete that had gone through: gone, as wanted.
        if (res.status !== 204 && res.status !== 404) throw this.failure(res, path)
      } else {
        await this.send('PUT', path, {[kind.value]: c.value!.reveal()})
      }
    }
  }

  /**
   * One deploy per changed service; an env group change deploys every mapped service. Each
   * deploy is reported for every destination whose values it delivers (the service's, the group).
   */
  async finish(applied: Destination<RenderConfig>[]): Promise<Redeploy[]> {
    const services = new Map<string, {name: string; dests: Destination<RenderConfig>[]}>()
    const add = (id: string, name: string, d: Destination<RenderConfig>) => services.set(id, {name, dests: [...(services.get(id)?.dests ?? []), d]})
    const deploying = applied.filter((x) => x.config.deploy)
    for (const d of deploying) if (d.config.service) add(await this.serviceId(d.config.service), d.config.service, d)
    // An env group change redeploys every service it feeds, including one that receives only
    // shared keys (it has no destination of its own). A service whose lookup fails is skipped:
    // it is reported failed already if it had a destination.
    for (const g of deploying.filter((x) => x.config.envGroup)) {
      for (const ref of g.config.linkedServices ?? []) {
        const id = await this.serviceId(ref).catch(() => '')
        if (id) add(id, ref, g)
      }
    }
    const out: Redeploy[] = []
    for (const [id, {name, dests}] of services) {
      const path = `/services/${id}/deploys`
      const res = await this.http.send({method: 'POST', url: this.url(path), headers: this.headers(), body: {}, idempotent: false}).catch((error: Error) => error)
      const failed = res instanceof Error ? res : res.status !== 201 && res.status !== 202 ? this.failure(res, path) : undefined
      const outcome: Pick<Redeploy, 'what' | 'status' | 'error'> = failed ? {what: `service ${name} deploy`, status: 'failed', error: failed.message} : {what: `service ${name} deployed`, status: 'applied'}
      for (const d of dests) out.push({destination: d.id, label: d.label, ...outcome})
    }
    return out
  }

  /** Every env var or secret file of a service, following the cursor to the last page. */
  private async serviceItems(id: string, kind: Kind): Promise<Item[]> {
    const out: Item[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await this.get<Page<Record<string, Record<string, string>>>>(`/services/${id}/${kind.path}?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      out.push(...page.map((i) => ({name: i[kind.item][kind.name], value: i[kind.item][kind.value]})))
      if (page.length < PAGE) return out
      cursor = page.at(-1)!.cursor
    }
  }

  /**
   * An env group: vars and files come in one answer (not paged), so its two destinations share
   * one read per run. An adapter lives for one run; a write to the group forgets the read.
   */
  private group(id: string): Promise<Group> {
    let read = this.groupReads.get(id)
    if (!read) {
      read = this.get<Group>(`/env-groups/${id}`)
      read.catch(() => this.groupReads.delete(id))
      this.groupReads.set(id, read)
    }
    return read
  }

  private serviceId(nameOrId: string): Promise<string> {
    return this.idOf(COLLECTIONS.services, nameOrId)
  }

  private groupId(nameOrId: string): Promise<string> {
    return this.idOf(COLLECTIONS.groups, nameOrId)
  }

  /** An id as it is, or a name looked up once per run. */
  private idOf(c: Collection, nameOrId: string): Promise<string> {
    const key = `${c.path}/${nameOrId}`
    let id = this.ids.get(key)
    if (!id) {
      // Only the shape of an id is taken as one; anything else is a name to look up (and every
      // id from a lookup is checked too), so nothing from the manifest or a server reaches a URL
      // path as it is ("srv-x/../../env-groups/…").
      id = c.id.test(nameOrId) ? Promise.resolve(nameOrId) : this.findByName(c, nameOrId)
      this.ids.set(key, id)
    }
    return id
  }

  /** Exact-name lookup; Render's `name` filter is not documented as exact, so filter here too. */
  private async findByName(c: Collection, name: string): Promise<string> {
    const matches: {id: string; name: string}[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await this.get<(Record<string, {id: string; name: string}> & {cursor?: string; id?: string; name?: string})[]>(`/${c.path}?name=${encodeURIComponent(name)}${c.query}&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      // Services come wrapped with a cursor ({service, cursor}); env groups come bare, paged by id.
      const items = page.map((i) => (c.wrapped ? i.service : {id: i.id!, name: i.name!}))
      matches.push(...items.filter((x) => x.name === name))
      if (page.length < PAGE) break
      cursor = c.wrapped ? page.at(-1)!.cursor : items.at(-1)!.id
    }
    if (matches.length === 1 && c.id.test(matches[0].id)) return matches[0].id
    if (matches.length === 1) throw new EnvsyncError(`Render answered an id of unexpected shape for ${c.what} "${name}"`, {code: 'RENDER_BAD_ID', exitCode: 1, suggestion: `put the ${c.what}'s id in the manifest`})
    throw new EnvsyncError(
      matches.length === 0 ? `no Render ${c.what} named "${name}"` : `${matches.length} Render ${c.what}s are named "${name}": ${matches.map((m) => m.id).join(', ')}`,
      {code: 'RENDER_NAME', exitCode: 1, suggestion: matches.length === 0 ? `check the name, or use the ${c.what}'s id` : `use the id of the one you mean in the manifest`},
    )
  }

  private headers(): Record<string, string> {
    const key = credentialFrom(this.env, 'RENDER_API_KEY')
    if (!key) throw new EnvsyncError('no Render API key', {code: 'RENDER_NO_KEY', exitCode: 1, suggestion: 'set RENDER_API_KEY (Account settings → API keys)'})
    return {authorization: `Bearer ${key}`}
  }

  private url(path: string): string {
    return `${endpointFrom(this.env, 'RENDER_API_URL', RENDER_ENDPOINT)}${path}`
  }

  private async get<T>(path: string): Promise<T> {
    const res = await this.http.send({method: 'GET', url: this.url(path), headers: this.headers()})
    if (res.status !== 200) throw this.failure(res, path)
    return res.json as T
  }

  private async send(method: 'PUT', path: string, body: unknown): Promise<HttpResponse> {
    const res = await this.http.send({method, url: this.url(path), headers: this.headers(), body})
    if (res.status !== 200) throw this.failure(res, path)
    return res
  }

  private failure(res: HttpResponse, path: string): EnvsyncError {
    const message = (res.json as {message?: string} | undefined)?.message ?? `HTTP ${res.status}`
    const where = path.split('?')[0]
    if (res.status === 401 || res.status === 403) {
      return new EnvsyncError(`Render refused ${where}: ${message}`, {code: 'RENDER_UNAUTHORIZED', exitCode: 1, suggestion: 'check RENDER_API_KEY: it must be a valid key of the account that owns the service'})
    }
    if (res.status === 404) return new EnvsyncError(`Render has no ${where}`, {code: 'RENDER_NOT_FOUND', exitCode: 1, suggestion: 'check the service or env group id in the manifest'})
    return new EnvsyncError(`Render ${where}: ${message}`, {code: 'RENDER_ERROR', exitCode: 1})
  }
}

