/** init offering to adopt an existing .env: which file, which environment, from a flag or a question. */
import {statSync} from 'node:fs'
import path from 'node:path'

import {EnvsyncError} from '../errors.js'
import {didYouMean} from '../manifest/suggest.js'
import {displayPath} from '../paths.js'
import type {Prompter} from '../ui/prompt.js'

/**
 * The files init looks for, in order: what dotenv, Vite and Next.js read. `.env.<environment>`
 * files are not offered: they are envsync's own stores (kept as they are).
 */
export const DOTENV_NAMES = ['.env', '.env.local']

/** A .env to import and the environment whose store gets its values. */
export interface InitImport {
  file: string
  environment: string
}

/** The first .env file (a regular file) in the project directory, if any. */
export function foundDotenv(dir: string): string | undefined {
  return DOTENV_NAMES.map((name) => path.join(dir, name)).find((file) => {
    try {
      return statSync(file).isFile()
    } catch {
      return false
    }
  })
}

/** development when there is one, else the first environment. */
export const defaultImportEnv = (environments: string[]) => (environments.includes('development') ? 'development' : environments[0])

/** `--import FILE[:ENV]`: ENV after the last ':' when it names an environment, else the default one. */
export function importFlag(value: string, environments: string[]): InitImport {
  const at = value.lastIndexOf(':')
  if (at > 0) {
    const env = value.slice(at + 1)
    if (environments.includes(env)) return {file: value.slice(0, at), environment: env}
    if (/^[a-z0-9-]+$/.test(env) && !value.slice(0, at).endsWith('/')) {
      throw new EnvsyncError(`--import ${value}: "${env}" is not one of the environments (${environments.join(', ')})`, {
        code: 'USAGE',
        suggestion: didYouMean(env, environments) ?? 'write --import FILE:ENVIRONMENT, or --import FILE for the default environment',
      })
    }
  }
  return {file: value, environment: defaultImportEnv(environments)}
}

/** In a terminal, after the answers: "found .env — import it?", then into which environment. */
export async function askImport(p: Prompter, dir: string, environments: string[]): Promise<InitImport | undefined> {
  const file = foundDotenv(dir)
  if (!file) return undefined
  const shown = displayPath(file)
  if (!(await p.confirm({message: `Found ${shown}: import its values into an environment's store?`, default: true}))) return undefined
  const first = defaultImportEnv(environments)
  const environment = await p.select({message: `Import ${shown} into`, choices: [first, ...environments.filter((e) => e !== first)].map((e) => ({name: e, value: e}))})
  return {file, environment}
}
