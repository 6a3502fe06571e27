import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {manifest, railwayShop} from './support.js'

/**
 * Issue 10 item 2 (the bug from issue 9's note): a push narrowed by --only keeps the ownership
 * of a key in its scope that has no local value ('missing': left as it is live, still envsync's),
 * so dropping that key from the manifest later removes it.
 */

describe('ownership outside what a push writes', function () {
  this.timeout(60_000)
  const shop = railwayShop('envsync-scope-')

  it('--only with a key that has no local value keeps its ownership: dropped from the manifest later, it is removed', async () => {
    const {railway, p, run} = shop
    const values = {KEEP_ME: canary('KEEP'), OTHER: canary('OTHER')}
    p.write('envsync.yaml', manifest(['KEEP_ME', 'OTHER']))
    p.write('.env.production', `KEEP_ME=${values.KEEP_ME}\nOTHER=${values.OTHER}\n`)
    expect((await run('push', 'production', '--yes')).exitCode).to.equal(0)

    // KEEP_ME's value is gone here (another machine has it); OTHER changes.
    const other2 = canary('OTHER2')
    p.write('.env.production', `OTHER=${other2}\n`)
    const r = await run('push', 'production', '--yes', '--force', '--only', 'KEEP_ME,OTHER')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/~ OTHER/)

    p.write('envsync.yaml', manifest(['OTHER']))
    const dropped = await run('push', 'production', '--yes')
    expect(dropped.exitCode, dropped.stdout + dropped.stderr).to.equal(0)
    expect(dropped.stdout).to.match(/- KEEP_ME/)
    expect(railway.variables(shop.scope())).to.deep.equal({OTHER: other2})
    assertNoLeak([...Object.values(values), other2], r.stdout, r.stderr, dropped.stdout, dropped.stderr, ...p.syncRecords())
  })
})
