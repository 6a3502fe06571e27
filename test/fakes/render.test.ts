import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {applyThenDrop, drop, latency, serverError} from './faults.js'
import {
  DEFAULT_API_KEY,
  RENDER_RATE_LIMITS,
  type RenderFake,
  type RenderFakeOptions,
  renderFault,
  renderSpec,
  SPEC_FILE,
  SPEC_PATCHES,
  SpecDriftError,
  startRenderFake,
} from './render.js'

/**
 * The Render fake itself: its answers follow the published OpenAPI spec (requests checked,
 * responses checked before they leave), and it behaves like Render where envsync depends on it
 * (paging, replace-all, env groups, deploys, rate limits, faults, a log without values).
 */

interface Res {
  status: number
  headers: Headers
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
}

let fake: RenderFake
const started: RenderFake[] = []

async function boot(options: RenderFakeOptions = {}): Promise<RenderFake> {
  const f = await startRenderFake({clock: 'manual', onDrift: 'record', ...options})
  started.push(f)
  return f
}

async function call(
  method: string,
  path: string,
  options: {body?: unknown; raw?: string; key?: string | null; headers?: Record<string, string>; on?: RenderFake} = {},
): Promise<Res> {
  const f = options.on ?? fake
  const headers: Record<string, string> = {accept: 'application/json', ...options.headers}
  const key = options.key === undefined ? DEFAULT_API_KEY : options.key
  if (key !== null) headers.authorization = `Bearer ${key}`
  let body: string | undefined
  if (options.raw !== undefined) body = options.raw
  else if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
  const res = await fetch(f.url + path, {method, headers, body})
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return {status: res.status, headers: res.headers, text, json}
}

function expectError(res: Res, status: number): void {
  expect(res.status, res.text).to.equal(status)
  expect(res.json).to.be.an('object')
  expect(res.json.id).to.be.a('string').and.not.equal('')
  expect(res.json.message).to.be.a('string').and.not.equal('')
}

/** Reads every env var of a service the way envsync must: pass the last cursor, stop on a short page. */
async function readAll(serviceId: string, limit?: number): Promise<{vars: {key: string; value: string}[]; pages: number[]}> {
  const vars: {key: string; value: string}[] = []
  const pages: number[] = []
  let cursor: string | undefined
  for (;;) {
    const q = new URLSearchParams()
    if (limit) q.set('limit', String(limit))
    if (cursor) q.set('cursor', cursor)
    const res = await call('GET', `/services/${serviceId}/env-vars${q.size ? `?${q}` : ''}`)
    expect(res.status).to.equal(200)
    const page = res.json as {envVar: {key: string; value: string}; cursor: string}[]
    pages.push(page.length)
    vars.push(...page.map((p) => p.envVar))
    if (page.length === 0 || page.length < (limit ?? 20)) break
    cursor = page.at(-1)!.cursor
  }
  return {vars, pages}
}

function manyVars(n: number, prefix = 'VAR'): Record<string, string> {
  return Object.fromEntries(Array.from({length: n}, (_, i) => [`${prefix}_${String(i).padStart(4, '0')}`, `value-${i}`]))
}

