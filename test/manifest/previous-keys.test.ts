import {existsSync} from 'node:fs'

import {expect} from 'chai'

import {EnvsyncError} from '../../src/errors.js'
import {loadManifest} from '../../src/manifest/load.js'
import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

/**
 * A secret's `previous:` key is a name envsync writes to the store and delivers during a grace
 * period: it is refused where a declared key of that name would be, and where it would land in
 * another key's Docker secret file — at load time, never in the middle of a rotation.
 */

const manifest = (previous: string, extra = '', targets = 'docker: {}') => `version: 1
project: shop
services:
  backend: {}
environments:
  production:
    targets:
      ${targets}
secrets:
  JWT_SECRET:
    services: [backend]
    generate: hex:16
    previous: ${previous}
    grace: 1h
${extra}`

describe('manifest: previous keys', () => {
  let p: TempProject
  beforeEach(() => {
    p = new TempProject('envsync-previous-keys-')
  })
  afterEach(() => p.cleanup())

  /** The problems loading the manifest reports (none: it loads). */
  function problems(text: string): {message: string; suggestion?: string; line?: number}[] {
    const file = p.write('envsync.yaml', text, 0o644)
    try {
      loadManifest(file)
      return []
    } catch (error) {
      expect(error).to.be.instanceOf(EnvsyncError)
      const e = error as EnvsyncError
      return e.problems.length > 0 ? e.problems.map((x) => ({message: x.message, suggestion: x.suggestion, line: x.location?.line})) : [{message: e.message, suggestion: e.suggestion}]
    }
  }

  it('a free name loads: the previous key follows its secret', () => {
    expect(problems(manifest('JWT_SECRET_PREVIOUS'))).to.deep.equal([])
  })

  it('__proto__ is refused as for a declared key, naming the line', () => {
    const [problem, ...rest] = problems(manifest('__proto__'))
    expect(rest).to.deep.equal([])
    expect(problem.message).to.include('"__proto__" cannot be a name: dotenv and JavaScript objects drop a key called so, so it would silently vanish')
    expect(problem.suggestion).to.equal('rename it (e.g. JWT_SECRET_PREVIOUS)')
    expect(problem.line).to.equal(13)
  })

  it('"null", "true" and "false" (quoted: unquoted YAML makes them no name at all) are refused as for a declared key', () => {
    for (const word of ['null', 'true', 'false']) {
      const found = problems(manifest(`"${word}"`))
      expect(found.map((x) => x.message), word).to.deep.equal([`previous key "${word}" is what YAML makes of an unquoted NULL, TRUE or FALSE (or ~)`])
    }
  })

  it('a previous key that would share another key\'s Docker secret file (names differ only in case) is refused; without Docker it is not', () => {
    const other = `  jwt_secret_previous:
    services: [backend]
`
    const found = problems(manifest('JWT_SECRET_PREVIOUS', other))
    expect(found.map((x) => x.message)).to.deep.equal(['JWT_SECRET: previous key JWT_SECRET_PREVIOUS and jwt_secret_previous would be the same Docker secret "jwt_secret_previous"'])
    expect(found[0].suggestion).to.include('Docker secret names are lowercase')
    // A previous key spelt like the secret in another case clashes with the secret itself.
    expect(problems(manifest('jwt_secret')).map((x) => x.message)).to.deep.equal(['JWT_SECRET: previous key jwt_secret and JWT_SECRET would be the same Docker secret "jwt_secret"'])
    // Kubernetes Secret keys are case-sensitive: nothing collides.
    expect(problems(manifest('JWT_SECRET_PREVIOUS', other, 'kubernetes: {namespace: shop}'))).to.deep.equal([])
  })

  it('from the command line: exit 2, the reason, no stack trace, nothing written', async () => {
    p.write('envsync.yaml', manifest('__proto__'), 0o644)
    const r = await runBin(['rotate', 'production', 'JWT_SECRET', '--yes'], {cwd: p.dir})
    expect(r.exitCode, r.stdout + r.stderr).to.equal(2)
    expect(r.stderr).to.include('envsync.yaml:13')
    expect(r.stderr).to.include('"__proto__" cannot be a name')
    expect(r.stderr).not.to.match(/\n\s+at /)
    expect(existsSync(p.path('.env.production'))).to.equal(false)
  })
})
