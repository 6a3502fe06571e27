/** Words a new user reads: help that names every target, generate's usage, counts in plain English. */
import {mkdirSync} from 'node:fs'

import {expect} from 'chai'

import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {DOCKER_MANIFEST} from './support.js'

/** The text of one help section (DESCRIPTION, USAGE…), up to the next heading. */
const section = (help: string, name: string) => help.split(new RegExp(`^${name}$`, 'm'))[1]?.split(/^[A-Z][A-Z ]+$/m)[0] ?? ''

describe('words', function () {
  this.timeout(30_000)

  it('the help of diff and push names all four targets', async () => {
    for (const command of ['diff', 'push']) {
      const r = await runBin([command, '--help'])
      const description = section(r.stdout, 'DESCRIPTION')
      for (const target of ['Docker', 'Kubernetes', 'Railway', 'Render']) expect(description, `${command} --help`).to.include(target)
    }
  })

  it('generate --help: KEY... in the usage and the arguments, -m and --json in the usage', async () => {
    const r = await runBin(['generate', '--help'])
    const usage = section(r.stdout, 'USAGE').replace(/\s+/g, ' ')
    expect(usage).to.include('$ envsync generate ENVIRONMENT [KEY...]')
    expect(usage).to.include('-m <value>')
    expect(usage).to.include('--json')
    const args = section(r.stdout, 'ARGUMENTS')
    expect(args).to.match(/^ {2}ENVIRONMENT {2,}Environment/m)
    expect(args).to.match(/^ {2}\[KEY\.\.\.\] {2,}Only these keys/m)
  })

  it('the help lists `completion`, the one way to set up completion', async () => {
    const r = await runBin(['--help'])
    expect(r.stdout).to.match(/^ {2}completion\s+Tab completion/m)
    expect(r.stdout).to.not.include('autocomplete')
  })

  it('counts use the plural they need: 1 value, 0 values, 1 error — never "(s)"', async () => {
    const p = new TempProject()
    try {
      p.write('envsync.yaml', DOCKER_MANIFEST, 0o644)
      const one = await runBin(['generate', 'development'], {cwd: p.dir})
      expect(one.stdout).to.include('development: 1 value written to .env.development')
      const none = await runBin(['generate', 'development'], {cwd: p.dir})
      expect(none.stdout).to.include('development: 0 values written to .env.development')
      const push = await runBin(['push', 'development', '--yes'], {cwd: p.dir})
      expect(push.stderr).to.include('check found 1 error in development')
      for (const r of [one, none, push]) expect(r.stdout + r.stderr).to.not.include('(s)')
    } finally {
      p.cleanup()
    }
  })

  it('a folder where the values file should be is "not a values file" (not "values file file")', async () => {
    const p = new TempProject()
    try {
      p.write('envsync.yaml', DOCKER_MANIFEST, 0o644)
      mkdirSync(p.path('.env.development'))
      const r = await runBin(['check', 'development'], {cwd: p.dir})
      expect(r.stderr).to.include('.env.development is a directory, not a values file: envsync reads only regular files')
    } finally {
      p.cleanup()
    }
  })
})
