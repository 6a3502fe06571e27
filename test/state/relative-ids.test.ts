import {cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {assertNoLeak} from '../helpers/canary.js'
import {ownershipRecords} from '../helpers/project.js'
import {DockerProject, requireBuild, runIn} from '../docker/support.js'

/**
 * Issue 9 item 9, through the built binary: what envsync records about the destinations it
 * owns (.envsync/ownership.tsv, the change history) names them by paths relative to the manifest, so
 * a moved or copied checkout still knows what it owns; records written with absolute ids (before
 * this change) are honoured and rewritten while the checkout has not moved.
 */

const ownership = ownershipRecords

describe('ownership ids relative to the manifest', function () {
  this.timeout(120_000)
  let p: DockerProject
  let elsewhere: string
  const moved = () => path.join(elsewhere, 'shop renamed')

  before(requireBuild)

  beforeEach(async () => {
    p = new DockerProject({secrets: {JWT_SECRET: {services: ['backend']}, LOG_LEVEL: {services: ['backend'], sensitive: false}}})
    p.setValues({JWT_SECRET: p.canary(), LOG_LEVEL: 'info'})
    elsewhere = mkdtempSync(path.join(tmpdir(), 'envsync-moved-'))
    const r = await p.push()
    expect(r.exitCode, r.stderr).to.equal(0)
  })

  afterEach(() => {
    assertNoLeak(p.canaries, ...p.outputs, p.auditLog)
    p.cleanup()
    rmSync(elsewhere, {recursive: true, force: true})
  })

  /** The manifest now feeds the Docker directory nothing (its keys went to a service compose does not run). */
  const dropDockerKeys = (dir: string) => {
    const file = path.join(dir, 'envsync.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace(/- backend/g, '- frontend'))
    writeFileSync(path.join(dir, 'docker-compose.yml'), 'services:\n  backend: {image: "node:20"}\n')
  }

  it('records name the Docker directory relatively, never by an absolute path', () => {
    expect(Object.keys(ownership(p.dir))).to.deep.equal(['docker:secrets/staging'])
    const audit = readFileSync(p.project.path('.envsync/history.jsonl'), 'utf8')
    expect(JSON.parse(audit.trim()).destination).to.equal('docker:secrets/staging')
    expect(audit).to.not.include(p.dir)
    expect(readFileSync(p.project.path('.envsync/ownership.tsv'), 'utf8')).to.not.include(p.dir)
  })

  for (const how of ['moved (mv)', 'copied with .envsync/ (a re-clone that keeps it)'] as const) {
    it(`a checkout ${how} still knows what it owns: one record, and keys gone from the manifest are removed`, async () => {
      if (how.startsWith('moved')) renameSync(p.dir, moved())
      else cpSync(p.dir, moved(), {recursive: true})
      const again = await runIn(moved(), ['push', p.env, '--yes'])
      p.outputs.push(again.stdout, again.stderr)
      expect(again.exitCode, again.stderr).to.equal(0)
      expect(again.stdout).to.match(/in sync/)
      expect(Object.keys(ownership(moved()))).to.deep.equal(['docker:secrets/staging'])

      dropDockerKeys(moved())
      const r = await runIn(moved(), ['push', p.env, '--yes'])
      p.outputs.push(r.stdout, r.stderr)
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/- JWT_SECRET/).and.match(/- LOG_LEVEL/)
      const secrets = path.join(moved(), 'secrets/staging')
      expect(existsSync(path.join(secrets, 'JWT_SECRET'))).to.equal(false)
      expect(existsSync(path.join(secrets, 'backend.env'))).to.equal(false)
      expect(ownership(moved())).to.deep.equal({})
    })
  }

  it('a record written with an absolute id (before this change, in ownership.json) is honoured in place and rewritten relative', async () => {
    const file = p.project.path('.envsync/ownership.json')
    rmSync(p.project.path('.envsync/ownership.tsv'))
    const doc = {version: 1, destinations: {[`docker:${p.secretsDir}`]: {keys: ['JWT_SECRET', 'LOG_LEVEL'], pushed: {}}}}
    writeFileSync(file, JSON.stringify(doc, null, 2) + '\n', {mode: 0o600})

    // Read as the relative id's record: a new key is one more, under the relative id alone.
    p.writeManifest({...p.shape, secrets: {...p.shape.secrets, API_TOKEN: {services: ['backend']}}})
    p.setValues({API_TOKEN: p.canary()})
    const added = await p.push()
    expect(added.exitCode, added.stderr).to.equal(0)
    expect(added.stdout).to.match(/\+ API_TOKEN/).and.not.match(/\+ JWT_SECRET/)
    expect(ownership(p.dir)).to.deep.equal({'docker:secrets/staging': {keys: ['API_TOKEN', 'JWT_SECRET', 'LOG_LEVEL'], pushed: {}}})
    expect(existsSync(file), 'moved into ownership.tsv').to.equal(false)

    // An old record is what leads push to a directory the manifest stopped feeding.

    doc.destinations = {[`docker:${p.secretsDir}`]: {keys: ['API_TOKEN', 'JWT_SECRET', 'LOG_LEVEL'], pushed: {}}}
    rmSync(p.project.path('.envsync/ownership.tsv'))
    writeFileSync(file, JSON.stringify(doc, null, 2) + '\n', {mode: 0o600})
    dropDockerKeys(p.dir)
    const r = await p.push()
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/- JWT_SECRET/)
    expect(existsSync(p.secretFile('JWT_SECRET'))).to.equal(false)
    expect(ownership(p.dir)).to.deep.equal({})
  })
})
