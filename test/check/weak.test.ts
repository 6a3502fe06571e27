import {expect} from 'chai'

import {placeholderKind} from '../../src/check/placeholder.js'
import {runBin} from '../helpers/cli.js'
import {backendManifest, draw, envText, summary, useCheckProjects} from './support.js'

/**
 * Weak values that are well-formed: documented example credentials, test-mode keys, default
 * passwords in URLs, local addresses, one value under two secret names. Errors in a protected
 * environment, warnings elsewhere (test keys and local addresses: nothing outside protected
 * environments, where they belong). A table of weak and strong values through runCheck, then
 * the real binary for the listed instances.
 */

const MANIFEST = backendManifest(`  SECRET_VALUE:
    services: [backend]
  CONFIG_VALUE:
    services: [backend]
    sensitive: false
`)

/** Weak in production, with whether development (unprotected) warns too. */
const WEAK: [string, boolean][] = [
  // AWS's documented example keys, and other keys shaped like them.
  ['AKIAIOSFODNN7EXAMPLE', true],
  ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', true],
  ['AKIAI44QH8DHBEXAMPLE', true],
  ['je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY', true],
  ['ASIAJ7ZCQ3EXAMPLE', true],
  // Stripe's documentation keys and the jwt.io token.
  ['sk_test_4eC39HqLyjWDarjtT1zdp7dc', true],
  ['pk_test_TYooMQauvdEDq54NiTphI7jx', true],
  ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', true],
  // Test-mode keys.
  [`sk_test_${draw('alnum:24')}`, false],
  [`pk_test_${draw('alnum:24')}`, false],
  [`rk_test_${draw('alnum:24')}`, false],
  [`rzp_test_${draw('alnum:14')}`, false],
  [`FLWSECK_TEST-${draw('hex:16')}-X`, false],
  [`sandbox_${draw('hex:4')}_${draw('hex:8')}`, false],
  // Default passwords in connection URLs.
  ['postgres://u:password@db.internal:5432/shop', true],
  ['postgres://postgres:postgres@db.internal:5432/shop', true],
  ['postgresql://shop:shop@db.internal/shop', true],
  ['mysql://root:root@db.internal:3306/shop', true],
  ['mysql://root:123456@db.internal:3306/shop', true],
  ['redis://:redis@cache.internal:6379/0', true],
  ['redis://default:secret@cache.internal:6379', true],
  ['amqp://guest:guest@mq.internal:5672', true],
  ['mongodb://admin:admin@mongo.internal:27017/shop', true],
  ['mongodb+srv://app:changeme@cluster0.abc.mongodb.net/shop', true],
  ['postgres://app:P%40ssw0rd@db.internal/shop', true],
  ['https://admin:admin@api.partner.io/v1', true],
  ['postgres://app:Password123@db.internal/shop', true],
  ['postgres://app:<password>@db.internal/shop', true],
  // Local addresses.
  ['postgres://shop:Zq7vK2mPx9LrT4wBc8NdHs3F@localhost:5432/shop', false],
  ['postgres://shop:Zq7vK2mPx9LrT4wBc8NdHs3F@127.0.0.1:5432/shop', false],
  ['redis://:Hq8v2KxPz7LmT4wB@[::1]:6379/0', false],
  ['http://localhost:3000', false],
  ['https://api.localhost', false],
  ['http://0.0.0.0:8080', false],
  ['http://127.0.1.1/', false],
  ['http://host.docker.internal:4000', false],
  ['localhost:6379', false],
  ['127.0.0.1', false],
  // A sensitive value that is a default password (SECRET_VALUE only).
  ['postgres', true],
  ['guest', true],
]

