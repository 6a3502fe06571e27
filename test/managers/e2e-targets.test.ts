import {expect} from 'chai'

import {markerTags, type ManagerKind} from '../../src/targets/managers/backend.js'
import {canary} from '../helpers/canary.js'
import {expectNoViolations, KINDS, ManagerProject, manifestYaml, mark, usePlatforms, type Platform, type SecretEntry} from './support.js'

/**
 * "Done when", target role: a project whose values live in .env.staging pushes them into all four
 * secret managers at once, through bin/run.js against the loopback fakes. What a user notices:
 * the first push creates (marked as envsync's), a second one writes nothing, one changed value
 * is one new version per platform, a key taken out of the manifest is deleted where envsync owns
 * it while a secret some other tool put under the prefix stays (until --prune), and diff shows
 * the plan without a value.
 */

/** Where each platform's one-key secrets live (Vault told to use one secret per key too). */
const PREFIX: Record<ManagerKind, string> = {aws: 'shop/staging/', vault: 'shop/staging/', gcp: 'shop-staging-', azure: 'shop-staging-'}
const long = (label: string) => `${canary(label)}${canary('X').slice(2)}`

const SECRETS: Record<string, SecretEntry> = {
  JWT_SECRET: {services: ['api']},
  DB_PASSWORD: {services: ['api']},
  API_TOKEN: {services: ['api']},
  LOG_LEVEL: {services: ['api'], sensitive: false, default: 'info'},
}

