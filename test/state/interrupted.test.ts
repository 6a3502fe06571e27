import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import {expect} from 'chai'

import {latency} from '../fakes/faults.js'
import type {RailwayFake} from '../fakes/railway.js'
import {DEFAULT_API_KEY, startRenderFake} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN, runBin} from '../helpers/cli.js'
import {ownershipRecords, TempProject} from '../helpers/project.js'
import {manifest as railwayManifest, railwayShop} from './support.js'

/**
 * The ownership record (.envsync/ownership.tsv) survives an interrupted push: each
 * destination's keys are recorded as its writes land, before the slow redeploy that follows.
 * A damaged record is refused, never read as empty; a record that cannot be saved is named in the
 * report (exit 1), never an "internal error" without one.
 */

/** Railway redeploys after the writes: the slow step an interruption lands in. */
const manifest = (keys: string[]) => railwayManifest(keys, {deploy: true})

describe('ownership state under interruption', function () {
  this.timeout(60_000)
  const shop = railwayShop('envsync-state-')
  const {env, run, scope, record} = shop
  let railway: RailwayFake
  let p: TempProject
  let values: Record<string, string>

  beforeEach(() => {
    railway = shop.railway
    p = shop.p
    p.write('envsync.yaml', manifest(['JWT_SECRET', 'OLD_TOKEN']))
    values = {JWT_SECRET: canary('JWT'), OLD_TOKEN: canary('OLD')}
    p.write('.env.production', Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  })

  it('kill -9 during a slow redeploy: the keys already written are recorded, so dropping one from the manifest removes it', async () => {
    railway.faults.always(latency(30_000), {match: {fields: 'serviceInstanceRedeploy'}})
    const child = spawn(process.execPath, [BIN, 'push', 'production', '--yes'], {cwd: p.dir, env: {...process.env, ...env(), NO_COLOR: '1'}, stdio: 'ignore'})
    const exited = new Promise((resolve) => child.on('exit', resolve))
    // Wait until the redeploy request is in flight (the values are written before it).
    const deadline = Date.now() + 30_000
    while (!railway.faults.injected.some((f) => f.fault.kind === 'latency')) {
      if (Date.now() > deadline) throw new Error('the redeploy never started')
      await sleep(20)
    }
    expect(railway.variables(scope())).to.deep.equal(values)
    child.kill('SIGKILL')
    await exited
    railway.faults.clear()

    expect(record()?.keys, 'recorded before the redeploy finished').to.deep.equal(['JWT_SECRET', 'OLD_TOKEN'])
    // The record is what lets envsync remove its own key later (without it: "unmanaged" forever).
    p.write('envsync.yaml', manifest(['JWT_SECRET']))
    const r = await run('push', 'production', '--yes', '--json')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(railway.variables(scope())).to.deep.equal({JWT_SECRET: values.JWT_SECRET})
    expect(JSON.parse(r.stdout).result.report.destinations[0].removed).to.deep.equal(['OLD_TOKEN'])
    assertNoLeak(Object.values(values), r.stdout, r.stderr, ...p.syncRecords())
  })

  it('the same against Render: kill -9 while the deploy is slow, the record already has the keys', async () => {
    const render = await startRenderFake({onDrift: 'record'})
    try {
      const ids = render.seed({services: [{name: 'shop-api'}]}).services
      const renderManifest = (keys: string[]) => manifest(keys).replace('railway: {project: shop, services: {api: api}, deploy: true}', 'render: {services: {api: shop-api}, deploy: true}')
      p.write('envsync.yaml', renderManifest(['JWT_SECRET', 'OLD_TOKEN']))
      const renderEnv = {RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY}
      render.faults.always(latency(30_000), {match: {operationId: 'create-deploy'}})
      const child = spawn(process.execPath, [BIN, 'push', 'production', '--yes'], {cwd: p.dir, env: {...process.env, ...renderEnv, NO_COLOR: '1'}, stdio: 'ignore'})
      const exited = new Promise((resolve) => child.on('exit', resolve))
      const deadline = Date.now() + 30_000
      while (!render.faults.injected.some((f) => f.fault.kind === 'latency')) {
        if (Date.now() > deadline) throw new Error('the deploy never started')
        await sleep(20)
      }
      expect(render.envVars(ids['shop-api'])).to.deep.equal(values)
      child.kill('SIGKILL')
      await exited
      render.faults.clear()
      const rec = ownershipRecords(p.dir)
      expect(rec[`render:service/shop-api`]?.keys).to.deep.equal(['JWT_SECRET', 'OLD_TOKEN'])
      p.write('envsync.yaml', renderManifest(['JWT_SECRET']))
      const r = await runBin(['push', 'production', '--yes'], {cwd: p.dir, env: renderEnv})
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      expect(render.envVars(ids['shop-api'])).to.deep.equal({JWT_SECRET: values.JWT_SECRET})
    } finally {
      await render.stop()
    }
  })

  for (const [what, content] of [
    ['not JSON', '{"version": 1, "destinations": {'],
    ['empty', ''],
    ['the wrong shape', '{"version": 1, "destinations": {"railway:shop/production/api": {"keys": "JWT_SECRET"}}}'],
    ['not an ownership record', '[1, 2, 3]'],
  ] as const) {
    it(`a damaged ownership.json of an older version (${what}) is refused with the file named; nothing is written`, async () => {
      mkdirSync(p.path('.envsync'), {mode: 0o700})
      writeFileSync(p.path('.envsync/ownership.json'), content)
      for (const args of [['diff', 'production'], ['push', 'production', '--yes']]) {
        const r = await run(...args)
        expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
        expect(r.stderr).to.include('.envsync/ownership.json is damaged')
        expect(r.stderr).to.match(/restore it .* or delete it/)
        expect(r.stderr).to.not.match(/internal error|\n\s+at /i)
      }
      expect(railway.variables(scope())).to.deep.equal({})
      expect(readFileSync(p.path('.envsync/ownership.json'), 'utf8'), 'left as it was').to.equal(content)
    })
  }

  it('a symlinked .envsync/history.jsonl or ownership.tsv is refused, its target untouched', async () => {
    const elsewhere = new TempProject('envsync-elsewhere-')
    try {
      const target = elsewhere.write('target.log', 'precious\n', 0o644)
      mkdirSync(p.path('.envsync'), {mode: 0o700})
      symlinkSync(target, p.path('.envsync/history.jsonl'))
      const r = await run('push', 'production', '--yes')
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      expect(r.stdout + r.stderr).to.match(/\.envsync\/history\.jsonl is a symbolic link/)
      expect(readFileSync(target, 'utf8')).to.equal('precious\n')

      const r2 = new TempProject('envsync-state2-')
      try {
        r2.write('envsync.yaml', manifest(['JWT_SECRET']))
        r2.write('.env.production', `JWT_SECRET=${values.JWT_SECRET}\n`)
        mkdirSync(r2.path('.envsync'), {mode: 0o700})
        symlinkSync(target, r2.path('.envsync/ownership.tsv'))
        const d = await runBin(['diff', 'production'], {cwd: r2.dir, env: env()})
        expect(d.exitCode).to.equal(1)
        expect(d.stderr).to.match(/\.envsync\/ownership\.tsv is a symbolic link/)
        expect(readFileSync(target, 'utf8')).to.equal('precious\n')
      } finally {
        r2.cleanup()
      }
    } finally {
      elsewhere.cleanup()
    }
  })

  it('a symlinked .envsync/ folder is refused before anything is written', async () => {
    const elsewhere = new TempProject('envsync-elsewhere-')
    try {
      symlinkSync(elsewhere.dir, p.path('.envsync'))
      for (const args of [['diff', 'production'], ['push', 'production', '--yes']]) {
        const r = await run(...args)
        expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
        expect(r.stderr).to.match(/\.envsync is a symbolic link/)
      }
      expect(railway.variables(scope())).to.deep.equal({})
      expect(readdirSync(elsewhere.dir)).to.deep.equal([])
    } finally {
      elsewhere.cleanup()
    }
  })

  describe('when .envsync/ cannot be written after the remote writes', () => {
    let mounted: string | undefined
    afterEach(() => {
      if (mounted) runSync('umount', [mounted])
      mounted = undefined
    })

    /** Makes .envsync/ full or read-only, keeping what it holds. False: mount is not allowed here. */
    function breakStateDir(how: 'full' | 'read-only'): boolean {
      const dir = p.path('.envsync')
      const saved = new Map(['local/key', 'ownership.tsv', 'history.jsonl', '.gitignore', '.gitattributes'].map((f) => [f, readFileSync(`${dir}/${f}`)]))
      if (how === 'read-only') {
        if (!runSync('mount', ['--bind', dir, dir])) return false
        mounted = dir
        return runSync('mount', ['-o', 'remount,ro,bind', dir])
      }
      if (!runSync('mount', ['-t', 'tmpfs', '-o', 'size=32k,mode=0700', 'tmpfs', dir])) return false
      mounted = dir
      mkdirSync(`${dir}/local`, {mode: 0o700})
      for (const [f, bytes] of saved) writeFileSync(`${dir}/${f}`, bytes, {mode: 0o600})
      try {
        writeFileSync(`${dir}/fill`, Buffer.alloc(64 * 1024))
      } catch {
        // full: what the test wants
      }
      return true
    }

    for (const how of ['full', 'read-only'] as const) {
      it(`${how}: the report is printed and names the failure (exit 1); a write whose ownership cannot be recorded first is not made`, async function () {
        const first = await run('push', 'production', '--yes')
        expect(first.exitCode, first.stdout + first.stderr).to.equal(0)
        if (!breakStateDir(how)) this.skip() // needs mount (root, in a container that allows it)
        const code = how === 'full' ? 'ENOSPC' : 'EROFS'

        // An update of keys envsync owns: written, then the record cannot be saved.
        values.JWT_SECRET = canary('JWT2')
        p.write('.env.production', Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
        const r = await run('push', 'production', '--yes')
        expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
        expect(r.stdout + r.stderr).to.not.match(/internal error|\n\s+at /i)
        expect(railway.variables(scope())).to.deep.equal(values)
        expect(r.stdout).to.match(/✗ failed +railway shop\/production service api/)
        expect(r.stdout).to.match(new RegExp(`values written, but the ownership record was not saved: cannot write \\.envsync/(ownership\\.tsv|local/state\\.lock): ${code}`))

        // A new key: its ownership cannot be recorded before the write, so it is not written.
        p.write('envsync.yaml', manifest(['JWT_SECRET', 'OLD_TOKEN', 'NEW_KEY']))
        const newValue = canary('NEW')
        p.write('.env.production', Object.entries({...values, NEW_KEY: newValue}).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
        const j = await run('push', 'production', '--yes', '--json')
        expect(j.exitCode, j.stdout + j.stderr).to.equal(1)
        const dest = JSON.parse(j.stdout).result.report.destinations[0]
        expect(dest.status).to.equal('failed')
        expect(dest.error.message).to.match(new RegExp(`nothing written: the ownership record cannot be saved: cannot write \\.envsync/(ownership\\.tsv|local/state\\.lock): ${code}`))
        expect(railway.variables(scope())).to.deep.equal(values)
        assertNoLeak([...Object.values(values), newValue], r.stdout, r.stderr, j.stdout, j.stderr)
      })
    }
  })
})

/** A system command (mount, umount) for a test's setup: did it work? */
const runSync = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, {stdio: 'ignore'}).status === 0
