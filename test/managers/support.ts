import {existsSync} from 'node:fs'

import {expect} from 'chai'
import {stringify} from 'yaml'

import type {ManagerKind} from '../../src/targets/managers/backend.js'
import {readValues, writeValues} from '../../src/values/store.js'
import type {Fault, FaultInjector, FaultMatch, FaultRequest} from '../fakes/faults.js'
import {assertNoLeak} from '../helpers/canary.js'
import {runBin, ROOT, type CliResult} from '../helpers/cli.js'
import {recordNotRun} from '../helpers/not-run.js'
import {TempProject} from '../helpers/project.js'

/**
 * The four secret managers as the end-to-end tests see them: each loopback fake behind one small
 * driver (what is stored, its versions and tags, how many writes it received, its own throttling
 * error), and a project on disk run through bin/run.js with the variables that point the real
 * clients at the fakes. The fakes are loaded by path at run time: a platform whose fake or
 * backend is not in the tree is reported as not run, not failed.
 */

export const KINDS: ManagerKind[] = ['aws', 'vault', 'gcp', 'azure']

export const SERVICE_NAMES: Record<ManagerKind, string> = {aws: 'AWS Secrets Manager', vault: 'Vault', gcp: 'Google Secret Manager', azure: 'Azure Key Vault'}

/** Small bounds so a retry or a timeout costs milliseconds. */
export const FAST = {ENVSYNC_HTTP_TIMEOUT_MS: '4000', ENVSYNC_HTTP_BACKOFF_MS: '5'}

export interface Platform {
  kind: ManagerKind
  service: string
  /** The manifest options pointing at this fake (merged with a layout's options). */
  options: Record<string, unknown>
  env: Record<string, string>
  /** Largest value the platform holds (bytes), as its backend enforces it. */
  maxValueBytes: number
  /** Whether the platform can hold the empty string. */
  holdsEmpty: boolean
  /** Secret name of a one-key secret under `prefix` for a key, in the kind's default naming. */
  nameOf(prefix: string, key: string): string
  /** Live secrets (not deleted ones). */
  names(): string[]
  /** The current text of a live secret; undefined when absent or deleted. */
  text(name: string): string | undefined
  /** The value envsync keeps for a one-key secret (Vault: the "value" field). */
  value(name: string): string | undefined
  versions(name: string): number
  tags(name: string): Record<string, string> | undefined
  /** As another tool would: a secret with this text (Vault: {"value": text}), no request. */
  seed(name: string, text: string, tags?: Record<string, string>): void
  /** Matches the requests that write a new version of the existing secret `name`. */
  updateOf(name: string): FaultMatch
  /** Requests that change state (create, new version, tags, delete, restore). */
  writes(): number
  requests(): number
  faults: FaultInjector
  /** The platform's own throttling answer (with Retry-After where the platform sends one). */
  throttled(retryAfterSeconds: number): Fault
  /** Whether the platform's throttling answer carries Retry-After (AWS's ThrottlingException does not). */
  sendsRetryAfter: boolean
  violations(): unknown[]
  close(): Promise<void>
}

type Module = Record<string, any>
const load = (path: string): Promise<Module> => import(path) as Promise<Module>
const present = (kind: ManagerKind) => existsSync(`${ROOT}test/fakes/${kind}.ts`) && existsSync(`${ROOT}src/targets/managers/${kind}.ts`)

/** Kebab names as the layout writes them: JWT_SECRET → jwt-secret. */
const kebab = (key: string) => key.toLowerCase().replaceAll('_', '-')
const READS = new Set(['GET', 'HEAD', 'LIST'])
const AWS_WRITES = new Set(['CreateSecret', 'PutSecretValue', 'UpdateSecret', 'DeleteSecret', 'RestoreSecret', 'TagResource', 'UntagResource'])

/** A write whose path names the secret (Vault, GCP's addVersion, Azure). */
const byPath = (name: string) => (r: FaultRequest) => r.write === true && r.path.includes(name)

