import {EnvsyncError} from '../errors.js'
import type {Secret} from '../secret.js'

/** What Kubernetes accepts in one Secret's data: shared by push and `export --format k8s`. */
export const MAX_SECRET_BYTES = 1024 * 1024
const KEY = /^[-._a-zA-Z0-9]+$/

/** Throws before anything is sent or printed when a key is invalid or the data exceeds 1 MiB. */
export function checkSecretData(name: string, data: Iterable<[string, Secret]>): void {
  let total = 0
  for (const [key, value] of data) {
    if (!KEY.test(key) || key.length > 253) {
      throw new EnvsyncError(`${key} is not a valid Kubernetes Secret key`, {code: 'K8S_BAD_KEY', exitCode: 1, suggestion: 'keys are letters, digits, -, _ and . (at most 253)'})
    }
    total += Buffer.byteLength(value.reveal(), 'utf8')
  }
  if (total > MAX_SECRET_BYTES) {
    throw new EnvsyncError(`secret ${name} would hold ${total} bytes; Kubernetes accepts at most ${MAX_SECRET_BYTES}`, {
      code: 'K8S_TOO_LARGE',
      exitCode: 1,
      suggestion: 'split the keys across services, or keep large files (certificates, bundles) out of Secrets',
    })
  }
}
