import vm from 'node:vm'

/**
 * Manifest regexes (`format: {regex: …}`) with a time bound. JavaScript regexes backtrack, so a
 * pattern like `(a+)+b` takes twice as long for every character of a value that almost matches,
 * and Node has no regex timeout. The matches run as one script in a vm context, which has one:
 * a match that runs over REGEX_TIME_LIMIT_MS is stopped and reported, never waited for.
 */
export const REGEX_TIME_LIMIT_MS = 200

export type RegexOutcome = boolean | 'timeout'

/** What to do about a regex that timed out (check and manifest validation say the same). */
export const BACKTRACK_HINT = `the pattern backtracks: rewrite nested or overlapping repetition (such as (a+)+ or (a|a)*) as a single one (a+); envsync stops a regex after ${REGEX_TIME_LIMIT_MS} ms`

/** Compiles a manifest regex; the whole value must match it. */
export function compileRegex(pattern: string): {regex?: RegExp; error?: string} {
  try {
    return {regex: new RegExp(`^(?:${pattern})$`, 'u')}
  } catch (error) {
    return {error: (error as Error).message.replace(/^Invalid regular expression: /, '')}
  }
}

interface Job {
  regex: RegExp
  value: string
}

// One context and one compiled script for the process; each run resumes where the last stopped.
let context: vm.Context | undefined
const script = new vm.Script('for (let i = state.next; i < jobs.length; i++) { state.at = i; out[i] = jobs[i].regex.test(jobs[i].value) }')

/**
 * Whole-value matches of patterns (invalid patterns, reported at load, match anything). All
 * jobs run in one vm run, with one watchdog (a run per match would cost ~0.5 ms each). When a
 * run times out, the match it stopped in is retried alone with a whole budget, so only a match
 * that by itself exceeds the limit counts as 'timeout'; the run then resumes after it.
 */
export function testRegexes(items: {pattern: string; value: string}[]): RegexOutcome[] {
  const compiled = new Map<string, RegExp | undefined>()
  const out: RegexOutcome[] = Array.from({length: items.length}, () => true)
  const jobs: Job[] = []
  const index: number[] = []
  items.forEach(({pattern, value}, i) => {
    if (!compiled.has(pattern)) compiled.set(pattern, compileRegex(pattern).regex)
    const regex = compiled.get(pattern)
    if (regex) {
      jobs.push({regex, value})
      index.push(i)
    }
  })
  if (jobs.length === 0) return out
  context ??= vm.createContext({})
  const results: boolean[] = []
  const state = {next: 0, at: 0}
  Object.assign(context, {jobs, out: results, state})
  const stopped = new Set<number>()
  try {
    while (state.next < jobs.length) {
      state.at = state.next
      try {
        script.runInContext(context, {timeout: REGEX_TIME_LIMIT_MS})
        break
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error
        if (state.at === state.next) {
          stopped.add(state.at)
          state.next = state.at + 1
        } else state.next = state.at
      }
    }
  } finally {
    // The context outlives the run: drop the values it was given.
    Object.assign(context, {jobs: undefined, out: undefined, state: undefined})
  }
  jobs.forEach((_, j) => (out[index[j]] = stopped.has(j) ? 'timeout' : results[j]))
  return out
}
