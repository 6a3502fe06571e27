import {expect} from 'chai'
import {stringify} from 'yaml'

import type {ManagerKind} from '../../src/targets/managers/backend.js'
import type {ValuesFile} from '../../src/values/store.js'
import {awsError, startAws} from '../fakes/aws.js'
import {startAzure} from '../fakes/azure.js'
import {PROJECT_ID, startGcp} from '../fakes/gcp.js'
import {startVault} from '../fakes/vault.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {TempProject} from '../helpers/project.js'
import {EnvChanges} from './backend-support.js'

/**
 * A secret manager as the store keeps what rotation needs in the platform itself (issue 12):
 * the date each one-key secret's value was written (the version's own date, read with the value:
 * no request more, except GCP's one per rotated key), and during a grace period the previous
 * key's value is the version before the current one (AWSPREVIOUS, Vault, GCP and Azure
 * versions), never a secret of its own. Through readStore/writeStore, with each platform's real
 * client against its loopback fake.
 */

// envsync's modules through import(), as the store loads its platform's adapter: one instance of
// each (mocha loads this file as CommonJS, and a second Secret class would fail instanceof).
const {readStore, writeStore} = await import('../../src/values/store.js')
const {loadManifest} = await import('../../src/manifest/load.js')
const {EnvsyncError} = await import('../../src/errors.js')

const KINDS: ManagerKind[] = ['aws', 'vault', 'gcp', 'azure']
const PREFIX: Record<ManagerKind, string> = {aws: 'shop/prod/', vault: 'shop/prod/', gcp: 'shop-prod-', azure: 'shop-prod-'}
const KEBAB: Record<ManagerKind, boolean> = {aws: true, vault: false, gcp: false, azure: true}
const HOUR = 3_600_000
/** Requests a read in grace costs more than one after it: the previous version of a one-key secret, and of a JSON secret's field after another field's write. */
const PREVIOUS_COST: Record<ManagerKind, {single: number; json: number}> = {
  aws: {single: 1, json: 4}, // AWSPREVIOUS; then ListSecretVersionIds (3 versions: 2 pages of the fake's 2) and the version before
  vault: {single: 1, json: 2}, // ?version=N-1, N-2
  gcp: {single: 1, json: 2}, // versions/N-1, N-2
  azure: {single: 3, json: 4}, // the versions list (3 versions: 2 pages of the fake's 2), then one GET per version
}
/** Small bounds: a retry costs milliseconds. */
const FAST = {ENVSYNC_HTTP_TIMEOUT_MS: '3000', ENVSYNC_HTTP_BACKOFF_MS: '5'}
const CREDENTIALS = ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'VAULT_ADDR', 'VAULT_NAMESPACE', 'GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_TOKEN_CREDENTIALS', 'AZURE_USERNAME', 'MSI_ENDPOINT', 'IDENTITY_SERVER_THUMBPRINT', 'IMDS_ENDPOINT', 'ENVSYNC_NOW']

/** One fake behind what these tests need of it. */
interface Driver {
  options: Record<string, unknown>
  env: Record<string, string>
  /** As another tool would write it: one version per text (Vault: {"value": text}), no request. */
  seed(name: string, texts: string[]): void
  /** A JSON secret's versions, as another tool would write them. */
  seedJson(name: string, objects: Record<string, string>[]): void
  /** The current value of a one-key secret (Vault: its "value" field). */
  value(name: string): string | undefined
  /** A JSON secret's current fields. */
  fields(name: string): Record<string, string> | undefined
  versions(name: string): number
  /** When the platform says the current version was written. */
  created(name: string): Date | undefined
  names(): string[]
  requests(): number
  /** Every read of an older version refused from now on (the current one still served). */
  refuseOlder(): void
  /** Version `n` (1 the first) made unreadable as after a leak: GCP destroyed, Vault deleted, Azure disabled; AWS has no such thing (undefined). */
  withdraw?: (name: string, n: number) => void
  violations(): unknown[]
  close(): Promise<void>
}

