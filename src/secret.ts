import {createHmac} from 'node:crypto'
import {inspect} from 'node:util'

import {registerSecret} from './redact.js'

const MASK = '••••••'

/**
 * A secret value that cannot print itself: string conversion, JSON and util.inspect all give a
 * mask. Only code that must hand the value to a store, a platform or an explicit export calls
 * reveal().
 */
export class Secret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
    // Known to the redaction point, so a platform message that quotes it never prints it.
    registerSecret(value)
  }

  reveal(): string {
    return this.#value
  }

  get length(): number {
    return [...this.#value].length
  }

  get isEmpty(): boolean {
    return this.#value.length === 0
  }

  equals(other: Secret | undefined): boolean {
    return other !== undefined && other.#value === this.#value
  }

  /**
   * A short keyed hash: enough to see that two values differ, useless for guessing a value
   * without the key (a plain hash of a short password is brute-forced in seconds).
   */
  fingerprint(key: string | Buffer): string {
    return createHmac('sha256', key).update(this.#value, 'utf8').digest('base64url').slice(0, 10)
  }

  toString(): string {
    return MASK
  }

  toJSON(): string {
    return MASK
  }

  [inspect.custom](): string {
    return `Secret(${MASK})`
  }
}
