/**
 * Tables line up in a real terminal with colour on: the built binary runs in tmux with
 * FORCE_COLOR=1, and the screen tmux shows is read back. Colour codes take no column; wide
 * characters take two, combining marks none — for the last, the terminal itself says where its
 * cursor is (a cursor-position report after each row), so tmux is the oracle, not our own width.
 */
import path from 'node:path'

import {expect} from 'chai'

import {BIN, ROOT, runBin} from '../helpers/cli.js'
import {requireOrSkip} from '../helpers/not-run.js'
import {TempProject} from '../helpers/project.js'
import {DOCKER_MANIFEST} from './support.js'
import {sh, TmuxSession, tmuxAvailable} from './tmux.js'

/** Where each of `words` starts in `line` (they are searched left to right). */
function starts(line: string, words: string[]): number[] {
  let from = 0
  return words.map((w) => {
    const i = line.indexOf(w, from)
    expect(i, `"${w}" in ${JSON.stringify(line)}`).to.be.greaterThan(-1)
    from = i + w.length
    return i
  })
}

describe('columns in a real terminal with colour (tmux)', function () {
  this.timeout(30_000)
  let session: TmuxSession | undefined
  let p: TempProject

  before(function () {
    requireOrSkip(this, 'the terminal column tests (tmux)', tmuxAvailable() ? undefined : 'tmux is not installed')
  })
  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', DOCKER_MANIFEST, 0o644)
  })
  afterEach(() => {
    session?.kill()
    session = undefined
    p.cleanup()
  })

  /** Runs the binary in a colour terminal and returns the screen once it exited. */
  async function screen(args: string[]): Promise<string> {
    session = new TmuxSession()
    session.start(`cd ${sh(p.dir)} && env FORCE_COLOR=1 NO_COLOR= TERM=xterm-256color DEBUG= CI= ${sh(process.execPath)} ${sh(BIN)} ${args.map(sh).join(' ')}`)
    const s = await session.waitFor(/__EXIT_\d+__/)
    expect(session.screen(true), 'the output is coloured').to.include('\u001B[')
    return s
  }

  it('check: KEY, RULE and FINDING start where their headings do, whatever the severity colour', async () => {
    p.write('.env.development', 'JWT_SECRET=short\nOLD_KEY=x\nSENTRY_DSN=not a url\n')
    const s = await screen(['check', 'development'])
    const lines = s.split('\n')
    const header = lines.find((l) => l.startsWith('SEVERITY'))!
    const want = starts(header, ['KEY', 'RULE', 'FINDING'])
    const rows = lines.filter((l) => /^(error|warning) /.test(l))
    expect(rows.length, s).to.be.greaterThan(2)
    expect(new Set(rows.map((r) => r.split(/\s+/)[0])).size, 'both severities').to.equal(2)
    for (const row of rows) {
      const [, key, rule] = row.split(/\s+/)
      expect(starts(row, [key, rule]), row).to.deep.equal(want.slice(0, 2))
      expect(row.slice(want[2] - 2, want[2]), `${row}: FINDING column`).to.equal('  ')
      expect(row[want[2]], `${row}: FINDING column`).to.not.equal(' ')
    }
  })

  it('diff -v: local and live fingerprints line up across added, updated, unchanged and missing keys', async () => {
    p.write('.env.development', 'JWT_SECRET=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=\n')
    const first = await runBin(['push', 'development', '--yes', '--force'], {cwd: p.dir})
    expect(first.exitCode, first.stderr).to.equal(0)
    p.write('.env.development', 'JWT_SECRET=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTM=\nAPI_TOKEN=tok_4f8a9b2c7d1e6f3a\n')
    const s = await screen(['diff', 'development', '-v'])
    const rows = s.split('\n').filter((l) => /^ {2}[+~=·!?-] \w/.test(l))
    expect(rows.map((r) => r.slice(2, 3)).sort().join(''), s).to.equal('+=~·')
    const at = (r: string, re: RegExp) => r.search(re)
    const local = new Set(rows.filter((r) => /  local \S/.test(r)).map((r) => at(r, /  local \S/)))
    const live = new Set(rows.filter((r) => /  live \S/.test(r)).map((r) => at(r, /  live \S/)))
    expect(rows.filter((r) => /  live \S/.test(r)).length).to.equal(2)
    expect([...local], `local column:\n${rows.join('\n')}`).to.have.length(1)
    expect([...live], `live column:\n${rows.join('\n')}`).to.have.length(1)
    // The note of the key without a value starts in the note column of the rows.
    const noteCol = Math.max(...rows.map((r) => /  live \S+/.exec(r)).filter((m) => m !== null).map((m) => m!.index + m![0].length + 2))
    const missing = rows.find((r) => r.startsWith('  ·'))!
    expect(missing.indexOf('no local value'), missing).to.equal(noteCol)
  })

  it('table(): wide characters, emoji, combining marks and colour take the columns the terminal gives them', async () => {
    const cells = ['KEY', '日本語', 'ＦＵＬＬ', 'e\u0301te\u0301', '🔑', 'plain-ascii', '한국어 키', 'नमस्ते', 'กำ', '\u1100\u1161\u11a8', 'soft\u00adhyphen', 'ｶﾀｶﾅ']
    const script = `
      import {table, style} from ${JSON.stringify(path.join(ROOT, 'src', 'ui', 'style.ts'))}
      const cells = ${JSON.stringify(cells)}
      const rows = table(cells.map((c, i) => [i % 2 ? style.red(c) : style.dim(c), style.green('x'), '|']))
      const columns = []
      process.stdin.setRawMode(true)
      for (const row of rows) {
        process.stdout.write(row)
        const answer = await new Promise((resolve) => { let got = ''; const on = (d) => { got += d; if (got.includes('R')) { process.stdin.off('data', on); resolve(got) } }; process.stdin.on('data', on); process.stdout.write('\\u001b[6n') })
        columns.push(Number(/;(\\d+)R/.exec(answer)[1]))
        process.stdout.write('\\n')
      }
      process.stdin.setRawMode(false)
      console.log('COLUMNS ' + JSON.stringify(columns))
      process.exit(0)
    `
    const file = p.write('columns.mjs', script, 0o644)
    session = new TmuxSession()
    // The module from source (tsx): the bundle keeps no file per module.
    session.start(`env FORCE_COLOR=1 NO_COLOR= TERM=xterm-256color ${sh(process.execPath)} --import ${sh(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'))} ${sh(file)}`)
    const s = await session.waitFor(/COLUMNS \[[\d,]+\]/)
    const columns = JSON.parse(/COLUMNS (\[[\d,]+\])/.exec(s)![1]) as number[]
    expect(columns).to.have.length(cells.length)
    // After "|" on every row the cursor stands in one column: every cell before it was padded right.
    expect(new Set(columns).size, `cursor columns ${columns.join(', ')}:\n${s}`).to.equal(1)
  })
})
