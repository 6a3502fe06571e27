import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {Ajv, type ValidateFunction} from 'ajv'
import {expect} from 'chai'
import {stringify} from 'yaml'

import {readValues, writeValues} from '../../src/values/store.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {ROOT, runBin, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/** Shared by the Docker tests: a project on disk, its values, the binary, and what it wrote. */

export interface SecretEntry {
  services: string[]
  sensitive?: boolean
  required?: boolean
  docker?: {delivery?: 'files' | 'env'; fileVariable?: string}
}

export interface DockerOptions {
  dir?: string
  fileMode?: string
  compose?: string
  services?: string[]
  delivery?: 'files' | 'env'
  fileSuffix?: string
}

export interface ManifestShape {
  project?: string
  services?: string[]
  environment?: string
  docker?: DockerOptions
  secrets: Record<string, SecretEntry>
}

export const ENV = 'staging'

/** The manifest the push tests start from: shared keys, secret-only and config-only services. */
export function baseSecrets(): Record<string, SecretEntry> {
  return {
    JWT_SECRET: {services: ['backend']},
    DB_PASSWORD: {services: ['backend', 'worker']},
    TLS_KEY: {services: ['backend']},
    WORKER_TOKEN: {services: ['worker']},
    LOG_LEVEL: {services: ['backend', 'worker'], sensitive: false},
    FEATURE_FLAGS: {services: ['backend'], sensitive: false},
    API_URL: {services: ['frontend'], sensitive: false},
  }
}

export function manifestYaml(shape: ManifestShape): string {
  const env = shape.environment ?? ENV
  return stringify({
    version: 1,
    project: shape.project ?? 'shop',
    services: Object.fromEntries((shape.services ?? ['backend', 'worker', 'frontend']).map((s) => [s, {}])),
    environments: {[env]: {protected: false, targets: {docker: shape.docker ?? {}}}},
    secrets: shape.secrets,
  })
}

/** A temporary project: the manifest, the values file (written by envsync's own store), the binary. */
export class DockerProject {
  readonly project = new TempProject('envsync-docker-')
  /** Every value this test put anywhere: none may show up in output or logs. */
  readonly canaries: string[] = []
  /** Everything the binary printed, for the leak check at the end. */
  readonly outputs: string[] = []
  shape: ManifestShape

  constructor(shape: Partial<ManifestShape> = {}) {
    this.shape = {secrets: baseSecrets(), ...shape}
    this.writeManifest()
  }

  get dir(): string {
    return this.project.dir
  }

  /** A fresh canary value, remembered for the leak check. */
  canary(label = 'CANARY'): string {
    const c = canary(label)
    this.canaries.push(c)
    return c
  }

  /** Plain config values: a plan shows them by design, so only the records must not hold them. */
  readonly configValues: string[] = []

  /** A fresh value for plain config (`sensitive: false`), remembered for the records' leak check. */
  config(label = 'CONFIG'): string {
    const c = canary(label)
    this.configValues.push(c)
    return c
  }

  writeManifest(shape: ManifestShape = this.shape): void {
    this.shape = shape
    this.project.write('envsync.yaml', manifestYaml(shape), 0o644)
  }

  get env(): string {
    return this.shape.environment ?? ENV
  }

  get valuesFile(): string {
    return this.project.path(`.env.${this.env}`)
  }

  /** Sets (string) or removes (null) values through src/values/store.ts, as `envsync` itself does. */
  setValues(values: Record<string, string | null>): void {
    writeValues(readValues(this.valuesFile), new Map(Object.entries(values)))
  }

  /** The secrets directory of the environment. */
  get secretsDir(): string {
    return path.resolve(this.dir, this.shape.docker?.dir ?? `secrets/${this.env}`)
  }

  get composeFile(): string {
    return path.resolve(this.dir, this.shape.docker?.compose ?? `docker-compose.${this.env}.secrets.yml`)
  }

  secretFile(key: string): string {
    return path.join(this.secretsDir, key)
  }

  envFile(service: string): string {
    return path.join(this.secretsDir, `${service}.env`)
  }

  get auditLog(): string {
    const file = this.project.path('.envsync/history.jsonl')
    return existsSync(file) ? readFileSync(file, 'utf8') : ''
  }

  async run(args: string[], options: {umask?: number; env?: Record<string, string | undefined>} = {}): Promise<CliResult> {
    const r = await runIn(this.dir, args, options)
    this.outputs.push(r.stdout, r.stderr)
    return r
  }

  push(...extra: string[]): Promise<CliResult> {
    return this.run(['push', this.env, '--yes', ...extra])
  }

