import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {EnvsyncError} from '../errors.js'
import {parseManifest} from '../manifest/load.js'
import {NAME_PATTERN, targetKinds, type TargetKind} from '../manifest/schema.js'
import {didYouMean} from '../manifest/suggest.js'
import {renderTemplate} from '../manifest/template.js'
import {displayPath} from '../paths.js'
import type {Prompter} from '../ui/prompt.js'
import {applyGenerate, planGenerate} from '../values/generate.js'
import {writeFileAtomic} from '../files.js'
import {catalogue} from './catalogue.js'
import {scaffoldManifest, type InitAnswers} from './scaffold.js'
import {meansProduction} from '../manifest/manifest.js'

export const MANIFEST_NAME = 'envsync.yaml'
const GITIGNORE_LINES = ['.env', '.env.*', '!.env.example', 'secrets/', '.envsync/']

/** What flags said; anything missing is asked (interactive) or defaulted (--yes). */
export interface InitFlags {
  project?: string
  services?: string
  public?: string
  environments?: string
  secrets?: string
  targets?: string
  protected?: string
}

export interface InitResult {
  dir: string
  manifest: string
  /** The manifest's JSON Schema beside it, for editors (the manifest's modeline points at it). */
  schema: string
  template: string
  environments: {environment: string; file: string; generated: number}[]
  gitignore: string[]
}

const list = (s: string) =>
  s
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean)

function checkNames(names: string[], flag: string, what: string): string[] {
  for (const n of names) {
    if (!NAME_PATTERN.test(n)) {
      throw new EnvsyncError(`invalid ${what} name "${n}" in ${flag}`, {
        code: 'USAGE',
        suggestion: `${what} names are lowercase letters, digits and '-', e.g. "${n.toLowerCase().replace(/[^a-z0-9-]/g, '-')}"`,
      })
    }
  }
  if (names.length === 0) throw new EnvsyncError(`${flag} needs at least one ${what}`, {code: 'USAGE'})
  return [...new Set(names)]
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'app'
}

const PUBLIC_GUESS = /^(frontend|web|webapp|client|spa|site)$/

function parseSecrets(value: string): string[] {
  if (value === 'recommended') return catalogue.filter((e) => e.recommended).map((e) => e.key)
  if (value === 'all') return catalogue.map((e) => e.key)
  const keys = list(value)
  for (const k of keys) {
    if (!catalogue.some((e) => e.key === k)) {
      throw new EnvsyncError(`--secrets: "${k}" is not in the catalogue`, {
        code: 'USAGE',
        suggestion: didYouMean(k, catalogue.map((e) => e.key)) ?? `choose from ${catalogue.map((e) => e.key).join(', ')}, or "recommended"/"all"`,
      })
    }
  }
  return keys
}

/**
 * `docker` or `docker+kubernetes` (every environment), `development=docker,production=docker+kubernetes`
 * (each its own), or both: `railway,production=render` (railway wherever no `env=` says otherwise).
 * Every kind written is meant: `docker,kubernetes` is both everywhere, a repeated `env=` adds up.
 * A bare kind after an `env=` part could belong to either, so it is refused with both spellings.
 */
