import {randomBytes, randomInt, randomUUID} from 'node:crypto'

import {EnvsyncError} from '../errors.js'
import type {SecretSpecData} from '../manifest/schema.js'
import {Secret} from '../secret.js'

/**
 * Generation recipes. `base64:N` is what `openssl rand -base64 N` prints; every recipe draws from
 * Node's CSPRNG, and alnum/password pick characters without modulo bias (crypto.randomInt).
 */
export type RecipeKind = 'base64' | 'hex' | 'alnum' | 'password' | 'uuid'

export interface Recipe {
  kind: RecipeKind
  /** Bytes for base64/hex, characters for alnum/password; 0 for uuid. */
  size: number
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** Symbols that a .env file takes unquoted: no quotes, #, $, backslash or space. */
const SYMBOLS = '!%*+,-.:;=?@^_~'
const PASSWORD = ALNUM + SYMBOLS

export function parseRecipe(recipe: string): Recipe {
  if (recipe === 'uuid') return {kind: 'uuid', size: 0}
  const m = /^(base64|hex|alnum|password):([1-9]\d{0,4})$/.exec(recipe)
  if (!m) {
    throw new EnvsyncError(`unknown recipe "${recipe}"`, {
      code: 'BAD_RECIPE',
      suggestion: 'use base64:N, hex:N, alnum:N, password:N (N from 1 to 99999) or uuid',
    })
  }
  return {kind: m[1] as RecipeKind, size: Number(m[2])}
}

/** Length in characters of what a recipe makes. */
export function recipeLength(recipe: string): number {
  const r = parseRecipe(recipe)
  switch (r.kind) {
    case 'base64':
      return 4 * Math.ceil(r.size / 3)
    case 'hex':
      return 2 * r.size
    case 'uuid':
      return 36
    default:
      return r.size
  }
}

/** Bits of randomness in a value made by the recipe. */
export function recipeBits(recipe: string): number {
  const r = parseRecipe(recipe)
  switch (r.kind) {
    case 'base64':
    case 'hex':
      return 8 * r.size
    case 'uuid':
      return 122
    case 'alnum':
      return r.size * Math.log2(ALNUM.length)
    case 'password':
      return r.size * Math.log2(PASSWORD.length)
  }
}

/**
 * A recipe the manifest would accept for a key that has none, or undefined when no recipe can
 * be valid there: a default excludes one, and random bytes never match a url, port or enum
 * format (nor, in general, a regex). The size meets the key's minLength.
 */
export function recipeFor(spec: Pick<SecretSpecData, 'default' | 'format' | 'minLength'>): string | undefined {
  if (spec.default !== undefined || spec.format !== undefined) return undefined
  const min = spec.minLength ?? 0
  // base64:N makes 4·⌈N/3⌉ characters.
  return `base64:${Math.max(32, Math.ceil(min / 4) * 3)}`
}

/** The equivalent shell command, for templates and runbooks. */
export function recipeCommand(recipe: string): string {
  const r = parseRecipe(recipe)
  switch (r.kind) {
    case 'base64':
      return `openssl rand -base64 ${r.size}`
    case 'hex':
      return `openssl rand -hex ${r.size}`
    case 'uuid':
      return 'uuidgen | tr A-Z a-z'
    case 'alnum':
      return `LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c ${r.size}`
    case 'password':
      return `LC_ALL=C tr -dc 'A-Za-z0-9${SYMBOLS}' </dev/urandom | head -c ${r.size}`
  }
}

function pick(alphabet: string, n: number): string {
  let out = ''
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)]
  return out
}

export function generate(recipe: string): Secret {
  const r = parseRecipe(recipe)
  switch (r.kind) {
    case 'base64':
      return new Secret(randomBytes(r.size).toString('base64'))
    case 'hex':
      return new Secret(randomBytes(r.size).toString('hex'))
    case 'uuid':
      return new Secret(randomUUID())
    case 'alnum':
      return new Secret(pick(ALNUM, r.size))
    case 'password': {
      // At least one symbol and one digit: many password policies insist on them.
      for (;;) {
        const v = pick(PASSWORD, r.size)
        if (r.size < 4 || (/[0-9]/.test(v) && /[^A-Za-z0-9]/.test(v))) return new Secret(v)
      }
    }
  }
}

export const alphabets = {alnum: ALNUM, password: PASSWORD, symbols: SYMBOLS}
