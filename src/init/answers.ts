/** init's answers from flags, and the parsing and name checks the questions share with them. */
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {meansProduction} from '../manifest/manifest.js'
import {NAME_MAX_LENGTH, NAME_PATTERN, deployKinds, type TargetKind} from '../manifest/schema.js'
import {didYouMean} from '../manifest/suggest.js'
import {catalogue, catalogueEntry} from './catalogue.js'
import type {InitAnswers} from './scaffold.js'

/** What flags said (list flags as given: repeated and/or comma lists); anything missing is asked or defaulted. */
export interface InitFlags {
  project?: string
  services?: string[]
  public?: string[]
  environments?: string[]
  secrets?: string[]
  targets?: string[]
  protected?: string[]
}

/** Answers split on commas and spaces: `api, web` and `--services api --services web` alike. */
export const list = (s: string) =>
  s
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean)
const words = (values: string[]) => values.flatMap(list)

/**
 * Why names are refused, or undefined: the one check behind a flag (`--services Api`) and a
 * question (Services?), so both give the same reason.
 */
function namesProblem(names: string[], what: string): {message: string; reason?: string} | undefined {
  if (names.length === 0) return {message: `needs at least one ${what}`}
  const bad = names.find((n) => !NAME_PATTERN.test(n))
  if (bad !== undefined) return {message: `invalid ${what} name "${bad}"`, reason: `${what} names are lowercase letters, digits and '-', e.g. "${slug(bad)}"`}
  const long = names.find((n) => n.length > NAME_MAX_LENGTH)
  if (long !== undefined) return {message: `${what} name "${long.slice(0, 20)}…" is too long (${long.length} characters)`, reason: `${what} names are at most ${NAME_MAX_LENGTH} characters`}
  return undefined
}

function checkNames(names: string[], flag: string, what: string): string[] {
  const problem = namesProblem(names, what)
  if (problem) throw new EnvsyncError(names.length === 0 ? `${flag} ${problem.message}` : `${problem.message} in ${flag}`, {code: 'USAGE', suggestion: problem.reason})
  return [...new Set(names)]
}

/** A question's validate(): the same reason the flag gives, or true. */
export const validNames = (what: string, split: (v: string) => string[] = list) => (v: string) => {
  const problem = namesProblem(split(v), what)
  return problem ? [problem.message, problem.reason].filter(Boolean).join(': ') : (true as const)
}
// One name, not a list: "my shop" is one (invalid) name, refused with the flag's reason.
export const oneName = (v: string) => (v.trim() === '' ? [] : [v.trim()])

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'app'
}

export const PUBLIC_GUESS = /^(frontend|web|webapp|client|spa|site)$/

/** `recommended`, `all` and keys, mixed (`recommended,DATABASE_URL`); `known` adds keys of a kept manifest. */
export function parseSecrets(values: string[], known: string[] = []): string[] {
  const keys = [...catalogue.map((e) => e.key), ...known.filter((k) => !catalogueEntry(k))]
  const out = values.flatMap((v) => {
    if (v === 'recommended') return catalogue.filter((e) => e.recommended).map((e) => e.key)
    if (v === 'all') return catalogue.map((e) => e.key)
    if (!keys.includes(v)) {
      throw new EnvsyncError(`--secrets: "${v}" is not in the catalogue`, {
        code: 'USAGE',
        suggestion: didYouMean(v, keys) ?? `choose from ${keys.join(', ')}, or "recommended"/"all"`,
      })
    }
    return [v]
  })
  if (out.length === 0) throw new EnvsyncError('--secrets needs at least one key', {code: 'USAGE', suggestion: 'e.g. --secrets recommended,DATABASE_URL'})
  return [...new Set(out)]
}

/**
 * `docker` or `docker+kubernetes` (every environment), `development=docker,production=docker+kubernetes`
 * (each its own), or both: `railway,production=render` (railway wherever no `env=` says otherwise).
 * Every kind written is meant: `docker,kubernetes` is both everywhere, a repeated `env=` adds up.
 * A bare kind after an `env=` part could belong to either, so it is refused with both spellings.
 */
