import {spawnSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'

import {expect} from 'chai'

import {requireOrSkip} from '../helpers/not-run.js'
import {findComposeCli} from './compose-merge.js'
import {DockerProject, finish, parseJson, requireBuild} from './support.js'

const USER_COMPOSE = `services:
  backend: {image: example.invalid/backend:1}
  worker: {image: example.invalid/worker:1}
  frontend: {image: example.invalid/frontend:1}
`

describe('docker: push --deploy gives the compose command that recreates what reads the change', function () {
  this.timeout(60_000)
  let p: DockerProject | undefined
  before(requireBuild)
  afterEach(function () {
    finish(this, p)
  })

  it('names the project compose file, its own override file, envsync\'s override and only the services that receive a changed key', async function () {
    p = new DockerProject()
    p.project.write('docker-compose.yml', USER_COMPOSE, 0o644)
    // Compose loads this beside docker-compose.yml only when no -f is given: the command must name it.
    p.project.write('docker-compose.override.yml', 'services:\n  backend: {ports: ["8080:80"]}\n', 0o644)
    const values = {JWT_SECRET: p.canary(), DB_PASSWORD: p.canary(), TLS_KEY: p.canary(), WORKER_TOKEN: p.canary(), LOG_LEVEL: 'info', FEATURE_FLAGS: 'a', API_URL: 'https://api.acme.io'}
    p.setValues(values)
    const first = await p.push()
    expect(first.exitCode, first.stderr + first.stdout).to.equal(0)
    expect(first.stdout, 'no --deploy: no command').to.not.include('docker compose')

    // A secret file only the backend mounts.
    p.setValues({JWT_SECRET: p.canary()})
    const text = await p.push('--deploy')
    expect(text.exitCode, text.stderr + text.stdout).to.equal(0)
    const command = 'docker compose -f docker-compose.yml -f docker-compose.override.yml -f docker-compose.staging.secrets.yml up -d --force-recreate backend'
    expect(text.stdout).to.include(command)
    expect(text.stdout).to.include('service backend to recreate')

    // Plain config in two services' env files.
    p.setValues({LOG_LEVEL: 'debug'})
    const json = parseJson((await p.run(['push', p.env, '--yes', '--deploy', '--json'])).stdout)
    expect(json.ok, JSON.stringify(json)).to.equal(true)
    expect(json.result.report.redeploys).to.deep.equal([
      {destination: 'docker:secrets/staging', label: 'docker secrets/staging', what: 'services backend, worker to recreate', status: 'todo', command: 'docker compose -f docker-compose.yml -f docker-compose.override.yml -f docker-compose.staging.secrets.yml up -d --force-recreate backend worker'},
    ])
    // Nothing done, so nothing in the change history as a redeploy.
    expect(p.auditLog).to.not.include('"redeploy"')

    // In sync: no command.
    const again = await p.push('--deploy')
    expect(again.exitCode).to.equal(0)
    expect(again.stdout).to.not.include('docker compose')

    // The secondary check: Compose itself accepts the files as the command names them.
    const cli = findComposeCli()
    requireOrSkip(this, 'the compose CLI check of the redeploy command (test/docker/redeploy.test.ts)', cli ? undefined : 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)')
    const r = spawnSync(cli!.argv[0], [...cli!.argv.slice(1), '-f', 'docker-compose.yml', '-f', 'docker-compose.override.yml', '-f', 'docker-compose.staging.secrets.yml', 'config'], {cwd: p.dir, encoding: 'utf8', timeout: 30_000})
    expect(r.status, r.stderr).to.equal(0)
    // The project's override kept (its port), envsync's merged (the secret).
    expect(r.stdout).to.match(/8080/)
    expect(r.stdout).to.match(/jwt_secret/)
  })

  it('a custom override path and a project compose.yaml are named as they are, quoted for the shell', async () => {
    p = new DockerProject({docker: {compose: 'deploy/my secrets.yml'}})
    p.project.write('compose.yaml', USER_COMPOSE, 0o644)
    mkdirSync(p.project.path('deploy'))
    p.setValues({JWT_SECRET: p.canary(), DB_PASSWORD: p.canary(), TLS_KEY: p.canary(), WORKER_TOKEN: p.canary(), LOG_LEVEL: 'info', FEATURE_FLAGS: 'a', API_URL: 'https://api.acme.io'})
    const first = await p.push()
    expect(first.exitCode, first.stderr + first.stdout).to.equal(0)
    p.setValues({WORKER_TOKEN: p.canary()})
    const r = await p.push('--deploy')
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0)
    expect(r.stdout).to.include(`docker compose -f compose.yaml -f "deploy/my secrets.yml" up -d --force-recreate worker`)
  })
})
