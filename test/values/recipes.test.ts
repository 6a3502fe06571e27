import {execFileSync, spawnSync} from 'node:child_process'

import {expect} from 'chai'

import {EnvsyncError} from '../../src/errors.js'
import {alphabets, generate, parseRecipe, recipeCommand, recipeLength} from '../../src/values/recipes.js'

describe('values/recipes', () => {
  it('base64:N is N random bytes in standard base64, the shape `openssl rand -base64 N` prints', () => {
    for (const n of [1, 16, 32, 48, 64]) {
      const v = generate(`base64:${n}`).reveal()
      expect(Buffer.from(v, 'base64')).to.have.length(n)
      expect(v).to.match(/^[A-Za-z0-9+/]+={0,2}$/)
      expect(v).to.have.length(recipeLength(`base64:${n}`))
      if (!spawnSync('openssl', ['version']).error && n <= 48) {
        const theirs = execFileSync('openssl', ['rand', '-base64', String(n)]).toString().trim()
        expect(v.length).to.equal(theirs.length)
      }
    }
  })

  it('hex:N is 2N lowercase hex characters', () => {
    const v = generate('hex:32').reveal()
    expect(v).to.match(/^[0-9a-f]{64}$/)
  })

  it('uuid is a v4 UUID', () => {
    expect(generate('uuid').reveal()).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('password:N has N characters with a digit and a symbol, none that needs quoting in .env', () => {
    for (let i = 0; i < 200; i++) {
      const v = generate('password:24').reveal()
      expect(v).to.have.length(24)
      expect(v).to.match(/[0-9]/)
      expect(v).to.match(/[^A-Za-z0-9]/)
      expect(v).to.not.match(/['"`$#\\\s]/)
    }
  })

  it('alnum draws every character with equal probability (chi-square, no modulo bias)', () => {
    const counts = new Map<string, number>()
    const draws = 62 * 800
    const text = generate(`alnum:${draws}`).reveal()
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).to.equal(alphabets.alnum.length)
    const expected = draws / alphabets.alnum.length
    const chi = [...counts.values()].reduce((s, n) => s + (n - expected) ** 2 / expected, 0)
    // 61 degrees of freedom: p = 0.0001 at chi² ≈ 108. A biased picker (byte % 62) lands near 150+.
    expect(chi).to.be.lessThan(108)
  })

  it('never draws the same value twice in 10,000 draws', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) seen.add(generate('base64:16').reveal())
    expect(seen.size).to.equal(10_000)
  })

  it('names the equivalent shell command', () => {
    expect(recipeCommand('base64:32')).to.equal('openssl rand -base64 32')
    expect(recipeCommand('hex:16')).to.equal('openssl rand -hex 16')
  })

  it('rejects unknown recipes with a suggestion', () => {
    for (const bad of ['b64:32', 'base64:0', 'hex', 'alnum:-1', 'uuid:4']) {
      expect(() => parseRecipe(bad)).to.throw(EnvsyncError).with.property('suggestion').that.includes('base64:N')
    }
  })

  it('generated values print as a mask', () => {
    const s = generate('base64:32')
    expect(String(s)).to.not.include(s.reveal())
    expect(JSON.stringify({s})).to.not.include(s.reveal())
    expect(`${s}`).to.equal('••••••')
  })
})
