import {createHmac} from 'node:crypto'
import {inspect} from 'node:util'

import {registerSecret} from './redact.js'

const MASK = '••••••'
const UTF8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * A secret value that cannot print itself: string conversion, JSON and util.inspect all give a
 * mask. Only code that must hand the value to a store, a platform or an explicit export calls
 * reveal().
 */
export class Secret {
  readonly #value: string
  /** The bytes of a live value that is not UTF-8 text (a binary file or Secret key). */
  readonly #bytes?: Buffer

  constructor(value: string, bytes?: Buffer) {
    this.#value = value
    this.#bytes = bytes
    // Known to the redaction point, so a platform message that quotes it never prints it.
    registerSecret(value)
  }

  /**
   * A value read as bytes (a Docker file, a Kubernetes Secret's data). Bytes that are not UTF-8
   * stay bytes: decoding them would turn them into U+FFFD, and a pull would store, and a diff
   * compare, something the platform does not hold.
   */
  static fromBytes(bytes: Buffer): Secret {
    try {
      return new Secret(UTF8.decode(bytes))
    } catch {
      return new Secret(bytes.toString('latin1'), Buffer.from(bytes))
    }
  }

  /** Whether the value is text a values file can hold: UTF-8, no lone surrogates. */
  get isText(): boolean {
    return this.#bytes === undefined && !LONE_SURROGATE.test(this.#value)
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
    if (other === undefined) return false
    if (this.#bytes || other.#bytes) return this.#bytes !== undefined && other.#bytes !== undefined && this.#bytes.equals(other.#bytes)
    return other.#value === this.#value
  }

  /**
   * A short keyed hash: enough to see that two values differ, useless for guessing a value
   * without the key (a plain hash of a short password is brute-forced in seconds).
   */
  fingerprint(key: string | Buffer): string {
    return createHmac('sha256', key).update(this.#bytes ?? Buffer.from(this.#value, 'utf8')).digest('base64url').slice(0, 10)
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
