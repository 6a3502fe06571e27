import https from 'node:https'

import type * as K8s from '@kubernetes/client-node'

import {EnvsyncError} from '../errors.js'
import {Secret} from '../secret.js'
import {checkSecretData} from './kubernetes-data.js'
import type {ApplyInput, Destination, LiveState, Target} from './target.js'

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
}

export const FIELD_MANAGER = 'envsync'
/** Total decoded size of a Secret's data that the API server accepts (exactly 1 MiB passes). */

interface Client {
  core: K8s.CoreV1Api
  namespace: string
  server: string
  k8s: KubernetesClientModule
  namespaceReady?: Promise<void>
}

type KubernetesClientModule = Pick<typeof K8s, 'KubeConfig' | 'CoreV1Api' | 'setHeaderOptions' | 'PatchStrategy' | 'createConfiguration' | 'ServerConfiguration'>

/**
 * The build bundles the few exports used here (scripts/bundle-kubernetes.js): the package itself
 * is ~900 modules and costs ~550 ms to import; from source (tsx) the package is used directly.
 */
async function loadClientModule(): Promise<KubernetesClientModule> {
  const bundle = '../vendor/kubernetes-client.js'
  try {
    return (await import(bundle)) as KubernetesClientModule
  } catch {
    return import('@kubernetes/client-node')
  }
}

export interface KubernetesOptions {
  /** Take ownership of fields another field manager holds (server-side apply force). */
  forceConflicts?: boolean
  /** Create a missing namespace even when the manifest does not ask. */
  createNamespace?: boolean
}

export class KubernetesTarget implements Target<KubernetesConfig> {
  readonly kind = 'kubernetes' as const
  requests = 0
  private readonly clients = new Map<string, Promise<Client>>()

  constructor(private readonly options: KubernetesOptions = {}) {}

  async read(dest: Destination<KubernetesConfig>): Promise<LiveState> {
    const {core, namespace} = await this.client(dest.config)
    try {
      this.requests++
      const secret = await core.readNamespacedSecret({name: dest.config.name, namespace})
      const values: LiveState['values'] = new Map()
      for (const [k, v] of Object.entries(secret.data ?? {})) values.set(k, new Secret(Buffer.from(v, 'base64').toString('utf8')))
      return {exists: true, values, owned: ownedKeys(secret)}
    } catch (error) {
      if (statusOf(error) === 404) return {exists: false, values: new Map(), owned: new Set()}
      throw await this.explain(error, dest, namespace)
    }
  }

  async apply(dest: Destination<KubernetesConfig>, input: ApplyInput): Promise<void> {
    const client = await this.client(dest.config)
    const {core, namespace, k8s} = client
    checkLimits(dest, input)
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: dest.config.name, namespace, labels: dest.config.labels},
      type: 'Opaque',
      data: Object.fromEntries([...input.desired].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Buffer.from(v.reveal(), 'utf8').toString('base64')])),
    }
    try {
      if (dest.config.createNamespace || this.options.createNamespace) await this.ensureNamespace(client)
      // Server-side apply removes only fields envsync alone owns. Keys to remove that another
      // manager also holds (a kubectl edit, or --prune of keys never ours) go explicitly first.
      const removals = input.changes.filter((c) => c.action === 'remove').map((c) => c.key)
      if (removals.length > 0) {
        this.requests++
        await core.patchNamespacedSecret(
          {name: dest.config.name, namespace, body: {data: Object.fromEntries(removals.map((k) => [k, null]))}, fieldManager: FIELD_MANAGER},
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        )
      }
      this.requests++
      await core.patchNamespacedSecret(
        {name: dest.config.name, namespace, body, fieldManager: FIELD_MANAGER, force: this.options.forceConflicts === true},
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      )
    } catch (error) {
      throw await this.explain(error, dest, namespace)
    }
  }

  /** Once per namespace and run: GET it, create it when missing (409: someone else just did). */
  private ensureNamespace(client: Client): Promise<void> {
    client.namespaceReady ??= (async () => {
      try {
        this.requests++
        await client.core.readNamespace({name: client.namespace})
      } catch (error) {
        if (statusOf(error) !== 404) throw error
        try {
          this.requests++
          await client.core.createNamespace({body: {metadata: {name: client.namespace, labels: {'app.kubernetes.io/managed-by': 'envsync'}}}})
        } catch (createError) {
          if (statusOf(createError) !== 409) throw createError
        }
      }
    })()
    return client.namespaceReady
  }

  private client(config: KubernetesConfig): Promise<Client> {
    const cacheKey = `${config.context ?? ''}/${config.namespace ?? ''}`
    let client = this.clients.get(cacheKey)
    if (!client) {
      client = connect(config)
      this.clients.set(cacheKey, client)
    }
    return client
  }

  private async explain(error: unknown, dest: Destination<KubernetesConfig>, namespace: string): Promise<EnvsyncError> {
    if (error instanceof EnvsyncError) return error
    const status = statusOf(error)
    const body = bodyOf(error)
    const where = `secret ${namespace}/${dest.config.name}`
    const fail = (message: string, code: string, suggestion?: string) => new EnvsyncError(message, {code, exitCode: 1, suggestion})
    if (status === undefined) {
      const cause = (error as {cause?: {code?: string}})?.cause?.code ?? (error as {code?: string})?.code ?? (error as Error)?.message
      const server = (await this.client(dest.config)).server
      return fail(`cannot reach the Kubernetes API at ${server}: ${cause}`, 'K8S_UNREACHABLE', 'check that the cluster is up and the kubeconfig context is right; rerunning push converges')
    }
    if (status === 409 && body.reason === 'Conflict') {
      const fields = (body.details?.causes ?? []).map((c) => `${c.field ?? ''} (${c.message ?? ''})`.trim())
      return fail(`${where}: fields are owned by another field manager: ${fields.join('; ') || body.message}`, 'K8S_CONFLICT', 'another tool manages these keys; pass --force-conflicts to take them over')
    }
    if (status === 422 && /immutable/i.test(body.message ?? '')) {
      return fail(`${where} is immutable: its data cannot change`, 'K8S_IMMUTABLE', `delete it (kubectl delete secret -n ${namespace} ${dest.config.name}) and push again, or use a new secretName`)
    }
    if (status === 404) {
      return fail(`namespace "${namespace}" does not exist`, 'K8S_NO_NAMESPACE', 'create it, set `createNamespace: true` in the kubernetes target, or pass --create-namespace')
    }
    if (status === 401 || status === 403) {
      return fail(`the Kubernetes API refused access to ${where} (${status} ${body.reason ?? ''})`, 'K8S_FORBIDDEN', 'check the kubeconfig credentials and RBAC: envsync needs get and patch on secrets')
    }
    return fail(`${where}: ${status} ${body.message ?? body.reason ?? ''}`.trim(), 'K8S_ERROR')
  }
}