async function startDriver(kind: ManagerKind): Promise<Driver> {
  const json = (texts: Record<string, string>[]) => texts.map((o) => JSON.stringify(o))
  if (kind === 'aws') {
    const f = await startAws({pageSize: 2})
    return {
      options: {region: f.region},
      env: f.env,
      seed: (name, texts) => texts.forEach((t) => f.seed(name, t)),
      seedJson: (name, objects) => json(objects).forEach((t) => f.seed(name, t)),
      value: (name) => f.value(name),
      fields: (name) => (f.value(name) === undefined ? undefined : JSON.parse(f.value(name)!)),
      versions: (name) => f.versions(name).length,
      created: (name) => f.versions(name).find((v) => v.stages.includes('AWSCURRENT'))?.created,
      names: () => f.names(),
      requests: () => f.requests,
      refuseOlder: () => f.faults.always(awsError(400, 'AccessDeniedException', 'User is not authorized to perform this action'), {match: {operation: ['GetSecretValue', 'ListSecretVersionIds']}}),
      violations: () => f.violations,
      close: () => f.close(),
    }
  }
  if (kind === 'vault') {
    const f = await startVault()
    return {
      options: {address: f.url},
      env: {VAULT_TOKEN: f.token},
      seed: (name, texts) => texts.forEach((t) => f.put(name, {value: t})),
      seedJson: (name, objects) => objects.forEach((o) => f.put(name, o)),
      value: (name) => f.value(name)?.value as string | undefined,
      fields: (name) => f.value(name) as Record<string, string> | undefined,
      versions: (name) => f.versionCount(name),
      created: (name) => {
        const s = f.secret(name)
        const v = s?.versions.get(s.current_version)
        return v ? new Date(v.created_time) : undefined
      },
      names: () => f.names(),
      requests: () => f.requests,
      refuseOlder: () => f.faults.always({kind: 'status', status: 403, body: JSON.stringify({errors: ['1 error occurred:\n\t* permission denied\n\n']})}, {match: (r) => r.operation === 'kv-v2-read' && r.version !== undefined}),
      withdraw: (name, n) => void (f.secret(name)!.versions.get(n)!.deletion_time = new Date(Date.now() - 1000).toISOString()),
      violations: () => f.violations,
      close: () => f.close(),
    }
  }
  if (kind === 'gcp') {
    const f = await startGcp({pageSize: 3})
    const latest = (name: string) => f.secret(name)?.versions.filter((v) => v.state === 'ENABLED').at(-1)
    return {
      options: {project: PROJECT_ID},
      env: f.env,
      // The fake seeds a secret with all its versions at once.
      seed: (name, texts) => f.seed(name, texts),
      seedJson: (name, objects) => f.seed(name, json(objects)),
      value: (name) => latest(name)?.data.toString('utf8'),
      fields: (name) => (latest(name) ? JSON.parse(latest(name)!.data.toString('utf8')) : undefined),
      versions: (name) => f.secret(name)?.versions.length ?? 0,
      created: (name) => (latest(name) ? new Date(latest(name)!.createTime) : undefined),
      names: () => [...f.secrets.keys()],
      requests: () => f.requests,
      refuseOlder: () =>
        f.faults.always({kind: 'status', status: 403, body: JSON.stringify({error: {code: 403, message: 'Permission denied on resource', status: 'PERMISSION_DENIED'}})}, {match: (r) => /\/versions\/\d+:access$/.test(r.path)}),
      withdraw: (name, n) => f.setVersionState(name, n, 'DESTROYED'),
      violations: () => f.violations,
      close: () => f.close(),
    }
  }
  const f = await startAzure({pageSize: 2})
  return {
    options: {vault: f.url},
    env: f.env,
    seed: (name, texts) => texts.forEach((t) => f.put(name, t)),
    seedJson: (name, objects) => json(objects).forEach((t) => f.put(name, t)),
    value: (name) => f.value(name),
    fields: (name) => (f.value(name) === undefined ? undefined : JSON.parse(f.value(name)!)),
    versions: (name) => f.versions(name).length,
    created: (name) => f.createdOn(name),
    names: () => f.names(),
    requests: () => f.requests,
    refuseOlder: () => f.faults.always({kind: 'status', status: 403, body: JSON.stringify({error: {code: 'Forbidden', message: 'The user does not have secrets list permission'}})}, {match: {operation: 'GetSecretVersions'}}),
    withdraw: (name, n) => f.disable(name, n),
    violations: () => f.violations,
    close: () => f.close(),
  }
}

const secrets = (rotate: boolean) => ({
  JWT_SECRET: {services: ['api'], ...(rotate ? {rotate: '90d'} : {}), previous: 'JWT_SECRET_PREVIOUS', grace: '1h'},
  API_KEY: {services: ['api'], ...(rotate ? {rotate: '30d'} : {})},
  LOG_LEVEL: {services: ['api'], sensitive: false},
})

