import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {runBin, type CliResult} from '../helpers/cli.js'

/** Every variable a CI provider sets that envsync reads for the CI identity: unset, so the runner's own CI does not leak into a test. */
export const NO_CI = {
  CI: undefined,
  GITHUB_ACTIONS: undefined,
  GITHUB_ACTOR: undefined,
  GITHUB_TRIGGERING_ACTOR: undefined,
  GITLAB_CI: undefined,
  BUILDKITE: undefined,
  CIRCLECI: undefined,
  JENKINS_URL: undefined,
  TF_BUILD: undefined,
  BITBUCKET_BUILD_NUMBER: undefined,
  TRAVIS: undefined,
} as const

/** git with a home of its own (no developer's ~/.gitconfig), failing the test on an error. */
export function git(home: string, dir: string, ...args: string[]): string {
  const r = spawnSync('git', args, {cwd: dir, env: gitEnv(home), encoding: 'utf8', timeout: 30_000})
  expect(r.status, `git ${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0)
  return r.stdout
}

export function gitEnv(home: string): Record<string, string | undefined> {
  return {...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0'}
}

/** A git work tree at dir with its own user.name and user.email. */
export function gitRepo(home: string, dir: string, name: string, email: string): void {
  mkdirSync(dir, {recursive: true})
  git(home, dir, 'init', '-q')
  git(home, dir, 'config', 'user.name', name)
  git(home, dir, 'config', 'user.email', email)
}

/** envsync (bin/run.js) in dir with the home given (so git finds no global identity), no CI, and extra variables. */
export function envsyncIn(home: string, dir: string, args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  return runBin(args, {cwd: dir, input, env: {HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', TZ: 'UTC', ENVSYNC_NOW: undefined, ...NO_CI, ...env}})
}

/** .envsync/history.jsonl of a project, parsed line by line. */
export function historyOf(dir: string): Record<string, unknown>[] {
  return readFileSync(path.join(dir, '.envsync/history.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
}

/** The rows of `envsync log`'s table below its header, each split at runs of two or more spaces. */
export function rows(stdout: string): string[][] {
  const lines = stdout.trimEnd().split('\n')
  expect(lines[0]).to.match(/^TIME\s+WHO\s+/)
  return lines.slice(1).filter((l) => !l.startsWith('showing')).map((l) => l.split(/ {2,}/))
}
