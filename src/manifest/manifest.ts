import path from 'node:path'

import {EnvsyncError, type SourceLocation} from '../errors.js'
import {displayPath} from '../paths.js'
import type {EnvironmentData, ManifestData, SecretSpecData, TargetKind} from './schema.js'
import {targetKinds} from './schema.js'
import {didYouMean} from './suggest.js'
import {registerNames} from '../redact.js'

export interface SecretDef extends SecretSpecData {
  key: string
  /**
   * Set on the implicit key that holds another key's previous value during a rotation's grace
   * (its `previous:`): delivered where that key goes, never required, generated or rotated.
   */
  previousOf?: string
}

/** The implicit key a secret's `previous:` names: the old value, where the secret goes, during a grace period. */
function previousDef(s: SecretDef): SecretDef {
  return {
    key: s.previous!,
    description: `the previous value of ${s.key}, kept during a rotation's grace period (${s.grace ?? 'grace'})`,
    services: s.services,
    required: false,
    sensitive: true,
    shared: s.shared,
    ...(s.environments ? {environments: s.environments} : {}),
    ...(s.file !== undefined ? {file: s.file === true ? s.previous! : `${s.file}.previous`} : {}),
    ...(s.docker?.delivery ? {docker: {delivery: s.docker.delivery}} : {}),
    ...(s.minLength !== undefined ? {minLength: s.minLength} : {}),
    ...(s.format ? {format: s.format} : {}),
    previousOf: s.key,
  }
}

/** The secret file a file-shaped secret becomes on Render, or undefined for a variable. */
export function secretFileName(secret: SecretDef): string | undefined {
  return secret.file === true ? secret.key : secret.file
}

type Locator = (path: (string | number)[], options?: {key?: boolean}) => SourceLocation

/** A loaded, validated manifest and the questions every command asks of it. */
export class Manifest {
  readonly secrets: SecretDef[]
  /** Implicit previous keys by their own name and by the secret they belong to: lookups stay O(1) at 20,000 secrets. */
  private readonly previousByKey = new Map<string, SecretDef>()
  private readonly previousByOwner = new Map<string, SecretDef>()

  constructor(
    /** Absolute path of the manifest file. */
    readonly file: string,
    readonly data: ManifestData,
    private readonly locator?: Locator,
  ) {
    const declared: SecretDef[] = Object.entries(data.secrets).map(([key, spec]) => ({key, ...spec}))
    // Each `previous:` key follows the secret it belongs to (validate refuses a clash with a declared key).
    this.secrets = declared.flatMap((s) => (s.previous && !Object.hasOwn(data.secrets, s.previous) ? [s, previousDef(s)] : [s]))
    for (const s of this.secrets) {
      if (s.previousOf === undefined) continue
      if (!this.previousByKey.has(s.key)) this.previousByKey.set(s.key, s)
      if (!this.previousByOwner.has(s.previousOf)) this.previousByOwner.set(s.previousOf, s)
    }
    // Its own names are not secrets: messages that name them are never blanked.
    registerNames([data.project, ...Object.keys(data.environments), ...Object.keys(data.services), ...this.secrets.map((s) => s.key)])
  }

  get dir(): string {
    return path.dirname(this.file)
  }

  get project(): string {
    return this.data.project
  }

  get environmentNames(): string[] {
    return Object.keys(this.data.environments)
  }

  get serviceNames(): string[] {
    return Object.keys(this.data.services)
  }

  locate(p: (string | number)[], options?: {key?: boolean}): SourceLocation {
    return this.locator?.(p, options) ?? {file: displayPath(this.file)}
  }

  /** The environment's settings, or a clear error naming the ones that exist. */
  environment(name: string): EnvironmentData {
    const env = Object.hasOwn(this.data.environments, name) ? this.data.environments[name] : undefined
    if (!env) {
      const known = this.environmentNames
      throw new EnvsyncError(`unknown environment "${name}" (the manifest has: ${known.join(', ')})`, {
        code: 'UNKNOWN_ENVIRONMENT',
        location: this.locate(['environments'], {key: true}),
        suggestion: didYouMean(name, known) ?? `add it under environments: in ${path.basename(this.file)}`,
      })
    }
    return env
  }

  valuesFile(env: string): string {
    return path.resolve(this.dir, this.environment(env).file ?? `.env.${env}`)
  }

  isProtected(env: string): boolean {
    return this.environment(env).protected ?? meansProduction(env)
  }

  appliesTo(secret: SecretDef, env: string): boolean {
    return !secret.environments || secret.environments.includes(env)
  }

  /** The secrets that apply to an environment, in manifest order. */
  secretsFor(env: string): SecretDef[] {
    this.environment(env)
    return this.secrets.filter((s) => this.appliesTo(s, env))
  }

  secret(key: string): SecretDef | undefined {
    if (Object.hasOwn(this.data.secrets, key)) return {key, ...this.data.secrets[key]}
    return this.previousByKey.get(key)
  }

  /** The implicit key holding a secret's previous value during its grace period, if it has one. */
  previousOf(key: string): SecretDef | undefined {
    return this.previousByOwner.get(key)
  }

  isPublicService(name: string): boolean {
    return Object.hasOwn(this.data.services, name) && this.data.services[name].public
  }

  /** The target kinds configured for an environment. */
  targetsOf(env: string): TargetKind[] {
    const targets = this.environment(env).targets ?? {}
    return targetKinds.filter((k) => targets[k] !== undefined)
  }
}

/** Names that mean production, alone or as a part: production, prod, prd, live, prod-eu, eu-live-2. */
const PRODUCTION_NAME = /(^|-)(production|prod|prd|live)(\d*)(-|$)/

/** Protected unless the manifest says otherwise: an environment whose name means production. */
export function meansProduction(env: string): boolean {
  return PRODUCTION_NAME.test(env)
}