for (const kind of KINDS) {
  describe(`${kind} as the store: version dates and previous values`, function () {
    this.timeout(60_000)
    const env = new EnvChanges()
    let d: Driver
    let p: TempProject
    let canaries: string[]
    const errors: string[] = []
    const name = (key: string) => PREFIX[kind] + (KEBAB[kind] ? key.toLowerCase().replaceAll('_', '-') : key)
    const group = `${PREFIX[kind]}auth`
    const value = (label: string) => {
      const v = canary(label)
      canaries.push(v)
      return v
    }

    const writeManifest = (store: Record<string, unknown>, rotate = true) =>
      p.write('envsync.yaml', stringify({version: 1, project: 'shop', services: {api: {}}, environments: {prod: {protected: false, store: {[kind]: {...d.options, prefix: PREFIX[kind], ...store}}}}, secrets: secrets(rotate)}))
    const read = () => readStore(loadManifest(p.manifest), 'prod')
    const plain = (store: ValuesFile) => Object.fromEntries([...store.values].map(([k, v]) => [k, v.reveal()]))
    const rotate = (store: ValuesFile, now: string, old: string, graceUntil = new Date(Date.now() + HOUR).toISOString()) =>
      writeStore(store, new Map([['JWT_SECRET', now], ['JWT_SECRET_PREVIOUS', old]]), {action: 'rotate', graceUntil})

    beforeEach(async () => {
      d = await startDriver(kind)
      p = new TempProject('envsync-versions-')
      canaries = []
      env.set({...Object.fromEntries(CREDENTIALS.map((k) => [k, undefined])), AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', ...FAST, ...d.env})
    })

    afterEach(async function () {
      env.restore()
      const violations = d.violations()
      await d.close()
      if (this.currentTest?.state === 'passed') {
        expect(violations, 'requests the platform contract rejects').to.deep.equal([])
        assertNoLeak(canaries, ...errors, ...p.syncRecords())
      }
      errors.length = 0
      p.cleanup()
    })

    it('reads when each rotated one-key value was written, from the platform, at no request more (GCP: one per rotated key)', async () => {
      d.seed(name('JWT_SECRET'), [value('JWT0'), value('JWT1')])
      d.seed(name('API_KEY'), [value('API')])
      d.seed(name('LOG_LEVEL'), ['info'])
      writeManifest({}, false)
      let before = d.requests()
      const undated = await read()
      const plainCost = d.requests() - before
      expect(undated.changed, 'no rotation period, no date asked').to.equal(undefined)

      writeManifest({})
      before = d.requests()
      const store = await read()
      const cost = d.requests() - before
      expect(cost - plainCost, 'requests for the dates').to.equal(kind === 'gcp' ? 2 : 0)
      const changed = store.changed!
      expect([...changed.keys()].sort()).to.deep.equal(['API_KEY', 'JWT_SECRET'])
      for (const key of ['JWT_SECRET', 'API_KEY']) {
        // AWS sends epoch seconds with a fraction: equal to the millisecond.
        expect(Math.abs(changed.get(key)!.getTime() - d.created(name(key))!.getTime()), `${key}'s date`).to.be.below(2)
      }
    })

    it('during a grace, the previous key is the version before the current one; the rotation writes only the rotated key', async () => {
      const [older, old, fresh] = [value('OLDER'), value('OLD'), value('NEW')]
      d.seed(name('JWT_SECRET'), [older, old])
      d.seed(name('API_KEY'), [value('API')])
      writeManifest({})
      const store = await read()
      expect(store.values.has('JWT_SECRET_PREVIOUS'), 'no grace yet').to.equal(false)

      await rotate(store, fresh, old)
      expect(d.names(), 'no secret of its own for the previous key').to.not.include(name('JWT_SECRET_PREVIOUS'))
      expect(d.versions(name('JWT_SECRET'))).to.equal(3)
      expect(d.value(name('JWT_SECRET')) === fresh).to.equal(true)
      expect(store.values.get('JWT_SECRET_PREVIOUS')?.reveal() === old, 'the store as written').to.equal(true)

      let before = d.requests()
      const again = plain(await read())
      const inGrace = d.requests() - before
      expect(again.JWT_SECRET === fresh && again.JWT_SECRET_PREVIOUS === old, 'read back in grace').to.equal(true)

      // After the grace: no previous value, though the version is still on the platform.
      env.set({ENVSYNC_NOW: new Date(Date.now() + 2 * HOUR).toISOString()})
      before = d.requests()
      expect((await read()).values.has('JWT_SECRET_PREVIOUS')).to.equal(false)
      expect(inGrace - (d.requests() - before), 'requests for the previous value').to.equal(PREVIOUS_COST[kind].single)
    })

    it('a finish (the previous key removed) sends nothing to the platform and ends the grace', async () => {
      const [old, fresh] = [value('OLD'), value('NEW')]
      d.seed(name('JWT_SECRET'), [old])
      writeManifest({})
      await rotate(await read(), fresh, old)
      const store = await read()
      expect(store.values.get('JWT_SECRET_PREVIOUS')?.reveal() === old).to.equal(true)
      const before = d.requests()
      await writeStore(store, new Map([['JWT_SECRET_PREVIOUS', null]]), {action: 'finish'})
      expect(d.requests() - before, 'requests for removing the previous key').to.equal(0)
      expect(store.values.has('JWT_SECRET_PREVIOUS')).to.equal(false)
      expect(d.versions(name('JWT_SECRET'))).to.equal(2)
      expect((await read()).values.has('JWT_SECRET_PREVIOUS'), 'grace ended by the finish').to.equal(false)
    })

    it('in a JSON group, the previous value survives another key\'s write during the grace; grouped keys carry no date', async () => {
      const [j0, j1, a0, a1] = [value('J0'), value('J1'), value('A0'), value('A1')]
      d.seedJson(group, [{jwt: j0, api: a0}])
      writeManifest({groups: {[group]: {JWT_SECRET: 'jwt', API_KEY: 'api'}}})
      await rotate(await read(), j1, j0)
      // Another key's write: a new version of the same secret, with the rotated field unchanged.
      await writeStore(await read(), new Map([['API_KEY', a1]]), {action: 'set'})
      expect(d.versions(group)).to.equal(3)
      expect(Object.keys(d.fields(group)!).sort(), 'the previous key is no field of its own').to.deep.equal(['api', 'jwt'])
      expect(d.names(), 'nor a secret of its own').to.not.include(name('JWT_SECRET_PREVIOUS'))

      let before = d.requests()
      const store = await read()
      const inGrace = d.requests() - before
      const values = plain(store)
      expect(values.JWT_SECRET === j1 && values.API_KEY === a1 && values.JWT_SECRET_PREVIOUS === j0, 'values in grace').to.equal(true)
      env.set({ENVSYNC_NOW: new Date(Date.now() + 2 * HOUR).toISOString()})
      before = d.requests()
      expect((await read()).values.has('JWT_SECRET_PREVIOUS')).to.equal(false)
      expect(inGrace - (d.requests() - before), 'requests for the previous value').to.equal(PREVIOUS_COST[kind].json)
      expect(store.changed?.has('JWT_SECRET') ?? false, 'a field has no date of its own').to.equal(false)
      expect(store.changed?.has('API_KEY') ?? false).to.equal(false)
    })

    it('a key that did not exist before its rotation has no previous value', async () => {
      const fresh = value('NEW')
      d.seed(name('API_KEY'), [value('API')])
      writeManifest({})
      await rotate(await read(), fresh, '')
      const store = await read()
      expect(store.values.get('JWT_SECRET')?.reveal() === fresh).to.equal(true)
      expect(store.values.has('JWT_SECRET_PREVIOUS')).to.equal(false)
    })

    if (kind !== 'aws') {
      it('the version the rotation replaced, withdrawn after a leak, leaves no previous value: an older one never stands in', async () => {
        const [ancient, old, fresh] = [value('ANCIENT'), value('OLD'), value('NEW')]
        d.seed(name('JWT_SECRET'), [ancient, old])
        writeManifest({})
        await rotate(await read(), fresh, old)
        expect((await read()).values.get('JWT_SECRET_PREVIOUS')?.reveal() === old, 'before the withdrawal').to.equal(true)
        d.withdraw!(name('JWT_SECRET'), 2)
        const store = await read()
        expect(store.values.get('JWT_SECRET')?.reveal() === fresh).to.equal(true)
        expect(store.values.has('JWT_SECRET_PREVIOUS'), 'no previous value').to.equal(false)
      })

      it('in a JSON group, a withdrawn version ends the walk for the previous value', async () => {
        const [jz, j0, j1, a0, a1] = [value('JZ'), value('J0'), value('J1'), value('A0'), value('A1')]
        d.seedJson(group, [{jwt: jz, api: a0}, {jwt: j0, api: a0}])
        writeManifest({groups: {[group]: {JWT_SECRET: 'jwt', API_KEY: 'api'}}})
        await rotate(await read(), j1, j0)
        await writeStore(await read(), new Map([['API_KEY', a1]]), {action: 'set'})
        // 4 versions: 3 and 4 hold the new jwt, 2 the one it replaced (withdrawn), 1 an even older one.
        d.withdraw!(group, 2)
        const store = await read()
        expect(store.values.get('API_KEY')?.reveal() === a1).to.equal(true)
        expect(store.values.has('JWT_SECRET_PREVIOUS'), 'no previous value past a withdrawn version').to.equal(false)
      })
    }

    it('a refused read of the older version is a clear error naming the secret, no value in it', async () => {
      const [old, fresh] = [value('OLD'), value('NEW')]
      d.seed(name('JWT_SECRET'), [old])
      writeManifest({})
      await rotate(await read(), fresh, old)
      d.refuseOlder()
      const error = await read().then(
        () => expect.fail('read in grace with older versions refused'),
        (e: unknown) => e,
      )
      expect(error).to.be.instanceOf(EnvsyncError)
      const e = error as InstanceType<typeof EnvsyncError>
      errors.push(e.message, e.suggestion ?? '', String(e.stack))
      expect(e.message).to.include(name('JWT_SECRET'))
      expect(e.exitCode).to.not.equal(0)
    })
  })
}

