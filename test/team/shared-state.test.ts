import {spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {start as startRailway, type RailwayFake, type SeededProject} from '../fakes/railway.js'
import {DEFAULT_API_KEY, startRenderFake, type RenderFake} from '../fakes/render.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin, type CliResult} from '../helpers/cli.js'
import {ownershipRecords} from '../helpers/project.js'

/**
 * Issue 10 item 2: the state envsync keeps about Railway and Render (which keys it put there,
 * fingerprints of sealed values, the change history) is committed in .envsync/, so a fresh
 * clone or a CI runner knows what the machine that pushed knows. Driven through the built CLI,
 * real git (a bare origin, several clones) and the Railway and Render fakes.
 */

const API = 'railway:shop/production/api'
const WEB = 'render:service/shop-web'

/** Railway api + worker, Render web + admin; extra secret lines go at the top and the bottom (so two clones' edits merge). */
const manifest = (top: string[] = [], bottom: string[] = []) => `version: 1
project: shop
services: {api: {}, worker: {}, web: {}, admin: {}}
environments:
  production:
    targets:
      railway: {project: shop, services: {api: api, worker: worker}, deploy: true}
      render: {services: {web: shop-web, admin: shop-admin}, deploy: true}
secrets:
${top.map((l) => `  ${l}\n`).join('')}  JWT_SECRET: {services: [api, worker]}
  DB_PASSWORD: {services: [api]}
  OLD_TOKEN: {services: [api, web]}
  WEB_KEY: {services: [web]}
  ADMIN_KEY: {services: [admin]}
${bottom.map((l) => `  ${l}\n`).join('')}`

describe('team: state any clone sees (.envsync/ committed)', function () {
  this.timeout(120_000)
  let railway: RailwayFake
  let render: RenderFake
  let project: SeededProject
  let ids: Record<string, string>
  let root: string
  let origin: string
  let values: Record<string, string>
  const outputs: string[] = []

  const env = () => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: railway.accountToken(), RAILWAY_TOKEN: undefined, RENDER_API_URL: render.url, RENDER_API_KEY: DEFAULT_API_KEY, CI: undefined, GITHUB_ACTIONS: undefined, GITLAB_CI: undefined})
  const gitEnv = () => ({...process.env, HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0'})
  const git = (dir: string, ...args: string[]) => {
    const r = spawnSync('git', args, {cwd: dir, env: gitEnv(), encoding: 'utf8', timeout: 30_000})
    return {code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '')}
  }
  const gitOk = (dir: string, ...args: string[]) => {
    const r = git(dir, ...args)
    expect(r.code, `git ${args.join(' ')}: ${r.out}`).to.equal(0)
    return r.out
  }
  const envsync = async (dir: string, ...args: string[]): Promise<CliResult> => {
    const r = await runBin(args, {cwd: dir, env: env()})
    outputs.push(r.stdout, r.stderr)
    return r
  }
  const writeValues = (dir: string, v: Record<string, string>) => writeFileSync(path.join(dir, '.env.production'), Object.entries(v).map(([k, x]) => `${k}=${x}`).join('\n') + '\n', {mode: 0o600})
  const scope = (service: string) => ({projectId: project.id, environmentId: project.environments.production, serviceId: project.services[service]})
  const deploys = () => ({
    api: railway.deployCount(project.services.api),
    worker: railway.deployCount(project.services.worker),
    web: render.service(ids['shop-web'])!.deployCount,
    admin: render.service(ids['shop-admin'])!.deployCount,
  })
  /** Everything under .envsync/ a commit may hold (not local/), as text. */
  const committedState = (dir: string) =>
    readdirSync(path.join(dir, '.envsync'))
      .filter((f) => f !== 'local' && statSync(path.join(dir, '.envsync', f)).isFile())
      .map((f) => readFileSync(path.join(dir, '.envsync', f), 'utf8'))

  /** A clone of origin with its own git identity. */
  const clone = (name: string, who: string) => {
    const dir = path.join(root, name)
    gitOk(root, 'clone', '-q', origin, dir)
    gitOk(dir, 'config', 'user.name', who)
    gitOk(dir, 'config', 'user.email', `${who.toLowerCase()}@example.com`)
    gitOk(dir, 'config', 'pull.rebase', 'false')
    return dir
  }
  /** What a teammate is handed out of band with this item's machine-local key (the encrypted store carries one instead). */
  const handOver = (from: string, to: string) => {
    copyFileSync(path.join(from, '.env.production'), path.join(to, '.env.production'))
    mkdirSync(path.join(to, '.envsync/local'), {recursive: true, mode: 0o700})
    copyFileSync(path.join(from, '.envsync/local/key'), path.join(to, '.envsync/local/key'))
  }
  const commitState = (dir: string, message: string, ...extra: string[]) => {
    gitOk(dir, 'add', '.envsync', ...extra)
    gitOk(dir, 'commit', '-q', '-m', message)
  }

  let a: string

  beforeEach(async () => {
    railway = await startRailway()
    render = await startRenderFake()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api', 'worker']})
    ids = render.seed({services: [{name: 'shop-web'}, {name: 'shop-admin'}]}).services
    root = mkdtempSync(path.join(tmpdir(), 'envsync-team-'))
    origin = path.join(root, 'origin.git')
    gitOk(root, 'init', '-q', '--bare', origin)
    values = {JWT_SECRET: canary('JWT'), DB_PASSWORD: canary('DB'), OLD_TOKEN: canary('OLD'), WEB_KEY: canary('WEB'), ADMIN_KEY: canary('ADMIN')}

    // Clone A sets up, pushes production, seals DB_PASSWORD on Railway, commits and pushes.
    a = clone('a', 'Ada')
    writeFileSync(path.join(a, 'envsync.yaml'), manifest())
    writeFileSync(path.join(a, '.gitignore'), '.env.*\n')
    writeValues(a, values)
    const first = await envsync(a, 'push', 'production', '--yes')
    expect(first.exitCode, first.stdout + first.stderr).to.equal(0)
    expect(first.stdout).to.include('.envsync/ changed: commit it so teammates and CI see what envsync owns')
    railway.seal(scope('api'), 'DB_PASSWORD')
    commitState(a, 'envsync setup', 'envsync.yaml', '.gitignore')
    gitOk(a, 'push', '-q', 'origin', 'HEAD')
  })

  afterEach(async () => {
    assertNoLeak(Object.values(values), ...outputs)
    outputs.length = 0
    await railway.stop()
    await render.stop()
    rmSync(root, {recursive: true, force: true})
  })

  it('clone B (fresh: git clone, its values and key) drops a key and pushes: removed from both platforms, unmanaged keys untouched, the sealed value not rewritten, only changed services redeployed', async () => {
    // What A committed: ownership and history, never the machine's key, never a value.
    const tracked = gitOk(a, 'ls-files', '.envsync').trim().split('\n').sort()
    expect(tracked).to.deep.equal(['.envsync/.gitattributes', '.envsync/.gitignore', '.envsync/history.jsonl', '.envsync/ownership.tsv'])
    assertNoLeak(Object.values(values), ...committedState(a))

    // Someone adds keys by hand on both platforms: not envsync's.
    railway.setVariables(scope('api'), {HAND_SET: 'by hand on railway'})
    render.setEnvVar(ids['shop-web'], 'HAND_SET', 'by hand on render')

    const b = clone('b', 'Bob')
    handOver(a, b)
    writeFileSync(path.join(b, 'envsync.yaml'), manifest().replace(/ {2}OLD_TOKEN:.*\n/, ''))
    const before = deploys()
    railway.clearLog()
    const r = await envsync(b, 'push', 'production', '--yes', '--json')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    const report = JSON.parse(r.stdout).result.report
    const byId = Object.fromEntries(report.destinations.map((d: {id: string}) => [d.id, d]))
    expect(byId[API]).to.include({status: 'applied'})
    expect(byId[API].removed).to.deep.equal(['OLD_TOKEN'])
    expect(byId[API].updated, 'the sealed DB_PASSWORD is known to be in sync').to.deep.equal([])
    expect(byId[WEB].removed).to.deep.equal(['OLD_TOKEN'])
    expect(report.state).to.include({message: '.envsync/ changed: commit it so teammates and CI see what envsync owns'})

    expect(railway.variables(scope('api'))).to.deep.equal({JWT_SECRET: values.JWT_SECRET, DB_PASSWORD: values.DB_PASSWORD, HAND_SET: 'by hand on railway'})
    expect(railway.sealed(scope('api'))).to.deep.equal(['DB_PASSWORD'])
    expect(render.envVars(ids['shop-web'])).to.deep.equal({WEB_KEY: values.WEB_KEY, HAND_SET: 'by hand on render'})
    // The sealed variable was not written: no mutation named it.
    const mutations = JSON.stringify(railway.requests.filter((q) => q.operationType === 'mutation').map((q) => q.variables))
    expect(mutations).to.not.include('DB_PASSWORD')
    // Only the services whose variables changed were redeployed, once each.
    expect(deploys()).to.deep.equal({api: before.api + 1, worker: before.worker, web: before.web + 1, admin: before.admin})

    // B's history holds A's push and its own, with who pushed; no values.
    const history = readFileSync(path.join(b, '.envsync/history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const pushes = history.filter((h) => h.action === 'push')
    expect(pushes.filter((h) => h.user === 'Ada <ada@example.com>').length).to.equal(4)
    // Each redeployed service is in the history too, by whoever redeployed it.
    expect(history.filter((h) => h.action === 'redeploy' && h.status === 'applied' && h.user === 'Bob <bob@example.com>').map((h) => h.destination).sort()).to.deep.equal([API, WEB].sort())
    // Each destination's entry is written as its writes land: in the order they finish.
    expect(pushes.filter((h) => h.user === 'Bob <bob@example.com>').map((h) => [h.destination, h.removed])).to.have.deep.members([
      [API, ['OLD_TOKEN']],
      [WEB, ['OLD_TOKEN']],
    ])
    assertNoLeak(Object.values(values), ...committedState(b))

    // A third clone without the key: the fingerprints are not compared (said once); the sealed
    // value is written once more and recorded under its key, then in sync.
    const c = clone('c', 'Cy')
    copyFileSync(path.join(a, '.env.production'), path.join(c, '.env.production'))
    const d = await envsync(c, 'diff', 'production')
    expect(d.stdout).to.include('the fingerprint of 1 sealed value (DB_PASSWORD) in .envsync/ownership.tsv was made under another fingerprint key')
    expect(d.stdout).to.match(/~ DB_PASSWORD/)
    const once = await envsync(c, 'push', 'production', '--yes')
    expect(once.exitCode, once.stdout + once.stderr).to.equal(0)
    expect(once.stdout).to.match(/~ DB_PASSWORD/)
    expect(once.stdout, 'push --yes says it as diff does').to.include('the fingerprint of 1 sealed value (DB_PASSWORD) in .envsync/ownership.tsv was made under another fingerprint key')
    const again = await envsync(c, 'diff', 'production', '--exit-code')
    expect(again.exitCode, again.stdout).to.equal(0)
    expect(again.stdout).to.not.include('another fingerprint key')
  })

  it('two clones of a plain store, each with its own machine key, push in turn (git pull between): after each one\'s first push nothing is rewritten or redeployed', async () => {
    const b = clone('b', 'Bob')
    // The same values, handed over out of band; each machine makes its own fingerprint key.
    copyFileSync(path.join(a, '.env.production'), path.join(b, '.env.production'))
    const dbWrites = () => railway.requests.filter((q) => q.operationType === 'mutation' && JSON.stringify(q.variables).includes('DB_PASSWORD')).length
    const turn = async (dir: string) => {
      const pulled = git(dir, 'pull', '-q', '--no-edit', 'origin', 'HEAD')
      expect(pulled.code, pulled.out).to.equal(0)
      railway.clearLog()
      const before = deploys()
      const r = await envsync(dir, 'push', 'production', '--yes', '--json')
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout).result
      if (git(dir, 'status', '--porcelain', '--', '.envsync').out.trim() !== '') {
        commitState(dir, `push from ${path.basename(dir)}`)
        gitOk(dir, 'push', '-q', 'origin', 'HEAD')
      }
      const after = deploys()
      return {result, writes: dbWrites(), deployed: Object.keys(after).filter((s) => after[s as keyof typeof after] !== before[s as keyof typeof before])}
    }
    // B's first push cannot compare A's fingerprint: DB_PASSWORD written once, said in the plan (--yes --json too).
    const first = await turn(b)
    expect(first.writes).to.equal(1)
    expect(first.deployed).to.deep.equal(['api'])
    expect(first.result.plan.warnings.map((w: {rule: string}) => w.rule)).to.include('fingerprint-key')
    // From then on each machine compares against what it last pushed: no write, no deploy, no warning.
    for (const [i, dir] of [a, b, a, b].entries()) {
      const t = await turn(dir)
      expect(t.writes, `turn ${i + 2} (${path.basename(dir)})`).to.equal(0)
      expect(t.deployed, `turn ${i + 2} (${path.basename(dir)})`).to.deep.equal([])
      expect(t.result.applied, `turn ${i + 2}`).to.equal(false)
      expect(t.result.plan.warnings.map((w: {rule: string}) => w.rule)).to.not.include('fingerprint-key')
    }
    // Both machines' lines for the sealed key, each under its own key id; dropping it removes it and every line.
    const lines = readFileSync(path.join(b, '.envsync/ownership.tsv'), 'utf8').split('\n').filter((l) => l.startsWith(`${API}\tDB_PASSWORD\t`))
    expect(new Set(lines.map((l) => l.split('\t')[2])).size).to.equal(2)
    writeFileSync(path.join(b, 'envsync.yaml'), manifest().replace(/ {2}DB_PASSWORD:.*\n/, ''))
    const drop = await envsync(b, 'push', 'production', '--yes')
    expect(drop.exitCode, drop.stdout + drop.stderr).to.equal(0)
    expect(railway.variables(scope('api'))).to.not.have.property('DB_PASSWORD')
    expect(readFileSync(path.join(b, '.envsync/ownership.tsv'), 'utf8')).to.not.include('\tDB_PASSWORD\t')
    assertNoLeak(Object.values(values), ...committedState(a), ...committedState(b))
  })

  it('two clones push at once and both commit .envsync/: git merges it with no conflict, and the merged clone removes keys each of them put there', async () => {
    const b = clone('b', 'Bob')
    handOver(a, b)
    // A adds A_ONLY (Railway api); B adds B_ONLY (Railway api and Render web): lines side by side in ownership.tsv.
    const aValue = canary('AONLY')
    const bValue = canary('BONLY')
    writeFileSync(path.join(a, 'envsync.yaml'), manifest(['A_ONLY: {services: [api]}']))
    writeValues(a, {...values, A_ONLY: aValue})
    writeFileSync(path.join(b, 'envsync.yaml'), manifest([], ['B_ONLY: {services: [api, web]}']))
    writeValues(b, {...values, B_ONLY: bValue})
    values.A_ONLY = aValue
    values.B_ONLY = bValue
    const [ra, rb] = await Promise.all([envsync(a, 'push', 'production', '--yes'), envsync(b, 'push', 'production', '--yes')])
    expect(ra.exitCode, ra.stdout + ra.stderr).to.equal(0)
    expect(rb.exitCode, rb.stdout + rb.stderr).to.equal(0)
    commitState(a, 'A_ONLY', 'envsync.yaml')
    gitOk(a, 'push', '-q', 'origin', 'HEAD')
    commitState(b, 'B_ONLY', 'envsync.yaml')
    const pulled = git(b, 'pull', '-q', '--no-edit', 'origin', 'HEAD')
    expect(pulled.code, pulled.out).to.equal(0)
    expect(readFileSync(path.join(b, '.envsync/ownership.tsv'), 'utf8')).to.not.match(/^(<<<<<<<|>>>>>>>)/m)
    const merged = ownershipRecords(b)
    expect(merged[API].keys).to.include.members(['A_ONLY', 'B_ONLY'])
    expect(merged[WEB].keys).to.include('B_ONLY')
    const history = readFileSync(path.join(b, '.envsync/history.jsonl'), 'utf8')
    expect(history).to.include('"A_ONLY"').and.include('"B_ONLY"')

    // The merged clone drops both keys: each is removed where its clone put it.
    writeFileSync(path.join(b, 'envsync.yaml'), manifest())
    const r = await envsync(b, 'push', 'production', '--yes', '--json')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    const byId = Object.fromEntries(JSON.parse(r.stdout).result.report.destinations.map((d: {id: string; removed: string[]}) => [d.id, d.removed]))
    expect(byId[API]).to.deep.equal(['A_ONLY', 'B_ONLY'])
    expect(byId[WEB]).to.deep.equal(['B_ONLY'])
    expect(railway.variables(scope('api'))).to.not.have.any.keys('A_ONLY', 'B_ONLY')
    expect(render.envVars(ids['shop-web'])).to.not.have.any.keys('B_ONLY')
    assertNoLeak(Object.values(values), ...committedState(a), ...committedState(b))
  })

  it('a key listed twice with different fingerprints (a union merge of two edits) is owned, its fingerprint unknown: written once more, still removed when dropped', async () => {
    const b = clone('b', 'Bob')
    handOver(a, b)
    const file = path.join(b, '.envsync/ownership.tsv')
    const text = readFileSync(file, 'utf8')
    const line = text.split('\n').find((l) => l.startsWith(`${API}\tDB_PASSWORD\t`))!
    writeFileSync(file, text + line.replace(/\t[^\t]+$/, '\tAAAAAAAAAA') + '\n')
    const d = await envsync(b, 'diff', 'production')
    expect(d.stdout).to.match(/~ DB_PASSWORD/)
    writeFileSync(path.join(b, 'envsync.yaml'), manifest().replace(/ {2}DB_PASSWORD:.*\n/, ''))
    const r = await envsync(b, 'push', 'production', '--yes')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/- DB_PASSWORD/)
    expect(railway.variables(scope('api'))).to.not.have.any.keys('DB_PASSWORD')
  })

  it('conflict markers in ownership.tsv (a merge without .gitattributes) are refused: STATE_CONFLICT with file:line, nothing written', async () => {
    const b = clone('b', 'Bob')
    handOver(a, b)
    const file = path.join(b, '.envsync/ownership.tsv')
    const [header, ...rest] = readFileSync(file, 'utf8').split('\n')
    const conflicted = [header, '<<<<<<< HEAD', ...rest.slice(0, 2), '=======', ...rest.slice(2, 3), '>>>>>>> theirs', ...rest.slice(3)].join('\n')
    writeFileSync(file, conflicted)
    writeFileSync(path.join(b, 'envsync.yaml'), manifest().replace(/ {2}OLD_TOKEN:.*\n/, ''))
    railway.clearLog()
    const before = deploys()
    for (const args of [['diff', 'production'], ['push', 'production', '--yes'], ['push', 'production', '--yes', '--json']]) {
      const r = await envsync(b, ...args)
      expect(r.exitCode, r.stdout + r.stderr).to.equal(1)
      const text = r.stdout + r.stderr
      expect(text).to.match(/\.envsync\/ownership\.tsv:2 has a merge conflict/)
      if (args.includes('--json')) expect(JSON.parse(r.stdout).error.code).to.equal('STATE_CONFLICT')
      expect(text).to.not.match(/\n\s+at /)
    }
    expect(railway.requests.filter((q) => q.operationType === 'mutation')).to.deep.equal([])
    expect(railway.variables(scope('api'))).to.have.property('OLD_TOKEN')
    expect(deploys()).to.deep.equal(before)
    expect(readFileSync(file, 'utf8'), 'left as it was').to.equal(conflicted)
  })

  it('git ignoring .envsync/ (an older init) is a warning with the fix, not the commit note', async () => {
    gitOk(a, 'rm', '-r', '-q', '--cached', '.envsync')
    writeFileSync(path.join(a, '.gitignore'), '.env.*\n.envsync/\n')
    gitOk(a, 'commit', '-q', '-a', '-m', 'as an older init left it')
    values.JWT_SECRET = canary('JWT2')
    writeValues(a, values)
    const r = await envsync(a, 'push', 'production', '--yes')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.include('.envsync/ is git-ignored: teammates and CI cannot see what envsync owns')
    expect(r.stdout).to.include('remove the .envsync/ line from .gitignore')
    expect(r.stdout).to.not.include('commit it so teammates')
    expect(existsSync(path.join(a, '.envsync/local/key'))).to.equal(true)
    // Not only after a push that wrote: every diff and push that reads the state says it.
    for (const args of [['push', 'production', '--yes'], ['diff', 'production'], ['push', 'production', '--dry-run']]) {
      const again = await envsync(a, ...args)
      expect(again.exitCode, again.stdout + again.stderr).to.equal(0)
      expect(again.stdout, args.join(' ')).to.include('.envsync/ is git-ignored: teammates and CI cannot see what envsync owns')
    }
    const json = await envsync(a, 'push', 'production', '--yes', '--json')
    expect(JSON.parse(json.stdout).result.plan.warnings.map((w: {rule: string}) => w.rule)).to.include('state-ignored')
  })
})
