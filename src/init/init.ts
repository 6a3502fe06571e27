import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {asEnvsyncError, EnvsyncError} from '../errors.js'
import {loadManifest, parseManifest} from '../manifest/load.js'
import type {Manifest} from '../manifest/manifest.js'
import {NAME_PATTERN, targetKinds, type TargetKind} from '../manifest/schema.js'
import {didYouMean} from '../manifest/suggest.js'
import {renderTemplate} from '../manifest/template.js'
import {displayPath} from '../paths.js'
import {aborted, type Prompter} from '../ui/prompt.js'
import {applyGenerate, planGenerate} from '../values/generate.js'
import {writeFileAtomic} from '../files.js'
import {readValues} from '../values/store.js'
import {YamlSource} from '../manifest/yaml-source.js'
import {catalogue, catalogueEntry, serviceKind} from './catalogue.js'
import {assignSecrets, scaffoldManifest, type InitAnswers, type RawManifest} from './scaffold.js'
import {meansProduction} from '../manifest/manifest.js'

export const MANIFEST_NAME = 'envsync.yaml'
const GITIGNORE_LINES = ['.env', '.env.*', '!.env.example', 'secrets/', '.envsync/']

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

export interface InitResult {
  dir: string
  manifest: string
  /** The manifest's JSON Schema beside it, for editors (the manifest's modeline points at it). */
  schema: string
  template: string
  environments: {environment: string; file: string; generated: number}[]
  gitignore: string[]
  /** What is left for the user, as commands that work from the directory init ran in. */
  next: InitNext
}

export interface InitNext {
  /** `cd <dir>`, shell-quoted, when the project is not the working directory. */
  cd?: string
  /** Required keys with no recipe and no value, to set by hand; values files missing the same keys share an entry. */
  fill: {keys: string[]; files: string[]}[]
  /** The first environment, for `envsync check`. */
  environment: string
}

/** What a written project will be, shown before anything is written. */
export interface InitSummary {
  dir: string
  files: {file: string; state: string}[]
  services: {name: string; kind: string}[]
  environments: {name: string; protected: boolean; targets: string[]}[]
  secrets: {key: string; services: string[]; fallback?: string}[]
}

/** Answers split on commas and spaces: `api, web` and `--services api --services web` alike. */
const list = (s: string) =>
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
  if (bad === undefined) return undefined
  return {message: `invalid ${what} name "${bad}"`, reason: `${what} names are lowercase letters, digits and '-', e.g. "${slug(bad)}"`}
}

function checkNames(names: string[], flag: string, what: string): string[] {
  const problem = namesProblem(names, what)
  if (problem) throw new EnvsyncError(names.length === 0 ? `${flag} ${problem.message}` : `${problem.message} in ${flag}`, {code: 'USAGE', suggestion: problem.reason})
  return [...new Set(names)]
}

/** A question's validate(): the same reason the flag gives, or true. */
const validNames = (what: string, split: (v: string) => string[] = list) => (v: string) => {
  const problem = namesProblem(split(v), what)
  return problem ? [problem.message, problem.reason].filter(Boolean).join(': ') : (true as const)
}
// One name, not a list: "my shop" is one (invalid) name, refused with the flag's reason.
const oneName = (v: string) => (v.trim() === '' ? [] : [v.trim()])

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'app'
}

const PUBLIC_GUESS = /^(frontend|web|webapp|client|spa|site)$/

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
  const parts = words(values)
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

/** The manifest `init --force` starts from: its answers, and its text's settings to keep. */
export interface Previous {
  answers: InitAnswers
}

/**
 * `init --force` starts from the manifest it replaces: its names are every default. A manifest
 * that does not load is never silently replaced: an error, or (asked) a start from scratch.
 */
export async function startingPoint(dir: string, p?: Prompter): Promise<Previous | undefined> {
  const file = path.join(path.resolve(dir), MANIFEST_NAME)
  let manifest: Manifest
  let raw: RawManifest
  try {
    manifest = loadManifest(file)
    raw = YamlSource.parse(displayPath(file), readFileSync(file)).data as RawManifest
  } catch (error) {
    const e = asEnvsyncError(error)
    if (!p) {
      throw new EnvsyncError(`init --force starts from ${displayPath(file)}, and it does not load: ${e.message}`, {
        code: e.code,
        location: e.location,
        suggestion: `fix it (${e.suggestion ?? 'see the place above'}), or remove it to start from scratch`,
      })
    }
    const fresh = await p.confirm({message: `${displayPath(file)} does not load (${e.message}). Start from scratch and replace it?`, default: false})
    if (!fresh) throw aborted()
    return undefined
  }
  const environments = manifest.environmentNames
  return {
    answers: {
      project: manifest.project,
      services: manifest.serviceNames.map((name) => ({name, public: manifest.isPublicService(name)})),
      environments,
      secrets: manifest.secrets.map((s) => s.key),
      targets: Object.fromEntries(environments.map((env) => [env, manifest.targetsOf(env)])),
      protected: environments.filter((env) => manifest.isProtected(env)),
      previous: raw,
    },
  }
}

