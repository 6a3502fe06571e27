import {spawnSync} from 'node:child_process'
import {chmodSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'

import {expect} from 'chai'
import dotenv from 'dotenv'

import {EnvsyncError} from '../../src/errors.js'
import {writeFileAtomic} from '../../src/files.js'
import {readValues, writeValues} from '../../src/values/store.js'
import {BIN} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'

const mode = (file: string) => statSync(file).mode & 0o777

describe('values/store', () => {
  let project: TempProject
  beforeEach(() => (project = new TempProject()))
  afterEach(() => project.cleanup())

  it('creates values files 0600 whatever the umask', () => {
    const old = process.umask(0)
    try {
      const file = project.path('.env.production')
      writeValues(readValues(file), new Map([['A', 'secret value']]))
      expect(mode(file)).to.equal(0o600)
      expect(dotenv.parse(readFileSync(file))).to.deep.equal({A: 'secret value'})
    } finally {
      process.umask(old)
    }
  })

  it('tightens a group-readable file to 0600 on rewrite, keeping its other lines', () => {
    const file = project.write('.env.production', '# keep\nA=1\nB=2\n', 0o644)
    chmodSync(file, 0o644)
    writeValues(readValues(file), new Map([['B', 'changed']]))
    expect(mode(file)).to.equal(0o600)
    expect(readFileSync(file, 'utf8')).to.equal('# keep\nA=1\nB=changed\n')
  })

  it('leaves the old file whole and no temp file behind when the write fails', () => {
    const file = project.write('.env.production', 'A=1\n')
    chmodSync(project.dir, 0o500) // no new files in the directory
    try {
      if (process.getuid?.() === 0) {
        // root ignores directory permissions; make the rename fail instead (target is a directory)
        chmodSync(project.dir, 0o700)
        expect(() => writeFileAtomic(project.dir, 'X=1\n')).to.throw(EnvsyncError, /cannot write/)
      } else {
        expect(() => writeValues(readValues(file), new Map([['A', '2']]))).to.throw(EnvsyncError, /cannot write/)
      }
    } finally {
      chmodSync(project.dir, 0o700)
    }
    expect(readFileSync(file, 'utf8')).to.equal('A=1\n')
    expect(readdirSync(project.dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([])
  })

  it('refuses to write values that would not read back, and writes nothing', () => {
    const file = project.write('.env.production', 'A=1\n')
    expect(() => writeValues(readValues(file), new Map([['B', `'"\` # all quotes`]]))).to.throw(EnvsyncError, /B/)
    expect(readFileSync(file, 'utf8')).to.equal('A=1\n')
  })

  it('reports a values file that is not text', () => {
    const file = project.write('.env.production', Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0x00, 0x0a]))
    expect(() => readValues(file)).to.throw(EnvsyncError, /not a text file/)
  })

  it('never creates a values file with wider permissions, not even for a moment (strace)', function () {
    if (spawnSync('strace', ['-V']).error) {
      if (process.env.CI) throw new Error('strace is required in CI (.ci/run installs it)')
      this.skip()
    }
    project.write('envsync.yaml', smallManifest())
    const trace = project.path('trace.txt')
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,open,creat,chmod,fchmod,fchmodat,rename,renameat,renameat2', '-o', trace, process.execPath, BIN, 'generate', 'development'], {
      cwd: project.dir,
      env: {...process.env, NO_COLOR: '1'},
    })
    expect(r.status, r.stderr.toString()).to.equal(0)
    const lines = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('.env.development'))
    const creates = lines.filter((l) => /O_CREAT/.test(l))
    expect(creates, lines.join('\n')).to.have.length(1)
    expect(creates[0]).to.match(/\.env\.development\.[0-9a-f]+\.tmp", O_WRONLY\|O_CREAT\|O_EXCL(\|O_NOFOLLOW)?(\|O_CLOEXEC)?, 0600\)/)
    expect(lines.filter((l) => /chmod/.test(l)), 'no chmod after creation').to.deep.equal([])
    expect(lines.some((l) => /rename.*\.tmp".*\.env\.development"/.test(l)), 'renamed into place').to.equal(true)
    expect(mode(project.path('.env.development'))).to.equal(0o600)
  })

  it('writes and reads back a 1 MiB value', () => {
    const file = project.path('.env.production')
    writeFileSync(file, 'A=old\n', {mode: 0o600})
    const big = 'x'.repeat(1 << 20)
    writeValues(readValues(file), new Map([['A', big]]))
    expect(readValues(file).values.get('A')?.reveal()).to.equal(big)
  })
})
