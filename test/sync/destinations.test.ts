import {existsSync, readFileSync} from 'node:fs'

import {expect} from 'chai'

import {EnvsyncError} from '../../src/errors.js'
import {loadManifest} from '../../src/manifest/load.js'
import {resolveDestinations} from '../../src/manifest/resolve.js'
import {readValues} from '../../src/values/store.js'
import {runIn} from '../docker/support.js'
import {requireBuild} from '../docker/support.js'
import {canary} from '../helpers/canary.js'
import {TempProject} from '../helpers/project.js'

/**
 * Two environments (or two services of one) that resolve to one destination would overwrite
 * and remove each other's keys and report the other's as drift: such a manifest is an error
 * naming both places (file:line:col). Per platform "one destination" is: a Docker directory, a
 * compose override file, a Kubernetes context + namespace + Secret name, a Railway project +
 * environment + service (or its shared variables), a Render service or env group.
 */

const manifest = (envs: Record<string, string>) => `version: 1
project: shop
services: {api: {}, worker: {}}
environments:
${Object.entries(envs)
  .map(([name, targets]) => `  ${name}:\n    protected: false\n    targets: ${targets}`)
  .join('\n')}
secrets:
  JWT_SECRET: {services: [api]}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
`

describe('destinations shared by two environments', () => {
  let p: TempProject
  beforeEach(() => (p = new TempProject('envsync-dest-')))
  afterEach(() => p.cleanup())

  /** The error loading the manifest (or resolving any environment) gives, or undefined. */
  function clash(envs: Record<string, string>): EnvsyncError | undefined {
    p.write('envsync.yaml', manifest(envs), 0o644)
    try {
      const m = loadManifest(p.manifest)
      for (const env of Object.keys(envs)) resolveDestinations(m, env, readValues(p.path(`.env.${env}`)))
      return undefined
    } catch (error) {
      if (!(error instanceof EnvsyncError)) throw error
      return error
    }
  }

  /** Line of the n-th environment's `targets:` (1-based), as the manifest above is laid out. */
  const lineOf = (text: string) => readFileSync(p.manifest, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1

  const clashes: [string, Record<string, string>, RegExp][] = [
    ['two `kubernetes: {}` without namespace', {staging: '{kubernetes: {}}', production: '{kubernetes: {}}'}, /Kubernetes Secret default\/shop-api/],
    ['an unset namespace and "default"', {staging: '{kubernetes: {}}', production: '{kubernetes: {namespace: default}}'}, /Kubernetes Secret default\/shop-api/],
    ['one context and namespace, one Secret name template', {staging: '{kubernetes: {context: c, namespace: shop}}', production: '{kubernetes: {context: c, namespace: shop, secretName: "shop-{service}"}}'}, /Kubernetes Secret shop\/shop-api in context c/],
    ['two docker targets with one dir', {staging: '{docker: {dir: secrets}}', production: '{docker: {dir: ./secrets/}}'}, /Docker directory secrets/],
    ['two docker targets with one compose file', {staging: '{docker: {compose: docker-compose.secrets.yml}}', production: '{docker: {compose: docker-compose.secrets.yml}}'}, /compose override docker-compose\.secrets\.yml/],
    ['one env\'s default compose name given to another', {staging: '{docker: {}}', production: '{docker: {compose: docker-compose.staging.secrets.yml}}'}, /compose override docker-compose\.staging\.secrets\.yml/],
    ['two Railway envs mapped to one Railway environment', {staging: '{railway: {project: shop, environment: production, services: {api: api}}}', production: '{railway: {project: shop, services: {api: api}}}'}, /Railway service api \(shop\/production\)/],
    ['two services mapped to one Railway service', {production: '{railway: {project: shop, services: {api: web, worker: web}}}'}, /environment production twice write the same Railway service web/],
    ['two Render envs on one service', {staging: '{render: {services: {api: shop-api}}}', production: '{render: {services: {api: shop-api}}}'}, /Render service shop-api/],
    ['two services on one Render service', {production: '{render: {services: {api: srv-1, worker: srv-1}}}'}, /Render service srv-1/],
    ['two Render envs on one env group', {staging: '{render: {services: {api: a}, envGroup: shared}}', production: '{render: {services: {api: b}, envGroup: shared}}'}, /Render env group shared/],
  ]
  for (const [what, envs, place] of clashes) {
    it(`refused: ${what} — naming both places`, () => {
      const e = clash(envs)
      expect(e, 'no error').to.not.equal(undefined)
      expect(e!.code).to.equal('SHARED_DESTINATION')
      expect(e!.message).to.match(place)
      const places = [...e!.message.matchAll(/envsync\.yaml:(\d+):(\d+)/g)].map((m) => Number(m[1]))
      expect(places, e!.message).to.have.length(2)
      const envNames = Object.keys(envs)
      expect(places[0]).to.be.at.least(lineOf(`  ${envNames[0]}:`))
      if (envNames.length > 1) expect(places[1]).to.be.at.least(lineOf(`  ${envNames[1]}:`))
      expect(e!.location?.line).to.equal(places[1])
      expect(e!.problems[0].location?.line).to.equal(places[0])
      expect(e!.suggestion).to.be.a('string')
    })
  }

  const distinct: [string, Record<string, string>][] = [
    ['two docker targets with the defaults (own dir, own compose override)', {staging: '{docker: {}}', production: '{docker: {}}'}],
    ['namespaces differ', {staging: '{kubernetes: {namespace: staging}}', production: '{kubernetes: {namespace: production}}'}],
    ['{environment} in the Secret name', {staging: '{kubernetes: {secretName: "{project}-{service}-{environment}"}}', production: '{kubernetes: {secretName: "{project}-{service}-{environment}"}}'}],
    ['contexts differ', {staging: '{kubernetes: {context: a}}', production: '{kubernetes: {context: b}}'}],
    ['Railway environments by default', {staging: '{railway: {project: shop, services: {api: api}}}', production: '{railway: {project: shop, services: {api: api}}}'}],
    ['Render services differ, no env group', {staging: '{render: {services: {api: a}}}', production: '{render: {services: {api: b}}}'}],
  ]
  for (const [what, envs] of distinct) {
    it(`accepted: ${what}`, () => {
      expect(clash(envs)?.message).to.equal(undefined)
    })
  }

  it('the binary names both file:line:col places (exit 2) and writes nothing', async () => {
    requireBuild()
    p.write('envsync.yaml', manifest({staging: '{docker: {dir: secrets/shared}}', production: '{docker: {dir: secrets/shared}}'}), 0o644)
    p.write('.env.staging', `JWT_SECRET=${canary()}\n`)
    for (const args of [['diff', 'staging'], ['push', 'production', '--yes'], ['check', 'staging'], ['export', 'production']]) {
      const r = await runIn(p.dir, args)
      expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
      expect(r.stderr).to.match(/environments staging and production write the same Docker directory secrets\/shared \(envsync\.yaml:\d+:\d+ and envsync\.yaml:\d+:\d+\)/)
      expect(r.stderr).to.include('give each environment its own docker.dir')
    }
    expect(existsSync(p.path('secrets'))).to.equal(false)
  })

  it('each environment gets its own compose override by default: pushing one never makes the other drift', async () => {
    requireBuild()
    p.write('envsync.yaml', manifest({staging: '{docker: {}}', production: '{docker: {}}'}), 0o644)
    const values = {staging: canary(), production: canary()}
    for (const [env, v] of Object.entries(values)) p.write(`.env.${env}`, `JWT_SECRET=${v}\n`)
    for (const env of Object.keys(values)) expect((await runIn(p.dir, ['push', env, '--yes'])).exitCode).to.equal(0)
    for (const env of Object.keys(values)) {
      expect(readFileSync(p.path(`docker-compose.${env}.secrets.yml`), 'utf8')).to.include(`file: ./secrets/${env}/JWT_SECRET`)
      const d = await runIn(p.dir, ['diff', env, '--exit-code'])
      expect(d.exitCode, d.stdout).to.equal(0)
    }
    expect(existsSync(p.path('docker-compose.secrets.yml'))).to.equal(false)
  })
})
