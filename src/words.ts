/** "1 error", "2 errors": every count in envsync's messages, at every layer (targets included). */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