export function parseTargets(values: string[], environments: string[]): Record<string, TargetKind[]> {
  const kinds = (s: string, part: string, env?: string): TargetKind[] => {
    const out = s.split('+').filter(Boolean).map((k) => {
      if (!(deployKinds as readonly string[]).includes(k)) {
        throw new EnvsyncError(`--targets: unknown target "${k}"`, {code: 'USAGE', suggestion: didYouMean(k, deployKinds) ?? `use ${deployKinds.join(', ')}`})
      }
      return k as TargetKind
    })
    if (out.length === 0) throw new EnvsyncError(`--targets: "${part}" names no target`, {code: 'USAGE', suggestion: `name one or more of ${deployKinds.join(', ')}, e.g. "${env === undefined ? '' : `${env}=`}docker"`})
    return out
  }
  const everywhere: TargetKind[] = []
  const own = new Map<string, TargetKind[]>()
  const parts = words(values)
  if (parts.length === 0) throw new EnvsyncError('--targets needs at least one target', {code: 'USAGE', suggestion: `e.g. --targets docker (kinds: ${deployKinds.join(', ')})`})
  let assigned: string | undefined
  for (const part of parts) {
    const eq = part.indexOf('=')
    if (eq === -1) {
      if (assigned !== undefined) {
        const [env] = assigned.split('=')
        throw new EnvsyncError(`--targets: "${part}" after "${assigned}" is ambiguous`, {
          code: 'USAGE',
          suggestion: `write ${env}=${assigned.slice(env.length + 1)}+${part} for both in ${env}, or put "${part}" first for every environment: --targets ${[part, ...parts.filter((x) => x !== part)].join(',')}`,
        })
      }
      everywhere.push(...kinds(part, part))
      continue
    }
    const env = part.slice(0, eq)
    if (!environments.includes(env)) {
      throw new EnvsyncError(`--targets: unknown environment "${env}"`, {code: 'USAGE', suggestion: didYouMean(env, environments) ?? `environments: ${environments.join(', ')}`})
    }
    own.set(env, [...(own.get(env) ?? []), ...kinds(part.slice(eq + 1), part, env)])
    assigned = part
  }
  const out: Record<string, TargetKind[]> = {}
  for (const env of environments) {
    const chosen = own.get(env) ?? everywhere
    if (chosen.length > 0) out[env] = [...new Set(chosen)]
  }
  return out
}

/** `--protected production,live`, or `none`; without the flag, `fallback` (production-like names, or the kept manifest's). */
export function parseProtected(values: string[] | undefined, environments: string[], fallback: (env: string) => boolean = meansProduction): string[] {
  if (values === undefined) return environments.filter(fallback)
  const names = words(values)
  if (names.length === 1 && names[0] === 'none') return []
  if (names.length === 0) throw new EnvsyncError('--protected needs at least one environment', {code: 'USAGE', suggestion: 'name them (e.g. --protected production), or pass --protected none to protect no environment'})
  for (const env of names) {
    if (!environments.includes(env)) {
      throw new EnvsyncError(`--protected: unknown environment "${env}"`, {code: 'USAGE', suggestion: didYouMean(env, environments) ?? `environments: ${environments.join(', ')}`})
    }
  }
  return environments.filter((e) => names.includes(e))
}

/** Answers from flags alone (`--yes`): defaults (or the kept manifest's) for whatever is missing, never a question. */
export function answersFromFlags(flags: InitFlags, dir: string, was?: InitAnswers): InitAnswers {
  const services = flags.services === undefined && was ? was.services.map((s) => s.name) : checkNames(words(flags.services ?? ['backend,frontend']), '--services', 'service')
  const wasPublic = (s: string) => was?.services.find((w) => w.name === s)?.public ?? PUBLIC_GUESS.test(s)
  const pub = flags.public === undefined ? services.filter(wasPublic) : words(flags.public)
  for (const p of pub) if (!services.includes(p)) throw new EnvsyncError(`--public: "${p}" is not one of the services`, {code: 'USAGE', suggestion: didYouMean(p, services) ?? `services: ${services.join(', ')}`})
  const environments = flags.environments === undefined && was ? was.environments : checkNames(words(flags.environments ?? ['development,staging,production']), '--environments', 'environment')
  const targets =
    flags.targets !== undefined || !was
      ? parseTargets(flags.targets ?? ['docker'], environments)
      : Object.fromEntries(environments.map((env) => [env, was.targets[env] ?? ['docker' as const]]))
  return {
    project: checkNames([flags.project ?? was?.project ?? slug(path.basename(path.resolve(dir)))], '--project', 'project')[0],
    services: services.map((name) => ({name, public: pub.includes(name)})),
    environments,
    secrets: flags.secrets === undefined && was ? was.secrets : parseSecrets(words(flags.secrets ?? ['recommended']), was?.secrets),
    targets,
    protected: parseProtected(flags.protected, environments, (env) => protectedByDefault(env, was)),
    ...(was?.previous ? {previous: was.previous} : {}),
  }
}

/** An environment a kept manifest (or earlier answer) has keeps its setting; a new one is protected if named like production. */
export function protectedByDefault(env: string, a: InitAnswers | undefined): boolean {
  return a?.environments.includes(env) ? a.protected.includes(env) : meansProduction(env)
}

