import path from 'node:path'

import {EnvsyncError, formatLocation, type SourceLocation} from '../errors.js'
import {displayPath, projectPath} from '../paths.js'
import {Secret} from '../secret.js'
import {composeSecretName, type DockerConfig} from '../targets/docker.js'
import type {KubernetesConfig} from '../targets/kubernetes.js'
import type {RailwayConfig} from '../targets/railway.js'
import type {RenderConfig} from '../targets/render.js'
import type {Destination, TargetKind} from '../targets/target.js'
import type {ValuesFile} from '../values/store.js'
import {secretFileName, type Manifest, type SecretDef} from './manifest.js'
import {isManagerKind, storePlace, targetPlaces} from './resolve-managers.js'
import {didYouMean} from './suggest.js'
import {userComposeServices} from './user-compose.js'

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
  /** Only these target kinds (--target): several mean the union. */
  targets?: TargetKind[]
  /** Only destinations of these services (--service): several mean the union. */
  services?: string[]
  /** push --deploy: redeploy changed Railway/Render services even if the manifest does not ask. */
  deploy?: boolean
  /**
   * The previous keys (`previous:`) in a running grace period: delivered. The others are no
   * manifest keys of any destination, so a copy envsync left there is removed.
   */
  grace?: ReadonlySet<string>
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
 * Reads nothing but the project's own compose file (the services Docker delivers to): the store
 * is passed in.
 */
