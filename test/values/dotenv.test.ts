import {expect} from 'chai'
import dotenv from 'dotenv'
import fc from 'fast-check'

import {EnvsyncError} from '../../src/errors.js'
import {applyChanges, encodeValue, envValues, parseEnv} from '../../src/values/dotenv.js'

const read = (text: string) => Object.fromEntries(envValues(parseEnv(text, '.env.test')))

/** Awkward characters, weighted so that quotes, escapes and blanks meet often. */
const awkward = fc.constantFrom(
  'a', 'Z', '0', ' ', '\t', '\n', '\r', '#', '$', '=', '"', "'", '`', '\\', 'n', 'r', '{', '}', ':',
  'é', 'ß', '日', '😀', '\u00a0', '\u2028', '\ufeff', '\0', 'export ', 'K=', '${HOME}', '${{Postgres.URL}}',
)
const awkwardValue = fc.oneof(
  fc.string({unit: awkward, maxLength: 24}),
  fc.string({unit: 'grapheme', maxLength: 24}),
  fc.string({unit: 'binary', maxLength: 16}).filter((s) => s.isWellFormed()),
)

/**
 * Independent oracle: can any dotenv syntax hold this value? Tries every quoting by brute force
 * with the dotenv package itself. Two forms are left out because dotenv reads them only when no
 * later quote in the file happens to close them: a quoted value ending in a backslash, and an
 * unquoted value starting with a quote character (both can swallow the lines after them).
 */
function dotenvCanHold(value: string): boolean {
  const forms = [value, `'${value}'`, `\`${value}\``, `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`]
  return forms.some((form, i) => {
    if (i === 0 && `'"\``.includes(value[0])) return false
    if (i > 0 && value.endsWith('\\')) return false
    return CONTEXTS.every((file) => dotenv.parse(file(form)).KEY === value)
  })
}

/** Files around the value: quotes of every kind after it, comments, end of file. */
const CONTEXTS = [
  (form: string) => `A=1\nKEY=${form}\nB='x' # '\n`,
  (form: string) => `KEY=${form}\nC="y" # "\nD=\`z\` # \`\n`,
  (form: string) => `# it's a "comment" \`x\`\nKEY=${form}`,
]

