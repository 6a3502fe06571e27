import {spawnSync} from 'node:child_process'
import {chmodSync, realpathSync} from 'node:fs'
import {tmpdir} from 'node:os'

import {runCheck, type CheckResult} from '../../src/check/check.js'
import type {Finding} from '../../src/check/rules.js'
import {loadManifest} from '../../src/manifest/load.js'
import type {Manifest} from '../../src/manifest/manifest.js'
import {generate} from '../../src/values/recipes.js'
import {smallManifest as sharedSmallManifest, TempProject} from '../helpers/project.js'

/** The recipes the brief names; every one must pass the audit it is generated for. */
export const RECIPES = ['base64:32', 'base64:48', 'hex:32', 'alnum:32', 'alnum:40', 'password:24', 'uuid'] as const

export const draw = (recipe: string): string => generate(recipe).reveal()

/** A realistic Postgres URL with a real (random) password. */
export const pgUrl = (): string => `postgres://shop:${draw('alnum:32')}@db.internal:5432/shop`

/** KEY=value lines; values are written as they are (tests pick values dotenv reads back unchanged). */
export function envText(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('')
}

/** "severity rule KEY" per finding, in the order runCheck lists them. */
/**
 * The shared small manifest with a production-worthy default for VITE_API_URL: its
 * http://localhost:3000 is a local address, which check reports in protected environments.
 */
export const smallManifest = (extraSecrets = ''): string => sharedSmallManifest(extraSecrets).replace('default: http://localhost:3000', 'default: https://api.shop.io')

/** A manifest with one service (backend), development and production, and the given secrets: block. */
export const backendManifest = (secrets: string): string => `version: 1
project: shop
services:
  backend: {}
environments:
  development: {}
  production: {}
secrets:
${secrets}`

/** Values that pass every rule of smallManifest. */
export const cleanValues = (): Record<string, string> => ({JWT_SECRET: draw('base64:48'), DATABASE_URL: pgUrl()})

/**
 * For a describe block: `project(manifest, files)` makes a CheckProject that is removed after
 * each test, and git is made hermetic (see hermeticGit).
 */
export function useCheckProjects(): {project: (manifest: string, files?: Record<string, string | Record<string, string>>) => CheckProject; current: () => CheckProject} {
  let p: CheckProject | undefined
  afterEach(() => {
    p?.cleanup()
    p = undefined
  })
  hermeticGit()
  return {
    project(manifest, files = {}) {
      p = new CheckProject(manifest)
      for (const [name, content] of Object.entries(files)) p.values(name, content)
      return p
    },
    current: () => p!,
  }
}

export const summary = (findings: Finding[]): string[] => findings.map((f) => `${f.severity} ${f.rule} ${f.key ?? '-'}`)

/** A temp project: a manifest, values files, and runCheck on them. */
export class CheckProject {
  readonly tp = new TempProject('envsync-check-')

  constructor(manifest: string, files: Record<string, string> = {}) {
    this.tp.write('envsync.yaml', manifest, 0o644)
    for (const [name, content] of Object.entries(files)) this.values(name, content)
  }

  get dir(): string {
    return this.tp.dir
  }

  /** Writes a values file with exactly `mode` (the umask cannot widen or narrow it). */
  values(name: string, content: string | Record<string, string>, mode = 0o600): string {
    const file = this.tp.write(name, typeof content === 'string' ? content : envText(content), mode)
    chmodSync(file, mode)
    return file
  }

  manifest(): Manifest {
    return loadManifest(this.tp.manifest)
  }

  check(env: string): Promise<CheckResult> {
    return runCheck(this.manifest(), env)
  }

  path(name: string): string {
    return this.tp.path(name)
  }

  cleanup(): void {
    this.tp.cleanup()
  }
}

/** Runs git in a directory; throws on failure so a broken setup is not mistaken for a pass. */
export function git(dir: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=envsync test', '-c', 'user.email=test@envsync.invalid', '-c', 'init.defaultBranch=main', ...args], {
    cwd: dir,
    encoding: 'utf8',
  })
  if (r.error || r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`)
}

export const hasGit = (): boolean => !spawnSync('git', ['--version']).error

/**
 * Temp projects live under the OS temp dir; stop git from searching above it, so a checkout that
 * happens to enclose the temp dir cannot change what "outside a repository" means.
 */
export function hermeticGit(): void {
  let saved: string | undefined
  beforeEach(() => {
    saved = process.env.GIT_CEILING_DIRECTORIES
    process.env.GIT_CEILING_DIRECTORIES = CEILING
  })
  afterEach(() => {
    if (saved === undefined) delete process.env.GIT_CEILING_DIRECTORIES
    else process.env.GIT_CEILING_DIRECTORIES = saved
  })
}

export const CEILING = realpathSync(tmpdir())
