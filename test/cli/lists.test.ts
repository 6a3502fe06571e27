/**
 * One convention for lists: --only, --keys, --service and --target take repeated flags, comma
 * lists or both; several names mean the union; every unknown name is an error naming it.
 */
import {expect} from 'chai'

import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {SHOP_MANIFEST as MANIFEST} from './support.js'


const VALUES = 'API_TOKEN=a7Fq2LmZ9xKpW3vRtY8s\nQUEUE_TOKEN=b8Gr3MnA0yLqX4wSuZ9t\n'

describe('list flags: repeated and comma-separated', function () {
  this.timeout(60_000)
  let p: TempProject
  const run = (...args: string[]) => runBin(args, {cwd: p.dir})
  /** Keys the JSON plan would add, by destination label. */
  const planned = (stdout: string) => {
    const result = JSON.parse(stdout).result
    const plans = (result.plan ?? result).destinations as {keys: {key: string; action: string}[]}[]
    return plans.flatMap((d) => d.keys.filter((k) => k.action === 'add').map((k) => k.key)).sort()
  }

  beforeEach(() => {
    p = new TempProject('envsync-lists-')
    p.write('envsync.yaml', MANIFEST, 0o644)
    p.write('.env.development', VALUES)
  })
  afterEach(() => p.cleanup())

  it('push --only: a comma list and a repeated flag are one union, and the environment stays an argument', async () => {
    for (const argv of [
      ['push', '--only', 'API_TOKEN,VITE_URL', 'development', '--dry-run', '--json'],
      ['push', 'development', '--only', 'API_TOKEN', '--only', 'VITE_URL', '--dry-run', '--json'],
      ['push', 'development', '--only', 'API_TOKEN', '--only=VITE_URL', '-n', '--json'],
    ]) {
      const r = await run(...argv)
      expect(r.exitCode, `${argv.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0)
      expect(planned(r.stdout), argv.join(' ')).to.deep.equal(['API_TOKEN', 'VITE_URL'])
    }
  })

  it('diff --service: several services mean the union of their keys, however they are given', async () => {
    for (const argv of [
      ['diff', 'development', '--service', 'frontend,worker', '--json'],
      ['diff', 'development', '-s', 'frontend', '-s', 'worker', '--json'],
    ]) {
      const r = await run(...argv)
      expect(r.exitCode, `${argv.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0)
      expect(planned(r.stdout), argv.join(' ')).to.deep.equal(['LOG_LEVEL', 'QUEUE_TOKEN', 'VITE_URL'])
    }
  })

  it('export --service: a comma list and a repeated flag', async () => {
    for (const argv of [
      ['export', 'development', '--service', 'frontend,worker', '--format', 'json'],
      ['export', 'development', '-s', 'frontend', '--service', 'worker', '--format', 'json'],
    ]) {
      const r = await run(...argv)
      expect(r.exitCode, `${argv.join(' ')}: ${r.stderr}`).to.equal(0)
      expect(Object.keys(JSON.parse(r.stdout)).sort(), argv.join(' ')).to.deep.equal(['LOG_LEVEL', 'QUEUE_TOKEN', 'VITE_URL'])
    }
  })

  it('pull --keys and --service: repeated flags as well as comma lists', async () => {
    expect((await run('push', 'development', '--yes')).exitCode).to.equal(0)
    p.write('.env.development', '')
    const r = await run('pull', 'development', '--from', 'docker', '--keys', 'API_TOKEN', '--keys', 'LOG_LEVEL', '-s', 'backend,worker', '--json')
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0)
    const keys = (JSON.parse(r.stdout).result.keys as {key: string; action: string}[]).map((k) => k.key)
    expect(keys).to.deep.equal(['API_TOKEN', 'LOG_LEVEL'])
  })

  it('diff --target takes several kinds (the union) and refuses an unknown one with did-you-mean', async () => {
    const both = await run('diff', 'production', '--target', 'kubernetes,railway', '--service', 'worker', '--json')
    // No cluster or token here: what matters is that both targets were chosen, by destination.
    const labels = (JSON.parse(both.stdout).result.destinations as {label: string}[]).map((d) => d.label)
    expect(labels).to.deep.equal(['kubernetes secret shop/shop-worker'])

    const typo = await run('diff', 'production', '-t', 'kubernetes', '-t', 'railwy')
    expect(typo.exitCode).to.equal(2)
    expect(typo.stderr).to.include('--target: "railwy" is not one of docker, kubernetes, railway, render')
    expect(typo.stderr).to.include('did you mean "railway"?')
    expect(typo.stderr).to.not.match(/\n\s+at /)
  })

  it('each unknown name is an error naming it: service, a service the chosen target does not deploy, key', async () => {
    const cases: [string[], RegExp, RegExp][] = [
      [['diff', 'development', '--service', 'backend,workr'], /unknown service "workr"/, /did you mean "worker"\?/],
      [['push', 'development', '-s', 'frontend', '-s', 'backnd', '-n'], /unknown service "backnd"/, /did you mean "backend"\?/],
      [['export', 'development', '--service', 'frontend,wrker'], /unknown service "wrker"/, /did you mean "worker"\?/],
      [['diff', 'production', '--target', 'railway', '--service', 'worker'], /the railway target of production does not deploy worker/, /services of that target: backend/],
      [['diff', 'production', '--service', 'frontend'], /no target of production deploys frontend/, /services deployed in production: backend, worker/],
      [['push', 'development', '--only', 'API_TOKEN,API_TOKN', '-n'], /--only API_TOKN: no destination of development receives that key/, /did you mean "API_TOKEN"\?/],
      [['pull', 'development', '--from', 'docker', '--keys', 'API_TOKEN,LOG_LEVL'], /--keys LOG_LEVL: not a key of development on docker/, /did you mean "LOG_LEVEL"\?/],
    ]
    for (const [argv, message, hint] of cases) {
      const r = await run(...argv)
      expect(r.exitCode, `${argv.join(' ')}: ${r.stderr}`).to.equal(2)
      expect(r.stderr, argv.join(' ')).to.match(message)
      expect(r.stderr, argv.join(' ')).to.match(hint)
      expect(r.stderr, argv.join(' ')).to.not.match(/\n\s+at /)
    }
  })
})
