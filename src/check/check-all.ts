import {asEnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {runCheck, type CheckResult} from './check.js'

/** An environment `check` without an environment could not audit here, and why (its store is locked to this machine). */
export interface CheckSkipped {
  environment: string
  skipped: string
  suggestion?: string
}

/** `envsync check` with no environment: every environment, in manifest order. */
export interface CheckAllResult {
  environments: (CheckResult | CheckSkipped)[]
  errors: number
  warnings: number
  skipped: number
}

export const isSkipped = (r: CheckResult | CheckSkipped): r is CheckSkipped => 'skipped' in r

/**
 * Audits every environment. One whose store this machine cannot open (an encrypted store without
 * a key for it: STORE_LOCKED) is skipped with the reason — a developer checks what they can read;
 * naming that environment still fails. Any other failure is an error, as for one environment.
 */
export async function runCheckAll(manifest: Manifest): Promise<CheckAllResult> {
  const environments: (CheckResult | CheckSkipped)[] = []
  for (const env of manifest.environmentNames) {
    try {
      environments.push(await runCheck(manifest, env))
    } catch (error) {
      const e = asEnvsyncError(error)
      if (e.code !== 'STORE_LOCKED') throw e
      environments.push({environment: env, skipped: e.message, suggestion: e.suggestion})
    }
  }
  const checked = environments.filter((r) => !isSkipped(r)) as CheckResult[]
  return {
    environments,
    errors: checked.reduce((n, r) => n + r.errors, 0),
    warnings: checked.reduce((n, r) => n + r.warnings, 0),
    skipped: environments.length - checked.length,
  }
}