describe('Render fake', () => {
  beforeEach(async () => {
    fake = await boot()
  })

  afterEach(async () => {
    for (const f of started.splice(0)) {
      const drift = f.driftErrors.map((e) => e.message)
      await f.stop()
      expect(drift, 'the fake sent (or tried to send) a response that does not match the spec').to.deep.equal([])
    }
  })

  describe('the spec', () => {
    it('is the fixture recorded in test/fixtures/README.md (Render Public API, OpenAPI 3.0.2)', () => {
      const text = readFileSync(SPEC_FILE)
      const sha = createHash('sha256').update(text).digest('hex')
      const readme = readFileSync(new URL('../fixtures/README.md', import.meta.url), 'utf8')
      const section = readme.slice(readme.indexOf('## render-openapi.json'))
      expect(section, 'README has a render-openapi.json section').to.include(sha)
      const doc = JSON.parse(text.toString('utf8'))
      expect(doc.openapi).to.equal('3.0.2')
      expect(doc.info.title).to.equal('Render Public API')
      expect(doc.servers[0].url).to.equal('https://api.render.com/v1')
    })

    it('serves only operations of the spec, each with its declared statuses', () => {
      const spec = renderSpec()
      expect(fake.operationIds).to.have.members([
        'list-services',
        'retrieve-service',
        'get-env-vars-for-service',
        'update-env-vars-for-service',
        'retrieve-env-var',
        'update-env-var',
        'delete-env-var',
        'list-secret-files-for-service',
        'update-secret-files-for-service',
        'retrieve-secret-file',
        'add-or-update-secret-file',
        'delete-secret-file',
        'create-deploy',
        'list-env-groups',
        'retrieve-env-group',
        'retrieve-env-group-env-var',
        'update-env-group-env-var',
        'delete-env-group-env-var',
        'retrieve-env-group-secret-file',
        'update-env-group-secret-file',
        'delete-env-group-secret-file',
      ])
      const statuses = (id: string) => [...spec.operation(id).responses.keys()]
      expect(statuses('update-env-vars-for-service')).to.include.members(['200', '400', '401', '404', '429'])
      expect(statuses('create-deploy')).to.include.members(['201', '202'])
      expect(statuses('add-or-update-secret-file')).to.include('201')
      expect(statuses('delete-env-var')).to.include('204')
      expect(spec.operation('create-deploy').responses.get('202')).to.equal(undefined) // 202: no body
    })

    it('a response that does not match the spec throws (SpecDriftError)', () => {
      const spec = renderSpec()
      const ok = [{envVar: {key: 'A', value: 'v'}, cursor: 'c'}]
      expect(() => spec.checkResponse('get-env-vars-for-service', 200, ok)).not.to.throw()
      expect(() => spec.checkResponse('get-env-vars-for-service', 200, [{envVar: {key: 'A'}, cursor: 'c'}])).to.throw(SpecDriftError, /value/)
      expect(() => spec.checkResponse('get-env-vars-for-service', 200, [{envVar: {key: 'A', value: 'v'}}])).to.throw(SpecDriftError, /cursor/)
      expect(() => spec.checkResponse('delete-env-var', 204, {})).to.throw(SpecDriftError, /no content/)
      expect(() => spec.checkResponse('update-env-var', 201, {key: 'A', value: 'v'})).to.throw(SpecDriftError, /not declared/)
      expect(() => spec.checkResponse('list-services', 200, [{service: {id: 'srv-1', name: 'a', ownerId: 'o'}, cursor: 'c'}])).to.throw(SpecDriftError)
      expect(() => spec.checkResponse('list-services', 400, {id: 'x', message: 'bad'})).not.to.throw() // undeclared error: the error schema
      expect(() => spec.checkResponse('list-services', 400, {message: 'bad'})).to.throw(SpecDriftError)
    })

    it('a drifted response never reaches the client: 500, recorded, no value in it', async () => {
      const f = await boot({onDrift: 'record'})
      const secret = canary('DRIFT')
      const id = f.addService({name: 'api', envVars: {A: secret}})
      f.setResponseTransform((op, status, body) => (op === 'get-env-vars-for-service' && status === 200 ? (body as {envVar: unknown}[]).map((x) => ({envVar: x.envVar})) : body))
      const res = await call('GET', `/services/${id}/env-vars`, {on: f})
      expectError(res, 500)
      expect(res.json.message).to.match(/drifted from the spec/)
      assertNoLeak([secret], res.text)
      expect(f.driftErrors).to.have.length(1)
      expect(f.driftErrors[0]).to.be.instanceOf(SpecDriftError)
      f.driftErrors.length = 0 // expected here; afterEach asserts none elsewhere
    })

    it('OpenAPI 3.0 `nullable` is understood (converted to a null type)', () => {
      const spec = renderSpec()
      const pointer = '/paths/~1events~1%7BeventId%7D/get/responses/200/content/application~1json/schema/properties/details/oneOf/0/oneOf/30/properties/triggeredByUser'
      const v = spec.validator(pointer)
      expect(v(null)).to.equal(true)
      expect(v('usr-1')).to.equal(true)
      expect(v(5)).to.equal(false)
    })

    it('serviceDetails of every service type validates (the spec oneOf read as anyOf, see SPEC_PATCHES)', async () => {
      expect(SPEC_PATCHES.join('\n')).to.match(/serviceDetails/)
      for (const type of ['web_service', 'private_service', 'background_worker', 'cron_job', 'static_site'] as const) fake.addService({name: `svc-${type}`, type})
      const res = await call('GET', '/services?limit=100')
      expect(res.status).to.equal(200)
      expect(res.json.map((x: {service: {type: string}}) => x.service.type)).to.have.members(['web_service', 'private_service', 'background_worker', 'cron_job', 'static_site'])
    })
  })

  describe('request validation', () => {
    let id: string
    beforeEach(() => {
      id = fake.addService({name: 'api', envVars: {KEEP: 'kept'}})
    })

    it('an invalid bulk body is 400 {id, message} and changes nothing', async () => {
      for (const body of [
        [{key: 'A'}], // neither value nor generateValue
        {key: 'A', value: 'x'}, // not an array
        [{key: 'A', value: 1}], // value not a string
        [{key: 'A', value: 'x', generateValue: true}], // matches both oneOf branches
        [{value: 'x'}], // no key
      ]) {
        const res = await call('PUT', `/services/${id}/env-vars`, {body})
        expectError(res, 400)
        expect(res.json.message).to.match(/^invalid request: body/)
      }
      expect(fake.envVars(id)).to.deep.equal({KEEP: 'kept'})
    })

    it('invalid single-key bodies, a missing body, bad JSON and a wrong content type are 400', async () => {
      expectError(await call('PUT', `/services/${id}/env-vars/A`, {body: {}}), 400)
      expectError(await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 5}}), 400)
      expectError(await call('PUT', `/services/${id}/env-vars/A`), 400)
      expectError(await call('PUT', `/services/${id}/env-vars/A`, {raw: '{"value": "x"'}), 400)
      expectError(await call('PUT', `/services/${id}/env-vars/A`, {raw: 'value=x', headers: {'content-type': 'application/x-www-form-urlencoded'}}), 400)
      expect(fake.envVars(id)).to.deep.equal({KEEP: 'kept'})
    })

    it('invalid query parameters are 400: limit out of 1..100 or not a number, unknown names, bad booleans', async () => {
      for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=1&limit=2', 'includePreviews=maybe', 'nmae=api', 'type=lambda']) {
        const res = await call('GET', `/services?${q}`)
        expectError(res, 400)
      }
      expectError(await call('GET', `/services/${id}/env-vars?limit=500`), 400)
      expectError(await call('GET', `/services/${id}/env-vars?cursor=not-a-cursor`), 400)
      expect((await call('GET', '/services?limit=100&includePreviews=false&name=api')).status).to.equal(200)
    })

    it('an unknown route is 404 {id, message}; a spec operation the fake lacks is a loud 501', async () => {
      expectError(await call('GET', '/nothing-here'), 404)
      expectError(await call('GET', `/services/${id}/env-vars/A/extra`), 404)
      expectError(await call('POST', `/services/${id}/env-vars`, {body: []}), 404) // path exists, method does not
      const outside = await fetch(fake.url.replace('/v1', '/v2/services'), {headers: {authorization: `Bearer ${DEFAULT_API_KEY}`}})
      expect(outside.status).to.equal(404)
      await outside.text()
      expectError(await call('GET', '/owners'), 501)
      expect(fake.unimplemented).to.deep.equal([`GET /v1/owners (list-owners)`])
    })

    it('answers 406 when the client does not accept JSON', async () => {
      expectError(await call('GET', `/services/${id}`, {headers: {accept: 'text/html'}}), 406)
      expect((await call('GET', `/services/${id}`, {headers: {accept: '*/*'}})).status).to.equal(200)
    })
  })

  describe('authentication', () => {
    it('missing, wrong or non-bearer credentials are 401 {id, message}', async () => {
      const id = fake.addService({name: 'api'})
      expectError(await call('GET', `/services/${id}/env-vars`, {key: null}), 401)
      expectError(await call('GET', `/services/${id}/env-vars`, {key: 'rnd_wrong'}), 401)
      expectError(await call('GET', `/services/${id}/env-vars`, {key: null, headers: {authorization: `Basic ${DEFAULT_API_KEY}`}}), 401)
      expectError(await call('PUT', `/services/${id}/env-vars`, {key: null, body: []}), 401)
      expect(fake.service(id)!.envVars).to.deep.equal({})
      expect((await call('GET', `/services/${id}/env-vars`)).status).to.equal(200)
      fake.removeApiKey(DEFAULT_API_KEY)
      expectError(await call('GET', `/services/${id}/env-vars`), 401)
    })

    it('seeded keys work; a key limited to one workspace gets 403 on other services and does not see them', async () => {
      const mine = fake.addOwner({name: 'mine'})
      const theirs = fake.addOwner({name: 'theirs'})
      fake.addApiKey('rnd_scoped', {ownerIds: [mine]})
      const a = fake.addService({name: 'api', ownerId: mine})
      const b = fake.addService({name: 'api', ownerId: theirs})
      const g = fake.addEnvGroup({name: 'shared', ownerId: theirs})
      expect((await call('GET', `/services/${a}/env-vars`, {key: 'rnd_scoped'})).status).to.equal(200)
      expectError(await call('GET', `/services/${b}/env-vars`, {key: 'rnd_scoped'}), 403)
      expectError(await call('GET', `/env-groups/${g}`, {key: 'rnd_scoped'}), 404)
      const list = await call('GET', '/services?name=api', {key: 'rnd_scoped'})
      expect(list.json.map((x: {service: {id: string}}) => x.service.id)).to.deep.equal([a])
      const all = await call('GET', '/services?name=api')
      expect(all.json).to.have.length(2)
    })
  })

  describe('services', () => {
    it('GET /services?name=a,b&includePreviews=false lists matching services with the required fields', async () => {
      const {services} = fake.seed({services: [{name: 'api'}, {name: 'worker', type: 'background_worker'}, {name: 'api-staging'}]})
      const res = await call('GET', '/services?name=api,worker&includePreviews=false')
      expect(res.status).to.equal(200)
      const items = res.json as {service: Record<string, unknown>; cursor: string}[]
      expect(items.map((i) => i.service.name)).to.deep.equal(['api', 'worker'])
      for (const i of items) {
        expect(i.cursor).to.be.a('string')
        expect(i.service).to.include.keys('id', 'name', 'ownerId', 'type', 'createdAt', 'updatedAt', 'dashboardUrl', 'suspended', 'suspenders', 'autoDeploy', 'notifyOnFail', 'slug', 'serviceDetails', 'rootDir')
      }
      expect(items[0]!.service.id).to.equal(services.api)
      expect((await call('GET', `/services/${services.worker}`)).json.name).to.equal('worker')
    })

    it('name matching is exact by default and can be made fuzzy (to prove a client filters)', async () => {
      fake.seed({services: [{name: 'api'}, {name: 'api-staging'}, {name: 'web'}]})
      expect((await call('GET', '/services?name=api')).json).to.have.length(1)
      fake.setNameMatch('substring')
      expect((await call('GET', '/services?name=api')).json.map((x: {service: {name: string}}) => x.service.name)).to.deep.equal(['api', 'api-staging'])
    })

    it('pages services by cursor', async () => {
      for (let i = 0; i < 5; i++) fake.addService({name: `s${i}`})
      const first = await call('GET', '/services?limit=2')
      const second = await call('GET', `/services?limit=2&cursor=${encodeURIComponent(first.json[1].cursor)}`)
      const third = await call('GET', `/services?limit=2&cursor=${encodeURIComponent(second.json[1].cursor)}`)
      expect([...first.json, ...second.json, ...third.json].map((x: {service: {name: string}}) => x.service.name)).to.deep.equal(['s0', 's1', 's2', 's3', 's4'])
    })

    it('an unknown service is 404 on every service operation', async () => {
      for (const [m, p, body] of [
        ['GET', '/services/srv-nope'],
        ['GET', '/services/srv-nope/env-vars'],
        ['PUT', '/services/srv-nope/env-vars', []],
        ['PUT', '/services/srv-nope/env-vars/A', {value: 'x'}],
        ['DELETE', '/services/srv-nope/env-vars/A'],
        ['GET', '/services/srv-nope/secret-files'],
        ['POST', '/services/srv-nope/deploys', {}],
      ] as [string, string, unknown?][])
        expectError(await call(m, p, {body}), 404)
    })
  })

  describe('service env vars', () => {
    it('pages more than 500 env vars in pages of 100 with cursors, without truncation', async () => {
      const vars = manyVars(523)
      const id = fake.addService({name: 'big', envVars: vars})
      const {vars: got, pages} = await readAll(id, 100)
      expect(pages).to.deep.equal([100, 100, 100, 100, 100, 23])
      expect(Object.fromEntries(got.map((v) => [v.key, v.value]))).to.deep.equal(vars)
      expect(new Set(got.map((v) => v.key)).size).to.equal(523)
    })

    it('an exact multiple of the limit ends on an empty page; the default page is 20', async () => {
      const id = fake.addService({name: 'big', envVars: manyVars(500)})
      const {vars, pages} = await readAll(id, 100)
      expect(pages).to.deep.equal([100, 100, 100, 100, 100, 0])
      expect(vars).to.have.length(500)
      const byDefault = await readAll(id)
      expect(byDefault.pages).to.have.length(26)
      expect(byDefault.pages[0]).to.equal(20)
      expect(byDefault.vars).to.have.length(500)
    })

    it('a cursor still works after its item was deleted', async () => {
      const id = fake.addService({name: 'api', envVars: manyVars(5)})
      const first = await call('GET', `/services/${id}/env-vars?limit=2`)
      fake.setEnvVar(id, 'VAR_0001', undefined)
      const next = await call('GET', `/services/${id}/env-vars?limit=2&cursor=${encodeURIComponent(first.json[1].cursor)}`)
      expect(next.json.map((x: {envVar: {key: string}}) => x.envVar.key)).to.deep.equal(['VAR_0002', 'VAR_0003'])
    })

    it('bulk PUT replaces all: keys left out are deleted, generateValue makes a value', async () => {
      const id = fake.addService({name: 'api', envVars: {OLD: 'o', KEEP: 'k1', GONE: 'g'}})
      const res = await call('PUT', `/services/${id}/env-vars`, {body: [{key: 'KEEP', value: 'k2'}, {key: 'NEW', value: 'n'}, {key: 'GEN', generateValue: true}]})
      expect(res.status).to.equal(200)
      expect(res.json.map((x: {envVar: {key: string}; cursor: string}) => x.envVar.key)).to.deep.equal(['KEEP', 'NEW', 'GEN'])
      for (const x of res.json) expect(x.cursor).to.be.a('string')
      const state = fake.envVars(id)
      expect(Object.keys(state)).to.deep.equal(['KEEP', 'NEW', 'GEN'])
      expect(state.KEEP).to.equal('k2')
      expect(state.GEN).to.match(/^[A-Za-z0-9+/]{43}=$/) // base64 of 32 bytes
      expect((await call('PUT', `/services/${id}/env-vars`, {body: []})).json).to.deep.equal([])
      expect(fake.envVars(id)).to.deep.equal({})
    })

    it('bulk PUT refuses a key given twice, an empty key and generateValue:false without a value (nothing changes)', async () => {
      const id = fake.addService({name: 'api', envVars: {A: 'a'}})
      expectError(await call('PUT', `/services/${id}/env-vars`, {body: [{key: 'B', value: '1'}, {key: 'B', value: '2'}]}), 400)
      expectError(await call('PUT', `/services/${id}/env-vars`, {body: [{key: '', value: '1'}]}), 400)
      expectError(await call('PUT', `/services/${id}/env-vars`, {body: [{key: 'B', generateValue: false}]}), 400)
      expect(fake.envVars(id)).to.deep.equal({A: 'a'})
    })

    it('per-key PUT adds or updates (200 with the env var), GET reads one, DELETE is 204 then 404', async () => {
      const id = fake.addService({name: 'api', envVars: {A: 'a'}})
      const put = await call('PUT', `/services/${id}/env-vars/B`, {body: {value: 'b'}})
      expect(put.status).to.equal(200)
      expect(put.json).to.deep.equal({key: 'B', value: 'b'})
      expect((await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 'a2'}})).json).to.deep.equal({key: 'A', value: 'a2'})
      const gen = await call('PUT', `/services/${id}/env-vars/C`, {body: {generateValue: true}})
      expect(gen.json.value).to.have.length(44)
      expect((await call('GET', `/services/${id}/env-vars/A`)).json).to.deep.equal({key: 'A', value: 'a2'})
      const del = await call('DELETE', `/services/${id}/env-vars/B`)
      expect(del.status).to.equal(204)
      expect(del.text).to.equal('')
      expectError(await call('DELETE', `/services/${id}/env-vars/B`), 404)
      expectError(await call('GET', `/services/${id}/env-vars/B`), 404)
      expect(Object.keys(fake.envVars(id))).to.deep.equal(['A', 'C'])
    })

    it('keys with awkward characters travel percent-encoded in the path', async () => {
      const id = fake.addService({name: 'api'})
      expect((await call('PUT', `/services/${id}/env-vars/${encodeURIComponent('A.B-C')}`, {body: {value: 'x'}})).status).to.equal(200)
      expect(fake.envVars(id)).to.deep.equal({'A.B-C': 'x'})
    })
  })

  describe('service secret files', () => {
    it('bulk PUT replaces all, the list pages, single PUT is 201, DELETE 204 then 404', async () => {
      const id = fake.addService({name: 'api', secretFiles: {'old.pem': 'o'}})
      const bulk = await call('PUT', `/services/${id}/secret-files`, {body: [{name: 'a.pem', content: 'A'}, {name: 'b.pem', content: 'B'}]})
      expect(bulk.status).to.equal(200)
      expect(bulk.json.map((x: {secretFile: {name: string}}) => x.secretFile.name)).to.deep.equal(['a.pem', 'b.pem'])
      expect(fake.secretFiles(id)).to.deep.equal({'a.pem': 'A', 'b.pem': 'B'})
      const page = await call('GET', `/services/${id}/secret-files?limit=1`)
      expect(page.json).to.have.length(1)
      const rest = await call('GET', `/services/${id}/secret-files?limit=1&cursor=${encodeURIComponent(page.json[0].cursor)}`)
      expect(rest.json[0].secretFile).to.deep.equal({name: 'b.pem', content: 'B'})
      const one = await call('PUT', `/services/${id}/secret-files/c.pem`, {body: {content: 'C'}})
      expect(one.status).to.equal(201)
      expect(one.json).to.deep.equal({name: 'c.pem', content: 'C'})
      expect((await call('GET', `/services/${id}/secret-files/c.pem`)).json).to.deep.equal({name: 'c.pem', content: 'C'})
      expectError(await call('PUT', `/services/${id}/secret-files/d.pem`, {body: 'just a string'}), 400)
      expectError(await call('PUT', `/services/${id}/secret-files`, {body: [{name: 'x'}]}), 400)
      expect((await call('DELETE', `/services/${id}/secret-files/a.pem`)).status).to.equal(204)
      expectError(await call('DELETE', `/services/${id}/secret-files/a.pem`), 404)
      expect(fake.secretFiles(id)).to.deep.equal({'b.pem': 'B', 'c.pem': 'C'})
    })
  })

  describe('env groups', () => {
    it('lists by name; the group is read whole (vars and files inline, not paged)', async () => {
      const api = fake.addService({name: 'api'})
      const vars = manyVars(150, 'G')
      const {envGroups} = fake.seed({envGroups: [{name: 'shared', envVars: vars, secretFiles: {'ca.pem': 'CA'}, services: ['api']}, {name: 'other'}]})
      const list = await call('GET', '/env-groups?name=shared')
      expect(list.status).to.equal(200)
      expect(list.json).to.have.length(1)
      expect(list.json[0]).to.include({id: envGroups.shared, name: 'shared'})
      expect(list.json[0].serviceLinks).to.deep.equal([{id: api, name: 'api', type: 'web'}])
      const group = await call('GET', `/env-groups/${envGroups.shared}`)
      expect(group.status).to.equal(200)
      expect(group.json.envVars).to.have.length(150)
      expect(Object.fromEntries(group.json.envVars.map((v: {key: string; value: string}) => [v.key, v.value]))).to.deep.equal(vars)
      expect(group.json.secretFiles).to.deep.equal([{name: 'ca.pem', content: 'CA'}])
      expectError(await call('GET', '/env-groups/evg-nope'), 404)
    })

    it('pages the list with the last group id as the cursor (assumed: the spec gives list items no cursor)', async () => {
      for (let i = 0; i < 3; i++) fake.addEnvGroup({name: `g${i}`})
      const first = await call('GET', '/env-groups?limit=2')
      expect(first.json.map((g: {name: string}) => g.name)).to.deep.equal(['g0', 'g1'])
      const next = await call('GET', `/env-groups?limit=2&cursor=${first.json[1].id}`)
      expect(next.json.map((g: {name: string}) => g.name)).to.deep.equal(['g2'])
    })

    it('PUT of one var answers 200 with the whole group (as the spec says); DELETE 204 then 404', async () => {
      const g = fake.addEnvGroup({name: 'shared', envVars: {A: 'a'}})
      const put = await call('PUT', `/env-groups/${g}/env-vars/B`, {body: {value: 'b'}})
      expect(put.status).to.equal(200)
      expect(put.json.id).to.equal(g)
      expect(put.json.envVars).to.deep.equal([{key: 'A', value: 'a'}, {key: 'B', value: 'b'}])
      expect((await call('GET', `/env-groups/${g}/env-vars/B`)).json).to.deep.equal({key: 'B', value: 'b'})
      expect((await call('DELETE', `/env-groups/${g}/env-vars/A`)).status).to.equal(204)
      expectError(await call('DELETE', `/env-groups/${g}/env-vars/A`), 404)
      expectError(await call('PUT', `/env-groups/${g}/env-vars/C`, {body: {val: 'c'}}), 400)
      expect(fake.envGroup('shared')!.envVars).to.deep.equal({B: 'b'})
    })

    it('secret files of a group: PUT 200 with the group, GET one, DELETE 204 then 404', async () => {
      const g = fake.addEnvGroup({name: 'shared'})
      const put = await call('PUT', `/env-groups/${g}/secret-files/key.pem`, {body: {content: 'K'}})
      expect(put.status).to.equal(200)
      expect(put.json.secretFiles).to.deep.equal([{name: 'key.pem', content: 'K'}])
      expect((await call('GET', `/env-groups/${g}/secret-files/key.pem`)).json).to.deep.equal({name: 'key.pem', content: 'K'})
      expect((await call('DELETE', `/env-groups/${g}/secret-files/key.pem`)).status).to.equal(204)
      expectError(await call('DELETE', `/env-groups/${g}/secret-files/key.pem`), 404)
    })
  })

  describe('deploys', () => {
    it('POST /deploys {} answers 201 with a deploy and counts per service', async () => {
      const {services} = fake.seed({services: [{name: 'api'}, {name: 'web'}]})
      const res = await call('POST', `/services/${services.api}/deploys`, {body: {}})
      expect(res.status).to.equal(201)
      expect(res.json.id).to.match(/^dep-[a-z0-9]{20}$/)
      expect(res.json.status).to.equal('created')
      await call('POST', `/services/${services.api}/deploys`, {body: {clearCache: 'clear'}})
      expect(fake.deployCount(services.api!)).to.equal(2)
      expect(fake.deployCount('web')).to.equal(0)
      expect(fake.service('api')!.deploys[1]!.clearCache).to.equal('clear')
    })

    it('can answer 202 with no body instead; the body is required and checked', async () => {
      const f = await boot({deployResponse: 202})
      const id = f.addService({name: 'api'})
      const res = await call('POST', `/services/${id}/deploys`, {body: {}, on: f})
      expect(res.status).to.equal(202)
      expect(res.text).to.equal('')
      expect(f.deployCount(id)).to.equal(1)
      f.setDeployResponse(201)
      expect((await call('POST', `/services/${id}/deploys`, {body: {}, on: f})).status).to.equal(201)
      expectError(await call('POST', `/services/${id}/deploys`, {on: f}), 400)
      expectError(await call('POST', `/services/${id}/deploys`, {body: {clearCache: 'sometimes'}, on: f}), 400)
      expect(f.deployCount(id)).to.equal(2)
    })
  })

  describe('rate limits', () => {
    it('every response carries Ratelimit-Limit/-Remaining/-Reset (seconds)', async () => {
      const id = fake.addService({name: 'api'})
      const responses = [
        await call('GET', `/services/${id}/env-vars`),
        await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 'a'}}),
        await call('GET', '/nothing'),
        await call('GET', '/services?limit=0'),
        await call('GET', `/services/${id}/env-vars`, {key: null}),
        await call('POST', `/services/${id}/deploys`, {body: {}}),
      ]
      for (const r of responses) {
        expect(r.headers.get('ratelimit-limit'), `${r.status}`).to.match(/^\d+$/)
        expect(r.headers.get('ratelimit-remaining')).to.match(/^\d+$/)
        expect(r.headers.get('ratelimit-reset')).to.match(/^\d+$/)
      }
      expect(responses[0]!.headers.get('ratelimit-limit')).to.equal('400')
      expect(responses[0]!.headers.get('ratelimit-remaining')).to.equal('399')
      expect(responses[0]!.headers.get('ratelimit-reset')).to.equal('60')
      expect(responses[1]!.headers.get('ratelimit-limit')).to.equal('30')
      expect(responses[1]!.headers.get('ratelimit-remaining')).to.equal('29')
      expect(responses[3]!.headers.get('ratelimit-remaining')).to.equal('397') // the 3rd counted GET (a 404 and a 400 count too)
      expect(responses[4]!.headers.get('ratelimit-remaining')).to.equal('400') // a 401 uses no budget
      expect(responses[5]!.headers.get('ratelimit-limit')).to.equal('10')
      expect(responses[5]!.headers.get('ratelimit-remaining')).to.equal('9')
    })

    it("Render's budget by default: GET 400, writes 30, deploys 10 per minute", () => {
      expect(fake.limits).to.deep.equal({get: 400, write: 30, deploy: 10, windowMs: 60_000})
      expect(RENDER_RATE_LIMITS).to.deep.equal(fake.limits)
    })

    it('the 31st write in a minute is 429 with Retry-After and is not applied; after advancing the clock it passes', async () => {
      const id = fake.addService({name: 'api'})
      for (let i = 0; i < 30; i++) {
        const method = i % 3 === 2 ? 'DELETE' : 'PUT'
        const res = await call(method, `/services/${id}/env-vars/K${i}`, method === 'PUT' ? {body: {value: String(i)}} : {})
        expect([200, 404]).to.include(res.status)
      }
      fake.advance(20_000)
      const limited = await call('PUT', `/services/${id}/env-vars/LATE`, {body: {value: 'x'}})
      expectError(limited, 429)
      expect(limited.headers.get('retry-after')).to.equal('40')
      expect(limited.headers.get('ratelimit-remaining')).to.equal('0')
      expect(limited.headers.get('ratelimit-reset')).to.equal('40')
      expect(fake.envVars(id)).not.to.have.property('LATE')
      expect((await call('GET', `/services/${id}/env-vars`)).status).to.equal(200) // reads have their own budget
      fake.advance(40_000)
      const after = await call('PUT', `/services/${id}/env-vars/LATE`, {body: {value: 'x'}})
      expect(after.status).to.equal(200)
      expect(after.headers.get('ratelimit-remaining')).to.equal('29')
      expect(fake.envVars(id).LATE).to.equal('x')
    })

    it('deploys: 10 per minute per service, apart from the write budget', async () => {
      const {services} = fake.seed({services: [{name: 'api'}, {name: 'web'}]})
      for (let i = 0; i < 10; i++) expect((await call('POST', `/services/${services.api}/deploys`, {body: {}})).status).to.equal(201)
      const limited = await call('POST', `/services/${services.api}/deploys`, {body: {}})
      expectError(limited, 429)
      expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60)
      expect(fake.deployCount(services.api!)).to.equal(10)
      expect((await call('POST', `/services/${services.web}/deploys`, {body: {}})).status).to.equal(201)
      const write = await call('PUT', `/services/${services.api}/env-vars/A`, {body: {value: 'a'}})
      expect(write.headers.get('ratelimit-remaining')).to.equal('29')
      fake.advance(60_000)
      expect((await call('POST', `/services/${services.api}/deploys`, {body: {}})).status).to.equal(201)
    })

    it('limits are configurable (a tiny budget for a test) and per API key', async () => {
      const f = await boot({limits: {get: 2, windowMs: 1000}, apiKeys: [DEFAULT_API_KEY, 'rnd_second']})
      expect((await call('GET', '/services', {on: f})).status).to.equal(200)
      expect((await call('GET', '/services', {on: f})).status).to.equal(200)
      const limited = await call('GET', '/services', {on: f})
      expectError(limited, 429)
      expect(limited.headers.get('retry-after')).to.equal('1')
      expect(limited.headers.get('ratelimit-limit')).to.equal('2')
      expect((await call('GET', '/services', {on: f, key: 'rnd_second'})).status).to.equal(200)
      f.advance(1000)
      expect((await call('GET', '/services', {on: f})).status).to.equal(200)
      f.setLimits({get: 400})
      expect((await call('GET', '/services', {on: f})).headers.get('ratelimit-limit')).to.equal('400')
    })

    it('the default clock is real time plus what advance() adds', async () => {
      const f = await startRenderFake({limits: {write: 1}})
      started.push(f)
      const id = f.addService({name: 'api'})
      const before = Date.now()
      expect(f.now()).to.be.within(before - 5, before + 1000)
      expect((await call('PUT', `/services/${id}/env-vars/A`, {body: {value: '1'}, on: f})).status).to.equal(200)
      expect((await call('PUT', `/services/${id}/env-vars/A`, {body: {value: '2'}, on: f})).status).to.equal(429)
      f.advance(60_000)
      expect(f.now()).to.be.at.least(before + 60_000)
      expect((await call('PUT', `/services/${id}/env-vars/A`, {body: {value: '2'}, on: f})).status).to.equal(200)
    })
  })

  describe('faults', () => {
    let id: string
    beforeEach(() => {
      id = fake.addService({name: 'api', envVars: {A: 'a'}})
    })

    it('latency delays the answer', async () => {
      fake.faults.once(latency(150))
      const t = performance.now()
      const res = await call('GET', `/services/${id}/env-vars`)
      expect(performance.now() - t).to.be.at.least(140)
      expect(res.status).to.equal(200)
      expect(fake.log().at(-1)!.fault).to.equal('latency')
    })

    it('an injected 429 carries Retry-After and Render’s error shape; nothing is applied', async () => {
      fake.faults.once(renderFault(429, {retryAfter: 7}))
      const res = await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 'new'}})
      expectError(res, 429)
      expect(res.headers.get('retry-after')).to.equal('7')
      expect(res.headers.get('ratelimit-remaining')).to.equal('0')
      expect(res.headers.get('ratelimit-limit')).to.equal('30')
      expect(fake.envVars(id).A).to.equal('a')
      expect((await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 'new'}})).status).to.equal(200) // once
    })

    it('500 and 503 answer {id, message} and apply nothing; a proxy page given with the fault goes out verbatim', async () => {
      fake.faults.once(renderFault(500)).once(renderFault(503))
      expectError(await call('PUT', `/services/${id}/env-vars`, {body: []}), 500)
      expectError(await call('PUT', `/services/${id}/env-vars`, {body: []}), 503)
      expect(fake.envVars(id)).to.deep.equal({A: 'a'})
      fake.faults.once(serverError(503))
      const proxy = await call('GET', `/services/${id}/env-vars`)
      expect(proxy.status).to.equal(503)
      expect(proxy.headers.get('content-type')).to.match(/text\/html/)
      expect(proxy.text).to.include('Service Unavailable')
    })

    it('a dropped connection: the client sees a network error and nothing is applied', async () => {
      fake.faults.once(drop())
      let error: unknown
      await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 'dropped'}}).catch((e) => (error = e))
      expect(error).to.be.instanceOf(TypeError) // fetch failed
      expect(fake.envVars(id).A).to.equal('a')
      const entry = fake.log().at(-1)!
      expect(entry).to.include({status: 0, fault: 'drop', operationId: 'update-env-var'})
      expect(fake.counters().byStatus.dropped).to.equal(1)
    })

    it('applied then dropped: the write happens, the client still sees a network error', async () => {
      fake.faults.once(applyThenDrop())
      let error: unknown
      await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 'applied'}}).catch((e) => (error = e))
      expect(error).to.be.instanceOf(TypeError)
      expect(fake.envVars(id).A).to.equal('applied')
      expect(fake.log().at(-1)).to.include({status: 0, fault: 'applyThenDrop', applied: true})
      expect(fake.counters().byMethod.PUT).to.equal(1) // the client did not silently retry
    })

    it('faults can target an operation, a number of requests, or a seeded probability (reproducible)', async () => {
      fake.faults.once(renderFault(503), {match: {operationId: 'update-env-var'}, times: 2})
      expect((await call('GET', `/services/${id}/env-vars`)).status).to.equal(200)
      expect((await call('PUT', `/services/${id}/env-vars/B`, {body: {value: 'b'}})).status).to.equal(503)
      expect((await call('PUT', `/services/${id}/env-vars/B`, {body: {value: 'b'}})).status).to.equal(503)
      expect((await call('PUT', `/services/${id}/env-vars/B`, {body: {value: 'b'}})).status).to.equal(200)

      const run = async (seed: number): Promise<number[]> => {
        const f = await boot()
        const sid = f.addService({name: 'api'})
        f.faults.random([{probability: 0.3, fault: renderFault(503)}], {seed, match: {method: 'GET'}})
        const statuses: number[] = []
        for (let i = 0; i < 30; i++) statuses.push((await call('GET', `/services/${sid}/env-vars`, {on: f})).status)
        return statuses
      }
      const a = await run(42)
      const b = await run(42)
      expect(a).to.deep.equal(b)
      expect(a.filter((s) => s === 503).length).to.be.within(3, 18)
      expect(a.every((s) => s === 200 || s === 503)).to.equal(true)
    })
  })

  describe('log, counters, reset', () => {
    it('no value, secret file content or API key ever appears in the request log', async () => {
      const secrets = Array.from({length: 8}, () => canary('RENDER'))
      const [s0, s1, s2, s3, s4, s5, s6, s7] = secrets as [string, string, string, string, string, string, string, string]
      const id = fake.addService({name: 'api', envVars: {SEEDED: s0}, secretFiles: {'seed.pem': s1}})
      const g = fake.addEnvGroup({name: 'shared', envVars: {G: s2}})
      await call('GET', `/services/${id}/env-vars`)
      await call('PUT', `/services/${id}/env-vars`, {body: [{key: 'SEEDED', value: s3}, {key: 'GEN', generateValue: true}]})
      await call('PUT', `/services/${id}/env-vars/ONE`, {body: {value: s4}})
      await call('PUT', `/services/${id}/env-vars/BAD`, {body: {value: s5, generateValue: true}}) // 400
      await call('PUT', `/services/${id}/secret-files`, {body: [{name: 'f.pem', content: s6}]})
      await call('PUT', `/env-groups/${g}/env-vars/G`, {body: {value: s7}})
      await call('GET', `/env-groups/${g}`)
      fake.faults.once(drop())
      await call('PUT', `/services/${id}/env-vars/ONE`, {body: {value: s4}}).catch(() => undefined)
      await call('PUT', `/services/${id}/env-vars/X`, {raw: `{"value": "${s5}"`}) // invalid JSON
      const generated = fake.envVars(id).GEN!
      const log = fake.log()
      const text = JSON.stringify(log)
      assertNoLeak(secrets, text)
      expect(text).not.to.include(generated)
      expect(text).not.to.include(DEFAULT_API_KEY)
      const bulk = log.find((e) => e.operationId === 'update-env-vars-for-service')!
      expect(bulk.bodyKeys).to.have.members(['key', 'value', 'generateValue'])
      expect(bulk.body).to.deep.equal([{key: 'SEEDED', value: '[REDACTED]'}, {key: 'GEN', generateValue: '[REDACTED]'}])
      expect(bulk.apiKey).to.equal('key1')
      expect(log.find((e) => e.path.endsWith('/env-vars/ONE'))!.bodyKeys).to.deep.equal(['value'])
      expect(log.map((e) => e.status)).to.deep.equal([200, 200, 200, 400, 200, 200, 200, 0, 400])
      // The values really went through (the log is redacted, not the fake).
      expect(fake.envVars(id)).to.include({SEEDED: s3, ONE: s4})
    })

    it('counts requests per method, operation and status', async () => {
      const id = fake.addService({name: 'api'})
      await call('GET', `/services/${id}/env-vars`)
      await call('GET', `/services/${id}/env-vars`)
      await call('PUT', `/services/${id}/env-vars/A`, {body: {value: 'a'}})
      await call('DELETE', `/services/${id}/env-vars/A`)
      await call('DELETE', `/services/${id}/env-vars/A`)
      await call('POST', `/services/${id}/deploys`, {body: {}})
      const c = fake.counters()
      expect(c.total).to.equal(6)
      expect(c.byMethod).to.deep.equal({GET: 2, PUT: 1, DELETE: 2, POST: 1})
      expect(c.byOperation).to.deep.equal({'get-env-vars-for-service': 2, 'update-env-var': 1, 'delete-env-var': 2, 'create-deploy': 1})
      expect(c.byStatus).to.deep.equal({'200': 3, '204': 1, '404': 1, '201': 1})
      expect(fake.log().map((e) => `${e.method} ${e.status}`)).to.deep.equal(['GET 200', 'GET 200', 'PUT 200', 'DELETE 204', 'DELETE 404', 'POST 201'])
    })

    it('reset() returns to a fresh fake', async () => {
      const f = await boot({limits: {write: 1}})
      const id = f.addService({name: 'api', envVars: {A: 'a'}})
      f.addApiKey('rnd_extra')
      f.setLimits({get: 1})
      f.faults.always(renderFault(500))
      await call('GET', `/services/${id}/env-vars`, {on: f})
      f.reset()
      expect(f.state().services).to.deep.equal([])
      expect(f.state().apiKeys).to.deep.equal(['key1'])
      expect(f.log()).to.deep.equal([])
      expect(f.counters().total).to.equal(0)
      expect(f.limits).to.deep.equal({get: 400, write: 1, deploy: 10, windowMs: 60_000})
      expect((await call('GET', '/services', {on: f})).status).to.equal(200)
      expectError(await call('GET', '/services', {on: f, key: 'rnd_extra'}), 401)
    })
  })
})
