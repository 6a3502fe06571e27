import {expect} from 'chai'

import {runBin, runCli} from './helpers/cli.js'

describe('smoke', () => {
  it('runs help through the binary', async () => {
    const r = await runBin(['--help'])
    expect(r.exitCode).to.equal(0)
    expect(r.stdout).to.include('check')
  })
  it('runs a command in-process', async () => {
    const r = await runCli(['check', 'production', '--manifest', 'manifests/example.yaml', '--json'])
    expect(r.stdout).to.include('"command": "check"')
  })
})
