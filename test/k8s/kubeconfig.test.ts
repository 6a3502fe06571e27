import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {EnvsyncError} from '../../src/errors.js'
import {forgetSecrets, redact} from '../../src/redact.js'
import {loadKubeconfig, selectContext, type Kubeconfig} from '../../src/targets/kubeconfig.js'
import {canary} from '../helpers/canary.js'
import {kubectlBinary} from './harness.js'

/**
 * The kubeconfig loader against kubectl itself: kubectl is the oracle for which files are read,
 * how they merge, which context is current and which YAML scalars are strings. No cluster needed.
 */
const kubectl = kubectlBinary()

function view(list: string[]): {clusters: Map<string, string>; users: Map<string, string>; contexts: Map<string, string>; current?: string} | 'error' {
  const env = {...process.env, KUBECONFIG: list.join(path.delimiter)}
  const r = spawnSync(kubectl!, ['config', 'view', '--merge', '--raw', '-o', 'json'], {env, encoding: 'utf8'})
  if (r.status !== 0) return 'error'
  const cfg = JSON.parse(r.stdout)
  const cur = spawnSync(kubectl!, ['config', 'current-context'], {env, encoding: 'utf8'})
  return {
    clusters: new Map((cfg.clusters ?? []).map((c: {name: string; cluster: {server: string}}) => [c.name, c.cluster.server])),
    users: new Map((cfg.users ?? []).map((u: {name: string; user: {token?: string}}) => [u.name, u.user.token ?? ''])),
    contexts: new Map((cfg.contexts ?? []).map((c: {name: string; context: {namespace?: string}}) => [c.name, c.context.namespace ?? ''])),
    current: cur.status === 0 ? cur.stdout.trim() : undefined,
  }
}

function ours(list: string[]): ReturnType<typeof view> {
  let kc: Kubeconfig | undefined
  try {
    kc = loadKubeconfig({KUBECONFIG: list.join(path.delimiter)})
  } catch (error) {
    if (error instanceof EnvsyncError) return 'error'
    throw error
  }
  return {
    clusters: new Map([...(kc?.clusters ?? [])].map(([n, e]) => [n, String(e.body.server)])),
    users: new Map([...(kc?.users ?? [])].map(([n, e]) => [n, String(e.body.token ?? '')])),
    contexts: new Map([...(kc?.contexts ?? [])].map(([n, e]) => [n, String(e.body.namespace ?? '')])),
    current: kc?.currentContext?.name,
  }
}

const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
const plain = (v: ReturnType<typeof view>) => (v === 'error' ? v : {...v, clusters: sorted(v.clusters), users: sorted(v.users), contexts: sorted(v.contexts)})

