import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * Trust, the other way round: redaction hides credentials, not words. A `secret: no …` in
 * envsync's own message or a platform's `password: none` stays readable; and text from the
 * manifest, the command line or a platform shows its control characters (escape sequences that
 * retitle the window or clear the screen) as escapes instead of sending them to the terminal,
 * while envsync's own colours still work. Built CLI throughout.
 */
const RAW_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/
/** What envsync's own colours leave after their SGR codes are taken out: no other control may remain. */
const withoutColours = (text: string) => text.replaceAll(/\u001B\[\d+m/g, '')

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  development:
    protected: false
    targets: {docker: {}}
secrets:
  JWT_SECRET: {services: [api], description: "evil \\e]0;PWNED\\a \\e[2J desc"}
`

describe('trust: redaction keeps words, output keeps control characters visible (built CLI)', function () {
  this.timeout(60_000)
  let p: TempProject
  let server: Server | undefined
  const run = (args: string[], env: Record<string, string | undefined> = {}) => runBin(args, {cwd: p.dir, env: {HOME: p.dir, ...env}})
  beforeEach(() => {
    p = new TempProject('envsync-words-')
    p.write('envsync.yaml', MANIFEST)
  })
  afterEach(async () => {
    p.cleanup()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    server = undefined
  })

  it('a key name in the wrong case: "--only jwt_secret: no destination …", "no" not eaten as a secret (push, pull)', async () => {
    writeFileSync(p.path('.env.development'), `JWT_SECRET=${canary('JWT')}\n`, {mode: 0o600})
    const push = await run(['push', 'development', '--dry-run', '--only', 'jwt_secret'])
    expect(push.exitCode).to.equal(2)
    expect(push.stderr).to.include('--only jwt_secret: no destination of development receives that key')
    const pull = await run(['pull', 'development', '--from', 'docker', '--keys', 'jwt_secret'])
    expect(pull.stderr).to.include('--keys jwt_secret: not a key of')
    expect(push.stderr + pull.stderr).to.not.include('[redacted]')
  })

  it("a platform's words stay (password: none, token: is missing, secret = the), its credentials and control codes do not", async () => {
    const key = `${canary('RNDKEY')}${canary('Y').slice(2)}`
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        res.setHeader('content-type', 'application/json')
        if (req.method === 'GET' && req.url?.startsWith('/services?')) return res.end(JSON.stringify([{service: {id: 'srv-abc123', name: 'shop-api'}, cursor: 'c1'}]))
        if (req.method === 'GET') return res.end('[]')
        res.statusCode = 400
        res.end(JSON.stringify({message: `password: none given, token: is missing, secret = the default; api_key=Zk3_9aQ7x \u001B]0;PWNED\u0007\u001B[2J (auth ${req.headers.authorization})`}))
      })
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    p.write('envsync.yaml', MANIFEST.replace('protected: false\n    targets: {docker: {}}', 'protected: false\n    targets: {render: {services: {api: shop-api}}}'))
    writeFileSync(p.path('.env.development'), `JWT_SECRET=${canary('JWT')}${canary('Y')}\n`, {mode: 0o600})
    const r = await run(['push', 'development', '--yes'], {RENDER_API_URL: url, RENDER_API_KEY: key, FORCE_COLOR: '1', NO_COLOR: undefined})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    const out = r.stdout + r.stderr
    for (const words of ['password: none given', 'token: is missing', 'secret = the default']) expect(out).to.include(words)
    expect(out).to.include('api_key=[redacted]').and.not.include('Zk3_9aQ7x')
    expect(out).to.include('\\u001b]0;PWNED\\u0007\\u001b[2J')
    expect(withoutColours(out)).to.not.match(RAW_CONTROL)
    expect(out).to.include('\u001B[31m') // envsync's own red still reaches the terminal
    assertNoLeak([key], out)
  })

  it("check's to-do shows a description's escape sequences as text; colours still on", async () => {
    const r = await run(['check', 'development'], {FORCE_COLOR: '1', NO_COLOR: undefined})
    expect(r.stdout).to.include('evil \\u001b]0;PWNED\\u0007 \\u001b[2J desc')
    expect(withoutColours(r.stdout + r.stderr)).to.not.match(RAW_CONTROL)
    expect(r.stdout).to.include('\u001B[1m')
    const json = await run(['check', 'development', '--json'])
    expect(JSON.parse(json.stdout).result.todo[0].description).to.equal('evil \u001B]0;PWNED\u0007 \u001B[2J desc')
  })

  it('env.template shows the escape sequences as text in its comments (the file is read with cat)', async () => {
    const r = await run(['template'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('# JWT_SECRET — evil \\u001b]0;PWNED\\u0007 \\u001b[2J desc')
    expect(r.stdout).to.not.match(RAW_CONTROL)
  })

  it('a name typed with an escape sequence is echoed visibly in the error (init --services)', async () => {
    const q = new TempProject('envsync-words-init-')
    try {
      const r = await runBin(['init', '--services', 'x\u001B[31m,api', '--yes'], {cwd: q.dir, env: {HOME: q.dir}})
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('"x\\u001b[31m"')
      expect(r.stderr).to.not.match(RAW_CONTROL)
    } finally {
      q.cleanup()
    }
  })

  it('a --dir typed with an escape sequence is shown visibly in what init prints', async () => {
    const q = new TempProject('envsync-words-init-')
    try {
      const r = await runBin(['init', '--dir', 'my\u001B[2Japp', '--yes'], {cwd: q.dir, env: {HOME: q.dir}})
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.include('my\\u001b[2Japp/envsync.yaml')
      expect(r.stdout + r.stderr).to.not.match(RAW_CONTROL)
    } finally {
      q.cleanup()
    }
  })

  it('a plain value with control characters: escaped in diff text, exact in --json', async () => {
    p.write('envsync.yaml', MANIFEST.replace(/ {2}JWT_SECRET.*\n/, '  BANNER: {services: [api], sensitive: false}\n'))
    // ESC (JSON escapes it) and CSI, a C1 control JSON leaves as it is.
    writeFileSync(p.path('.env.development'), 'BANNER="hi \u001B[2J \u009B2J there"\n', {mode: 0o600})
    const d = await run(['diff', 'development'])
    expect(d.exitCode, d.stderr).to.equal(0)
    expect(d.stdout).to.include('hi \\u001b[2J \\u009b2J there').and.not.match(RAW_CONTROL)
    const json = await run(['diff', 'development', '--json'])
    expect(JSON.parse(json.stdout).result.destinations[0].keys[0].localValue).to.equal('hi \u001B[2J \u009B2J there')
  })
})
