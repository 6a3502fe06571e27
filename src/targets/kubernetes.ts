import https from 'node:https'
import {setTimeout as sleep} from 'node:timers/promises'

import type * as K8s from '@kubernetes/client-node'

import {now} from '../clock.js'
import {EnvsyncError} from '../errors.js'
import {registerSecret} from '../redact.js'
import {Secret} from '../secret.js'
import {plural} from '../words.js'
import {backoff, networkProblem, retryAfterMs, retrySettings, RETRY_STATUS} from './http.js'
import {kubeconfigFiles, loadKubeconfig, selectContext, type Kubeconfig} from './kubeconfig.js'
import {checkSecretData} from './kubernetes-data.js'
import {restartReaders, type SecretToRestart} from './kubernetes-restart.js'
import type {ApplyInput, Destination, LiveState, Redeploy, Target} from './target.js'

/**
 * Kubernetes: one Opaque Secret per service, written with server-side apply (field manager
 * "envsync"), so no last-applied-configuration annotation ever holds values and the API server
 * itself records which keys envsync owns (managedFields). @kubernetes/client-node is imported on
 * first use: it is slow to load and most commands never need it.
 */
export interface KubernetesConfig {
  /** kubeconfig context; default: the current one. */
  context?: string
  /** Default: the context's namespace, else "default". */
  namespace?: string
  name: string
  createNamespace: boolean
  labels: Record<string, string>
  /** After a change: rollout restart the workloads whose pods read this Secret (push --deploy, rotate). */
  restart: boolean
}

export const FIELD_MANAGER = 'envsync'

/** One kubeconfig context's API client. */
interface Client {
  core: K8s.CoreV1Api
  /** Workloads, for a rollout restart. */
  apps: K8s.AppsV1Api
  /** The context's namespace, else "default". */
  namespace: string
  k8s: KubernetesClientModule
}

/** The client's parts envsync uses: their one list is kubernetes-client.ts. */
type KubernetesClientModule = typeof import('./kubernetes-client.js')

/** Loaded on first use: most commands never reach Kubernetes. */
const loadClientModule = (): Promise<KubernetesClientModule> => import('./kubernetes-client.js')

export interface KubernetesOptions {
  /** Take ownership of fields another field manager holds (server-side apply force). */
  forceConflicts?: boolean
  /** Create a missing namespace even when the manifest does not ask. */
  createNamespace?: boolean
  /** --context: the kubeconfig context for every Kubernetes destination, over the manifest's `context:`. */
  context?: string
}

export class KubernetesTarget implements Target<KubernetesConfig> {
  readonly kind = 'kubernetes' as const
  /**
   * The kubeconfig is read once per run and each context connected once: a kubeconfig problem is
   * one error object for every destination (the renderers show it once), not one per Secret.
   */
  private kubeconfig?: {config?: Kubeconfig; error?: unknown}
  private readonly clients = new Map<string, Promise<Client>>()
  private readonly namespaces = new Map<string, Promise<void>>()
  /** Whether a namespace exists, asked once per context and run (undefined: RBAC does not let us ask). */
  private readonly namespaceChecks = new Map<string, Promise<boolean | undefined>>()
  private readonly transport = new Transport()

  constructor(private readonly options: KubernetesOptions = {}) {}

  get requests(): number {
    return this.transport.requests
  }

  async read(dest: Destination<KubernetesConfig>): Promise<LiveState> {
    const client = await this.client(dest.config)
    const {core, namespace, context} = client
    // A namespace check push's preflight already made answers for the cluster: a cluster that did
    // not answer it is one error for every Secret there, without a second round of retries.
    await this.namespaceChecks.get(`${context}/${namespace}`)
    let secret: K8s.V1Secret
    try {
      secret = await core.readNamespacedSecret({name: dest.config.name, namespace})
    } catch (error) {
      if (statusOf(error) !== 404) throw explain(error, dest, namespace)
      // No Secret: a new one, unless its namespace is missing too and push will not create it.
      if (!this.createsNamespace(dest) && (await this.namespaceExists(client)) === false) throw noNamespace([namespace])
      return {exists: false, values: new Map(), owned: new Set()}
    }
    const values: LiveState['values'] = new Map()
    for (const [k, v] of Object.entries(secret.data ?? {})) values.set(k, Secret.fromBytes(Buffer.from(v, 'base64')))
    return {exists: true, values, owned: ownedKeys(secret), conflicts: this.options.forceConflicts ? undefined : otherManagers(secret)}
  }

