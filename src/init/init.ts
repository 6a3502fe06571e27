import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {EnvsyncError} from '../errors.js'
import {writeFileAtomic} from '../files.js'
import {parseManifest} from '../manifest/load.js'
import type {Manifest} from '../manifest/manifest.js'
import {renderTemplate} from '../manifest/template.js'
import {displayPath, shellPath} from '../paths.js'
import {applyGenerate, planGenerate} from '../values/generate.js'
import {applyImport, planImport, type ImportResult} from '../values/import.js'
import {readStore} from '../values/store.js'
import {foundDotenv, type InitImport} from './offer.js'
import {serviceKind} from './catalogue.js'
import {assignSecrets, scaffoldManifest, type InitAnswers} from './scaffold.js'

export const MANIFEST_NAME = 'envsync.yaml'
const GITIGNORE_LINES = ['.env', '.env.*', '!.env.example', 'secrets/']
/**
 * What an older init added: .envsync/ is now shared state, committed (it keeps its machine-local
 * part out of git with its own .gitignore). init --force takes this exact line out again.
 */
const OLD_GITIGNORE_LINES = ['.envsync/']

export interface InitResult {
  dir: string
  manifest: string
  /** The manifest's JSON Schema beside it, for editors (the manifest's modeline points at it). */
  schema: string
  template: string
  environments: {environment: string; file: string; generated: number}[]
  gitignore: string[]
  /** Lines an older init wrote that --force took out of .gitignore (.envsync/ is committed now). */
  gitignoreRemoved: string[]
  /** The .env adopted (--import, or yes to the question): what went into the environment's store. */
  imported?: ImportResult
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
  /** A .env found and not imported: the import command for it. */
  importCommand?: string
}

/** What a written project will be, shown before anything is written. */
export interface InitSummary {
  dir: string
  files: {file: string; state: string}[]
  services: {name: string; kind: string}[]
  environments: {name: string; protected: boolean; targets: string[]}[]
  secrets: {key: string; services: string[]; fallback?: string}[]
}

/** The manifest the answers make, parsed: what is shown before writing is what gets written. */
function prepare(dir: string, answers: InitAnswers): {text: string; manifest: Manifest; file: string} {
  const file = path.join(path.resolve(dir), MANIFEST_NAME)
  const text = scaffoldManifest(answers, `./${SCHEMA_NAME}`)
  return {text, file, manifest: parseManifest(displayPath(file), Buffer.from(text), file)}
}

