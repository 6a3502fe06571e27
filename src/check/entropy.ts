/** Shannon entropy per character of the value's own character distribution. */
export function bitsPerChar(value: string): number {
  const chars = [...value]
  const counts = new Map<string, number>()
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) {
    const p = n / chars.length
    h -= p * Math.log2(p)
  }
  return h
}

/**
 * The Shannon entropy per character that n random characters from 2^bits symbols have on
 * average. Below both bits and log2(n) for short values, because a few draws repeat symbols:
 * 16 random hex characters average 3.2 bits, not 4 — comparing them with 4 flagged about one
 * generated hex:8 value in 2,200.
 */
export function expectedBitsPerChar(n: number, bits: number): number {
  const p = 2 ** -bits
  // E[H] = -A · Σ_k P(a symbol occurs k times) · (k/n) log2(k/n), with k ~ Binomial(n, 1/A).
  let logPmf = n * Math.log1p(-p)
  let h = 0
  for (let k = 1; k <= n; k++) {
    logPmf += Math.log((n - k + 1) / k) + Math.log(p) - Math.log1p(-p)
    const q = k / n
    h -= Math.exp(logPmf) * q * Math.log2(q)
  }
  return h / p
}

/**
 * Why a value that should be random does not look it, or undefined. Thresholds sit far below
 * what the recipes produce, so generated values never trip them (tests draw hundreds of
 * thousands of the shortest ones).
 */
export function lowEntropyReason(value: string, alphabetBits: number): string | undefined {
  const chars = [...value]
  if (chars.length < 8) return undefined
  // Below 16 characters the spread of a random value's entropy is too wide to judge by it.
  if (chars.length >= 16) {
    const expected = expectedBitsPerChar(chars.length, alphabetBits)
    const h = bitsPerChar(value)
    if (h < 0.5 * expected) return `${h.toFixed(1)} bits per character where random values have about ${expected.toFixed(1)}`
  }
  for (let p = 1; p <= chars.length / 2; p++) {
    if (chars.length % p === 0 && value === chars.slice(0, p).join('').repeat(chars.length / p)) return 'it repeats a short pattern'
  }
  // A run of L identical characters turns up by chance once in 2^(b·(L-1)) positions: ask for
  // 2^30 at least, so that random hex (a run of 6 in 1 of ~13,000 hex:32 values) never trips it.
  const run = Math.max(6, 1 + Math.ceil(30 / alphabetBits))
  if (new RegExp(`(.)\\1{${run - 1},}`, 'u').test(value)) return `it has a run of ${run} or more identical characters`
  return undefined
}
