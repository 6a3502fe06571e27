import {EnvsyncError} from '../errors.js'
import {Secret} from '../secret.js'
import {documents} from './railway-documents.js'
import {credentialFrom, endpointFrom, HttpClient} from './http.js'
import {WRITE_ONLY, type ApplyInput, type Destination, type LiveState, type Redeploy, type Target} from './target.js'

/**
 * Railway (GraphQL): one destination per mapped service, plus the environment's shared
 * variables. Reads are unrendered (references stay literal), writes of a destination go in one
 * variableCollectionUpsert with skipDeploys, removals one variableDelete each, and each changed
 * service is redeployed once after all writes when asked. Never `replace: true`.
 */
export interface RailwayConfig {
  /** Project id or name. */
  project: string
  /** Environment id or name. */
  environment: string
  /** Service id or name; undefined: the environment's shared variables. */
  service?: string
  /** For the shared variables: the Railway services (ids or names) that receive them, redeployed when they change. */
  linkedServices?: string[]
  deploy: boolean
}

export const RAILWAY_ENDPOINT = 'https://backboard.railway.com/graphql/v2'

interface Ids {
  projectId: string
  environmentId: string
  services: Map<string, string>
}

interface Auth {
  header: Record<string, string>
  /** Which variable and header, for error messages. */
  variable: string
  projectToken: boolean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class RailwayTarget implements Target<RailwayConfig> {
  readonly kind = 'railway' as const
  private readonly http = new HttpClient({service: 'Railway'})
  private auth?: Auth
  /** Services a variableDelete already redeployed (it cannot skip deploys). */
  private readonly deployedByDelete = new Set<string>()
  private tokenScope?: Promise<{projectId: string; environmentId: string} | undefined>
  private readonly ids = new Map<string, Promise<Ids>>()

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get requests(): number {
    return this.http.requests
  }

  async read(dest: Destination<RailwayConfig>): Promise<LiveState> {
    const {projectId, environmentId, serviceId} = await this.where(dest.config)
    const data = await this.call<{variables: Record<string, string | null>}>(documents.VARIABLES, {projectId, environmentId, serviceId})
    const values: LiveState['values'] = new Map()
    for (const [k, v] of Object.entries(data.variables ?? {})) values.set(k, v === null ? WRITE_ONLY : new Secret(v))
    return {exists: true, values}
  }

  async apply(dest: Destination<RailwayConfig>, input: ApplyInput): Promise<void> {
    const {projectId, environmentId, serviceId} = await this.where(dest.config)
    const upserts = input.changes.filter((c) => c.action !== 'remove')
    if (upserts.length > 0) {
      const variables = Object.fromEntries(upserts.map((c) => [c.key, c.value!.reveal()]))
      await this.call(documents.UPSERT, {input: {projectId, environmentId, serviceId, variables, skipDeploys: true}})
    }
    for (const c of input.changes.filter((x) => x.action === 'remove')) {
      // variableDelete has no skipDeploys: Railway redeploys the service itself.
      if (serviceId) this.deployedByDelete.add(serviceId)
      try {
        await this.call(documents.DELETE, {input: {projectId, environmentId, serviceId, name: c.key}})
      } catch (error) {
        // A retried delete that had already gone through: the variable is gone, as wanted.
        if (!(error instanceof EnvsyncError && /not found/i.test(error.message))) throw error
      }
    }
  }

  /**
   * One redeploy per changed service; a shared-variable change redeploys the services that
   * receive shared keys — never the rest of the project (a database beside the app). Each deploy
   * is reported for every destination whose values it delivers (the service's own, the shared).
   */
  async finish(applied: Destination<RailwayConfig>[]): Promise<Redeploy[]> {
    const services = new Map<string, {environmentId: string; serviceId: string; name: string; dests: Destination<RailwayConfig>[]}>()
    for (const d of applied.filter((x) => x.config.deploy)) {
      const ids = await this.where(d.config)
      const refs = ids.serviceId ? [d.config.service!] : (d.config.linkedServices ?? [])
      for (const ref of refs) {
        const serviceId = ids.serviceId ?? (await this.where({...d.config, service: ref})).serviceId!
        const key = `${ids.environmentId}/${serviceId}`
        const entry = services.get(key) ?? {environmentId: ids.environmentId, serviceId, name: ref, dests: []}
        entry.dests.push(d)
        services.set(key, entry)
      }
    }
    // A variableDelete's own deploy has the service's values (its upsert came first), but not
    // shared variables written at the same time by another destination: then redeploy anyway.
    const sharedChanged = applied.some((d) => d.config.service === undefined)
    const out: Redeploy[] = []
    for (const {environmentId, serviceId, name, dests} of services.values()) {
      let outcome: Pick<Redeploy, 'what' | 'status' | 'error'>
      if (!sharedChanged && this.deployedByDelete.has(serviceId)) {
        outcome = {what: `service ${name} redeployed (by Railway, on the variable removal)`, status: 'applied'}
      } else {
        try {
          await this.call(documents.REDEPLOY, {environmentId, serviceId}, false)
          outcome = {what: `service ${name} redeployed`, status: 'applied'}
        } catch (error) {
          outcome = {what: `service ${name} redeploy`, status: 'failed', error: (error as Error).message}
        }
      }
      for (const d of dests) out.push({destination: d.id, label: d.label, ...outcome})
    }
    return out
  }

  private async where(config: RailwayConfig): Promise<{projectId: string; environmentId: string; serviceId?: string}> {
    const ids = await this.resolve(config)
    if (config.service === undefined) return {projectId: ids.projectId, environmentId: ids.environmentId}
    // The map holds names and ids alike (each id maps to itself).
    const serviceId = ids.services.get(config.service)
    if (!serviceId) {
      throw new EnvsyncError(`Railway project has no service "${config.service}"`, {
        code: 'RAILWAY_NO_SERVICE',
        exitCode: 1,
        suggestion: `services: ${[...ids.services.keys()].join(', ') || '(none)'}`,
      })
    }
    return {projectId: ids.projectId, environmentId: ids.environmentId, serviceId}
  }

  /** Project, environment and service ids from ids or names; one lookup per project and run. */
  private resolve(config: RailwayConfig): Promise<Ids> {
    const key = `${config.project}/${config.environment}`
    let ids = this.ids.get(key)
    if (!ids) {
      ids = this.lookup(config)
      this.ids.set(key, ids)
    }
    return ids
  }

  private async lookup(config: RailwayConfig): Promise<Ids> {
    const scope = await this.scope(config)
    let projectId = scope?.projectId
    if (!projectId) projectId = UUID.test(config.project) ? config.project : await this.projectByName(config)
    type Conn = {edges: {node: {id: string; name: string}}[]}
    const {project} = await this.call<{project: {id: string; name: string; environments: Conn; services: Conn}}>(documents.PROJECT, {id: projectId})
    if (scope && config.project !== project.id && config.project !== project.name) {
      throw new EnvsyncError(`RAILWAY_TOKEN is a project token for "${project.name}", not "${config.project}"`, {code: 'RAILWAY_TOKEN_SCOPE', exitCode: 1, suggestion: 'use that project in the manifest, or a token of the right project'})
    }
    const envs = project.environments.edges.map((e) => e.node)
    const environment = envs.find((e) => e.id === config.environment || e.name === config.environment)
    if (!environment) {
      throw new EnvsyncError(`Railway project "${project.name}" has no environment "${config.environment}"`, {
        code: 'RAILWAY_NO_ENVIRONMENT',
        exitCode: 1,
        suggestion: `environments: ${envs.map((e) => e.name).join(', ')} (set \`environment:\` in the railway target)`,
      })
    }
    if (scope && scope.environmentId !== environment.id) {
      throw new EnvsyncError(`RAILWAY_TOKEN only grants the environment it was made for, not "${environment.name}"`, {code: 'RAILWAY_TOKEN_SCOPE', exitCode: 1, suggestion: 'use RAILWAY_API_TOKEN, or a project token of that environment'})
    }
    const services = new Map<string, string>()
    for (const {node} of project.services.edges) {
      services.set(node.name, node.id)
      services.set(node.id, node.id)
    }
    return {projectId: project.id, environmentId: environment.id, services}
  }

  private async projectByName(config: RailwayConfig): Promise<string> {
    const names: string[] = []
    let after: string | undefined
    for (;;) {
      type Page = {projects: {edges: {node: {id: string; name: string}}[]; pageInfo: {hasNextPage: boolean; endCursor?: string}}}
      const {projects} = await this.call<Page>(documents.PROJECTS, {after})
      for (const {node} of projects.edges) {
        if (node.name === config.project) return node.id
        names.push(node.name)
      }
      if (!projects.pageInfo.hasNextPage || !projects.pageInfo.endCursor) break
      after = projects.pageInfo.endCursor
    }
    throw new EnvsyncError(`no Railway project named "${config.project}"`, {code: 'RAILWAY_NO_PROJECT', exitCode: 1, suggestion: `projects: ${names.join(', ') || '(none visible to this token)'}`})
  }

  /** The token and its header, from the environment; both or neither set is an error. */
  private credentials(): Auth {
    if (this.auth) return this.auth
    const account = credentialFrom(this.env, 'RAILWAY_API_TOKEN')
    const project = credentialFrom(this.env, 'RAILWAY_TOKEN')
    if (account && project) {
      throw new EnvsyncError('both RAILWAY_API_TOKEN and RAILWAY_TOKEN are set', {code: 'RAILWAY_TOKENS', exitCode: 1, suggestion: 'unset one: RAILWAY_API_TOKEN (account or workspace token) or RAILWAY_TOKEN (project token)'})
    }
    if (account) this.auth = {header: {authorization: `Bearer ${account}`}, variable: 'RAILWAY_API_TOKEN (sent as Authorization: Bearer)', projectToken: false}
    else if (project) this.auth = {header: {'project-access-token': project}, variable: 'RAILWAY_TOKEN (sent as Project-Access-Token)', projectToken: true}
    else throw new EnvsyncError('no Railway token', {code: 'RAILWAY_NO_TOKEN', exitCode: 1, suggestion: 'set RAILWAY_API_TOKEN (account or workspace token) or RAILWAY_TOKEN (project token)'})
    return this.auth
  }

  /** A project token is scoped to one project and environment: ask which. */
  private scope(config: RailwayConfig): Promise<{projectId: string; environmentId: string} | undefined> {
    this.tokenScope ??= this.credentials().projectToken
      ? this.call<{projectToken: {projectId: string; environmentId: string}}>(documents.PROJECT_TOKEN, {}).then((d) => d.projectToken)
      : Promise.resolve(undefined)
    return this.tokenScope
  }

  private async call<T>(query: string, variables: Record<string, unknown>, idempotent = true): Promise<T> {
    const auth = this.credentials()
    const res = await this.http.send({method: 'POST', url: endpointFrom(this.env, 'RAILWAY_API_URL', RAILWAY_ENDPOINT), headers: auth.header, body: {query, variables}, idempotent})
    const body = res.json as {data?: T; errors?: {message?: string}[]} | undefined
    const message = body?.errors?.map((e) => e.message).join('; ')
    if (message || res.status !== 200 || !body?.data) {
      const text = message ?? `HTTP ${res.status}`
      if (/not authori[sz]ed/i.test(text) || res.status === 401 || res.status === 403) {
        throw new EnvsyncError(`Railway refused the request: ${text} (token from ${auth.variable})`, {
          code: 'RAILWAY_UNAUTHORIZED',
          exitCode: 1,
          suggestion: 'check that the token is valid and can see this project; a project token only works for its own project and environment',
        })
      }
      throw new EnvsyncError(`Railway: ${text}`, {code: 'RAILWAY_ERROR', exitCode: 1})
    }
    return body.data
  }
}