export function parseTargets(value: string, environments: string[]): Record<string, TargetKind[]> {
  const kinds = (s: string, part: string, env?: string): TargetKind[] => {
    const out = s.split('+').filter(Boolean).map((k) => {
      if (!(targetKinds as readonly string[]).includes(k)) {
        throw new EnvsyncError(`--targets: unknown target "${k}"`, {code: 'USAGE', suggestion: didYouMean(k, targetKinds) ?? `use ${targetKinds.join(', ')}`})
      }
      return k as TargetKind
    })
    if (out.length === 0) throw new EnvsyncError(`--targets: "${part}" names no target`, {code: 'USAGE', suggestion: `name one or more of ${targetKinds.join(', ')}, e.g. "${env === undefined ? '' : `${env}=`}docker"`})
    return out
  }
  const everywhere: TargetKind[] = []
  const own = new Map<string, TargetKind[]>()
  const parts = list(value)
  if (parts.length === 0) throw new EnvsyncError('--targets needs at least one target', {code: 'USAGE', suggestion: `e.g. --targets docker (kinds: ${targetKinds.join(', ')})`})
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


/** `--protected production,live`, or `none`; without the flag, every environment named like production. */
export function parseProtected(value: string | undefined, environments: string[]): string[] {
  if (value === undefined) return environments.filter(meansProduction)
  if (value.trim() === 'none') return []
  const names = list(value)
  if (names.length === 0) throw new EnvsyncError('--protected needs at least one environment', {code: 'USAGE', suggestion: 'name them (e.g. --protected production), or pass --protected none to protect no environment'})
  for (const env of names) {
    if (!environments.includes(env)) {
      throw new EnvsyncError(`--protected: unknown environment "${env}"`, {code: 'USAGE', suggestion: didYouMean(env, environments) ?? `environments: ${environments.join(', ')}`})
    }
  }
  return environments.filter((e) => names.includes(e))
}

/** Answers from flags alone (`--yes`): defaults for whatever is missing, never a question. */
export function answersFromFlags(flags: InitFlags, dir: string): InitAnswers {
  const services = checkNames(list(flags.services ?? 'backend,frontend'), '--services', 'service')
  const pub = flags.public === undefined ? services.filter((s) => PUBLIC_GUESS.test(s)) : list(flags.public)
  for (const p of pub) if (!services.includes(p)) throw new EnvsyncError(`--public: "${p}" is not one of the services`, {code: 'USAGE', suggestion: didYouMean(p, services) ?? `services: ${services.join(', ')}`})
  const environments = checkNames(list(flags.environments ?? 'development,staging,production'), '--environments', 'environment')
  return {
    project: checkNames([flags.project ?? slug(path.basename(path.resolve(dir)))], '--project', 'project')[0],
    services: services.map((name) => ({name, public: pub.includes(name)})),
    environments,
    secrets: parseSecrets(flags.secrets ?? 'recommended'),
    targets: parseTargets(flags.targets ?? 'docker', environments),
    protected: parseProtected(flags.protected, environments),
  }
}

/** The interactive questions; flags given on the command line become the defaults. */
export async function askAnswers(p: Prompter, flags: InitFlags, dir: string): Promise<InitAnswers> {
  const base = answersFromFlags(flags, dir)
  const validNames = (what: string) => (v: string) => {
    try {
      checkNames(list(v), what, what)
      return true as const
    } catch (error) {
      return (error as EnvsyncError).message
    }
  }
  // One name, not a list: "my shop" must be refused here, not after every question was answered.
  const validProject = (v: string) => (v.trim() && list(v).length > 1 ? `project names have no spaces or commas, e.g. "${slug(v)}"` : validNames('project')(v))
  const project = await p.input({message: 'Project name', default: base.project, validate: validProject})
  const serviceNames = list(await p.input({message: 'Services (comma-separated)', default: base.services.map((s) => s.name).join(', '), validate: validNames('service')}))
  const pub = await p.checkbox({
    message: 'Which services are bundled into the browser (public)?',
    choices: serviceNames.map((s) => ({name: s, value: s, checked: base.services.find((b) => b.name === s)?.public ?? PUBLIC_GUESS.test(s)})),
  })
  const environments = list(await p.input({message: 'Environments (comma-separated)', default: base.environments.join(', '), validate: validNames('environment')}))
  const secrets = await p.checkbox({
    message: 'Secrets to manage',
    required: true,
    choices: catalogue.map((e) => ({
      name: `${e.key.padEnd(26)} ${e.generate ? `generate ${e.generate}` : 'set by hand'}${e.rotate ? `, rotate ${e.rotate}` : ''}`,
      value: e.key,
      description: e.description,
      checked: base.secrets.includes(e.key),
    })),
  })
  const targets: Record<string, TargetKind[]> = {}
  for (const env of environments) {
    targets[env] = await p.checkbox({
      message: `Where is ${env} deployed?`,
      choices: targetKinds.map((k) => ({name: k, value: k, checked: (base.targets[env] ?? ['docker']).includes(k)})),
    })
  }
  // Flags or the production-like names pre-checked; a push there asks for the environment's name.
  const wanted = flags.protected === undefined ? environments.filter(meansProduction) : base.protected
  const protectedEnvs = await p.checkbox({
    message: 'Which environments are protected (a push there needs its name typed)?',
    choices: environments.map((env) => ({name: env, value: env, checked: wanted.includes(env)})),
  })
  return {project: project.trim(), services: serviceNames.map((name) => ({name, public: pub.includes(name)})), environments, secrets, targets, protected: protectedEnvs}
}

export const SCHEMA_NAME = 'envsync.schema.json'

/**
 * The manifest's JSON Schema, as shipped in the package (manifests/, kept generated from the zod
 * schema by a test). init writes a copy beside the manifest, to be committed with it: the editor
 * modeline then resolves offline, for a global install and npx alike, without a published URL.
 */
function packagedSchema(): string {
  return readFileSync(fileURLToPath(new URL(`../../manifests/${SCHEMA_NAME}`, import.meta.url)), 'utf8')
}

export function manifestExists(dir: string): boolean {
  return existsSync(path.join(dir, MANIFEST_NAME))
}

export function refuseOverwrite(dir: string): EnvsyncError {
  return new EnvsyncError(`${displayPath(path.join(dir, MANIFEST_NAME))} already exists`, {
    code: 'MANIFEST_EXISTS',
    suggestion: 'pass --force to replace the manifest (values files are kept; only missing values are generated)',
  })
}

/**
 * Writes the project: values files first (each generated on its own), then env.template and
 * .gitignore, the manifest last — an interrupted init leaves no manifest, so a rerun starts clean.
 */
export function writeProject(dir: string, answers: InitAnswers, force: boolean): InitResult {
  const manifestFile = path.join(path.resolve(dir), MANIFEST_NAME)
  if (existsSync(manifestFile) && !force) throw refuseOverwrite(dir)
  const text = scaffoldManifest(answers, `./${SCHEMA_NAME}`)
  const manifest = parseManifest(displayPath(manifestFile), Buffer.from(text), manifestFile)
  mkdirSync(dir, {recursive: true, mode: 0o755})

  const environments = manifest.environmentNames.map((env) => {
    const result = applyGenerate(manifest, planGenerate(manifest, env, [], false))
    return {environment: env, file: result.file, generated: result.generated.length}
  })
  const template = path.join(dir, 'env.template')
  writeFileAtomic(template, renderTemplate(manifest), 0o644)
  const gitignore = updateGitignore(dir)
  const schema = path.join(dir, SCHEMA_NAME)
  writeFileAtomic(schema, packagedSchema(), 0o644)
  writeFileAtomic(manifestFile, text, 0o644)
  return {dir: displayPath(path.resolve(dir)) || '.', manifest: displayPath(manifestFile), schema: displayPath(schema), template: displayPath(template), environments, gitignore}
}

function updateGitignore(dir: string): string[] {
  const file = path.join(dir, '.gitignore')
  const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
  const have = new Set(current.split(/\r?\n/).map((l) => l.trim()))
  const missing = GITIGNORE_LINES.filter((l) => !have.has(l))
  if (missing.length === 0) return []
  const sep = current === '' || current.endsWith('\n') ? '' : '\n'
  writeFileAtomic(file, `${current}${sep}${current ? '\n' : ''}# envsync: values files and secret files never go to git\n${missing.join('\n')}\n`, 0o644)
  return missing
}
