/** "Did you mean" for misspelled keys and names. */

function distance(a: string, b: string): number {
  // Damerau-Levenshtein (optimal string alignment): a swapped pair counts as one edit.
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** The closest candidate, if it is close enough to be a likely typo. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  return nearest(input, candidates)[0]
}

/** Every candidate at the smallest distance, if that is close enough to be a likely typo (ties are all returned: no guessing). */
export function nearest(input: string, candidates: Iterable<string>): string[] {
  const lower = input.toLowerCase()
  const all = [...candidates].filter((c) => c !== input)
  const scored = all.map((c) => ({c, score: c.toLowerCase() === lower ? 0 : distance(lower, c.toLowerCase())}))
  const best = Math.min(...scored.map((s) => s.score))
  const limit = Math.max(1, Math.floor(input.length / 3))
  // "prod" for "production": a clear prefix is as good a hint as a typo, and when a typo fits
  // another name ("gen": get, generate) both are named.
  const prefixed = all.filter((c) => input.length >= 3 && c.toLowerCase().startsWith(lower))
  const prefix = prefixed.length === 1 ? prefixed : []
  if (best <= limit) return [...new Set([...scored.filter((s) => s.score === best).map((s) => s.c), ...prefix])]
  return prefix
}

export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const c = closest(input, candidates)
  return c === undefined ? undefined : `did you mean "${c}"?`
}
