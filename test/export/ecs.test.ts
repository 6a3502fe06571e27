import {readFileSync, statSync} from 'node:fs'

import {expect} from 'chai'

import {startAws} from '../fakes/aws.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * `export --format ecs` through the built binary against the AWS Secrets Manager fake: the block
 * is a valid ContainerDefinition part of a RegisterTaskDefinition input (the published ECS API
 * model), its valueFrom are the ARNs AWS gave the secrets (with their random suffix), and no
 * secret value is printed.
 */

type Shape = {shape?: string; type?: string; required?: string[]; members?: Record<string, Shape>; member?: Shape; value?: Shape}
const ecsModel = JSON.parse(readFileSync(new URL('../fixtures/ecs-2014-11-13.min.json', import.meta.url), 'utf8')) as {operations: Record<string, {input: Shape}>; shapes: Record<string, Shape>}

/** Problems of `value` as an instance of `shape` (required members, unknown members, types). */
function modelProblems(shape: Shape, value: unknown, at = '$'): string[] {
  const s = shape.shape ? ecsModel.shapes[shape.shape] : shape
  const type = s.type ?? 'string'
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value)
  switch (type) {
    case 'structure': {
      if (!isObject) return [`${at}: expected a structure`]
      const v = value as Record<string, unknown>
      const out = (s.required ?? []).filter((m) => v[m] === undefined).map((m) => `${at}.${m}: required`)
      for (const [k, member] of Object.entries(v)) out.push(...(s.members![k] ? modelProblems(s.members![k], member, `${at}.${k}`) : [`${at}.${k}: not a member`]))
      return out
    }
    case 'list':
      return Array.isArray(value) ? value.flatMap((item, i) => modelProblems(s.member!, item, `${at}[${i}]`)) : [`${at}: expected a list`]
    case 'map':
      return isObject ? Object.entries(value as object).flatMap(([k, v]) => modelProblems(s.value!, v, `${at}.${k}`)) : [`${at}: expected a map`]
    case 'integer':
    case 'long':
      return Number.isInteger(value) ? [] : [`${at}: expected an integer`]
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected a boolean`]
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: expected a string`]
    default:
      return [`${at}: ${type} not expected here`]
  }
}

/** The block inside a task definition registration, as a user would merge it. */
function registrationProblems(block: unknown): string[] {
  const input = {family: 'filot-api', containerDefinitions: [{name: 'api', image: 'filot/api:1', essential: true, ...(block as object)}]}
  return modelProblems(ecsModel.operations.RegisterTaskDefinition.input, input)
}