  /** Push refuses up front, before any destination is written, a namespace it will not create. */
  async preflight(dests: Destination<KubernetesConfig>[]): Promise<void> {
    const missing = new Set<string>()
    for (const dest of dests) {
      if (this.createsNamespace(dest)) continue
      try {
        const client = await this.client(dest.config)
        if ((await this.namespaceExists(client)) === false) missing.add(client.namespace)
      } catch {
        // A kubeconfig or cluster problem: each read reports it, once for all of them.
      }
    }
    if (missing.size > 0) throw noNamespace([...missing].sort())
  }

  private createsNamespace(dest: Destination<KubernetesConfig>): boolean {
    return dest.config.createNamespace || this.options.createNamespace === true
  }

  private namespaceExists({core, context, namespace}: Client & {context: string}): Promise<boolean | undefined> {
    const key = `${context}/${namespace}`
    let check = this.namespaceChecks.get(key)
    if (!check) {
      check = core.readNamespace({name: namespace}).then(
        () => true,
        (error) => {
          const status = statusOf(error)
          if (status === 404) return false
          if (status === 401 || status === 403) return undefined
          throw explain(error, undefined, namespace)
        },
      )
      this.namespaceChecks.set(key, check)
    }
    return check
  }

  async apply(dest: Destination<KubernetesConfig>, input: ApplyInput): Promise<void> {
    const client = await this.client(dest.config)
    const {core, namespace, k8s} = client
    checkLimits(dest, input)
    // What the plan showed as conflicts, refused with the plan's words before anything is sent.
    const conflicts = new Map(input.changes.filter((c) => c.action === 'update' && input.live.conflicts?.has(c.key)).map((c) => [c.key, input.live.conflicts!.get(c.key)!]))
    if (conflicts.size > 0) throw conflictError(`secret ${namespace}/${dest.config.name}`, conflicts)
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: dest.config.name, namespace, labels: dest.config.labels},
      type: 'Opaque',
      data: Object.fromEntries([...input.desired].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Buffer.from(v.reveal(), 'utf8').toString('base64')])),
    }
    try {
      if (this.createsNamespace(dest)) await this.ensureNamespace(client)
      // Server-side apply removes only fields envsync alone owns. Keys to remove that another
      // manager also holds (a kubectl edit, or --prune of keys never ours) go explicitly first.
      const removals = input.changes.filter((c) => c.action === 'remove').map((c) => c.key)
      if (removals.length > 0) {
        await core.patchNamespacedSecret(
          {name: dest.config.name, namespace, body: {data: Object.fromEntries(removals.map((k) => [k, null]))}, fieldManager: FIELD_MANAGER},
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        )
      }
      await core.patchNamespacedSecret(
        {name: dest.config.name, namespace, body, fieldManager: FIELD_MANAGER, force: this.options.forceConflicts === true},
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      )
    } catch (error) {
      throw explain(error, dest, namespace)
    }
  }

  /**
   * After the writes, a rollout restart of the workloads whose pods read each changed Secret
   * (restart: push --deploy, rotate), one LIST per workload kind and namespace.
   */
  async finish(applied: Destination<KubernetesConfig>[]): Promise<Redeploy[]> {
    const byNamespace = new Map<string, {client: Client & {context: string}; secrets: SecretToRestart[]}>()
    for (const d of applied.filter((x) => x.config.restart)) {
      const client = await this.client(d.config)
      const key = `${client.context}/${client.namespace}`
      const group = byNamespace.get(key) ?? {client, secrets: []}
      group.secrets.push({destination: d.id, label: d.label, secret: d.config.name})
      byNamespace.set(key, group)
    }
    const out: Redeploy[] = []
    for (const {client, secrets} of byNamespace.values()) {
      const {apps, k8s, namespace} = client
      out.push(...(await restartReaders({apps, fieldManager: FIELD_MANAGER, patchOptions: k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch)}, namespace, secrets, now(), restartProblem)))
    }
    return out
  }

  /** Once per namespace, cluster and run: create it unless it is known to exist (409: someone else just did). */
  private ensureNamespace(client: Client & {context: string}): Promise<void> {
    const {core, context, namespace: name} = client
    let ready = this.namespaces.get(`${context}/${name}`)
    if (!ready) {
      ready = (async () => {
        if ((await this.namespaceExists(client)) === true) return
        try {
          await core.createNamespace({body: {metadata: {name, labels: {'app.kubernetes.io/managed-by': 'envsync'}}}})
        } catch (createError) {
          if (statusOf(createError) !== 409) throw createError
        }
      })()
      this.namespaces.set(`${context}/${name}`, ready)
    }
    return ready
  }

  private async client(config: KubernetesConfig): Promise<Client & {context: string}> {
    const requested = this.options.context !== undefined ? {name: this.options.context, from: '--context'} : config.context !== undefined ? {name: config.context, from: '`context:` in the manifest'} : undefined
    const key = requested?.name ?? ''
    let client = this.clients.get(key)
    if (!client) {
      client = this.connect(requested)
      this.clients.set(key, client)
    }
    const c = await client
    return {...c, namespace: config.namespace ?? c.namespace, context: key}
  }

  private async connect(requested?: {name: string; from: string}): Promise<Client> {
    this.kubeconfig ??= (() => {
      try {
        return {config: loadKubeconfig()}
      } catch (error) {
        return {error}
      }
    })()
    if (this.kubeconfig.error) throw this.kubeconfig.error
    const k8s = await loadClientModule()
    const kc = new k8s.KubeConfig()
    const config = this.kubeconfig.config
    if (config) {
      const context = selectContext(config, requested)
      kc.loadFromString(context.document)
      return {...apis(k8s, kc, this.transport), namespace: context.namespace ?? 'default', k8s}
    }
    // No kubeconfig file: inside a pod, the service account (as kubectl does); else nothing to use.
    if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT && !requested) {
      kc.loadFromCluster()
      return {...apis(k8s, kc, this.transport), namespace: kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default', k8s}
    }
    const {files, fromEnv} = kubeconfigFiles()
    throw new EnvsyncError(fromEnv ? `no kubeconfig: ${files.length === 1 ? `KUBECONFIG names ${files[0]}, which does not exist` : `none of the KUBECONFIG files exists (${files.join(', ') || 'the list is empty'})`}` : `no kubeconfig: ${files[0]} does not exist and KUBECONFIG is not set`, {
      code: 'K8S_NO_KUBECONFIG',
      exitCode: 1,
      suggestion: 'set KUBECONFIG to your cluster\'s kubeconfig or create ~/.kube/config (`kubectl config current-context` should name a context)',
    })
  }
}

