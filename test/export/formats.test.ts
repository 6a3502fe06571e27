import {expect} from 'chai'
import dotenv from 'dotenv'
import fc from 'fast-check'
import jsYaml from 'js-yaml'
import YAML from 'yaml'

import {EnvsyncError} from '../../src/errors.js'
import {parseManifest} from '../../src/manifest/load.js'
import {resolveDestinations} from '../../src/manifest/resolve.js'
import {Secret} from '../../src/secret.js'
import type {KubernetesConfig} from '../../src/targets/kubernetes.js'
import {encodeValue, parseEnv} from '../../src/values/dotenv.js'
import {
  collectExport,
  composeScalar,
  formatCompose,
  formatDotenv,
  formatJson,
  formatK8sSecret,
  goYamlKeyCompare,
  goYamlScalar,
} from '../../src/values/export.js'
import type {ValuesFile} from '../../src/values/store.js'

const secrets = (o: Record<string, string>): [string, Secret][] => Object.entries(o).map(([k, v]) => [k, new Secret(v)])

/** Values that stress every format: quotes, $, #, =, blanks, line breaks, unicode, controls. */
const awkward = fc.constantFrom(
  'a', 'Z', '0', ' ', '  ', '\t', '\n', '\r', '\r\n', "'", '"', '`', '\\', '$', '$$', '${X}', '#', ' #', '=', ':', ': ', '-', '? ', '&', '*', '!',
  '|', '>', '%', '@', ',', '[', '{', '}', ']', 'é', '€', '日本', '😀', '\u2028', '\u2029', '\u0085', '\u00a0', '\ufeff', '\u0000', '\u001b', '\u007f',
  'true', 'no', 'null', '~', '0x1f', '1e3', '0777', '2024-01-02', '-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n',
)
const awkwardValue = fc.oneof(fc.string({unit: awkward, maxLength: 20}), fc.string({unit: 'grapheme', maxLength: 20}), fc.string({unit: 'binary', maxLength: 12}).filter((s) => s.isWellFormed()))