  diff(...extra: string[]): Promise<CliResult> {
    return this.run(['diff', this.env, ...extra])
  }

  /** Every file envsync may have written (secrets dir, override, ownership records), as text. */
  writtenText(): string {
    const files = [this.composeFile, this.project.path('.envsync/ownership.tsv')]
    if (existsSync(this.secretsDir)) for (const f of readdirSync(this.secretsDir)) files.push(path.join(this.secretsDir, f))
    return files.filter((f) => existsSync(f) && statSync(f).isFile()).map((f) => readFileSync(f, 'latin1')).join('\n')
  }

  /** No value in anything printed, the audit log, the override or the ownership records (only secret and env files hold values). */
  assertNoLeaks(): void {
    assertNoLeak(this.canaries, ...this.outputs, this.auditLog)
    const metadata = [this.composeFile, this.project.path('.envsync/ownership.tsv'), `${this.secretsDir}/.envsync-owned.json`]
    assertNoLeak([...this.canaries, ...this.configValues], ...metadata.filter(existsSync).map((f) => readFileSync(f, 'utf8')))
  }

  cleanup(): void {
    this.project.cleanup()
  }
}

/** A Docker suite's afterEach: the leak check (unless the test failed anyway), then the project goes. */
export function finish(ctx: Mocha.Context, p: DockerProject | undefined): void {
  try {
    if (ctx.currentTest?.state !== 'failed') p?.assertNoLeaks()
  } finally {
    p?.cleanup()
  }
}

/** Runs the built binary in `cwd` (optionally under a umask, through /bin/sh). */
export function runIn(cwd: string, args: string[], options: {umask?: number; env?: Record<string, string | undefined>} = {}): Promise<CliResult> {
  return runBin(args, {cwd, umask: options.umask, env: {ENVSYNC_MANIFEST: undefined, ...options.env}})
}

export interface FileStat {
  ino: number
  mtimeMs: number
  ctimeMs: number
  mode: number
  bytes: Buffer
}

/** Inode, times, mode and bytes of every entry of a directory (plus extra files), by name. */
export function snapshot(dir: string, extra: string[] = []): Map<string, FileStat> {
  const out = new Map<string, FileStat>()
  const files = existsSync(dir) ? readdirSync(dir).map((f) => path.join(dir, f)) : []
  for (const file of [...files, ...extra]) {
    if (!existsSync(file)) continue
    const s = statSync(file)
    out.set(file, {ino: s.ino, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, mode: s.mode & 0o777, bytes: readFileSync(file)})
  }
  return out
}

/** Files whose inode, time, mode or content changed between two snapshots (or appeared/vanished). */
export function changedFiles(before: Map<string, FileStat>, after: Map<string, FileStat>): string[] {
  const names = new Set([...before.keys(), ...after.keys()])
  return [...names]
    .filter((n) => {
      const a = before.get(n)
      const b = after.get(n)
      return !a || !b || a.ino !== b.ino || a.mtimeMs !== b.mtimeMs || a.ctimeMs !== b.ctimeMs || a.mode !== b.mode || !a.bytes.equals(b.bytes)
    })
    .map((n) => path.basename(n))
    .sort()
}

export const modeOf = (file: string) => statSync(file).mode & 0o777

/** The --json envelope of diff/push, parsed. */
export function parseJson(stdout: string): {ok: boolean; exitCode: number; result?: any; error?: any} {
  return JSON.parse(stdout)
}

/** Per-key actions of the (single) docker destination in a JSON plan. */
export function jsonKeys(plan: any): Record<string, {action: string; local?: string; live?: string; pruned?: boolean}> {
  const dest = plan.destinations.find((d: any) => d.kind === 'docker')
  return Object.fromEntries(dest.keys.map((k: any) => [k.key, k]))
}

export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'commands', 'push.js'))) throw new Error('dist/ is missing: run `npm run build` before the docker tests')
}

/**
 * The Compose Specification's JSON Schema (test/fixtures/compose-spec.json) as a validator; see
 * compose.test.ts for the Ajv setup (draft-07 meta-schema id, strict off for its union types).
 */
const COMPOSE_SPEC = path.join(ROOT, 'test', 'fixtures', 'compose-spec.json')
export const rawComposeSchema = () => JSON.parse(readFileSync(COMPOSE_SPEC, 'utf8'))

export function compileComposeSpec(): ValidateFunction {
  const schema = rawComposeSchema()
  expect(schema.$schema).to.match(/^https?:\/\/json-schema\.org\/draft-07\/schema#?$/)
  return new Ajv({strict: false, allErrors: true}).compile({...schema, $schema: 'http://json-schema.org/draft-07/schema#'})
}