/** The one wording of a missing namespace: diff's plan, push's preflight, a write that met one. */
function noNamespace(names: string[]): EnvsyncError {
  const list = names.join(', ')
  return new EnvsyncError(`${names.length === 1 ? `namespace ${list} does not exist` : `namespaces ${list} do not exist`}; push needs --create-namespace or createNamespace: true`, {
    code: 'K8S_NO_NAMESPACE',
    exitCode: 1,
    suggestion: `create it (kubectl create namespace ${names[0]}), set \`createNamespace: true\` in the kubernetes target, or pass --create-namespace to push`,
  })
}

/** Keys another field manager holds, as push refuses them (diff's plan notes each such key). */
function conflictError(where: string, conflicts: Map<string, string[]>): EnvsyncError {
  const keys = [...conflicts].map(([key, managers]) => `${key} (${managers.join(', ')})`)
  return new EnvsyncError(`${where}: ${keys.length === 1 ? 'a key is' : 'keys are'} owned by another field manager: ${keys.join(', ')}; push needs --force-conflicts`, {
    code: 'K8S_CONFLICT',
    exitCode: 1,
    suggestion: 'another tool set these keys (kubectl edit, kubectl apply, helm…); pass --force-conflicts to take them over',
  })
}

/** Why a workload could not be listed or restarted, naming the RBAC a restart needs. */
function restartProblem(error: unknown, what: string): EnvsyncError {
  const status = statusOf(error)
  const body = bodyOf(error)
  if (status === undefined) return error instanceof EnvsyncError ? error : new EnvsyncError(`Kubernetes client error for ${what}: ${(error as Error)?.message ?? String(error)}`, {code: 'K8S_UNREACHABLE', exitCode: 1})
  if (status === 401 || status === 403) {
    return new EnvsyncError(`the Kubernetes API refused access to ${what} (${status} ${body.reason ?? ''}): a rollout restart needs list and patch on deployments, statefulsets and daemonsets`, {
      code: 'K8S_FORBIDDEN',
      exitCode: 1,
      suggestion: 'grant the kubeconfig user list and patch on deployments, statefulsets and daemonsets in that namespace, or restart them yourself (kubectl rollout restart)',
    })
  }
  if (status === 404) return new EnvsyncError(`${what} is gone (deleted since it was listed)`, {code: 'K8S_NOT_FOUND', exitCode: 1})
  return new EnvsyncError(`${what}: ${status} ${body.message ?? body.reason ?? ''}`.trim(), {code: 'K8S_ERROR', exitCode: 1})
}

