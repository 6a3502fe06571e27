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
import {readStore} from '../values/store.js'
import {serviceKind} from './catalogue.js'
import {assignSecrets, scaffoldManifest, type InitAnswers} from './scaffold.js'

export const MANIFEST_NAME = 'envsync.yaml'
const GITIGNORE_LINES = ['.env', '.env.*', '!.env.example', 'secrets/', '.envsync/']

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
    const values = readStore(manifest, env).values
    const keys = manifest.secretsFor(env).filter((s) => s.required && s.default === undefined && values.get(s.key)?.isEmpty !== false).map((s) => s.key)
    if (keys.length === 0) continue
    const entry = fill.get(keys.join()) ?? {keys, files: []}
    entry.files.push(path.relative(root, file))
    fill.set(keys.join(), entry)
  }
  return {cd: root === process.cwd() ? undefined : `cd ${shellPath(root)}`, fill: [...fill.values()], environment: manifest.environmentNames[0]}
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