describe('export formats (pure)', () => {
  describe('dotenv', () => {
    it('the dotenv package reads every representable value back byte-exact (property)', () => {
      fc.assert(
        fc.property(fc.dictionary(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), awkwardValue, {maxKeys: 6}), (values) => {
          const representable = Object.fromEntries(Object.entries(values).filter(([, v]) => encodeValue(v) !== undefined))
          const text = formatDotenv(secrets(representable))
          expect(dotenv.parse(text)).to.deep.equal(representable)
        }),
        {numRuns: 400},
      )
    })

    it('PEM keys, quotes, $ and empty values', () => {
      const values = {
        PEM: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
        Q: `it's "quoted"`,
        D: '$HOME ${X} $$',
        E: '',
        T: 'trailing  ',
      }
      expect(dotenv.parse(formatDotenv(secrets(values)))).to.deep.equal(values)
    })

    it('refuses a value no dotenv syntax can hold, naming the key and not the value', () => {
      const value = `a'b"c\`d #e`
      expect(encodeValue(value)).to.equal(undefined)
      try {
        formatDotenv(secrets({OK: 'x', BAD: value}))
        expect.fail('should throw')
      } catch (error) {
        expect(error).to.be.instanceOf(EnvsyncError)
        expect((error as EnvsyncError).message).to.include('BAD')
        expect((error as EnvsyncError).message).not.to.include(value)
        expect((error as EnvsyncError).exitCode).to.equal(1)
      }
    })
  })

  it('json: one object, manifest order, any string', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Z_]{1,6}$/), awkwardValue, {maxKeys: 5}), (values) => {
        const text = formatJson(secrets(values))
        expect(JSON.parse(text)).to.deep.equal(values)
        expect(Object.keys(JSON.parse(text))).to.deep.equal(Object.keys(values))
      }),
    )
  })

  describe('compose', () => {
    const unescape = (s: string) => s.replaceAll('$$', '$')

    it('every value reads back through YAML 1.2 and 1.1 readers, with $ doubled (property)', () => {
      fc.assert(
        fc.property(fc.dictionary(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/), awkwardValue, {minKeys: 1, maxKeys: 6}), (values) => {
          const text = formatCompose([{service: 'backend', values: new Map(secrets(values))}])
          for (const doc of [YAML.parse(text), YAML.parse(text, {version: '1.1'}), jsYaml.load(text)] as {services: Record<string, {environment: Record<string, string>}>}[]) {
            const env = doc.services.backend.environment
            expect(Object.keys(env)).to.deep.equal(Object.keys(values))
            for (const [k, v] of Object.entries(values)) {
              expect(typeof env[k], `${k} is a string`).to.equal('string')
              expect(unescape(env[k]), JSON.stringify(v)).to.equal(v)
              expect(env[k].split('$').length - 1, 'every $ doubled').to.equal(2 * (v.split('$').length - 1))
            }
          }
        }),
        {numRuns: 400},
      )
    })

    it('shape: services: <svc>: environment: {KEY: value}; names YAML would misread are quoted', () => {
      const text = formatCompose([
        {service: 'backend', values: new Map(secrets({URL: 'http://localhost:3000', PORT: '5432', PW: 'a$b'}))},
        {service: 'on', values: new Map(secrets({NO: 'yes', N: 'x'}))},
      ])
      expect(text).to.equal(
        [
          'services:',
          '  backend:',
          '    environment:',
          '      URL: http://localhost:3000',
          '      PORT: "5432"',
          '      PW: "a$$b"',
          '  "on":',
          '    environment:',
          '      "NO": "yes"',
          '      "N": x',
          '',
        ].join('\n'),
      )
      const doc = YAML.parse(text, {version: '1.1'})
      expect(doc).to.deep.equal({services: {backend: {environment: {URL: 'http://localhost:3000', PORT: '5432', PW: 'a$$b'}}, on: {environment: {NO: 'yes', N: 'x'}}}})
    })

    it('scalars: plain only when safe', () => {
      expect(composeScalar('abc')).to.equal('abc')
      expect(composeScalar('e0')).to.equal('"e0"')
      expect(composeScalar('Yes')).to.equal('"Yes"')
      expect(composeScalar('a: b')).to.equal('"a: b"')
      expect(composeScalar('a:')).to.equal('"a:"')
      expect(composeScalar('-x')).to.equal('"-x"')
      expect(composeScalar('x\u2028y')).to.equal('"x\\u2028y"')
      expect(composeScalar('tab\there')).to.equal('"tab\\there"')
    })
  })

  describe('k8s', () => {
    it('yaml.v2 key order: non-letters before letters, digit runs as numbers', () => {
      const keys = ['ab', 'a_b', 'KEY10', 'KEY9', 'KEY1', 'KEY_1', 'A01', 'A1', 'B', 'b', '_x']
      expect([...keys].sort(goYamlKeyCompare)).to.deep.equal(['_x', 'A1', 'A01', 'B', 'KEY_1', 'KEY1', 'KEY9', 'KEY10', 'a_b', 'ab', 'b'])
    })

    it('scalars quoted exactly when yaml.v2 would read them as another type', () => {
      const quoted = ['', 'yes', 'NO', 'on', 'null', '~', 'true', '123', '0x1f', '0o17', '0b101', '0777', '089', '1e3', '1_000', '2024-01-02', '2024-2-29', '-1', '+1', '.5']
      const plain = ['MQ==', 'abc', '2024-02-30', '2023-02-29', '1e400', '123-on', 'app.kubernetes.io/part-of', 'Z9999999999999999999999x']
      for (const s of quoted) expect(goYamlScalar(s), s).to.equal(JSON.stringify(s))
      for (const s of plain) expect(goYamlScalar(s), s).to.equal(s)
    })

    it('a Secret without values has no data (as kubectl)', () => {
      expect(formatK8sSecret({name: 'x', labels: {}, data: new Map()})).to.equal('apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ntype: Opaque\n')
    })

    it('refuses a Secret over 1 MiB, naming it', () => {
      expect(() => formatK8sSecret({name: 'big', labels: {}, data: new Map(secrets({A: 'x'.repeat(1024 * 1024 + 1)}))})).to.throw(EnvsyncError, /big/)
    })

    it('without a kubernetes target: the same name and labels push would use with a default kubernetes target', () => {
      const manifest = parseManifest(
        'envsync.yaml',
        Buffer.from(`version: 1
project: shop
services: {backend: {}, frontend: {}}
environments:
  development: {}
  staging: {targets: {kubernetes: {}}}
secrets:
  A: {services: [backend]}
  B: {services: [frontend], sensitive: false, default: x}
`),
      )
      const store = (file: string): ValuesFile => ({file, display: file, exists: true, doc: parseEnv('A=1\n', file), values: new Map(secrets({A: '1'})), duplicates: []})
      const fallback = collectExport(manifest, 'development', store('.env.development'), {format: 'k8s'})
      const pushed = resolveDestinations(manifest, 'staging', store('.env.staging'), {targets: ['kubernetes']})
      expect(fallback.groups.map((g) => g.secret)).to.deep.equal(
        pushed.map((r) => {
          const c = r.destination.config as KubernetesConfig
          return {name: c.name, namespace: c.namespace, labels: c.labels}
        }),
      )
    })
  })
})