export function resolveDestinations(manifest: Manifest, env: string, store: ValuesFile, filter: ResolveFilter = {}): Resolved[] {
  const targets = manifest.environment(env).targets ?? {}
  const kinds = manifest.targetsOf(env)
  for (const kind of filter.targets ?? []) {
    if (!kinds.includes(kind)) {
      throw new EnvsyncError(`${env} has no ${kind} target`, {
        code: 'UNKNOWN_TARGET',
        suggestion: kinds.length > 0 ? `targets of ${env}: ${kinds.join(', ')}` : `add targets: under environments.${env} in the manifest`,
      })
    }
  }
  requireServices(manifest, filter.services)
  const chosen = kinds.filter((k) => !filter.targets || filter.targets.includes(k))
  for (const service of filter.services ?? []) {
    if (chosen.length === 0 || chosen.some((k) => servicesOf(manifest, env, k).includes(service))) continue
    const many = (filter.targets?.length ?? 0) > 1
    const where = filter.targets && `the ${filter.targets.join(' and ')} target${many ? 's' : ''} of ${env}`
    const deployed = [...new Set(chosen.flatMap((k) => servicesOf(manifest, env, k)))].join(', ') || 'none'
    throw new EnvsyncError(where ? `${where} do${many ? '' : 'es'} not deploy ${service}` : `no target of ${env} deploys ${service}`, {
      code: 'UNKNOWN_SERVICE',
      location: filter.targets?.length === 1 ? manifest.locate(['environments', env, 'targets', filter.targets[0], 'services']) : undefined,
      suggestion: where ? `services of ${many ? 'those targets' : 'that target'}: ${deployed}` : `services deployed in ${env}: ${deployed}`,
    })
  }
  if (kinds.length === 0) {
    throw new EnvsyncError(`${env} has no targets to sync with`, {
      code: 'NO_TARGETS',
      location: manifest.locate(['environments', env], {key: true}),
      suggestion: `add e.g. \`targets: {docker: {}}\` under environments.${env}`,
    })
  }
  const secrets = manifest.secretsFor(env).filter((s) => s.previousOf === undefined || filter.grace?.has(s.key))
  const out: Resolved[] = []
  const wanted = (s: string) => !filter.services || filter.services.includes(s)

  for (const kind of chosen) {
    if (isManagerKind(kind)) {
      for (const p of targetPlaces(manifest, env, kind, wanted)) {
        const d = p.destination
        const r = resolved(kind, d.id, d.label, env, d.services, d.config, p.keys, store)
        // Keys of services not selected (-s) stay as they are.
        for (const s of p.keys) if (!s.services.some(wanted)) r.desired.delete(s.key)
        out.push(r)
      }
    }
    if (kind === 'docker') {
      const cfg = targets.docker!
      // One directory and one override for every service: --service narrows what is pushed
      // (the other keys are left as they are), never what the directory and override hold.
      const services = dockerServices(manifest, env)
      const keys = secrets.filter((s) => s.services.some((svc) => services.includes(svc)))
      // Nothing left for the directory: still visited (optional) while envsync has keys there.
      if (keys.length > 0 ? !keys.some((s) => s.services.some((svc) => services.includes(svc) && wanted(svc))) : !manifest.serviceNames.every(wanted)) continue
      const onServices = (s: SecretDef) => s.services.filter((svc) => services.includes(svc))
      const delivery = new Map(keys.map((s) => [s.key, dockerDelivery(manifest, env, s)]))
      const files = keys.filter((s) => delivery.get(s.key)!.how === 'files')
      const fileSet = new Set(files)
      // Compose secret names are lowercase, and a case-insensitive disk holds one file for both.
      const byName = new Map<string, string>()
      for (const s of files) {
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
      const at = ['environments', env, 'targets', 'docker']
      const config: DockerConfig = {
        project: manifest.project,
        root: manifest.dir,
        dir: dockerDir(manifest, env),
        fileMode: Number.parseInt(cfg.fileMode, 8),
        composeFile: composeFile(manifest, env),
        secretKeys: new Map(files.map((s) => [s.key, onServices(s)])),
        fileVariables: new Map(files.map((s) => [s.key, (delivery.get(s.key) as {variable: string}).variable])),
        configKeys: new Map(keys.filter((s) => !fileSet.has(s)).map((s) => [s.key, onServices(s)])),
        restart: filter.deploy === true,
      }
      insideProject(manifest, config.dir, 'the Docker secrets directory', [...at, cfg.dir === undefined ? '' : 'dir'].filter(Boolean))
      insideProject(manifest, config.composeFile, 'the compose override', [...at, cfg.compose === undefined ? '' : 'compose'].filter(Boolean), true)
      const r = resolved(kind, dockerId(manifest, env), `docker ${path.relative(manifest.dir, config.dir) || '.'}`, env, services, config, keys, store)
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
          restart: filter.deploy === true,
        }
        out.push(resolved(kind, `kubernetes:${cfg.context ?? ''}/${cfg.namespace ?? ''}/${name}`, `kubernetes secret ${cfg.namespace ? `${cfg.namespace}/` : ''}${name}`, env, [service], config, keys, store))
      }
    }
    if (kind === 'railway') {
      const cfg = targets.railway!
      const mapped = Object.entries(cfg.services).map(([svc]) => svc).filter(wanted)
      const base = {project: cfg.project, environment: cfg.environment ?? env, deploy: cfg.deploy || filter.deploy === true}
      for (const service of mapped) {
        const keys = secrets.filter((s) => s.services.includes(service) && !(cfg.shared && s.shared))
        const config: RailwayConfig = {...base, service: ownValue(cfg.services, service)}
        out.push(resolved(kind, `railway:${cfg.project}/${base.environment}/${config.service}`, `railway ${cfg.project}/${base.environment} service ${config.service}`, env, [service], config, keys, store))
      }
      // Keys marked shared go to the environment's shared variables, once.
      const shared = cfg.shared ? secrets.filter((s) => s.shared && s.services.some((svc) => mapped.includes(svc))) : []
      if (mapped.length > 0) {
        const receivers = mapped.filter((svc) => shared.some((s) => s.services.includes(svc)))
        const config: RailwayConfig = {...base, linkedServices: receivers.map((svc) => cfg.services[svc])}
        out.push(resolved(kind, `railway:${cfg.project}/${base.environment}/shared`, `railway ${cfg.project}/${base.environment} shared variables`, env, mapped, config, shared, store))
      }
    }
    if (kind === 'render') {
      const cfg = targets.render!
      const mapped = Object.entries(cfg.services).map(([svc]) => svc).filter(wanted)
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
        const ref = ownValue(cfg.services, service)
        place(keys, {service: ref, deploy}, `render:service/${ref}`, `render service ${ref}`, [service])
      }
      // Keys marked shared go to the env group, once.
      if (cfg.envGroup) {
        const shared = secrets.filter((s) => s.shared && s.services.some((svc) => mapped.includes(svc)))
        const receivers = mapped.filter((svc) => shared.some((s) => s.services.includes(svc)))
        const config: RenderConfig = {envGroup: cfg.envGroup, linkedServices: receivers.map((svc) => cfg.services[svc]), deploy}
        place(shared, config, `render:env-group/${cfg.envGroup}`, `render env group ${cfg.envGroup}`, mapped)
      }
    }
  }
  return out
}