/** Never weak, in any environment. */
const STRONG = [
  draw('base64:32'),
  draw('hex:32'),
  draw('alnum:40'),
  draw('password:24'),
  draw('uuid'),
  `sk_live_${draw('alnum:24')}`,
  `pk_live_${draw('alnum:24')}`,
  `whsec_${draw('alnum:32')}`,
  'AKIAZ7VQ2LX3MN4KP5RT',
  'postgres://shop:Zq7vK2mPx9LrT4wBc8NdHs3F@db.internal:5432/shop',
  'postgresql://app_user:s3cr3tP%40ss-Wd9q@10.0.3.7:5432/shop?sslmode=require',
  'postgres://acme:pL4nT-0x9RqZt2Vb@acme-prod.cluster-c1xyz.eu-west-1.rds.amazonaws.com:5432/acme',
  'redis://:Hq8v2KxPz7LmT4wB@cache.internal:6379/0',
  'rediss://default:Qm3vT8xLp2Zr7Kw9@redis-12345.c1.us-east-1.ec2.cloud.redislabs.com:12345',
  'amqps://shop:Vx9pL2mQr7Tz4Kb8@mq.internal:5671',
  'mongodb+srv://app:R8kV2xQp7LmT4zWb@cluster0.abc.mongodb.net/shop',
  'https://api.example-store.io',
  'https://example-store.io/hooks',
  'https://api.shop.io',
  'https://10.0.3.7:8443',
  'http://db:5432',
  'postgres://shop@db.internal/shop',
  'ops@shop.io',
  'testing-is-fun-but-not-here-Q7x',
]

const SECRET = (value: string) => envText({SECRET_VALUE: value, CONFIG_VALUE: 'plain'})