function explain(error: unknown, dest: Destination<KubernetesConfig> | undefined, namespace: string): EnvsyncError {
  if (error instanceof EnvsyncError) return error
  const status = statusOf(error)
  const body = bodyOf(error)
  const where = dest ? `secret ${namespace}/${dest.config.name}` : `namespace ${namespace}`
  const fail = (message: string, code: string, suggestion?: string) => new EnvsyncError(message, {code, exitCode: 1, suggestion})
  if (status === undefined) {
    // Not an answer from the API server: the client or its credential plugin failed.
    return fail(`Kubernetes client error for ${where}: ${(error as Error)?.message ?? String(error)}`, 'K8S_UNREACHABLE', 'check the kubeconfig user (exec plugin, certificates); rerunning push converges')
  }
  if (status === 409 && body.reason === 'Conflict') {
    // Causes read `.data.KEY` / `conflict with "kubectl-edit" using v1`: the plan's words.
    const conflicts = new Map<string, string[]>()
    for (const c of body.details?.causes ?? []) {
      const key = /^\.data\.(.+)$/.exec(c.field ?? '')?.[1] ?? c.field ?? '?'
      const manager = /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? c.message ?? '?'
      conflicts.set(key, [...(conflicts.get(key) ?? []), manager])
    }
    if (conflicts.size > 0) return conflictError(where, conflicts)
    return fail(`${where}: fields are owned by another field manager: ${body.message ?? ''}`, 'K8S_CONFLICT', 'pass --force-conflicts to take them over')
  }
  if (status === 422 && /immutable/i.test(body.message ?? '')) {
    return fail(`${where} is immutable: its data cannot change`, 'K8S_IMMUTABLE', `delete it (kubectl delete secret -n ${namespace} ${dest?.config.name}) and push again, or use a new secretName`)
  }
  if (status === 404) return noNamespace([namespace])
  if (status === 401 || status === 403) {
    return fail(`the Kubernetes API refused access to ${where} (${status} ${body.reason ?? ''})`, 'K8S_FORBIDDEN', 'check the kubeconfig credentials and RBAC: envsync needs get and patch on secrets')
  }
  return fail(`${where}: ${status} ${body.message ?? body.reason ?? ''}`.trim(), 'K8S_ERROR')
}

