import * as Flags from '@oclif/core/flags'
import type {AlphabetLowercase, AlphabetUppercase} from '@oclif/core/interfaces'

/**
 * The one convention for a flag that takes several values: repeat it, or give a comma list, or
 * both (`--only A,B --only C`). Non-greedy, so `--only A production` leaves the environment alone.
 * Values come back trimmed, empties dropped, duplicates kept once, in the order given.
 */
export function listFlag(options: {description: string; char?: AlphabetLowercase | AlphabetUppercase; options?: readonly string[]; helpValue?: string}) {
  return Flags.string({
    description: options.description,
    char: options.char,
    options: options.options ? [...options.options] : undefined,
    helpValue: options.helpValue,
    multiple: true,
    multipleNonGreedy: true,
    delimiter: ',',
  })
}

/** A list flag's values as a clean list (undefined when the flag was not given, or gave nothing). */
export function listValues(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  const out = [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))]
  return out.length > 0 ? out : undefined
}
