import {mkdirSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {runBin, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {backendManifest, draw, envText} from './support.js'

/**
 * Every hint leads somewhere valid: each test below takes the suggestion envsync prints and
 * follows it (the manifest change, the command), then runs envsync again and expects the problem
 * gone and nothing new in its place. Through the real binary.
 */

const json = (r: CliResult) => JSON.parse(r.stdout)

const manifest = backendManifest

/** Puts `line` under the secret `key` (its block form) in the manifest text. */
const addUnder = (text: string, key: string, line: string) => text.replace(new RegExp(`^( {2}${key}:\\n)`, 'm'), `$1    ${line}\n`)

/** The manifest line a hint quotes, e.g. "set `format: url` on K" → "format: url". */
const quoted = (hint: string, pattern: RegExp): string => {
  const m = pattern.exec(hint)
  expect(m, `a manifest change in the hint: ${hint}`).to.not.equal(null)
  return m![1]
}

describe('hints that lead somewhere (real binary)', function () {
  this.timeout(60_000)
  let p: TempProject
  beforeEach(() => (p = new TempProject('envsync-hints-')))
  afterEach(() => p.cleanup())
  const run = (...args: string[]) => runBin([...args, '--json'], {cwd: p.dir})

  it('generate KEY without a recipe: the recipe it suggests is accepted, meets minLength, and the value passes check', async () => {
    for (const [spec, values] of [
      ['    services: [backend]\n', {}],
      ['    services: [backend]\n    minLength: 64\n', {}],
      ['    services: [backend]\n    minLength: 200\n', {}],
    ] as const) {
      const text = manifest(`  SESSION_KEY:\n${spec}`)
      p.write('envsync.yaml', text, 0o644)
      p.write('.env.production', envText(values))
      const r = await run('generate', 'production', 'SESSION_KEY')
      expect(json(r).error.code).to.equal('NO_RECIPE')
      const recipe = quoted(json(r).error.suggestion, /add `(generate: [a-z0-9:]+)`/)
      p.write('envsync.yaml', addUnder(text, 'SESSION_KEY', recipe), 0o644)
      const gen = await run('generate', 'production', 'SESSION_KEY')
      expect(gen.exitCode, gen.stdout).to.equal(0)
      const check = await run('check', 'production')
      expect(json(check).result.findings, `${spec}: ${recipe}`).to.deep.equal([])
    }
  })

  it('generate KEY with a format or a default: no recipe is suggested (none would be accepted); the values file is', async () => {
    for (const spec of ['    services: [backend]\n    format: postgres-url\n', '    services: [backend]\n    sensitive: false\n    default: eu-west-1\n', '    services: [backend]\n    format: {enum: [a, b]}\n']) {
      p.write('envsync.yaml', manifest(`  KEY_WITHOUT_RECIPE:\n${spec}`), 0o644)
      const r = await run('generate', 'production', 'KEY_WITHOUT_RECIPE')
      const hint = json(r).error.suggestion as string
      expect(hint, spec).to.not.include('generate:')
      expect(hint, spec).to.include('KEY_WITHOUT_RECIPE=… in .env.production')
    }
  })

  it('a URL of another scheme: the format it suggests is accepted and the value then passes', async () => {
    for (const [format, value] of [
      ['postgres-url', 'mysql://shop:Zq7vK2mPx9LrT4wBc8Nd@db.internal:3306/shop'],
      ['postgres-url', 'mongodb+srv://shop:Zq7vK2mPx9LrT4wBc8Nd@cluster0.abc.mongodb.net/shop'],
      ['url', 'postgres://shop:Zq7vK2mPx9LrT4wBc8Nd@db.internal:5432/shop'],
      ['url', 'redis://:Zq7vK2mPx9LrT4wBc8Nd@cache.internal:6379/0'],
      ['redis-url', 'https://cache.shop.io'],
      ['url', 'amqps://shop:Zq7vK2mPx9LrT4wBc8Nd@mq.internal:5671'],
    ]) {
      const text = manifest(`  CONNECTION:\n    services: [backend]\n    format: ${format}\n`)
      p.write('envsync.yaml', text, 0o644)
      p.write('.env.production', envText({CONNECTION: value}))
      const finding = json(await run('check', 'production')).result.findings[0]
      expect(finding.message, value).to.match(/^CONNECTION is a [a-z+]+:\/\/ URL, but its format/)
      expect(finding.message).to.not.include('is not a URL')
      const change = quoted(finding.hint, /set `(format: [^`]+)` on CONNECTION/)
      p.write('envsync.yaml', text.replace(`format: ${format}`, change), 0o644)
      const again = await run('check', 'production')
      expect(again.exitCode, `${value} with ${change}: ${again.stdout}`).to.equal(0)
      expect(json(again).result.findings).to.deep.equal([])
    }
  })

  it('a default on a sensitive key: both ways out of the hint give a valid manifest', async () => {
    const text = manifest('  API_TOKEN:\n    services: [backend]\n    default: abc\n')
    p.write('envsync.yaml', text, 0o644)
    const hint = json(await run('check', 'production')).error.suggestion as string
    expect(hint).to.include('`sensitive: false`')
    p.write('envsync.yaml', addUnder(text, 'API_TOKEN', 'sensitive: false'), 0o644)
    expect(json(await run('check', 'development')).result.environment).to.equal('development')
    const recipe = quoted(hint, /add `(generate: [a-z0-9:]+)`/)
    p.write('envsync.yaml', addUnder(text.replace('    default: abc\n', ''), 'API_TOKEN', recipe), 0o644)
    expect((await run('generate', 'production')).exitCode).to.equal(0)
    expect(json(await run('check', 'production')).result.findings).to.deep.equal([])
    // With a format, generate would be refused: it is not offered.
    p.write('envsync.yaml', manifest('  API_URL:\n    services: [backend]\n    format: url\n    default: https://api.shop.io\n'), 0o644)
    expect(json(await run('check', 'production')).error.suggestion).to.not.include('generate:')
  })

  it('export with keys that have no value: generate is offered only for keys with a recipe', async () => {
    p.write('envsync.yaml', manifest('  JWT_SECRET: {services: [backend], generate: base64:32}\n  STRIPE_KEY: {services: [backend]}\n  OTHER: {services: [backend], required: false}\n'), 0o644)
    p.write('.env.production', envText({OTHER: draw('alnum:32')}))
    const r = await runBin(['export', 'production', '--format', 'json'], {cwd: p.dir})
    expect(r.stderr).to.include('→ run `envsync generate production` for JWT_SECRET; set STRIPE_KEY in .env.production')
    p.write('.env.production', '')
    p.write('envsync.yaml', manifest('  STRIPE_KEY: {services: [backend]}\n'), 0o644)
    const none = await run('export', 'production')
    expect(json(none).error.suggestion).to.equal('set it in .env.production')
  })

  it('an empty manifest: the init command it suggests writes a manifest that loads', async () => {
    p.write('envsync.yaml', '\n', 0o644)
    const hint = json(await run('check', 'production')).error.suggestion as string
    const command = quoted(hint, /`envsync (init[^`]*)`/)
    expect(command).to.equal('init --force')
    const init = await runBin([...command.split(' '), '--yes'], {cwd: p.dir})
    expect(init.exitCode, init.stdout + init.stderr).to.equal(0)
    expect(json(await run('check', 'production')).result.environment).to.equal('production')
  })

  it('a manifest that is a directory: pointing at the file inside, as suggested, works', async () => {
    mkdirSync(p.path('app'))
    const first = json(await run('check', 'production', '-m', 'app')).error
    expect(first.code).to.equal('MANIFEST_NOT_A_FILE')
    expect(first.suggestion).to.not.include('permission')
    writeFileSync(p.path('app/envsync.yaml'), manifest('  A: {services: [backend], required: false}\n'))
    const flag = quoted(json(await run('check', 'production', '-m', 'app')).error.suggestion, /pass the file itself: (--manifest \S+)/)
    const ok = await run('check', 'production', ...flag.split(' '))
    expect(json(ok).result.environment).to.equal('production')
  })
})
