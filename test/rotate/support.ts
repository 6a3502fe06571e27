import {existsSync, readFileSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'

import {readValues} from '../../src/values/store.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import type {TempProject} from '../helpers/project.js'

/** Shared by the rotation tests: a clock, the store, the history, and every output for the canary. */

export const T0 = '2027-03-01T12:00:00.000Z'
/** A time `ms` after T0, as ENVSYNC_NOW takes it. */
export const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString()
export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

export interface HistoryLine {
  time: string
  environment: string
  action?: string
  destination?: string
  status?: string
  keys?: string[]
  removed?: string[]
  graceUntil?: string
}

export class Rotation {
  /** Every stdout and stderr, for the canary at the end. */
  readonly outputs: string[] = []

  constructor(
    readonly p: TempProject,
    readonly env: string,
    private readonly platformEnv: () => Record<string, string | undefined> = () => ({}),
  ) {}

  async run(now: string, args: string[], input?: string): Promise<CliResult> {
    const r = await runBin(args, {cwd: this.p.dir, env: {HOME: this.p.dir, ENVSYNC_NOW: now, ...this.platformEnv()}, input})
    this.outputs.push(r.stdout, r.stderr)
    return r
  }

  /** Runs and expects `code` (the output in the failure message). */
  async expect(code: number, now: string, args: string[], input?: string): Promise<CliResult> {
    const r = await this.run(now, args, input)
    expect(r.exitCode, `envsync ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).to.equal(code)
    return r
  }

  store(): Record<string, string> {
    return Object.fromEntries([...readValues(this.p.path(`.env.${this.env}`)).values].map(([k, v]) => [k, v.reveal()]))
  }

  writeStore(values: Record<string, string>): void {
    writeFileSync(this.p.path(`.env.${this.env}`), Object.entries(values).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', {mode: 0o600})
  }

  history(): HistoryLine[] {
    const file = this.p.path('.envsync/history.jsonl')
    if (!existsSync(file)) return []
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryLine)
  }

  /** The history's store writes (rotate, finish, set…), in order: action and keys. */
  storeWrites(): string[] {
    return this.history()
      .filter((e) => !e.destination)
      .map((e) => `${e.action} ${[...(e.keys ?? []), ...(e.removed ?? []).map((k) => `-${k}`)].join(',')}${e.graceUntil ? ` until ${e.graceUntil}` : ''}`)
  }

  /** Everything envsync printed or recorded, for assertNoLeak. */
  everything(): string[] {
    return [...this.outputs, ...this.p.syncRecords()]
  }
}

/** A file's text, or undefined when it is not there (a key removed from a Docker directory). */
export function readFileOr(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined
}
