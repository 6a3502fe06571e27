import {spawnSync} from 'node:child_process'
import {createHmac, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {manifest, railwayShop} from './support.js'

/**
 * Issue 10 item 2: what an older envsync kept in .envsync/ (ownership.json, audit.log, key, all
 * git-ignored) is read and moved to the committed layout (ownership.tsv, history.jsonl, and the
 * key in git-ignored local/) on the next push, nothing lost: the keys it owned are still removed
 * when dropped, a sealed value it fingerprinted is still known to be in sync.
 */

describe('state written by an older envsync', function () {
  this.timeout(60_000)
  const shop = railwayShop('envsync-migrate-')

  /**
   * .envsync/ as the previous version left it after pushing these keys to Railway api (a key
   * file, ownership.json with their fingerprints, one audit.log line), and a manifest and
   * values file with DB_PASSWORD and JWT_SECRET.
   */
  const oldLayout = (values: Record<string, string>) => {
    const {p} = shop
    const key = randomBytes(32)
    const fp = (v: string) => createHmac('sha256', key).update(v).digest('base64url').slice(0, 10)
    const keys = Object.keys(values)
    const old = {version: 1, destinations: {'railway:shop/production/api': {keys, pushed: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fp(v)]))}}}
    const oldAudit = JSON.stringify({time: '2026-01-01T00:00:00.000Z', user: 'ada', environment: 'production', destination: 'railway:shop/production/api', status: 'applied', added: keys, updated: [], removed: []})
    mkdirSync(p.path('.envsync'), {mode: 0o700})
    writeFileSync(p.path('.envsync/key'), key, {mode: 0o600})
    writeFileSync(p.path('.envsync/ownership.json'), JSON.stringify(old, null, 2) + '\n')
    writeFileSync(p.path('.envsync/audit.log'), oldAudit + '\n')
    p.write('envsync.yaml', manifest(['DB_PASSWORD', 'JWT_SECRET']))
    p.write('.env.production', `DB_PASSWORD=${values.DB_PASSWORD}\nJWT_SECRET=${values.JWT_SECRET}\n`)
    return {key, fp, oldAudit}
  }

  it('ownership.json, audit.log and key are moved to ownership.tsv, history.jsonl and local/key on the next push: a dropped key is removed, the sealed value is not rewritten', async () => {
    const {railway, p, run} = shop
    const scope = shop.scope()
    const values = {DB_PASSWORD: canary('DB'), JWT_SECRET: canary('JWT'), OLD_TOKEN: canary('OLD')}
    railway.setVariables(scope, {JWT_SECRET: values.JWT_SECRET, OLD_TOKEN: values.OLD_TOKEN})
    railway.setVariables(scope, {DB_PASSWORD: values.DB_PASSWORD}, {sealed: true})

    // As the previous version left it after pushing all three.
    const {key, fp, oldAudit} = oldLayout(values)
    const d = await run('diff', 'production', '--json')
    const actions = Object.fromEntries(JSON.parse(d.stdout).result.destinations[0].keys.map((k: {key: string; action: string}) => [k.key, k.action]))
    expect(actions).to.deep.equal({DB_PASSWORD: 'unchanged', JWT_SECRET: 'unchanged', OLD_TOKEN: 'remove'})
    railway.clearLog()
    const r = await run('push', 'production', '--yes')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(railway.variables(scope)).to.deep.equal({DB_PASSWORD: values.DB_PASSWORD, JWT_SECRET: values.JWT_SECRET})
    expect(JSON.stringify(railway.requests.filter((q) => q.operationType === 'mutation').map((q) => q.variables))).to.not.include('DB_PASSWORD')

    // Moved, nothing lost.
    for (const f of ['ownership.json', 'audit.log', 'key']) expect(existsSync(p.path(`.envsync/${f}`)), f).to.equal(false)
    expect(readFileSync(p.path('.envsync/local/key')).equals(key)).to.equal(true)
    expect(shop.records()).to.deep.equal({'railway:shop/production/api': {keys: ['DB_PASSWORD', 'JWT_SECRET'], pushed: {DB_PASSWORD: fp(values.DB_PASSWORD), JWT_SECRET: fp(values.JWT_SECRET)}}})
    const history = readFileSync(p.path('.envsync/history.jsonl'), 'utf8').trim().split('\n')
    expect(history[0]).to.equal(oldAudit)
    expect(JSON.parse(history[1])).to.include({destination: 'railway:shop/production/api', status: 'applied'})
    expect(JSON.parse(history[1]).removed).to.deep.equal(['OLD_TOKEN'])
    expect(readFileSync(p.path('.envsync/.gitignore'), 'utf8').split('\n')).to.include.members(['local/', 'key'])
    assertNoLeak(Object.values(values), d.stdout, d.stderr, r.stdout, r.stderr, ...p.syncRecords())
  })

  it('a push with nothing to change moves them too (diff never does), and says to commit .envsync/', async () => {
    const {railway, p, run} = shop
    const scope = shop.scope()
    const values = {DB_PASSWORD: canary('DB'), JWT_SECRET: canary('JWT')}
    railway.setVariables(scope, {JWT_SECRET: values.JWT_SECRET})
    railway.setVariables(scope, {DB_PASSWORD: values.DB_PASSWORD}, {sealed: true})
    const git = (...args: string[]) => spawnSync('git', ['-C', p.dir, ...args], {encoding: 'utf8', env: {...process.env, GIT_CONFIG_NOSYSTEM: '1'}})
    git('init', '-q')
    p.write('.gitignore', '.env.*\n')
    const {key, fp, oldAudit} = oldLayout(values)

    const d = await run('diff', 'production')
    expect(d.exitCode, d.stdout + d.stderr).to.equal(0)
    expect(existsSync(p.path('.envsync/ownership.json')), 'diff never writes').to.equal(true)
    expect(existsSync(p.path('.envsync/audit.log'))).to.equal(true)
    railway.clearLog()
    const r = await run('push', 'production', '--yes')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(railway.requests.filter((q) => q.operationType === 'mutation'), 'nothing to change').to.deep.equal([])
    for (const f of ['ownership.json', 'audit.log', 'key']) expect(existsSync(p.path(`.envsync/${f}`)), f).to.equal(false)
    expect(readFileSync(p.path('.envsync/local/key')).equals(key)).to.equal(true)
    expect(shop.records()).to.deep.equal({'railway:shop/production/api': {keys: ['DB_PASSWORD', 'JWT_SECRET'], pushed: {DB_PASSWORD: fp(values.DB_PASSWORD), JWT_SECRET: fp(values.JWT_SECRET)}}})
    expect(readFileSync(p.path('.envsync/history.jsonl'), 'utf8')).to.equal(oldAudit + '\n')
    expect(r.stdout).to.include('.envsync/ changed: commit it so teammates and CI see what envsync owns')
    // Moved once: the next push has nothing to move and nothing to say about it.
    const again = await run('push', 'production', '--yes', '--json')
    expect(again.exitCode, again.stdout + again.stderr).to.equal(0)
    git('add', '.')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'moved')
    const third = await run('push', 'production', '--yes')
    expect(third.stdout).to.not.include('.envsync/ changed')
    expect(git('ls-files', '.envsync').stdout.trim().split('\n').sort()).to.deep.equal(['.envsync/.gitattributes', '.envsync/.gitignore', '.envsync/history.jsonl', '.envsync/ownership.tsv'])
    assertNoLeak(Object.values(values), d.stdout, d.stderr, r.stdout, r.stderr, again.stdout, again.stderr, third.stdout, third.stderr, ...p.syncRecords())
  })
})
