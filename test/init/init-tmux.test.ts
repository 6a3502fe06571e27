/**
 * `envsync init` end to end in a real pseudo-terminal: the built binary runs inside a detached
 * tmux session (private socket, fixed size), the test reads the screen with capture-pane and
 * answers with send-keys, exactly as a person at a terminal would.
 */
import path from 'node:path'

import {expect} from 'chai'

import type {TmuxSession} from '../cli/tmux.js'
import {assertProject, currentPrompt, RECOMMENDED, requireTerminal, snapshot, startInit, TempDirs} from './support.js'

describe('init in a terminal (tmux)', function () {
  this.timeout(30_000)
  const dirs = new TempDirs()
  let session: TmuxSession | undefined

  before(function () {
    requireTerminal(this, 'the terminal test of `envsync init` (tmux)')
  })

  afterEach(() => {
    session?.kill()
    session = undefined
    dirs.cleanup()
  })

  const start = (dir: string) => (session = startInit(['--dir', dir]))

  it('answers the questions with keys and writes a working project', async () => {
    const dir = dirs.make('envsync-tmux-')
    const t = start(dir)

    await t.waitFor(`? Project name (${path.basename(dir).toLowerCase()})`)
    t.type('termshop')
    t.keys('Enter')

    await t.waitFor('? Services (comma-separated) (backend, frontend)')
    t.keys('Enter') // accept the default

    let s = await t.waitFor('? Which services are bundled into the browser (public)?')
    expect(currentPrompt(s)).to.match(/◉ frontend/).and.match(/◯ backend/)
    t.keys('Enter')

    await t.waitFor('? Environments (comma-separated) (development, staging, production)')
    t.type('development, production')
    t.keys('Enter')

    s = await t.waitFor('? Secrets to manage')
    const prompt = currentPrompt(s)
    expect(prompt).to.match(/❯◉ JWT_SECRET\s+generate base64:48, rotate 90d/)
    expect(prompt).to.match(/◯ TWOFA_ENCRYPTION_KEY/)
    expect(prompt).to.include('Signs access tokens (HS256)')
    // Down to TWOFA_ENCRYPTION_KEY (4th) and select it with space.
    t.keys('Down', 'Down', 'Down', 'Space')
    await t.waitFor(/❯◉ TWOFA_ENCRYPTION_KEY/)
    // Down to REDIS_PASSWORD (8th) and unselect it.
    t.keys('Down', 'Down', 'Down', 'Down', 'Space')
    await t.waitFor(/❯◯ REDIS_PASSWORD/)
    t.keys('Enter')

    s = await t.waitFor('? Where is development deployed?')
    expect(currentPrompt(s)).to.match(/❯◉ docker/).and.match(/◯ kubernetes/)
    t.keys('Enter')

    await t.waitFor('? Where is production deployed?')
    t.keys('Down', 'Space') // + kubernetes
    await t.waitFor(/❯◉ kubernetes/)
    t.keys('Enter')

    s = await t.waitFor('? Which environments are protected')
    expect(currentPrompt(s)).to.match(/◯ development/).and.match(/◉ production/)
    t.keys('Enter')

    // The summary, then the last step: Enter on its first choice, Write.
    s = await t.waitFor('? Write these files?')
    expect(currentPrompt(s)).to.match(/❯ Write/)
    t.keys('Enter')

    s = await t.waitFor(/__EXIT_\d+__/)
    expect(s, s).to.include('__EXIT_0__')
    expect(s).to.include('envsync set up in')
    // The answer line lists the selection (inquirer wraps it itself).
    expect(s).to.match(/✔ Secrets to manage [^?]*TWOFA_ENCRYPTION_KEY[^?]*✔ Where is development deployed\? docker\n/)
    expect(s).to.match(/✔ Which environments are protected \(a push there needs its name typed\)\? production\n/)
    expect(s).to.not.match(/✔ Secrets to manage [^?]*REDIS_PASSWORD[^?]*✔ Where is development/)

    const secrets = [...RECOMMENDED.slice(0, 3), 'TWOFA_ENCRYPTION_KEY', ...RECOMMENDED.slice(3).filter((k) => k !== 'REDIS_PASSWORD')]
    const {values} = assertProject(dir, {
      project: 'termshop',
      services: {backend: {public: false}, frontend: {public: true}},
      environments: ['development', 'production'],
      secrets,
      targets: {development: ['docker'], production: ['docker', 'kubernetes']},
    })
    expect(Object.keys(values.production).sort()).to.deep.equal([...secrets].sort())
    // No value reached the terminal.
    for (const v of Object.values(values).flatMap((m) => Object.values(m))) expect(s.includes(v), 'a value on screen').to.equal(false)
  })

  it('Ctrl-C at a prompt exits 130 and writes nothing', async () => {
    const parent = dirs.make('envsync-tmux-')
    const dir = path.join(parent, 'app')
    const t = start(dir)
    await t.waitFor('? Project name (app)')
    t.keys('Enter')
    await t.waitFor('? Services (comma-separated)')
    t.keys('Enter')
    await t.waitFor('? Which services are bundled')
    t.keys('Enter')
    await t.waitFor('? Environments (comma-separated)')
    t.keys('Enter')
    await t.waitFor('? Secrets to manage')
    t.keys('C-c')
    const s = await t.waitFor(/__EXIT_\d+__/)
    expect(s, s).to.include('__EXIT_130__')
    expect(s).to.include('aborted: nothing was changed')
    expect(s).to.not.match(/\n\s+at /)
    expect(snapshot(parent)).to.deep.equal({})
  })
})
