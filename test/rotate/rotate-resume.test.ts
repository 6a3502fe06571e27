import {appendFileSync} from 'node:fs'

import {expect} from 'chai'

import type {FaultRequest} from '../fakes/faults.js'
import {start as startRailway, type RailwayFake} from '../fakes/railway.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {TempProject} from '../helpers/project.js'
import {at, HOUR, MINUTE, readFileOr, Rotation, T0} from './support.js'

/**
 * A rotation Railway missed (its upsert failing), then: the rerun after the grace ended, a rerun
 * with --force, pushes after the grace that are refused or cover only part of the environment,
 * and `rotate --finish` with a destination failing or holding a previous value the store lost.
 */

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets:
      docker: {}
      railway: {project: shop, services: {api: api}, deploy: true}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48", previous: JWT_SECRET_PREVIOUS, grace: 1h, rotate: 90d}
  DB_PASSWORD: {services: [api], generate: "alnum:32", rotate: 180d}
`

const long = (label: string) => `${canary(label)}${canary('Y').slice(2)}`
const railwayDown = {kind: 'status' as const, status: 500, body: '{"errors":[{"message":"down"}]}'}
const upserts = {match: (q: FaultRequest) => ((q.fields as string[] | undefined) ?? []).includes('variableCollectionUpsert')}

describe('rotate: resumed after a failure, and the previous value kept until no destination holds it', function () {
  this.timeout(120_000)

  let railway: RailwayFake
  let p: TempProject
  let r: Rotation
  let project: {id: string; environments: Record<string, string>; services: Record<string, string>}
  let old: {JWT_SECRET: string; DB_PASSWORD: string}

  const onRailway = () => railway.variables({projectId: project.id, environmentId: project.environments.production, serviceId: project.services.api})
  const docker = (key: string) => readFileOr(p.path(`secrets/production/${key}`))
  /** JWT_SECRET and its previous key on Docker and Railway. */
  const everywhere = () => ({docker: [docker('JWT_SECRET'), docker('JWT_SECRET_PREVIOUS')], railway: [onRailway().JWT_SECRET, onRailway().JWT_SECRET_PREVIOUS]})
  const same = (jwt: string | undefined, previous: string | undefined) => ({docker: [jwt, previous], railway: [jwt, previous]})

  beforeEach(async () => {
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api']})
    const token = railway.accountToken()
    p = new TempProject('envsync-rotate-resume-')
    p.write('envsync.yaml', MANIFEST)
    r = new Rotation(p, 'production', () => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined}))
    old = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB')}
    r.writeStore(old)
    await r.expect(0, T0, ['push', 'production', '--yes'])
  })

  afterEach(async () => {
    p.cleanup()
    await railway.stop()
  })

  /** The rotation at T0 that Railway misses: Docker has the new value and the old one, Railway only the old one. */
  async function rotateRailwayDown(): Promise<string> {
    railway.faults.always(railwayDown, upserts)
    await r.expect(1, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    railway.faults.clear()
    const fresh = r.store().JWT_SECRET
    expect(everywhere()).to.deep.equal({docker: [fresh, old.JWT_SECRET], railway: [old.JWT_SECRET, undefined]})
    return fresh
  }

  it('a rerun after the grace ended starts the grace again: Railway gets the new value with the previous one, for a full grace', async () => {
    const fresh = await rotateRailwayDown()
    const resumed = await r.expect(0, at(2 * HOUR), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(resumed.stdout).to.include('resumes its last rotation (no new value): railway shop/production service api')
    expect(resumed.stdout).to.include('its grace starts again: the old value stays as JWT_SECRET_PREVIOUS until 2027-03-01 15:00 UTC')
    expect(r.store()).to.deep.equal({...old, JWT_SECRET: fresh, JWT_SECRET_PREVIOUS: old.JWT_SECRET})
    expect(everywhere()).to.deep.equal(same(fresh, old.JWT_SECRET))
    // The new grace is in the history, with no value change; the old one's end is not what counts now.
    expect(r.storeWrites().filter((w) => w.startsWith('rotate'))).to.deep.equal(['rotate JWT_SECRET,JWT_SECRET_PREVIOUS until 2027-03-01T13:00:00.000Z', 'rotate JWT_SECRET until 2027-03-01T15:00:00.000Z'])
    await r.expect(2, at(2 * HOUR + 30 * MINUTE), ['rotate', 'production', '--finish', '--yes'])
    await r.expect(0, at(2 * HOUR + 30 * MINUTE), ['push', 'production', '--yes'])
    expect(everywhere()).to.deep.equal(same(fresh, old.JWT_SECRET))
    // After the new grace: finished everywhere.
    await r.expect(0, at(3 * HOUR + MINUTE), ['rotate', 'production', '--finish', '--yes'])
    expect(everywhere()).to.deep.equal(same(fresh, undefined))
    expect(r.store()).to.deep.equal({...old, JWT_SECRET: fresh})
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })

  it('a plain push after the grace, where a destination missed the rotation, warns (diff too): it switches that destination with no grace', async () => {
    await rotateRailwayDown()
    const expected = 'railway shop/production service api still holds JWT_SECRET from before its rotation on 2027-03-01 12:00 UTC: this push switches it with no grace'
    const resume = 'run `envsync rotate production JWT_SECRET` instead (it resumes the rotation with a fresh grace)'
    // In the grace, a push delivers the previous value too: nothing to warn of.
    const inGrace = await r.expect(0, at(30 * MINUTE), ['diff', 'production'])
    expect(inGrace.stdout).not.to.include('still holds JWT_SECRET')
    const diff = await r.expect(0, at(2 * HOUR), ['diff', 'production'])
    expect(diff.stdout).to.include(expected).and.include(resume)
    // Asked without a terminal: the plan, with the warning, is shown before the refusal.
    const refused = await r.expect(2, at(2 * HOUR), ['push', 'production'])
    expect(refused.stdout).to.include(expected).and.include(resume)
    const pushed = await r.expect(0, at(2 * HOUR), ['push', 'production', '--yes'])
    expect(pushed.stdout).to.include(expected)
    // Once every destination is up to date, nothing more to say.
    const after = await r.expect(0, at(2 * HOUR), ['diff', 'production'])
    expect(after.stdout).not.to.include('still holds JWT_SECRET')
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, r.store().JWT_SECRET], ...r.everything())
  })

  it('a push whose only work is a redeploy that did not finish asks about that redeploy, not "0 changes"', async () => {
    const railwayId = r.history().find((e) => e.destination?.startsWith('railway'))!.destination!
    appendFileSync(p.path('.envsync/history.jsonl'), JSON.stringify({time: at(MINUTE), environment: 'production', action: 'redeploy', destination: railwayId, status: 'failed', keys: ['JWT_SECRET']}) + '\n')
    const refused = await r.expect(2, at(2 * MINUTE), ['push', 'production'])
    expect(refused.stderr).to.include('Redeploy 1 destination (its last redeploy did not finish) in the protected environment "production" needs confirmation')
    expect(refused.stderr).not.to.include('Push 0 changes')
  })

  it('--force after an incomplete rotation resumes it (no second value), and the plan says so', async () => {
    const fresh = await rotateRailwayDown()
    const plan = await r.expect(0, at(5 * MINUTE), ['rotate', 'production', 'JWT_SECRET', '--yes', '--force', '--dry-run'])
    expect(plan.stdout).to.include('resumes its last rotation (no new value) (--force draws no new value while a rotation is incomplete')
    await r.expect(0, at(5 * MINUTE), ['rotate', 'production', 'JWT_SECRET', '--yes', '--force'])
    // The value Railway ran on is still the previous one everywhere: no one is logged out.
    expect(r.store()).to.deep.equal({...old, JWT_SECRET: fresh, JWT_SECRET_PREVIOUS: old.JWT_SECRET})
    expect(everywhere()).to.deep.equal(same(fresh, old.JWT_SECRET))
    // Once complete, --force rotates again in the grace (the one in place becomes the previous one).
    await r.expect(0, at(10 * MINUTE), ['rotate', 'production', 'JWT_SECRET', '--yes', '--force'])
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(fresh)
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh, r.store().JWT_SECRET], ...r.everything())
  })

  it('after the grace: a refused push writes nothing, a partial push keeps the previous value in the store, rotate --finish then removes it everywhere', async () => {
    await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    const fresh = r.store().JWT_SECRET
    const writes = r.storeWrites()
    // No --yes and no terminal: refused before anything is written, the store and its history included.
    const refused = await r.expect(2, at(2 * HOUR), ['push', 'production'])
    expect(refused.stderr).to.include('--yes')
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)
    expect(r.storeWrites()).to.deep.equal(writes)

    // One key: the previous value stays in the store and at every destination, and the note says so.
    const partial = await r.expect(0, at(2 * HOUR), ['push', 'production', '--only', 'DB_PASSWORD', '--yes'])
    expect(partial.stderr).to.include('this push covers only part of production: JWT_SECRET_PREVIOUS stays in the store')
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)
    expect(r.storeWrites()).to.deep.equal(writes)
    expect(everywhere()).to.deep.equal(same(fresh, old.JWT_SECRET))

    const finished = await r.expect(0, at(2 * HOUR), ['rotate', 'production', '--finish', '--yes'])
    expect(finished.stdout).to.include('JWT_SECRET_PREVIOUS is removed from every destination, then from the store')
    expect(everywhere()).to.deep.equal(same(fresh, undefined))
    expect(r.store()).to.deep.equal({...old, JWT_SECRET: fresh})
    expect(r.storeWrites().at(-1)).to.equal('finish -JWT_SECRET_PREVIOUS')
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })

  it('rotate --finish: destinations first, the store last (kept while one fails); a previous value left at a destination is found', async () => {
    await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    const fresh = r.store().JWT_SECRET
    railway.faults.always(railwayDown, {match: (q: FaultRequest) => q.write === true})
    const failed = await r.expect(1, at(2 * HOUR), ['rotate', 'production', '--finish', '--yes'])
    expect(failed.stdout).to.include('Still holding the previous value (the store keeps it until none does): railway shop/production service api')
    expect(failed.stdout).to.include('envsync rotate production --finish JWT_SECRET')
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)
    expect(onRailway().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)
    expect(r.storeWrites().filter((w) => w.startsWith('finish'))).to.deep.equal([])
    // A push after the grace that fails somewhere keeps it in the store too.
    const pushed = await r.expect(1, at(2 * HOUR), ['push', 'production', '--yes'])
    expect(pushed.stderr).to.include('JWT_SECRET_PREVIOUS stays in the store until every destination is brought up to date')
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(old.JWT_SECRET)

    // What an older envsync left: the store without the previous value and a finish in the history, Railway still holding it.
    railway.faults.clear()
    r.writeStore({...old, JWT_SECRET: fresh})
    appendFileSync(p.path('.envsync/history.jsonl'), JSON.stringify({time: at(2 * HOUR), user: 'old', environment: 'production', action: 'finish', keys: [], removed: ['JWT_SECRET_PREVIOUS']}) + '\n')
    const found = await r.expect(0, at(3 * HOUR), ['rotate', 'production', '--finish', '--yes'])
    expect(found.stdout).to.include('no grace runs: JWT_SECRET_PREVIOUS is removed from every destination')
    expect(onRailway()).to.not.have.property('JWT_SECRET_PREVIOUS')
    const twice = await r.expect(0, at(3 * HOUR), ['rotate', 'production', '--finish', '--yes'])
    expect(twice.stdout).to.include('no grace period of production to finish')
    assertNoLeak([old.JWT_SECRET, old.DB_PASSWORD, fresh], ...r.everything())
  })
})
