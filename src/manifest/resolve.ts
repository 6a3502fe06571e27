import path from 'node:path'

import {EnvsyncError, type SourceLocation} from '../errors.js'
import {Secret} from '../secret.js'
import {composeSecretName, type DockerConfig} from '../targets/docker.js'
import type {KubernetesConfig} from '../targets/kubernetes.js'
import type {RailwayConfig} from '../targets/railway.js'
import type {RenderConfig} from '../targets/render.js'
import type {Destination, TargetKind} from '../targets/target.js'
import type {ValuesFile} from '../values/store.js'
import {secretFileName, type Manifest, type SecretDef} from './manifest.js'
import {didYouMean} from './suggest.js'

/** A destination with what should be there: the value of every manifest key that has one. */
export interface Resolved {
  destination: Destination
  desired: Map<string, Secret>
  /** Keys the manifest puts here, with or without a local value (never removed as stale). */
  manifestKeys: Set<string>
  /**
   * The manifest puts nothing here any more. Planned only when the local ownership record says
   * envsync put keys here (so they are removed), and not read otherwise.
   */
  optional?: boolean
  /** Where live names are not manifest keys (Render secret files): manifest key → live name. */
  names?: Map<string, string>
}

export interface ResolveFilter {
  target?: TargetKind
  service?: string
  /** push --deploy: redeploy changed Railway/Render services even if the manifest does not ask. */
  deploy?: boolean
}

/** The labels every Secret envsync writes carries. */
export function secretLabels(project: string, service: string): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'envsync',
    'app.kubernetes.io/part-of': project,
    'app.kubernetes.io/component': service,
  }
}

/** Kubernetes object names: RFC 1123 subdomain, lowercase. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** The Secret name for a service from the name template, or a clear error. */
export function secretName(template: string, project: string, service: string, env: string, locate?: () => SourceLocation): string {
  const name = template.replaceAll('{project}', project).replaceAll('{service}', service).replaceAll('{environment}', env)
  if (name.length > 253 || !K8S_NAME.test(name)) {
    throw new EnvsyncError(`Secret name "${name}" (from secretName "${template}") is not a valid Kubernetes name`, {
      code: 'BAD_SECRET_NAME',
      location: locate?.(),
      suggestion: 'names are lowercase letters, digits, - and ., at most 253 characters',
    })
  }
  return name
}

/**
 * The value a key has: for a target, the manifest's literal override first; then the values
 * file's; then the manifest default (non-sensitive config only). The one definition check,
 * push and export share.
 */
export function valueOf(spec: SecretDef, store: ValuesFile, kind?: TargetKind): Secret | undefined {
  const override = kind === undefined ? undefined : spec.targets?.[kind]
  if (override !== undefined) return new Secret(override)
  const stored = store.values.get(spec.key)
  if (stored) return stored
  return spec.default === undefined ? undefined : new Secret(spec.default)
}

/**
 * Manifest + local values → every destination of an environment, each with its desired values.
 * Pure apart from reading nothing: the store is passed in.
 */
