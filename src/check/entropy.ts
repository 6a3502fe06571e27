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
 * Why a value that should be random does not look it, or undefined. Thresholds sit far below
 * what the recipes produce, so generated values never trip them (a test draws thousands).
 */
export function lowEntropyReason(value: string, alphabetBits: number): string | undefined {
  const chars = [...value]
  if (chars.length < 8) return undefined
  // A random string of n characters from 2^b symbols has at most min(b, log2 n) bits per char.
  const expected = Math.min(alphabetBits, Math.log2(chars.length))
  const h = bitsPerChar(value)
  if (h < 0.6 * expected) return `${h.toFixed(1)} bits per character where random values have about ${expected.toFixed(1)}`
  for (let p = 1; p <= chars.length / 2; p++) {
    if (chars.length % p === 0 && value === chars.slice(0, p).join('').repeat(chars.length / p)) return 'it repeats a short pattern'
  }
  // A run of L identical characters turns up by chance once in 2^(b·(L-1)) positions: ask for
  // 2^30 at least, so that random hex (a run of 6 in 1 of ~13,000 hex:32 values) never trips it.
  const run = Math.max(6, 1 + Math.ceil(30 / alphabetBits))
  if (new RegExp(`(.)\\1{${run - 1},}`, 'u').test(value)) return `it has a run of ${run} or more identical characters`
  return undefined
}
