import {randomBytes} from 'node:crypto'

import {expect} from 'chai'

/**
 * Known secret values for tests that must prove values never leak. Each canary is distinctive
 * (a marker plus random text), and a leak of any 8-character window of its random part counts.
 */
export function canary(label = 'CANARY'): string {
  return `${label}_${randomBytes(18).toString('base64url')}`
}

function windows(value: string, size = 8): string[] {
  const out: string[] = []
  const core = value.replace(/^[A-Z]+_/, '')
  if (core.length <= size) return [core]
  for (let i = 0; i + size <= core.length; i++) out.push(core.slice(i, i + size))
  return out
}

/** Fails if any canary (or an 8-character piece of one) appears in any of the outputs. */
export function assertNoLeak(canaries: string[], ...outputs: (string | undefined)[]): void {
  const text = outputs.filter(Boolean).join('\n')
  for (const c of canaries) {
    for (const w of windows(c)) {
      expect(text.includes(w), `secret value leaked (piece "${w}" of a canary found in output)`).to.equal(false)
    }
  }
}