export async function summarize(dir: string, answers: InitAnswers, force = false): Promise<InitSummary> {
  const {manifest, file} = prepare(dir, answers)
  const state = (f: string) => (existsSync(f) ? 'replaced' : 'new')
  const rel = (f: string) => path.relative(path.resolve(dir), f)
  const valuesFiles = []
  for (const env of manifest.environmentNames) {
    const f = manifest.valuesFile(env)
    const generated = `${(await planGenerate(manifest, env, [], false)).generate.length} generated`
    valuesFiles.push({file: rel(f), state: existsSync(f) ? `kept: its values stay, missing ones ${generated}` : `new: ${generated}`})
  }
  const files = [
    {file: rel(file), state: state(file)},
    {file: SCHEMA_NAME, state: state(path.join(dir, SCHEMA_NAME))},
    ...valuesFiles,
    {file: 'env.template', state: state(path.join(dir, 'env.template'))},
    {file: '.gitignore', state: gitignoreState(dir, force)},
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
export async function writeProject(dir: string, answers: InitAnswers, force: boolean, adopt?: InitImport): Promise<InitResult> {
  const {text, manifest, file: manifestFile} = prepare(dir, answers)
  if (existsSync(manifestFile) && !force) throw refuseOverwrite(dir)
  // Read and compared before anything is written: a bad .env stops init with nothing changed.
  const importing = adopt && (await planImport(manifest, adopt.environment, adopt.file))
  mkdirSync(dir, {recursive: true, mode: 0o755})
  // Before generating: the team's values win over fresh ones, generate fills only what is left.
  const imported = importing && (await applyImport(manifest, importing, false))

  const environments = []
  for (const env of manifest.environmentNames) {
    const result = await applyGenerate(manifest, await planGenerate(manifest, env, [], false))
    environments.push({environment: env, file: result.file, generated: result.generated.length})
  }
  const template = path.join(dir, 'env.template')
  writeFileAtomic(template, renderTemplate(manifest), 0o644)
  const {added: gitignore, removed: gitignoreRemoved} = updateGitignore(dir, force)
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
    gitignoreRemoved,
    imported,
    next: await nextSteps(dir, manifest, imported !== undefined),
  }
}

/** What the user does next, from where they are: cd into the project, then fill the keys no recipe makes. */
async function nextSteps(dir: string, manifest: Manifest, imported: boolean): Promise<InitNext> {
  const root = path.resolve(dir)
  const fill = new Map<string, {keys: string[]; files: string[]}>()
  for (const env of manifest.environmentNames) {
    const file = manifest.valuesFile(env)
    const values = (await readStore(manifest, env)).values
    const keys = manifest.secretsFor(env).filter((s) => s.required && s.default === undefined && values.get(s.key)?.isEmpty !== false).map((s) => s.key)
    if (keys.length === 0) continue
    const entry = fill.get(keys.join()) ?? {keys, files: []}
    entry.files.push(path.relative(root, file))
    fill.set(keys.join(), entry)
  }
  const dotenv = imported ? undefined : foundDotenv(root)
  const env = manifest.environmentNames.includes('development') ? 'development' : manifest.environmentNames[0]
  return {
    cd: root === process.cwd() ? undefined : `cd ${shellPath(root)}`,
    fill: [...fill.values()],
    environment: manifest.environmentNames[0],
    // --overwrite: init has just generated the recipe keys' values; the team's, in the .env, must win.
    importCommand: dotenv && `envsync import ${env} ${shellPath(path.relative(root, dotenv))} --overwrite`,
  }
}

function readGitignore(dir: string): string {
  const file = path.join(dir, '.gitignore')
  return existsSync(file) ? readFileSync(file, 'utf8') : ''
}

/** The lines init adds, and (with --force) the old lines it takes out. */
function gitignoreChanges(dir: string, force: boolean): {missing: string[]; old: string[]} {
  const lines = readGitignore(dir).split(/\r?\n/)
  const have = new Set(lines.map((l) => l.trim()))
  return {missing: GITIGNORE_LINES.filter((l) => !have.has(l)), old: force ? OLD_GITIGNORE_LINES.filter((l) => lines.includes(l)) : []}
}

function gitignoreState(dir: string, force: boolean): string {
  const {missing, old} = gitignoreChanges(dir, force)
  const parts = [...(missing.length > 0 ? [`adds ${missing.join(' ')}`] : []), ...(old.length > 0 ? [`removes ${old.join(' ')} (now committed)`] : [])]
  return parts.join(', ') || 'unchanged'
}

function updateGitignore(dir: string, force: boolean): {added: string[]; removed: string[]} {
  const file = path.join(dir, '.gitignore')
  const {missing, old} = gitignoreChanges(dir, force)
  if (missing.length === 0 && old.length === 0) return {added: [], removed: []}
  // Only the exact line goes: a pattern the user wrote themselves (.envsync/*.log) stays.
  const current = old.length === 0 ? readGitignore(dir) : readGitignore(dir).split('\n').filter((l) => !old.includes(l.replace(/\r$/, ''))).join('\n')
  const sep = current === '' || current.endsWith('\n') ? '' : '\n'
  const adding = missing.length > 0 ? `${sep}${current ? '\n' : ''}# envsync: values files and secret files never go to git\n${missing.join('\n')}\n` : ''
  writeFileAtomic(file, `${current}${adding}`, 0o644)
  return {added: missing, removed: old}
}
