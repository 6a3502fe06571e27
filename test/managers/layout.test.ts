import {expect} from 'chai'

import {keyOfName, nameProblem, placesOf, secretNameOf, type Layout} from '../../src/targets/managers/layout.js'

const layout = (over: Partial<Layout> = {}): Layout => ({prefix: 'filot/production/', names: 'kebab', groups: new Map(), ...over})

describe('secret manager layout', () => {
  it('maps keys to kebab names and back (JWT_SECRET ↔ jwt-secret)', () => {
    const l = layout()
    expect(secretNameOf(l, 'JWT_SECRET')).to.equal('filot/production/jwt-secret')
    expect(keyOfName(l, 'filot/production/jwt-secret')).to.equal('JWT_SECRET')
    expect(keyOfName(l, 'filot/staging/jwt-secret')).to.equal(undefined)
    // A name that cannot be an environment variable is nobody's key.
    expect(keyOfName(l, 'filot/production/9lives')).to.equal(undefined)
    expect(keyOfName(l, 'filot/production/a/b')).to.equal(undefined)
  })

  it('keeps key names as they are with names: key', () => {
    const l = layout({prefix: 'acme-production-', names: 'key'})
    expect(secretNameOf(l, 'JWT_SECRET')).to.equal('acme-production-JWT_SECRET')
    expect(keyOfName(l, 'acme-production-JWT_SECRET')).to.equal('JWT_SECRET')
  })

  it('puts grouped keys in fields of their JSON secret, the rest one per key', () => {
    const l = layout({groups: new Map([['filot/production/redis', new Map([['REDIS_URL', 'url'], ['REDIS_PASSWORD', 'password']])]])})
    const {places, collision} = placesOf(l, ['JWT_SECRET', 'REDIS_URL', 'REDIS_PASSWORD'])
    expect(collision).to.equal(undefined)
    expect(Object.fromEntries(places)).to.deep.equal({
      JWT_SECRET: {secret: 'filot/production/jwt-secret'},
      REDIS_URL: {secret: 'filot/production/redis', field: 'url'},
      REDIS_PASSWORD: {secret: 'filot/production/redis', field: 'password'},
    })
  })

  it('puts every key in the one secret when the layout names one', () => {
    const {places} = placesOf(layout({prefix: '', secret: 'alyne/production'}), ['A', 'B'])
    expect(Object.fromEntries(places)).to.deep.equal({A: {secret: 'alyne/production', field: 'A'}, B: {secret: 'alyne/production', field: 'B'}})
  })

  it('refuses two keys that fold to one kebab name', () => {
    expect(placesOf(layout(), ['DB_URL', 'db_url']).collision).to.deep.equal({name: 'filot/production/db-url', keys: ['DB_URL', 'db_url']})
  })

  it('refuses a one-key secret named like a JSON secret, and a field mapped twice', () => {
    const groups = new Map([['filot/production/redis', new Map([['REDIS_URL', 'url']])]])
    expect(placesOf(layout({groups}), ['REDIS_URL', 'REDIS']).collision?.keys).to.deep.equal(['REDIS_URL', 'REDIS'])
    expect(placesOf(layout({groups}), ['REDIS', 'REDIS_URL']).collision?.keys).to.deep.equal(['REDIS', 'REDIS_URL'])
    const twice = new Map([['g', new Map([['A', 'x'], ['B', 'x']])]])
    expect(placesOf(layout({groups: twice}), ['A', 'B']).collision).to.deep.equal({name: 'g#x', keys: ['A', 'B']})
  })

  it('compares names without case where the platform does (Azure: Redis and redis are one secret)', () => {
    const groups = new Map([['Shop-Redis', new Map([['REDIS_URL', 'url']])], ['shop-redis', new Map([['REDIS_PASSWORD', 'password']])]])
    const l = layout({prefix: 'shop-', groups})
    expect(placesOf(l, ['REDIS_URL', 'REDIS_PASSWORD']).collision).to.equal(undefined)
    expect(placesOf(l, ['REDIS_URL', 'REDIS_PASSWORD'], {caseless: true}).collision?.keys).to.deep.equal(['REDIS_URL', 'REDIS_PASSWORD'])
    const jwt = layout({prefix: 'shop-', groups: new Map([['Shop-Jwt', new Map([['A', 'a']])]])})
    expect(placesOf(jwt, ['A', 'JWT'], {caseless: true}).collision?.keys).to.deep.equal(['A', 'JWT'])
  })

  it("knows each platform's name rules", () => {
    expect(nameProblem('azure', 'jwt-secret')).to.equal(undefined)
    expect(nameProblem('azure', 'JWT_SECRET')).to.match(/letters, digits and hyphens \(-\)/)
    expect(nameProblem('azure', 'a'.repeat(128))).to.match(/128 characters/)
    expect(nameProblem('gcp', 'acme-production-JWT_SECRET')).to.equal(undefined)
    expect(nameProblem('gcp', 'acme/production')).to.match(/letters, digits, hyphens \(-\) and underscores/)
    expect(nameProblem('aws', 'filot/production/jwt-secret')).to.equal(undefined)
    expect(nameProblem('aws', 'with space')).to.not.equal(undefined)
    expect(nameProblem('vault', 'alyne/production')).to.equal(undefined)
    for (const bad of ['/lead', 'trail/', 'a//b', 'a/../b', '..', 'a/./b']) expect(nameProblem('vault', bad), bad).to.not.equal(undefined)
  })
})
