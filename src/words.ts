/** "1 error", "2 errors": every count in envsync's messages, at every layer (targets included). */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/** A sentence as part of another ("Fix the YAML." → "fix the YAML"), so messages never nest one inside brackets. */
export function clause(sentence: string): string {
  const s = sentence.trim().replace(/\.$/, '')
  return /^[A-Z][a-z]/.test(s) ? s[0].toLowerCase() + s.slice(1) : s
}
