import {expect} from 'chai'

import {runBin} from '../helpers/cli.js'
import {TempProject} from '../helpers/project.js'

describe('--json output through a pipe', () => {
  it('a large envelope with a non-zero exit code arrives whole (no truncation at exit)', async () => {
    const p = new TempProject('envsync-json-')
    try {
      const keys = Array.from({length: 3000}, (_, i) => `  KEY_${i}: {services: [api], generate: "base64:32"}`)
      p.write('envsync.yaml', `project: big\nservices: {api: {}}\nenvironments: {production: {}}\nsecrets:\n${keys.join('\n')}\n`)
      const r = await runBin(['check', 'production', '--json'], {cwd: p.dir})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout.length).to.be.greaterThan(256 * 1024)
      const envelope = JSON.parse(r.stdout)
      expect(envelope.result.findings).to.have.length(3000)
    } finally {
      p.cleanup()
    }
  })
})
