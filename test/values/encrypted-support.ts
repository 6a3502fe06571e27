import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {readValues, writeValues} from '../../src/values/store.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {requireOrSkip} from '../helpers/not-run.js'
import {TempProject} from '../helpers/project.js'

/** Debian's `age` and `age-keygen`: the reference implementation our files must interoperate with. */
export function requireAge(ctx: Mocha.Context): void {
  const missing = spawnSync('age', ['--version']).error || spawnSync('age-keygen', ['--version']).error ? 'the age CLI (Debian package age) is not installed' : undefined
  requireOrSkip(ctx, 'age interop', missing)
}

export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args], {cwd, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** A key pair made by age-keygen: the identity file's path and its recipient. */
export function ageKeygen(file: string): string {
  mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
  const r = spawnSync('age-keygen', ['-o', file], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(r.stderr)
  return /age1[0-9a-z]+/.exec(readFileSync(file, 'utf8'))![0]
}

export const MANIFEST = `version: 1
project: shop
services:
  backend: {}
environments:
  # staging is shared with contractors
  staging: {}
  production:
    targets:
      docker: {}
secrets:
  JWT_SECRET:
    services: [backend]
    generate: base64:32
  API_KEY:
    services: [backend]
    required: false
`

/**
 * A git repository with the manifest, init's .gitignore, and a HOME of its own whose
 * ~/.config/envsync/age.key is made by age-keygen.
 */
export class EncryptedProject extends TempProject {
  readonly home: string
  readonly recipient: string

  constructor(manifest = MANIFEST) {
    super('envsync-enc-')
    this.home = path.join(this.dir, '..', `${path.basename(this.dir)}-home`)
    mkdirSync(this.home, {recursive: true})
    this.write('envsync.yaml', manifest, 0o644)
    this.write('.gitignore', '.env\n.env.*\n!.env.example\nsecrets/\n', 0o644)
    git(this.dir, 'init', '-q')
    this.recipient = ageKeygen(this.identityFile)
  }

  get identityFile(): string {
    return path.join(this.home, '.config', 'envsync', 'age.key')
  }

  /** The built CLI in the project, with only this project's HOME (no ENVSYNC_AGE_KEY from outside). */
  run(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
    return runBin(args, {cwd: this.dir, input, env: {HOME: this.home, XDG_CONFIG_HOME: undefined, ENVSYNC_AGE_KEY: undefined, ENVSYNC_AGE_KEY_FILE: undefined, ENVSYNC_MANIFEST: undefined, ...env}})
  }

  text(name: string): string {
    return readFileSync(this.path(name), 'utf8')
  }

  /** The `age:` ciphertext of KEY in a values file, as binary age. */
  ciphertext(key: string, file = '.env.production'): Buffer {
    const line = this.text(file).split('\n').find((l) => l.startsWith(`${key}=`))!
    return Buffer.from(line.slice(key.length + 1).replace(/^age:/, '').replace(/;tag:.*$/, ''), 'base64')
  }

  commit(): void {
    git(this.dir, 'add', '-A')
    git(this.dir, 'commit', '-q', '-m', 'x')
  }

  writePlain(name: string, values: Record<string, string>): void {
    writeFileSync(this.path(name), Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(''), {mode: 0o600})
  }

  override cleanup(): void {
    super.cleanup()
    spawnSync('rm', ['-rf', this.home])
  }
}

/** A project whose production store was converted by `keys add` from a plain file of `values`. */
export async function encryptedProject(values: Record<string, string>, manifest = MANIFEST): Promise<EncryptedProject> {
  const p = new EncryptedProject(manifest)
  writeValues(readValues(p.path('.env.production')), new Map(Object.entries(values)))
  const r = await p.run(['keys', 'add', 'production', p.recipient])
  expect(r.exitCode, r.stderr).to.equal(0)
  return p
}
