/**
 * `envsync init`, interactive: questions go through the prompt seam (src/ui/prompt.ts). A scripted
 * Prompter checks each question's message, default and choices and answers it; a second Prompter
 * renders the REAL @inquirer/prompts widgets with @inquirer/testing and drives them with keypresses.
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {checkbox as realCheckbox, input as realInput, select as realSelect} from '@inquirer/prompts'
import {render} from '@inquirer/testing'
import {expect} from 'chai'

import {writeProject} from '../../src/init/init.js'
import {askAnswers} from '../../src/init/questions.js'
import {setPrompter, type Choice, type Prompter} from '../../src/ui/prompt.js'
import {assertNoLeak} from '../helpers/canary.js'
import {ALL_KEYS, allValues, assertProject, RECOMMENDED, readEnv, runSrc, ScriptedPrompter, snapshot, TempDirs, type Step} from './support.js'

const TARGET_KINDS = ['docker', 'kubernetes', 'railway', 'render']
const Q = {
  project: 'Project name',
  services: 'Services (comma-separated)',
  public: 'Which services are bundled into the browser (public)?',
  environments: 'Environments (comma-separated)',
  secrets: 'Secrets to manage',
  target: (env: string) => `Where is ${env} deployed?`,
  protected: 'Which environments are protected (a push there needs its name typed)?',
  write: 'Write these files?',
}
const WRITE: Step = {kind: 'select', message: Q.write, answer: 'write'}

/** The whole default question list for a directory, each answered with its default. */
function defaultSteps(dir: string): Step[] {
  return [
    {kind: 'input', message: Q.project, default: path.basename(dir).toLowerCase()},
    {kind: 'input', message: Q.services, default: 'backend, frontend'},
    {kind: 'checkbox', message: Q.public, values: ['backend', 'frontend'], checked: ['frontend']},
    {kind: 'input', message: Q.environments, default: 'development, staging, production'},
    {kind: 'checkbox', message: Q.secrets, values: ALL_KEYS, checked: RECOMMENDED, required: true},
    ...['development', 'staging', 'production'].map((env): Step => ({kind: 'checkbox', message: Q.target(env), values: TARGET_KINDS, checked: ['docker']})),
    {kind: 'checkbox', message: Q.protected, values: ['development', 'staging', 'production'], checked: ['production']},
    WRITE,
  ]
}

