import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os, {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {ciIdentity} from '../../src/sync/state.js'
import {start as startRailway, type RailwayFake, type SeededProject} from '../fakes/railway.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import type {CliResult} from '../helpers/cli.js'
import {envsyncIn, gitRepo, historyOf, rows} from './support.js'

/**
 * Issue 12 item 5: every command that writes values (set, generate, unset, import, pull) or
 * pushes them appends to .envsync/history.jsonl who did it (git identity, else the OS user; the
 * CI job), when, in which environment, which keys and what — never a value — and `envsync log`
 * shows it. Through bin/run.js, real git, the Railway fake.
 */

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets:
      railway: {project: shop, services: {api: api}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api], generate: "alnum:32"}
  API_KEY: {services: [api]}
  PARTNER_TOKEN: {services: [api], required: false}
`
const DESTINATION = 'railway:shop/production/api'

describe('log: each command records who, when, where, which keys', function () {
  this.timeout(120_000)
  let railway: RailwayFake
  let project: SeededProject
  let token: string
  let root: string
  let dir: string
  const outputs: string[] = []
  const secrets: string[] = []

  const envsync = async (args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> => {
    const r = await envsyncIn(root, dir, args, {RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined, ...env}, input)
    outputs.push(r.stdout, r.stderr)
    return r
  }
  const ok = async (args: string[], env: Record<string, string | undefined> = {}, input?: string) => {
    const r = await envsync(args, env, input)
    expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0)
    return r
  }
  const values = () => readFileSync(path.join(dir, '.env.production'), 'utf8')

  beforeEach(async () => {
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api']})
    token = railway.accountToken()
    root = mkdtempSync(path.join(tmpdir(), 'envsync-log-'))
    dir = path.join(root, 'shop')
  })

  afterEach(async () => {
    // Whatever a value was, no piece of it is in any output or in the history.
    if (existsSync(path.join(dir, '.env.production'))) {
      for (const v of values().split('\n').map((l) => l.slice(l.indexOf('=') + 1))) if (v.length >= 16) secrets.push(v)
      assertNoLeak(secrets, ...outputs, readFileSync(path.join(dir, '.envsync/history.jsonl'), 'utf8'))
    }
    outputs.length = 0
    secrets.length = 0
    await railway.stop()
    rmSync(root, {recursive: true, force: true})
  })

  it('generate, set, import, push, unset and pull each append one entry (git user, time, environment, action, keys); log shows them newest first in local time', async () => {
    gitRepo(root, dir, 'Ada Lovelace', 'ada@shop.test')
    writeFileSync(path.join(dir, 'envsync.yaml'), MANIFEST)
    writeFileSync(path.join(dir, '.gitignore'), '.env.*\n')
    const apiKey = canary('API')
    const partner = canary('PARTNER')
    const live = canary('LIVE')
    secrets.push(apiKey, partner, live)
    const at = (hour: number) => `2026-11-02T${String(hour).padStart(2, '0')}:00:00.000Z`

    await ok(['generate', 'production'], {ENVSYNC_NOW: at(9)})
    await ok(['set', 'production', 'API_KEY'], {ENVSYNC_NOW: at(10)}, apiKey)
    writeFileSync(path.join(root, 'partner.env'), `PARTNER_TOKEN=${partner}\n`)
    await ok(['import', 'production', path.join(root, 'partner.env'), '--yes'], {ENVSYNC_NOW: at(11)})
    await ok(['push', 'production', '--yes'], {ENVSYNC_NOW: at(12)})
    await ok(['unset', 'production', 'PARTNER_TOKEN', '--yes'], {ENVSYNC_NOW: at(13)})
    railway.setVariables({projectId: project.id, environmentId: project.environments.production, serviceId: project.services.api}, {API_KEY: live})
    await ok(['pull', 'production', '--from', 'railway', '--keys', 'API_KEY', '--overwrite'], {ENVSYNC_NOW: at(14)})
    expect(values()).to.include(`API_KEY=${live}`)

    const ada = 'Ada Lovelace <ada@shop.test>'
    const base = {user: ada, environment: 'production'}
    expect(historyOf(dir)).to.deep.equal([
      {time: at(9), ...base, action: 'generate', keys: ['JWT_SECRET', 'DB_PASSWORD']},
      {time: at(10), ...base, action: 'set', keys: ['API_KEY']},
      {time: at(11), ...base, action: 'import', keys: ['PARTNER_TOKEN']},
      {time: at(12), ...base, action: 'push', destination: DESTINATION, status: 'applied', added: ['API_KEY', 'DB_PASSWORD', 'JWT_SECRET', 'PARTNER_TOKEN'], updated: [], removed: []},
      {time: at(13), ...base, action: 'unset', keys: [], removed: ['PARTNER_TOKEN']},
      {time: at(14), ...base, action: 'pull', keys: ['API_KEY']},
    ])

    // Newest first, in the reader's time zone (Tokyo: UTC+9, no daylight saving).
    const log = await ok(['log'], {TZ: 'Asia/Tokyo'})
    expect(rows(log.stdout)).to.deep.equal([
      ['2026-11-02 23:00', ada, 'production', 'pull', '.env.production', 'API_KEY'],
      ['2026-11-02 22:00', ada, 'production', 'unset', '.env.production', '-PARTNER_TOKEN'],
      ['2026-11-02 21:00', ada, 'production', 'push', 'railway shop/production/api', '+API_KEY +DB_PASSWORD +JWT_SECRET +PARTNER_TOKEN', 'applied'],
      ['2026-11-02 20:00', ada, 'production', 'import', '.env.production', 'PARTNER_TOKEN'],
      ['2026-11-02 19:00', ada, 'production', 'set', '.env.production', 'API_KEY'],
      ['2026-11-02 18:00', ada, 'production', 'generate', '.env.production', 'JWT_SECRET DB_PASSWORD'],
    ])

    // The export: the entries themselves, newest first, one per line; --json: the envelope.
    const jsonl = await ok(['log', '--format', 'jsonl'])
    expect(jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).to.deep.equal(historyOf(dir).reverse())
    const json = JSON.parse((await ok(['log', '--json'])).stdout)
    expect(json).to.deep.include({ok: true, command: 'log', exitCode: 0})
    expect(json.result.entries).to.deep.equal(historyOf(dir).reverse())
    expect(json.result).to.include({matched: 6, recorded: 6})
  })

  it('outside a git work tree (and no global git identity): the OS user', async () => {
    writeFileSync(path.join(root, 'envsync.yaml'), MANIFEST)
    dir = root
    await ok(['generate', 'production', 'JWT_SECRET'])
    const [entry] = historyOf(dir)
    expect(entry).to.deep.include({user: os.userInfo().username, action: 'generate', keys: ['JWT_SECRET']})
    expect(entry).to.not.have.property('ci')
    expect(Date.now() - Date.parse(entry.time as string)).to.be.within(0, 60_000)
    expect(rows((await ok(['log'])).stdout)[0][1]).to.equal(os.userInfo().username)
  })

  it('in CI: the job\'s identity beside the runner\'s user (GitHub: who started this run, a re-run too)', async () => {
    writeFileSync(path.join(root, 'envsync.yaml'), MANIFEST)
    dir = root
    await ok(['generate', 'production', 'JWT_SECRET'], {CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat', GITHUB_TRIGGERING_ACTOR: 'hubot'})
    await ok(['generate', 'production', 'DB_PASSWORD'], {CI: 'true', GITLAB_CI: 'true', GITLAB_USER_LOGIN: 'ada'})
    expect(historyOf(dir).map((e) => e.ci)).to.deep.equal(['github:hubot', 'gitlab:ada'])
    const who = rows((await ok(['log'])).stdout).map((r) => r[1])
    expect(who).to.deep.equal([`${os.userInfo().username} (gitlab:ada)`, `${os.userInfo().username} (github:hubot)`])
  })

  it('CI identities of each provider', () => {
    const cases: [NodeJS.ProcessEnv, string | undefined][] = [
      [{}, undefined],
      [{CI: 'false'}, undefined],
      [{CI: 'true'}, 'ci'],
      [{CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat'}, 'github:octocat'],
      [{GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat', GITHUB_TRIGGERING_ACTOR: 'hubot'}, 'github:hubot'],
      [{GITLAB_CI: 'true', GITLAB_USER_LOGIN: 'ada', GITLAB_USER_EMAIL: 'ada@shop.test'}, 'gitlab:ada'],
      [{BUILDKITE: 'true', BUILDKITE_BUILD_CREATOR: 'Ada Lovelace', BUILDKITE_BUILD_CREATOR_EMAIL: 'ada@shop.test'}, 'buildkite:ada@shop.test'],
      [{CIRCLECI: 'true', CIRCLE_USERNAME: 'grace'}, 'circleci:grace'],
      [{JENKINS_URL: 'https://ci.shop.test/', BUILD_USER_ID: 'linus'}, 'jenkins:linus'],
      [{JENKINS_URL: 'https://ci.shop.test/'}, 'jenkins'],
      [{TF_BUILD: 'True', BUILD_REQUESTEDFOREMAIL: 'bob@shop.test'}, 'azure:bob@shop.test'],
      [{BITBUCKET_BUILD_NUMBER: '7', CI: 'true'}, 'bitbucket'],
      [{TRAVIS: 'true', CI: 'true'}, 'travis'],
    ]
    for (const [env, expected] of cases) expect(ciIdentity(env), JSON.stringify(env)).to.equal(expected)
  })
})
