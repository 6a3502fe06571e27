import {readFileSync, readdirSync} from 'node:fs'

import {expect} from 'chai'

import {placeholderKind} from '../../src/check/placeholder.js'
import {parseManifest} from '../../src/manifest/load.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * Names that are also members of every JavaScript object (toString, constructor, valueOf…) are
 * ordinary names to envsync: a secret, service or environment called so is found only when the
 * manifest has it, and always written. `__proto__`, which no JavaScript object can hold as a key,
 * is refused at its line:col instead of vanishing. Through the real binary.
 */

const BUILTINS = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString']

const manifest = `version: 1
project: shop
services:
  backend: {}
  constructor: {}
environments:
  production:
    targets:
      docker: {dir: secrets/production, compose: compose.production.yml}
  constructor: {}
secrets:
${BUILTINS.map((k, i) => `  ${k}: {services: [${i % 2 ? 'backend' : 'constructor'}]${i % 3 ? ', sensitive: false' : ''}}`).join('\n')}
`

const values = Object.fromEntries(BUILTINS.map((k, i) => [k, `value-${i}-QK7vR2mXw9LpZt4sNb8Yc${i}`]))
const envText = Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join('')

describe('keys named like object built-ins (real binary)', function () {
  this.timeout(60_000)
  let p: TempProject
  beforeEach(() => {
    p = new TempProject('envsync-builtins-')
    p.write('envsync.yaml', manifest, 0o644)
    p.write('.env.production', envText)
  })
  afterEach(() => p.cleanup())

  it('check audits every one of them, export prints every one, push writes every one', async () => {
    const check = await runBin(['check', 'production', '--json'], {cwd: p.dir})
    expect(check.exitCode, check.stdout).to.equal(0)
    const result = JSON.parse(check.stdout).result
    expect(result.checked).to.equal(BUILTINS.length)
    expect(result.findings).to.deep.equal([])

    const json = await runBin(['export', 'production', '--format', 'json'], {cwd: p.dir})
    expect(json.exitCode, json.stderr).to.equal(0)
    expect(JSON.parse(json.stdout)).to.deep.equal(values)
    const dotenv = await runBin(['export', 'production', '--format', 'dotenv'], {cwd: p.dir})
    expect(dotenv.stdout).to.equal(envText)

    const push = await runBin(['push', 'production', '--yes'], {cwd: p.dir})
    expect(push.exitCode, push.stdout + push.stderr).to.equal(0)
    // Sensitive keys are secret files; the others are in each service's env file.
    const dir = p.path('secrets/production')
    const written = new Map<string, string>()
    for (const f of readdirSync(dir)) {
      const text = readFileSync(`${dir}/${f}`, 'utf8')
      if (f.endsWith('.env')) for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) written.set(line.split('=')[0], line.slice(line.indexOf('=') + 1))
      else if (!f.startsWith('.')) written.set(f, text)
    }
    expect(Object.fromEntries(written)).to.deep.equal(values)
    const diff = await runBin(['diff', 'production', '--json'], {cwd: p.dir})
    expect(diff.exitCode, diff.stdout).to.equal(0)
    expect(diff.stdout).to.not.include('"add"')
  })

  it('an environment named like a built-in exists only when the manifest has it', async () => {
    for (const name of [...BUILTINS.filter((n) => n !== 'constructor'), '__proto__', '__defineGetter__']) {
      const r = await runBin(['check', name, '--json'], {cwd: p.dir})
      expect(r.exitCode, `${name}: ${r.stdout}`).to.equal(2)
      expect(JSON.parse(r.stdout).error.code, name).to.equal('UNKNOWN_ENVIRONMENT')
    }
    // `constructor` is an environment of this manifest: checked like any other (no values file yet).
    const own = await runBin(['check', 'constructor', '--json'], {cwd: p.dir})
    expect(JSON.parse(own.stdout).result.environment).to.equal('constructor')
  })

  it('a values-file key named like a built-in but not in the manifest is reported as unknown', async () => {
    p.write('envsync.yaml', manifest.replace(/^ {2}toString:.*\n/m, ''), 0o644)
    const r = await runBin(['check', 'production', '--json'], {cwd: p.dir})
    const findings = JSON.parse(r.stdout).result.findings as {rule: string; key: string}[]
    expect(findings.map((f) => `${f.rule} ${f.key}`)).to.deep.equal(['unknown-key toString'])
  })

  it('generate and rules find such keys only when the manifest has them', async () => {
    const r = await runBin(['generate', 'production', 'valueOf', '--json'], {cwd: p.dir})
    expect(JSON.parse(r.stdout).error.code).to.equal('NO_RECIPE')
    const unknown = await runBin(['generate', 'production', 'toJSON', '--json'], {cwd: p.dir})
    expect(JSON.parse(unknown.stdout).error.code).to.equal('UNKNOWN_KEY')
    p.write('envsync.yaml', `${manifest}rules:\n  - requires: [toJSON]\n`, 0o644)
    const rule = await runBin(['check', 'production', '--json'], {cwd: p.dir})
    expect(JSON.parse(rule.stdout).error.message).to.include('rule refers to unknown key "toJSON"')
  })
})

describe('__proto__ in a manifest', () => {
  const cases: [string, string, [number, number]][] = [
    ['a secret key', 'secrets:\n  __proto__:\n    services: [backend]\n', [7, 3]],
    ['a service', 'secrets: {}\n', [3, 3]],
    ['an environment', 'secrets: {}\n', [5, 3]],
    // "    targets: {railway: {project: p, services: {" is 47 characters.
    ['a Railway service map key', 'secrets: {}\n', [6, 48]],
  ]
  const base = (c: string) =>
    `project: shop\nservices:\n${c === 'a service' ? '  __proto__: {}\n' : '  backend: {}\n'}environments:\n${c === 'an environment' ? '  __proto__: {}\n' : '  production: {}\n'}`
  for (const [what, secrets, [line, column]] of cases) {
    it(`as ${what}: refused at its line:col, never dropped`, () => {
      let text = base(what) + secrets
      if (what === 'a Railway service map key') text = text.replace('  production: {}\n', '  production:\n    targets: {railway: {project: p, services: {__proto__: svc}}}\n')
      try {
        parseManifest('m.yaml', Buffer.from(text))
        expect.fail('accepted')
      } catch (error) {
        const e = error as {code: string; message: string; location: {line: number; column: number}}
        expect(e.code).to.equal('MANIFEST_INVALID')
        expect(e.message).to.include('"__proto__" cannot be a name')
        expect([e.location.line, e.location.column]).to.deep.equal([line, column])
      }
    })
  }
})

describe('placeholder markers and built-in names', () => {
  it('a value that is a built-in name is not a placeholder', () => {
    for (const v of [...BUILTINS, '__proto__', 'constructor constructor']) expect(placeholderKind(v), v).to.equal(undefined)
  })
})