describe('weak values', () => {
  const {project} = useCheckProjects()

  it(`flags each of ${WEAK.length} weak values in production (error) and, where it matters, in development (warning)`, async () => {
    let flagged = 0
    for (const [value, everywhere] of WEAK) {
      const p = project(MANIFEST, {'.env.production': SECRET(value), '.env.development': SECRET(value)})
      const prod = summary((await p.check('production')).findings.filter((f) => f.key === 'SECRET_VALUE' && f.rule !== 'reused'))
      expect(prod.some((f) => /^error (weak|placeholder) SECRET_VALUE$/.test(f)), `${value} in production: ${prod}`).to.equal(true)
      const dev = summary((await p.check('development')).findings.filter((f) => f.key === 'SECRET_VALUE' && f.rule !== 'reused'))
      if (everywhere) expect(dev.some((f) => / (weak|placeholder) SECRET_VALUE$/.test(f)), `${value} in development: ${dev}`).to.equal(true)
      else expect(dev, `${value} is normal in development`).to.deep.equal([])
      p.cleanup()
      flagged++
    }
    expect(flagged).to.equal(WEAK.length)
  })

  it(`leaves each of ${STRONG.length} strong values alone`, async () => {
    for (const value of STRONG) {
      const p = project(MANIFEST, {'.env.production': SECRET(value)})
      const found = summary((await p.check('production')).findings)
      expect(found, value).to.deep.equal([])
      p.cleanup()
    }
  })

  it('a weak value in a config key is named too; a whole default password only in a sensitive key', async () => {
    const p = project(MANIFEST, {'.env.production': envText({SECRET_VALUE: draw('base64:32'), CONFIG_VALUE: 'http://localhost:8080'})})
    expect(summary((await p.check('production')).findings)).to.deep.equal(['error weak CONFIG_VALUE'])
    p.values('.env.production', envText({SECRET_VALUE: draw('base64:32'), CONFIG_VALUE: 'postgres'}))
    expect(summary((await p.check('production')).findings)).to.deep.equal([])
  })

  it('two sensitive keys with one value: both named, never the value; URLs and short values are not compared', async () => {
    const manifest = `${MANIFEST}  JWT_SECRET: {services: [backend], generate: base64:32}
  JWT_REFRESH_SECRET: {services: [backend], generate: base64:32}
  DATABASE_URL: {services: [backend]}
  DIRECT_URL: {services: [backend]}
  FLAG_A: {services: [backend]}
  FLAG_B: {services: [backend]}
`
    const jwt = draw('base64:32')
    const db = 'postgres://shop:Zq7vK2mPx9LrT4wBc8NdHs3F@db.internal:5432/shop'
    const values = {SECRET_VALUE: draw('base64:32'), CONFIG_VALUE: jwt, JWT_SECRET: jwt, JWT_REFRESH_SECRET: jwt, DATABASE_URL: db, DIRECT_URL: db, FLAG_A: '1', FLAG_B: '1'}
    const jwt2 = draw('base64:32')
    const p = project(manifest, {'.env.production': envText(values), '.env.development': envText({...values, JWT_SECRET: jwt2, JWT_REFRESH_SECRET: jwt2})})
    const prod = (await p.check('production')).findings.filter((f) => f.rule === 'same-value')
    expect(summary(prod)).to.deep.equal(['error same-value JWT_REFRESH_SECRET'])
    expect(prod[0].message).to.equal('JWT_REFRESH_SECRET has the same value as JWT_SECRET')
    expect(prod[0].hint).to.equal('run `envsync generate production JWT_REFRESH_SECRET --force` to give it its own value')
    expect(summary((await p.check('development')).findings.filter((f) => f.rule === 'same-value'))).to.deep.equal(['warning same-value JWT_REFRESH_SECRET'])
  })

  it('RFC 2606 names are placeholders; a real domain containing "example" is not', async () => {
    for (const v of ['https://api.example.com', 'https://example.org/x', 'https://www.example.net', 'admin@example.com', 'https://shop.example', 'https://db.invalid', 'https://EXAMPLE.COM/']) {
      expect(placeholderKind(v), v).to.equal('example')
    }
    for (const v of ['https://api.example-store.io', 'https://examples.com', 'https://example.io', 'me@example-store.io', 'https://myexample.com', 'http://test:8080', 'https://api.shop.test']) {
      expect(placeholderKind(v), v).to.equal(undefined)
    }
    // "example" outside the host still counts.
    expect(placeholderKind('https://api.shop.io/example')).to.equal('example')
  })

  it('the listed instances through the real binary: exit 1 in production, no value printed', async function () {
    this.timeout(30_000)
    const manifest = `${MANIFEST}  AWS_ACCESS_KEY_ID: {services: [backend]}
  AWS_SECRET_ACCESS_KEY: {services: [backend]}
  STRIPE_SECRET_KEY: {services: [backend]}
  DATABASE_URL: {services: [backend]}
  REDIS_URL: {services: [backend]}
  JWT_SECRET: {services: [backend], generate: base64:32}
  JWT_REFRESH_SECRET: {services: [backend], generate: base64:32}
  VITE_API_URL: {services: [backend], sensitive: false}
`
    const jwt = draw('base64:32')
    const stripe = `sk_test_${draw('alnum:24')}`
    const p = project(manifest, {
      '.env.production': envText({
        SECRET_VALUE: draw('base64:32'),
        CONFIG_VALUE: 'plain',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        STRIPE_SECRET_KEY: stripe,
        DATABASE_URL: 'postgres://u:password@db.internal:5432/shop',
        REDIS_URL: 'redis://:Hq8v2KxPz7LmT4wB@localhost:6379/0',
        JWT_SECRET: jwt,
        JWT_REFRESH_SECRET: jwt,
        VITE_API_URL: 'https://api.example-store.io',
      }),
    })
    const r = await runBin(['check', 'production', '--json'], {cwd: p.dir})
    expect(r.exitCode).to.equal(1)
    const findings = JSON.parse(r.stdout).result.findings as {severity: string; rule: string; key: string}[]
    expect(findings.map((f) => `${f.severity} ${f.rule} ${f.key}`).sort()).to.deep.equal(
      ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY'].map((k) => `error weak ${k}`).concat('error same-value JWT_REFRESH_SECRET').sort(),
    )
    for (const secret of [jwt, stripe.slice(8), 'bPxRfiCYEXAMPLEKEY', 'Hq8v2KxPz7LmT4wB']) expect(r.stdout).to.not.include(secret)
  })
})
