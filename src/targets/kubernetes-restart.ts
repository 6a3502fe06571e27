import type * as K8s from '@kubernetes/client-node'

import type {Redeploy} from './target.js'

/**
 * A rollout restart, as `kubectl rollout restart` makes it: the pod template's restartedAt
 * annotation set to the time, so the controller rolls new pods that read the Secret anew.
 */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'

/** The workload kinds whose pods a restart replaces (apps/v1), in kubectl's words. */
const KINDS = [
  {name: 'deployment', list: 'listNamespacedDeployment', patch: 'patchNamespacedDeployment'},
  {name: 'statefulset', list: 'listNamespacedStatefulSet', patch: 'patchNamespacedStatefulSet'},
  {name: 'daemonset', list: 'listNamespacedDaemonSet', patch: 'patchNamespacedDaemonSet'},
] as const

type Workload = {kind: (typeof KINDS)[number]; name: string; spec?: K8s.V1PodSpec}

/** What a restart needs of the client: the apps API, and how to send a strategic merge patch. */
export interface RestartClient {
  apps: K8s.AppsV1Api
  patchOptions: K8s.ConfigurationOptions
  fieldManager: string
}

/** A destination to restart for: its Secret, and whom to name in the report. */
export interface SecretToRestart {
  destination: string
  label: string
  secret: string
}

/** Whether a pod spec reads the Secret: env from a key, envFrom, a secret volume or a projected one. */
export function readsSecret(spec: K8s.V1PodSpec | undefined, secret: string): boolean {
  if (!spec) return false
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])]
  const fromEnv = containers.some((c) => (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === secret) || (c.envFrom ?? []).some((e) => e.secretRef?.name === secret))
  const fromVolume = (spec.volumes ?? []).some((v) => v.secret?.secretName === secret || (v.projected?.sources ?? []).some((s) => s.secret?.name === secret))
  return fromEnv || fromVolume
}

/**
 * Restarts, in one namespace, every Deployment, StatefulSet and DaemonSet whose pods read one of
 * the Secrets: one LIST per kind, one PATCH per workload. A refused or failed request is a
 * failed entry for each Secret it concerns (the caller fails those destinations); the others go on.
 */
export async function restartReaders(client: RestartClient, namespace: string, secrets: SecretToRestart[], time: Date, explain: (error: unknown, what: string) => Error): Promise<Redeploy[]> {
  const out: Redeploy[] = []
  const workloads: Workload[] = []
  const unlisted: {kind: string; error: unknown}[] = []
  for (const kind of KINDS) {
    try {
      const list = (await client.apps[kind.list]({namespace})) as {items: {metadata?: {name?: string}; spec?: {template?: {spec?: K8s.V1PodSpec}}}[]}
      for (const item of list.items) workloads.push({kind, name: item.metadata?.name ?? '', spec: item.spec?.template?.spec})
    } catch (error) {
      unlisted.push({kind: `${kind.name}s`, error})
    }
  }
  if (unlisted.length > 0) {
    // Not knowing which workloads of those kinds read a Secret, none of them can be said restarted.
    const kinds = unlisted.map((u) => u.kind).join(', ')
    const message = explain(unlisted[0].error, `${kinds} in namespace ${namespace}`).message
    for (const s of secrets) out.push({destination: s.destination, label: s.label, what: `workloads reading secret ${s.secret}`, status: 'failed', error: message})
  }
  // kubectl's own format (RFC 3339, seconds): the same annotation a `kubectl rollout restart` sets.
  const at = time.toISOString().replace(/\.\d{3}Z$/, 'Z')
  const body = {spec: {template: {metadata: {annotations: {[RESTARTED_AT]: at}}}}}
  const patched = new Map<string, Promise<string | undefined>>()
  for (const s of secrets) {
    const readers = workloads.filter((w) => readsSecret(w.spec, s.secret))
    if (readers.length === 0 && !out.some((r) => r.destination === s.destination)) {
      // Only these kinds are listed: a Job, CronJob or bare Pod may read the Secret all the same.
      out.push({destination: s.destination, label: s.label, what: `no Deployment, StatefulSet or DaemonSet in namespace ${namespace} reads secret ${s.secret}: nothing restarted (Jobs, CronJobs and bare Pods read it when they next start; envsync does not restart them)`, status: 'applied'})
    }
    for (const w of readers) {
      const id = `${w.kind.name}/${w.name}`
      // A workload reading two of the Secrets is restarted once.
      let done = patched.get(id)
      if (!done) {
        done = client.apps[w.kind.patch]({name: w.name, namespace, body, fieldManager: client.fieldManager}, client.patchOptions).then(
          () => undefined,
          (error: unknown) => explain(error, `${id} in namespace ${namespace}`).message,
        )
        patched.set(id, done)
      }
      const error = await done
      out.push(error ? {destination: s.destination, label: s.label, what: `${id} restart`, status: 'failed', error} : {destination: s.destination, label: s.label, what: `${id} restarted`, status: 'applied'})
    }
  }
  return out
}
