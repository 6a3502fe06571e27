import {fileURLToPath} from 'node:url'

import {loadManifest} from './load.js'
import {manifestJsonSchema} from './schema.js'
import {renderTemplate} from './template.js'

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url))

/** The repository's derived files and their expected content (checked by a test). */
export function generatedFiles(): [string, string][] {
  return [
    [root('manifests/envsync.schema.json'), JSON.stringify(manifestJsonSchema(), null, 2) + '\n'],
    [root('env.template'), renderTemplate(loadManifest(root('manifests/example.yaml')))],
  ]
}
