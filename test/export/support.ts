import {spawnSync} from 'node:child_process'
import {accessSync, constants, mkdtempSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'

import {encodeValue} from '../../src/values/dotenv.js'
import {seededRandom} from '../fakes/faults.js'

/**
 * kubectl as an oracle for `envsync export --format k8s`: `kubectl create secret generic
 * --dry-run=client -o yaml` runs without a cluster. Every kubectl found is used (Debian's 1.20 from
 * the k8s cache that scripts/k8s/build-apiserver.sh fills, and whatever is on PATH), each with an
 * empty HOME and KUBECONFIG so it never reads a real kubeconfig or touches a cluster.
 */

export interface Kubectl {
  path: string
  version: string
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

let home: string | undefined
/** An empty HOME (removed at exit): no ~/.kube/config, no cache. */
function emptyHome(): string {
  if (!home) {
    home = mkdtempSync(path.join(tmpdir(), 'envsync-kubectl-home-'))
    const dir = home
    process.on('exit', () => rmSync(dir, {recursive: true, force: true}))
  }
  return home
}

export function hermeticEnv(): Record<string, string> {
  return {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: emptyHome(), KUBECONFIG: '', LANG: 'C.UTF-8'}
}

let found: Kubectl[] | undefined

/** Every distinct working kubectl on this machine (by resolved path), oldest version first. */
export function kubectls(): Kubectl[] {
  if (found) return found
  const candidates: string[] = []
  if (process.env.ENVSYNC_KUBECTL) candidates.push(process.env.ENVSYNC_KUBECTL)
  const cache = process.env.ENVSYNC_K8S_CACHE || path.join(homedir(), '.cache', 'envsync-k8s')
  candidates.push(path.join(cache, 'bin', 'kubectl'))
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'kubectl'))
  const seen = new Set<string>()
  found = []
  for (const c of candidates) {
    if (!executable(c)) continue
    const real = realpathSync(c)
    if (seen.has(real)) continue
    seen.add(real)
    const r = spawnSync(c, ['version', '--client', '-o', 'json'], {env: hermeticEnv(), encoding: 'utf8', timeout: 30_000})
    if (r.status !== 0) continue
    try {
      found.push({path: c, version: (JSON.parse(r.stdout) as {clientVersion: {gitVersion: string}}).clientVersion.gitVersion})
    } catch {
      continue
    }
  }
  found.sort((a, b) => a.version.localeCompare(b.version, 'en', {numeric: true}))
  return found
}

export interface OracleSecret {
  name: string
  namespace?: string
  labels: Record<string, string>
  /** Values kubectl's env-file syntax can hold: no line break, no leading whitespace. */
  values: Record<string, string>
}

function run(kubectl: Kubectl, args: string[], input?: string): string {
  const r = spawnSync(kubectl.path, args, {env: hermeticEnv(), encoding: 'utf8', input, timeout: 60_000, maxBuffer: 64 * 1024 * 1024})
  if (r.status !== 0) throw new Error(`kubectl ${kubectl.version} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/**
 * kubectl's own YAML for the Secret: `create secret generic NAME --from-env-file=F --type=Opaque
 * [-n NS] --dry-run=client -o yaml`, labels added by kubectl itself (`label --local -f -`), then
 * `creationTimestamp: null` dropped (kubectl ≥ 1.35 no longer prints it).
 */
export function kubectlSecretYaml(kubectl: Kubectl, secret: OracleSecret): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'envsync-oracle-'))
  try {
    const envFile = path.join(dir, 'secret.env')
    for (const [k, v] of Object.entries(secret.values)) {
      if (/[\n\r]/.test(v) || /^\s/u.test(v)) throw new Error(`test bug: ${k}'s value cannot go in a kubectl env file`)
    }
    writeFileSync(envFile, Object.entries(secret.values).map(([k, v]) => `${k}=${v}\n`).join(''))
    const ns = secret.namespace === undefined ? [] : ['-n', secret.namespace]
    let yaml = run(kubectl, ['create', 'secret', 'generic', secret.name, `--from-env-file=${envFile}`, '--type=Opaque', ...ns, '--dry-run=client', '-o', 'yaml'])
    const labels = Object.entries(secret.labels).map(([k, v]) => `${k}=${v}`)
    if (labels.length > 0) yaml = run(kubectl, ['label', '--local', '-f', '-', ...labels, '-o', 'yaml'], yaml)
    return normaliseKubectl(yaml)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export function normaliseKubectl(yaml: string): string {
  return yaml.replace(/^ {2}creationTimestamp: null\n/m, '')
}

/** A values file holding exactly these values (encoded as envsync writes them). */
export function valuesFileText(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => {
      const encoded = encodeValue(v)
      if (encoded === undefined) throw new Error(`test bug: ${k}'s value has no dotenv form`)
      return `${k}=${encoded}\n`
    })
    .join('')
}

/** A manifest with one service list per key. */
export function manifestYaml(options: {
  project: string
  services: string[]
  environments: Record<string, string>
  secrets: Record<string, {services: string[]; extra?: string}>
}): string {
  const lines = ['version: 1', `project: "${options.project}"`, 'services:']
  for (const s of options.services) lines.push(`  "${s}": {}`)
  lines.push('environments:')
  for (const [env, body] of Object.entries(options.environments)) lines.push(`  "${env}": ${body}`)
  lines.push('secrets:')
  for (const [key, spec] of Object.entries(options.secrets)) {
    lines.push(`  "${key}":`, `    services: [${spec.services.map((s) => `"${s}"`).join(', ')}]`, '    required: false')
    if (spec.extra) lines.push(...spec.extra.split('\n').map((l) => `    ${l}`))
  }
  return lines.join('\n') + '\n'
}

/** A small seeded PRNG (mulberry32), so a failing random case can be replayed with its seed. */
export const prng = seededRandom
