import {asEnvsyncError, EnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {runCheck, type CheckOptions, type CheckResult} from './check.js'

/** An environment `check` without an environment could not audit here, and why (its store is locked to this machine). */
export interface CheckSkipped {
  environment: string
  skipped: string
  suggestion?: string
}

/** An environment that could not be checked: its input is wrong (a values file that does not parse, a damaged store). */
export interface CheckFailed {
  environment: string
  /** As the --json envelope carries an error: message, code, file/line/column, suggestion. */
  error: ReturnType<EnvsyncError['toJSON']>
  /** file:line:col of the error, as the error line shows it. */
  where?: string
  exitCode: number
}

export type CheckAllEntry = CheckResult | CheckSkipped | CheckFailed

/** `envsync check` with no environment: every environment, in manifest order. */
export interface CheckAllResult {
  environments: CheckAllEntry[]
  errors: number
  warnings: number
  skipped: number
  /** Environments that could not be checked; the command exits with the worst of their exit codes. */
  failed: number
  exitCode: number
}

export const isSkipped = (r: CheckAllEntry): r is CheckSkipped => 'skipped' in r
export const isFailed = (r: CheckAllEntry): r is CheckFailed => 'error' in r

/**
 * Audits every environment. One whose store this machine cannot open (an encrypted store without
 * a key for it: STORE_LOCKED) is skipped with the reason — a developer checks what they can read;
 * naming that environment still fails. One whose input is wrong (a values file that does not
 * parse, a damaged store) is reported failed with its error, and the others are still checked.
 */
export async function runCheckAll(manifest: Manifest, options: CheckOptions = {}): Promise<CheckAllResult> {
  const environments: CheckAllEntry[] = []
  for (const env of manifest.environmentNames) {
    try {
      environments.push(await runCheck(manifest, env, undefined, options))
    } catch (error) {
      if (!(error instanceof EnvsyncError)) throw error
      const e = asEnvsyncError(error)
      if (e.code === 'STORE_LOCKED') environments.push({environment: env, skipped: e.message, suggestion: e.suggestion})
      else environments.push({environment: env, error: e.toJSON(), where: e.where || undefined, exitCode: e.exitCode})
    }
  }
  const checked = environments.filter((r) => !isSkipped(r) && !isFailed(r)) as CheckResult[]
  const failed = environments.filter(isFailed)
  return {
    environments,
    errors: checked.reduce((n, r) => n + r.errors, 0),
    warnings: checked.reduce((n, r) => n + r.warnings, 0),
    skipped: environments.filter(isSkipped).length,
    failed: failed.length,
    exitCode: Math.max(0, ...failed.map((f) => f.exitCode)),
  }
}
