import {expect} from 'chai'

import {bitsPerChar, expectedBitsPerChar, lowEntropyReason} from '../../src/check/entropy.js'
import {lowEntropy, minLengthOf, placeholder, tooShort, type SecretContext} from '../../src/check/rules.js'
import {parseManifest} from '../../src/manifest/load.js'
import {Secret} from '../../src/secret.js'
import {recipeBits, recipeLength} from '../../src/values/recipes.js'
import {draw, RECIPES} from './support.js'

const DRAWS = 5000
/** What the entropy rule passes for a recipe: bits of randomness per character. */
const bitsOf = (recipe: string) => recipeBits(recipe) / recipeLength(recipe)

describe('check: entropy', () => {
  describe('bitsPerChar', () => {
    it('is 0 for one repeated character, log2(n) for n distinct ones', () => {
      expect(bitsPerChar('aaaaaaaa')).to.equal(0)
      expect(bitsPerChar('abcd')).to.equal(2)
      expect(bitsPerChar('aabb')).to.equal(1)
      expect(bitsPerChar('0123456789abcdef')).to.equal(4)
    })
    it('counts code points, not UTF-16 units', () => {
      expect(bitsPerChar('😀😀😀😀')).to.equal(0)
      expect(bitsPerChar('😀😁')).to.equal(1)
    })
  })

  describe('lowEntropyReason', () => {
    it('says nothing about values shorter than 8 characters', () => {
      expect(lowEntropyReason('aaaaaaa', 6)).to.equal(undefined)
    })
    it('expects what random values really have: fewer bits per character when a short value repeats symbols', () => {
      expect(expectedBitsPerChar(16, 4)).to.be.closeTo(3.21, 0.01)
      expect(expectedBitsPerChar(64, 6)).to.be.closeTo(5.18, 0.01)
      expect(expectedBitsPerChar(4096, 6)).to.be.closeTo(5.99, 0.01)
      // Empirically: the mean over 20,000 random 16-character hex strings.
      let sum = 0
      for (let i = 0; i < 20_000; i++) sum += bitsPerChar(draw('hex:8'))
      expect(sum / 20_000).to.be.closeTo(expectedBitsPerChar(16, 4), 0.02)
    })
    it('never flags the shortest generated values: 200,000 draws of hex:8 (16 characters) and alnum:16', () => {
      // Compared with 4 bits per character, about 1 hex:8 value in 2,200 was flagged.
      for (const recipe of ['hex:8', 'alnum:16']) {
        let flagged = 0
        for (let i = 0; i < 100_000; i++) if (lowEntropyReason(draw(recipe), bitsOf(recipe)) !== undefined) flagged++
        expect(flagged, recipe).to.equal(0)
      }
    })
    it('flags a value with few distinct characters', () => {
      // 64 random base64 characters average 5.2 bits each (some symbols repeat), not 6.
      expect(lowEntropyReason('a'.repeat(64), 6)).to.match(/^0\.0 bits per character where random values have about 5\.2$/)
      expect(lowEntropyReason('abababababababababababababababab', 6)).to.match(/^1\.0 bits per character/)
      expect(lowEntropyReason('aaaaaaaabbbbbbbbccccccccdddddddd', 6)).to.match(/bits per character/)
    })
    it('flags a repeated pattern even when its characters look random', () => {
      const unit = 'Zq7vK2mPx9LrT4wB'
      expect(lowEntropyReason(unit.repeat(2), 6)).to.equal('it repeats a short pattern')
      expect(lowEntropyReason(unit.repeat(4), 6)).to.equal('it repeats a short pattern')
      expect(lowEntropyReason(unit, 6)).to.equal(undefined)
    })
    it('flags a run of 6 identical characters in a base64 or password value', () => {
      const v = 'Zq7vK2mPx9LrT4wBc8NdHs3FyG5jQ1eU'
      expect(lowEntropyReason(v, 6)).to.equal(undefined)
      const withRun = v.slice(0, 10) + '000000' + v.slice(16)
      expect(lowEntropyReason(withRun, 6)).to.equal('it has a run of 6 or more identical characters')
      expect(lowEntropyReason(v.slice(0, 10) + '00000' + v.slice(15), 6)).to.equal(undefined)
    })
    it('asks a longer run of a hex value: random hex:32 has a run of 6 in 1 of ~13,000 values', () => {
      // A run of L turns up about once in 16^(L-1) positions: hex needs L = 9 to be as rare as
      // a run of 6 in base64.
      const hex = 'd1b313274afcb8448130004ab4cf1c4ae3a7bb38e5f6e2b6f4fc7e6f5c0a9d2b'
      expect(lowEntropyReason(hex, 4)).to.equal(undefined)
      expect(lowEntropyReason(hex.slice(0, 20) + '88888888' + hex.slice(28), 4)).to.equal(undefined)
      expect(lowEntropyReason(hex.slice(0, 20) + '888888888' + hex.slice(29), 4)).to.equal('it has a run of 9 or more identical characters')
    })
    it('flags a human-made value in a secret slot', () => {
      for (const v of ['secretsecretsecretsecretsecretsecret', '11111111111111111111111111111111', 'abcabcabcabcabcabcabcabcabcabcab']) {
        expect(lowEntropyReason(v, 6), v).to.be.a('string')
      }
    })
    it('never includes the value in its reason', () => {
      const v = 'QUJDREVGR0gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
      const reason = lowEntropyReason(v, 6)!
      expect(reason).to.be.a('string')
      expect(reason).not.to.include('AAAAAA')
      expect(reason).not.to.include('QUJDREVG')
    })
  })

  describe('generated values pass every per-value rule', () => {
    const yaml = `project: shop
services: {backend: {}}
environments: {production: {}}
secrets:
${RECIPES.map((r, i) => `  K${i}: {services: [backend], generate: "${r}"}`).join('\n')}
`
    const manifest = parseManifest('envsync.yaml', Buffer.from(yaml))

    for (const [i, recipe] of RECIPES.entries()) {
      it(`${DRAWS} values from ${recipe}: no entropy, placeholder or min-length finding`, () => {
        const spec = manifest.secret(`K${i}`)!
        const bits = bitsOf(recipe)
        const flagged: string[] = []
        for (let n = 0; n < DRAWS; n++) {
          const value = draw(recipe)
          const reason = lowEntropyReason(value, bits)
          if (reason) flagged.push(`${reason}: ${value}`)
          const ctx: SecretContext = {manifest, env: 'production', file: '.env.production', value: new Secret(value), elsewhere: new Map()}
          for (const rule of [lowEntropy, placeholder, tooShort]) {
            const f = rule(spec, ctx)
            if (f) flagged.push(`${f.rule}: ${value}`)
          }
        }
        expect(flagged).to.deep.equal([])
      })
    }

    it('the rule asks the same of a value as lowEntropyReason with the recipe bits', () => {
      const spec = manifest.secret('K2')! // hex:32
      const ctx = (v: string): SecretContext => ({manifest, env: 'production', file: '.env.production', value: new Secret(v), elsewhere: new Map()})
      expect(lowEntropy(spec, ctx('0'.repeat(64)))).to.include({rule: 'entropy', severity: 'error', key: 'K2'})
      expect(lowEntropy(spec, ctx(draw('hex:32')))).to.equal(undefined)
    })

    it('minimum lengths: 32 for generated secrets, or what the recipe makes when shorter', () => {
      const expected: Record<string, number> = {'base64:32': 32, 'base64:48': 32, 'hex:32': 32, 'alnum:32': 32, 'alnum:40': 32, 'password:24': 24, uuid: 32}
      for (const [i, recipe] of RECIPES.entries()) {
        expect(minLengthOf(manifest.secret(`K${i}`)!), recipe).to.equal(expected[recipe])
      }
    })
  })
})