describe('secret managers as push targets, end to end (bin/run.js)', function () {
  this.timeout(120_000)
  const running = usePlatforms(KINDS)
  const platforms = () => [...running.values()]
  let p: ManagerProject
  let values: Record<string, string>

  const targets = () => Object.fromEntries(platforms().map((pl) => [pl.kind, {...pl.options, prefix: PREFIX[pl.kind]}]))
  const manifest = (secrets = SECRETS) => p.writeManifest(manifestYaml({staging: {targets: targets()}}, secrets))
  const at = (pl: Platform, key: string) => pl.nameOf(PREFIX[pl.kind], key)

  beforeEach(function () {
    if (running.size === 0) this.skip()
    p = new ManagerProject(platforms)
    values = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB'), API_TOKEN: long('TOKEN')}
    p.canaries.push(...Object.values(values))
    manifest()
    p.writeValues('staging', values)
  })

  afterEach(function () {
    if (!p) return
    p.assertNoLeak()
    expectNoViolations(platforms())
    p.cleanup()
  })

  it('the first push creates every key in each manager with envsync\'s marker; a second push writes nothing anywhere', async () => {
    const r = await p.ok(['push', 'staging', '--yes'])
    expect(r.stdout).to.include(`${running.size} applied`)
    for (const pl of platforms()) {
      for (const [key, value] of Object.entries({...values, LOG_LEVEL: 'info'})) {
        expect(pl.value(at(pl, key)), `${pl.service} ${key}`).to.equal(value)
        expect(pl.versions(at(pl, key)), `${pl.service} ${key} versions`).to.equal(1)
        expect(pl.tags(at(pl, key)), `${pl.service} ${key} marker`).to.include({'managed-by': 'envsync', 'envsync-project': 'shop', 'envsync-environment': 'staging'})
      }
      expect(pl.names().filter((n) => n.startsWith(PREFIX[pl.kind])).sort()).to.deep.equal(Object.keys(SECRETS).map((k) => at(pl, k)).sort())
    }

    const since = mark(platforms())
    const again = await p.ok(['push', 'staging', '--yes'])
    expect(since(), 'write requests of the second push').to.deep.equal(Object.fromEntries(platforms().map((pl) => [pl.kind, 0])))
    expect(again.stdout).to.include(`${running.size} destinations, 0 changes`)
    for (const pl of platforms()) expect(pl.versions(at(pl, 'JWT_SECRET'))).to.equal(1)
  })

  it('one changed value is exactly one new version in each manager, the history kept', async () => {
    await p.ok(['push', 'staging', '--yes'])
    const before = values.DB_PASSWORD!
    const changed = long('DB2')
    p.canaries.push(changed)
    p.writeValues('staging', {DB_PASSWORD: changed})

    const since = mark(platforms())
    await p.ok(['push', 'staging', '--yes'])
    const writes = since()
    for (const pl of platforms()) {
      expect(pl.value(at(pl, 'DB_PASSWORD')), pl.service).to.equal(changed)
      expect(pl.versions(at(pl, 'DB_PASSWORD')), `${pl.service}: the old version is history`).to.equal(2)
      for (const key of ['JWT_SECRET', 'API_TOKEN', 'LOG_LEVEL']) expect(pl.versions(at(pl, key)), `${pl.service} ${key}`).to.equal(1)
      // One new version; Vault writes its marker beside it (custom_metadata), nothing else.
      expect(writes[pl.kind], `${pl.service} write requests`).to.be.within(1, pl.kind === 'vault' ? 2 : 1)
    }
    expect(before).to.not.equal(changed)
  })

  it('a key taken out of the manifest is deleted where envsync owns it; another tool\'s secret under the prefix stays until --prune', async () => {
    const theirs = long('THEIRS')
    p.canaries.push(theirs)
    for (const pl of platforms()) pl.seed(at(pl, 'LEGACY_TOKEN'), theirs)
    // envsync's marker, but another environment's: not this push's to delete either.
    for (const pl of platforms()) pl.seed(at(pl, 'OTHER_TOKEN'), theirs, markerTags({project: 'shop', environment: 'production'}))
    await p.ok(['push', 'staging', '--yes'])

    const {API_TOKEN: _gone, ...rest} = SECRETS
    manifest(rest)
    const plan = await p.ok(['diff', 'staging'])
    expect(plan.stdout).to.include('API_TOKEN')
    await p.ok(['push', 'staging', '--yes'])
    for (const pl of platforms()) {
      expect(pl.value(at(pl, 'API_TOKEN')), `${pl.service}: envsync's secret of a removed key`).to.equal(undefined)
      expect(pl.value(at(pl, 'LEGACY_TOKEN')), `${pl.service}: a secret envsync did not create`).to.equal(theirs)
      expect(pl.value(at(pl, 'OTHER_TOKEN')), `${pl.service}: another environment's secret`).to.equal(theirs)
      expect(pl.value(at(pl, 'JWT_SECRET'))).to.equal(values.JWT_SECRET)
    }

    const since = mark(platforms())
    await p.ok(['push', 'staging', '--yes'])
    expect(Object.values(since()), 'without --prune the unmanaged secret is no change').to.deep.equal(platforms().map(() => 0))

    await p.ok(['push', 'staging', '--yes', '--prune'])
    for (const pl of platforms()) {
      expect(pl.value(at(pl, 'LEGACY_TOKEN')), `${pl.service} after --prune`).to.equal(undefined)
      // Marked by envsync for another environment (a prefix that begins like this one's): never this push's.
      expect(pl.value(at(pl, 'OTHER_TOKEN')), `${pl.service}: another environment's secret after --prune`).to.equal(theirs)
      expect(pl.value(at(pl, 'JWT_SECRET'))).to.equal(values.JWT_SECRET)
    }
  })

  it("a JSON secret outside the prefix that another tool made keeps its tags and other fields when envsync writes its field", async () => {
    const group: Record<ManagerKind, string> = {aws: 'shared/redis', vault: 'shared/redis', gcp: 'shared-redis', azure: 'shared-redis'}
    const theirs = long('OTHERFIELD')
    p.canaries.push(theirs)
    // Vault's driver seeds {"value": text} only: the three whose secrets are one text.
    const texts = platforms().filter((pl) => pl.kind !== 'vault')
    for (const pl of texts) pl.seed(group[pl.kind], JSON.stringify({url: 'redis://old', other: theirs}), {owner: 'platform-team'})
    p.writeManifest(manifestYaml({staging: {targets: Object.fromEntries(texts.map((pl) => [pl.kind, {...pl.options, prefix: PREFIX[pl.kind], groups: {[group[pl.kind]]: {REDIS_URL: 'url'}}}]))}}, {...SECRETS, REDIS_URL: {services: ['api']}}))
    p.writeValues('staging', {REDIS_URL: 'redis://new'})
    await p.ok(['push', 'staging', '--yes'])
    for (const pl of texts) {
      expect(JSON.parse(pl.text(group[pl.kind])!), pl.service).to.deep.equal({url: 'redis://new', other: theirs})
      expect(pl.tags(group[pl.kind]), `${pl.service}: the owner's tags`).to.include({owner: 'platform-team'})
      expect(pl.tags(group[pl.kind]), `${pl.service}: not claimed by envsync's marker`).to.not.have.property('managed-by')
    }
  })

  it('{service} in some names of a target but not others is refused at load, naming the name', async () => {
    p.writeManifest(manifestYaml({staging: {targets: {vault: {address: 'http://127.0.0.1:1', prefix: 'shop/{service}/', groups: {'shop/redis': {REDIS_URL: 'url'}}}}}}, {...SECRETS, REDIS_URL: {services: ['api']}}, ['api', 'worker']))
    const r = await p.run(['diff', 'staging'])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('shop/redis').and.include('{service}')
  })

  it('diff shows the plan per manager with every value masked, and changes nothing', async () => {
    await p.ok(['push', 'staging', '--yes'])
    const changed = long('NEW')
    p.canaries.push(changed)
    p.writeValues('staging', {JWT_SECRET: changed})
    const since = mark(platforms())
    const r = await p.ok(['diff', 'staging'])
    for (const pl of platforms()) expect(r.stdout).to.include(pl.service)
    expect(r.stdout).to.match(/~ JWT_SECRET/)
    expect(r.stdout).to.not.include('DB_PASSWORD  local')
    expect(Object.values(since())).to.deep.equal(platforms().map(() => 0))
    for (const pl of platforms()) expect(pl.value(at(pl, 'JWT_SECRET'))).to.equal(values.JWT_SECRET)
    // The leak check in afterEach covers the masked values (old and new).
  })
})