describe('init: interactive questions (scripted prompter)', function () {
  this.timeout(15_000)
  const dirs = new TempDirs()
  afterEach(() => {
    setPrompter(undefined)
    dirs.cleanup()
  })

  it('asks every question with the right defaults and writes what was answered', async () => {
    const dir = dirs.make()
    const chosen = ['JWT_SECRET', 'SESSION_SECRET', 'TWOFA_ENCRYPTION_KEY', 'DB_PASSWORD', 'GRAFANA_ADMIN_PASSWORD', 'SENTRY_DSN']
    const p = new ScriptedPrompter([
      {
        kind: 'input',
        message: Q.project,
        default: path.basename(dir).toLowerCase(),
        answer: 'shop',
        accepts: ['shop', 'my-shop2', '  shop  '],
        rejects: [
          // The reason the flag gives (--project "my shop"), word for word.
          ['Shop', /^invalid project name "Shop": project names are lowercase letters, digits and '-', e\.g\. "shop"$/],
          ['my shop', /^invalid project name "my shop": project names are lowercase letters, digits and '-', e\.g\. "my-shop"$/],
          ['shop,extra', /^invalid project name "shop,extra": .* e\.g\. "shop-extra"$/],
          ['shop_1', /invalid project name "shop_1"/],
        ],
      },
      {
        kind: 'input',
        message: Q.services,
        default: 'backend, frontend',
        answer: 'api, web, worker, monitoring',
        accepts: ['api', 'api,web', 'api, web'],
        rejects: [
          ['Api', /^invalid service name "Api": service names are lowercase letters, digits and '-', e\.g\. "api"$/],
          ['api, web_ui', /invalid service name "web_ui": .* e\.g\. "web-ui"$/],
          ['', /needs at least one/],
        ],
      },
      // The public guess comes from the services just typed (web), not the defaults.
      {kind: 'checkbox', message: Q.public, values: ['api', 'web', 'worker', 'monitoring'], checked: ['web'], answer: ['web']},
      {
        kind: 'input',
        message: Q.environments,
        default: 'development, staging, production',
        answer: 'development, production',
        rejects: [['Prod', /invalid environment name "Prod"/]],
      },
      {kind: 'checkbox', message: Q.secrets, values: ALL_KEYS, checked: RECOMMENDED, required: true, answer: chosen},
      {kind: 'checkbox', message: Q.target('development'), values: TARGET_KINDS, checked: ['docker'], answer: ['docker']},
      {kind: 'checkbox', message: Q.target('production'), values: TARGET_KINDS, checked: ['docker'], answer: ['docker', 'kubernetes']},
      {kind: 'checkbox', message: Q.protected, values: ['development', 'production'], checked: ['production']},
      WRITE,
    ])
    setPrompter(p)
    const r = await runSrc('init', ['--dir', dir])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(p.remaining(), 'questions not asked').to.deep.equal([])
    expect(r.stdout).to.include('envsync set up in')

    // Choice labels tell the recipe and rotation; the description says what the secret is for.
    const secretChoices = p.checkboxes.get(Q.secrets) as Choice<string>[]
    const jwt = secretChoices.find((c) => c.value === 'JWT_SECRET')!
    expect(jwt.name).to.match(/^JWT_SECRET\s+generate base64:48, rotate 90d$/)
    expect(jwt.description).to.equal('Signs access tokens (HS256)')
    expect(secretChoices.find((c) => c.value === 'SMTP_PASSWORD')!.name).to.match(/set by hand, rotate 1y$/)

    const {manifest, values} = assertProject(dir, {
      project: 'shop',
      services: {api: {public: false}, web: {public: true}, worker: {public: false}, monitoring: {public: false}},
      environments: ['development', 'production'],
      secrets: chosen,
      targets: {development: ['docker'], production: ['docker', 'kubernetes']},
    })
    // Roles: API-only secrets on the API, server secrets on every server, ops on observability.
    expect(manifest.secret('JWT_SECRET')!.services).to.deep.equal(['api'])
    expect(manifest.secret('DB_PASSWORD')!.services).to.deep.equal(['api', 'worker'])
    expect(manifest.secret('GRAFANA_ADMIN_PASSWORD')!.services).to.deep.equal(['monitoring'])
    expect(manifest.secret('SENTRY_DSN')!.required).to.equal(false)
    expect(manifest.environment('production').targets?.kubernetes?.namespace).to.equal('shop')
    // Keys without a recipe get no value: init does not invent a Sentry DSN.
    expect(values.development).to.not.have.property('SENTRY_DSN')
    expect(Object.keys(values.production).sort()).to.deep.equal(['DB_PASSWORD', 'GRAFANA_ADMIN_PASSWORD', 'JWT_SECRET', 'SESSION_SECRET', 'TWOFA_ENCRYPTION_KEY'])
    expect(values.development.TWOFA_ENCRYPTION_KEY).to.match(/^[0-9a-f]{64}$/)
    assertNoLeak(allValues(dir, ['development', 'production']), r.stdout, r.stderr)
  })

  it('offers the flags given on the command line as the defaults', async () => {
    const dir = dirs.make()
    const p = new ScriptedPrompter([
      {kind: 'input', message: Q.project, default: 'billing'},
      {kind: 'input', message: Q.services, default: 'api, admin'},
      // --public admin: "admin" is not a name init would guess, so only the flag can check it.
      {kind: 'checkbox', message: Q.public, values: ['api', 'admin'], checked: ['admin']},
      {kind: 'input', message: Q.environments, default: 'dev, prod'},
      {kind: 'checkbox', message: Q.secrets, checked: ['JWT_SECRET', 'TWOFA_ENCRYPTION_KEY']},
      {kind: 'checkbox', message: Q.target('dev'), checked: ['docker']},
      {kind: 'checkbox', message: Q.target('prod'), checked: ['kubernetes', 'render']},
      // "prod" means production: pre-checked without --protected.
      {kind: 'checkbox', message: Q.protected, values: ['dev', 'prod'], checked: ['prod']},
      WRITE,
    ])
    setPrompter(p)
    const r = await runSrc('init', [
      '--dir', dir, '--project', 'billing', '--services', 'api,admin', '--public', 'admin',
      '--environments', 'dev,prod', '--secrets', 'JWT_SECRET,TWOFA_ENCRYPTION_KEY', '--targets', 'prod=kubernetes+render',
    ])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(p.remaining()).to.deep.equal([])
    assertProject(dir, {
      project: 'billing',
      services: {api: {public: false}, admin: {public: true}},
      environments: ['dev', 'prod'],
      secrets: ['JWT_SECRET', 'TWOFA_ENCRYPTION_KEY'],
      targets: {dev: ['docker'], prod: ['kubernetes', 'render']},
    })
  })

  it('rejects bad flags before asking anything', async () => {
    const dir = dirs.make()
    const p = new ScriptedPrompter([])
    setPrompter(p)
    const r = await runSrc('init', ['--dir', dir, '--targets', 'production=kubernets'])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('unknown target "kubernets"').and.include('did you mean "kubernetes"?')
    expect(p.asked).to.deep.equal([])
    expect(snapshot(dir)).to.deep.equal({})
  })

  it('askAnswers + writeProject: the answers are what gets written', async () => {
    const dir = path.join(dirs.make(), 'nested', 'app')
    const p = new ScriptedPrompter(defaultSteps(dir))
    const shown: unknown[] = []
    const answers = await askAnswers(p, {}, dir, {show: (s) => shown.push(s)})
    expect(shown, 'one summary before the last question').to.have.length(1)
    expect(answers).to.deep.equal({
      project: 'app',
      services: [{name: 'backend', public: false}, {name: 'frontend', public: true}],
      environments: ['development', 'staging', 'production'],
      secrets: RECOMMENDED,
      targets: {development: ['docker'], staging: ['docker'], production: ['docker']},
      protected: ['production'],
    })
    expect(existsSync(dir), 'asking writes nothing').to.equal(false)
    const result = await writeProject(dir, answers, false)
    expect(result.environments.map((e) => [e.environment, e.generated])).to.deep.equal([
      ['development', RECOMMENDED.length],
      ['staging', RECOMMENDED.length],
      ['production', RECOMMENDED.length],
    ])
    expect(result.gitignore).to.deep.equal(['.env', '.env.*', '!.env.example', 'secrets/'])
    assertProject(dir, {
      project: 'app',
      services: {backend: {public: false}, frontend: {public: true}},
      environments: ['development', 'staging', 'production'],
      secrets: RECOMMENDED,
      targets: {development: ['docker'], staging: ['docker'], production: ['docker']},
    })
  })

  it('refuses to overwrite an existing manifest without --force: exit 2, nothing asked, nothing changed', async () => {
    const dir = dirs.make()
    writeFileSync(path.join(dir, 'envsync.yaml'), 'version: 1\nproject: mine\n')
    writeFileSync(path.join(dir, '.env.development'), 'JWT_SECRET=keep\n', {mode: 0o600})
    const before = snapshot(dir)
    const p = new ScriptedPrompter([])
    setPrompter(p)
    const r = await runSrc('init', ['--dir', dir])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('envsync.yaml already exists').and.include('--force')
    expect(p.asked, 'questions asked before refusing').to.deep.equal([])
    expect(snapshot(dir)).to.deep.equal(before)
  })

  it('with --force keeps existing values and generates only the missing ones', async () => {
    const dir = dirs.make()
    const first = await runSrc('init', ['--yes', '--dir', dir, '--environments', 'development,production'])
    expect(first.exitCode, first.stderr).to.equal(0)
    const devBefore = readEnv(path.join(dir, '.env.development'))
    const prodBefore = readEnv(path.join(dir, '.env.production'))
    // The user removed one value and added a line of their own.
    const prodFile = path.join(dir, '.env.production')
    const prodText = readFileSync(prodFile, 'utf8').replace(/^DB_PASSWORD=.*\n/m, '') + 'MY_OWN=hand-set value\n'
    writeFileSync(prodFile, prodText, {mode: 0o600})
    const gitignoreBefore = readFileSync(path.join(dir, '.gitignore'), 'utf8')

    const steps = defaultSteps(dir).filter((s) => !s.message.includes('staging'))
    // The defaults are the manifest being replaced (two environments), not init's own.
    steps[3] = {kind: 'input', message: Q.environments, default: 'development, production'}
    steps[steps.length - 2] = {kind: 'checkbox', message: Q.protected, values: ['development', 'production'], checked: ['production']}
    steps[4] = {kind: 'checkbox', message: Q.secrets, checked: RECOMMENDED, answer: [...RECOMMENDED, 'TWOFA_ENCRYPTION_KEY']}
    setPrompter(new ScriptedPrompter(steps))
    const r = await runSrc('init', ['--dir', dir, '--force'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/development\s+\S*\.env\.development \(1 generated\)/)
    expect(r.stdout).to.match(/production\s+\S*\.env\.production \(2 generated\)/)

    const {values} = assertProject(dir, {
      project: path.basename(dir).toLowerCase(),
      services: {backend: {public: false}, frontend: {public: true}},
      environments: ['development', 'production'],
      secrets: [...RECOMMENDED, 'TWOFA_ENCRYPTION_KEY'],
      targets: {development: ['docker'], production: ['docker']},
    })
    for (const [k, v] of Object.entries(devBefore)) expect(values.development[k], `development ${k} kept`).to.equal(v)
    for (const [k, v] of Object.entries(prodBefore)) {
      if (k === 'DB_PASSWORD') expect(values.production[k], 'regenerated DB_PASSWORD is new').to.not.equal(v)
      else expect(values.production[k], `production ${k} kept`).to.equal(v)
    }
    expect(values.production.MY_OWN).to.equal('hand-set value')
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8'), '.gitignore unchanged on a rerun').to.equal(gitignoreBefore)
  })

  it('appends to an existing .gitignore, keeping its lines and adding each entry once', async () => {
    const dir = dirs.make()
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n.env\ndist') // no final newline
    setPrompter(new ScriptedPrompter(defaultSteps(dir)))
    const r = await runSrc('init', ['--dir', dir])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('added .env.* !.env.example secrets/')
    const lines = readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')
    expect(lines.slice(0, 3)).to.deep.equal(['node_modules/', '.env', 'dist'])
    for (const l of ['.env', '.env.*', '!.env.example', 'secrets/']) expect(lines.filter((x) => x === l), l).to.have.length(1)
    expect(lines.at(-1), 'ends with a newline').to.equal('')
  })

  for (const at of [Q.project, Q.secrets, Q.target('production'), Q.protected]) {
    it(`Ctrl-C at "${at}" exits 130 and writes nothing`, async () => {
      const parent = dirs.make()
      const dir = path.join(parent, 'new-project')
      const steps = defaultSteps(dir)
      const i = steps.findIndex((s) => s.message === at)
      setPrompter(new ScriptedPrompter([...steps.slice(0, i), {kind: 'abort', message: at}]))
      const r = await runSrc('init', ['--dir', dir])
      expect(r.exitCode).to.equal(130)
      expect(r.stderr).to.include('aborted: nothing was changed')
      expect(r.stderr).to.not.match(/\n\s+at /) // no stack trace
      expect(existsSync(dir), 'the project directory was created').to.equal(false)
      expect(snapshot(parent)).to.deep.equal({})
    })
  }

  it('Ctrl-C in an existing directory leaves its files as they were', async () => {
    const dir = dirs.make()
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n')
    writeFileSync(path.join(dir, '.env.development'), 'OLD=1\n', {mode: 0o600})
    const before = snapshot(dir)
    const steps = defaultSteps(dir)
    setPrompter(new ScriptedPrompter([...steps.slice(0, -1), {kind: 'abort', message: Q.write}]))
    const r = await runSrc('init', ['--dir', dir])
    expect(r.exitCode).to.equal(130)
    expect(snapshot(dir)).to.deep.equal(before)
  })
})

// -------------------------------------------------------------------------------------------------
// The real @inquirer/prompts widgets, driven by keypresses through @inquirer/testing.

type Screen = Awaited<ReturnType<typeof render>>
type Driver = (s: Screen) => Promise<void>

/** Waits for a prompt's answer, failing (not hanging) if the keys sent did not submit it. */
async function answered<T>(s: Screen, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`prompt not answered; screen:\n${s.getScreen()}`)), ms)
  })
  try {
    return (await Promise.race([s.answer, timeout])) as T
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A Prompter that renders the real input/checkbox prompts (with the options src/ui/prompt.ts
 * gives them) on a virtual terminal, and lets a driver per question press keys.
 */
class RenderPrompter implements Prompter {
  readonly answers = new Map<string, unknown>()
  private readonly drivers: [string, Driver][]

  constructor(drivers: [string, Driver][]) {
    this.drivers = [...drivers]
  }

  private async drive<T>(message: string, s: Screen): Promise<T> {
    const next = this.drivers.shift()
    expect(next, `no driver for "${message}"`).to.not.equal(undefined)
    expect(message).to.equal(next![0])
    expect(s.getScreen()).to.include(message)
    await next![1](s)
    const answer = await answered<T>(s)
    this.answers.set(message, answer)
    return answer
  }

  async input(o: {message: string; default?: string; validate?: (v: string) => true | string}): Promise<string> {
    return this.drive(o.message, await render(realInput, o))
  }

  async confirm(): Promise<boolean> {
    expect.fail('init asks no yes/no question')
  }

  async checkbox<T>(o: {message: string; choices: Choice<T>[]; required?: boolean}): Promise<T[]> {
    // Same options as the real prompter in src/ui/prompt.ts.
    const prompt = realCheckbox as unknown as Parameters<typeof render>[0]
    return this.drive(o.message, await render(prompt, {...o, pageSize: 15, loop: false}))
  }

  async select<T>(o: {message: string; choices: Omit<Choice<T>, 'checked'>[]}): Promise<T> {
    const prompt = realSelect as unknown as Parameters<typeof render>[0]
    return this.drive(o.message, await render(prompt, {...o, pageSize: 15, loop: false}))
  }

  remaining(): string[] {
    return this.drivers.map(([m]) => m)
  }
}

const press = (s: Screen, ...keys: string[]) => {
  for (const k of keys) s.events.keypress(k)
}
const line = (s: Screen, key: string) => s.getScreen().split('\n').find((l) => new RegExp(`[◉◯]\\s${key}\\b`).test(l)) ?? ''
const isChecked = (s: Screen, key: string) => line(s, key).includes('◉')
const enter: Driver = async (s) => press(s, 'enter')

describe('init: interactive questions (real @inquirer/prompts via @inquirer/testing)', function () {
  this.timeout(15_000)
  const dirs = new TempDirs()
  afterEach(() => {
    setPrompter(undefined)
    dirs.cleanup()
  })

  it('keypresses pick the secrets, and init writes exactly what the checkbox returned', async () => {
    const dir = dirs.make()
    const p = new RenderPrompter([
      [
        Q.project,
        async (s) => {
          expect(s.getScreen()).to.include(`(${path.basename(dir).toLowerCase()})`)
          s.events.type('Bad Name')
          press(s, 'enter')
          await s.nextRender()
          expect(s.getScreen(), 'validation message on screen').to.include(`invalid project name "Bad Name": project names are lowercase letters, digits and '-', e.g. "bad-name"`)
          // Clear the line (the default is only used when the line is empty) and type a good name.
          for (let i = 0; i < 'Bad Name'.length; i++) press(s, 'backspace')
          s.events.type('keyshop')
          press(s, 'enter')
        },
      ],
      [Q.services, enter],
      [
        Q.public,
        async (s) => {
          expect(isChecked(s, 'frontend')).to.equal(true)
          expect(isChecked(s, 'backend')).to.equal(false)
          press(s, 'enter')
        },
      ],
      [
        Q.environments,
        async (s) => {
          s.events.type('development, production')
          press(s, 'enter')
        },
      ],
      [
        Q.secrets,
        async (s) => {
          // Recommended ones pre-checked (15 rows on screen: pageSize), the cursor on the first
          // with its description below.
          expect(line(s, 'SENTRY_DSN'), 'the 18th choice is below the page').to.equal('')
          for (const k of ALL_KEYS.slice(0, 15)) expect(isChecked(s, k), `${k} pre-checked`).to.equal(RECOMMENDED.includes(k))
          expect(line(s, 'JWT_SECRET')).to.match(/^❯/)
          expect(s.getScreen()).to.include('Signs access tokens (HS256)')
          // "a" twice: select all, then none; Enter must then refuse (required: true).
          press(s, 'a')
          for (const k of ALL_KEYS.slice(0, 15)) expect(isChecked(s, k), `${k} after "a"`).to.equal(true)
          press(s, 'a', 'enter')
          await s.nextRender()
          expect(s.getScreen()).to.include('At least one choice must be selected')
          // Down to TWOFA_ENCRYPTION_KEY (4th): its description shows; space selects it.
          press(s, 'down', 'down', 'down')
          expect(line(s, 'TWOFA_ENCRYPTION_KEY')).to.match(/^❯/)
          expect(s.getScreen()).to.include('AES-256 key for stored TOTP seeds')
          press(s, 'space')
          expect(isChecked(s, 'TWOFA_ENCRYPTION_KEY')).to.equal(true)
          // Two more down to DB_PASSWORD (6th) and select it.
          press(s, 'down', 'down', 'space')
          expect(isChecked(s, 'DB_PASSWORD')).to.equal(true)
          // A number key toggles that choice and moves the cursor there: "1" twice leaves JWT_SECRET off.
          press(s, '1')
          expect(isChecked(s, 'JWT_SECRET'), '"1" toggles the first choice').to.equal(true)
          expect(line(s, 'JWT_SECRET')).to.match(/^❯/)
          press(s, '1')
          expect(isChecked(s, 'JWT_SECRET')).to.equal(false)
          // From the top, one down: JWT_REFRESH_SECRET (2nd).
          press(s, 'down', 'space')
          expect(isChecked(s, 'JWT_REFRESH_SECRET')).to.equal(true)
          press(s, 'enter')
        },
      ],
      [Q.target('development'), enter],
      [
        Q.target('production'),
        async (s) => {
          press(s, 'down', 'space') // + kubernetes
          expect(isChecked(s, 'kubernetes')).to.equal(true)
          expect(isChecked(s, 'docker')).to.equal(true)
          press(s, 'enter')
        },
      ],
      [
        Q.protected,
        async (s) => {
          expect(isChecked(s, 'production'), 'production pre-checked').to.equal(true)
          expect(isChecked(s, 'development')).to.equal(false)
          press(s, 'space', 'enter') // + development
        },
      ],
      [Q.write, enter], // the first choice: Write
    ])
    setPrompter(p)
    const r = await runSrc('init', ['--dir', dir])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(p.remaining()).to.deep.equal([])

    const picked = ['JWT_REFRESH_SECRET', 'TWOFA_ENCRYPTION_KEY', 'DB_PASSWORD']
    expect(p.answers.get(Q.project)).to.equal('keyshop')
    expect(p.answers.get(Q.secrets), 'what the checkbox returned').to.deep.equal(picked)
    expect(p.answers.get(Q.target('production'))).to.deep.equal(['docker', 'kubernetes'])
    assertProject(dir, {
      project: 'keyshop',
      services: {backend: {public: false}, frontend: {public: true}},
      environments: ['development', 'production'],
      secrets: picked,
      targets: {development: ['docker'], production: ['docker', 'kubernetes']},
      protected: ['development', 'production'],
    })
    assertNoLeak(allValues(dir, ['development', 'production']), r.stdout, r.stderr)
  })

  it('Ctrl-C in the real prompt is an ExitPromptError: exit 130, nothing written', async () => {
    const dir = path.join(dirs.make(), 'p')
    mkdirSync(dir)
    const p = new RenderPrompter([
      [Q.project, enter],
      [
        Q.services,
        async (s) => {
          s.events.keypress({name: 'c', ctrl: true})
        },
      ],
    ])
    setPrompter(p)
    const r = await runSrc('init', ['--dir', dir])
    expect(r.exitCode).to.equal(130)
    expect(r.stderr).to.include('aborted: nothing was changed')
    expect(snapshot(dir)).to.deep.equal({})
  })
})