/** Each name given by the user is a manifest service, or an error naming it. */
export function requireServices(manifest: Manifest, services: readonly string[] | undefined): void {
  for (const service of services ?? []) {
    if (!manifest.serviceNames.includes(service)) {
      throw new EnvsyncError(`unknown service "${service}"`, {
        code: 'UNKNOWN_SERVICE',
        suggestion: didYouMean(service, manifest.serviceNames) ?? `services: ${manifest.serviceNames.join(', ')}`,
      })
    }
  }
}

/**
 * The keys the --service selection receives (undefined: no selection, every key). A Docker
 * directory holds every service's keys; -s narrows a plan and a pull to these.
 */
export function keysOfServices(manifest: Manifest, env: string, services: readonly string[] | undefined): Set<string> | undefined {
  if (!services) return undefined
  return new Set(manifest.secretsFor(env).filter((s) => s.services.some((svc) => services.includes(svc))).map((s) => s.key))
}

/** Each key named by `flag` (--only, --keys) goes to a selected service, or a usage error saying which do. */
export function requireKeysOfServices(manifest: Manifest, env: string, flag: string, keys: readonly string[] | undefined, services: readonly string[] | undefined): void {
  const selected = keysOfServices(manifest, env, services)
  if (!selected) return
  for (const key of keys ?? []) {
    const spec = manifest.secretsFor(env).find((s) => s.key === key)
    if (!spec || selected.has(key)) continue
    throw new EnvsyncError(`--${flag} ${key}: ${services!.join(' and ')} ${services!.length === 1 ? 'does' : 'do'} not receive that key`, {
      code: 'UNKNOWN_KEY',
      suggestion: `${key} goes to ${spec.services.join(', ')}: add ${spec.services.length === 1 ? 'that service' : 'one of them'} to -s, or leave -s out`,
    })
  }
}