describe('values/dotenv', () => {
  describe('reading, with dotenv semantics', () => {
    const files = [
      'A=1\nB=two words\nC="quoted # not a comment"\nD=\'single $HOME\'\nE=`back`\n',
      '# comment\n\nexport A=1\n  B = spaced  \nC=value # trailing comment\nD=#starts-comment\n',
      'MULTI="line1\\nline2"\nRAW=\'line1\nline2\'\nCR="a\\rb"\n',
      'A=1\r\nB="x\\ny"\r\nC=3\r\n',
      'DUP=1\nDUP=2\n',
      'EMPTY=\nEMPTYQ=""\nCOLON: yes\n',
      'PEM="-----BEGIN KEY-----\\nMIIB\\n-----END KEY-----"\n',
    ]
    for (const text of files) {
      it(`matches dotenv.parse for ${JSON.stringify(text.slice(0, 30))}…`, () => {
        expect(read(text)).to.deep.equal(dotenv.parse(text))
      })
    }

    it('remembers where each key is', () => {
      const doc = parseEnv('# c\nA=1\n\nB="x\ny"\nC=3\n', 'f')
      expect(doc.entries.map((e) => [e.key, e.line])).to.deep.equal([['A', 2], ['B', 4], ['C', 6]])
    })
  })

  describe('rejecting what dotenv would silently misread', () => {
    const cases: [string, string, number, number][] = [
      ['A=1\nB="unterminated\nC=3\n', 'never closed', 2, 3],
      ["A='open\n", 'never closed', 1, 3],
      ['A="closed"trailing\n', 'text after the closing', 1, 3],
      ['A=1\nthis is not an assignment\n', 'not KEY=value', 2, 1],
      ['A=1\n  B C = 3\n', 'not KEY=value', 2, 3],
    ]
    for (const [text, message, line, column] of cases) {
      it(`${message} at ${line}:${column}`, () => {
        let error: unknown
        try {
          parseEnv(text, '.env.production')
        } catch (e) {
          error = e
        }
        expect(error).to.be.instanceOf(EnvsyncError)
        const e = error as EnvsyncError
        expect(e.message).to.include(message)
        expect(e.where).to.equal(`.env.production:${line}:${column}`)
        expect(e.suggestion).to.be.a('string')
      })
    }
  })

  describe('writing', () => {
    it('round-trips every value it accepts, byte-exact, through our reader and dotenv (10,000 random values)', () => {
      let refused = 0
      fc.assert(
        fc.property(awkwardValue, (value) => {
          const encoded = encodeValue(value)
          if (encoded === undefined) {
            refused++
            // Refused only when no dotenv syntax can hold the value at all.
            expect(dotenvCanHold(value), `refused a representable value ${JSON.stringify(value)} (code points ${[...value].map((c) => c.codePointAt(0)!.toString(16)).join(" ")})`).to.equal(false)
            return
          }
          for (const context of CONTEXTS) {
            const text = context(encoded)
            expect(read(text).KEY).to.equal(value)
            expect(read(text)).to.deep.equal(dotenv.parse(text))
          }
        }),
        {numRuns: 10000},
      )
      // Only values with all three quote kinds and a # (or similar) are refused: a small share.
      expect(refused).to.be.lessThan(300)
    })

    it('round-trips the classic awkward values', () => {
      const values = [
        '', ' ', '  leading', 'trailing  ', '\ttab\t', 'a=b=c', 'has # hash', '#start', 'dollar $HOME ${X}',
        "it's", 'say "hi"', '`tick`', 'multi\nline\n', '\n', 'crlf\r\nend', 'back\\slash', 'ends with \\', 'unicode ünïcödé 日本 😀',
        '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n', '${{Postgres.DATABASE_URL}}',
        "mixed ' and \"", 'json {"a":1}', 'literal \\n not a newline',
      ]
      for (const value of values) {
        const doc = parseEnv('', 'f')
        const text = applyChanges(doc, new Map([['KEY', value]]), 'f')
        expect(read(text).KEY, JSON.stringify(value)).to.equal(value)
        expect(dotenv.parse(text).KEY, JSON.stringify(value)).to.equal(value)
      }
    })

    it('refuses a value no dotenv syntax can hold, naming the key and writing nothing', () => {
      const value = `a'b"c\`d # no quoting holds all three quotes and a hash`
      expect(encodeValue(value)).to.equal(undefined)
      expect(() => applyChanges(parseEnv('', 'f'), new Map([['TOKEN', value]]), 'f'))
        .to.throw(EnvsyncError, /TOKEN/)
        .and.satisfy((e: EnvsyncError) => !e.message.includes(value))
    })

    it('keeps comments, blank lines and the order of untouched lines', () => {
      const before = '# top comment\nA=1 # keep me\n\n# section\nexport B="two"\nC=3\n'
      const doc = parseEnv(before, 'f')
      const after = applyChanges(doc, new Map<string, string | null>([['B', 'new value'], ['D', '4'], ['C', null]]), 'f')
      expect(after).to.equal("# top comment\nA=1 # keep me\n\n# section\nexport B='new value'\nD=4\n")
    })

    it('updates a value in place, keeping its trailing comment', () => {
      const doc = parseEnv('A=old   # why\nB=2\n', 'f')
      expect(applyChanges(doc, new Map([['A', 'new']]), 'f')).to.equal('A=new   # why\nB=2\n')
    })

    it('replaces a multi-line value whole', () => {
      const doc = parseEnv("A='one\ntwo\nthree'\nB=2\n", 'f')
      expect(applyChanges(doc, new Map([['A', 'x']]), 'f')).to.equal('A=x\nB=2\n')
    })

    it('keeps CRLF line endings', () => {
      const doc = parseEnv('A=1\r\nB=2\r\n', 'f')
      const out = applyChanges(doc, new Map([['B', 'three'], ['C', 'x']]), 'f')
      expect(out).to.equal('A=1\r\nB=three\r\nC=x\r\n')
      expect(dotenv.parse(out)).to.deep.equal({A: '1', B: 'three', C: 'x'})
    })

    it('appends after a last line without newline', () => {
      const doc = parseEnv('A=1', 'f')
      expect(applyChanges(doc, new Map([['B', '2']]), 'f')).to.equal('A=1\nB=2\n')
    })
  })
})
