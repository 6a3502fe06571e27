import {expect} from 'chai'
import YAML from 'yaml'

import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {requireOrSkip} from '../helpers/not-run.js'
import {kubectls, kubectlSecretYaml, manifestYaml, prng, valuesFileText, type Kubectl, type OracleSecret} from './support.js'

/**
 * `envsync export ENV --format k8s --service S` must print exactly what kubectl prints for the same
 * values (`kubectl create secret generic … --type=Opaque -n NS --dry-run=client -o yaml`, plus
 * envsync's labels, without creationTimestamp): same key order (yaml.v2's, not byte order), same
 * base64, same quoting, same layout. Every kubectl on the machine is asked.
 */

const labels = (project: string, service: string) => ({
  'app.kubernetes.io/managed-by': 'envsync',
  'app.kubernetes.io/part-of': project,
  'app.kubernetes.io/component': service,
})

interface Case {
  project: string
  service: string
  env: string
  /** YAML of the environment (targets), e.g. `{targets: {kubernetes: {namespace: prod}}}`. */
  envBody: string
  secretName: string
  namespace?: string
  values: Record<string, string>
}

async function exportK8s(c: Case): Promise<{stdout: string; stderr: string; exitCode: number}> {
  const p = new TempProject('envsync-oracle-')
  try {
    const secrets = Object.fromEntries(Object.keys(c.values).map((k) => [k, {services: [c.service]}]))
    p.write('envsync.yaml', manifestYaml({project: c.project, services: [c.service], environments: {[c.env]: c.envBody}, secrets}))
    p.write(`.env.${c.env}`, valuesFileText(c.values))
    return await runBin(['export', c.env, '--format', 'k8s', '--service', c.service], {cwd: p.dir})
  } finally {
    p.cleanup()
  }
}

async function compare(kubectl: Kubectl, c: Case, label = ''): Promise<void> {
  const ours = await exportK8s(c)
  expect(ours.exitCode, `${label} envsync export failed: ${ours.stderr}`).to.equal(0)
  const secret: OracleSecret = {name: c.secretName, namespace: c.namespace, labels: labels(c.project, c.service), values: c.values}
  const theirs = kubectlSecretYaml(kubectl, secret)
  // Same object first (readable failure), then the same bytes.
  expect(YAML.parse(ours.stdout), `${label} parsed`).to.deep.equal(YAML.parse(theirs))
  expect(ours.stdout, `${label} text (kubectl ${kubectl.version})`).to.equal(theirs)
  // And the values survived: base64 decodes to exactly what the values file holds.
  const data = (YAML.parse(ours.stdout) as {data?: Record<string, string>}).data ?? {}
  for (const [k, v] of Object.entries(c.values)) expect(Buffer.from(data[k], 'base64').toString('utf8'), `${label} ${k}`).to.equal(v)
}

// ---- random cases --------------------------------------------------------------------------------

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const PUNCT = `!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`
const UNICODE = ['é', 'ü', 'ß', '€', '日', '本', '語', 'Ω', '∑', '😀', '🔑', '\u00a0', 'ñ', '한', '\u4e00', '\u3042']
const NAMES = ['shop', 'api', 'a1', '123', '0x1f', '1e3', '0777', '2024-01-02', '2024-02-30', 'yes', 'on', 'null', 'n', 'y', 'true', 'off']

function randomValue(rand: () => number): string {
  const pick = (s: string | string[]) => s[Math.floor(rand() * s.length)]
  const len = Math.floor(rand() * 40)
  let v = ''
  for (let i = 0; i < len; i++) {
    const r = rand()
    v += r < 0.45 ? pick(ASCII) : r < 0.75 ? pick(PUNCT) : r < 0.85 ? ' ' : r < 0.88 ? '\t' : pick(UNICODE)
  }
  if (rand() < 0.2) v += '  ' // trailing spaces: kubectl keeps them
  if (rand() < 0.1) v = `"${v}"` // quotes: kubectl keeps them literally
  if (rand() < 0.05) v = ''
  return v.replace(/^\s+/u, '') // kubectl's env-file syntax cannot hold leading whitespace
}

function randomKey(rand: () => number, taken: Set<string>): string {
  const first = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_'
  const rest = first + '0123456789'
  for (;;) {
    const r = rand()
    const len = r < 0.03 ? 129 + Math.floor(rand() * 10) : 1 + Math.floor(rand() * 12)
    let k = first[Math.floor(rand() * first.length)]
    for (let i = 1; i < len; i++) k += rand() < 0.25 ? '0123456789_'[Math.floor(rand() * 11)] : rest[Math.floor(rand() * rest.length)]
    if (!taken.has(k)) {
      taken.add(k)
      return k
    }
  }
}

function randomCase(rand: () => number): Case {
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]
  const project = pick(NAMES)
  const service = pick(NAMES)
  const env = pick(['production', 'staging', 'dev1'])
  const template = pick(['{project}-{service}', '{service}', '{project}-{environment}-{service}', 'x-{service}'])
  const namespace = rand() < 0.3 ? undefined : pick(NAMES)
  const taken = new Set<string>()
  const values: Record<string, string> = {}
  const n = 1 + Math.floor(rand() * 25)
  while (Object.keys(values).length < n) {
    const v = randomValue(rand)
    if (valueOk(v)) values[randomKey(rand, taken)] = v
  }
  const k8s = [`secretName: "${template}"`, ...(namespace === undefined ? [] : [`namespace: "${namespace}"`])].join(', ')
  const secretName = template.replaceAll('{project}', project).replaceAll('{service}', service).replaceAll('{environment}', env)
  return {project, service, env, envBody: `{targets: {kubernetes: {${k8s}}}}`, secretName, namespace, values}
}

