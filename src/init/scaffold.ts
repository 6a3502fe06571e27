import {Document, isSeq, visit} from 'yaml'

import {EnvsyncError} from '../errors.js'
import type {TargetKind} from '../manifest/schema.js'
import {catalogueEntry, servicesForRole} from './catalogue.js'

export interface InitAnswers {
  project: string
  services: {name: string; public: boolean}[]
  environments: string[]
  /** Catalogue keys. */
  secrets: string[]
  /** Environment → target kinds. */
  targets: Record<string, TargetKind[]>
  /** Environments whose push asks for the environment's name. */
  protected: string[]
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
  }
}

/** The manifest text `init` writes: answers → YAML, with the editor schema line on top. */
export function scaffoldManifest(a: InitAnswers, schemaRef: string): string {
  const services = Object.fromEntries(a.services.map((s) => [s.name, s.public ? {public: true} : {}]))
  const environments = Object.fromEntries(
    a.environments.map((env) => {
      const kinds = a.targets[env] ?? []
      // Said for every environment: the knob is visible, and `protected: false` overrides the default for production.
      const spec: Record<string, unknown> = {protected: a.protected.includes(env)}
      if (kinds.length > 0) spec.targets = Object.fromEntries(kinds.map((k) => [k, targetConfig(k, a, env)]))
      return [env, spec]
    }),
  )
  const secrets: Record<string, Record<string, unknown>> = {}
  for (const key of a.secrets) {
    const e = catalogueEntry(key)
    if (!e) throw new EnvsyncError(`unknown catalogue secret ${key}`, {code: 'UNKNOWN_SECRET'})
    const to = servicesForRole(e.role, a.services)
    if (to.length === 0) {
      throw new EnvsyncError(`${key} belongs on a server-side service, and every service is public`, {
        code: 'NO_SERVER_SERVICE',
        suggestion: 'add a backend service (e.g. --services backend,frontend --public frontend)',
      })
    }
    const spec: Record<string, unknown> = {description: e.description, services: to}
    if (e.required === false) spec.required = false
    if (e.sensitive === false) spec.sensitive = false
    if (e.generate) spec.generate = e.generate
    if (e.rotate) spec.rotate = e.rotate
    if (e.minLength) spec.minLength = e.minLength
    if (e.format) spec.format = e.format.startsWith('regex:') ? {regex: e.format.slice(6)} : e.format
    if (e.default !== undefined) spec.default = e.default
    secrets[key] = spec
  }
  const doc = new Document({version: 1, project: a.project, services, environments, secrets})
  // Short lists read best inline: services: [backend, worker].
  visit(doc, {Seq: (_, node) => void (isSeq(node) && (node.flow = true))})
  const body = doc.toString({lineWidth: 0, flowCollectionPadding: false})
  return [
    `# yaml-language-server: $schema=${schemaRef}`,
    '# envsync manifest: which secrets this project has, where each goes, how it is made.',
    '# Values live in .env.<environment> files (git-ignored, mode 0600), never here.',
    '# Reference: the envsync README, "Manifest reference".',
    body,
  ].join('\n')
}