/** The fake of `kind` started, or a reason it is not in the tree. */
export async function startPlatform(kind: ManagerKind): Promise<Platform | string> {
  if (!present(kind)) return `test/fakes/${kind}.ts or src/targets/managers/${kind}.ts is not in the tree`
  if (kind === 'vault') {
    const m = await load(`${ROOT}test/fakes/vault.ts`)
    const f = await m.startVault()
    return {
      kind,
      service: SERVICE_NAMES[kind],
      options: {address: f.url},
      // VAULT_ADDR stays unset: the manifest's address is the one used.
      env: {VAULT_TOKEN: f.env.VAULT_TOKEN},
      maxValueBytes: 32 * 1024 * 1024, // Vault's default max_request_size
      holdsEmpty: true,
      nameOf: (prefix, key) => prefix + key,
      names: () => (f.names() as string[]).filter((n) => f.value(n) !== undefined),
      text: (n) => (f.value(n) === undefined ? undefined : JSON.stringify(f.value(n))),
      value: (n) => f.value(n)?.value,
      versions: (n) => f.versionCount(n),
      tags: (n) => f.secret(n)?.custom_metadata ?? undefined,
      seed: (n, text, tags) => f.put(n, {value: text}, tags),
      updateOf: byPath,
      writes: () => (f.log as {method: string}[]).filter((l) => !READS.has(l.method)).length,
      requests: () => f.requests,
      faults: f.faults,
      throttled: (s) => m.vaultThrottled(s),
      sendsRetryAfter: true,
      violations: () => f.violations,
      close: () => f.close(),
    }
  }
  if (kind === 'azure') {
    const m = await load(`${ROOT}test/fakes/azure.ts`)
    const az = await load(`${ROOT}src/targets/managers/azure.ts`)
    const f = await m.startAzure({pageSize: 2})
    return {
      kind,
      service: SERVICE_NAMES[kind],
      options: {vault: f.url},
      env: f.env,
      maxValueBytes: az.MAX_VALUE_BYTES,
      holdsEmpty: true,
      nameOf: (prefix, key) => prefix + kebab(key),
      names: () => (f.names() as string[]).filter((n) => f.value(n) !== undefined),
      text: (n) => f.value(n),
      value: (n) => f.value(n),
      versions: (n) => f.versions(n).length,
      tags: (n) => f.tags(n),
      seed: (n, text, tags) => f.put(n, text, tags),
      updateOf: byPath,
      writes: () => (f.log as {method: string}[]).filter((l) => !READS.has(l.method)).length,
      requests: () => f.requests,
      faults: f.faults,
      throttled: (s) => m.throttled(s),
      sendsRetryAfter: true,
      violations: () => f.violations,
      close: () => f.close(),
    }
  }
  if (kind === 'gcp') {
    const m = await load(`${ROOT}test/fakes/gcp.ts`)
    const gcp = await load(`${ROOT}src/targets/managers/gcp.ts`)
    const f = await m.startGcp({pageSize: 2})
    const current = (n: string): string | undefined => {
      const s = f.secret(n)
      const v = s?.versions.filter((x: {state: string}) => x.state === 'ENABLED').at(-1)
      return v ? Buffer.from(v.data).toString('utf8') : undefined
    }
    return {
      kind,
      service: SERVICE_NAMES[kind],
      options: {project: m.PROJECT_ID},
      env: f.env,
      maxValueBytes: gcp.MAX_VALUE_BYTES,
      holdsEmpty: false,
      nameOf: (prefix, key) => prefix + key,
      names: () => [...f.secrets.keys()] as string[],
      text: current,
      value: current,
      versions: (n) => f.secret(n)?.versions.length ?? 0,
      tags: (n) => f.secret(n)?.labels,
      seed: (n, text, tags) => f.seed(n, [text], tags),
      updateOf: byPath,
      writes: () => (f.log as {method: string}[]).filter((l) => !READS.has(l.method)).length,
      requests: () => f.requests,
      faults: f.faults,
      throttled: (s) => m.throttled({retryAfter: s}),
      sendsRetryAfter: true,
      violations: () => f.violations,
      close: () => f.close(),
    }
  }
  const m = await load(`${ROOT}test/fakes/aws.ts`)
  const f = await m.startAws({pageSize: 2})
  const live = (n: string) => f.secret(n) !== undefined && !f.secret(n).deletedDate
  return {
    kind,
    service: SERVICE_NAMES[kind],
    options: {region: f.region ?? 'eu-west-1'},
    env: f.env,
    maxValueBytes: (await load(`${ROOT}src/targets/managers/aws.ts`)).MAX_VALUE_BYTES,
    holdsEmpty: false,
    nameOf: (prefix, key) => prefix + kebab(key),
    names: () => (f.names() as string[]).filter(live),
    text: (n) => (live(n) ? f.value(n) : undefined),
    value: (n) => (live(n) ? f.value(n) : undefined),
    versions: (n) => f.versions(n).length,
    tags: (n) => f.tags(n),
    seed: (n, text, tags) => f.seed(n, text, tags),
    // The fake's fault request carries no secret name (it is in the body): any new version.
    updateOf: () => (r: FaultRequest) => r.operation === 'PutSecretValue',
    writes: () => (f.log as {operation?: string}[]).filter((l) => AWS_WRITES.has(l.operation ?? '')).length,
    requests: () => f.requests,
    faults: f.faults,
    throttled: () => m.throttling(),
    sendsRetryAfter: false,
    violations: () => f.violations,
    close: () => f.close(),
  }
}

