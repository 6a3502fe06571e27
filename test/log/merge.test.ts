import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {assertNoLeak} from '../helpers/canary.js'
import type {CliResult} from '../helpers/cli.js'
import {envsyncIn, git, historyOf, rows} from './support.js'

/**
 * The history every teammate sees: two clones push at once, each commits .envsync/, and git
 * merges history.jsonl line by line (the union driver .envsync/.gitattributes names) — no
 * conflict, and `envsync log` in either clone shows both pushes, each once, in time order.
 */

const MANIFEST = `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets: {docker: {}}
secrets:
  JWT_SECRET: {services: [api], generate: "base64:48"}
  DB_PASSWORD: {services: [api], generate: "alnum:32"}
`

describe('log: two clones push, git merges the history', function () {
  this.timeout(120_000)
  let root: string
  const outputs: string[] = []

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'envsync-log-merge-'))
  })
  afterEach(() => rmSync(root, {recursive: true, force: true}))

  it('both clones\' pushes are in the merged log once each, ordered by time; merging back adds no duplicate', async () => {
    const origin = path.join(root, 'origin.git')
    git(root, root, 'init', '-q', '--bare', origin)
    const clone = (name: string, who: string) => {
      const dir = path.join(root, name)
      git(root, root, 'clone', '-q', origin, dir)
      git(root, dir, 'config', 'user.name', who)
      git(root, dir, 'config', 'user.email', `${who.toLowerCase()}@shop.test`)
      git(root, dir, 'config', 'pull.rebase', 'false')
      return dir
    }
    const envsync = async (dir: string, args: string[], now: string): Promise<CliResult> => {
      const r = await envsyncIn(root, dir, args, {ENVSYNC_NOW: now})
      outputs.push(r.stdout, r.stderr)
      expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0)
      return r
    }

    // Ada sets the project up: the first push, committed with the state.
    const a = clone('a', 'Ada')
    writeFileSync(path.join(a, 'envsync.yaml'), MANIFEST)
    writeFileSync(path.join(a, '.gitignore'), '.env.*\nsecrets/\n')
    await envsync(a, ['generate', 'production'], '2026-11-02T09:00:00Z')
    await envsync(a, ['push', 'production', '--yes'], '2026-11-02T09:01:00Z')
    git(root, a, 'add', 'envsync.yaml', '.gitignore', '.envsync')
    git(root, a, 'commit', '-q', '-m', 'envsync setup')
    git(root, a, 'push', '-q', 'origin', 'HEAD')

    // Bob clones, gets his own values, and both push at about the same time.
    const b = clone('b', 'Bob')
    await envsync(b, ['generate', 'production', 'JWT_SECRET', 'DB_PASSWORD'], '2026-11-03T10:00:00Z')
    await envsync(b, ['push', 'production', '--yes'], '2026-11-03T10:05:00Z')
    await envsync(a, ['generate', 'production', 'JWT_SECRET', '--force', '--yes'], '2026-11-03T10:02:00Z')
    await envsync(a, ['push', 'production', '--yes'], '2026-11-03T10:03:00Z')
    for (const [dir, who] of [[a, 'Ada'], [b, 'Bob']]) {
      git(root, dir, 'add', '.envsync')
      git(root, dir, 'commit', '-q', '-m', `${who} pushed production`)
    }
    git(root, a, 'push', '-q', 'origin', 'HEAD')
    git(root, b, 'pull', '-q', '--no-edit', 'origin', 'HEAD')
    expect(readFileSync(path.join(b, '.envsync/history.jsonl'), 'utf8')).to.not.match(/^[<=>]{7}/m)
    git(root, b, 'push', '-q', 'origin', 'HEAD')
    git(root, a, 'pull', '-q', '--no-edit', 'origin', 'HEAD')

    const expected = [
      ['2026-11-03 10:05', 'Bob <bob@shop.test>', 'production', 'push', 'docker secrets/production', '+DB_PASSWORD +JWT_SECRET', 'applied'],
      ['2026-11-03 10:03', 'Ada <ada@shop.test>', 'production', 'push', 'docker secrets/production', '~JWT_SECRET', 'applied'],
      ['2026-11-03 10:02', 'Ada <ada@shop.test>', 'production', 'generate', '.env.production', 'JWT_SECRET'],
      ['2026-11-03 10:00', 'Bob <bob@shop.test>', 'production', 'generate', '.env.production', 'JWT_SECRET DB_PASSWORD'],
      ['2026-11-02 09:01', 'Ada <ada@shop.test>', 'production', 'push', 'docker secrets/production', '+DB_PASSWORD +JWT_SECRET', 'applied'],
      ['2026-11-02 09:00', 'Ada <ada@shop.test>', 'production', 'generate', '.env.production', 'JWT_SECRET DB_PASSWORD'],
    ]
    for (const dir of [a, b]) {
      const log = await envsync(dir, ['log'], '2026-11-04T00:00:00Z')
      expect(rows(log.stdout), dir).to.deep.equal(expected)
      expect(historyOf(dir), 'the merged file holds each line once').to.have.length(6)
    }
    expect(readFileSync(path.join(a, '.envsync/history.jsonl'), 'utf8')).to.equal(readFileSync(path.join(b, '.envsync/history.jsonl'), 'utf8'))

    const values = [a, b].flatMap((dir) => readFileSync(path.join(dir, '.env.production'), 'utf8').split('\n').map((l) => l.slice(l.indexOf('=') + 1)).filter((v) => v.length >= 16))
    assertNoLeak(values, ...outputs, readFileSync(path.join(a, '.envsync/history.jsonl'), 'utf8'))
  })
})