/** Values the envsync values file can hold (some mixes of ' " ` and # have no dotenv form). */
function valueOk(v: string): boolean {
  try {
    valuesFileText({K: v})
    return true
  } catch {
    return false
  }
}

// ---- the suite -----------------------------------------------------------------------------------

describe('export --format k8s: kubectl as the oracle', function () {
  this.timeout(180_000)
  const found = kubectls()

  before(function () {
    if (found.length > 0) return
    const why = 'kubectl not found (Debian package kubernetes-client; `bash scripts/k8s/build-apiserver.sh` also puts one in ~/.cache/envsync-k8s)'
    requireOrSkip(this, 'Kubernetes tier: the kubectl oracle for exported Secrets', why)
  })

  it('found at least one kubectl', () => {
    expect(found.length).to.be.greaterThan(0)
    process.stderr.write(`      kubectl: ${found.map((k) => `${k.version} (${k.path})`).join(', ')}\n`)
  })

  const fixed: [string, Case][] = [
    [
      'the values of the captured oracle file (=, quotes and trailing spaces kept literally, empty)',
      {
        project: 'shop',
        service: 'backend',
        env: 'production',
        envBody: '{targets: {kubernetes: {namespace: prod}}}',
        secretName: 'shop-backend',
        namespace: 'prod',
        values: {DB_PASSWORD: 's3cr=t', API_KEY: '"quoted value"', EMPTY: '', TRAIL: 'x  '},
      },
    ],
    [
      "key order is yaml.v2's, not byte order (a_b < ab, KEY9 < KEY10, KEY_1 < KEY1, A1 < A01), reserved words quoted, keys over 128 bytes explicit",
      {
        project: 'shop',
        service: 'backend',
        env: 'production',
        envBody: '{targets: {kubernetes: {namespace: prod}}}',
        secretName: 'shop-backend',
        namespace: 'prod',
        values: {
          ab: '1', a_b: '2', KEY9: '3', KEY10: '4', KEY_1: '5', KEY1: '6', A01: '7', A1: '8', A001: '9', A10: '10', A0: '11', A00: '12',
          ON: 'on', Y: 'y', NULL: 'null', No: 'no', _1: '_', _: '__', Z9999999999999999999999: 'big', Z1: 'small',
          ['K'.repeat(128)]: 'exactly 128', ['L'.repeat(129)]: 'over 128',
        },
      },
    ],
    [
      'names and labels that YAML would read as numbers, booleans or dates are quoted as kubectl quotes them',
      {
        project: '123',
        service: 'on',
        env: 'production',
        envBody: '{targets: {kubernetes: {namespace: "0x1f"}}}',
        secretName: '123-on',
        namespace: '0x1f',
        values: {A: 'x'},
      },
    ],
    [
      'a kubernetes target without namespace: no metadata.namespace (kubectl without -n)',
      {project: 'shop', service: 'backend', env: 'staging', envBody: '{targets: {kubernetes: {}}}', secretName: 'shop-backend', values: {A: '1', B: 'two'}},
    ],
    [
      'no kubernetes target at all: the default name {project}-{service}, no namespace',
      {project: 'shop', service: 'worker', env: 'development', envBody: '{}', secretName: 'shop-worker', values: {QUEUE_URL: 'amqp://u:p@mq:5672/%2f', EMPTY: ''}},
    ],
    [
      'a secretName template with {environment}',
      {project: 'shop', service: 'backend', env: 'staging', envBody: '{targets: {kubernetes: {namespace: apps, secretName: "{project}-{environment}-{service}"}}}', secretName: 'shop-staging-backend', namespace: 'apps', values: {A: '1'}},
    ],
    [
      'long values (base64 lines are never folded) and unicode',
      {
        project: 'shop',
        service: 'backend',
        env: 'production',
        envBody: '{targets: {kubernetes: {namespace: prod}}}',
        secretName: 'shop-backend',
        namespace: 'prod',
        values: {LONG: 'x'.repeat(5000), WORDS: 'a b '.repeat(300), UNICODE: 'pässwörd € 日本語 😀 Ω', TABS: 'a\tb\t', HASH: 'a # not a comment', DOLLAR: '$HOME ${X} $$'},
      },
    ],
  ]

  for (const kubectl of found) {
    describe(`kubectl ${kubectl.version}`, () => {
      for (const [title, c] of fixed) it(title, () => compare(kubectl, c, title))

      it('random values, keys and names (property loop)', async () => {
        const seed = Number(process.env.ENVSYNC_TEST_SEED ?? Date.now() % 1_000_000)
        const runs = Number(process.env.ENVSYNC_ORACLE_RUNS ?? 15)
        const rand = prng(seed)
        let keys = 0
        for (let i = 0; i < runs; i++) {
          const c = randomCase(rand)
          keys += Object.keys(c.values).length
          await compare(kubectl, c, `[seed ${seed} (ENVSYNC_TEST_SEED), run ${i}]`)
        }
        expect(keys).to.be.greaterThan(runs)
      })
    })
  }
})
