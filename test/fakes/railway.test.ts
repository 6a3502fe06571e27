import {expect} from 'chai'

import {documents} from '../../src/targets/railway-documents.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {applyThenDrop, drop, FaultInjector, HTML_429, latency, serverError, tooManyRequests} from './faults.js'
import {MAX_PAGE, NOT_AUTHORIZED, REDACTED, start, VARIABLE_NOT_FOUND, type RailwayFake, type Scope, type SeededProject} from './railway.js'

/**
 * The Railway fake itself (test/fakes/railway.ts): if it is wrong, every Railway test built on
 * it is wrong. Requests go over real HTTP with fetch, as envsync's client sends them.
 */

interface Answer {
  status: number
  text: string
  json: {data?: Record<string, any> | null; errors?: {message: string}[]} | undefined
  headers: Headers
}

describe('Railway fake', () => {
  let fake: RailwayFake
  let shop: SeededProject
  let other: SeededProject
  let account: string
  let prodToken: string
  let prod: {shared: Scope; backend: Scope; frontend: Scope; postgres: Scope}

  async function post(query: string, variables: object = {}, headers: Record<string, string> | 'account' | 'project' | 'none' = 'account', url = fake.url): Promise<Answer> {
    const auth = headers === 'account' ? {authorization: `Bearer ${account}`} : headers === 'project' ? {'project-access-token': prodToken} : headers === 'none' ? {} : headers
    const res = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json', ...auth}, body: JSON.stringify({query, variables})})
    const text = await res.text()
    let json
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return {status: res.status, text, json, headers: res.headers}
  }

  const read = async (scope: Scope, unrendered?: boolean, headers: Parameters<typeof post>[2] = 'account') => {
    const q = unrendered === undefined
      ? 'query R($projectId: String!, $environmentId: String!, $serviceId: String) { variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId) }'
      : 'query R($projectId: String!, $environmentId: String!, $serviceId: String, $u: Boolean) { variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, unrendered: $u) }'
    const a = await post(q, {...scope, ...(unrendered === undefined ? {} : {u: unrendered})}, headers)
    expect(a.json?.errors, a.text).to.equal(undefined)
    return a.json!.data!.variables as Record<string, string | null>
  }

  const upsert = (input: Record<string, unknown>, headers: Parameters<typeof post>[2] = 'account') => post(documents.UPSERT, {input}, headers)
  const notAuthorized = (a: Answer) => {
    expect(a.status, a.text).to.equal(200)
    expect(a.json?.data, a.text).to.equal(null)
    expect(a.json?.errors?.map((e) => e.message)).to.deep.equal([NOT_AUTHORIZED])
  }

  before(async () => {
    fake = await start()
  })

  after(async () => {
    await fake.stop()
  })

  beforeEach(() => {
    fake.reset()
    shop = fake.addProject({name: 'shop', environments: ['production', 'staging'], services: ['backend', 'frontend', 'Postgres']})
    other = fake.addProject({name: 'other', services: ['api']})
    account = fake.accountToken()
    prodToken = fake.projectToken(shop.id, shop.environments.production!)
    const e = shop.environments.production!
    prod = {
      shared: {projectId: shop.id, environmentId: e},
      backend: {projectId: shop.id, environmentId: e, serviceId: shop.services.backend},
      frontend: {projectId: shop.id, environmentId: e, serviceId: shop.services.frontend},
      postgres: {projectId: shop.id, environmentId: e, serviceId: shop.services.Postgres},
    }
  })

  describe('server', () => {
    it('listens on 127.0.0.1 at a random port and serves POST /graphql/v2', async () => {
      expect(fake.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/graphql\/v2$/)
      expect(fake.port).to.be.greaterThan(0)
      expect((await fetch(`${fake.origin}/graphql`, {method: 'POST', body: '{}'})).status).to.equal(404)
      expect((await fetch(fake.url)).status).to.equal(405)
    })

    it('ids look like Railway UUIDs', () => {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
      for (const id of [shop.id, ...Object.values(shop.environments), ...Object.values(shop.services)]) expect(id).to.match(uuid)
    })

    it('two fakes run side by side with separate state', async () => {
      const second = await start()
      try {
        expect(second.port).to.not.equal(fake.port)
        const t = second.accountToken()
        const a = await post('query P { projects(first: 10) { edges { node { name } } } }', {}, {authorization: `Bearer ${t}`}, second.url)
        expect(a.json?.data?.projects.edges).to.deep.equal([])
      } finally {
        await second.stop()
      }
    })
  })

  describe('every envsync document runs', () => {
    it('PROJECT returns environments and services with pageInfo', async () => {
      const a = await post(documents.PROJECT, {id: shop.id})
      expect(a.status).to.equal(200)
      const p = a.json!.data!.project
      expect(p.name).to.equal('shop')
      expect(p.environments.edges.map((e: any) => e.node)).to.deep.equal([
        {id: shop.environments.production, name: 'production'},
        {id: shop.environments.staging, name: 'staging'},
      ])
      expect(p.services.edges.map((e: any) => e.node.name)).to.deep.equal(['backend', 'frontend', 'Postgres'])
      expect(p.services.pageInfo.hasNextPage).to.equal(false)
      expect(p.services.pageInfo.endCursor).to.be.a('string')
    })

    it('PROJECT_TOKEN, VARIABLES, UPSERT, DELETE, REDEPLOY', async () => {
      const t = await post(documents.PROJECT_TOKEN, {}, 'project')
      expect(t.json?.data?.projectToken).to.deep.equal({projectId: shop.id, environmentId: shop.environments.production})
      expect((await upsert({...prod.backend, variables: {A: '1'}, skipDeploys: true})).json?.data).to.deep.equal({variableCollectionUpsert: true})
      expect((await post(documents.VARIABLES, prod.backend)).json?.data).to.deep.equal({variables: {A: '1'}})
      expect((await post(documents.DELETE, {input: {...prod.backend, name: 'A'}})).json?.data).to.deep.equal({variableDelete: true})
      expect((await post(documents.REDEPLOY, {environmentId: prod.backend.environmentId, serviceId: prod.backend.serviceId})).json?.data).to.deep.equal({serviceInstanceRedeploy: true})
      expect(fake.variables(prod.backend)).to.deep.equal({})
    })
  })

  describe('documents are validated against the published schema', () => {
    it('an unknown field: errors, data null, nothing executed', async () => {
      const a = await post('query Q($id: String!) { project(id: $id) { id secretsPlease } }', {id: shop.id})
      expect(a.status).to.equal(400)
      expect(a.json?.data).to.equal(null)
      expect(a.json?.errors?.[0]?.message).to.match(/Cannot query field "secretsPlease" on type "Project"/)
      expect(fake.requests.at(-1)?.executed).to.equal(false)
    })

    it('an unknown argument on a mutation (variableDelete has no skipDeploys) is refused and applies nothing', async () => {
      fake.setVariables(prod.backend, {A: '1'})
      const a = await post('mutation D($i: VariableDeleteInput!) { variableDelete(input: $i, skipDeploys: true) }', {i: {...prod.backend, name: 'A'}})
      expect(a.json?.data).to.equal(null)
      expect(a.json?.errors?.[0]?.message).to.match(/Unknown argument "skipDeploys"/)
      expect(fake.variables(prod.backend)).to.deep.equal({A: '1'})
    })

    it('a syntax error and a missing required variable are errors with data null', async () => {
      const syntax = await post('query {', {})
      expect(syntax.json?.data).to.equal(null)
      expect(syntax.json?.errors?.[0]?.message).to.match(/^Syntax Error/)
      const missing = await upsert({projectId: shop.id})
      expect(missing.json?.data).to.equal(null)
      expect(missing.json?.errors?.map((e) => e.message).join('\n')).to.match(/Field "environmentId" of required type "String!" was not provided/)
    })

    it('validation comes before authentication (a bad document with no token is still a validation error)', async () => {
      const a = await post('query { project(id: "x") { nope } }', {}, 'none')
      expect(a.json?.errors?.[0]?.message).to.match(/Cannot query field "nope"/)
    })

    it('a valid document for a field the fake does not implement says so (not a silent null)', async () => {
      const a = await post('query { me { id } }')
      expect(a.json?.data).to.equal(null)
      expect(a.json?.errors?.[0]?.message).to.equal('Query.me is not implemented in the envsync Railway fake')
    })

    it('invalidDocumentStatus: 200 answers invalid documents with HTTP 200', async () => {
      const lenient = await start({invalidDocumentStatus: 200})
      try {
        const t = lenient.accountToken()
        const a = await post('query { project(id: "x") { nope } }', {}, {authorization: `Bearer ${t}`}, lenient.url)
        expect(a.status).to.equal(200)
        expect(a.json?.data).to.equal(null)
        expect(a.json?.errors).to.have.length(1)
      } finally {
        await lenient.stop()
      }
    })
  })

  describe('authentication', () => {
    it('no token, a wrong token: HTTP 200, errors [Not Authorized], data null', async () => {
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, 'none'))
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, {authorization: 'Bearer nope'}))
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, {authorization: account}))
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, {'project-access-token': 'nope'}))
    })

    it('the wrong header for a token is Not Authorized, and so are both headers at once', async () => {
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, {authorization: `Bearer ${prodToken}`}))
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, {'project-access-token': account}))
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, {authorization: `Bearer ${account}`, 'project-access-token': prodToken}))
      expect(fake.requests.map((r) => r.auth)).to.deep.equal(['invalid', 'invalid', 'both'])
    })

    it('a project token: projectToken tells its scope; it works there and nowhere else', async () => {
      expect((await post(documents.PROJECT, {id: shop.id}, 'project')).json?.data?.project.name).to.equal('shop')
      expect(await read(prod.backend, true, 'project')).to.deep.equal({})
      expect((await upsert({...prod.backend, variables: {A: '1'}, skipDeploys: true}, 'project')).json?.data).to.deep.equal({variableCollectionUpsert: true})
      const staging = {...prod.backend, environmentId: shop.environments.staging}
      notAuthorized(await post(documents.VARIABLES, staging, 'project'))
      notAuthorized(await upsert({...staging, variables: {A: '1'}}, 'project'))
      notAuthorized(await post(documents.REDEPLOY, {environmentId: staging.environmentId, serviceId: staging.serviceId}, 'project'))
      notAuthorized(await post(documents.PROJECT, {id: other.id}, 'project'))
      notAuthorized(await post(documents.VARIABLES, {projectId: other.id, environmentId: other.environments.production}, 'project'))
      notAuthorized(await post(documents.PROJECTS, {}, 'project'))
      expect(fake.variables({...staging})).to.deep.equal({})
    })

    it('projectToken with an account token is Not Authorized', async () => {
      notAuthorized(await post(documents.PROJECT_TOKEN, {}))
    })

    it('an account token limited to some projects sees only those', async () => {
      const limited = fake.accountToken({projects: [other.id]})
      const h = {authorization: `Bearer ${limited}`}
      notAuthorized(await post(documents.PROJECT, {id: shop.id}, h))
      expect((await post(documents.PROJECTS, {}, h)).json?.data?.projects.edges.map((e: any) => e.node.name)).to.deep.equal(['other'])
    })

    it('unknown projects, environments and services are Not Authorized', async () => {
      notAuthorized(await post(documents.PROJECT, {id: '00000000-0000-4000-8000-000000000000'}))
      notAuthorized(await post(documents.VARIABLES, {...prod.backend, environmentId: other.environments.production}))
      notAuthorized(await post(documents.VARIABLES, {...prod.backend, serviceId: other.services.api}))
    })
  })

  describe('variables: rendered and unrendered reads', () => {
    beforeEach(() => {
      fake.setVariables(prod.shared, {DOMAIN: 'shop.example', REGION: 'eu'})
      fake.setVariables(prod.postgres, {DATABASE_URL: 'postgres://pg.internal/shop', PGPASSWORD: 'pw'})
      fake.setVariables(prod.backend, {
        DB: '${{Postgres.DATABASE_URL}}',
        API: 'https://${{shared.DOMAIN}}/api',
        SELF: '${{PORT}}-x',
        PORT: '8080',
        GHOST: '${{Nope.X}}|${{shared.NOPE}}',
        PLAIN: 'plain',
      })
    })

    it('unrendered: true returns references literally', async () => {
      expect(await read(prod.backend, true)).to.deep.equal({
        DB: '${{Postgres.DATABASE_URL}}',
        API: 'https://${{shared.DOMAIN}}/api',
        SELF: '${{PORT}}-x',
        PORT: '8080',
        GHOST: '${{Nope.X}}|${{shared.NOPE}}',
        PLAIN: 'plain',
      })
    })

    it('the envsync VARIABLES document asks for unrendered values', async () => {
      const a = await post(documents.VARIABLES, prod.backend)
      expect(a.json?.data?.variables.DB).to.equal('${{Postgres.DATABASE_URL}}')
    })

    for (const unrendered of [undefined, false]) {
      it(`unrendered ${unrendered === undefined ? 'omitted' : 'false'}: references are rendered, unknown ones empty`, async () => {
        const v = await read(prod.backend, unrendered)
        expect(v).to.include({DB: 'postgres://pg.internal/shop', API: 'https://shop.example/api', SELF: '8080-x', PORT: '8080', GHOST: '|', PLAIN: 'plain'})
      })
    }

    it('rendered service reads add the Railway-provided variables; unrendered reads do not', async () => {
      const rendered = await read(prod.backend, false)
      expect(rendered).to.include({RAILWAY_SERVICE_NAME: 'backend', RAILWAY_PROJECT_ID: shop.id, RAILWAY_ENVIRONMENT_NAME: 'production'})
      expect(Object.keys(await read(prod.backend, true)).some((k) => k.startsWith('RAILWAY_'))).to.equal(false)
      expect(Object.keys(await read(prod.shared, false)).some((k) => k.startsWith('RAILWAY_'))).to.equal(false)
    })

    it('no serviceId reads the shared variables', async () => {
      expect(await read(prod.shared, true)).to.deep.equal({DOMAIN: 'shop.example', REGION: 'eu'})
    })

    it('sealed variables read as null (rendered or not), references to them render empty', async () => {
      fake.setVariables(prod.postgres, {PGPASSWORD: 'sealed-pw'}, {sealed: true})
      fake.setVariables(prod.backend, {PW: '${{Postgres.PGPASSWORD}}', TOKEN: 'sealed-token'})
      fake.seal(prod.backend, 'TOKEN')
      expect((await read(prod.backend, true)).TOKEN).to.equal(null)
      expect(await read(prod.backend, false)).to.include({TOKEN: null, PW: ''})
      expect(await read(prod.postgres, true)).to.deep.equal({DATABASE_URL: 'postgres://pg.internal/shop', PGPASSWORD: null})
      expect(fake.sealed(prod.postgres)).to.deep.equal(['PGPASSWORD'])
      expect(fake.variables(prod.postgres).PGPASSWORD).to.equal('sealed-pw')
    })

    it('RAILWAY_* names are stored and recorded; Railway’s own value wins when rendered', async () => {
      await upsert({...prod.backend, variables: {RAILWAY_SERVICE_NAME: 'mine', RAILWAY_DOCKERFILE_PATH: 'Dockerfile.prod'}, skipDeploys: true})
      expect(await read(prod.backend, true)).to.include({RAILWAY_SERVICE_NAME: 'mine', RAILWAY_DOCKERFILE_PATH: 'Dockerfile.prod'})
      expect(await read(prod.backend, false)).to.include({RAILWAY_SERVICE_NAME: 'backend', RAILWAY_DOCKERFILE_PATH: 'Dockerfile.prod'})
      expect(fake.reservedWrites.map((w) => w.name)).to.deep.equal(['RAILWAY_SERVICE_NAME', 'RAILWAY_DOCKERFILE_PATH'])
    })
  })

  describe('variableCollectionUpsert', () => {
    beforeEach(() => {
      fake.setVariables(prod.backend, {KEEP: 'hand-set', DB: '${{Postgres.DATABASE_URL}}', OLD: 'old'})
    })

    it('merges: names not in the payload are left alone, references stay literal', async () => {
      await upsert({...prod.backend, variables: {OLD: 'new', ADDED: 'a'}, skipDeploys: true})
      expect(fake.variables(prod.backend)).to.deep.equal({KEEP: 'hand-set', DB: '${{Postgres.DATABASE_URL}}', OLD: 'new', ADDED: 'a'})
      expect(fake.replaceUpserts).to.deep.equal([])
    })

    it('replace: true deletes every variable not in the payload, and is recorded', async () => {
      await upsert({...prod.backend, variables: {OLD: 'new'}, replace: true, skipDeploys: true})
      expect(fake.variables(prod.backend)).to.deep.equal({OLD: 'new'})
      expect(fake.replaceUpserts).to.deep.equal([{scope: prod.backend, removed: ['KEEP', 'DB']}])
    })

    it('upserting a sealed variable sets a new value and it stays sealed', async () => {
      fake.seal(prod.backend, 'OLD')
      await upsert({...prod.backend, variables: {OLD: 'rotated'}, skipDeploys: true})
      expect(fake.variables(prod.backend).OLD).to.equal('rotated')
      expect(fake.sealed(prod.backend)).to.deep.equal(['OLD'])
      expect((await read(prod.backend, true)).OLD).to.equal(null)
    })

    it('without skipDeploys: one deploy of the service per request, however many variables changed', async () => {
      await upsert({...prod.backend, variables: {A: '1', B: '2', C: '3'}})
      expect(fake.deployCount(shop.services.backend!)).to.equal(1)
      expect(fake.deploys()).to.have.length(1)
      expect(fake.deploys()[0]).to.include({serviceId: shop.services.backend, environmentId: prod.backend.environmentId, cause: 'upsert'})
      await upsert({...prod.backend, variables: {A: '1'}})
      expect(fake.deployCount(shop.services.backend!)).to.equal(2)
    })

    it('skipDeploys: true: no deploy at all', async () => {
      await upsert({...prod.backend, variables: {A: '1'}, skipDeploys: true})
      await upsert({...prod.shared, variables: {S: '1'}, skipDeploys: true})
      expect(fake.deploys()).to.deep.equal([])
    })

    it('a shared change without skipDeploys redeploys only the services referencing a changed name', async () => {
      fake.setVariables(prod.frontend, {API: 'https://${{shared.DOMAIN}}'})
      fake.setVariables(prod.postgres, {X: '${{shared.OTHER}}'})
      await upsert({...prod.shared, variables: {DOMAIN: 'shop.example'}})
      expect(fake.deploys().map((d) => d.serviceId)).to.deep.equal([shop.services.frontend])
    })

    it('values must be strings; nothing is written otherwise', async () => {
      const a = await upsert({...prod.backend, variables: {A: 'ok', N: 5}, skipDeploys: true})
      expect(a.json?.data).to.equal(null)
      expect(a.json?.errors?.[0]?.message).to.match(/N: value must be a string/)
      expect(fake.variables(prod.backend)).to.not.have.property('A')
    })

    it('variableUpsert writes one variable (and deploys unless skipDeploys)', async () => {
      const a = await post('mutation U($input: VariableUpsertInput!) { variableUpsert(input: $input) }', {input: {...prod.backend, name: 'ONE', value: '1'}})
      expect(a.json?.data).to.deep.equal({variableUpsert: true})
      expect(fake.variables(prod.backend).ONE).to.equal('1')
      expect(fake.deployCount(shop.services.backend!)).to.equal(1)
    })
  })

  describe('variableDelete', () => {
    it('removes one variable, leaves the others, and redeploys (it has no skipDeploys)', async () => {
      fake.setVariables(prod.backend, {A: '1', B: '2'})
      const a = await post(documents.DELETE, {input: {...prod.backend, name: 'A'}})
      expect(a.json?.data).to.deep.equal({variableDelete: true})
      expect(fake.variables(prod.backend)).to.deep.equal({B: '2'})
      expect(fake.deploys({cause: 'delete'}).map((d) => d.serviceId)).to.deep.equal([shop.services.backend])
    })

    it('a shared variable is deleted without serviceId', async () => {
      fake.setVariables(prod.shared, {S: '1'})
      await post(documents.DELETE, {input: {...prod.shared, name: 'S'}})
      expect(fake.variables(prod.shared)).to.deep.equal({})
    })

    it(`a missing name: "${VARIABLE_NOT_FOUND}", data null, no deploy`, async () => {
      const a = await post(documents.DELETE, {input: {...prod.backend, name: 'MISSING'}})
      expect(a.status).to.equal(200)
      expect(a.json?.data).to.equal(null)
      expect(a.json?.errors?.map((e) => e.message)).to.deep.equal([VARIABLE_NOT_FOUND])
      expect(fake.deploys()).to.deep.equal([])
    })

    it("deleteMissing: 'ok' answers true instead", async () => {
      const lenient = await start({deleteMissing: 'ok'})
      try {
        const p = lenient.addProject({name: 'x', services: ['s']})
        const t = lenient.accountToken()
        const a = await post(documents.DELETE, {input: {projectId: p.id, environmentId: p.environments.production, serviceId: p.services.s, name: 'MISSING'}}, {authorization: `Bearer ${t}`}, lenient.url)
        expect(a.json?.data).to.deep.equal({variableDelete: true})
      } finally {
        await lenient.stop()
      }
    })
  })

  describe('serviceInstanceRedeploy', () => {
    it('records exactly one deploy of that service in that environment', async () => {
      await post(documents.REDEPLOY, {environmentId: shop.environments.staging, serviceId: shop.services.frontend})
      expect(fake.deploys()).to.have.length(1)
      expect(fake.deploys()[0]).to.include({serviceId: shop.services.frontend, environmentId: shop.environments.staging, cause: 'redeploy'})
      expect(fake.deployCount(shop.services.frontend!, shop.environments.production)).to.equal(0)
    })

    it('a service of another project is Not Authorized and not deployed', async () => {
      notAuthorized(await post(documents.REDEPLOY, {environmentId: shop.environments.production, serviceId: other.services.api}))
      expect(fake.deploys()).to.deep.equal([])
    })
  })

  describe('paging', () => {
    it(`more than ${MAX_PAGE} projects come in two pages of the PROJECTS document`, async () => {
      for (let i = 0; i < 128; i++) fake.addProject({name: `p${String(i).padStart(3, '0')}`})
      const first = (await post(documents.PROJECTS, {})).json!.data!.projects
      expect(first.edges).to.have.length(100)
      expect(first.pageInfo.hasNextPage).to.equal(true)
      const second = (await post(documents.PROJECTS, {after: first.pageInfo.endCursor})).json!.data!.projects
      expect(second.edges).to.have.length(30)
      expect(second.pageInfo.hasNextPage).to.equal(false)
      const names = [...first.edges, ...second.edges].map((e: any) => e.node.name)
      expect(new Set(names).size).to.equal(130)
      expect(names.slice(0, 2)).to.deep.equal(['shop', 'other'])
    })

    it('first defaults to 20 and is capped at 100; an unknown cursor is an error', async () => {
      for (let i = 0; i < 150; i++) fake.addProject({name: `p${i}`})
      const q = 'query P($first: Int, $after: String) { projects(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }'
      expect((await post(q, {})).json!.data!.projects.edges).to.have.length(20)
      expect((await post(q, {first: 500})).json!.data!.projects.edges).to.have.length(100)
      const bad = await post(q, {after: 'bm90LWEtY3Vyc29y'})
      expect(bad.json?.data).to.equal(null)
      expect(bad.json?.errors?.[0]?.message).to.equal('Invalid cursor')
    })

    it('environments and services are connections too', async () => {
      for (let i = 0; i < 3; i++) fake.addService(shop.id, `svc${i}`)
      const q = 'query P($id: String!, $after: String) { project(id: $id) { services(first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } } }'
      const one = (await post(q, {id: shop.id})).json!.data!.project.services
      expect(one.edges.map((e: any) => e.node.name)).to.deep.equal(['backend', 'frontend'])
      const two = (await post(q, {id: shop.id, after: one.pageInfo.endCursor})).json!.data!.project.services
      expect(two.edges.map((e: any) => e.node.name)).to.deep.equal(['Postgres', 'svc0'])
      expect(two.pageInfo.hasNextPage).to.equal(true)
    })
  })

  describe('faults', () => {
    afterEach(() => fake.faults.clear())

    it('latency delays the answer, then the request is handled normally', async () => {
      fake.faults.once(latency(300))
      const t0 = performance.now()
      const a = await post(documents.PROJECT, {id: shop.id})
      expect(performance.now() - t0).to.be.at.least(290)
      expect(a.json?.data?.project.name).to.equal('shop')
    })

    it('429 with Retry-After and a JSON body; nothing applied', async () => {
      fake.faults.once(tooManyRequests(7))
      const a = await upsert({...prod.backend, variables: {A: '1'}})
      expect(a.status).to.equal(429)
      expect(a.headers.get('retry-after')).to.equal('7')
      expect(a.json?.errors).to.be.an('array')
      expect(fake.variables(prod.backend)).to.deep.equal({})
      expect(fake.requests.at(-1)).to.include({status: 429, fault: 'status', executed: false})
    })

    it('429 with an HTML body, as Railway sometimes sends', async () => {
      fake.faults.once(tooManyRequests(2, {html: true}))
      const a = await post(documents.PROJECT, {id: shop.id})
      expect(a.status).to.equal(429)
      expect(a.headers.get('retry-after')).to.equal('2')
      expect(a.headers.get('content-type')).to.match(/^text\/html/)
      expect(a.text).to.equal(HTML_429)
      expect(a.json).to.equal(undefined)
    })

    for (const status of [500, 502, 503] as const) {
      it(`HTTP ${status}; nothing applied`, async () => {
        fake.faults.once(serverError(status))
        const a = await upsert({...prod.backend, variables: {A: '1'}})
        expect(a.status).to.equal(status)
        expect(fake.variables(prod.backend)).to.deep.equal({})
      })
    }

    it('a dropped connection: the client gets a network error and nothing is applied', async () => {
      fake.faults.once(drop())
      const err = await upsert({...prod.backend, variables: {A: '1'}}).then(() => undefined, (error: unknown) => error)
      expect(err).to.be.instanceOf(TypeError)
      expect(fake.variables(prod.backend)).to.deep.equal({})
      expect(fake.requests.at(-1)).to.include({status: 'dropped', fault: 'drop', executed: false})
      expect((await post(documents.PROJECT, {id: shop.id})).status).to.equal(200)
    })

    it('applied then dropped: the client gets a network error but the change IS made (and deployed)', async () => {
      fake.faults.once(applyThenDrop())
      const err = await upsert({...prod.backend, variables: {A: '1'}}).then(() => undefined, (error: unknown) => error)
      expect(err).to.be.instanceOf(TypeError)
      expect(fake.variables(prod.backend)).to.deep.equal({A: '1'})
      expect(fake.deployCount(shop.services.backend!)).to.equal(1)
      expect(fake.requests.at(-1)).to.include({status: 'dropped', fault: 'applyThenDrop', executed: true})
    })

    it('faults can target operations and count down', async () => {
      fake.faults.once(serverError(503), {match: {operationName: 'EnvsyncUpsert'}, times: 2})
      expect((await post(documents.PROJECT, {id: shop.id})).status).to.equal(200)
      expect((await upsert({...prod.backend, variables: {A: '1'}})).status).to.equal(503)
      expect((await upsert({...prod.backend, variables: {A: '1'}})).status).to.equal(503)
      expect((await upsert({...prod.backend, variables: {A: '1'}})).status).to.equal(200)
      fake.faults.always(serverError(502), {match: {write: true}})
      expect((await post(documents.DELETE, {input: {...prod.backend, name: 'A'}})).status).to.equal(502)
      expect((await post(documents.VARIABLES, prod.backend)).status).to.equal(200)
      expect(fake.counters.byFault).to.deep.equal({status: 3})
    })

    it('random faults are reproducible from the seed', async () => {
      const run = async () => {
        fake.faults.reset().random([{probability: 0.3, fault: serverError(503)}, {probability: 0.2, fault: tooManyRequests(0)}], {seed: 42})
        const statuses: number[] = []
        for (let i = 0; i < 40; i++) statuses.push((await post(documents.PROJECT, {id: shop.id})).status)
        return statuses
      }
      const a = await run()
      const b = await run()
      expect(a).to.deep.equal(b)
      expect(a.filter((s) => s === 200).length).to.be.within(8, 32)
      expect(a).to.include.members([200, 429, 503])
    })

    it('stop() does not wait for a long latency', async () => {
      const slow = await start()
      slow.faults.always(latency(60_000))
      const t = slow.accountToken()
      const pending = fetch(slow.url, {method: 'POST', headers: {authorization: `Bearer ${t}`, 'content-type': 'application/json'}, body: JSON.stringify({query: documents.PROJECT_TOKEN})}).catch((error: unknown) => error)
      await new Promise((r) => setTimeout(r, 100))
      const t0 = performance.now()
      await slow.stop()
      expect(performance.now() - t0).to.be.below(2000)
      expect(await pending).to.be.instanceOf(TypeError)
    })
  })

  describe('FaultInjector', () => {
    it('once() before always() before random(); once() entries are consumed in order', () => {
      const f = new FaultInjector()
      f.always(serverError(500)).once(drop()).once(applyThenDrop())
      const req = {method: 'POST', path: '/'}
      expect([f.next(req)?.kind, f.next(req)?.kind, f.next(req)?.kind]).to.deep.equal(['drop', 'applyThenDrop', 'status'])
      expect(f.injected).to.have.length(3)
    })

    it('refuses probabilities that add up to more than 1', () => {
      expect(() => new FaultInjector().random([{probability: 0.7, fault: drop()}, {probability: 0.4, fault: drop()}])).to.throw(/add up to <= 1/)
    })

    it('the same seed gives the same faults; another seed other faults', () => {
      const seq = (seed: number) => {
        const f = new FaultInjector().random([{probability: 0.5, fault: drop()}], {seed})
        return Array.from({length: 64}, () => f.next({method: 'GET', path: '/'})?.kind ?? '-').join('')
      }
      expect(seq(7)).to.equal(seq(7))
      expect(seq(7)).to.not.equal(seq(8))
    })
  })

  describe('request log and counters', () => {
    it('records method, operation, fields, auth and status for every request', async () => {
      await post(documents.PROJECT, {id: shop.id})
      await post(documents.PROJECT_TOKEN, {}, 'project')
      await post(documents.PROJECT, {id: shop.id}, 'none')
      const log = fake.requests
      expect(log.map((r) => [r.method, r.operationName, r.operationType, r.fields, r.auth, r.status])).to.deep.equal([
        ['POST', 'EnvsyncProject', 'query', ['project'], 'account', 200],
        ['POST', 'EnvsyncProjectToken', 'query', ['projectToken'], 'project', 200],
        ['POST', 'EnvsyncProject', 'query', ['project'], 'none', 200],
      ])
      expect(log[2]!.errors).to.deep.equal([NOT_AUTHORIZED])
      expect(fake.counters).to.deep.include({requests: 3, byOperation: {EnvsyncProject: 2, EnvsyncProjectToken: 1}, byField: {project: 2, projectToken: 1}, byStatus: {200: 3}})
      fake.clearLog()
      expect(fake.requests).to.deep.equal([])
      expect(fake.counters.requests).to.equal(0)
    })

    it('never holds a value: keys and ids stay, every value is redacted', async () => {
      const values = [canary('UPSERT'), canary('ONE'), canary('INLINE'), canary('BADTYPE'), canary('UNDERIDKEY')]
      await upsert({...prod.backend, variables: {API_KEY: values[0], projectId: values[4]}, skipDeploys: true})
      await post('mutation U($input: VariableUpsertInput!) { variableUpsert(input: $input) }', {input: {...prod.backend, name: 'ONE', value: values[1], skipDeploys: true}})
      // A value inlined in a document, with an error that would quote it.
      await post(`mutation { variableUpsert(input: {projectId: "${shop.id}", environmentId: "${prod.backend.environmentId}", name: "X", value: "x", skipDeploys: "${values[2]}"}) }`)
      // A coercion error message quotes the offending value.
      await post(documents.UPSERT, {input: {...prod.backend, variables: {A: 'x'}, skipDeploys: values[3]}})
      await post(documents.DELETE, {input: {...prod.backend, name: 'API_KEY'}})
      fake.faults.once(applyThenDrop())
      await upsert({...prod.backend, variables: {API_KEY: values[0]}, skipDeploys: true}).catch(() => undefined)

      const log = fake.requests
      assertNoLeak(values, JSON.stringify(log), JSON.stringify(fake.counters))
      expect(log[0]!.variables).to.deep.equal({input: {...prod.backend, variables: {API_KEY: REDACTED, projectId: REDACTED}, skipDeploys: true}})
      expect(log[1]!.variables).to.deep.equal({input: {...prod.backend, name: 'ONE', value: REDACTED, skipDeploys: true}})
      expect(log[2]!.errors?.join('\n')).to.match(/Boolean cannot represent a non boolean value: "\[REDACTED\]"/)
      expect(log[3]!.errors?.join('\n')).to.match(/Boolean cannot represent a non boolean value/)
      expect(log[4]!.variables).to.deep.equal({input: {...prod.backend, name: 'API_KEY'}})
      // The real response is untouched: only the log is masked.
      expect(fake.variables(prod.backend).API_KEY).to.equal(values[0])
    })
  })

  describe('admin', () => {
    it('snapshot() has the whole state; reset() empties everything', async () => {
      fake.setVariables(prod.backend, {A: '1'}, {sealed: true})
      await post(documents.REDEPLOY, {environmentId: prod.backend.environmentId, serviceId: prod.backend.serviceId})
      const snap = fake.snapshot()
      expect(snap.projects.map((p) => p.name)).to.deep.equal(['shop', 'other'])
      expect(snap.projects[0]!.variables[`${prod.backend.environmentId}/${prod.backend.serviceId}`]).to.deep.equal({A: {value: '1', sealed: true}})
      expect(snap.deploys).to.have.length(1)
      fake.reset()
      expect(fake.snapshot()).to.deep.equal({projects: [], deploys: [], replaceUpserts: [], reservedWrites: []})
      expect(fake.requests).to.deep.equal([])
      notAuthorized(await post(documents.PROJECTS, {}))
    })

    it('seeding an unknown scope throws at once (a test mistake, not an API answer)', () => {
      expect(() => fake.setVariables({projectId: shop.id, environmentId: 'nope'}, {A: '1'})).to.throw(/no environment/)
      expect(() => fake.seal(prod.backend, 'MISSING')).to.throw(/no variable MISSING/)
    })
  })
})
