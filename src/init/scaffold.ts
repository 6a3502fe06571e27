import {Document, isScalar, isSeq, visit} from 'yaml'

import {EnvsyncError} from '../errors.js'
import type {TargetKind} from '../manifest/schema.js'
import {catalogueEntry, servicesForRole, type Assignment} from './catalogue.js'

/** A manifest as written (parsed YAML before defaults), for `init --force` to keep what it says. */
export type RawManifest = {
  project?: string
  services?: Record<string, Record<string, unknown>>
  environments?: Record<string, {targets?: Record<string, Record<string, unknown>>} & Record<string, unknown>>
  secrets?: Record<string, {services?: string[]; environments?: string[]} & Record<string, unknown>>
  rules?: Record<string, unknown>[]
}

export interface InitAnswers {
  project: string
  services: {name: string; public: boolean}[]
  environments: string[]
  /** Catalogue keys (and, with --force, keys of the manifest being replaced). */
  secrets: string[]
  /** Environment → target kinds. */
  targets: Record<string, TargetKind[]>
  /** Environments whose push asks for the environment's name. */
  protected: string[]
  /** init --force: the manifest being replaced; what it says about a name still chosen is kept. */
  previous?: RawManifest
}

function targetConfig(kind: TargetKind, a: InitAnswers, env: string): Record<string, unknown> {
  const serverServices = Object.fromEntries(a.services.map((s) => [s.name, s.name]))
  switch (kind) {
    case 'docker':
      return {}
    case 'kubernetes':
      return {namespace: env === 'production' ? a.project : `${a.project}-${env}`}
    case 'railway':
      return {project: a.project, services: serverServices}
    case 'render':
      // Render has no environments: each is its own services (api, api-staging), and two
      // environments writing one service would overwrite each other.
      return {services: Object.fromEntries(a.services.map((s) => [s.name, env === 'production' ? s.name : `${s.name}-${env}`]))}
    case 'azure':
      return {vault: a.project}
    case 'aws':
    case 'vault':
    case 'gcp':
      return {}
  }
}

/** A kept target's settings, less what names a service that is gone; new services get the fresh mapping. */
function keptTarget(kept: Record<string, unknown>, fresh: Record<string, unknown>, services: string[]): Record<string, unknown> {
  const out = {...kept}
  if (Array.isArray(kept.services)) {
    const still = kept.services.filter((s) => services.includes(s))
    if (still.length > 0) out.services = still
    else delete out.services
  } else if (kept.services && typeof kept.services === 'object') {
    const own = Object.entries(kept.services).filter(([s]) => services.includes(s))
    out.services = {...(fresh.services as Record<string, unknown>), ...Object.fromEntries(own)}
  }
  return out
}

/** Who receives each chosen secret: a kept manifest's list (less removed services), else by role. */
export function assignSecrets(a: InitAnswers): ({key: string} & Assignment)[] {
  const names = a.services.map((s) => s.name)
  return a.secrets.map((key) => {
    const kept = (a.previous?.secrets?.[key]?.services ?? []).filter((s) => names.includes(s))
    if (kept.length > 0) return {key, services: kept}
    return {key, ...servicesForRole(catalogueEntry(key)?.role ?? 'api', a.services)}
  })
}

function catalogueSpec(key: string): Record<string, unknown> {
  const e = catalogueEntry(key)
  if (!e) throw new EnvsyncError(`unknown catalogue secret ${key}`, {code: 'UNKNOWN_SECRET'})
  const spec: Record<string, unknown> = {description: e.description}
  if (e.required === false) spec.required = false
  if (e.sensitive === false) spec.sensitive = false
  if (e.generate) spec.generate = e.generate
  if (e.rotate) spec.rotate = e.rotate
  if (e.minLength) spec.minLength = e.minLength
  if (e.format) spec.format = e.format.startsWith('regex:') ? {regex: e.format.slice(6)} : e.format
  if (e.default !== undefined) spec.default = e.default
  if (e.dockerFileVariable) spec.docker = {fileVariable: e.dockerFileVariable}
  return spec
}

const ruleKeys = (rule: Record<string, unknown>): string[] =>
  [...((rule.oneOf as string[] | undefined) ?? []), ...((rule.requires as (string | {key: string})[] | undefined) ?? []).map((c) => (typeof c === 'string' ? c : c.key))]

/** The manifest text `init` writes: answers → YAML, with the editor schema line on top. */
export function scaffoldManifest(a: InitAnswers, schemaRef: string): string {
  const prev = a.previous ?? {}
  const names = a.services.map((s) => s.name)
  const services = Object.fromEntries(a.services.map((s) => [s.name, {...prev.services?.[s.name], ...(s.public ? {public: true} : {public: undefined})}]))
  const environments = Object.fromEntries(
    a.environments.map((env) => {
      const kinds = a.targets[env] ?? []
      const kept = prev.environments?.[env] ?? {}
      // Said for every environment: the knob is visible, and `protected: false` overrides the default for production.
      const spec: Record<string, unknown> = {...kept, protected: a.protected.includes(env), targets: undefined}
      const config = (k: TargetKind) => (kept.targets?.[k] ? keptTarget(kept.targets[k], targetConfig(k, a, env), names) : targetConfig(k, a, env))
      if (kinds.length > 0) spec.targets = Object.fromEntries(kinds.map((k) => [k, config(k)]))
      return [env, spec]
    }),
  )
  const secrets: Record<string, Record<string, unknown>> = {}
  for (const {key, services: to} of assignSecrets(a)) {
    if (to.length === 0) {
      throw new EnvsyncError(`${key} belongs on a server-side service, and every service is public`, {
        code: 'NO_SERVER_SERVICE',
        suggestion: 'add a backend service (e.g. --services backend,frontend --public frontend)',
      })
    }
    const kept = prev.secrets?.[key]
    const spec: Record<string, unknown> = kept ? {...kept, services: to} : {description: undefined, services: to, ...catalogueSpec(key)}
    const envs = (kept?.environments ?? []).filter((e) => a.environments.includes(e))
    spec.environments = envs.length > 0 ? envs : undefined
    secrets[key] = spec
  }
  // A kept rule stays while every key it names is still in the manifest.
  const rules = (prev.rules ?? []).filter((r) => ruleKeys(r).every((k) => k in secrets))
  const doc = new Document({version: 1, project: a.project, services, environments, secrets, ...(rules.length > 0 ? {rules} : {})})
  // Short lists read best inline: services: [backend, worker] (a kept rule stays a block).
  visit(doc, {Seq: (_, node) => void (isSeq(node) && node.items.every(isScalar) && (node.flow = true))})
  const body = doc.toString({lineWidth: 0, flowCollectionPadding: false})
  return [
    `# yaml-language-server: $schema=${schemaRef}`,
    '# envsync manifest: which secrets this project has, where each goes, how it is made.',
    '# Values live in .env.<environment> files (git-ignored, mode 0600), never here.',
    '# Reference: the envsync README, section "The manifest".',
    body,
  ].join('\n')
}