/** Answers from flags alone (`--yes`): defaults (or the kept manifest's) for whatever is missing, never a question. */
export function answersFromFlags(flags: InitFlags, dir: string, previous?: Previous): InitAnswers {
  const was = previous?.answers
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
function protectedByDefault(env: string, a: InitAnswers | undefined): boolean {
  return a?.environments.includes(env) ? a.protected.includes(env) : meansProduction(env)
}

type Section = 'project' | 'services' | 'environments' | 'secrets' | 'targets' | 'protected'

/** The questions, each starting from the answers so far (flags, a kept manifest, or an earlier pass). */
const questions: Record<Section, (p: Prompter, a: InitAnswers, before: InitAnswers) => Promise<Partial<InitAnswers>>> = {
  async project(p, a) {
    return {project: (await p.input({message: 'Project name', default: a.project, validate: validNames('project', oneName)})).trim()}
  },
  async services(p, a) {
    const names = [...new Set(list(await p.input({message: 'Services (comma-separated)', default: a.services.map((s) => s.name).join(', '), validate: validNames('service')})))]
    const pub = await p.checkbox({
      message: 'Which services are bundled into the browser (public)?',
      choices: names.map((s) => ({name: s, value: s, checked: a.services.find((b) => b.name === s)?.public ?? PUBLIC_GUESS.test(s)})),
    })
    return {services: names.map((name) => ({name, public: pub.includes(name)}))}
  },
  async environments(p, a) {
    return {environments: [...new Set(list(await p.input({message: 'Environments (comma-separated)', default: a.environments.join(', '), validate: validNames('environment')})))]}
  },
  async secrets(p, a) {
    const kept = a.previous?.secrets ?? {}
    // A kept manifest's own keys are offered too (checked), so replacing it loses none by surprise.
    const extra = Object.keys(kept).filter((k) => !catalogueEntry(k))
    const label = (key: string, text: string) => `${key.padEnd(26)} ${text}`
    const secrets = await p.checkbox({
      message: 'Secrets to manage',
      required: true,
      choices: [
        ...catalogue.map((e) => ({
          name: label(e.key, `${e.generate ? `generate ${e.generate}` : 'set by hand'}${e.rotate ? `, rotate ${e.rotate}` : ''}`),
          value: e.key,
          description: e.description,
          checked: a.secrets.includes(e.key),
        })),
        ...extra.map((key) => ({name: label(key, `from ${MANIFEST_NAME}`), value: key, description: typeof kept[key].description === 'string' ? kept[key].description : undefined, checked: a.secrets.includes(key)})),
      ].map((c) => ({...c, short: c.value})), // the answer echoes key names, not the padded labels
    })
    if (!a.previous) return {secrets}
    // A kept manifest's order stays; keys added now follow in catalogue order.
    return {secrets: [...a.secrets.filter((k) => secrets.includes(k)), ...secrets.filter((k) => !a.secrets.includes(k))]}
  },
  async targets(p, a) {
    const targets: Record<string, TargetKind[]> = {}
    for (const env of a.environments) {
      targets[env] = await p.checkbox({
        message: `Where is ${env} deployed?`,
        choices: targetKinds.map((k) => ({name: k, value: k, checked: (a.targets[env] ?? ['docker']).includes(k)})),
      })
    }
    return {targets}
  },
  async protected(p, a, before) {
    // Pre-checked: what flags or the kept manifest said, or a production-like name; a push there asks for the environment's name.
    return {
      protected: await p.checkbox({
        message: 'Which environments are protected (a push there needs its name typed)?',
        choices: a.environments.map((env) => ({name: env, value: env, checked: protectedByDefault(env, before)})),
      }),
    }
  },
}

/** The last step's ways back, each with the questions it asks again (targets and protection are per environment). */
const CHANGES: [Section, string, Section[]][] = [
  ['project', 'Change the project name', ['project']],
  ['services', 'Change services', ['services']],
  ['environments', 'Change environments', ['environments', 'targets', 'protected']],
  ['secrets', 'Change secrets', ['secrets']],
  ['targets', 'Change where environments deploy', ['targets']],
  ['protected', 'Change protected environments', ['protected']],
]

/**
 * The interactive questions, then a summary of what will be written and a last step: write, go
 * back to one answer, or cancel (nothing written). Flags (or a kept manifest) are the defaults.
 */
export async function askAnswers(p: Prompter, flags: InitFlags, dir: string, options: {previous?: Previous; show: (summary: InitSummary) => void}): Promise<InitAnswers> {
  let a = answersFromFlags(flags, dir, options.previous)
  const ask = async (sections: Section[]) => {
    const before = a
    for (const section of sections) a = {...a, ...(await questions[section](p, a, before))}
  }
  await ask(['project', 'services', 'environments', 'secrets', 'targets', 'protected'])
  for (;;) {
    options.show(summarize(dir, a))
    const next = await p.select<Section | 'write' | 'cancel'>({
      message: 'Write these files?',
      choices: [{name: 'Write', value: 'write'}, ...CHANGES.map(([value, name]) => ({name, value})), {name: 'Cancel (write nothing)', value: 'cancel'}],
    })
    if (next === 'write') return a
    if (next === 'cancel') throw aborted()
    await ask(CHANGES.find(([section]) => section === next)![2])
  }
}

/** The manifest the answers make, parsed: what is shown before writing is what gets written. */
function prepare(dir: string, answers: InitAnswers): {text: string; manifest: Manifest; file: string} {
  const file = path.join(path.resolve(dir), MANIFEST_NAME)
  const text = scaffoldManifest(answers, `./${SCHEMA_NAME}`)
  return {text, file, manifest: parseManifest(displayPath(file), Buffer.from(text), file)}
}

export function summarize(dir: string, answers: InitAnswers): InitSummary {
  const {manifest, file} = prepare(dir, answers)
  const state = (f: string) => (existsSync(f) ? 'replaced' : 'new')
  const rel = (f: string) => path.relative(path.resolve(dir), f)
  const files = [
    {file: rel(file), state: state(file)},
    {file: SCHEMA_NAME, state: state(path.join(dir, SCHEMA_NAME))},
    ...manifest.environmentNames.map((env) => {
      const f = manifest.valuesFile(env)
      const generated = `${planGenerate(manifest, env, [], false).generate.length} generated`
      return {file: rel(f), state: existsSync(f) ? `kept: its values stay, missing ones ${generated}` : `new: ${generated}`}
    }),
    {file: 'env.template', state: state(path.join(dir, 'env.template'))},
    {file: '.gitignore', state: gitignoreMissing(dir).length > 0 ? `adds ${gitignoreMissing(dir).join(' ')}` : 'unchanged'},
  ]
  return {
    dir: displayPath(path.resolve(dir)) || '.',
    files,
    services: answers.services.map((s) => ({name: s.name, kind: serviceKind(s)})),
    environments: answers.environments.map((env) => ({name: env, protected: answers.protected.includes(env), targets: answers.targets[env] ?? []})),
    secrets: assignSecrets(answers),
  }
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
  const {text, manifest, file: manifestFile} = prepare(dir, answers)
  if (existsSync(manifestFile) && !force) throw refuseOverwrite(dir)
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
  return {
    dir: displayPath(path.resolve(dir)) || '.',
    manifest: displayPath(manifestFile),
    schema: displayPath(schema),
    template: displayPath(template),
    environments,
    gitignore,
    next: nextSteps(dir, manifest),
  }
}

/** What the user does next, from where they are: cd into the project, then fill the keys no recipe makes. */
function nextSteps(dir: string, manifest: Manifest): InitNext {
  const root = path.resolve(dir)
  const fill = new Map<string, {keys: string[]; files: string[]}>()
  for (const env of manifest.environmentNames) {
    const file = manifest.valuesFile(env)
    const values = readValues(file).values
    const keys = manifest.secretsFor(env).filter((s) => s.required && s.default === undefined && values.get(s.key)?.isEmpty !== false).map((s) => s.key)
    if (keys.length === 0) continue
    const entry = fill.get(keys.join()) ?? {keys, files: []}
    entry.files.push(path.relative(root, file))
    fill.set(keys.join(), entry)
  }
  return {cd: root === process.cwd() ? undefined : `cd ${shellQuote(displayPath(root))}`, fill: [...fill.values()], environment: manifest.environmentNames[0]}
}

/** A word the shell reads back as it is: bare when safe, else double quotes, else single quotes. */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word
  if (!/["$`\\!]/.test(word)) return `"${word}"`
  return `'${word.replace(/'/g, `'\\''`)}'`
}

function gitignoreMissing(dir: string): string[] {
  const file = path.join(dir, '.gitignore')
  const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
  const have = new Set(current.split(/\r?\n/).map((l) => l.trim()))
  return GITIGNORE_LINES.filter((l) => !have.has(l))
}

function updateGitignore(dir: string): string[] {
  const file = path.join(dir, '.gitignore')
  const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
  const missing = gitignoreMissing(dir)
  if (missing.length === 0) return []
  const sep = current === '' || current.endsWith('\n') ? '' : '\n'
  writeFileAtomic(file, `${current}${sep}${current ? '\n' : ''}# envsync: values files and secret files never go to git\n${missing.join('\n')}\n`, 0o644)
  return missing
}
