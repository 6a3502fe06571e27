import {expect} from 'chai'

import {asEnvsyncError, EnvsyncError} from '../../src/errors.js'
import {forgetSecrets, redact, REDACTED, registerNames, registerSecret} from '../../src/redact.js'
import {Secret} from '../../src/secret.js'
import {renderError} from '../../src/ui/base-command.js'
import {assertNoLeak, canary} from '../helpers/canary.js'

/** The one redaction point, unit by unit: what it removes, and what of envsync's own text it keeps. */
describe('redact: the one redaction point', () => {
  // Values other test files registered in this process must not decide what these assert.
  beforeEach(() => forgetSecrets())

  it('removes a known value in every form a foreign message may carry it', () => {
    const value = `${canary('V')}"quoted"\\ & more/+=?`
    new Secret(value)
    const pem = `-----BEGIN PRIVATE KEY-----\n${canary('PEMA')}${canary('B')}\n${canary('PEMC')}${canary('D')}\n-----END PRIVATE KEY-----`
    new Secret(pem)
    const forms = [
      value,
      JSON.stringify(value).slice(1, -1),
      encodeURIComponent(value),
      Buffer.from(value).toString('base64'),
      // base64 of the value inside a longer base64 text (a Kubernetes Secret's data, echoed)
      Buffer.from(`prefix${value}suffix`).toString('base64').slice(8),
      pem.split('\n')[1],
      JSON.stringify({data: {PEM: pem}}),
    ]
    for (const form of forms) {
      const out = redact(`server said: invalid value ${form} (line 3)`)
      expect(out).to.include(REDACTED)
      assertNoLeak([value, pem.split('\n')[1], pem.split('\n')[2]], out)
    }
  })

  it('removes what looks like a credential whatever its value: URL userinfo, Bearer, token:/password= pairs', () => {
    const cases: [string, string][] = [
      ['https://admin:hunter2-pw@k8s.internal:6443/api', 'hunter2-pw'],
      ['postgres://app:dbpass-123@db:5432/app', 'dbpass-123'],
      ['Authorization: Bearer abc.def.ghi-token', 'abc.def.ghi-token'],
      ['users:\n- name: me\n  user:\n    token: eyJhbGciOiJSUzI1NiJ9.payload', 'eyJhbGciOiJSUzI1NiJ9'],
      ['    password: "s3cr3t word"', 's3cr3t word'],
      ['client-key-data: LS0tLS1CRUdJTiBSU0E=', 'LS0tLS1CRUdJTiBSU0E'],
      ['{"apiKey":"k-0123456789"}', 'k-0123456789'],
      ['api_key=ak_live_abcdef', 'ak_live_abcdef'],
      ['"accessToken": "at-9876543210"', 'at-9876543210'],
    ]
    for (const [text, secret] of cases) expect(redact(text), text).to.not.include(secret)
  })

  it("leaves envsync's own words alone: key names in capitals, Secret labels, plain URLs", () => {
    for (const text of [
      'JWT_SECRET: no value in .env.production',
      'kubernetes secret shop/shop-api: 409 Conflict',
      'API_KEY=… is a placeholder',
      'cannot reach Render at api.render.com (ECONNRESET) after 5 attempt(s)',
      'the secret files of render service shop-api',
      'https://api.example-store.io/v1',
      // A credential-shaped field whose value is a word or a few: a credential it is not.
      '--only jwt_secret: no destination of development receives that key',
      'password: none',
      'token: is missing',
      'secret = the default',
      'api_key=not-set',
      '"password": "not set"',
    ]) {
      expect(redact(text)).to.equal(text)
    }
  })

  it('makes control characters visible, keeping newline and tab; a multi-line value shown keeps its lines', () => {
    expect(redact('a\u001B]0;x\u0007\u009B2J\tb\nc')).to.equal('a\\u001b]0;x\\u0007\\u009b2J\tb\nc')
    const plain = 'first line is long\nsecond'
    new Secret(plain)
    expect(redact(plain, new Set([plain]))).to.equal(plain)
    expect(redact('first line is long')).to.equal(REDACTED)
  })

  it('plain config words (NODE_ENV=production, LOG_LEVEL=info, PORT=8080) and the manifest\'s own names are never blanked', () => {
    for (const word of ['production', 'development', 'info', 'debug', '8080', 'true', 'us-east'.replace('-', '')]) new Secret(word)
    expect(redact('check found 1 error(s) in production; run `envsync check production`')).to.equal('check found 1 error(s) in production; run `envsync check production`')
    expect(redact('LOG_LEVEL is info, PORT 8080')).to.equal('LOG_LEVEL is info, PORT 8080')
    // An environment named like a value that looks secret is still a name.
    registerSecret('prod-eu-1')
    expect(redact('environment prod-eu-1')).to.equal(`environment ${REDACTED}`)
    registerNames(['prod-eu-1'])
    expect(redact('environment prod-eu-1')).to.equal('environment prod-eu-1')
    // Long values of one kind of character are secrets (a passphrase of words).
    new Secret('correcthorsebatterystaple')
    expect(redact('got correcthorsebatterystaple')).to.equal(`got ${REDACTED}`)
  })

  it('is idempotent: redacting twice changes nothing more', () => {
    const text = redact('token: abc123456 and https://u:p4ssw0rd@h/x')
    expect(redact(text)).to.equal(text)
  })

  it('EnvsyncError redacts what it is built with; a value known only later is redacted at render', () => {
    const early = canary('EARLY')
    new Secret(early)
    const e = new EnvsyncError(`Render: ${early} is invalid`, {code: 'X', suggestion: `retry with ${early}`, problems: [{message: early}]})
    assertNoLeak([early], e.message, e.suggestion, JSON.stringify(e.toJSON()))
    const late = canary('LATE')
    const e2 = new EnvsyncError(`Railway: ${late} is invalid`, {code: 'X'})
    new Secret(late)
    assertNoLeak([late], JSON.stringify(e2.toJSON()), renderError(e2).join('\n'))
  })

  it('a foreign error (a library TypeError quoting a value) becomes an internal EnvsyncError with the value redacted', () => {
    const value = canary('LIB')
    new Secret(value)
    const e = asEnvsyncError(new TypeError(`Headers.append: "Bearer ${value}" is an invalid header value.`))
    expect(e.code).to.equal('INTERNAL')
    expect(e.message).to.match(/^internal error: /)
    assertNoLeak([value], e.message, JSON.stringify(e.toJSON()))
    expect(asEnvsyncError(e)).to.equal(e)
  })
})
