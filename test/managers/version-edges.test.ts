import {setTimeout as sleep} from 'node:timers/promises'

import {expect} from 'chai'
import {stringify} from 'yaml'

import {startAws} from '../fakes/aws.js'
import {startAzure} from '../fakes/azure.js'
import {startVault} from '../fakes/vault.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {TempProject} from '../helpers/project.js'
import {EnvChanges} from './backend-support.js'

/**
 * Version histories as the platforms keep them beyond the common case (issue 12): Vault's
 * delete_version_after (a future deletion_time on every live version), a rotation Lambda's
 * AWSPENDING version (newer than the current one), and an Azure secret with many versions (the
 * look for the previous one is bounded). Through readStore/writeStore, against the loopback fakes.
 */

const {readStore, writeStore} = await import('../../src/values/store.js')
const {loadManifest} = await import('../../src/manifest/load.js')

const HOUR = 3_600_000
const FAST = {ENVSYNC_HTTP_TIMEOUT_MS: '3000', ENVSYNC_HTTP_BACKOFF_MS: '5'}
const CREDENTIALS = ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'VAULT_ADDR', 'VAULT_NAMESPACE', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'ENVSYNC_NOW']
const secrets = {JWT_SECRET: {services: ['api'], previous: 'JWT_SECRET_PREVIOUS', grace: '1h'}}

describe('secret manager versions: edge cases of the platforms', function () {
  this.timeout(120_000)
  const env = new EnvChanges()
  let p: TempProject
  let canaries: string[]
  const value = (label: string) => {
    const v = canary(label)
    canaries.push(v)
    return v
  }
  const manifest = (kind: string, options: Record<string, unknown>, prefix: string) =>
    p.write('envsync.yaml', stringify({version: 1, project: 'shop', services: {api: {}}, environments: {prod: {protected: false, store: {[kind]: {...options, prefix}}}}, secrets}))
  const read = () => readStore(loadManifest(p.manifest), 'prod')
  const rotate = async (fresh: string, old: string) =>
    writeStore(await read(), new Map([['JWT_SECRET', fresh], ['JWT_SECRET_PREVIOUS', old]]), {action: 'rotate', graceUntil: new Date(Date.now() + HOUR).toISOString()})

  beforeEach(() => {
    p = new TempProject('envsync-version-edges-')
    canaries = []
    env.set({...Object.fromEntries(CREDENTIALS.map((k) => [k, undefined])), AWS_EC2_METADATA_DISABLED: 'true', ...FAST})
  })
  afterEach(function () {
    env.restore()
    if (this.currentTest?.state === 'passed') assertNoLeak(canaries, ...p.syncRecords())
    p.cleanup()
  })

  it('Vault with delete_version_after: live versions (a future deletion_time) are read, listed as ours and give the previous value', async () => {
    const f = await startVault({deleteVersionAfterMs: 30 * 24 * HOUR})
    env.set({VAULT_TOKEN: f.token})
    try {
      const [old, fresh] = [value('OLD'), value('NEW')]
      f.put('shop/prod/JWT_SECRET', {value: old}, {'managed-by': 'envsync', 'envsync-project': 'shop', 'envsync-environment': 'prod'})
      manifest('vault', {address: f.url}, 'shop/prod/')
      expect((await read()).values.get('JWT_SECRET')?.reveal() === old, 'the live value is read').to.equal(true)
      await rotate(fresh, old)
      expect(f.versionCount('shop/prod/JWT_SECRET'), 'one new version on top, not a second secret').to.equal(2)
      const store = await read()
      expect(store.values.get('JWT_SECRET')?.reveal() === fresh && store.values.get('JWT_SECRET_PREVIOUS')?.reveal() === old, 'current and previous').to.equal(true)
      expect(store.remote!.live.owned?.has('JWT_SECRET'), 'listed with its marker').to.equal(true)
      expect(f.violations).to.deep.equal([])
    } finally {
      await f.close()
    }
  })

  it('Vault with delete_version_after: a version whose deletion_time has passed is deleted', async () => {
    const f = await startVault({deleteVersionAfterMs: 300})
    env.set({VAULT_TOKEN: f.token})
    try {
      f.put('shop/prod/JWT_SECRET', {value: value('GONE')})
      manifest('vault', {address: f.url}, 'shop/prod/')
      await sleep(400)
      expect((await read()).values.has('JWT_SECRET')).to.equal(false)
    } finally {
      await f.close()
    }
  })

  it('AWS: a version staged AWSPENDING (newer than AWSCURRENT) is never the previous value', async () => {
    const f = await startAws({})
    env.set(f.env)
    try {
      const [old, fresh, pending] = [value('OLD'), value('NEW'), value('PENDING')]
      const name = 'shop/prod/jwt-secret'
      f.seed(name, old)
      manifest('aws', {region: f.region}, 'shop/prod/')
      await rotate(fresh, old)
      // Another tool puts the same value again (AWSPREVIOUS == AWSCURRENT), then a rotation
      // Lambda's createSecret stages a newer version AWSPENDING only.
      f.seed(name, fresh)
      f.seed(name, pending)
      const vs = f.versions(name)
      const n = vs.length
      vs[n - 1].stages = ['AWSPENDING']
      vs[n - 2].stages = ['AWSCURRENT']
      vs[n - 3].stages = ['AWSPREVIOUS']
      const store = await read()
      expect(store.values.get('JWT_SECRET')?.reveal() === fresh, 'current').to.equal(true)
      expect(store.values.get('JWT_SECRET_PREVIOUS')?.reveal() === old, 'previous: the value before, not the pending one').to.equal(true)
    } finally {
      await f.close()
    }
  })

  it('Azure: with fewer versions than the bound (60), the previous value is found', async () => {
    const f = await startAzure({})
    env.set(f.env)
    try {
      for (let i = 0; i < 60; i++) f.put('shop-prod-jwt-secret', `v${i}`)
      manifest('azure', {vault: f.url}, 'shop-prod-')
      await rotate(value('NEW'), 'v59')
      const store = await read()
      expect(store.values.get('JWT_SECRET_PREVIOUS')?.reveal()).to.equal('v59')
      expect(store.remote!.notes).to.deep.equal([])
    } finally {
      await f.close()
    }
  })

  it('Azure: the look for the previous version looks through 4 pages of versions (a fifth read shows more); past them, no previous value and a note', async () => {
    const f = await startAzure({})
    env.set(f.env)
    try {
      const name = 'shop-prod-jwt-secret'
      for (let i = 0; i < 2000; i++) f.put(name, `v${i}`)
      manifest('azure', {vault: f.url}, 'shop-prod-')
      await rotate(value('NEW'), 'v1999')
      let before = f.requests
      const store = await read()
      const inGrace = f.requests - before
      env.set({ENVSYNC_NOW: new Date(Date.now() + 2 * HOUR).toISOString()})
      before = f.requests
      await read()
      expect(inGrace - (f.requests - before), 'requests for the previous value').to.equal(5)
      expect(store.values.has('JWT_SECRET_PREVIOUS')).to.equal(false)
      expect(store.remote!.notes, 'the note').to.deep.equal([`Azure Key Vault: ${name} has more versions than envsync looks through (4 pages) for the one before the current, so it gives no previous value`])
    } finally {
      await f.close()
    }
  })
})
