import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {TempProject} from '../helpers/project.js'
import {at, DAY, HOUR, Rotation, T0} from './support.js'

/**
 * Which keys rotate and how (Docker only: the platforms are the other file's): --due by a fake
 * clock, typed values for provider-issued keys, the refusals, --dry-run and --force.
 */

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production:
    protected: true
    targets: {docker: {}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48", previous: JWT_SECRET_PREVIOUS, grace: 1h, rotate: 90d}
  DB_PASSWORD: {services: [api], generate: "alnum:32", rotate: 180d}
  STRIPE_SECRET_KEY: {services: [api], rotate: 30d, minLength: 20}
  SMTP_PASSWORD: {services: [api], rotate: 1y}
  LOG_LEVEL: {services: [api], sensitive: false, default: info}
`

const long = (label: string) => `${canary(label)}${canary('Y').slice(2)}`

describe('rotate: keys, typed values, --due and refusals', function () {
  this.timeout(60_000)

  let p: TempProject
  let r: Rotation
  let old: Record<string, string>
  const docker = (key: string) => readFileSync(p.path(`secrets/production/${key}`), 'utf8')

  beforeEach(async () => {
    p = new TempProject('envsync-rotate-keys-')
    p.write('envsync.yaml', MANIFEST)
    r = new Rotation(p, 'production')
    old = {JWT_SECRET: long('JWT'), DB_PASSWORD: long('DB'), STRIPE_SECRET_KEY: long('SK'), SMTP_PASSWORD: long('SMTP')}
    r.writeStore(old)
    await r.expect(0, T0, ['push', 'production', '--yes'])
  })

  afterEach(() => p.cleanup())

  it('--due rotates what the fake clock says is due, and says so when nothing is', async () => {
    // Every value gets a known date: rotated (the typed ones piped, one run each) at T0.
    await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', 'DB_PASSWORD', '--yes'])
    const typed = {STRIPE_SECRET_KEY: long('SK'), SMTP_PASSWORD: long('SMTP')}
    for (const [key, value] of Object.entries(typed)) await r.expect(0, T0, ['rotate', 'production', key, '--yes'], value)
    const afterT0 = r.store()

    const none = await r.expect(0, at(10 * DAY), ['rotate', 'production', '--due', '--yes'])
    expect(none.stdout.trim()).to.equal('no secret of production is due for rotation')
    expect(r.store()).to.deep.equal(afterT0)

    // 85 days on: JWT_SECRET (90d) is due soon, DB_PASSWORD (180d) is not; the 30-day Stripe key is overdue, but it needs a typed value.
    const plan = await r.expect(0, at(85 * DAY), ['rotate', 'production', '--due', '--dry-run', '--json'])
    expect(JSON.parse(plan.stdout).result.plan.keys.map((k: {key: string}) => k.key)).to.deep.equal(['JWT_SECRET', 'STRIPE_SECRET_KEY'])
    expect(r.store()).to.deep.equal(afterT0)
    const stripe = long('SK')
    const due = await r.expect(0, at(85 * DAY), ['rotate', 'production', '--due', '--yes'], stripe)
    expect(due.stdout).to.include('JWT_SECRET_PREVIOUS until 2027-05-25 13:00 UTC')
    const now = r.store()
    expect(now.JWT_SECRET).to.not.equal(afterT0.JWT_SECRET)
    expect(now.JWT_SECRET_PREVIOUS).to.equal(afterT0.JWT_SECRET)
    expect(now.STRIPE_SECRET_KEY).to.equal(stripe)
    expect(now.DB_PASSWORD).to.equal(afterT0.DB_PASSWORD)
    expect(now.SMTP_PASSWORD).to.equal(typed.SMTP_PASSWORD)
    expect(docker('STRIPE_SECRET_KEY')).to.equal(stripe)
    assertNoLeak([...Object.values(old), ...Object.values(typed), ...Object.values(now), stripe], ...r.everything())
  })

  it('a provider-issued key is piped in and checked; two of them need a terminal; a key without previous rotates without grace', async () => {
    const stripe = long('SK')
    const typed = await r.expect(0, T0, ['rotate', 'production', 'STRIPE_SECRET_KEY', '--yes'], stripe + '\n')
    expect(typed.stdout).to.match(/STRIPE_SECRET_KEY +new value \S+ \(typed\)/)
    expect(r.store().STRIPE_SECRET_KEY).to.equal(stripe)
    expect(docker('STRIPE_SECRET_KEY')).to.equal(stripe)
    expect(r.storeWrites().at(-1)).to.equal('rotate STRIPE_SECRET_KEY')

    const before = r.store()
    const two = await r.expect(2, T0, ['rotate', 'production', 'STRIPE_SECRET_KEY', 'SMTP_PASSWORD', '--yes'], long('X'))
    expect(two.stderr).to.include('STRIPE_SECRET_KEY, SMTP_PASSWORD have no generate recipe')
    const short = await r.expect(2, T0, ['rotate', 'production', 'SMTP_PASSWORD', '--yes'], 'changeme')
    expect(short.stderr).to.include('SMTP_PASSWORD: the new value fails check')
    expect(r.store()).to.deep.equal(before)

    // No previous: no grace, so it may be rotated again at once.
    await r.expect(0, T0, ['rotate', 'production', 'DB_PASSWORD', '--yes'])
    const first = r.store().DB_PASSWORD
    await r.expect(0, T0, ['rotate', 'production', 'DB_PASSWORD', '--yes'])
    expect(r.store().DB_PASSWORD).to.not.equal(first)
    expect(r.store()).to.not.have.property('JWT_SECRET_PREVIOUS')
    expect(docker('DB_PASSWORD')).to.equal(r.store().DB_PASSWORD)
    assertNoLeak([...Object.values(old), stripe, first, ...Object.values(r.store())], ...r.everything())
  })

  it('refuses unknown keys, plain config, the previous key, no keys, and a key in grace without --force; nothing is written', async () => {
    const writes = r.storeWrites()
    const unknown = await r.expect(2, T0, ['rotate', 'production', 'JWT_SECRT', '--yes'])
    expect(unknown.stderr).to.include('unknown key JWT_SECRT')
    expect(unknown.stderr).to.include('did you mean "JWT_SECRET"?')
    const config = await r.expect(2, T0, ['rotate', 'production', 'LOG_LEVEL', '--yes'])
    expect(config.stderr).to.include('LOG_LEVEL is plain config')
    const previous = await r.expect(2, T0, ['rotate', 'production', 'JWT_SECRET_PREVIOUS', '--yes'])
    expect(previous.stderr).to.include('JWT_SECRET_PREVIOUS holds the previous value of JWT_SECRET')
    const nothing = await r.expect(2, T0, ['rotate', 'production'])
    expect(nothing.stderr).to.include('--due')
    // Protected: no terminal, no --yes → refused before anything is written.
    const unconfirmed = await r.expect(2, T0, ['rotate', 'production', 'JWT_SECRET'])
    expect(unconfirmed.stderr).to.include('--yes')
    const dry = await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', '--dry-run'])
    expect(dry.stdout).to.include('dry run: nothing was written')
    expect(r.store()).to.deep.equal(old)
    expect(r.storeWrites()).to.deep.equal(writes)

    await r.expect(0, T0, ['rotate', 'production', 'JWT_SECRET', '--yes'])
    const first = r.store()
    const inGrace = await r.expect(2, at(HOUR / 2), ['rotate', 'production', 'JWT_SECRET', '--yes'])
    expect(inGrace.stderr).to.include('in its grace period until 2027-03-01 13:00 UTC')
    expect(r.store()).to.deep.equal(first)
    // --force: a new value, the one in place becomes the previous one.
    await r.expect(0, at(HOUR / 2), ['rotate', 'production', 'JWT_SECRET', '--yes', '--force'])
    expect(r.store().JWT_SECRET_PREVIOUS).to.equal(first.JWT_SECRET)
    expect(r.store().JWT_SECRET).to.not.equal(first.JWT_SECRET)
    expect(docker('JWT_SECRET_PREVIOUS')).to.equal(first.JWT_SECRET)
    // --finish --force ends the grace early: the previous value goes from the store and the destination.
    const forced = r.store()
    await r.expect(0, at(HOUR / 2), ['rotate', 'production', '--finish', '--force', '--yes'])
    expect(r.store()).to.not.have.property('JWT_SECRET_PREVIOUS')
    expect(() => docker('JWT_SECRET_PREVIOUS')).to.throw(/ENOENT/)
    expect(r.storeWrites().at(-1)).to.equal('finish -JWT_SECRET_PREVIOUS')
    assertNoLeak([...Object.values(old), ...Object.values(first), ...Object.values(forced)], ...r.everything())
  })
})
