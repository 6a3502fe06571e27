/**
 * Shell completion: typed in a real bash (tmux), from the manifest; the completer on its own
 * (what the zsh and fish scripts call); and the --install step that edits the rc file once.
 */
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {BIN, runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {SHOP_MANIFEST as MANIFEST} from './support.js'
import {sh, tmuxAvailable, TmuxSession} from './tmux.js'


describe('shell completion', function () {
  this.timeout(60_000)
  let p: TempProject
  let home: string
  const complete = (words: string[], env: Record<string, string> = {}) => runBin(['__complete', '--', ...words], {cwd: p.dir, env: {HOME: home, ...env}})
  const lines = (stdout: string) => stdout.split('\n').filter(Boolean)

  beforeEach(() => {
    p = new TempProject('envsync-completion-')
    p.write('envsync.yaml', MANIFEST, 0o644)
    home = p.path('home')
    mkdirSync(home)
  })
  afterEach(() => p.cleanup())

  describe('in bash, in a real terminal', () => {
    let tmux: TmuxSession
    before(function () {
      if (!tmuxAvailable()) this.skip()
    })
    afterEach(() => tmux?.kill())

    /** A clean bash (no rc files) with the built envsync on PATH and its completion loaded. */
    async function shell(): Promise<void> {
      const bin = p.path('bin')
      mkdirSync(bin)
      writeFileSync(path.join(bin, 'envsync'), `#!/bin/sh\nexec ${sh(process.execPath)} ${sh(BIN)} "$@"\n`)
      chmodSync(path.join(bin, 'envsync'), 0o755)
      tmux = new TmuxSession()
      tmux.start(`cd ${sh(p.dir)} && env -i HOME=${sh(home)} PATH=${sh(`${bin}:/usr/bin:/bin`)} TERM=xterm NO_COLOR=1 PS1='$ ' bash --norc --noprofile`)
      await tmux.waitFor(/\$ $/m)
      tmux.type('eval "$(envsync completion bash)"; echo loaded-$?')
      tmux.keys('Enter')
      await tmux.waitFor('loaded-0')
    }
    /**
     * Types `text`, presses Tab (twice for a list), then types "@": keys are read in order, so
     * once the "@" shows, bash has finished the completion. Waits for `expected`, then empties the line and the screen.
     */
    async function tab(text: string, expected: RegExp, times = 1): Promise<string> {
      tmux.type(text)
      for (let i = 0; i < times; i++) tmux.keys('Tab')
      tmux.type('@')
      const screen = await tmux.waitFor(expected, 15_000)
      tmux.keys('C-u')
      await tmux.waitFor(/^\$ *$/m, 5000)
      tmux.clear()
      await tmux.waitFor(/^(?![\s\S]*@)/, 5000)
      return screen
    }

    it('completes flag names after a positional, flag values, environments and keys from the manifest', async () => {
      await shell()
      await tab('envsync push production --t', /^(\$ )?envsync push production --target @$/m)
      await tab('envsync push production --target ', /^aws\s+azure\s+docker\s+gcp\s+kubernetes\s+railway\s+render\s+vault *\n(\$ )?envsync push production --target @$/m, 2)
      await tab('envsync push --service ', /^backend\s+frontend\s+worker *\n(\$ )?envsync push --service @$/m, 2)
      await tab('envsync diff dev', /^(\$ )?envsync diff development @$/m)
      await tab('envsync push production --only QUE', /^(\$ )?envsync push production --only QUEUE_TOKEN @$/m)
      await tab('envsync push production -s backend,wo', /^(\$ )?envsync push production -s backend,worker @$/m)
      await tab('envsync pus', /^(\$ )?envsync push @$/m)
      await tab('envsync diff production --target=rail', /^(\$ )?envsync diff production --target=railway @$/m)
      await tab('envsync export development --out env', /^(\$ )?envsync export development --out envsync.yaml @$/m)
    })

    it('the new commands complete from their arguments: topics, environments, keys — from a subdirectory too', async () => {
      mkdirSync(p.path('services/api'), {recursive: true})
      await shell()
      await tab('envsync ke', /^(\$ )?envsync keys @$/m)
      await tab('envsync keys ad', /^(\$ )?envsync keys add @$/m)
      await tab('envsync keys add prod', /^(\$ )?envsync keys add production @$/m)
      await tab('envsync import dev', /^(\$ )?envsync import development @$/m)
      await tab('envsync set production QUE', /^(\$ )?envsync set production QUEUE_TOKEN @$/m)
      tmux.type('cd services/api; echo moved-$?')
      tmux.keys('Enter')
      await tmux.waitFor('moved-0')
      tmux.clear()
      await tab('envsync run dev', /^(\$ )?envsync run development @$/m)
    })

    it('a broken manifest completes nothing and prints nothing into the prompt', async () => {
      p.write('envsync.yaml', 'version: [1\n', 0o644)
      await shell()
      const screen = await tab('envsync push --service b', /^(\$ )?envsync push --service b@$/m, 2)
      expect(screen).to.not.match(/error|manifest/i)
    })
  })

  describe('the completer (what the bash, zsh and fish scripts call)', () => {
    it('environments, services, keys of the environment, options, flag names and commands', async () => {
      const cases: [string[], string[]][] = [
        [['push', ''], ['development', 'production']],
        [['push', 'production', '--t'], ['--target']],
        [['push', 'production', '--target', ''], ['docker', 'kubernetes', 'railway', 'render', 'aws', 'vault', 'gcp', 'azure']],
        [['push', '--service', ''], ['backend', 'frontend', 'worker']],
        [['push', 'production', '--service=w'], ['--service=worker']],
        [['pull', 'production', '--from', 'r'], ['railway', 'render']],
        [['pull', 'development', '--keys', 'API_TOKEN,'], ['API_TOKEN,QUEUE_TOKEN', 'API_TOKEN,VITE_URL', 'API_TOKEN,LOG_LEVEL']],
        [['export', 'development', '--format', ''], ['dotenv', 'json', 'k8s', 'compose', 'ecs']],
        [['generate', 'development', 'API_TOKEN', ''], ['QUEUE_TOKEN', 'VITE_URL', 'LOG_LEVEL']],
        [['completion', ''], ['bash', 'zsh', 'fish']],
        [['ver'], ['version']],
        [['push', '--manifest', ''], [':files']],
        // Derived from each command's arguments (environment, key, file): new commands need no list.
        [['check', ''], ['development', 'production']],
        [['import', ''], ['development', 'production']],
        [['import', 'development', ''], [':files']],
        [['set', 'production', ''], ['API_TOKEN', 'QUEUE_TOKEN', 'VITE_URL', 'LOG_LEVEL']],
        [['unset', 'development', 'LOG'], ['LOG_LEVEL']],
        [['status', 'development', ''], ['production']],
        [['keys', ''], ['add', 'generate', 'list', 'remove']],
        [['keys', 'add', ''], ['development', 'production']],
        [['ke'], ['keys']],
      ]
      for (const [words, expected] of cases) {
        const r = await complete(words)
        expect(r.exitCode, words.join(' ')).to.equal(0)
        expect(r.stderr, words.join(' ')).to.equal('')
        expect(lines(r.stdout), JSON.stringify(words)).to.have.members(expected)
      }
    })

    it('reads the manifest as the commands do: --manifest/-m, then ENVSYNC_MANIFEST', async () => {
      mkdirSync(p.path('other'))
      p.write('other/envsync.yaml', MANIFEST.replace('development:', 'qa:'), 0o644)
      expect(lines((await complete(['diff', '-m', 'other/envsync.yaml', ''])).stdout)).to.have.members(['qa', 'production'])
      expect(lines((await complete(['diff', '--manifest=other/envsync.yaml', ''])).stdout)).to.have.members(['qa', 'production'])
      expect(lines((await complete(['diff', ''], {ENVSYNC_MANIFEST: p.path('other/envsync.yaml')})).stdout)).to.have.members(['qa', 'production'])
    })

    it('finds the manifest as the commands do from a subdirectory: the nearest one up', async () => {
      mkdirSync(p.path('services/api/src'), {recursive: true})
      const r = await runBin(['__complete', '--', 'push', ''], {cwd: p.path('services/api/src'), env: {HOME: home}})
      expect(lines(r.stdout)).to.have.members(['development', 'production'])
    })

    it('a missing or broken manifest completes nothing, silently, exit 0', async () => {
      for (const manifest of ['version: [1\n', '']) {
        p.write('envsync.yaml', manifest, 0o644)
        const r = await complete(['push', '--service', ''])
        expect([r.exitCode, r.stdout, r.stderr]).to.deep.equal([0, '', ''])
      }
      const none = await complete(['push', ''], {ENVSYNC_MANIFEST: p.path('nowhere.yaml')})
      expect([none.exitCode, none.stdout, none.stderr]).to.deep.equal([0, '', ''])
    })

    it('the scripts: bash parses, zsh registers with compdef, each calls the completer bounded and quietly', async () => {
      for (const shell of ['bash', 'zsh', 'fish']) {
        const r = await runBin(['completion', shell], {cwd: p.dir, env: {HOME: home}})
        expect(r.exitCode, r.stderr).to.equal(0)
        expect(r.stdout).to.include('envsync __complete --')
        expect(r.stdout).to.include('2>/dev/null')
        if (shell !== 'fish') expect(r.stdout).to.include('timeout 2')
        if (shell === 'zsh') expect(r.stdout).to.match(/^compdef _envsync_complete envsync$/m)
        if (shell === 'bash') expect(spawnSync('bash', ['-n'], {input: r.stdout}).status).to.equal(0)
      }
      if (existsSync('/usr/bin/zsh')) expect(spawnSync('/usr/bin/zsh', ['-n'], {input: (await runBin(['completion', 'zsh'])).stdout}).status).to.equal(0)
    })
  })

  describe('completion --install', () => {
    const rc = () => path.join(home, '.bashrc')
    // Run from a folder of its own: messages name the rc file as ~/.bashrc wherever they ran.
    const cwd = () => {
      mkdirSync(p.path('work'), {recursive: true})
      return p.path('work')
    }

    it('without --install nothing is edited', async () => {
      const r = await runBin(['completion', 'bash'], {cwd: p.dir, env: {HOME: home}})
      expect(r.exitCode).to.equal(0)
      expect(existsSync(rc())).to.equal(false)
    })

    it('appends one marked line to ~/.bashrc, says so first; a second run changes nothing', async () => {
      writeFileSync(rc(), '# mine\nexport EDITOR=vi', {mode: 0o640})
      const first = await runBin(['completion', 'bash', '--install'], {cwd: cwd(), env: {HOME: home}})
      expect(first.exitCode, first.stderr).to.equal(0)
      expect(first.stderr).to.include(`adding one line to ~/.bashrc: eval "$(envsync completion bash)"  # envsync completion`)
      expect(first.stdout).to.include('added to ~/.bashrc')
      const after = readFileSync(rc(), 'utf8')
      expect(after).to.equal('# mine\nexport EDITOR=vi\neval "$(envsync completion bash)"  # envsync completion\n')
      expect(statSync(rc()).mode & 0o777).to.equal(0o640)

      const second = await runBin(['completion', 'bash', '--install'], {cwd: cwd(), env: {HOME: home}})
      expect(second.exitCode).to.equal(0)
      expect(second.stdout).to.include('nothing changed')
      expect(readFileSync(rc(), 'utf8')).to.equal(after)
    })

    it('zsh: $ZDOTDIR/.zshrc; the shell from $SHELL; a symlinked rc file is edited where it points', async () => {
      const zdot = p.path('zdot')
      mkdirSync(zdot)
      const real = p.path('dotfiles-zshrc')
      writeFileSync(real, 'setopt autocd\n')
      symlinkSync(real, path.join(zdot, '.zshrc'))
      const r = await runBin(['completion', '--install', '--json'], {cwd: p.dir, env: {HOME: home, ZDOTDIR: zdot, SHELL: '/bin/zsh'}})
      expect(r.exitCode, r.stdout).to.equal(0)
      expect(JSON.parse(r.stdout).result).to.deep.include({shell: 'zsh', changed: true})
      expect(readFileSync(real, 'utf8')).to.equal('setopt autocd\neval "$(envsync completion zsh)"  # envsync completion\n')
      expect(existsSync(path.join(home, '.zshrc'))).to.equal(false)
    })

    it('an unknown shell is an error naming the shells there are', async () => {
      const r = await runBin(['completion'], {cwd: p.dir, env: {HOME: home, SHELL: '/bin/tcsh'}})
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('no completion for the shell "tcsh"')
      expect(r.stderr).to.include('`envsync completion bash`')
      const typo = await runBin(['completion', 'bsh'], {cwd: p.dir, env: {HOME: home}})
      expect(typo.exitCode).to.equal(2)
      expect(typo.stderr).to.include('"bsh" is not one of bash, zsh, fish')
      expect(typo.stderr).to.include('did you mean "bash"?')
    })
  })
})
