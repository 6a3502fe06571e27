import {isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node} from 'yaml'

import {EnvsyncError, type SourceLocation} from '../errors.js'

/** Larger than any real manifest (5,000 secrets is ~1 MB); stops a runaway file early. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024

/**
 * A parsed YAML file that can say where a path is: every later error (schema, references)
 * points at file:line:col.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static parse(file: string, bytes: Buffer): YamlSource {
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new EnvsyncError(`${file} is ${bytes.length} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes`, {
        code: 'MANIFEST_TOO_LARGE',
        location: {file},
        suggestion: 'Check that this is the manifest and not a values file or a data dump.',
      })
    }
    const text = decodeText(file, bytes)
    if (text.trim() === '') {
      throw new EnvsyncError(`${file} is empty`, {
        code: 'MANIFEST_EMPTY',
        location: {file},
        suggestion: 'Run `envsync init` to write a manifest, or copy one from manifests/example.yaml.',
      })
    }
    const lines = new LineCounter()
    const doc = parseDocument(text, {lineCounter: lines, prettyErrors: true, uniqueKeys: true})
    const source = new YamlSource(file, doc, lines)
    if (doc.errors.length > 0) {
      const problems = doc.errors.map((e) => ({
        message: yamlMessage(e.code, e.message),
        location: {file, line: e.linePos?.[0].line, column: e.linePos?.[0].col},
      }))
      throw new EnvsyncError(`${file} is not valid YAML: ${problems[0].message}`, {
        code: 'MANIFEST_YAML',
        location: problems[0].location,
        problems,
        suggestion: 'Fix the YAML syntax at the position shown (indentation, quotes, brackets).',
      })
    }
    return source
  }

  toJS(): unknown {
    return this.doc.toJS({maxAliasCount: 100})
  }

  /** Where the value at `path` is; with `key`, where its key is. Falls back to the nearest parent. */
  locate(path: readonly (string | number)[], options: {key?: boolean} = {}): SourceLocation {
    let node: unknown = this.doc.contents
    let offset = 0
    for (let i = 0; i < path.length; i++) {
      const part = path[i]
      const last = i === path.length - 1
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part))
        if (!pair) break
        const keyNode = pair.key as Node
        offset = keyNode.range?.[0] ?? offset
        if (last && options.key) break
        node = pair.value
        if (isNodeWithRange(node)) offset = node.range[0]
      } else if (isSeq(node) && typeof part === 'number' && node.items[part]) {
        node = node.items[part]
        if (isNodeWithRange(node)) offset = node.range[0]
      } else break
    }
    const pos = this.lines.linePos(offset)
    return {file: this.file, line: pos.line, column: pos.col}
  }
}

function isNodeWithRange(n: unknown): n is Node & {range: [number, number, number]} {
  return typeof n === 'object' && n !== null && Array.isArray((n as Node).range)
}

function decodeText(file: string, bytes: Buffer): string {
  const notText = () =>
    new EnvsyncError(`${file} is not a text file (it contains binary data)`, {
      code: 'MANIFEST_BINARY',
      location: {file},
      suggestion: 'Point --manifest at the YAML manifest (envsync.yaml).',
    })
  if (bytes.includes(0)) throw notText()
  try {
    return new TextDecoder('utf-8', {fatal: true, ignoreBOM: false}).decode(bytes)
  } catch {
    throw notText()
  }
}

/** yaml's messages repeat the position and a code excerpt; keep the first sentence. */
function yamlMessage(code: string, message: string): string {
  const first = message.split(/ at line \d+, column \d+/)[0].split('\n')[0]
  if (code === 'DUPLICATE_KEY') return 'duplicate key: a key may appear only once in a mapping'
  return first.charAt(0).toLowerCase() + first.slice(1)
}