/** The services a target of an environment deploys, as the manifest says. */
function servicesOf(manifest: Manifest, env: string, kind: TargetKind): string[] {
  const t = manifest.environment(env).targets ?? {}
  if (kind === 'docker') return dockerServices(manifest, env)
  if (kind === 'kubernetes' || isManagerKind(kind)) return t[kind]?.services ?? manifest.serviceNames
  return Object.keys(t[kind]?.services ?? {})
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

/** A record's own value (a service named "constructor" is not Object's). */
const ownValue = (record: Record<string, string>, key: string): string => (Object.hasOwn(record, key) ? record[key] : '')

/** The Docker destination's id: its directory relative to the manifest, so a moved checkout keeps its records. */
export const dockerId = (manifest: Manifest, env: string) => `docker:${projectPath(manifest.dir, dockerDir(manifest, env))}`

/**
 * The services the Docker target delivers to: those it names, else those of the project's own
 * compose file (the override may name no other), else every service of the manifest.
 */
export function dockerServices(manifest: Manifest, env: string): string[] {
  const named = manifest.environment(env).targets?.docker?.services
  if (named) return named
  const user = userComposeServices(manifest.dir, composeFile(manifest, env))
  return user ? manifest.serviceNames.filter((s) => user.services.includes(s)) : manifest.serviceNames
}

/**
 * How a key reaches a Docker container: as a secret file (`files`, with the variable that names
 * it) or a plain environment variable from its service's env file. A secret follows its own
 * `docker.delivery`, else the target's (files by default); plain config is env unless it says files.
 */
export function dockerDelivery(manifest: Manifest, env: string, s: SecretDef): DockerDelivery {
  const target = manifest.environment(env).targets?.docker
  const how = s.docker?.delivery ?? (s.sensitive ? (target?.delivery ?? 'files') : 'env')
  return how === 'env' ? {how} : {how, variable: s.docker?.fileVariable ?? `${s.key}${target?.fileSuffix ?? '_FILE'}`}
}
export type DockerDelivery = {how: 'files'; variable: string} | {how: 'env'}

/** The Docker target's directory of an environment, absolute. */
export const dockerDir = (manifest: Manifest, env: string) => path.resolve(manifest.dir, manifest.environment(env).targets?.docker?.dir ?? `secrets/${env}`)
/** Each environment its own override by default: one file shared by two would hold only the last push's secrets. */
export const composeFile = (manifest: Manifest, env: string) => path.resolve(manifest.dir, manifest.environment(env).targets?.docker?.compose ?? `docker-compose.${env}.secrets.yml`)

/**
 * A place envsync writes must be inside the project and not the project itself (a Docker dir of
 * `.` or `../..` would put secret files beside Makefile and LICENSE, and --prune would see them),
 * and not envsync's or git's own folders.
 */
function insideProject(manifest: Manifest, target: string, what: string, at: string[], file = false): void {
  const rel = path.relative(manifest.dir, target)
  const first = rel.split(path.sep)[0]
  const why =
    rel === ''
      ? 'is the project directory itself'
      : rel.startsWith('..') || path.isAbsolute(rel)
        ? `is outside the project (${manifest.dir})`
        : first === '.git' || first === '.envsync'
          ? `is inside ${first}/`
          : !file && path.relative(target, manifest.file).split(path.sep)[0] !== '..'
            ? 'contains the manifest'
            : undefined
  if (!why) return
  throw new EnvsyncError(`${what} ${displayPath(target)} ${why}`, {
    code: 'BAD_DOCKER_PATH',
    location: manifest.locate(at, {key: !at.at(-1)?.match(/^(dir|compose)$/)}),
    suggestion: file ? 'put the override inside the project, e.g. docker-compose.<environment>.secrets.yml' : 'use a folder of its own inside the project, e.g. secrets/<environment> (the default)',
  })
}

/**
 * Where an environment's destinations land, platform by platform, for the test that no two
 * environments (or two services of one) write one place: each would overwrite or remove the
 * other's keys, and report the other's as drift. Compared as written in the manifest: an unset
 * Kubernetes context is the current one, an unset namespace the context's (taken as "default").
 */
interface Place {
  key: string
  what: string
  at: (string | number)[]
  /** The path points at a mapping key (true) or a value. */
  atKey: boolean
}

function placesOf(manifest: Manifest, env: string): Place[] {
  const t = manifest.environment(env).targets ?? {}
  const base = ['environments', env, 'targets']
  const out: Place[] = []
  const shown = (file: string) => path.relative(manifest.dir, file) || '.'
  if (t.docker) {
    const d = t.docker
    out.push({key: `docker-dir:${dockerDir(manifest, env)}`, what: `Docker directory ${shown(dockerDir(manifest, env))}`, at: [...base, 'docker', ...(d.dir ? ['dir'] : [])], atKey: !d.dir})
    out.push({key: `file:${composeFile(manifest, env)}`, what: `compose override ${shown(composeFile(manifest, env))}`, at: [...base, 'docker', ...(d.compose ? ['compose'] : [])], atKey: !d.compose})
  }
  if (t.kubernetes) {
    const k = t.kubernetes
    for (const service of k.services ?? manifest.serviceNames) {
      let name: string
      try {
        name = secretName(k.secretName, manifest.project, service, env)
      } catch {
        continue // reported when that environment is resolved
      }
      const ns = k.namespace ?? 'default'
      out.push({key: `kubernetes:${k.context ?? ''}/${ns}/${name}`, what: `Kubernetes Secret ${ns}/${name}${k.context ? ` in context ${k.context}` : ''}`, at: [...base, 'kubernetes'], atKey: true})
    }
  }
  if (t.railway) {
    const r = t.railway
    const renv = r.environment ?? env
    for (const [service, ref] of Object.entries(r.services)) {
      out.push({key: `railway:${r.project}/${renv}/${ref}`, what: `Railway service ${ref} (${r.project}/${renv})`, at: [...base, 'railway', 'services', service], atKey: false})
    }
    if (Object.keys(r.services).length > 0) out.push({key: `railway:${r.project}/${renv}/shared`, what: `Railway shared variables of ${r.project}/${renv}`, at: [...base, 'railway'], atKey: true})
  }
  if (t.render) {
    const r = t.render
    for (const [service, ref] of Object.entries(r.services)) out.push({key: `render:service/${ref}`, what: `Render service ${ref}`, at: [...base, 'render', 'services', service], atKey: false})
    if (r.envGroup) out.push({key: `render:env-group/${r.envGroup}`, what: `Render env group ${r.envGroup}`, at: [...base, 'render', 'envGroup'], atKey: false})
  }
  // A secret manager's place, as store or target: two environments (or a store and a target) on one
  // prefix would each see the other's keys as stale.
  const managers = [
    ...[storePlace(manifest, env)].filter((p) => p !== undefined).map((p) => ({p, at: ['environments', env, 'store', p.destination.kind]})),
    ...manifest.targetsOf(env).filter(isManagerKind).flatMap((k) => targetPlaces(manifest, env, k, () => true).map((p) => ({p, at: [...base, k]}))),
  ]
  for (const {p, at} of managers) out.push({key: p.destination.id, what: p.destination.label, at, atKey: true})
  return out
}
/** Two environments (or services) writing one destination: an error naming both places. Run at load. */
export function refuseSharedDestinations(manifest: Manifest): void {
  const seen = new Map<string, {env: string; place: Place}>()
  for (const env of manifest.environmentNames) {
    for (const place of placesOf(manifest, env)) {
      const first = seen.get(place.key)
      if (!first) {
        seen.set(place.key, {env, place})
        continue
      }
      const here = manifest.locate(place.at, {key: place.atKey})
      const there = manifest.locate(first.place.at, {key: first.place.atKey})
      const who = first.env === env ? `environment ${env} twice` : `environments ${first.env} and ${env}`
      throw new EnvsyncError(`${who} write the same ${place.what} (${formatLocation(there)} and ${formatLocation(here)}): each push would overwrite or remove the other's keys`, {
        code: 'SHARED_DESTINATION',
        location: here,
        problems: [{message: `first written by ${first.env} here`, location: there}],
        suggestion: suggestionFor(place.key),
      })
    }
  }
}

function suggestionFor(key: string): string {
  if (key.startsWith('docker-dir:')) return 'give each environment its own docker.dir (the default is secrets/<environment>)'
  if (key.startsWith('file:')) return 'give each environment its own docker.compose file, or leave it out (the default is docker-compose.<environment>.secrets.yml)'
  if (key.startsWith('kubernetes:')) return 'give each environment its own kubernetes.namespace (or context), or put {environment} in secretName'
  if (key.startsWith('railway:')) return 'map each environment to its own Railway environment (railway.environment) or service'
  if (!key.startsWith('render:')) return 'give each environment (and the store and each target) its own prefix or secret name: {environment} in the name does it'
  return 'map each environment (and each service) to its own Render service and env group'
}
