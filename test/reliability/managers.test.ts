import {expect} from 'chai'

import type {ManagerKind} from '../../src/targets/managers/backend.js'
import {markerTags} from '../../src/targets/managers/backend.js'
import {applyThenDrop, drop, latency, serverError, type FaultRequest} from '../fakes/faults.js'
import {canary} from '../helpers/canary.js'
import {expectNoViolations, KINDS, ManagerProject, manifestYaml, mark, usePlatforms, type Platform} from '../managers/support.js'

/**
 * Each secret manager under injected faults, through bin/run.js against its loopback fake (as
 * test/reliability/faults.test.ts does for Railway and Render): the platform's own throttling
 * answer is waited out, 5xx and dropped connections are retried, endless throttling and an
 * unresponsive server end in a bounded time with a clear message and exit 1, and a push that
 * fails half way converges on a rerun that writes only what is left.
 */

const PREFIX: Record<ManagerKind, string> = {aws: 'shop/rel/', vault: 'shop/rel/', gcp: 'shop-rel-', azure: 'shop-rel-'}
const KEYS = ['ALPHA_TOKEN', 'BRAVO_TOKEN', 'CHARLIE_TOKEN', 'DELTA_TOKEN']
const long = (label: string) => `${canary(label)}${canary('X').slice(2)}`
const reads = (r: FaultRequest) => r.write !== true

for (const kind of KINDS) {
  describe(`${kind}: faults through the binary`, function () {
    this.timeout(90_000)
    const running = usePlatforms([kind])
    let p: ManagerProject
    let pl: Platform
    let values: Record<string, string>
    const at = (key: string) => pl.nameOf(PREFIX[kind], key)
    const push = (...args: string[]) => p.run(['push', 'staging', '--yes', ...args])
    const converged = () => {
      for (const key of KEYS) expect(pl.value(at(key)), `${pl.service} ${key}`).to.equal(values[key])
    }

    beforeEach(function () {
      const platform = running.get(kind)
      if (!platform) this.skip()
      pl = platform!
      p = new ManagerProject(() => running.values())
      values = Object.fromEntries(KEYS.map((k) => [k, long(k.split('_')[0]!)]))
      p.canaries.push(...Object.values(values))
      p.writeManifest(manifestYaml({staging: {targets: {[kind]: {...pl.options, prefix: PREFIX[kind]}}}}, Object.fromEntries(KEYS.map((k) => [k, {services: ['api']}]))))
      p.writeValues('staging', values)
    })

    afterEach(function () {
      if (!p) return
      p.assertNoLeak()
      expectNoViolations(running.values())
      p.cleanup()
    })

    it('the platform\'s throttling answer is waited out (Retry-After honoured) and the push completes', async () => {
      pl.faults.once(pl.throttled(1), {match: reads})
      pl.faults.once(pl.throttled(0), {match: (r) => r.write === true, times: 2})
      const started = Date.now()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      if (pl.sendsRetryAfter) expect(Date.now() - started, 'Retry-After: 1 waited').to.be.at.least(900)
      expect(pl.faults.injected.length).to.equal(3)
      converged()
    })

    it('endless throttling ends in a bounded time: exit 1, a message saying the platform is rate limiting', async () => {
      pl.faults.always(pl.throttled(0))
      const started = Date.now()
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(Date.now() - started).to.be.below(30_000)
      expect(r.stdout + r.stderr).to.match(/rate|throttl|too many|quota/i)
      expect(r.stdout + r.stderr).to.include(pl.service)
      expect(r.stdout + r.stderr).to.not.match(/at .+\.js:\d+/)
      expect(pl.names()).to.deep.equal([])
    })

    it('5xx answers and dropped connections are retried: the push completes with each value written once', async () => {
      // ALPHA_TOKEN is envsync's already, with an older value: its update is a new version.
      pl.seed(at('ALPHA_TOKEN'), long('OLD'), markerTags({project: 'shop', environment: 'staging'}))
      pl.faults.once(serverError(500), {match: reads, times: 2})
      pl.faults.once(drop(), {match: reads})
      // A proxy's 502 page on a create and on a version write: nothing was stored, safe to repeat.
      pl.faults.once(serverError(502), {match: pl.updateOf(at('ALPHA_TOKEN'))})
      pl.faults.once(serverError(502), {match: (r) => r.write === true})
      const r = await push()
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(pl.faults.injected.length).to.equal(5)
      converged()
      for (const key of KEYS) expect(pl.versions(at(key)), key).to.equal(key === 'ALPHA_TOKEN' ? 2 : 1)
    })

    it('a write applied but its answer lost: the rerun converges with no stray versions and then writes nothing', async () => {
      pl.faults.once(applyThenDrop(), {match: (r) => r.write === true})
      const first = await push()
      expect([0, 1], first.stdout + first.stderr).to.include(first.exitCode)
      const second = await push()
      expect(second.exitCode, second.stdout + second.stderr).to.equal(0)
      converged()
      // A retried version write may leave one identical extra version; never a different value.
      for (const key of KEYS) expect(pl.versions(at(key)), key).to.be.within(1, 2)
      const since = mark([pl])
      expect((await push()).exitCode).to.equal(0)
      expect(since()[kind]).to.equal(0)
    })

    it('an unresponsive server ends in a bounded time with a clear message and exit 1', async () => {
      pl.faults.always(latency(60_000))
      const started = Date.now()
      const r = await p.run(['push', 'staging', '--yes'], {env: {ENVSYNC_HTTP_TIMEOUT_MS: '300', ENVSYNC_HTTP_BACKOFF_MS: '5'}})
      const took = Date.now() - started
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(took, 'bounded by the timeouts and retries').to.be.below(30_000)
      expect(r.stdout + r.stderr).to.match(/time(d)? ?out|did not answer|unreachable|no answer/i)
      expect(r.stdout + r.stderr).to.include(pl.service)
      expect(r.stdout + r.stderr).to.not.match(/at .+\.js:\d+/)
    })

    it('a push failing half way (one secret\'s update keeps failing) exits 1; the rerun writes only what is left and converges', async () => {
      // CHARLIE_TOKEN is envsync's already, with an older value: its new version is what fails.
      pl.seed(at('CHARLIE_TOKEN'), long('OLD'), markerTags({project: 'shop', environment: 'staging'}))
      pl.faults.always(serverError(500), {match: pl.updateOf(at('CHARLIE_TOKEN'))})
      const first = await push()
      expect(first.exitCode, first.stdout + first.stderr).to.equal(1)
      expect(first.stdout + first.stderr).to.include(at('CHARLIE_TOKEN'))
      for (const key of KEYS.filter((k) => k !== 'CHARLIE_TOKEN')) expect(pl.value(at(key)), key).to.equal(values[key])
      expect(pl.value(at('CHARLIE_TOKEN'))).to.not.equal(values.CHARLIE_TOKEN)

      pl.faults.clear()
      const since = mark([pl])
      const second = await push()
      expect(second.exitCode, second.stdout + second.stderr).to.equal(0)
      converged()
      // Only CHARLIE_TOKEN is written: one new version (Vault: its data, and its metadata kept).
      expect(since()[kind], 'writes of the rerun').to.be.within(1, kind === 'vault' ? 2 : 1)
      for (const key of KEYS) expect(pl.versions(at(key)), key).to.equal(key === 'CHARLIE_TOKEN' ? 2 : 1)
    })
  })
}
