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
  const lower = input.toLowerCase()
  let best: string | undefined
  let bestScore = Infinity
  for (const c of candidates) {
    if (c === input) continue
    const score = c.toLowerCase() === lower ? 0 : distance(lower, c.toLowerCase())
    if (score < bestScore) {
      best = c
      bestScore = score
    }
  }
  const limit = Math.max(1, Math.floor(input.length / 3))
  if (bestScore <= limit) return best
  // "prod" for "production": a clear prefix is as good a hint as a typo.
  const prefixed = [...candidates].filter((c) => input.length >= 3 && c.toLowerCase().startsWith(lower))
  return prefixed.length === 1 ? prefixed[0] : undefined
}

export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const c = closest(input, candidates)
  return c === undefined ? undefined : `did you mean "${c}"?`
}