/** A deterministic PRNG (mulberry32): failures replay. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

;(kubectl ? describe : describe.skip)('kubeconfig as kubectl reads it (kubectl is the oracle)', function () {
  this.timeout(120_000)
  let dir: string
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'envsync-kubeconfig-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('KUBECONFIG=a:b: current-context from the first file that sets one, first definition of a name wins, missing files skipped (100 random lists)', () => {
    const random = prng(8)
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]
    let compared = 0
    for (let run = 0; run < 100; run++) {
      const files: string[] = []
      for (let f = 0; f < 1 + Math.floor(random() * 3); f++) {
        const file = path.join(dir, `r${run}-f${f}.yaml`)
        files.push(file)
        const kind = random()
        if (kind < 0.12) continue // listed, never created: skipped by both
        if (kind < 0.2) {
          writeFileSync(file, '')
          continue
        }
        const names = (pool: string[]) => pool.filter(() => random() < 0.5)
        const lines = ['apiVersion: v1', 'kind: Config', 'clusters:']
        for (const c of names(['c1', 'c2', 'c3'])) lines.push(`- name: ${c}`, `  cluster: {server: "https://f${f}-${c}.test:6443"}`)
        lines.push('users:')
        for (const u of names(['u1', 'u2'])) lines.push(`- name: ${u}`, `  user: {token: "tok-f${f}-${u}"}`)
        lines.push('contexts:')
        for (const x of names(['x', 'yy', 'z'])) lines.push(`- name: ${x}`, `  context: {cluster: ${pick(['c1', 'c2', 'c3'])}, user: ${pick(['u1', 'u2'])}, namespace: ns-f${f}-${x}}`)
        const current = pick([undefined, undefined, 'x', 'yy', 'z', 'nope', '""'])
        if (current !== undefined) lines.push(`current-context: ${current}`)
        writeFileSync(file, lines.join('\n') + '\n')
      }
      const list = random() < 0.2 ? [files[0], ...files] : files // a repeated entry is read once
      expect(plain(ours(list)), `run ${run}: KUBECONFIG=${list.map((f) => path.basename(f)).join(':')}`).to.deep.equal(plain(view(list)))
      compared++
    }
    expect(compared).to.equal(100)
  })

  it('YAML scalars as kubectl parses them (YAML 1.1: yes/on/0123 are not strings, dates and 1:20 are): accepted or refused alike', () => {
    const scalars = ['y', 'Y', 'yes', 'on', 'off', 'No', 'n', 'true', '0123', '0x1F', '1_000', '1e3', '.inf', '12.0', '+12', '0b101', '2001-12-14', '1:20', '=', "'y'", '"on"', 'plain-name', 'a b', '~']
    for (const s of scalars) {
      const file = path.join(dir, 'k.yaml')
      writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: ${s}\n  cluster: {server: "https://x.test"}\ncurrent-context: ${s}\n`)
      expect(plain(ours([file])), `name: ${s}`).to.deep.equal(plain(view([file])))
    }
  })

  it('odd but valid files read alike: a repeated key, anchors and merge keys, JSON, CRLF, a BOM, a leading ---, comments', () => {
    const base = (current: string) => `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://x.test"}\ncontexts:\n- name: a\n  context: {cluster: c, namespace: one}\n- name: b\n  context: {cluster: c}\ncurrent-context: ${current}\n`
    const cases: Record<string, string | Buffer> = {
      'repeated current-context (last wins)': base('a') + 'current-context: b\n',
      'anchors and a merge key': `clusters:\n- name: c\n  cluster: &srv {server: "https://x.test"}\n- name: d\n  cluster:\n    <<: *srv\ncontexts:\n- name: a\n  context: {cluster: d, namespace: &ns n1}\n- name: b\n  context: {cluster: c, namespace: *ns}\ncurrent-context: b\n`,
      JSON: JSON.stringify({apiVersion: 'v1', kind: 'Config', clusters: [{name: 'c', cluster: {server: 'https://x.test'}}], contexts: [{name: 'a', context: {cluster: 'c', namespace: 'j'}}], 'current-context': 'a'}),
      CRLF: base('a').replace(/\n/g, '\r\n'),
      BOM: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(base('b'))]),
      'leading ---': '---\n' + base('a'),
      comments: '# kubeconfig\n' + base('a').replace('kind: Config', 'kind: Config # the kind') + '# end\n',
      'empty lists and null current-context': 'clusters: []\nusers:\ncontexts: []\ncurrent-context: ~\n',
      'quoted names': base('"a"').replace('- name: a', "- name: 'a'"),
    }
    for (const [what, text] of Object.entries(cases)) {
      const file = path.join(dir, 'k.yaml')
      writeFileSync(file, text)
      expect(plain(ours([file])), what).to.deep.equal(plain(view([file])))
    }
  })

  it('refuses what kubectl refuses: two entries of one name in one file, a list where a mapping belongs, another kind, a number token', () => {
    const cases = {
      'duplicate user': 'users:\n- name: u\n  user: {token: aaaaaaaa}\n- name: u\n  user: {token: bbbbbbbb}\n',
      'users as a map': 'users: {}\n',
      'not a mapping': '- a\n- b\n',
      'kind Pod': 'kind: Pod\n',
      'number token': 'users:\n- name: u\n  user: {token: 0123}\n',
    }
    for (const [what, text] of Object.entries(cases)) {
      const file = path.join(dir, 'k.yaml')
      writeFileSync(file, text)
      expect([what, ours([file])]).to.deep.equal([what, view([file])])
      expect(view([file]), what).to.equal('error')
    }
  })
})

describe('kubeconfig problems: one clear error naming the file, never its contents', () => {
  let dir: string
  // Values other test files registered in this process (a Secret of "127.0.0.1") would blank hosts.
  beforeEach(() => forgetSecrets())
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'envsync-kubeconfig-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const good = (token: string, extra = '') =>
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:6443"}\nusers:\n- name: u\n  user:\n    token: ${token}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n${extra}`

  /** [what, file text with TOKEN, where the message must point] */
  const broken = (t: string): [string, string, RegExp][] => [
    ['unclosed flow list', good(t).replace('contexts:', '    bad: [unclosed\ncontexts:'), /k\.yaml:\d+:\d+ is not valid YAML/],
    ['unclosed quote', good(`"${t}`), /k\.yaml:\d+:\d+ is not valid YAML/],
    ['tab indentation', good(t).replace('    token:', '\ttoken:'), /k\.yaml:\d+:\d+ is not valid YAML/],
    ['bad indentation', good(t).replace('    token:', '      token:').replace('users:\n- name: u\n  user:\n', 'users:\n- name: u\n  user: x\n'), /k\.yaml:\d+:\d+/],
    ['undefined alias', good(t, 'preferences: *nothing\n'), /k\.yaml/],
    ['two documents', good(t) + '---\n' + good(t), /k\.yaml:\d+:\d+ is not valid YAML/],
    ['token is a list', good(`[${t}]`), /k\.yaml:9:12: users\[0\]\.user\.token must be a string \(got a list/],
    ['token is a mapping', good(`{x: ${t}}`), /k\.yaml:9:12: users\[0\]\.user\.token must be a string \(got a mapping/],
    ['user is a string', good(t).replace('  user:\n    token: ' + t, `  user: ${t}`), /k\.yaml:\d+:\d+: users\[0\]\.user must be a mapping/],
    ['kind Secret', good(t).replace('kind: Config', 'kind: Secret'), /k\.yaml:2:\d+: not a kubeconfig \(kind "Secret"/],
    ['a list document', `- ${t}\n- b\n`, /k\.yaml:1:1: not a kubeconfig/],
    ['a bare string', `${t}\n`, /k\.yaml:1:1: not a kubeconfig/],
    ['server with userinfo', good(t).replace('https://127.0.0.1:6443', `https://admin:${t}@127.0.0.1:6443`), /cluster "c" \(.*k\.yaml\): the server URL carries a user name or password \(host 127\.0\.0\.1:6443\)/],
    ['server with user only', good(t).replace('https://127.0.0.1:6443', `https://${t}@127.0.0.1:6443`), /the server URL carries a user name or password/],
    ['server not a URL', good(t).replace('https://127.0.0.1:6443', `not a url ${t}`), /server is not a URL/],
    ['server ftp', good(t).replace('https://127.0.0.1:6443', 'ftp://127.0.0.1'), /server must be an https URL/],
    ['plain http without insecure-skip-tls-verify', good(t).replace('https://127.0.0.1:6443', 'http://127.0.0.1:8080'), /server http:\/\/127\.0\.0\.1:8080 is plain http/],
    ['context names a missing cluster', good(t).replace('{cluster: c,', '{cluster: nope,'), /context "x" \(.*k\.yaml\) names cluster "nope", which kubeconfig .*k\.yaml does not define/],
    ['context names a missing user', good(t).replace('user: u}', 'user: nope}'), /names user "nope"/],
    ['current-context names a missing context', good(t).replace('current-context: x', 'current-context: gone'), /has no context "gone" \(current-context in .*k\.yaml\)/],
    ['no current-context', good(t).replace('current-context: x', ''), /kubeconfig .*k\.yaml sets no current-context/],
    ['empty file', '', /kubeconfig .*k\.yaml defines no context \(is it empty\?\)/],
    ['comments only', `# token: ${t}\n`, /defines no context/],
    ['password in flow style', good(t).replace(`token: ${t}`, `password: ${t}`).replace('current-context: x', 'current-context: [x'), /is not valid YAML/],
  ]

  it('every broken kubeconfig gives one EnvsyncError with file:line:col, a suggestion, and no token, line or code frame of the file', () => {
    let tried = 0
    const token = canary('KUBETOKEN')
    for (const [what, text, where] of broken(token)) {
      const file = path.join(dir, 'k.yaml')
      writeFileSync(file, text)
      let error: unknown
      try {
        selectContext(loadKubeconfig({KUBECONFIG: file})!)
      } catch (e) {
        error = e
      }
      expect(error, what).to.be.instanceOf(EnvsyncError)
      const e = error as EnvsyncError
      const out = JSON.stringify(e.toJSON()) + redact(e.message)
      expect(e.message, what).to.match(where, e.message)
      expect(e.message, what).to.not.include('\n')
      expect(e.suggestion, what).to.be.a('string').and.not.equal('')
      expect(out, `${what}: the token leaked`).to.not.include(token.slice(10))
      expect(out, `${what}: a code frame`).to.not.match(/\|\s|\^|clusters:|current-context: /)
      tried++
    }
    expect(tried).to.equal(24)
  })

  it('a missing file in the list is skipped; a directory, a FIFO or an unreadable file is a clear error (never a hang)', function () {
    const file = path.join(dir, 'k.yaml')
    writeFileSync(file, good('abcdefgh1234'))
    expect(selectContext(loadKubeconfig({KUBECONFIG: `${path.join(dir, 'missing')}:${file}`})!).name).to.equal('x')
    expect(loadKubeconfig({KUBECONFIG: path.join(dir, 'missing')})).to.equal(undefined)
    mkdirSync(path.join(dir, 'd'))
    expect(() => loadKubeconfig({KUBECONFIG: path.join(dir, 'd')})).to.throw(EnvsyncError, /is not a regular file/)
    mkfifoSync(path.join(dir, 'fifo'))
    expect(() => loadKubeconfig({KUBECONFIG: path.join(dir, 'fifo')})).to.throw(EnvsyncError, /is not a regular file/)
    if (process.getuid?.() !== 0) {
      writeFileSync(path.join(dir, 'locked'), good('abcdefgh1234'), {mode: 0o000})
      expect(() => loadKubeconfig({KUBECONFIG: path.join(dir, 'locked')})).to.throw(EnvsyncError, /cannot read kubeconfig .*locked: EACCES/)
    }
  })

  it('every credential of every file is known to the redaction point once read, in any user or cluster, used or not', () => {
    const v = (label: string) => canary(label)
    const c = {token: v('TOK'), password: v('PASS'), keyData: v('KEY'), access: v('ACCESS'), refresh: v('REFRESH'), secret: v('CSECRET'), execEnv: v('EXECENV'), server: v('SRVPASS'), proxy: v('PROXYPASS'), second: v('SECOND')}
    const a = path.join(dir, 'a.yaml')
    const b = path.join(dir, 'b.yaml')
    writeFileSync(
      a,
      `clusters:
- name: c
  cluster: {server: "https://admin:${c.server}@127.0.0.1:6443", proxy-url: "http://p:${c.proxy}@proxy:3128"}
users:
- name: t
  user: {token: ${c.token}}
- name: basic
  user: {username: admin, password: "${c.password}"}
- name: cert
  user: {client-key-data: ${c.keyData}}
- name: oidc
  user:
    auth-provider: {name: oidc, config: {access-token: ${c.access}, refresh-token: ${c.refresh}, client-secret: ${c.secret}}}
- name: exec
  user:
    exec: {command: get-token, env: [{name: API_TOKEN, value: ${c.execEnv}}]}
`,
    )
    writeFileSync(b, `users:
- name: t
  user: {token: ${c.second}}
`) // loses to a's "t", still a credential
    loadKubeconfig({KUBECONFIG: `${a}:${b}`})
    const text = Object.values(c).map((x) => `value ${x} and ${encodeURIComponent(x)}`).join('\n')
    for (const x of Object.values(c)) expect(redact(text), x).to.not.include(x.slice(-12))
  })

  it('relative certificate and key paths are relative to the kubeconfig file, not the working directory', () => {
    mkdirSync(path.join(dir, 'sub'))
    const file = path.join(dir, 'sub', 'k.yaml')
    writeFileSync(file, good('abcdefgh1234').replace('server: "https://127.0.0.1:6443"', 'server: "https://127.0.0.1:6443", certificate-authority: ca.crt').replace('    token: abcdefgh1234', '    client-key: keys/k.pem\n    client-certificate: /abs/c.pem'))
    const kc = loadKubeconfig({KUBECONFIG: file})!
    expect(kc.clusters.get('c')!.body['certificate-authority']).to.equal(path.join(dir, 'sub', 'ca.crt'))
    expect(kc.users.get('u')!.body['client-key']).to.equal(path.join(dir, 'sub', 'keys', 'k.pem'))
    expect(kc.users.get('u')!.body['client-certificate']).to.equal('/abs/c.pem')
  })
})

// mkfifo without a binary: node has no mkfifo, so use the coreutils one.
function mkfifoSync(file: string): void {
  const r = spawnSync('mkfifo', [file])
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`)
}