/** ECS's valueFrom for Secrets Manager: arn:aws:secretsmanager:region:account:secret:name[:json-key:stage:id]. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/

const manifest = (environments: string) => `version: 1
project: filot
services:
  api: {}
  worker: {}
environments:
${environments}
secrets:
  JWT_SECRET: {services: [api]}
  SESSION_SECRET: {services: [api]}
  DATABASE_URL: {services: [api, worker]}
  REDIS_URL: {services: [api, worker]}
  REDIS_PASSWORD: {services: [api, worker]}
  LOG_LEVEL: {services: [api, worker], sensitive: false, default: info}
  PUBLIC_ORIGIN: {services: [api], sensitive: false}
`

describe('export --format ecs (binary, AWS fake)', function () {
  this.timeout(60_000)
  let fake: Awaited<ReturnType<typeof startAws>>
  let project: TempProject
  const values = {JWT_SECRET: canary('JWT'), SESSION_SECRET: canary('SESSION'), DATABASE_URL: `postgres://app:${canary('DB')}@db/app`, REDIS_URL: `redis://:${canary('REDIS')}@redis:6379`, REDIS_PASSWORD: canary('REDISPW')}
  const canaries = Object.values(values)

  beforeEach(async () => {
    fake = await startAws({pageSize: 2})
    project = new TempProject('envsync-ecs-')
  })
  afterEach(async () => {
    const violations = fake.violations
    await fake.close()
    project.cleanup()
    expect(violations).to.deep.equal([])
  })

  const env = () => ({...fake.env, ENVSYNC_HTTP_TIMEOUT_MS: '2000', ENVSYNC_HTTP_BACKOFF_MS: '5'})
  const run = (args: string[], input?: string) => runBin(args, {cwd: project.dir, env: env(), input})

  /** Name → ARN as the fake made it (AWS appends a random 6-character suffix). */
  const awsArns = async () => new Map(fake.names().map((n) => [n, fake.secret(n)!.arn]))

  const staging = `  staging:
    targets:
      aws:
        region: eu-west-1
        groups:
          filot/staging/redis: {REDIS_URL: url, REDIS_PASSWORD: password}
`

  async function pushStaging(): Promise<void> {
    project.write('envsync.yaml', manifest(staging))
    project.write('.env.staging', Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\nPUBLIC_ORIGIN=https://app.filot.io\n')
    const push = await run(['push', 'staging', '--target', 'aws', '--yes'])
    expect(push.exitCode, push.stderr).to.equal(0)
  }

  it('aws target: valueFrom is each secret\'s ARN as AWS made it (:field:: inside a JSON group); plain config inline; no value printed', async () => {
    await pushStaging()
    const r = await run(['export', 'staging', '--format', 'ecs', '--service', 'api'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const block = JSON.parse(r.stdout) as {secrets: {name: string; valueFrom: string}[]; environment: {name: string; value: string}[]}
    expect(registrationProblems(block)).to.deep.equal([])
    const arns = await awsArns()
    const arn = (name: string) => {
      const a = arns.get(name)
      expect(a, name).to.match(SECRET_ARN)
      return a!
    }
    expect(block.secrets).to.deep.equal([
      {name: 'JWT_SECRET', valueFrom: arn('filot/staging/jwt-secret')},
      {name: 'SESSION_SECRET', valueFrom: arn('filot/staging/session-secret')},
      {name: 'DATABASE_URL', valueFrom: arn('filot/staging/database-url')},
      {name: 'REDIS_URL', valueFrom: `${arn('filot/staging/redis')}:url::`},
      {name: 'REDIS_PASSWORD', valueFrom: `${arn('filot/staging/redis')}:password::`},
    ])
    expect(block.environment).to.deep.equal([
      {name: 'LOG_LEVEL', value: 'info'},
      {name: 'PUBLIC_ORIGIN', value: 'https://app.filot.io'},
    ])
    assertNoLeak(canaries, r.stdout, r.stderr)
    expect(r.stderr).to.include('secretsmanager:GetSecretValue')
  })

  it('--json carries the block as text and the keys; --out writes it 0600', async () => {
    await pushStaging()
    const r = await run(['export', 'staging', '--format', 'ecs', '--service', 'worker', '--json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const data = (JSON.parse(r.stdout) as {result: {keys: string[]; text: string}}).result
    expect(data.keys).to.deep.equal(['DATABASE_URL', 'REDIS_URL', 'REDIS_PASSWORD', 'LOG_LEVEL'])
    const block = JSON.parse(data.text) as {secrets: {name: string}[]}
    expect(block.secrets.map((s) => s.name)).to.deep.equal(['DATABASE_URL', 'REDIS_URL', 'REDIS_PASSWORD'])
    expect(registrationProblems(block)).to.deep.equal([])
    const out = await run(['export', 'staging', '--format', 'ecs', '--service', 'worker', '--out', 'ecs-worker.json'])
    expect(out.exitCode, out.stderr).to.equal(0)
    expect(out.stdout).to.include('wrote ecs-worker.json (4 keys, mode 0600)')
    expect(statSync(project.path('ecs-worker.json')).mode & 0o777).to.equal(0o600)
    expect(readFileSync(project.path('ecs-worker.json'), 'utf8')).to.equal(data.text)
  })

  it('several services: --service is required, and the error names them', async () => {
    await pushStaging()
    const r = await run(['export', 'staging', '--format', 'ecs'])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('api, worker').and.include('--service api')
    expect(r.stdout).to.equal('')
  })

  it('a key whose secret is not in AWS yet: an error naming the keys and the push that puts them there', async () => {
    project.write('envsync.yaml', manifest(staging))
    project.write('.env.staging', `JWT_SECRET=${values.JWT_SECRET}\n`)
    const r = await run(['export', 'staging', '--format', 'ecs', '--service', 'api'])
    expect(r.exitCode).to.equal(1)
    expect(r.stdout).to.equal('')
    expect(r.stderr).to.include('JWT_SECRET').and.include('REDIS_PASSWORD').and.include('envsync push staging --target aws')
    assertNoLeak(canaries, r.stderr)
  })

  it('a secret scheduled for deletion is as absent (ECS could not read it): named, with the push that brings it back', async () => {
    await pushStaging()
    fake.markDeleted('filot/staging/session-secret')
    const r = await run(['export', 'staging', '--format', 'ecs', '--service', 'api'])
    expect(r.exitCode).to.equal(1)
    expect(r.stderr).to.include('SESSION_SECRET (filot/staging/session-secret)').and.include('envsync push staging --target aws')
    expect(r.stderr).not.to.include('JWT_SECRET')
  })

  it('a JSON group without one of its fields is as absent: ECS would fail the task at start', async () => {
    await pushStaging()
    // The manifest now maps DATABASE_URL into the group as `dsn`, which nobody has pushed there.
    project.write('envsync.yaml', manifest(staging.replace('password}', 'password, DATABASE_URL: dsn}')))
    const r = await run(['export', 'staging', '--format', 'ecs', '--service', 'api'])
    expect(r.exitCode).to.equal(1)
    expect(r.stderr).to.include('DATABASE_URL').and.include('envsync push staging --target aws')
    expect(r.stderr).not.to.include('JWT_SECRET')
  })

  it('neither an AWS store nor an aws target: the error names both options', async () => {
    project.write('envsync.yaml', manifest('  staging: {}\n'))
    const r = await run(['export', 'staging', '--format', 'ecs', '--service', 'api'])
    expect(r.exitCode).to.not.equal(0)
    expect(r.stderr).to.include('environments.staging.store.aws').and.include('environments.staging.targets.aws')
    expect(fake.requests).to.equal(0)
  })

  it('AWS store: ARNs from the store (seed layout: prefix and a group), values set through envsync', async () => {
    project.write(
      'envsync.yaml',
      manifest(`  production:
    store:
      aws: {region: eu-west-1, prefix: filot/production/, groups: {filot/production/redis: {REDIS_URL: url, REDIS_PASSWORD: password}}}
`),
    )
    project.write('seed.env', Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
    const imp = await run(['import', 'production', 'seed.env', '--yes'])
    expect(imp.exitCode, imp.stderr).to.equal(0)
    const r = await run(['export', 'production', '--format', 'ecs', '--service', 'api'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const block = JSON.parse(r.stdout) as {secrets: {name: string; valueFrom: string}[]; environment: {name: string; value: string}[]}
    expect(registrationProblems(block)).to.deep.equal([])
    const arns = await awsArns()
    expect(arns.get('filot/production/jwt-secret')).to.match(SECRET_ARN)
    expect(block.secrets.find((s) => s.name === 'JWT_SECRET')!.valueFrom).to.equal(arns.get('filot/production/jwt-secret'))
    expect(block.secrets.find((s) => s.name === 'REDIS_PASSWORD')!.valueFrom).to.equal(`${arns.get('filot/production/redis')}:password::`)
    expect(block.environment).to.deep.equal([{name: 'LOG_LEVEL', value: 'info'}])
    expect(r.stderr).to.include('PUBLIC_ORIGIN') // plain config without a value: named as left out
    assertNoLeak(canaries, r.stdout, r.stderr)
  })
})

describe('ECS model check (the validation can fail)', () => {
  it('rejects a secret without valueFrom, a misspelt member and a non-string name', () => {
    expect(registrationProblems({secrets: [{name: 'JWT_SECRET'}]})).to.deep.equal(['$.containerDefinitions[0].secrets[0].valueFrom: required'])
    expect(registrationProblems({secret: []})).to.deep.equal(['$.containerDefinitions[0].secret: not a member'])
    expect(registrationProblems({environment: [{name: 1, value: 'x'}]})).to.deep.equal(['$.containerDefinitions[0].environment[0].name: expected a string'])
    expect(registrationProblems({secrets: [{name: 'A', valueFrom: 'arn'}], environment: [{name: 'B', value: 'c'}]})).to.deep.equal([])
  })
})
