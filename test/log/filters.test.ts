import {mkdirSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {TempProject} from '../helpers/project.js'
import {envsyncIn, rows} from './support.js'

/**
 * What `envsync log` selects and how it fails, over a history.jsonl as the commands and older
 * versions write it (and as a torn write or a hand edit leaves it).
 */

const MANIFEST = `version: 1
project: shop
services: {api: {}, web: {}}
environments:
  staging: {}
  production:
    protected: true
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api]}
  STRIPE_KEY: {services: [web]}
`

const ADA = 'Ada <ada@shop.test>'
const BOB = 'Bob <bob@shop.test>'
const HISTORY = [
  // An older version's push: no action.
  {time: '2026-10-01T08:00:00.000Z', user: BOB, environment: 'production', destination: 'railway:shop/production/api', status: 'applied', added: ['JWT_SECRET', 'DB_PASSWORD'], updated: [], removed: []},
  {time: '2026-10-20T08:00:00.000Z', user: ADA, environment: 'staging', action: 'set', keys: ['STRIPE_KEY']},
  // An environment since removed from the manifest, with a key since removed.
  {time: '2026-10-25T08:00:00.000Z', user: ADA, environment: 'qa', action: 'generate', keys: ['LEGACY_TOKEN']},
  {time: '2026-11-01T09:00:00.000Z', user: 'runner', ci: 'github:octocat', environment: 'production', action: 'rotate', keys: ['JWT_SECRET'], graceUntil: '2026-11-01T10:00:00.000Z'},
  {time: '2026-11-01T09:00:05.000Z', user: 'runner', ci: 'github:octocat', environment: 'production', action: 'push', destination: 'render:service/shop-web', status: 'failed', added: [], updated: ['STRIPE_KEY'], removed: [], error: 'RENDER_5XX'},
  {time: '2026-11-01T09:00:05.000Z', user: 'runner', ci: 'github:octocat', environment: 'production', action: 'push', destination: 'railway:shop/production/api', status: 'applied', added: [], updated: ['JWT_SECRET'], removed: []},
]
const line = (e: object) => JSON.stringify(e)

describe('log: filters, formats, damaged lines, errors', function () {
  this.timeout(60_000)
  let p: TempProject
  const log = (...args: string[]) => envsyncIn(p.dir, p.dir, ['log', ...args], {ENVSYNC_NOW: '2026-11-02T12:00:00Z'})
  const ok = async (...args: string[]) => {
    const r = await log(...args)
    expect(r.exitCode, `log ${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0)
    return r
  }
  const times = async (...args: string[]) => rows((await ok(...args)).stdout).map((r) => r[0])
  const writeHistory = (text: string) => {
    mkdirSync(p.path('.envsync'), {recursive: true})
    writeFileSync(p.path('.envsync/history.jsonl'), text)
  }

  beforeEach(() => {
    p = new TempProject('envsync-log-filters-')
    p.write('envsync.yaml', MANIFEST, 0o644)
  })
  afterEach(() => p.cleanup())

  it('no .envsync/ (nothing recorded yet): says so, exit 0; an empty history too', async () => {
    for (const setup of [() => {}, () => writeHistory('')]) {
      setup()
      const r = await ok()
      expect(r.stdout.trim()).to.match(/^no changes recorded yet/)
      expect(r.stderr).to.equal('')
      expect(JSON.parse((await ok('--json')).stdout).result).to.deep.include({entries: [], matched: 0, recorded: 0})
      expect((await ok('--format', 'jsonl')).stdout).to.equal('')
    }
  })

  it('every entry newest first (one moment\'s entries in the order written), old entries as pushes, an environment no longer in the manifest too; who with the CI job; failures with their code, grace dates', async () => {
    writeHistory(HISTORY.map(line).join('\n') + '\n')
    const r = await ok()
    expect(rows(r.stdout)).to.deep.equal([
      ['2026-11-01 09:00', 'runner (github:octocat)', 'production', 'push', 'render service/shop-web', '~STRIPE_KEY', 'failed (RENDER_5XX)'],
      ['2026-11-01 09:00', 'runner (github:octocat)', 'production', 'push', 'railway shop/production/api', '~JWT_SECRET', 'applied'],
      ['2026-11-01 09:00', 'runner (github:octocat)', 'production', 'rotate', '.env.production', 'JWT_SECRET', 'grace until 2026-11-01 10:00'],
      ['2026-10-25 08:00', ADA, 'qa', 'generate', 'store', 'LEGACY_TOKEN'],
      ['2026-10-20 08:00', ADA, 'staging', 'set', '.env.staging', 'STRIPE_KEY'],
      ['2026-10-01 08:00', BOB, 'production', 'push', 'railway shop/production/api', '+JWT_SECRET +DB_PASSWORD', 'applied'],
    ])
    // The export: stable field order, action filled in for the old push.
    const jsonl = (await ok('--format', 'jsonl')).stdout.trimEnd().split('\n')
    expect(jsonl.at(-1)).to.equal(line({time: HISTORY[0].time, user: BOB, environment: 'production', action: 'push', destination: 'railway:shop/production/api', status: 'applied', added: ['JWT_SECRET', 'DB_PASSWORD'], updated: [], removed: []}))
    expect(jsonl[0]).to.equal(line(HISTORY[4]))
    expect(Object.keys(JSON.parse(jsonl[2]))).to.deep.equal(['time', 'user', 'ci', 'environment', 'action', 'keys', 'graceUntil'])
  })

  it('ENV, --key, --action, --since (a date or a span back), --limit; combined', async () => {
    writeHistory(HISTORY.map(line).join('\n') + '\n')
    expect(await times('production')).to.have.length(4)
    const envOnly = await ok('staging')
    expect(envOnly.stdout.split('\n')[0], 'one environment: no ENV column').to.match(/^TIME\s+WHO\s+ACTION\s+WHERE\s+KEYS\s+STATUS$/)
    expect(rows(envOnly.stdout)).to.deep.equal([['2026-10-20 08:00', ADA, 'set', '.env.staging', 'STRIPE_KEY']])
    expect(rows((await ok('qa')).stdout).map((r) => r[4]), 'an environment only the history names').to.deep.equal(['LEGACY_TOKEN'])
    // --key matches keys, added, updated and removed; a key only the history names is fine.
    expect(rows((await ok('--key', 'JWT_SECRET')).stdout).map((r) => r[3])).to.deep.equal(['push', 'rotate', 'push'])
    expect(rows((await ok('--key', 'STRIPE_KEY,LEGACY_TOKEN')).stdout).map((r) => r[3])).to.deep.equal(['push', 'generate', 'set'])
    expect(await times('--key', 'LEGACY_TOKEN')).to.deep.equal(['2026-10-25 08:00'])
    expect((await ok('staging', '--key', 'DB_PASSWORD')).stdout.trim()).to.equal('no changes match (6 changes recorded)')
    expect(rows((await ok('--action', 'push')).stdout).map((r) => r[4])).to.deep.equal(['render service/shop-web', 'railway shop/production/api', 'railway shop/production/api'])
    expect(await times('--action', 'set', '--action', 'generate')).to.deep.equal(['2026-10-25 08:00', '2026-10-20 08:00'])
    expect(await times('--since', '2026-10-20')).to.have.length(5)
    expect(await times('--since', '2026-10-20T08:00:01Z')).to.have.length(4)
    // 2026-11-02 12:00 (ENVSYNC_NOW) less 2 days, less 10 days.
    expect(await times('--since', '2d')).to.have.length(3)
    expect(await times('--since', '10d')).to.have.length(4)
    const limited = await ok('production', '--action', 'push', '-n', '2')
    expect(rows(limited.stdout).map((r) => r[3])).to.deep.equal(['render service/shop-web', 'railway shop/production/api'])
    expect(limited.stdout.trimEnd().split('\n').at(-1)).to.equal('showing the newest 2 of 3 changes (--limit)')
    expect(JSON.parse((await ok('production', '--limit', '1', '--json')).stdout).result).to.deep.include({matched: 4, recorded: 6})
  })

  it('a torn line, garbage, a conflict marker, a time that is no date and wrong types are skipped, the rest shown', async () => {
    const torn = line(HISTORY[1]).slice(0, 30)
    writeHistory(
      [
        line(HISTORY[0]),
        torn,
        'not json at all',
        '<<<<<<< HEAD',
        line({time: 'yesterday', user: ADA, environment: 'production', action: 'set', keys: ['JWT_SECRET']}),
        line({time: '2026-02-30T00:00:00Z', user: ADA, environment: 'production', action: 'set', keys: ['JWT_SECRET']}),
        line({time: '2026-10-02T00:00:00Z', user: ADA, environment: 'production', action: 'teleport', keys: ['JWT_SECRET']}),
        line({time: '2026-10-03T00:00:00Z', user: 42, environment: 'production', action: 'set', keys: ['JWT_SECRET']}),
        line({time: '2026-10-03T00:00:00Z', user: ADA, environment: 'production', action: 'set', keys: 'JWT_SECRET'}),
        line({time: '2026-10-03T00:00:00Z', user: ADA, environment: 'production', action: 'finish', removed: [1]}),
        line({time: '2026-10-03T00:00:00Z', user: ADA, environment: 'production', action: 'rotate', keys: ['JWT_SECRET'], graceUntil: 'soon'}),
        line({time: '2026-10-04T00:00:00+00:00', environment: 'production', action: 'set', keys: ['JWT_SECRET'], note: 'x'}),
        '[1,2,3]',
        line(HISTORY[3]),
      ].join('\n'),
    )
    const r = await ok()
    expect(rows(r.stdout).map((x) => [x[0], x[1], x[3], x[5]])).to.deep.equal([
      ['2026-11-01 09:00', 'runner (github:octocat)', 'rotate', 'JWT_SECRET'],
      ['2026-10-04 00:00', 'unknown', 'set', 'JWT_SECRET'],
      ['2026-10-01 08:00', BOB, 'push', '+JWT_SECRET +DB_PASSWORD'],
    ])
    // Unknown fields dropped, a missing user "unknown" (older versions), the time in one form.
    expect(JSON.parse((await ok('--format', 'jsonl')).stdout.split('\n')[1])).to.deep.equal({time: '2026-10-04T00:00:00.000Z', user: 'unknown', environment: 'production', action: 'set', keys: ['JWT_SECRET']})
  })

  it('a push of many keys shows six and counts the rest (the keys asked for first); a control character in a name is shown, not obeyed', async () => {
    const many = Array.from({length: 10}, (_, i) => `KEY_${i}`)
    writeHistory(
      [
        line({time: '2026-11-01T09:00:00Z', user: 'Eve\u001b[2J', environment: 'production', action: 'push', destination: 'railway:shop/production/api', status: 'applied', added: many, updated: ['JWT_SECRET'], removed: []}),
      ].join('\n'),
    )
    const [all] = rows((await ok()).stdout)
    expect(all[1]).to.equal('Eve\\u001b[2J')
    expect(all[5]).to.equal('+KEY_0 +KEY_1 +KEY_2 +KEY_3 +KEY_4 +KEY_5 … 5 more')
    const [named] = rows((await ok('--key', 'JWT_SECRET')).stdout)
    expect(named[5]).to.equal('~JWT_SECRET +KEY_0 +KEY_1 +KEY_2 +KEY_3 +KEY_4 … 5 more')
    // The export has every key.
    expect(JSON.parse((await ok('--format', 'jsonl')).stdout).added).to.deep.equal(many)
  })

  it('Tab completes environments, --key from the manifest, --action from the actions', async () => {
    const complete = async (...words: string[]) => (await envsyncIn(p.dir, p.dir, ['__complete', '--', ...words])).stdout.trim().split('\n').filter(Boolean)
    expect(await complete('log', '')).to.have.members(['staging', 'production'])
    expect(await complete('log', 'production', '--key', '')).to.have.members(['JWT_SECRET', 'DB_PASSWORD', 'STRIPE_KEY'])
    expect(await complete('log', '--action', 'p')).to.have.members(['push', 'pull'])
  })

  it('errors: unknown ENV and --key with a did-you-mean, a bad --since, --action outside the list, --format jsonl with --json', async () => {
    writeHistory(HISTORY.map(line).join('\n') + '\n')
    const cases: [string[], number, RegExp][] = [
      [['prod'], 2, /unknown environment "prod".*\n.*did you mean "production"\?/],
      [['--key', 'JWT_SECRT'], 2, /--key JWT_SECRT: no such key in the manifest or the change history\n.*did you mean "JWT_SECRET"\?/],
      [['--key', 'LEGACY_TOKN'], 2, /did you mean "LEGACY_TOKEN"\?/],
      [['--since', 'last week'], 2, /--since "last week" is not a date or a span\n.*30m, 12h, 7d, 2w/],
      [['--action', 'pushh'], 2, /--action: "pushh" is not one of .*\n.*did you mean "push"\?/],
      [['--format', 'jsonl', '--json'], 2, /choose one/],
      [['--limit', '0'], 2, /--limit/],
    ]
    for (const [args, code, message] of cases) {
      const r = await log(...args)
      expect(r.exitCode, args.join(' ')).to.equal(code)
      expect(r.stderr + r.stdout, args.join(' ')).to.match(message)
      expect(r.stderr, 'no stack trace').to.not.match(/\n\s+at /)
    }
  })
})
