// Regenerates the committed, derived files: the manifest JSON Schema and env.template.
// Tests fail when either is stale: run `npm run gen` after changing the schema or example.yaml.
import {writeFileSync} from 'node:fs'

import {generatedFiles} from '../src/manifest/generated.js'

for (const [file, content] of generatedFiles()) {
  writeFileSync(file, content)
  console.log(`wrote ${file}`)
}
