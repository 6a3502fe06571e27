import {appendFileSync, mkdirSync, readFileSync} from 'node:fs'

import {expect} from 'chai'

import {runCheck} from '../../src/check/check.js'
import {readStore} from '../../src/values/store.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {useCheckProjects, type CheckProject} from './support.js'

/**
 * Due dates in `envsync check`, with the binary's fake clock (ENVSYNC_NOW): a value's last change
 * comes from the shared history (.envsync/history.jsonl, from any clone) or the store's own
 * version dates; overdue fails a protected environment, due soon warns, never recorded is a note.
 */

const MANIFEST = `version: 1
project: shop
services:
  backend: {}
environments:
  staging: {}
  production: {}
secrets:
  SESSION_SECRET:
    services: [backend]
    rotate: 90d
  LOG_LEVEL:
    services: [backend]
    sensitive: false
    default: info
`

const GRACE_MANIFEST = `version: 1
project: shop
services:
  backend: {}
environments:
  production: {}
secrets:
  JWT_SECRET:
    services: [backend]
    rotate: 90d
    previous: JWT_SECRET_PREVIOUS
    grace: 1h
`

/** When the values were set; 90 days later (2027-04-10T09:00Z) they are due, warned of from two weeks before. */
const T0 = '2027-01-10T09:00:00.000Z'

interface RotationJson {
  key: string
  period: string
  changed?: string
  source?: string
  due?: string
  state: string
  days?: number
}

interface CheckJson {
  environment: string
  errors: number
  warnings: number
  findings: {severity: string; rule: string; key?: string; message: string; hint: string}[]
  notes: string[]
  rotation: RotationJson[]
  graces: {key: string; previous: string; since: string; until: string; active: boolean}[]
}

/** The --json envelope's result (stdout is that one object). */
const resultOf = (r: CliResult): CheckJson => (JSON.parse(r.stdout) as {result: CheckJson}).result

const rotationFindings = (r: CheckJson) => r.findings.filter((f) => f.rule === 'rotation' || f.rule === 'grace')

/** A line of the shared history, as another clone's envsync wrote it (and git merged in). */
function appendHistory(p: CheckProject, entry: Record<string, unknown>): void {
  mkdirSync(p.path('.envsync'), {recursive: true})
  appendFileSync(p.path('.envsync/history.jsonl'), JSON.stringify({user: 'Ada <ada@shop.test>', ...entry}) + '\n')
}

