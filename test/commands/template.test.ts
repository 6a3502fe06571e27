import {copyFileSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {runCheck} from '../../src/check/check.js'
import {loadManifest} from '../../src/manifest/load.js'
import type {Manifest} from '../../src/manifest/manifest.js'
import {renderTemplate} from '../../src/manifest/template.js'
import {parseEnv} from '../../src/values/dotenv.js'

import {assertNoLeak, canary} from '../helpers/canary.js'
import {ROOT, runBin} from '../helpers/cli.js'
import {smallManifest, TempProject} from '../helpers/project.js'

describe('envsync template', () => {
  let p: TempProject
  beforeEach(() => {
    p = new TempProject()
    p.write('envsync.yaml', smallManifest(`  STRIPE_KEY:
    description: Stripe secret key
    services: [backend]
    required: false
    rotate: 1y
    format: {regex: "sk_(live|test)_[A-Za-z0-9]+"}
`))
  })
  afterEach(() => p.cleanup())

  it('documents every key with services, requirement, recipe as openssl, rotation — and no values', async () => {
    const secret = canary()
    writeFileSync(p.path('.env.production'), `JWT_SECRET=${secret}\nDATABASE_URL=postgres://u:${secret}@db/x\n`, {mode: 0o600})
    const r = await runBin(['template'], {cwd: p.dir})
    expect(r.exitCode).to.equal(0)
    expect(r.stdout).to.include('# JWT_SECRET')
    expect(r.stdout).to.include('services: backend · required · sensitive')
    expect(r.stdout).to.include('generate: openssl rand -base64 48')
    expect(r.stdout).to.include('# STRIPE_KEY — Stripe secret key')
    expect(r.stdout).to.include('optional')
    expect(r.stdout).to.include('rotate every 1y')
    expect(r.stdout).to.match(/^JWT_SECRET=$/m)
    // Optional: commented out, so a copy of the template does not set it to an empty value.
    expect(r.stdout).to.match(/^# STRIPE_KEY=$/m)
    assertNoLeak([secret], r.stdout, r.stderr)
  })

  it('--out writes the file', async () => {
    const r = await runBin(['template', '--out', 'env.template'], {cwd: p.dir})
    expect(r.exitCode).to.equal(0)
    expect(r.stdout).to.include('wrote env.template')
    const text = readFileSync(p.path('env.template'), 'utf8')
    // A key with a default carries it, commented out: the default applies until someone changes it.
    const fallback = loadManifest(p.manifest).secret('VITE_API_URL')!.default!
    expect(text.split('\n')).to.include(`# VITE_API_URL=${fallback}`)
  })

  describe('a copy of the template as a values file', () => {
    const findingsOf = async (m: Manifest, env: string) => (await runCheck(m, env)).findings.map((f) => `${f.rule} ${f.key ?? ''}`).sort()
    for (const name of ['example.yaml', 'k8s-only.yaml', 'render-workers.yaml', 'small']) {
      it(`${name}: check flags only the values a person must fill, in every environment`, async () => {
        if (name === 'small') p.write('envsync.yaml', smallManifest('  LOG_LEVEL: {services: [backend], sensitive: false, required: false, format: {enum: [debug, info]}}\n  DEBUG_TOKEN: {services: [backend], environments: [development]}\n'))
        else copyFileSync(path.join(ROOT, 'manifests', name), p.manifest)
        const m = loadManifest(p.manifest)
        const template = renderTemplate(m)
        for (const env of m.environmentNames) {
          // What an empty values file leaves to do: the to-do list.
          p.write(`.env.${env}`, '')
          const todo = await findingsOf(m, env)
          p.write(`.env.${env}`, template)
          expect(await findingsOf(m, env), `check ${env} of a copy of the template`).to.deep.equal(todo)
          // The open KEY= lines are exactly keys check then flags as missing in some environment.
          const open = [...parseEnv(template, 'env.template').entries].map((e) => e.key)
          for (const key of open) expect(m.secret(key)!.default, `${key} has a default and is left open`).to.equal(undefined)
        }
        // Keys with a default, optional keys and keys of some environments only are commented out, the default carried.
        for (const s of m.secrets) {
          const line = template.split('\n').find((l) => l === `${s.key}=` || l.startsWith(`# ${s.key}=`))
          expect(line, s.key).to.be.a('string')
          const openLine = s.required && s.default === undefined && (!s.environments || m.environmentNames.every((e) => s.environments!.includes(e)))
          expect(line!.startsWith('#'), `${s.key}: ${line}`).to.equal(!openLine)
        }
      })
    }

    it('a description or default with a line break stays inside its comment', () => {
      p.write('envsync.yaml', smallManifest('  BANNER:\n    description: "first line\\nINJECTED=1"\n    services: [frontend]\n    sensitive: false\n    default: "a\\nB=2"\n'))
      const template = renderTemplate(loadManifest(p.manifest))
      const keys = parseEnv(template, 'env.template').entries.map((e) => e.key)
      expect(keys).to.not.include('INJECTED').and.not.include('B')
      expect(template).to.match(/^# BANNER — first line\n# {5}INJECTED=1$/m)
    })
  })
})
