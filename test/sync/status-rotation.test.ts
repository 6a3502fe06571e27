import {appendFileSync, mkdirSync} from 'node:fs'

import {expect} from 'chai'

import {loadManifest} from '../../src/manifest/load.js'
import {status} from '../../src/sync/status.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * `envsync status` shows each environment's rotation picture (overdue and due-soon counts, the
 * next due date and key, running graces) from the shared history, judged at ENVSYNC_NOW, and
 * `--exit-code` counts an overdue secret as needing attention.
 */

const MANIFEST = `version: 1
project: shop
services:
  backend: {}
environments:
  staging: {}
  production: {}
secrets:
  JWT_SECRET:
    services: [backend]
    rotate: 90d
    previous: JWT_SECRET_PREVIOUS
    grace: 1h
  API_KEY:
    services: [backend]
    rotate: 30d
  SMTP_PASSWORD:
    services: [backend]
    rotate: 180d
  LOG_LEVEL:
    services: [backend]
    sensitive: false
    default: info
`

interface RotationSummaryJson {
  overdue: number
  soon: number
  unknown: number
  next?: {key: string; due: string; state: string}
  keys: {key: string; state: string; due?: string}[]
  graces: {key: string; previous: string; until: string; active: boolean}[]
}

describe('status: rotation', () => {
  let p: TempProject
  const values = {JWT_SECRET: canary('JWT'), JWT_SECRET_PREVIOUS: canary('OLD'), API_KEY: canary('API'), SMTP_PASSWORD: canary('SMTP')}
  const staging = {JWT_SECRET: canary('SJWT')}

  const envFile = (v: Record<string, string>) => Object.entries(v).map(([k, x]) => `${k}=${x}\n`).join('')
  const history = (entry: Record<string, unknown>) => appendFileSync(p.path('.envsync/history.jsonl'), JSON.stringify({user: 'Ada <ada@shop.test>', ...entry}) + '\n')
  const run = (at: string, ...args: string[]) => runBin(['status', ...args], {cwd: p.dir, env: {ENVSYNC_NOW: at}})
  const rotationOf = (stdout: string, env: string) =>
    (JSON.parse(stdout) as {result: {environments: {environment: string; rotation?: RotationSummaryJson}[]}}).result.environments.find((e) => e.environment === env)!.rotation!

  beforeEach(() => {
    p = new TempProject('envsync-status-rotation-')
    p.write('envsync.yaml', MANIFEST, 0o644)
    p.write('.env.production', envFile(values))
    p.write('.env.staging', envFile(staging))
    mkdirSync(p.path('.envsync'))
    // Production: API_KEY set on 2027-01-01 (30d: due 01-31), JWT_SECRET rotated with a grace on
    // 2027-01-20 (90d: due 04-20); SMTP_PASSWORD never recorded. Staging's JWT_SECRET: another
    // clone's set on 2026-10-01 (due 2026-12-30).
    history({time: '2027-01-01T00:00:00.000Z', environment: 'production', action: 'set', keys: ['API_KEY']})
    history({time: '2027-01-20T08:00:00.000Z', environment: 'production', action: 'rotate', keys: ['JWT_SECRET', 'JWT_SECRET_PREVIOUS'], graceUntil: '2027-01-20T09:00:00.000Z'})
    history({time: '2026-10-01T00:00:00.000Z', environment: 'staging', action: 'set', keys: ['JWT_SECRET']})
  })

  afterEach(() => p.cleanup())

  it('shows overdue and due-soon counts and the next due key per environment; --json carries the dates', async () => {
    const r = await run('2027-01-25T00:00:00Z')
    expect(r.exitCode, r.stderr).to.equal(0)
    // API_KEY's last week (a quarter of 30 days); staging's JWT_SECRET 26 days late.
    expect(r.stdout).to.include('  rotation: 1 due soon (API_KEY), 1 never recorded (SMTP_PASSWORD), next: API_KEY due 2027-01-31 (in 6 days)')
    expect(r.stdout).to.include('  rotation: 1 overdue (JWT_SECRET), next: JWT_SECRET due 2026-12-30 (overdue by 26 days)')
    // The grace ended at 09:00: nothing running to show.
    expect(r.stdout).not.to.include('grace:')

    const json = await run('2027-01-25T00:00:00Z', '--json')
    const production = rotationOf(json.stdout, 'production')
    expect(production).to.deep.include({overdue: 0, soon: 1, unknown: 1, next: {key: 'API_KEY', due: '2027-01-31T00:00:00.000Z', state: 'soon'}, graces: []})
    expect(production.keys.map((k) => [k.key, k.state, k.due])).to.deep.equal([
      ['JWT_SECRET', 'ok', '2027-04-20T08:00:00.000Z'],
      ['API_KEY', 'soon', '2027-01-31T00:00:00.000Z'],
      ['SMTP_PASSWORD', 'unknown', undefined],
    ])
    expect(rotationOf(json.stdout, 'staging')).to.deep.include({overdue: 1, soon: 0, unknown: 0, next: {key: 'JWT_SECRET', due: '2026-12-30T00:00:00.000Z', state: 'overdue'}})
    assertNoLeak([...Object.values(values), ...Object.values(staging)], r.stdout, r.stderr, json.stdout)
  })

  it('a running grace period is shown with its end', async () => {
    const r = await run('2027-01-20T08:30:00Z', 'production')
    expect(r.stdout).to.include('  grace: JWT_SECRET_PREVIOUS holds the previous JWT_SECRET until 2027-01-20 09:00 UTC')
    const json = await run('2027-01-20T08:30:00Z', 'production', '--json')
    expect(rotationOf(json.stdout, 'production').graces).to.deep.equal([
      {key: 'JWT_SECRET', previous: 'JWT_SECRET_PREVIOUS', since: '2027-01-20T08:00:00.000Z', until: '2027-01-20T09:00:00.000Z', active: true},
    ])
  })

  it('--exit-code reports a secret overdue for rotation (3); due soon alone does not', async () => {
    expect((await run('2027-01-25T00:00:00Z', 'production', '--exit-code')).exitCode).to.equal(0)
    expect((await run('2027-01-25T00:00:00Z', 'staging', '--exit-code')).exitCode).to.equal(3)
    // A month on, production's API_KEY is overdue too; status alone still exits 0 (it informs).
    const later = await run('2027-02-02T00:00:00Z', 'production', '--exit-code')
    expect(later.exitCode).to.equal(3)
    expect(later.stdout).to.include('rotation: 1 overdue (API_KEY), 1 never recorded (SMTP_PASSWORD), next: API_KEY due 2027-01-31 (overdue by 2 days)')
    expect((await run('2027-02-02T00:00:00Z', 'production')).exitCode).to.equal(0)
  })

  it('all current: no counts, only the next due date; an environment without rotated keys says nothing of rotation', async () => {
    history({time: '2027-01-24T00:00:00.000Z', environment: 'staging', action: 'rotate', keys: ['JWT_SECRET']})
    const r = await run('2027-01-25T00:00:00Z', 'staging')
    expect(r.stdout).to.include('  rotation: all current, next: JWT_SECRET due 2027-04-24 (in 89 days)')
    p.write('envsync.yaml', MANIFEST.replace(/ {4}rotate: \d+d\n/g, '').replace(/ {4}previous: .*\n {4}grace: .*\n/, ''), 0o644)
    p.write('.env.production', envFile({JWT_SECRET: values.JWT_SECRET, API_KEY: values.API_KEY}))
    const none = await run('2027-01-25T00:00:00Z')
    expect(none.exitCode, none.stderr).to.equal(0)
    expect(none.stdout).not.to.include('rotation')
  })

  it('in-process: the time is a parameter', async () => {
    const result = await status(loadManifest(p.path('envsync.yaml')), ['production'], {at: new Date('2027-02-02T00:00:00Z')})
    expect(result.environments[0].rotation).to.deep.include({overdue: 1, soon: 0, unknown: 1, next: {key: 'API_KEY', due: '2027-01-31T00:00:00.000Z', state: 'overdue'}})
  })
})
