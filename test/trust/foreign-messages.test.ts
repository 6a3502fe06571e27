import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * Trust: what a platform says, and what a misconfigured variable holds, never reaches output.
 * A hostile (or merely GraphQL-typical) server echoes the request it got inside its error
 * message; tokens with line breaks and URLs with userinfo are local errors that name the
 * variable, are not retried, and print neither the token nor the password.
 */

const long = (label: string) => `${canary(label)}${canary('Y').slice(2)}`

interface Echo {
  url: string
  requests: {method: string; url: string; body: string}[]
  close(): Promise<void>
}

/** A loopback server that answers every request with an error quoting the whole request. */
async function echoServer(answer: (req: IncomingMessage, body: string) => {status: number; json: unknown}): Promise<Echo> {
  const requests: Echo['requests'] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      requests.push({method: req.method ?? '', url: req.url ?? '', body})
      const {status, json} = answer(req, body)
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(JSON.stringify(json))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

const MANIFEST = (target: string) => `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets: {${target}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  PEM_KEY: {services: [api]}
`

describe('trust: foreign messages and credentials never reach output', () => {
  let p: TempProject
  let values: Record<string, string>
  let echo: Echo | undefined

  beforeEach(() => {
    p = new TempProject('envsync-trust-')
    values = {JWT_SECRET: long('JWT'), PEM_KEY: `-----BEGIN KEY-----\n${long('PEMLINE')}\n-----END KEY-----`}
    writeFileSync(p.path('.env.production'), `JWT_SECRET=${values.JWT_SECRET}\nPEM_KEY="${values.PEM_KEY.replaceAll('\n', '\\n')}"\n`, {mode: 0o600})
  })
  afterEach(async () => {
    p.cleanup()
    await echo?.close()
    echo = undefined
  })

  const everything = (...results: CliResult[]) => [...results.flatMap((r) => [r.stdout, r.stderr]), ...p.syncRecords()]

  it('Railway: a GraphQL error that echoes the pushed variables (as graphql-js does for a value it cannot coerce) is redacted, in text and --json', async () => {
    echo = await echoServer((_req, body) => {
      const parsed = JSON.parse(body) as {query: string; variables: unknown}
      // Lookups succeed so the push reaches its write; the write's answer quotes the request.
      if (/query EnvsyncProjects/.test(parsed.query)) return {status: 200, json: {data: {projects: {edges: [{node: {id: 'p1', name: 'shop'}}], pageInfo: {hasNextPage: false}}}}}
      if (/query EnvsyncProject\b/.test(parsed.query)) {
        return {status: 200, json: {data: {project: {id: 'p1', name: 'shop', environments: {edges: [{node: {id: 'e1', name: 'production'}}]}, services: {edges: [{node: {id: 's1', name: 'api'}}]}}}}}
      }
      if (/query EnvsyncVariables/.test(parsed.query)) return {status: 200, json: {data: {variables: {}}}}
      return {status: 200, json: {data: null, errors: [{message: `Variable "$input" got invalid value ${JSON.stringify(parsed.variables)}; Expected type "JSON". ${body}`}]}}
    })
    const env = {RAILWAY_API_URL: echo.url, RAILWAY_API_TOKEN: long('RAILTOKEN'), RAILWAY_TOKEN: undefined}
    p.write('envsync.yaml', MANIFEST('railway: {project: shop, services: {api: api}}'))
    const text = await runBin(['push', 'production', '--yes'], {cwd: p.dir, env})
    const json = await runBin(['push', 'production', '--yes', '--json'], {cwd: p.dir, env})
    for (const r of [text, json]) {
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(r.stdout + r.stderr).to.include('[redacted]')
    }
    expect(JSON.parse(json.stdout).result.report.destinations[0].error.message).to.include('Variable "$input" got invalid value')
    assertNoLeak([...Object.values(values), env.RAILWAY_API_TOKEN], ...everything(text, json))
  })

  it('Render: an error message that quotes the request body is redacted', async () => {
    echo = await echoServer((req, body) => {
      if (req.method === 'GET' && req.url?.startsWith('/services?')) return {status: 200, json: [{service: {id: 'srv-abc123', name: 'shop-api'}, cursor: 'c1'}]}
      if (req.method === 'GET') return {status: 200, json: []}
      return {status: 400, json: {id: 'invalid', message: `invalid env vars: ${body} (auth ${req.headers.authorization})`}}
    })
    p.write('envsync.yaml', MANIFEST('render: {services: {api: shop-api}}'))
    const env = {RENDER_API_URL: echo.url, RENDER_API_KEY: long('RNDKEY')}
    const text = await runBin(['push', 'production', '--yes'], {cwd: p.dir, env})
    const json = await runBin(['push', 'production', '--yes', '--json'], {cwd: p.dir, env})
    expect(text.exitCode).to.equal(1)
    expect(text.stdout).to.include('[redacted]')
    expect(echo.requests.some((r) => r.method === 'PUT')).to.equal(true)
    assertNoLeak([...Object.values(values), env.RENDER_API_KEY], ...everything(text, json))
  })

  for (const [variable, target] of [
    ['RENDER_API_KEY', 'render: {services: {api: shop-api}}'],
    ['RAILWAY_API_TOKEN', 'railway: {project: shop, services: {api: api}}'],
    ['RAILWAY_TOKEN', 'railway: {project: shop, services: {api: api}}'],
  ] as const) {
    it(`${variable} with a line break is a local error naming the variable: nothing sent, not retried, the token never printed`, async () => {
      echo = await echoServer(() => ({status: 500, json: {}}))
      p.write('envsync.yaml', MANIFEST(target))
      const secretPart = long('TOKENPART')
      for (const token of [`${secretPart}\nX: 1`, `${secretPart}\r\nInjected: yes`, ` ${secretPart}`, `${secretPart}\u001b[2J`, `${secretPart}\u2028x`]) {
        const env = {RENDER_API_URL: echo.url, RAILWAY_API_URL: echo.url, RENDER_API_KEY: undefined, RAILWAY_API_TOKEN: undefined, RAILWAY_TOKEN: undefined, [variable]: token}
        for (const args of [['push', 'production', '--yes'], ['diff', 'production'], ['diff', 'production', '--json']]) {
          const r = await runBin(args, {cwd: p.dir, env})
          expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
          expect(r.stdout + r.stderr).to.include(variable)
          expect(r.stdout + r.stderr).to.not.include('attempt')
          assertNoLeak([secretPart], r.stdout, r.stderr)
        }
      }
      expect(echo.requests).to.have.length(0)
    })
  }

  for (const variable of ['RENDER_API_URL', 'RAILWAY_API_URL'] as const) {
    it(`${variable} with a password in it is refused naming the variable, never printing the password`, async () => {
      echo = await echoServer(() => ({status: 500, json: {}}))
      const password = long('URLPASS')
      p.write('envsync.yaml', MANIFEST(variable === 'RENDER_API_URL' ? 'render: {services: {api: shop-api}}' : 'railway: {project: shop, services: {api: api}}'))
      const url = echo.url.replace('http://', `http://admin:${password}@`)
      const env = {RENDER_API_KEY: 'rnd_key_value_1', RAILWAY_API_TOKEN: 'rail_token_value_1', RAILWAY_TOKEN: undefined, [variable]: url}
      for (const args of [['push', 'production', '--yes'], ['diff', 'production', '--json']]) {
        const r = await runBin(args, {cwd: p.dir, env})
        expect(r.exitCode).to.equal(1)
        expect(r.stdout + r.stderr).to.include(variable)
        assertNoLeak([password], r.stdout, r.stderr, ...p.syncRecords())
      }
      const bad = await runBin(['diff', 'production'], {cwd: p.dir, env: {...env, [variable]: 'not a url'}})
      expect(bad.exitCode).to.equal(1)
      expect(bad.stdout + bad.stderr).to.include(`${variable} is not a URL`)
      expect(echo.requests).to.have.length(0)
    })
  }

  it("a plain config value that is a word (NODE_ENV=production) never blanks envsync's own messages", async () => {
    p.write('envsync.yaml', MANIFEST('docker: {}') + '  NODE_ENV: {services: [api], sensitive: false, default: production}\n  MISSING_KEY: {services: [api]}\n')
    const r = await runBin(['push', 'production', '--yes'], {cwd: p.dir})
    expect(r.exitCode).to.equal(1)
    expect(r.stderr).to.include('in production')
    expect(r.stderr).to.include('envsync check production')
    expect(r.stderr).to.not.include('[redacted]')
  })

  it('Render: a service "id" that is a path (srv-x/../../env-groups/…) never reaches a URL path', async () => {
    echo = await echoServer((req) => (req.url?.startsWith('/services?') ? {status: 200, json: []} : {status: 200, json: []}))
    for (const ref of ['srv-x/../../env-groups/evg-abc', 'srv-x?limit=1', 'srv-x%2F..%2Fenv-groups', 'srv-x#frag', 'srv-']) {
      p.write('envsync.yaml', MANIFEST(`render: {services: {api: ${JSON.stringify(ref)}}}`))
      const r = await runBin(['diff', 'production'], {cwd: p.dir, env: {RENDER_API_URL: echo.url, RENDER_API_KEY: 'rnd_key_value_1'}})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout + r.stderr).to.include('no Render service named')
    }
    // Names are looked up with the name in the query string, encoded; no path ever carries one.
    expect(echo.requests.length).to.be.greaterThan(0)
    for (const req of echo.requests) expect(req.url, req.url).to.match(/^\/services\?name=[^/#]*&includePreviews=false&limit=100$/)
  })
})