describe('check: rotation due dates', () => {
  const {project} = useCheckProjects()
  const values = {staging: canary('STAGE'), production: canary('PROD')}

  const check = (p: CheckProject, at: string, ...args: string[]) => runBin(['check', ...args], {cwd: p.dir, env: {ENVSYNC_NOW: at}})

  /** SESSION_SECRET given its value by `envsync set` at T0 in both environments (one history entry each). */
  async function setAtT0(): Promise<CheckProject> {
    const p = project(MANIFEST)
    for (const env of ['staging', 'production'] as const) {
      const set = await runBin(['set', env, 'SESSION_SECRET', '--yes'], {cwd: p.dir, env: {ENVSYNC_NOW: T0}, input: values[env]})
      expect(set.exitCode, set.stdout + set.stderr).to.equal(0)
    }
    return p
  }

  it('a value set with `envsync set` is ok, then due soon (a warning), then overdue (an error in production) as the clock moves', async () => {
    const p = await setAtT0()
    const outputs: string[] = []

    const fresh = await check(p, '2027-01-11T00:00:00Z', 'production')
    outputs.push(fresh.stdout, fresh.stderr)
    expect(fresh.exitCode, fresh.stdout).to.equal(0)
    expect(fresh.stdout).to.match(/^Rotation:$/m)
    expect(fresh.stdout).to.match(/^ {2}SESSION_SECRET {2}every 90d {2}changed 2027-01-10 {2}due 2027-04-10 {2}due in 89 days$/m)
    expect(fresh.stdout).to.include('0 errors, 0 warnings')

    // Two weeks before the due date check starts warning: time to plan the rotation.
    const soon = await check(p, '2027-04-01T00:00:00Z', 'production')
    outputs.push(soon.stdout, soon.stderr)
    expect(soon.exitCode, soon.stdout).to.equal(0)
    expect(soon.stdout).to.match(/warning +SESSION_SECRET +rotation +SESSION_SECRET is due for rotation on 2027-04-10 \(in 9 days\): rotated every 90d, changed 2027-01-10/)
    expect(soon.stdout).to.include('→ run `envsync rotate production SESSION_SECRET` (or `envsync rotate production --due` for every key due)')
    expect(soon.stdout).to.include('! production: ')
    // --strict: due soon fails too.
    expect((await check(p, '2027-04-01T00:00:00Z', 'production', '--strict')).exitCode).to.equal(1)
    // Not yet inside the window: nothing to say.
    expect((await check(p, '2027-03-27T08:00:00Z', 'production', '--strict')).exitCode).to.equal(0)

    const overdue = await check(p, '2027-04-12T09:00:00Z', 'production')
    outputs.push(overdue.stdout, overdue.stderr)
    expect(overdue.exitCode, overdue.stdout).to.equal(1)
    expect(overdue.stdout).to.match(/error +SESSION_SECRET +rotation +SESSION_SECRET is overdue for rotation: due 2027-04-10, rotated every 90d, changed 2027-01-10/)
    expect(overdue.stdout).to.match(/^ {2}SESSION_SECRET .* due 2027-04-10 {2}overdue by 2 days$/m)
    expect(overdue.stdout).to.include('✗ production: ')
    expect(overdue.stderr).to.equal('')
    assertNoLeak(Object.values(values), ...outputs, ...p.tp.syncRecords())
  })

  it('overdue is a warning outside protected environments: staging exits 0, and 1 with --strict', async () => {
    const p = await setAtT0()
    const staging = await check(p, '2027-04-12T09:00:00Z', 'staging')
    expect(staging.exitCode, staging.stdout).to.equal(0)
    expect(staging.stdout).to.match(/warning +SESSION_SECRET +rotation +SESSION_SECRET is overdue for rotation/)
    expect((await check(p, '2027-04-12T09:00:00Z', 'staging', '--strict')).exitCode).to.equal(1)
    // Every environment at once: production's error decides the exit.
    const all = await check(p, '2027-04-12T09:00:00Z')
    expect(all.exitCode, all.stdout).to.equal(1)
    expect(all.stdout).to.include('1 error, 1 warning')
  })

  it('a key whose last change was never recorded is a note, not a finding: production still passes', async () => {
    const p = project(MANIFEST, {'.env.production': {SESSION_SECRET: values.production}})
    const r = await check(p, '2027-04-12T09:00:00Z', 'production', '--strict')
    expect(r.exitCode, r.stdout).to.equal(0)
    expect(r.stdout).to.match(/^ {2}SESSION_SECRET {2}every 90d {2}never recorded$/m)
    expect(r.stdout).to.include('SESSION_SECRET (rotate every 90d): no change of it is recorded yet — `envsync rotate production SESSION_SECRET` renews it and starts the clock')
    const json = resultOf(await check(p, '2027-04-12T09:00:00Z', 'production', '--json'))
    expect(json.rotation).to.deep.equal([{key: 'SESSION_SECRET', period: '90d', state: 'unknown'}])
    expect(rotationFindings(json)).to.deep.equal([])
    // A key without a value has no due date at all (its to-do says what to do).
    const empty = resultOf(await check(project(MANIFEST), '2027-04-12T09:00:00Z', 'production', '--json'))
    expect(empty.rotation).to.deep.equal([])
  })

  it('a rotation recorded by another clone (a line git merged into the history) restarts the clock', async () => {
    const p = await setAtT0()
    // Ada rotated it on her machine on 2027-04-05; her history line arrived with a git pull.
    appendHistory(p, {time: '2027-04-05T10:00:00.000Z', environment: 'production', action: 'rotate', keys: ['SESSION_SECRET']})
    const r = await check(p, '2027-04-12T09:00:00Z', 'production', '--json')
    expect(r.exitCode, r.stdout).to.equal(0)
    const json = resultOf(r)
    expect(json.rotation).to.deep.equal([
      {key: 'SESSION_SECRET', period: '90d', changed: '2027-04-05T10:00:00.000Z', source: 'history', due: '2027-07-04T10:00:00.000Z', state: 'ok', days: 83},
    ])
    expect(rotationFindings(json)).to.deep.equal([])
    // Staging was not rotated: still overdue there.
    expect(resultOf(await check(p, '2027-04-12T09:00:00Z', 'staging', '--json')).rotation[0].state).to.equal('overdue')
  })

  it('only new values count: a push, an import or a failed write leaves the clock where it was', async () => {
    const p = await setAtT0()
    appendHistory(p, {time: '2027-04-01T00:00:00.000Z', environment: 'production', destination: 'railway:shop', status: 'applied', added: ['SESSION_SECRET']})
    appendHistory(p, {time: '2027-04-02T00:00:00.000Z', environment: 'production', action: 'import', keys: ['SESSION_SECRET']})
    appendHistory(p, {time: '2027-04-03T00:00:00.000Z', environment: 'production', action: 'rotate', status: 'failed', keys: ['SESSION_SECRET']})
    const json = resultOf(await check(p, '2027-04-12T09:00:00Z', 'production', '--json'))
    expect(json.rotation[0]).to.include({changed: T0, state: 'overdue', days: -2})
  })

  it('a new value from `envsync set` on an overdue key is accepted and starts a new period', async () => {
    const p = await setAtT0()
    const replaced = canary('NEWPROD')
    const set = await runBin(['set', 'production', 'SESSION_SECRET', '--yes'], {cwd: p.dir, env: {ENVSYNC_NOW: '2027-04-12T09:00:00Z'}, input: replaced})
    expect(set.exitCode, set.stdout + set.stderr).to.equal(0)
    const r = await check(p, '2027-04-12T10:00:00Z', 'production')
    expect(r.exitCode, r.stdout).to.equal(0)
    expect(r.stdout).to.match(/changed 2027-04-12 {2}due 2027-07-11/)
    assertNoLeak([replaced, ...Object.values(values)], set.stdout, set.stderr, r.stdout, ...p.tp.syncRecords())
  })

  it('monthly periods go by the calendar: a month after January 31 is due on February 28', async () => {
    const p = project(MANIFEST.replace('rotate: 90d', 'rotate: 1mo'), {'.env.production': {SESSION_SECRET: values.production}})
    appendHistory(p, {time: '2027-01-31T12:00:00.000Z', environment: 'production', action: 'set', keys: ['SESSION_SECRET']})
    const before = resultOf(await check(p, '2027-02-28T11:00:00Z', 'production', '--json'))
    // A 1-month key is warned of for its last week (a quarter of the period), not two weeks.
    expect(before.rotation[0]).to.include({due: '2027-02-28T12:00:00.000Z', state: 'soon', days: 0})
    expect(resultOf(await check(p, '2027-02-20T11:00:00Z', 'production', '--json')).rotation[0].state).to.equal('ok')
    const after = await check(p, '2027-03-01T00:00:00Z', 'production')
    expect(after.exitCode).to.equal(1)
    expect(after.stdout).to.include('SESSION_SECRET is overdue for rotation: due 2027-02-28, rotated every 1mo, changed 2027-01-31')
  })

  it('--json carries the dates as ISO times, for every environment too', async () => {
    const p = await setAtT0()
    const one = await check(p, '2027-04-01T00:00:00Z', 'production', '--json')
    expect(one.exitCode).to.equal(0)
    expect(resultOf(one).rotation).to.deep.equal([
      {key: 'SESSION_SECRET', period: '90d', changed: T0, source: 'history', due: '2027-04-10T09:00:00.000Z', state: 'soon', days: 9},
    ])
    expect(resultOf(one).graces).to.deep.equal([])
    const all = await check(p, '2027-04-12T09:00:00Z', '--json')
    const envs = (JSON.parse(all.stdout) as {result: {environments: CheckJson[]}}).result.environments
    expect(envs.map((e) => [e.environment, e.rotation.map((r) => r.state)])).to.deep.equal([
      ['staging', ['overdue']],
      ['production', ['overdue']],
    ])
    assertNoLeak(Object.values(values), one.stdout, all.stdout)
  })

  it('a store with version dates (a secret manager) counts its own date when it is later than the history', async () => {
    const p = await setAtT0()
    const manifest = p.manifest()
    const store = await readStore(manifest, 'production')
    // Changed in the manager's console on 2027-03-01, which the history cannot know.
    const withDates = {...store, changed: new Map([['SESSION_SECRET', new Date('2027-03-01T00:00:00Z')]])}
    const r = await runCheck(manifest, 'production', withDates, {at: new Date('2027-04-12T09:00:00Z')})
    expect(r.rotation).to.deep.equal([{key: 'SESSION_SECRET', period: '90d', changed: '2027-03-01T00:00:00.000Z', source: 'store', due: '2027-05-30T00:00:00.000Z', state: 'ok', days: 47}])
    expect(r.errors).to.equal(0)
    // An older store date loses to the history's.
    const older = {...store, changed: new Map([['SESSION_SECRET', new Date('2026-12-01T00:00:00Z')]])}
    expect((await runCheck(manifest, 'production', older, {at: new Date('2027-04-12T09:00:00Z')})).rotation?.[0]).to.include({source: 'history', state: 'overdue'})
  })

  it('the audit push and set run (no clock given) does not judge due dates: an overdue key never blocks a push', async () => {
    const p = await setAtT0()
    process.env.ENVSYNC_NOW = '2027-06-01T00:00:00Z'
    try {
      const r = await runCheck(p.manifest(), 'production')
      expect(r.errors, JSON.stringify(r.findings)).to.equal(0)
      expect(r.rotation).to.equal(undefined)
    } finally {
      delete process.env.ENVSYNC_NOW
    }
  })

  it('a history line whose time is no date (torn, forged, 2026-02-30) is skipped: check and status still judge by the others', async () => {
    const p = await setAtT0()
    appendHistory(p, {time: 'zzz', environment: 'production', action: 'rotate', keys: ['SESSION_SECRET']})
    appendHistory(p, {time: '2027-02-30T00:00:00Z', environment: 'production', action: 'rotate', keys: ['SESSION_SECRET']})
    appendHistory(p, {time: '2027-04-11T00:00:00Z', environment: 'production', action: 'rotate', keys: 'SESSION_SECRET'})
    const r = await check(p, '2027-04-12T09:00:00Z', 'production')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
    expect(r.stdout).to.include('SESSION_SECRET is overdue for rotation: due 2027-04-10, rotated every 90d, changed 2027-01-10')
    expect(r.stderr).to.equal('')
    const status = await runBin(['status', 'production'], {cwd: p.dir, env: {ENVSYNC_NOW: '2027-04-12T09:00:00Z'}})
    expect(status.stderr).not.to.match(/Invalid time value|internal error/i)
    expect(status.exitCode, status.stdout + status.stderr).to.equal(0)
    expect(status.stdout).to.match(/overdue/)
  })

  it('an entry dated in the future (forged or a clock set wrong) does not hide an overdue secret: not counted, and a warning names its time', async () => {
    const p = await setAtT0()
    appendHistory(p, {time: '2999-01-01T10:00:00Z', environment: 'production', action: 'rotate', keys: ['SESSION_SECRET']})
    const r = await check(p, '2027-04-12T09:00:00Z', 'production')
    expect(r.exitCode, r.stdout).to.equal(1)
    expect(r.stdout).to.match(/error +SESSION_SECRET +rotation +SESSION_SECRET is overdue for rotation: due 2027-04-10/)
    expect(r.stdout).to.include('the change history has an entry of production dated after now (2999-01-01 10:00 UTC): not counted for due dates or grace periods')
    expect(r.stdout).to.include('git log -p .envsync/history.jsonl')
    // Another machine's clock a minute fast is no forgery: its rotation counts, and nothing is said.
    const p2 = await setAtT0()
    appendHistory(p2, {time: '2027-04-12T09:01:00Z', environment: 'production', action: 'rotate', keys: ['SESSION_SECRET']})
    const skewed = resultOf(await check(p2, '2027-04-12T09:00:00Z', 'production', '--json'))
    expect(skewed.rotation[0]).to.include({state: 'ok', changed: '2027-04-12T09:01:00.000Z'})
    expect(skewed.findings.map((f) => f.message).join('\n')).not.to.include('dated after now')
  })

  it('ENVSYNC_NOW must be a real date: 2026-02-30 is refused (exit 2), not read as March 2', async () => {
    const p = await setAtT0()
    const r = await check(p, '2027-02-30', 'production')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
    expect(r.stderr).to.include('ENVSYNC_NOW="2027-02-30" is not a date')
  })

  describe('grace periods', () => {
    const current = canary('JWTNEW')
    const previous = canary('JWTOLD')
    const rotated = '2027-02-01T10:00:00.000Z'

    function rotatedProject(): CheckProject {
      const p = project(GRACE_MANIFEST, {'.env.production': {JWT_SECRET: current, JWT_SECRET_PREVIOUS: previous}})
      appendHistory(p, {time: rotated, environment: 'production', action: 'rotate', keys: ['JWT_SECRET', 'JWT_SECRET_PREVIOUS'], graceUntil: '2027-02-01T11:00:00.000Z'})
      return p
    }

    it('a running grace is a note with its end; the Rotation section lists it', async () => {
      const p = rotatedProject()
      const r = await check(p, '2027-02-01T10:30:00Z', 'production', '--strict')
      expect(r.exitCode, r.stdout).to.equal(0)
      expect(r.stdout).to.include('JWT_SECRET_PREVIOUS holds the previous JWT_SECRET during its grace period, until 2027-02-01 11:00 UTC; then `envsync rotate production --finish` removes it')
      expect(r.stdout).to.match(/^ {2}JWT_SECRET_PREVIOUS {2}grace of JWT_SECRET {2}since 2027-02-01 10:00 UTC {2}until 2027-02-01 11:00 UTC {2}running$/m)
      const json = resultOf(await check(p, '2027-02-01T10:30:00Z', 'production', '--json'))
      expect(json.graces).to.deep.equal([{key: 'JWT_SECRET', previous: 'JWT_SECRET_PREVIOUS', since: rotated, until: '2027-02-01T11:00:00.000Z', active: true}])
      // The rotation itself restarted JWT_SECRET's clock; the previous key has no due date of its own.
      expect(json.rotation.map((k) => [k.key, k.changed, k.state])).to.deep.equal([['JWT_SECRET', rotated, 'ok']])
      assertNoLeak([current, previous], r.stdout, r.stderr, JSON.stringify(json))
    })

    it('a previous value kept after its grace ended is a warning pointing at rotate --finish', async () => {
      const p = rotatedProject()
      const r = await check(p, '2027-02-01T12:00:00Z', 'production')
      expect(r.exitCode, r.stdout).to.equal(0)
      expect(r.stdout).to.match(/warning +JWT_SECRET_PREVIOUS +grace +JWT_SECRET_PREVIOUS \(the previous JWT_SECRET\) is kept after its grace ended 2027-02-01 11:00 UTC: apps still accept the old secret/)
      expect(r.stdout).to.include('→ run `envsync rotate production --finish`')
      expect((await check(p, '2027-02-01T12:00:00Z', 'production', '--strict')).exitCode).to.equal(1)
      assertNoLeak([current, previous], r.stdout, r.stderr)
    })

    it('a rotation dated in the future starts no grace: the previous value kept is still a warning', async () => {
      const p = project(GRACE_MANIFEST, {'.env.production': {JWT_SECRET: current, JWT_SECRET_PREVIOUS: previous}})
      appendHistory(p, {time: '2999-01-01T10:00:00Z', environment: 'production', action: 'rotate', keys: ['JWT_SECRET', 'JWT_SECRET_PREVIOUS'], graceUntil: '2999-01-01T11:00:00Z'})
      const json = resultOf(await check(p, '2027-02-01T12:00:00Z', 'production', '--json'))
      expect(json.graces).to.deep.equal([])
      expect(rotationFindings(json).map((f) => [f.severity, f.key ?? '-', f.message.slice(0, 48)])).to.deep.equal([
        ['warning', '-', 'the change history has an entry of production da'],
        ['warning', 'JWT_SECRET_PREVIOUS', 'JWT_SECRET_PREVIOUS (the previous JWT_SECRET) is'],
      ])
    })

    it('a finish ends the grace; a previous value with no grace at all is a warning too', async () => {
      const p = rotatedProject()
      appendHistory(p, {time: '2027-02-01T11:05:00.000Z', environment: 'production', action: 'finish', removed: ['JWT_SECRET_PREVIOUS']})
      // The value is gone from the store after a finish: nothing to say.
      p.values('.env.production', {JWT_SECRET: current})
      const clean = resultOf(await check(p, '2027-02-01T12:00:00Z', 'production', '--json'))
      expect(rotationFindings(clean)).to.deep.equal([])
      expect(clean.graces).to.deep.equal([])
      // Someone put a previous value back by hand: no grace is running for it.
      p.values('.env.production', {JWT_SECRET: current, JWT_SECRET_PREVIOUS: previous})
      const kept = resultOf(await check(p, '2027-02-01T12:00:00Z', 'production', '--json'))
      expect(rotationFindings(kept).map((f) => [f.severity, f.key, f.message])).to.deep.equal([
        ['warning', 'JWT_SECRET_PREVIOUS', 'JWT_SECRET_PREVIOUS (the previous JWT_SECRET) is kept after its grace period (none is running): apps still accept the old secret'],
      ])
      expect(readFileSync(p.path('.envsync/history.jsonl'), 'utf8')).not.to.include(previous.slice(7))
    })
  })
})
