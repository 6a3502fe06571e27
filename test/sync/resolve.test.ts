import {expect} from 'chai'
import jsYaml from 'js-yaml'

import {Manifest} from '../../src/manifest/manifest.js'
import {liveNames, manifestKeysOf, resolveDestinations} from '../../src/manifest/resolve.js'
import {ManifestSchema} from '../../src/manifest/schema.js'
import {Secret} from '../../src/secret.js'
import type {ValuesFile} from '../../src/values/store.js'

/** Manifest + values → destinations, in process. */

const MANIFEST = `
project: shop
services: {api: {}, worker: {}}
environments:
  production:
    targets:
      docker: {}
      kubernetes: {namespace: shop}
      railway: {project: shop, services: {api: api, worker: worker}, shared: true}
      render: {services: {api: shop-api, worker: shop-worker}, envGroup: shop-shared}
secrets:
  JWT_SECRET: {services: [api]}
  TLS_KEY: {services: [api], file: tls.key}
  GCP_JSON: {services: [api, worker], file: true, shared: true}
  DB_PASSWORD: {services: [api, worker], shared: true}
`

/** A manifest whose source positions must not be needed: looking one up fails the test. */
function manifest(yaml = MANIFEST): Manifest {
  const data = ManifestSchema.parse(jsYaml.load(yaml))
  return new Manifest('/nowhere/envsync.yaml', data, (p) => {
    throw new Error(`looked up the source position of ${p.join('.')} on the happy path (parses the YAML a second time)`)
  })
}

const store = (values: Record<string, string>): ValuesFile =>
  ({display: '.env.production', values: new Map(Object.entries(values).map(([k, v]) => [k, new Secret(v)]))}) as unknown as ValuesFile

describe('manifest/resolve', () => {
  it('resolves every target without looking up source positions (a 1,000-key manifest would be parsed twice)', () => {
    const out = resolveDestinations(manifest(), 'production', store({JWT_SECRET: 'j', TLS_KEY: 'pem', GCP_JSON: '{}', DB_PASSWORD: 'd'}))
    expect(out.map((r) => r.destination.label)).to.deep.equal([
      'docker secrets/production',
      'kubernetes secret shop/shop-api',
      'kubernetes secret shop/shop-worker',
      'railway shop/production service api',
      'railway shop/production service worker',
      'railway shop/production shared variables',
      'render service shop-api',
      'render service shop-api secret files',
      'render service shop-worker',
      'render service shop-worker secret files',
      'render env group shop-shared',
      'render env group shop-shared secret files',
    ])
  })

  it('Render secret files: a destination keyed by file name; manifest keys map to it and back', () => {
    const out = resolveDestinations(manifest(), 'production', store({TLS_KEY: 'pem', GCP_JSON: '{}'}), {targets: ['render']})
    const byLabel = new Map(out.map((r) => [r.destination.label, r]))
    const apiFiles = byLabel.get('render service shop-api secret files')!
    expect([...apiFiles.desired.keys()]).to.deep.equal(['tls.key'])
    expect(apiFiles.destination.config).to.deep.include({service: 'shop-api', files: true})
    expect(manifestKeysOf(apiFiles)).to.deep.equal(['TLS_KEY'])
    expect([...liveNames(apiFiles, ['TLS_KEY', 'JWT_SECRET'])]).to.deep.equal(['tls.key'])
    expect(apiFiles.optional).to.equal(false)

    const groupFiles = byLabel.get('render env group shop-shared secret files')!
    expect([...groupFiles.desired.keys()]).to.deep.equal(['GCP_JSON'])

    // The worker gets no file of its own: its files destination is there only to remove what
    // envsync may have put there before.
    const workerFiles = byLabel.get('render service shop-worker secret files')!
    expect(workerFiles.optional).to.equal(true)
    expect(workerFiles.manifestKeys.size).to.equal(0)
    // Env vars keep their names.
    const apiVars = byLabel.get('render service shop-api')!
    expect([...apiVars.manifestKeys]).to.deep.equal(['JWT_SECRET'])
    expect([...liveNames(apiVars, ['JWT_SECRET'])]).to.deep.equal(['JWT_SECRET'])
  })
})