/**
 * Every request of the Kubernetes client, bounded and retried as the HTTP helper does for every
 * platform (same settings, same backoff, ENVSYNC_HTTP_TIMEOUT_MS / ENVSYNC_HTTP_BACKOFF_MS): a
 * timeout per attempt covering the answer and its body, retries on network errors, 5xx and 429 for
 * requests that are safe to repeat (all but POST, which is retried only on 429/503: not processed).
 */
class Transport {
  requests = 0
  private inner?: K8s.HttpLibrary

  bind(k8s: KubernetesClientModule): K8s.HttpLibrary {
    this.inner ??= new k8s.IsomorphicFetchHttpLibrary()
    const send = this.send.bind(this, k8s)
    return k8s.wrapHttpLibrary({send})
  }

  private async send(k8s: KubernetesClientModule, request: K8s.RequestContext): Promise<K8s.ResponseContext> {
    const {timeoutMs, retries, backoffMs, maxWaitMs} = retrySettings()
    const idempotent = request.getHttpMethod() !== 'POST'
    for (let attempt = 0; ; attempt++) {
      const signal = AbortSignal.timeout(timeoutMs)
      request.setSignal(signal)
      let res: K8s.ResponseContext
      let body: Buffer
      try {
        this.requests++
        res = await this.inner!.send(request).toPromise()
        body = await res.body.binary()
      } catch (error) {
        const code = (error as {code?: string}).code
        const problem = signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (code ?? networkProblem(error))
        // A certificate that does not verify will not verify on the next attempt either.
        const tls = code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL/.test(code)
        if (attempt >= retries || !idempotent || tls) throw unreachable(request.getUrl(), tls ? `TLS: ${code}` : problem, attempt + 1)
        await sleep(backoff(attempt, backoffMs))
        continue
      }
      const status = res.httpStatusCode
      const wait = RETRY_STATUS.has(status) ? retryAfterMs(new Headers(res.headers)) : undefined
      if (RETRY_STATUS.has(status) && attempt < retries && (idempotent || status === 429 || status === 503) && (wait ?? 0) <= maxWaitMs) {
        await sleep(wait ?? backoff(attempt, backoffMs))
        continue
      }
      return new k8s.ResponseContext(status, res.headers, {binary: async () => body, text: async () => body.toString('utf8')})
    }
  }
}

function unreachable(url: string, problem: string, attempts: number): EnvsyncError {
  return new EnvsyncError(`cannot reach the Kubernetes API at ${new URL(url).host} (${problem}) after ${plural(attempts, 'attempt')}`, {
    code: 'K8S_UNREACHABLE',
    exitCode: 1,
    suggestion: 'check that the cluster is up and the kubeconfig context is right; rerunning push converges',
  })
}

/**
 * CoreV1Api and AppsV1Api like kc.makeApiClient, through the bounded transport, and with one keep-alive agent
 * for the whole run: client-node builds a new agent — so a new TLS handshake — for every request,
 * which doubled a push's time (bench/kubernetes.js). Authentication (tokens, exec plugins, client
 * certificates) stays client-node's own; proxies and plain http keep its agents.
 */