/**
 * Starts the fakes of `kinds` in a before() hook; a missing one is recorded as not run (under CI
 * it fails). Returns the live map the tests read.
 */
export function usePlatforms(kinds: ManagerKind[], each: 'each' | 'all' = 'each'): Map<ManagerKind, Platform> {
  const running = new Map<ManagerKind, Platform>()
  const start = async () => {
    for (const kind of kinds) {
      const p = await startPlatform(kind)
      if (typeof p === 'string') {
        if (process.env.CI) throw new Error(`${kind}: ${p}`)
        recordNotRun(`secret manager ${kind} (end-to-end)`, p)
      } else running.set(kind, p)
    }
  }
  const stop = async () => {
    for (const p of running.values()) await p.close()
    running.clear()
  }
  if (each === 'each') {
    beforeEach(start)
    afterEach(stop)
  } else {
    before(start)
    after(stop)
  }
  return running
}

export interface SecretEntry {
  services: string[]
  sensitive?: boolean
  generate?: string
  default?: string
}

export interface EnvironmentShape {
  store?: Record<string, unknown>
  targets?: Record<string, unknown>
}

export function manifestYaml(environments: Record<string, EnvironmentShape>, secrets: Record<string, SecretEntry>, services = ['api']): string {
  return stringify({
    version: 1,
    project: 'shop',
    services: Object.fromEntries(services.map((s) => [s, {}])),
    environments: Object.fromEntries(Object.entries(environments).map(([name, e]) => [name, {protected: false, ...e}])),
    secrets,
  })
}

/** A project on disk driven through the binary; every output kept for the leak check. */
export class ManagerProject {
  readonly project = new TempProject('envsync-managers-')
  readonly outputs: string[] = []
  readonly canaries: string[] = []
  extraEnv: Record<string, string | undefined> = {}

  constructor(private readonly platforms: () => Iterable<Platform>) {}

  get dir(): string {
    return this.project.dir
  }

  writeManifest(yaml: string): void {
    this.project.write('envsync.yaml', yaml)
  }

  /** The local store's values, written by envsync's own dotenv writer (any text quoted right). */
  writeValues(env: string, values: Record<string, string>): void {
    const file = this.project.path(`.env.${env}`)
    if (!existsSync(file)) this.project.write(`.env.${env}`, '')
    writeValues(readValues(file), new Map(Object.entries(values)))
  }

  readValues(env: string): Map<string, string> {
    return new Map([...readValues(this.project.path(`.env.${env}`)).values].map(([k, v]) => [k, v.reveal()]))
  }

  env(): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = {
      HOME: this.dir,
      VAULT_ADDR: undefined,
      VAULT_TOKEN: undefined,
      VAULT_NAMESPACE: undefined,
      GOOGLE_APPLICATION_CREDENTIALS: undefined,
      GOOGLE_CLOUD_PROJECT: undefined,
      AWS_PROFILE: undefined,
      AWS_REGION: undefined,
      AZURE_CLIENT_ID: undefined,
      AZURE_CLIENT_SECRET: undefined,
      AZURE_TENANT_ID: undefined,
      ...FAST,
    }
    for (const p of this.platforms()) Object.assign(env, p.env)
    return {...env, ...this.extraEnv}
  }

  /** `printsValues`: a command that prints values on purpose (export): its stdout is not leak-checked. */
  async run(args: string[], options: {input?: string; env?: Record<string, string | undefined>; printsValues?: boolean} = {}): Promise<CliResult> {
    const r = await runBin(args, {cwd: this.dir, env: {...this.env(), ...options.env}, input: options.input})
    this.outputs.push(options.printsValues ? '' : r.stdout, r.stderr)
    return r
  }

  /** Runs and expects exit 0, with the output in the failure message. */
  async ok(args: string[], options: {input?: string; env?: Record<string, string | undefined>; printsValues?: boolean} = {}): Promise<CliResult> {
    const r = await this.run(args, options)
    expect(r.exitCode, `envsync ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).to.equal(0)
    return r
  }

  assertNoLeak(): void {
    assertNoLeak(this.canaries, ...this.outputs, ...this.project.syncRecords())
  }

  cleanup(): void {
    this.project.cleanup()
  }
}

/** Writes per platform since a mark: `const since = mark(platforms); …; since()`. */
export function mark(platforms: Platform[]): () => Record<string, number> {
  const start = platforms.map((p) => p.writes())
  return () => Object.fromEntries(platforms.map((p, i) => [p.kind, p.writes() - start[i]!]))
}

export function expectNoViolations(platforms: Iterable<Platform>): void {
  for (const p of platforms) expect(p.violations(), `${p.service}: requests that break the published contract`).to.deep.equal([])
}
