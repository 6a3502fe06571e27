/**
 * What people type without reading the docs: -h as --help, `envsync version`, `envsync -v` and
 * `--version` (top level only: `-v` after a command is that command's --verbose).
 */
import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {ROOT, runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'
import {DOCKER_MANIFEST} from './support.js'

const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {version: string}
const VERSION_LINE = new RegExp(`^envsync/${pkg.version.replace(/\./g, '\\.')} ${process.platform}-${process.arch} node-v${process.versions.node}\\n$`)

describe('CLI conventions', function () {
  this.timeout(30_000)

  it('`envsync -v`, `--version` and `envsync version` print the same version line, exit 0', async () => {
    for (const argv of [['-v'], ['--version'], ['version']]) {
      const r = await runBin(argv)
      expect(r.exitCode, `${argv.join(' ')}: ${r.stderr}`).to.equal(0)
      expect(r.stdout, argv.join(' ')).to.match(VERSION_LINE)
      expect(r.stderr).to.equal('')
    }
  })

  it('`envsync version --json` is one envelope', async () => {
    const r = await runBin(['version', '--json'])
    expect(r.exitCode).to.equal(0)
    const envelope = JSON.parse(r.stdout)
    expect(envelope).to.deep.include({ok: true, command: 'version', exitCode: 0})
    expect(envelope.result).to.include({version: pkg.version, node: process.versions.node, platform: process.platform, arch: process.arch})
  })

  it('-h is --help, at the top and after a command', async () => {
    for (const argv of [[], ['push'], ['init'], ['diff', 'production']]) {
      const long = await runBin([...argv, '--help'])
      const short = await runBin([...argv, '-h'])
      expect(short.exitCode, `${argv.join(' ')} -h: ${short.stderr}`).to.equal(0)
      expect(short.stdout, `${argv.join(' ')} -h`).to.equal(long.stdout)
      expect(short.stdout).to.include('USAGE')
    }
  })

  it('the help lists the version command', async () => {
    const r = await runBin(['--help'])
    expect(r.stdout).to.match(/^ {2}version\s+Print the envsync version/m)
  })

  it('`-v` after a command stays that command’s --verbose, never the version', async () => {
    const p = new TempProject()
    try {
      p.write('envsync.yaml', DOCKER_MANIFEST, 0o644)
      for (const argv of [['diff', 'development', '-v'], ['push', 'development', '-v', '--dry-run', '--force']]) {
        const r = await runBin(argv, {cwd: p.dir})
        expect(r.exitCode, `${argv.join(' ')}: ${r.stderr}`).to.equal(0)
        expect(r.stdout, argv.join(' ')).to.not.match(/envsync\/\d/)
        expect(r.stdout).to.match(/\+ LOG_LEVEL/)
      }
    } finally {
      p.cleanup()
    }
  })
})