function apis(k8s: KubernetesClientModule, kc: K8s.KubeConfig, transport: Transport): {core: K8s.CoreV1Api; apps: K8s.AppsV1Api} {
  const cluster = kc.getCurrentCluster()!
  let agent: Promise<https.Agent | undefined> | undefined
  const keepAlive = async (): Promise<https.Agent | undefined> => {
    if (cluster.proxyUrl || !cluster.server.startsWith('https:')) return undefined
    const tls: https.RequestOptions = {}
    await kc.applyToHTTPSOptions(tls)
    return new https.Agent({
      keepAlive: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      pfx: tls.pfx,
      passphrase: tls.passphrase,
      servername: cluster.tlsServerName,
      ...(cluster.skipTLSVerify ? {rejectUnauthorized: false} : tls.rejectUnauthorized === undefined ? {} : {rejectUnauthorized: tls.rejectUnauthorized}),
    })
  }
  const auth: K8s.SecurityAuthentication = {
    getName: () => 'envsync',
    async applySecurityAuthentication(context) {
      // An exec credential plugin is a process: bounded like a request.
      await bounded(kc.applySecurityAuthentication(context), retrySettings().timeoutMs, 'the kubeconfig user\'s credential plugin (exec) did not answer')
      const authorization = context.getHeaders().Authorization
      if (authorization) registerSecret(authorization.replace(/^\w+\s+/, ''))
      const keepAliveAgent = await (agent ??= keepAlive())
      if (keepAliveAgent) context.setAgent(keepAliveAgent)
    },
  }
  const configuration = k8s.createConfiguration({baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: {default: auth}, httpApi: transport.bind(k8s)})
  return {core: new k8s.CoreV1Api(configuration), apps: new k8s.AppsV1Api(configuration)}
}

async function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EnvsyncError(`${what} within ${ms / 1000} s`, {code: 'K8S_AUTH_TIMEOUT', exitCode: 1, suggestion: 'run the plugin by hand (kubectl get ns shows the same problem)'})), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Keys whose data field the envsync field manager owns (server-side apply bookkeeping). */
function ownedKeys(secret: K8s.V1Secret): Set<string> {
  const owned = new Set<string>()
  for (const entry of secret.metadata?.managedFields ?? []) {
    if (entry.manager !== FIELD_MANAGER || entry.operation !== 'Apply') continue
    const data = (entry.fieldsV1 as Record<string, Record<string, unknown>> | undefined)?.['f:data'] ?? {}
    for (const field of Object.keys(data)) if (field.startsWith('f:')) owned.add(field.slice(2))
  }
  return owned
}

/**
 * Keys of the data field other field managers hold (kubectl-edit, kubectl-client-side-apply,
 * helm), with their names: server-side apply refuses to change them without force.
 */
function otherManagers(secret: K8s.V1Secret): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const entry of secret.metadata?.managedFields ?? []) {
    if (entry.manager === FIELD_MANAGER || !entry.manager) continue
    const data = (entry.fieldsV1 as Record<string, Record<string, unknown>> | undefined)?.['f:data'] ?? {}
    for (const field of Object.keys(data)) {
      if (!field.startsWith('f:')) continue
      const managers = out.get(field.slice(2)) ?? []
      if (!managers.includes(entry.manager)) out.set(field.slice(2), [...managers, entry.manager])
    }
  }
  return out
}

/** What the Secret holds after the apply: our keys plus the live ones we leave alone. */
function checkLimits(dest: Destination<KubernetesConfig>, input: ApplyInput): void {
  const removed = new Set(input.changes.filter((c) => c.action === 'remove').map((c) => c.key))
  const kept = [...input.live.values].filter((e): e is [string, Secret] => !input.desired.has(e[0]) && !removed.has(e[0]) && typeof e[1] !== 'symbol')
  checkSecretData(dest.config.name, [...input.desired, ...kept])
}

function statusOf(error: unknown): number | undefined {
  const code = (error as {code?: unknown})?.code
  return typeof code === 'number' ? code : undefined
}

interface StatusBody {
  message?: string
  reason?: string
  details?: {causes?: {field?: string; message?: string}[]}
}

function bodyOf(error: unknown): StatusBody {
  const body = (error as {body?: unknown})?.body
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody
    } catch {
      return {message: body}
    }
  }
  return (body as StatusBody) ?? {}
}
