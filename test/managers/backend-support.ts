import {expect} from 'chai'

import {EnvsyncError} from '../../src/errors.js'

/**
 * Changes a backend test makes to process.env (parts of every platform's credential chain read
 * it, not the env a backend is given): each variable's first value is kept, to restore after.
 */
export class EnvChanges {
  readonly saved: Record<string, string | undefined> = {}

  set(vars: Record<string, string | undefined>): void {
    for (const [k, v] of Object.entries(vars)) {
      if (!(k in this.saved)) this.saved[k] = process.env[k]
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }

  restore(): void {
    for (const [k, v] of Object.entries(this.saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** The EnvsyncError a promise rejects with (a resolve or any other error fails the test). */
export async function failure(promise: Promise<unknown>): Promise<EnvsyncError> {
  const error = await promise.then(
    () => expect.fail('expected an EnvsyncError'),
    (error_: unknown) => error_,
  )
  expect(error, String(error)).to.be.instanceOf(EnvsyncError)
  return error as EnvsyncError
}
