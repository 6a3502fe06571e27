import {readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'

import {writeFileAtomic} from '../files.js'
import {displayPath} from '../paths.js'
import {parseManifest} from './load.js'
import type {Manifest} from './manifest.js'

/**
 * Writes an environment's recipient list into the manifest, editing the YAML document in place
 * (comments, order and formatting elsewhere are kept): items are appended to or deleted from the
 * existing list, or the list is created. The result is validated before it replaces the file.
 */
export function writeRecipients(manifest: Manifest, env: string, add: string[], remove: string[]): void {
  const {isSeq, parseDocument} = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  const text = readFileSync(manifest.file, 'utf8')
  const doc = parseDocument(text)
  const at = ['environments', env, 'store', 'encrypted', 'recipients']
  const list = doc.getIn(at, true)
  if (isSeq(list)) {
    for (const r of remove) {
      const i = list.items.findIndex((item) => String((item as {value?: unknown}).value ?? item) === r)
      if (i >= 0) list.delete(i)
    }
    for (const r of add) list.add(doc.createNode(r))
  } else {
    doc.setIn(at, doc.createNode(add))
  }
  // As written: no padding added inside [a, b], no long line folded.
  const out = doc.toString({flowCollectionPadding: false, lineWidth: 0})
  // Never write a manifest envsync itself could not load.
  parseManifest(displayPath(manifest.file), Buffer.from(out, 'utf8'), manifest.file)
  writeFileAtomic(manifest.file, out, statSync(manifest.file).mode & 0o777)
}
