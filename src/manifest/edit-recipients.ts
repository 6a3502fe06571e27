import {readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'

import {EnvsyncError} from '../errors.js'
import {writeFileAtomic} from '../files.js'
import {displayPath} from '../paths.js'
import {parseManifest} from './load.js'
import type {Manifest} from './manifest.js'

/**
 * Writes an environment's recipient list into the manifest, editing the YAML document in place
 * (comments, order and formatting elsewhere are kept): items are appended to or deleted from the
 * existing list, or the list is created. A list shared through a YAML anchor is never edited
 * where another environment reads it: this environment gets a plain list of its own. The result
 * is read back, and written only if every environment's recipients are what was intended.
 */
export function writeRecipients(manifest: Manifest, env: string, add: string[], remove: string[]): void {
  const {isSeq, parseDocument, visit} = yaml()
  const recipientsOf = (m: Manifest, e: string) => m.environment(e).store?.encrypted?.recipients
  const intended = new Map(manifest.environmentNames.map((e) => [e, recipientsOf(manifest, e)]))
  intended.set(env, [...(recipientsOf(manifest, env) ?? []).filter((r) => !remove.includes(r)), ...add])

  const text = readFileSync(manifest.file, 'utf8')
  const doc = parseDocument(text)
  const at = ['environments', env, 'store', 'encrypted', 'recipients']
  const list = doc.getIn(at, true)
  const anchor = isSeq(list) ? list.anchor : undefined
  const shared = anchor !== undefined && hasAlias(doc, anchor)
  if (isSeq(list) && !shared) {
    for (const r of remove) {
      const i = list.items.findIndex((item) => String((item as {value?: unknown}).value ?? item) === r)
      if (i >= 0) list.delete(i)
    }
    for (const r of add) list.add(doc.createNode(r))
  } else {
    try {
      doc.setIn(at, doc.createNode(intended.get(env)))
    } catch {
      throw notEditable(env)
    }
    // The anchored list moves to its first alias: every other reader keeps the list it had.
    if (shared && isSeq(list)) {
      let moved = false
      visit(doc, {Alias: (_key, node) => (!moved && node.source === anchor ? ((moved = true), list) : undefined)})
    }
  }
  // As written: no padding added inside [a, b], no long line folded.
  const out = doc.toString({flowCollectionPadding: false, lineWidth: 0})
  // Never write a manifest envsync itself could not load, nor one that grants or drops anyone else.
  const after = parseManifest(displayPath(manifest.file), Buffer.from(out, 'utf8'), manifest.file)
  for (const [e, want] of intended) if (JSON.stringify(recipientsOf(after, e)) !== JSON.stringify(want)) throw notEditable(env)
  writeFileAtomic(manifest.file, out, statSync(manifest.file).mode & 0o777)
}

/** yaml, loaded only when a manifest is edited. */
const yaml = () => createRequire(import.meta.url)('yaml') as typeof import('yaml')

function hasAlias(doc: import('yaml').Document, anchor: string): boolean {
  let found = false
  yaml().visit(doc, {Alias: (_key, node) => {
    if (node.source === anchor) found = true
  }})
  return found
}

function notEditable(env: string): EnvsyncError {
  return new EnvsyncError(`cannot edit the recipients of ${env} in the manifest without changing another environment's (YAML anchors or aliases share them); nothing was written to the manifest`, {
    code: 'MANIFEST_RECIPIENTS_SHARED',
    suggestion: `write ${env}'s \`store: {encrypted: {recipients: [...]}}\` as a plain list of its own, then run the command again`,
  })
}
