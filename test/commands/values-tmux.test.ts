/**
 * set, get and run at a real terminal (tmux): the hidden prompt never shows the value, get warns
 * before printing one, and a protected environment wants its name typed before a command runs.
 */
import {readFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {sh, TmuxSession, tmuxAvailable} from '../cli/tmux.js'
import {assertNoLeak, canary} from '../helpers/canary.js'
import {BIN} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'
import {requireOrSkip} from '../helpers/not-run.js'

describe('set / get / run at a terminal (tmux)', function () {
  this.timeout(30_000)
  let p: TempProject
  let t: TmuxSession | undefined
  const start = (args: string[]) => {
    t = new TmuxSession()
    t.start(`cd ${sh(p.dir)} && env NO_COLOR=1 DEBUG= ${sh(process.execPath)} ${sh(BIN)} ${args.map(sh).join(' ')}`)
    return t
  }
  const values = (env: string) => dotenv.parse(readFileSync(p.path(`.env.${env}`)))

  before(function () {
    requireOrSkip(this, 'the terminal tests of set/get/run (tmux)', tmuxAvailable() ? undefined : 'tmux is not installed')
  })
  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest(`  API_TOKEN:\n    services: [backend]\n    required: false\n`))
  })
  afterEach(() => {
    t?.kill()
    t = undefined
    p.cleanup()
  })

  it('set asks twice at a hidden prompt: the screen shows a mask, never the value', async () => {
    const secret = canary('TYPED')
    const s = start(['set', 'development', 'API_TOKEN'])
    await s.waitFor('Value for API_TOKEN (hidden):')
    s.type(secret)
    s.keys('Enter')
    await s.waitFor('API_TOKEN again, to confirm:')
    s.type(secret)
    s.keys('Enter')
    const screen = await s.waitFor('__EXIT_0__')
    expect(screen).to.include('set API_TOKEN in .env.development (added, fingerprint')
    expect(screen).to.include('*'.repeat(secret.length))
    assertNoLeak([secret], screen)
    expect(values('development').API_TOKEN).to.equal(secret)
  })

  it('two different entries change nothing', async () => {
    const s = start(['set', 'development', 'API_TOKEN'])
    await s.waitFor('Value for API_TOKEN (hidden):')
    s.type(canary('ONE'))
    s.keys('Enter')
    await s.waitFor('API_TOKEN again, to confirm:')
    s.type(canary('TWO'))
    s.keys('Enter')
    const screen = await s.waitFor('__EXIT_2__')
    expect(screen).to.include('the two entries for API_TOKEN differ: nothing was changed')
    expect(() => readFileSync(p.path('.env.development'))).to.throw()
  })

  it('get on a terminal warns on stderr, then prints the value and a newline', async () => {
    const secret = canary('SHOWN')
    p.write('.env.development', `API_TOKEN=${secret}\n`)
    const s = start(['get', 'development', 'API_TOKEN'])
    const screen = await s.waitFor('__EXIT_0__')
    expect(screen).to.include('warning printing secret values to the terminal')
    expect(screen).to.include(`${secret}\n__EXIT_0__`)
  })

  it("run: Ctrl-C reaches the command once (from the terminal), envsync waits for it and passes its exit code", async () => {
    p.write('.env.development', `JWT_SECRET=${canary('J')}\nDATABASE_URL=postgres://app:pw@db:5432/shop\n`)
    const script = "let n = 0; process.on('SIGINT', () => { if (++n === 1) setTimeout(() => { console.log('interrupts:', n); process.exit(4) }, 500) }); console.log('ready'); setInterval(() => {}, 1000)"
    const s = start(['run', 'development', '--', process.execPath, '-e', script])
    await s.waitFor('ready')
    s.keys('C-c')
    const screen = await s.waitFor('__EXIT_4__')
    expect(screen).to.include('interrupts: 1')
  })

  it('run in a protected environment wants its name typed: a wrong answer runs nothing, the name runs CMD', async () => {
    p.write('.env.production', `JWT_SECRET=${canary('PJ')}\nDATABASE_URL=postgres://app:pw@db:5432/shop\n`)
    let s = start(['run', 'production', '--', 'sh', '-c', 'echo ran-the-command'])
    await s.waitFor('Type "production" to confirm:')
    s.type('prod')
    s.keys('Enter')
    let screen = await s.waitFor('__EXIT_130__')
    expect(screen).to.include('aborted: nothing was changed')
    expect(screen).to.not.include('ran-the-command')
    s.kill()

    s = start(['run', 'production', '--', 'sh', '-c', 'echo ran-the-command'])
    screen = await s.waitFor('Type "production" to confirm:')
    expect(screen).to.include('Run sh with 3 values in production.')
    s.type('production')
    s.keys('Enter')
    screen = await s.waitFor('__EXIT_0__')
    expect(screen).to.include('ran-the-command')
  })
})
