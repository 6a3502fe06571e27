import {writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {parseManifest} from '../../src/manifest/load.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

const manifest = (envs: string[]) => `version: 1
project: shop
services: {api: {}}
environments:
${envs.map((e) => `  ${e}: {}`).join('\n')}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
`

/** Trust #19: a hand-written manifest protects what init would protect: names that mean production. */
describe('protected by default: environments whose name means production', () => {
  it('prod, prd, live, production, prod-eu, eu-live-2 are protected unless the manifest says otherwise; staging, preprod, delivery are not', () => {
    const names = ['prod', 'prd', 'live', 'production', 'prod-eu', 'eu-live-2', 'staging', 'preprod', 'delivery', 'development']
    const m = parseManifest('envsync.yaml', Buffer.from(manifest(names)))
    expect(names.filter((n) => m.isProtected(n))).to.deep.equal(['prod', 'prd', 'live', 'production', 'prod-eu', 'eu-live-2'])
    const off = parseManifest('envsync.yaml', Buffer.from(manifest(['prod']).replace('prod: {}', 'prod: {protected: false}')))
    expect(off.isProtected('prod')).to.equal(false)
  })

  it('generate --force in "prod" asks for the typed name (refused without a terminal); in "staging" it does not', async () => {
    const p = new TempProject('envsync-protected-')
    try {
      p.write('envsync.yaml', manifest(['prod', 'staging']))
      for (const env of ['prod', 'staging']) writeFileSync(p.path(`.env.${env}`), 'JWT_SECRET=x\n', {mode: 0o600})
      const prod = await runBin(['generate', 'prod', '--force'], {cwd: p.dir})
      expect(prod.exitCode, prod.stdout + prod.stderr).to.not.equal(0)
      expect(prod.stderr).to.match(/prod/)
      const staging = await runBin(['generate', 'staging', '--force'], {cwd: p.dir})
      expect(staging.exitCode, staging.stdout + staging.stderr).to.equal(0)
    } finally {
      p.cleanup()
    }
  })
})