export function resolveDestinations(manifest: Manifest, env: string, store: ValuesFile, filter: ResolveFilter = {}): Resolved[] {
  const targets = manifest.environment(env).targets ?? {}
  const kinds = manifest.targetsOf(env)
  if (filter.target && !kinds.includes(filter.target)) {
    throw new EnvsyncError(`${env} has no ${filter.target} target`, {
      code: 'UNKNOWN_TARGET',
      suggestion: kinds.length > 0 ? `targets of ${env}: ${kinds.join(', ')}` : `add targets: under environments.${env} in the manifest`,
    })
  }
  if (filter.service && !manifest.serviceNames.includes(filter.service)) {
    throw new EnvsyncError(`unknown service "${filter.service}"`, {
      code: 'UNKNOWN_SERVICE',
      suggestion: didYouMean(filter.service, manifest.serviceNames) ?? `services: ${manifest.serviceNames.join(', ')}`,
    })
  }
  if (kinds.length === 0) {
    throw new EnvsyncError(`${env} has no targets to sync with`, {
      code: 'NO_TARGETS',
      location: manifest.locate(['environments', env], {key: true}),
      suggestion: `add e.g. \`targets: {docker: {}}\` under environments.${env}`,
    })
  }
  const secrets = manifest.secretsFor(env)
  const out: Resolved[] = []
  const wanted = (s: string) => !filter.service || s === filter.service

  for (const kind of kinds.filter((k) => !filter.target || k === filter.target)) {
    if (kind === 'docker') {
      const cfg = targets.docker!
      // One directory and one override for every service: --service narrows what is pushed
      // (the other keys are left as they are), never what the directory and override hold.
      const services = cfg.services ?? manifest.serviceNames
      const keys = secrets.filter((s) => s.services.some((svc) => services.includes(svc)))
      if (!keys.some((s) => s.services.some((svc) => services.includes(svc) && wanted(svc)))) continue
      const onServices = (s: SecretDef) => s.services.filter((svc) => services.includes(svc))
      // Compose secret names are lowercase, and a case-insensitive disk holds one file for both.
      const byName = new Map<string, string>()
      for (const s of keys.filter((k) => k.sensitive)) {
        const other = byName.get(composeSecretName(s.key))
        if (other) {
          throw new EnvsyncError(`${other} and ${s.key} would be the same Docker secret "${composeSecretName(s.key)}"`, {
            code: 'DOCKER_NAME_CLASH',
            location: manifest.locate(['secrets', s.key], {key: true}),
            suggestion: 'rename one of them: Docker secret names are lowercase and the files would collide on case-insensitive disks',
          })
        }
        byName.set(composeSecretName(s.key), s.key)
      }
      const config: DockerConfig = {
        project: manifest.project,
        dir: path.resolve(manifest.dir, cfg.dir ?? `secrets/${env}`),
        fileMode: Number.parseInt(cfg.fileMode, 8),
        composeFile: path.resolve(manifest.dir, cfg.compose),
        secretKeys: Object.fromEntries(keys.filter((s) => s.sensitive).map((s) => [s.key, onServices(s)])),
        configKeys: Object.fromEntries(keys.filter((s) => !s.sensitive).map((s) => [s.key, onServices(s)])),
      }
      const r = resolved(kind, `docker:${config.dir}`, `docker ${path.relative(manifest.dir, config.dir) || '.'}`, env, services, config, keys, store)
      for (const s of keys) if (!onServices(s).some(wanted)) r.desired.delete(s.key)
      out.push(r)
    }
    if (kind === 'kubernetes') {
      const cfg = targets.kubernetes!
      for (const service of (cfg.services ?? manifest.serviceNames).filter(wanted)) {
        // No key left for a service: still a destination (optional) while envsync has keys there.
        const keys = secrets.filter((s) => s.services.includes(service))
        const name = secretName(cfg.secretName, manifest.project, service, env, () => manifest.locate(['environments', env, 'targets', 'kubernetes', 'secretName']))
        const config: KubernetesConfig = {
          context: cfg.context,
          namespace: cfg.namespace,
          name,
          createNamespace: cfg.createNamespace,
          labels: secretLabels(manifest.project, service),
        }
        out.push(resolved(kind, `kubernetes:${cfg.context ?? ''}/${cfg.namespace ?? ''}/${name}`, `kubernetes secret ${cfg.namespace ? `${cfg.namespace}/` : ''}${name}`, env, [service], config, keys, store))
      }
    }
    if (kind === 'railway') {
      const cfg = targets.railway!
      const mapped = Object.keys(cfg.services).filter(wanted)
      const base = {project: cfg.project, environment: cfg.environment ?? env, deploy: cfg.deploy || filter.deploy === true}
      for (const service of mapped) {
        const keys = secrets.filter((s) => s.services.includes(service) && !(cfg.shared && s.shared))
        const config: RailwayConfig = {...base, service: cfg.services[service]}
        out.push(resolved(kind, `railway:${cfg.project}/${base.environment}/${config.service}`, `railway ${cfg.project}/${base.environment} service ${config.service}`, env, [service], config, keys, store))
      }
      // Keys marked shared go to the environment's shared variables, once.
      const shared = cfg.shared ? secrets.filter((s) => s.shared && s.services.some((svc) => mapped.includes(svc))) : []
      if (mapped.length > 0) {
        const config: RailwayConfig = {...base}
        out.push(resolved(kind, `railway:${cfg.project}/${base.environment}/shared`, `railway ${cfg.project}/${base.environment} shared variables`, env, mapped, config, shared, store))
      }
    }
    if (kind === 'render') {
      const cfg = targets.render!
      const mapped = Object.keys(cfg.services).filter(wanted)
      const deploy = cfg.deploy || filter.deploy === true
      // Env vars and secret files are separate name spaces on Render: a destination for each.
      const place = (keys: SecretDef[], config: RenderConfig, id: string, label: string, services: string[]) => {
        const vars = keys.filter((s) => secretFileName(s) === undefined)
        const files = keys.filter((s) => secretFileName(s) !== undefined)
        out.push(resolved(kind, id, label, env, services, config, vars, store))
        out.push(resolved(kind, `${id}/secret-files`, `${label} secret files`, env, services, {...config, files: true}, files, store, (s) => secretFileName(s)!))
      }
      for (const service of mapped) {
        const keys = secrets.filter((s) => s.services.includes(service) && !(cfg.envGroup && s.shared))
        const ref = cfg.services[service]
        place(keys, {service: ref, deploy}, `render:service/${ref}`, `render service ${ref}`, [service])
      }
      // Keys marked shared go to the env group, once.
      if (cfg.envGroup) {
        const shared = secrets.filter((s) => s.shared && s.services.some((svc) => mapped.includes(svc)))
        const config: RenderConfig = {envGroup: cfg.envGroup, linkedServices: mapped.map((svc) => cfg.services[svc]), deploy}
        place(shared, config, `render:env-group/${cfg.envGroup}`, `render env group ${cfg.envGroup}`, mapped)
      }
    }
  }
  return out
}

function resolved(kind: TargetKind, id: string, label: string, env: string, services: string[], config: unknown, keys: SecretDef[], store: ValuesFile, nameOf?: (s: SecretDef) => string): Resolved {
  const name = nameOf ?? ((s: SecretDef) => s.key)
  const desired = new Map<string, Secret>()
  for (const s of keys) {
    const v = valueOf(s, store, kind)
    if (v !== undefined) desired.set(name(s), v)
  }
  return {
    destination: {id, kind, label, environment: env, services, config},
    desired,
    manifestKeys: new Set(keys.map(name)),
    optional: keys.length === 0,
    names: nameOf && new Map(keys.map((s) => [s.key, name(s)])),
  }
}

/** Manifest keys → the names they have live in a destination (the same, but for Render secret files). */
export function liveNames(r: Resolved, keys: Iterable<string>): Set<string> {
  return new Set([...keys].map((k) => (r.names ? r.names.get(k) : k)).filter((k) => k !== undefined))
}

/** The manifest keys a destination receives. */
export function manifestKeysOf(r: Resolved): string[] {
  return r.names ? [...r.names.keys()] : [...r.manifestKeys]
}
