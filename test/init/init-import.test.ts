/**
 * init adopts the .env a team arrives with: in a terminal it offers the one it finds (into
 * development by default), in scripts --import FILE[:ENV]. The team's values win over freshly
 * generated ones, the file is left as it was, and init no longer git-ignores .envsync/ (shared
 * state now): --force takes out the line an older init wrote.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {TmuxSession} from '../cli/tmux.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {readEnv, requireTerminal, runBinTimed, startInit, TempDirs} from './support.js'

describe('init adopting an existing .env', function () {
  this.timeout(40_000)
  const dirs = new TempDirs()
  let session: TmuxSession | undefined
  afterEach(() => {
    session?.kill()
    session = undefined
    dirs.cleanup()
  })

  /** A project directory with the .env a team had before envsync. */
  function withDotenv(): {dir: string; jwt: string; legacy: string; source: string} {
    const dir = dirs.make('envsync-init-import-')
    const jwt = canary('JWT')
    const legacy = canary('LEGACY')
    const source = `JWT_SECRET=${jwt}\nLEGACY_TOKEN=${legacy}\n`
    writeFileSync(path.join(dir, '.env'), source, {mode: 0o644})
    return {dir, jwt, legacy, source}
  }

  it('in a terminal: after the answers it offers the .env it found, into development by default', async function () {
    requireTerminal(this, 'the terminal test of `envsync init` (tmux)')
    const {dir, jwt, legacy, source} = withDotenv()
    const t = (session = startInit(['--dir', dir, '--environments', 'development,production']))
    // Every question at its default, then Write.
    for (const q of ['Project name', 'Services (comma-separated)', 'Which services are bundled', 'Environments (comma-separated)', 'Secrets to manage', 'Where is development deployed?', 'Where is production deployed?', 'Which environments are protected', 'Write these files?']) {
      await t.waitFor(`? ${q}`)
      t.keys('Enter')
    }
    await t.waitFor(`? Found ${path.join(dir, '.env')}: import its values into an environment's store? (Y/n)`)
    t.keys('Enter')
    const menu = await t.waitFor(`? Import ${path.join(dir, '.env')} into`)
    expect(menu).to.match(/❯ development\n\s+production/)
    t.keys('Enter')
    const s = await t.waitFor(/__EXIT_\d+__/)
    expect(s, s).to.include('__EXIT_0__')
    expect(s).to.match(/JWT_SECRET\s+imported/)
    expect(readEnv(path.join(dir, '.env.development')).JWT_SECRET).to.equal(jwt)
    expect(readEnv(path.join(dir, '.env.production')).JWT_SECRET).to.not.equal(jwt)
    expect(readFileSync(path.join(dir, '.env'), 'utf8')).to.equal(source)
    assertNoLeak([jwt, legacy], s)
  })

  it('--import FILE[:ENV]: the team\'s values win over generated ones; keys the manifest lacks are proposed, not written', async () => {
    const {dir, jwt, legacy, source} = withDotenv()
    const r = await runBinTimed(['init', '--yes', '--dir', dir, '--environments', 'development,staging', '--import', `${path.join(dir, '.env')}:staging`])
    expect(r.exitCode, r.stderr).to.equal(0)
    const staging = readEnv(path.join(dir, '.env.staging'))
    expect(staging.JWT_SECRET).to.equal(jwt)
    expect(staging).to.not.have.property('LEGACY_TOKEN')
    expect(Object.keys(staging).length, 'the rest generated').to.be.above(1)
    expect(readEnv(path.join(dir, '.env.development')).JWT_SECRET).to.not.equal(jwt)
    expect(r.stdout).to.include('LEGACY_TOKEN:\n      services: [backend]')
    expect(readFileSync(path.join(dir, '.env'), 'utf8')).to.equal(source)
    assertNoLeak([jwt, legacy], r.stdout, r.stderr)

    const bad = await runBinTimed(['init', '--yes', '--force', '--dir', dir, '--import', '.env:prod'], {cwd: dir})
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.include('"prod" is not one of the environments')
  })

  it('with --yes and a .env found, the next steps name the import; .envsync/ is no longer ignored, --force takes the old line out', async () => {
    const {dir, jwt} = withDotenv()
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n.envsync/\n.envsync/*.lock\n')
    const r = await runBinTimed(['init', '--yes', '--dir', dir], {cwd: dir})
    expect(r.exitCode, r.stderr).to.equal(0)
    // --overwrite: init generated JWT_SECRET just now; the command as shown must take the .env's.
    expect(r.stdout).to.match(/envsync import development \.env --overwrite\s+# adopt the values of the \.env found here/)
    const hinted = await runBinTimed(['import', 'development', '.env', '--overwrite'], {cwd: dir})
    expect(hinted.exitCode, hinted.stderr).to.equal(0)
    expect(readFileSync(path.join(dir, '.env.development'), 'utf8')).to.include(`JWT_SECRET=${jwt}`)
    assertNoLeak([jwt], hinted.stdout, hinted.stderr)
    // Without --force an existing .gitignore keeps its lines.
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).to.include('\n.envsync/\n')
    const again = await runBinTimed(['init', '--yes', '--force', '--dir', dir], {cwd: dir})
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.include('removed .envsync/ (.envsync/ holds shared state now: commit it)')
    const lines = readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')
    expect(lines).to.not.include('.envsync/')
    expect(lines).to.include.members(['node_modules/', '.envsync/*.lock', '.env', '.env.*', 'secrets/'])
  })
})
