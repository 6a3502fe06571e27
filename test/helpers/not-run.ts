/**
 * Parts of the suite that could not run on this machine (a tool or tier missing), said loudly at
 * the very end of the mocha run rather than hidden in "N pending". Loaded by .mocharc.json
 * (`require`), whose global teardown prints the list after mocha's own summary.
 */
const notRun = new Map<string, string>()

/** Records that `what` did not run and why (printed at the end of the run). */
export function recordNotRun(what: string, why: string): void {
  notRun.set(what, why)
}

/**
 * Inside a before() or it(): when `missing` names a reason, fail under CI (CI must run
 * everything), else record it and skip.
 */
export function requireOrSkip(ctx: Mocha.Context, what: string, missing: string | undefined): void {
  if (missing === undefined) return
  if (process.env.CI) throw new Error(`${what} cannot run: ${missing} (CI is set, so this fails instead of skipping)`)
  recordNotRun(what, missing)
  ctx.skip()
}

export function notRunSummary(): string[] {
  if (notRun.size === 0) return []
  return [`⚠ NOT RUN on this machine (${notRun.size}): these tests were skipped, not passed`, ...[...notRun].map(([what, why]) => `  - ${what}: ${why}`)]
}

export function mochaGlobalTeardown(): void {
  const lines = notRunSummary()
  if (lines.length > 0) process.stdout.write(`\n${lines.join('\n')}\n\n`)
}
