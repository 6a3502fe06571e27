/**
 * Shared helpers for the `envsync init` tests: temp directories, a scripted Prompter that checks
 * every question it is asked, a child-process runner with a hard timeout, and one oracle that
 * checks a written project (manifest, values files, env.template, .gitignore).
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'
import {parse} from 'dotenv'

import Check from '../../src/commands/check.js'
import Init from '../../src/commands/init.js'
import {catalogue} from '../../src/init/catalogue.js'
import {loadManifest} from '../../src/manifest/load.js'
import type {Manifest} from '../../src/manifest/manifest.js'
import type {Choice, Prompter} from '../../src/ui/prompt.js'
import {TmuxSession, sh, tmuxAvailable} from '../cli/tmux.js'
import {BIN, ROOT, runSource, type CliResult} from '../helpers/cli.js'
import {requireOrSkip} from '../helpers/not-run.js'

/** Runs `init` or `check` in-process from src/ (see runSrc in helpers/cli.ts). */
export function runSrc(command: 'init' | 'check', args: string[]): Promise<CliResult> {
  return runSource(command === 'init' ? Init : Check, args)
}

export const RECOMMENDED = catalogue.filter((e) => e.recommended).map((e) => e.key)
export const ALL_KEYS = catalogue.map((e) => e.key)
export const GENERATED_KEYS = catalogue.filter((e) => e.generate).map((e) => e.key)

/** A fresh temporary directory; `cleanup` removes every directory made so far. */
export class TempDirs {
  private readonly made: string[] = []

  make(prefix = 'envsync-init-'): string {
    const dir = mkdtempSync(path.join(tmpdir(), prefix))
    this.made.push(dir)
    return dir
  }

  cleanup(): void {
    for (const d of this.made.splice(0)) rmSync(d, {recursive: true, force: true})
  }
}

/** Every file under dir (recursively) → mode and content, to prove "nothing changed". */
export function snapshot(dir: string): Record<string, {mode: number; content: string}> {
  const out: Record<string, {mode: number; content: string}> = {}
  if (!existsSync(dir)) return out
  const walk = (d: string) => {
    for (const entry of readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, entry.name)
      if (entry.isDirectory()) walk(p)
      else out[path.relative(dir, p)] = {mode: statSync(p).mode & 0o777, content: readFileSync(p, 'utf8')}
    }
  }
  walk(dir)
  return out
}

export function readEnv(file: string): Record<string, string> {
  return parse(readFileSync(file))
}

/** Every value in every values file of dir (the canaries for leak checks). */
export function allValues(dir: string, environments: string[]): string[] {
  return environments.flatMap((env) => Object.values(readEnv(path.join(dir, `.env.${env}`)))).filter((v) => v !== '')
}

export interface ExpectedProject {
  project: string
  services: Record<string, {public: boolean}>
  environments: string[]
  secrets: string[]
  /** Environment → target kinds, in manifest order (docker, kubernetes, railway, render). */
  targets: Record<string, string[]>
  /** Protected environments; default: those named like production (production, prod, prd, live…). */
  protected?: string[]
}

/**
 * The oracle for a project `init` wrote: the manifest loads and says what was chosen; every
 * environment has a 0600 values file with a value for each generated key, and no value is shared
 * between environments; env.template documents every key; .gitignore ignores the values files.
 */
