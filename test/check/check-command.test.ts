import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, runCli, type CliResult} from '../helpers/cli.js'
import {cleanValues, draw, pgUrl, smallManifest, useCheckProjects} from './support.js'

const ESC = '\u001B['

interface FindingJson {
  severity: string
  rule: string
  key?: string
  message: string
  hint: string
}

/** stdout must be exactly one JSON document: the envelope. */
function envelope(r: CliResult) {
  const text = r.stdout.trim()
  expect(text.startsWith('{') && text.endsWith('}'), `stdout is one JSON object:\n${r.stdout}`).to.equal(true)
  return JSON.parse(text) as {
    ok: boolean
    command: string
    exitCode: number
    result?: {environment: string; file: string; checked: number; errors: number; warnings: number; findings: FindingJson[]}
    error?: {code: string; message: string; exitCode: number; suggestion?: string}
  }
}

const clean = cleanValues

describe('check command', () => {
  // hermeticGit sets GIT_CEILING_DIRECTORIES in process.env, which runBin passes on to the binary.
  const {project} = useCheckProjects()

  describe('exit codes (the real binary)', () => {
    it('0 when clean, with a one-line verdict on stdout and nothing on stderr', async () => {
      const pr = project(smallManifest(), {'.env.production': clean()})
      const r = await runBin(['check', 'production'], {cwd: pr.dir})
      expect(r.exitCode).to.equal(0)
      expect(r.stdout).to.equal('✓ production: 3 secrets checked in .env.production — 0 errors, 0 warnings\n')
      expect(r.stderr).to.equal('')
    })

    it('1 on any error', async () => {
      const pr = project(smallManifest(), {'.env.production': {DATABASE_URL: pgUrl()}})
      const r = await runBin(['check', 'production'], {cwd: pr.dir})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.include('✗ production: 3 secrets checked in .env.production — 1 error (1 value to fill in), 0 warnings')
      expect(r.stdout).to.include('→ run `envsync generate production`')
      expect(r.stderr).to.equal('')
    })

    it('0 on warnings alone, 1 with --strict', async () => {
      const pr = project(smallManifest(), {'.env.production': {...clean(), LEGACY_KEY: 'x'}})
      const plain = await runBin(['check', 'production'], {cwd: pr.dir})
      expect(plain.exitCode).to.equal(0)
      expect(plain.stdout).to.include('! production: 3 secrets checked in .env.production — 0 errors, 1 warning')
      const strict = await runBin(['check', 'production', '--strict'], {cwd: pr.dir})
      expect(strict.exitCode).to.equal(1)
      expect(strict.stdout).to.equal(plain.stdout)
    })

    it('2 for an unknown environment, with a did-you-mean', async () => {
      const pr = project(smallManifest(), {'.env.production': clean()})
      const r = await runBin(['check', 'prod'], {cwd: pr.dir})
      expect(r.exitCode).to.equal(2)
      expect(r.stdout).to.equal('')
      expect(r.stderr).to.include('unknown environment "prod" (the manifest has: development, production)')
      expect(r.stderr).to.include('did you mean "production"?')
      expect(r.stderr).not.to.match(/\n\s+at /) // no stack trace

      const json = await runBin(['check', 'prodution', '--json'], {cwd: pr.dir})
      expect(json.exitCode).to.equal(2)
      const e = envelope(json)
      expect(e).to.deep.include({ok: false, command: 'check', exitCode: 2})
      expect(e.result).to.equal(undefined)
      expect(e.error).to.include({code: 'UNKNOWN_ENVIRONMENT', exitCode: 2, suggestion: 'did you mean "production"?'})
    })

    it('an environment name far from any suggests adding it', async () => {
      const r = await runCli(['check', 'qa-east', '--manifest', project(smallManifest()).tp.manifest])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('unknown environment "qa-east"')
      expect(r.stderr).to.include('add it under environments: in envsync.yaml')
      expect(r.stderr).not.to.include('did you mean')
    })
  })

  describe('--json', () => {
    it('prints exactly one envelope with every finding, and exits 1 on errors', async () => {
      const pr = project(smallManifest(), {'.env.production': {JWT_SECRET: 'changeme', DATABASE_URL: pgUrl(), EXTRA: '1'}})
      const r = await runBin(['check', 'production', '--json'], {cwd: pr.dir})
      expect(r.exitCode).to.equal(1)
      expect(r.stderr).to.equal('')
      const e = envelope(r)
      expect(Object.keys(e).sort()).to.deep.equal(['command', 'exitCode', 'ok', 'result'])
      expect(e).to.deep.include({ok: false, command: 'check', exitCode: 1})
      expect(e.result).to.deep.include({environment: 'production', file: '.env.production', checked: 3, errors: 2, warnings: 1})
      expect(e.result!.findings).to.deep.equal([
        {severity: 'error', rule: 'placeholder', key: 'JWT_SECRET', message: 'JWT_SECRET looks like a placeholder (change-me)', hint: 'run `envsync generate production JWT_SECRET --force`'},
        {severity: 'error', rule: 'min-length', key: 'JWT_SECRET', message: 'JWT_SECRET has 8 characters; at least 32 are required', hint: 'run `envsync generate production JWT_SECRET --force`'},
        {severity: 'warning', rule: 'unknown-key', key: 'EXTRA', message: 'EXTRA is in .env.production but not in the manifest', hint: 'add EXTRA under secrets: in the manifest, or remove it from .env.production'},
      ])
    })

    it('ok and exit 0 when clean', async () => {
      const pr = project(smallManifest(), {'.env.production': clean()})
      const r = await runBin(['check', 'production', '--json'], {cwd: pr.dir})
      expect(r.exitCode).to.equal(0)
      const e = envelope(r)
      expect(e).to.deep.include({ok: true, command: 'check', exitCode: 0})
      expect(e.result).to.deep.include({environment: 'production', errors: 0, warnings: 0, findings: []})
    })

    it('warnings: ok without --strict, not ok (exit 1) with it', async () => {
      const pr = project(smallManifest(), {'.env.production': `${Object.entries(clean()).map(([k, v]) => `${k}=${v}`).join('\n')}\nEXTRA=1\nEXTRA=2\n`})
      const plain = envelope(await runCli(['check', 'production', '--json', '--manifest', pr.tp.manifest]))
      expect(plain).to.deep.include({ok: true, exitCode: 0})
      expect(plain.result!.findings.map((f) => f.rule)).to.deep.equal(['duplicate', 'unknown-key'])
      const r = await runBin(['check', 'production', '--json', '--strict'], {cwd: pr.dir})
      expect(r.exitCode).to.equal(1)
      expect(envelope(r)).to.deep.include({ok: false, command: 'check', exitCode: 1})
    })
  })

  describe('colour', () => {
    const files = () => ({'.env.production': {JWT_SECRET: 'changeme', DATABASE_URL: pgUrl(), EXTRA: '1'}})

    it('plain text when NO_COLOR is set, even with FORCE_COLOR', async () => {
      const pr = project(smallManifest(), files())
      for (const env of [{NO_COLOR: '1'}, {NO_COLOR: '1', FORCE_COLOR: '1'}]) {
        const r = await runBin(['check', 'production'], {cwd: pr.dir, env})
        expect(r.exitCode).to.equal(1)
        expect(r.stdout).to.include('SEVERITY')
        expect(r.stdout, JSON.stringify(env)).not.to.include(ESC)
      }
      const bad = await runBin(['check', 'prod'], {cwd: pr.dir, env: {NO_COLOR: '1', FORCE_COLOR: '1'}})
      expect(bad.stderr).to.include('did you mean')
      expect(bad.stderr).not.to.include(ESC)
    })

    it('plain text when stdout is not a terminal', async () => {
      const pr = project(smallManifest(), files())
      const r = await runBin(['check', 'production'], {cwd: pr.dir, env: {NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color'}})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.include('SEVERITY')
      expect(r.stdout + r.stderr).not.to.include(ESC)
    })

    it('(control) colour codes do appear when forced, so the tests above can see them', async () => {
      const pr = project(smallManifest(), files())
      const r = await runBin(['check', 'production'], {cwd: pr.dir, env: {NO_COLOR: undefined, FORCE_COLOR: '1'}})
      expect(r.stdout).to.include(`${ESC}31merror${ESC}39m`)
      expect(r.stdout).to.include(`${ESC}33mwarning${ESC}39m`)
    })
  })

  describe('text output', () => {
    let saved: string | undefined
    before(() => {
      saved = process.env.NO_COLOR
      process.env.NO_COLOR = '1'
    })
    after(() => {
      if (saved === undefined) delete process.env.NO_COLOR
      else process.env.NO_COLOR = saved
    })

    it('a table of findings, each followed by its fix, then the verdict', async () => {
      const pr = project(smallManifest(), {'.env.production': {JWT_SECRET: 'changeme', DATABASE_URL: 'mysql://db', EXTRA: '1'}})
      const r = await runCli(['check', 'production', '--manifest', pr.tp.manifest])
      expect(r.exitCode).to.equal(1)
      const file = pr.path('.env.production')
      expect(r.stdout.split('\n')).to.deep.equal([
        'SEVERITY  KEY           RULE         FINDING',
        'error     JWT_SECRET    placeholder  JWT_SECRET looks like a placeholder (change-me)',
        '    → run `envsync generate production JWT_SECRET --force`',
        'error     JWT_SECRET    min-length   JWT_SECRET has 8 characters; at least 32 are required',
        '    → run `envsync generate production JWT_SECRET --force`',
        'error     DATABASE_URL  format       DATABASE_URL is a mysql:// URL, but its format postgres-url takes postgres:// or postgresql://',
        "    → expected a URL of the form postgres://user:password@host:5432/db; if DATABASE_URL really is a mysql:// URL, set `format: {regex: 'mysql://.+'}` on DATABASE_URL in the manifest",
        'warning   EXTRA         unknown-key  EXTRA is in ' + file + ' but not in the manifest',
        `    → add EXTRA under secrets: in the manifest, or remove it from ${file}`,
        '',
        `✗ production: 3 secrets checked in ${file} — 3 errors, 1 warning`,
        '',
      ])
      expect(r.stderr).to.equal('')
    })

    it('file findings have no key column value', async () => {
      const pr = project(smallManifest())
      pr.values('.env.production', clean(), 0o644)
      const r = await runCli(['check', 'production', '--manifest', pr.tp.manifest])
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.match(/^error\s+-\s+file-mode\s+.* is readable by other users \(mode 0644\)$/m)
      expect(r.stdout).to.include(`→ run \`chmod 600 ${pr.path('.env.production')}\``)
    })
  })

  describe('never prints a value', () => {
    const manifest = smallManifest(`  SESSION_SECRET: {services: [backend], generate: "base64:32"}
  LOW_SECRET: {services: [backend], generate: "base64:48"}
  REUSED_SECRET: {services: [backend], generate: "alnum:40"}
  HUMAN_SECRET: {services: [backend]}
  NODE_ENV: {services: [backend], sensitive: false, format: {enum: [development, production]}}
  QUEUE: {services: [backend], required: false, sensitive: false, format: {enum: [redis, postgres]}}
  VITE_STRIPE_SECRET: {services: [frontend]}
  DEV_ONLY: {services: [backend], environments: [development]}
rules:
  - requires: [{key: QUEUE, equals: redis}]
`)

    function leakyProject() {
      const c = {
        placeholder: canary('PLACEHOLDER'),
        suffix: canary('SUFFIX'),
        short: canary('SHORT'),
        format: canary('FORMAT'),
        url: canary('URL'),
        low: canary('LOW'),
        reused: canary('REUSED'),
        human: canary('HUMAN'),
        enumv: canary('ENUMV'),
        queue: canary('QUEUE'),
        publicv: canary('PUBLIC'),
        devOnly: canary('DEVONLY'),
        unknown: canary('UNKNOWN'),
        dupFirst: canary('DUPFIRST'),
        dupLast: canary('DUPLAST'),
        devJwt: canary('DEVJWT'),
        devOther: canary('DEVOTHER'),
      }
      const reused = `${c.reused}${draw('alnum:16')}`
      const production = [
        `JWT_SECRET=dev-${c.placeholder}-change-me`,
        `DATABASE_URL=postgres//shop:${c.url}@db.internal:5432/shop`,
        `SESSION_SECRET=${c.short}`,
        `LOW_SECRET=${c.low}${'0'.repeat(40)}`,
        `REUSED_SECRET=${reused}`,
        `HUMAN_SECRET=${c.suffix}-your-key-here`,
        `NODE_ENV=${c.enumv}`,
        `QUEUE=${c.queue}`,
        `VITE_STRIPE_SECRET=${c.publicv}`,
        `VITE_API_URL=${c.format}`,
        `DEV_ONLY=${c.devOnly}`,
        `UNKNOWN_TOKEN=${c.dupFirst}`,
        `UNKNOWN_TOKEN=${c.dupLast}`,
        `ANOTHER_UNKNOWN=${c.unknown}`,
        '',
      ].join('\n')
      const development = [`JWT_SECRET=${c.devJwt}`, `REUSED_SECRET=${reused}`, `DATABASE_URL=${c.devOther}`, ''].join('\n')
      const pr = project(manifest)
      pr.values('.env.production', production, 0o644)
      pr.values('.env.development', development, 0o644)
      return {pr, canaries: Object.values(c)}
    }

    /** Every finding the leaky project is built to cause: the no-leak checks are not vacuous. */
    const EXPECTED = [
      'error file-mode -',
      'error placeholder JWT_SECRET',
      'error format DATABASE_URL',
      'error format VITE_API_URL',
      'error min-length SESSION_SECRET',
      'error entropy LOW_SECRET',
      'error reused REUSED_SECRET',
      'error placeholder HUMAN_SECRET',
      'error format NODE_ENV',
      'error format QUEUE',
      'error public-service VITE_STRIPE_SECRET',
      'error public-prefix VITE_STRIPE_SECRET',
      'error requires -',
      'warning duplicate UNKNOWN_TOKEN',
      'warning unknown-key DEV_ONLY',
      'warning unknown-key UNKNOWN_TOKEN',
      'warning unknown-key ANOTHER_UNKNOWN',
    ]

    const sorted = (a: string[]) => [...a].sort()

    it('in text and --json, from the real binary', async () => {
      const {pr, canaries} = leakyProject()
      const json = await runBin(['check', 'production', '--json'], {cwd: pr.dir})
      expect(json.exitCode).to.equal(1)
      const e = envelope(json)
      expect(sorted(e.result!.findings.map((f) => `${f.severity} ${f.rule} ${f.key ?? '-'}`))).to.deep.equal(sorted(EXPECTED))
      const text = await runBin(['check', 'production'], {cwd: pr.dir})
      expect(text.exitCode).to.equal(1)
      expect(text.stdout.match(/^(error|warning) /gm)).to.have.length(EXPECTED.length)
      const strict = await runBin(['check', 'production', '--strict', '--json'], {cwd: pr.dir})
      const dev = await runBin(['check', 'development'], {cwd: pr.dir})
      expect(dev.stdout).to.include('reused')
      assertNoLeak(canaries, json.stdout, json.stderr, text.stdout, text.stderr, strict.stdout, strict.stderr, dev.stdout, dev.stderr)
    })

    it('in text and --json, in-process', async () => {
      const {pr, canaries} = leakyProject()
      const outputs: string[] = []
      for (const args of [[], ['--json'], ['--strict']]) {
        for (const env of ['production', 'development']) {
          const r = await runCli(['check', env, '--manifest', pr.tp.manifest, ...args])
          expect(r.exitCode, `${env} ${args.join(' ')}`).to.equal(1)
          outputs.push(r.stdout, r.stderr)
        }
      }
      expect(outputs.join('\n')).to.include('public-prefix')
      assertNoLeak(canaries, ...outputs)
    })

    it('(control) the leak check catches a printed piece of a canary', () => {
      const c = canary('SELFTEST')
      expect(() => assertNoLeak([c], `value: ${c.slice(3, 20)}`)).to.throw(/leaked/)
    })

    // A values file that cannot be parsed reports the offending line, quoting up to 40 characters
    // of it (src/values/dotenv.ts). When that line is the continuation of an unquoted multi-line
    // value (a PEM key pasted without quotes), the quote is secret material. Not in src/check;
    // left pending until the parser stops quoting line content.
    it('a values file that cannot be parsed does not quote a secret line', async () => {
      const pr = project(smallManifest())
      const c = canary('PEMLINE')
      pr.values('.env.production', `JWT_SECRET=-----BEGIN PRIVATE KEY-----\n${c}${c}\n-----END PRIVATE KEY-----\n`)
      const text = await runBin(['check', 'production'], {cwd: pr.dir})
      const json = await runBin(['check', 'production', '--json'], {cwd: pr.dir})
      expect(text.exitCode).to.equal(2)
      assertNoLeak([c], text.stdout, text.stderr, json.stdout, json.stderr)
    })
  })
})