async function connect(config: KubernetesConfig): Promise<Client> {
  const k8s = await loadClientModule()
  const kc = new k8s.KubeConfig()
  kc.loadFromDefault()
  const cluster = kc.getCurrentCluster()
  // With no kubeconfig at all, client-node silently points at http://localhost:8080.
  if (kc.getContexts().length === 0 || !cluster || cluster.server === 'http://localhost:8080') {
    throw new EnvsyncError('no kubeconfig found', {
      code: 'K8S_NO_KUBECONFIG',
      exitCode: 1,
      suggestion: 'set KUBECONFIG or create ~/.kube/config (kubectl config view should show a context)',
    })
  }
  if (config.context) {
    const names = kc.getContexts().map((c) => c.name)
    if (!names.includes(config.context)) {
      throw new EnvsyncError(`kubeconfig has no context "${config.context}"`, {code: 'K8S_NO_CONTEXT', exitCode: 1, suggestion: `contexts: ${names.join(', ')}`})
    }
    kc.setCurrentContext(config.context)
  }
  const namespace = config.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default'
  return {core: await coreApi(k8s, kc), namespace, server: kc.getCurrentCluster()?.server ?? '?', k8s}
}

/**
 * CoreV1Api like kc.makeApiClient, but with one keep-alive agent for the whole run: client-node
 * builds a new agent — so a new TLS handshake — for every request, which doubled a push's time
 * (bench/kubernetes.js). Authentication (tokens, exec plugins, client certificates) stays
 * client-node's own; proxies keep its agents.
 */
async function coreApi(k8s: KubernetesClientModule, kc: K8s.KubeConfig): Promise<K8s.CoreV1Api> {
  const cluster = kc.getCurrentCluster()
  if (!cluster || cluster.proxyUrl || !cluster.server.startsWith('https:')) return kc.makeApiClient(k8s.CoreV1Api)
  const tls: https.RequestOptions = {}
  await kc.applyToHTTPSOptions(tls)
  const agent = new https.Agent({
    keepAlive: true,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    pfx: tls.pfx,
    passphrase: tls.passphrase,
    servername: cluster.tlsServerName,
    ...(cluster.skipTLSVerify ? {rejectUnauthorized: false} : tls.rejectUnauthorized === undefined ? {} : {rejectUnauthorized: tls.rejectUnauthorized}),
  })
  const auth: K8s.SecurityAuthentication = {
    getName: () => 'envsync-keepalive',
    async applySecurityAuthentication(context) {
      await kc.applySecurityAuthentication(context)
      context.setAgent(agent)
    },
  }
  return new k8s.CoreV1Api(k8s.createConfiguration({baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: {default: auth}}))
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