export function assertProject(dir: string, want: ExpectedProject): {manifest: Manifest; values: Record<string, Record<string, string>>} {
  const file = path.join(dir, 'envsync.yaml')
  const text = readFileSync(file, 'utf8')
  // The editor modeline points at a schema that exists, beside the manifest (no URL to publish).
  const modeline = text.split('\n')[0].match(/^# yaml-language-server: \$schema=(\S+)$/)
  expect(modeline, text.split('\n')[0]).to.not.equal(null)
  const schema = path.resolve(dir, modeline![1])
  expect(readFileSync(schema, 'utf8'), `${modeline![1]} resolves to the packaged schema`).to.equal(readFileSync(path.join(ROOT, 'manifests', 'envsync.schema.json'), 'utf8'))
  expect(path.dirname(schema)).to.equal(path.resolve(dir))
  const manifest = loadManifest(file)
  expect(manifest.project).to.equal(want.project)
  expect(Object.fromEntries(manifest.serviceNames.map((s) => [s, {public: manifest.isPublicService(s)}]))).to.deep.equal(want.services)
  expect(manifest.environmentNames).to.deep.equal(want.environments)
  expect(manifest.secrets.map((s) => s.key)).to.deep.equal(want.secrets)
  for (const env of want.environments) {
    expect(manifest.targetsOf(env), `targets of ${env}`).to.deep.equal(want.targets[env] ?? [])
    expect(manifest.isProtected(env), `${env} protected`).to.equal((want.protected ?? want.environments.filter((e) => /^(production|prod|prd|live)$/.test(e))).includes(env))
  }
  // Catalogue facts reach the manifest (recipe, rotation, format), and a public service never
  // receives a secret.
  for (const s of manifest.secrets) {
    const entry = catalogue.find((e) => e.key === s.key)!
    expect(s.generate, `${s.key}.generate`).to.equal(entry.generate)
    expect(s.rotate, `${s.key}.rotate`).to.equal(entry.rotate)
    expect(s.services.length, `${s.key}.services`).to.be.greaterThan(0)
    for (const svc of s.services) expect(manifest.isPublicService(svc), `${s.key} goes to public ${svc}`).to.equal(false)
  }

  const generated = manifest.secrets.filter((s) => s.generate).map((s) => s.key)
  const values: Record<string, Record<string, string>> = {}
  for (const env of want.environments) {
    const envFile = path.join(dir, `.env.${env}`)
    expect(existsSync(envFile), `${envFile} exists`).to.equal(true)
    expect(statSync(envFile).mode & 0o777, `${envFile} mode`).to.equal(0o600)
    values[env] = readEnv(envFile)
    for (const key of generated) {
      expect(values[env][key], `${key} in .env.${env}`).to.be.a('string').and.have.length.greaterThan(15)
    }
  }
  for (const key of generated) {
    const seen = want.environments.map((env) => values[env][key])
    expect(new Set(seen).size, `${key} must differ between environments`).to.equal(seen.length)
  }

  const template = readFileSync(path.join(dir, 'env.template'), 'utf8')
  // Every key has its line: open where a value must be filled in, commented out when optional.
  for (const s of manifest.secrets) expect(template).to.match(new RegExp(`^${s.required ? '' : '# '}${s.key}=$`, 'm'))
  for (const v of Object.values(values).flatMap((m) => Object.values(m))) {
    expect(template.includes(v), 'a value in env.template').to.equal(false)
    expect(text.includes(v), 'a value in the manifest').to.equal(false)
  }

  const gitignore = readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')
  expect(gitignore).to.include('.env.*')
  return {manifest, values}
}

// ---------------------------------------------------------------------------------------------
// A scripted Prompter

type InputStep = {
  kind: 'input'
  message: string
  /** The default the question must offer. */
  default?: string
  /** The answer; undefined → accept the default (what Enter does). */
  answer?: string
  /** Values the question's validate() must accept / reject (with a message matching). */
  accepts?: string[]
  rejects?: [string, RegExp][]
}
type CheckboxStep = {
  kind: 'checkbox'
  message: string
  /** The choice values offered, in order. */
  values?: string[]
  /** The choices pre-checked. */
  checked?: string[]
  required?: boolean
  /** undefined → keep the pre-checked ones. */
  answer?: string[]
}
type SelectStep = {
  kind: 'select'
  message: string
  /** The choice values offered, in order. */
  values?: string[]
  answer: string
}
type ConfirmStep = {kind: 'confirm'; message: string; answer: boolean; default?: boolean}
type AbortStep = {kind: 'abort'; message: string}
export type Step = InputStep | CheckboxStep | SelectStep | ConfirmStep | AbortStep

/** Ctrl-C in @inquirer/prompts rejects with an error of this name. */
export function exitPromptError(): Error {
  const e = new Error('User force closed the prompt with SIGINT')
  e.name = 'ExitPromptError'
  return e
}

/**
 * Answers questions from a script, asserting each question's message, default and choices as it
 * goes. `asked` records every message (for "nothing was asked"), `remaining()` what was not.
 */
export class ScriptedPrompter implements Prompter {
  readonly asked: string[] = []
  /** Full checkbox options as init built them, by message. */
  readonly checkboxes = new Map<string, Choice<unknown>[]>()
  private readonly steps: Step[]

  constructor(steps: Step[]) {
    this.steps = [...steps]
  }

  remaining(): string[] {
    return this.steps.map((s) => s.message)
  }

  private next(kind: Step['kind'], message: string): Step {
    this.asked.push(message)
    const step = this.steps.shift()
    expect(step, `unexpected extra question "${message}"`).to.not.equal(undefined)
    // A yes/no question quotes an error after its start: the start is what a script names.
    if (step!.kind === 'confirm') expect(message.startsWith(step!.message), `question #${this.asked.length}: "${message}"`).to.equal(true)
    else expect(message, `question #${this.asked.length}`).to.equal(step!.message)
    if (step!.kind === 'abort') throw exitPromptError()
    expect(kind, `kind of "${message}"`).to.equal(step!.kind)
    return step!
  }

  async input(o: {message: string; default?: string; validate?: (v: string) => true | string}): Promise<string> {
    const step = this.next('input', o.message) as InputStep
    if ('default' in step) expect(o.default, `default of "${o.message}"`).to.equal(step.default)
    for (const v of step.accepts ?? []) expect(o.validate?.(v), `validate("${v}") for "${o.message}"`).to.equal(true)
    for (const [v, msg] of step.rejects ?? []) {
      const r = o.validate?.(v)
      expect(r, `validate("${v}") for "${o.message}" must reject`).to.be.a('string')
      expect(r).to.match(msg)
    }
    const answer = step.answer ?? o.default ?? ''
    // The real prompt never returns what validate() rejects.
    if (o.validate) expect(o.validate(answer), `scripted answer "${answer}" is valid`).to.equal(true)
    return answer
  }

  async confirm(o: {message: string; default?: boolean}): Promise<boolean> {
    const step = this.next('confirm', o.message) as ConfirmStep
    expect(o.default, `default of "${o.message}"`).to.equal(step.default ?? false)
    return step.answer
  }

  async password(o: {message: string}): Promise<string> {
    this.next('input', o.message)
    throw new Error(`init asks no hidden question ("${o.message}")`)
  }

  async select<T>(o: {message: string; choices: Omit<Choice<T>, 'checked'>[]}): Promise<T> {
    const step = this.next('select', o.message) as SelectStep
    if (step.values) expect(o.choices.map((c) => c.value), `choices of "${o.message}"`).to.deep.equal(step.values)
    expect(o.choices.map((c) => c.value), `answer "${step.answer}" is a choice`).to.include(step.answer)
    return step.answer as unknown as T
  }

  async checkbox<T>(o: {message: string; choices: Choice<T>[]; required?: boolean}): Promise<T[]> {
    const step = this.next('checkbox', o.message) as CheckboxStep
    this.checkboxes.set(o.message, o.choices as Choice<unknown>[])
    if (step.values) expect(o.choices.map((c) => c.value), `choices of "${o.message}"`).to.deep.equal(step.values)
    if (step.checked) expect(o.choices.filter((c) => c.checked).map((c) => c.value), `pre-checked in "${o.message}"`).to.deep.equal(step.checked)
    if (step.required !== undefined) expect(Boolean(o.required), `required of "${o.message}"`).to.equal(step.required)
    const answer = step.answer ?? o.choices.filter((c) => c.checked).map((c) => c.value as unknown as string)
    for (const a of answer) expect(o.choices.map((c) => c.value), `answer "${a}" is a choice`).to.include(a)
    return answer as unknown as T[]
  }
}

// ---------------------------------------------------------------------------------------------
// The real binary with a deadline

export interface TimedResult {
  stdout: string
  stderr: string
  exitCode: number
  ms: number
}

/**
 * Runs bin/run.js with stdin a pipe (not a TTY). A run that outlives `timeoutMs` is killed and the
 * promise rejects: a hang fails the test instead of stalling the suite.
 */
export function runBinTimed(args: string[], options: {cwd?: string; timeoutMs?: number; input?: string; closeStdin?: boolean} = {}): Promise<TimedResult> {
  const timeoutMs = options.timeoutMs ?? 10_000
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
    delete env.FORCE_COLOR
    delete env.DEBUG
    delete env.CI
    const started = Date.now()
    const child = spawn(process.execPath, [BIN, ...args], {cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`envsync ${args.join(' ')} did not exit within ${timeoutMs} ms (hung waiting for input?)\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({stdout, stderr, exitCode: code ?? -1, ms: Date.now() - started})
    })
    // Leave stdin open (like an idle pipe) unless told otherwise: a prompt would wait forever.
    if (options.input !== undefined) child.stdin.write(options.input)
    if (options.closeStdin) child.stdin.end()
  })
}

// ---------------------------------------------------------------------------------------------
// The built binary in a real terminal (tmux)

/** Skips (or, under CI, fails) without tmux; fails without a build. For a `before` hook. */
export function requireTerminal(ctx: Mocha.Context, what: string): void {
  requireOrSkip(ctx, what, tmuxAvailable() ? undefined : 'tmux is not installed')
  if (!existsSync(path.join(ROOT, 'dist', 'commands', 'init.js'))) throw new Error('dist/ is missing: run `npm run build` first')
}

/** `envsync init ARGS` run from `cwd` in a fresh tmux pane (kill it when done). */
export function startInit(args: string[], cwd = ROOT): TmuxSession {
  const session = new TmuxSession()
  session.start(`cd ${sh(cwd)} && env NO_COLOR=1 DEBUG= CI= ${sh(process.execPath)} ${sh(BIN)} init ${args.map(sh).join(' ')}`)
  return session
}

/** The text of the last prompt on screen (from its "? " line down). */
export function currentPrompt(screen: string): string {
  const lines = screen.split('\n')
  const i = lines.findLastIndex((l) => l.startsWith('? '))
  return i === -1 ? '' : lines.slice(i).join('\n')
}
