import {EnvsyncError, ExitCode} from '../errors.js'

/**
 * The one prompt seam. Commands ask through a Prompter; the real one loads @inquirer/prompts on
 * first use (it is slow to import), tests install a scripted one.
 */
export interface Choice<T> {
  name: string
  value: T
  description?: string
  checked?: boolean
}

export interface Prompter {
  input(options: {message: string; default?: string; validate?: (v: string) => true | string}): Promise<string>
  confirm(options: {message: string; default?: boolean}): Promise<boolean>
  checkbox<T>(options: {message: string; choices: Choice<T>[]; required?: boolean}): Promise<T[]>
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
    checkbox: <T>(o: {message: string; choices: Choice<T>[]; required?: boolean}) =>
      inquirer.checkbox<T>({...o, pageSize: 15, loop: false}),
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
  if (!options.interactive || !canPrompt()) {
    throw new EnvsyncError(`${action} in the protected environment "${env}" needs confirmation, and there is no terminal to ask`, {
      code: 'CONFIRMATION_REQUIRED',
      suggestion: 'pass --yes to confirm non-interactively',
    })
  }
  const p = await prompter()
  try {
    const answer = await p.input({message: `${action} in ${env}. Type "${env}" to confirm:`})
    if (answer.trim() !== env) throw aborted()
  } catch (error) {
    if (isPromptAbort(error)) throw aborted()
    throw error
  }
}

/**
 * Before a push: in a protected environment the user types its name; elsewhere a y/N question.
 * Without a terminal, --yes is the only way through.
 */
export async function confirmPush(env: string, isProtected: boolean, plan: {plans: {changes: unknown[]}[]}, options: {yes: boolean; interactive: boolean}): Promise<void> {
  const changes = plan.plans.reduce((n, p) => n + p.changes.length, 0)
  const destinations = plan.plans.filter((p) => p.changes.length > 0).length
  const action = `Push ${changes} change(s) to ${destinations} destination(s)`
  if (isProtected) return confirmProtected(env, action, options)
  if (options.yes) return
  if (!options.interactive || !canPrompt()) {
    throw new EnvsyncError(`${action} in ${env} needs confirmation, and there is no terminal to ask`, {
      code: 'CONFIRMATION_REQUIRED',
      suggestion: 'pass --yes to confirm non-interactively (or --dry-run to only see the plan)',
    })
  }
  const p = await prompter()
  try {
    if (!(await p.confirm({message: `${action} in ${env}?`, default: false}))) throw aborted()
  } catch (error) {
    if (isPromptAbort(error)) throw aborted()
    throw error
  }
}
