import {expect} from 'chai'
import fc from 'fast-check'

import {placeholderKind} from '../../src/check/placeholder.js'
import {draw, pgUrl, RECIPES} from './support.js'

const KINDS = new Set(['change-me', 'placeholder', 'dummy', 'example', 'todo', 'weak default', '<…>', 'xxx', 'your-…'])
const DRAWS = 5000

describe('check: placeholderKind', () => {
  describe('flags placeholders, with the kind of marker', () => {
    const cases: [string, string][] = [
      // change me, whole and as a prefix or suffix
      ['changeme', 'change-me'],
      ['CHANGEME', 'change-me'],
      ['change-me', 'change-me'],
      ['Change_Me', 'change-me'],
      ['change me', 'change-me'],
      ['changeit', 'change-me'],
      ['replace-me', 'change-me'],
      ['replaceme', 'change-me'],
      ['change-this', 'change-me'],
      ['fill-me-in', 'change-me'],
      ['dev-secret-change-me', 'change-me'],
      ['change-me-in-prod', 'change-me'],
      ['super_secret_jwt_key_CHANGE_ME_in_production', 'change-me'],
      ['postgres://user:changeme@localhost:5432/app', 'change-me'],
      // your-…
      ['your-api-key-here', 'your-…'],
      ['YOUR_API_KEY', 'your-…'],
      ['your_jwt_secret', 'your-…'],
      ['Your-Token', 'your-…'],
      ['insert-key-here', 'your-…'],
      ['enter_your_password_here', 'your-…'],
      ['api-key-goes-here', 'your-…'],
      ['your-Kq8vP2xLm9Zt4wB', 'your-…'],
      ['Kq8vP2xLm9Zt4wB-your-key-here', 'your-…'],
      // xxx
      ['xxx', 'xxx'],
      ['XXXXXXXX', 'xxx'],
      ['sk_test_xxxxxxxx', 'xxx'],
      ['sk_live_XXXXXXXXXXXXXXXXXXXXXXXX', 'xxx'],
      ['https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'xxx'],
      ['...', 'xxx'],
      ['***', 'xxx'],
      ['********', 'xxx'],
      ['---', 'xxx'],
      // todo / tbd / fixme
      ['TODO', 'todo'],
      ['todo', 'todo'],
      ['TODO: set this', 'todo'],
      ['tbd', 'todo'],
      ['TBD', 'todo'],
      ['FIXME', 'todo'],
      ['jwt-secret-todo', 'todo'],
      // example / placeholder / dummy / redacted
      ['example', 'example'],
      ['example-secret', 'example'],
      ['https://api.example.com', 'example'],
      ['placeholder', 'placeholder'],
      ['PLACEHOLDER_VALUE', 'placeholder'],
      ['redacted', 'placeholder'],
      ['dummy', 'dummy'],
      ['dummy-stripe-key', 'dummy'],
      // <…> and friends
      ['<your-key>', '<…>'],
      ['<secret>', '<…>'],
      ['<>', '<…>'],
      ['[API_KEY]', '<…>'],
      ['{{ jwt_secret }}', '<…>'],
      // weak whole values
      ['password', 'weak default'],
      ['Password', 'weak default'],
      ['secret', 'weak default'],
      ['admin', 'weak default'],
      ['root', 'weak default'],
      ['123456', 'weak default'],
      ['12345678', 'weak default'],
      ['letmein', 'weak default'],
      ['qwerty', 'weak default'],
      ['test', 'weak default'],
      ['null', 'weak default'],
      ['undefined', 'weak default'],
      // surrounding blanks do not hide a placeholder
      ['  changeme  ', 'change-me'],
      ['\tTODO\n', 'todo'],
    ]
    for (const [value, kind] of cases) {
      it(`${JSON.stringify(value)} → ${kind}`, () => {
        expect(placeholderKind(value)).to.equal(kind)
      })
    }
  })

  describe('does not flag real values', () => {
    const real = [
      // Postgres URLs with real passwords
      'postgres://shop:Zq7vK2mPx9LrT4wBc8NdHs3F@db.internal:5432/shop',
      'postgresql://app_user:s3cr3tP%40ss-Wd9q@10.0.3.7:5432/shop?sslmode=require',
      'postgres://acme:pL4nT-0x9RqZt2Vb@acme-prod.cluster-c1xyz.eu-west-1.rds.amazonaws.com:5432/acme',
      'redis://:Hq8v2KxPz7LmT4wB@cache.internal:6379/0',
      // Stripe-like and other provider keys
      'sk_live_51HqLyjWDarjtT1zdp7dc8KxPq2LmN4vB9cR7tY0u',
      'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
      'pk_live_51HqLyjWDarjtT1zdp7dcTYooMQauvdEDq54NiTph',
      'rk_test_51HqLyjWDarjtT1zdp7dc9QwErTyUiOp',
      'whsec_5f8a2c1e9b7d4036a1c2e3f4b5a69788',
      'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
      'xoxb-2345678901-3456789012-AbCdEfGhIjKlMnOpQrStUvWx',
      'AKIAZ3MHTK7QX5P2LJ4R',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK3vQx9hTm',
      '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',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      // ordinary config
      'production',
      'localhost',
      'http://localhost:3000',
      'smtp.postmarkapp.com',
      'acme-minio',
      'ops@shop.io',
      'true',
      '3000',
      'todos-api',
      'yourself',
      'xxxl-shirts',
      'mexico-city',
      '',
      '   ',
      // Random values whose tokens spell a short marker by chance: each was flagged before
      // short markers needed a value made of words.
      'gVJWD3WZcizAduxjN9Ck8aUMhsG6+tbD/mlqifnRMuQ=',
      '+xxX/MiJnfA3ZEGBi8MzU5yLzJDbuxtPAw7SRgg58OE=',
      'zm+R2t8DrzLFx5+gxNGf4CqtYP7lo6R1sJ3LgL8/btb2dh/EwIy/5z2vRqlz+xxX',
      'XxX+C9JNr2t1e0Xvnd1DLt+U4gQYp3dt8F+i7q/vcjJUIGTK5/Qq63AHMEA4K/bO',
      'Al:xxx*dS=38Y06kOp?D9Ul?',
      '%xXx@QPW80Qbk3.sRbFHPMC5',
      '7D9a,5p7BCj;.xim^tbd*1fm',
      'yOuR!8Kq2@Lm9,Zx7^Pd4~Wb',
      'Qm7!kV2;pX9=Lr4%here',
    ]
    for (const value of real) {
      it(JSON.stringify(value), () => {
        expect(placeholderKind(value)).to.equal(undefined)
      })
    }
  })

  for (const recipe of RECIPES) {
    it(`flags none of ${DRAWS} values drawn from ${recipe}`, () => {
      const flagged: string[] = []
      for (let i = 0; i < DRAWS; i++) {
        const v = draw(recipe)
        const kind = placeholderKind(v)
        if (kind) flagged.push(`${kind}: ${v}`)
      }
      expect(flagged).to.deep.equal([])
    })
  }

  it('flags none of 5000 real-looking Postgres URLs and Stripe-like keys', () => {
    const flagged: string[] = []
    for (let i = 0; i < 1000; i++) {
      for (const v of [
        pgUrl(),
        `postgresql://app:${draw('password:24')}@db-${draw('hex:4')}.internal:5432/app?sslmode=require`,
        `sk_live_${draw('alnum:40')}`,
        `sk_test_${draw('alnum:24')}`,
        `whsec_${draw('hex:16')}`,
      ]) {
        if (placeholderKind(v)) flagged.push(v)
      }
    }
    expect(flagged).to.deep.equal([])
  })

  it('flags a random value with a change-me prefix or suffix', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RECIPES), fc.constantFrom('change-me', 'CHANGE_ME', 'changeme', 'replace-me', 'placeholder', 'dummy'), fc.boolean(), (recipe, marker, before) => {
        const v = before ? `${marker}-${draw(recipe)}` : `${draw(recipe)}-${marker}`
        expect(placeholderKind(v), v).to.be.a('string')
      }),
      {numRuns: 300},
    )
  })

  it('returns only a kind of marker, never text of the value', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 40}), (s) => {
        for (const v of [s, `${s}-changeme`, `<${s.replace(/[<>]/g, '')}>`, `your-${s}`]) {
          const kind = placeholderKind(v)
          if (kind !== undefined) expect(KINDS.has(kind), kind).to.equal(true)
        }
      }),
      {numRuns: 500},
    )
  })
})
