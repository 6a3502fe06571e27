import {EnvsyncError, ExitCode} from '../errors.js'
import {plural} from './style.js'

/**
 * The one prompt seam. Commands ask through a Prompter; the real one loads @inquirer/prompts on
 * first use (it is slow to import), tests install a scripted one.
 */
export interface Choice<T> {
  name: string
  value: T
  description?: string
  checked?: boolean
  /** What the answer line echoes once chosen (default: name). */
  short?: string
}

export interface Prompter {
  input(options: {message: string; default?: string; validate?: (v: string) => true | string}): Promise<string>
  confirm(options: {message: string; default?: boolean}): Promise<boolean>
  /** Hidden input: the screen shows a mask, never the typed text (optional for scripted prompters). */
  password?(options: {message: string; validate?: (v: string) => true | string}): Promise<string>
  checkbox<T>(options: {message: string; choices: Choice<T>[]; required?: boolean}): Promise<T[]>
  /** One of a list (a menu: write, go back, cancel). */
  select<T>(options: {message: string; choices: Omit<Choice<T>, 'checked'>[]}): Promise<T>
}

let installed: Prompter | undefined

export function setPrompter(p: Prompter | undefined): void {
  installed = p
}

export async function prompter(): Promise<Prompter> {
  if (installed) return installed
  const inquirer = await import('@inquirer/prompts')
  return {
    input: (o) => inquirer.input(o),
    confirm: (o) => inquirer.confirm(o),
    password: (o) => inquirer.password({...o, mask: true}),
    checkbox: <T>(o: {message: string; choices: Choice<T>[]; required?: boolean}) =>
      inquirer.checkbox<T>({...o, pageSize: 15, loop: false}),
    select: <T>(o: {message: string; choices: Omit<Choice<T>, 'checked'>[]}) => inquirer.select<T>({...o, pageSize: 15, loop: false}),
  }
}

/** Can we ask? Both ends a terminal, or a test prompter installed. */
export function canPrompt(): boolean {
  return installed !== undefined || Boolean(process.stdin.isTTY && process.stdout.isTTY)
}

/** An aborted prompt (Ctrl-C) is a clean "aborted", not a stack trace. */
export function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')
}

export function aborted(): EnvsyncError {
  return new EnvsyncError('aborted: nothing was changed', {code: 'ABORTED', exitCode: ExitCode.aborted})
}

/**
 * For protected environments the user types the environment's name: a y/N is too easy to
 * answer by reflex. Without a terminal, --yes is the only way through.
 */
export async function confirmProtected(env: string, action: string, options: {yes: boolean; interactive: boolean}): Promise<void> {
  if (options.yes) return
  await askOrRefuse(options.interactive, `${action} in the protected environment "${env}" needs confirmation`, 'pass --yes to confirm non-interactively', async (p) => {
    const answer = await p.input({message: `${action} in ${env}. Type "${env}" to confirm:`})
    return answer.trim() === env
  })
}

/**
 * Before a push (--yes never asks): in a protected environment the user types its name;
 * elsewhere a y/N question. Without a terminal: an error naming --yes.
 */
export async function confirmPush(env: string, isProtected: boolean, totals: {changes: number; changed: number; redeploys?: number}, options: {interactive: boolean}): Promise<void> {
  const action = pushAction(totals)
  if (isProtected) return confirmProtected(env, action, {yes: false, interactive: options.interactive})
  await askOrRefuse(options.interactive, `${action} in ${env} needs confirmation`, 'pass --yes to confirm non-interactively (or --dry-run to only see the plan)', (p) =>
    p.confirm({message: `${action} in ${env}?`, default: false}),
  )
}

/** What the push will do, in words: with no value to change, only the redeploys it still owes. */
function pushAction({changes, changed, redeploys = 0}: {changes: number; changed: number; redeploys?: number}): string {
  if (changes === 0 && redeploys > 0) return `Redeploy ${plural(redeploys, 'destination')} (${redeploys === 1 ? 'its' : 'their'} last redeploy did not finish)`
  return `Push ${plural(changes, 'change')} to ${plural(changed, 'destination')}`
}

/** Asks; no terminal → CONFIRMATION_REQUIRED; a "no" or Ctrl-C → aborted (exit 130). */
async function askOrRefuse(interactive: boolean, needs: string, suggestion: string, ask: (p: Prompter) => Promise<boolean>): Promise<void> {
  if (!interactive || !canPrompt()) throw new EnvsyncError(`${needs}, and there is no terminal to ask`, {code: 'CONFIRMATION_REQUIRED', suggestion})
  const p = await prompter()
  try {
    if (!(await ask(p))) throw aborted()
  } catch (error) {
    if (isPromptAbort(error)) throw aborted()
    throw error
  }
}
