/**
 * The matcher on its own: each value is found as is and in every base64 form (standard and
 * URL-safe, padded or not, at any of the three byte alignments inside a larger blob), URL-encoded
 * and JSON-escaped; a value differing by one bit anywhere, truncated by one, or in another case
 * is not — in any form.
 */
import {randomBytes, randomInt} from 'node:crypto'

import {expect} from 'chai'

import {Matcher} from '../../src/scan/match.js'
import {needlesOf} from '../../src/scan/needles.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=_-.:@!$&'

function randomValue(length = randomInt(8, 41)): string {
  return Array.from({length}, () => ALPHABET[randomInt(ALPHABET.length)]).join('')
}

/**
 * The value's bytes inside other bytes, `before` of them first, base64'd as a whole. Random
 * around a value; NUL around a near miss, which random bytes could complete (1 in 256).
 */
function inBlob(value: string, before: number, form: 'base64' | 'base64url', fill: (n: number) => Buffer = randomBytes): string {
  return Buffer.concat([fill(before), Buffer.from(value), fill(randomInt(0, 6))]).toString(form)
}

const found = (values: string[], text: string) => new Matcher(needlesOf(values)).find(Buffer.from(text)).map((m) => ({value: m.needle.value, form: m.needle.form}))

describe('scan needles and matcher', () => {
  it('finds a value as is, inside a longer token, URL-encoded and JSON-escaped', () => {
    const value = 'p4ss/w0rd+"q"=\\x'
    expect(found([value], `x=${value}`)).to.deep.equal([{value: 0, form: 'value'}])
    expect(found([value], `tokenprefix${value}suffix`)).to.deep.equal([{value: 0, form: 'value'}])
    expect(found([value], `https://h/?p=${encodeURIComponent(value)}&x=1`)).to.deep.equal([{value: 0, form: 'url-encoded'}])
    expect(found([value], `{"p": ${JSON.stringify(value)}}`)).to.deep.equal([{value: 0, form: 'json-escaped'}])
  })

  it('finds every value in base64 at each alignment inside a larger blob, standard and URL-safe, padded or not', () => {
    for (let i = 0; i < 300; i++) {
      const value = randomValue()
      const form = i % 2 === 0 ? 'base64' : 'base64url'
      const before = i % 7
      const blob = inBlob(value, before, form)
      const forms = found([value], `data: ${blob.replace(/=+$/, i % 3 === 0 ? '' : '$&')}\n`)
      expect(forms.length, `${value} at ${before} in ${form}`).to.be.greaterThan(0)
      expect(forms.every((f) => f.form.startsWith('base64'))).to.equal(true)
      // Alone, padded and unpadded.
      expect(found([value], Buffer.from(value).toString(form)).length).to.be.greaterThan(0)
    }
  })

  it('never finds a near miss: one bit changed anywhere, truncated by one, another case — as is or in base64', () => {
    for (let i = 0; i < 300; i++) {
      const value = randomValue()
      const bytes = Buffer.from(value)
      const at = i % 2 === 0 ? bytes.length - 1 : i % 3 === 0 ? 0 : randomInt(bytes.length)
      const flipped = Buffer.from(bytes)
      flipped[at] ^= 1 << randomInt(0, 2) // the low bits: those base64 shares with its neighbour character
      const near = [flipped.toString('latin1'), value.slice(0, -1), value.slice(1)]
      if (value.toUpperCase() !== value) near.push(value.toUpperCase())
      for (const miss of near) {
        const text = [miss, inBlob(miss, i % 3, 'base64', (n) => Buffer.alloc(n)), Buffer.from(miss).toString('base64url'), encodeURIComponent(miss)].join('\n')
        expect(found([value], text), `${JSON.stringify(value)} vs ${JSON.stringify(miss)}`).to.deep.equal([])
      }
    }
  })

  it('one pass finds each of many values, each once, where it is', () => {
    const values = Array.from({length: 2000}, () => randomValue(24))
    const parts = values.filter((_, i) => i % 97 === 0)
    const text = Buffer.from(`${randomBytes(5000).toString('hex')}${parts.join(' filler ')}${randomBytes(5000).toString('hex')}`)
    const matches = new Matcher(needlesOf(values)).find(text)
    expect(matches.map((m) => m.needle.value).sort((a, b) => a - b)).to.deep.equal(values.map((_, i) => i).filter((i) => i % 97 === 0))
    for (const m of matches) expect(text.subarray(m.at, m.at + 24).toString()).to.equal(values[m.needle.value])
  })
})
