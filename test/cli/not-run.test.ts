/**
 * A tier that cannot run on this machine is said loudly at the end of the mocha run (not only as
 * "N pending"), and under CI it fails: a real mocha run of a Kubernetes spec with the tier made
 * unavailable.
 */
import {spawnSync} from 'node:child_process'
import path from 'node:path'

import {expect} from 'chai'

import {ROOT} from '../helpers/cli.js'

function mocha(spec: string, env: Record<string, string | undefined>): {status: number | null; stdout: string} {
  const merged: NodeJS.ProcessEnv = {...process.env, ENVSYNC_KUBE_APISERVER: '/nonexistent/kube-apiserver', ...env}
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k]
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'), spec], {cwd: ROOT, env: merged, encoding: 'utf8', timeout: 120_000})
  return {status: r.status, stdout: r.stdout + r.stderr}
}

describe('tests that did not run', function () {
  this.timeout(150_000)

  it('are named, with the reason, after mocha’s summary', () => {
    const r = mocha('test/k8s/push.test.ts', {CI: undefined})
    expect(r.status, r.stdout).to.equal(0)
    const lines = r.stdout.trimEnd().split('\n')
    const pending = lines.findIndex((l) => /^\s+\d+ pending/.test(l))
    const notRun = lines.findIndex((l) => l.includes('NOT RUN on this machine'))
    expect(pending, r.stdout).to.be.greaterThan(-1)
    expect(notRun, 'the NOT RUN list comes after the summary').to.be.greaterThan(pending)
    const tail = lines.slice(notRun).join('\n')
    expect(tail).to.match(/- Kubernetes tier: .+: Kubernetes test tier unavailable: no kube-apiserver binary at \/nonexistent\/kube-apiserver/)
    expect(tail).to.include('bash scripts/k8s/build-apiserver.sh')
  })

  it('fail the run under CI=true', () => {
    const r = mocha('test/k8s/push.test.ts', {CI: 'true'})
    expect(r.status, r.stdout).to.not.equal(0)
    expect(r.stdout).to.include('CI must not skip it')
  })
})
