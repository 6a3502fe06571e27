import * as Flags from '@oclif/core/flags'
import {EnvsyncError} from '../errors.js'
import type {AlphabetLowercase, AlphabetUppercase} from '@oclif/core/interfaces'

/**
 * The one convention for a flag that takes several values: repeat it, or give a comma list, or
 * both (`--only A,B --only C`). Non-greedy, so `--only A production` leaves the environment alone.
 * Values come back trimmed, duplicates kept once, in the order given (see listValues).
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

/**
 * A list flag's values as a clean list (undefined when the flag was not given). Given but empty
 * (`--only ''`, `--only ,`) or with an empty item (`a,,b`) is a usage error naming the flag:
 * an empty list must never widen to "everything".
 */
export function listValues(values: readonly string[] | undefined, flag: string): string[] | undefined {
  if (values === undefined) return undefined
  const trimmed = values.map((v) => v.trim())
  if (trimmed.every((v) => v === '')) throw new EnvsyncError(`--${flag} needs a value`, {code: 'USAGE', suggestion: `name one or more, e.g. --${flag} A,B (or leave the flag out for all)`})
  if (trimmed.includes('')) throw new EnvsyncError(`--${flag} has an empty item`, {code: 'USAGE', suggestion: `remove the extra comma: --${flag} ${trimmed.filter(Boolean).join(',')}`})
  return [...new Set(trimmed)]
}
