import {createRequire} from 'node:module'
import path from 'node:path'

import jsyaml from 'js-yaml'
import type {Document, LineCounter, Node} from 'yaml'

import {EnvsyncError, type Problem, type SourceLocation} from '../errors.js'
import {shellPath} from '../paths.js'
import {inputTooLarge, MAX_INPUT_BYTES} from './input-file.js'


type YamlLib = typeof import('yaml')
let yamlLib: YamlLib | undefined
/** The `yaml` package keeps positions but parses 5-10× slower than js-yaml: load it only for errors. */
function yaml(): YamlLib {
  yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib
  return yamlLib
}

/**
 * A parsed YAML file that can say where a path is: every later error (schema, references)
 * points at file:line:col. The happy path reads with js-yaml (YAML 1.2 core schema); positions
 * and syntax errors come from the `yaml` package, parsed on demand with the same schema.
 */
export class YamlSource {
  #positions?: {doc: Document; lines: LineCounter}

  private constructor(
    readonly file: string,
    private readonly text: string,
    readonly data: unknown,
    positions?: {doc: Document; lines: LineCounter},
  ) {
    this.#positions = positions
  }

  get doc(): Document {
    return this.positions().doc
  }

  private positions(): {doc: Document; lines: LineCounter} {
    if (!this.#positions) {
      const {LineCounter, parseDocument} = yaml()
      const lines = new LineCounter()
      const doc = parseDocument(this.text, {lineCounter: lines, prettyErrors: true, uniqueKeys: true, merge: false})
      this.#positions = {doc, lines}
    }
    return this.#positions
  }

  static parse(file: string, bytes: Buffer): YamlSource {
    if (bytes.length > MAX_INPUT_BYTES) throw inputTooLarge(file, 'manifest', String(bytes.length))
    const text = decodeText(file, bytes)
    if (text.trim() === '') {
      throw new EnvsyncError(`${file} is empty`, {
        code: 'MANIFEST_EMPTY',
        location: {file},
        suggestion: emptyHint(file),
      })
    }
    let data: unknown
    try {
      data = jsyaml.load(text, {schema: jsyaml.CORE_SCHEMA, filename: file})
      // Aliases share objects; a "billion laughs" file expands only through them. Let the
      // careful parser (alias limit, exact errors) handle any file that uses them.
      if (!hasSharedNodes(data)) return new YamlSource(file, text, data)
    } catch {
      // Syntax error: the careful parser below reports it with its position.
    }
    const source = new YamlSource(file, text, undefined)
    const {doc} = source.positions()
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
    source.refuseTagsAndDanglingAliases()
    // A file with aliases: its data comes from the careful parser, which limits alias expansion.
    return new YamlSource(file, text, source.toJS(), source.positions())
  }

  /**
   * A manifest is plain data: a tag other than the core schema's (`!Ref`, `!!binary`,
   * `!!js/function`, `!!timestamp`…) would be read as some other thing or silently as a string,
   * so it is refused at its position; so is an alias whose anchor is not defined before it.
   */
  private refuseTagsAndDanglingAliases(): void {
    const {isAlias, isNode, visit} = yaml()
    const {doc, lines} = this.positions()
    const problems: Problem[] = []
    const at = (offset: number) => {
      const pos = lines.linePos(offset)
      return {file: this.file, line: pos.line, column: pos.col}
    }
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node) && node.resolve(doc) === undefined) {
          problems.push({
            message: `alias *${node.source} refers to no anchor: &${node.source} must be defined before it`,
            location: at(node.range?.[0] ?? 0),
            suggestion: `define &${node.source} above this line, or write the value out`,
          })
        } else if (isNode(node) && node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
          const tag = node.tag.startsWith(YAML_TAG_PREFIX) ? `!!${node.tag.slice(YAML_TAG_PREFIX.length)}` : node.tag.startsWith('!') ? node.tag : `!<${node.tag}>`
          problems.push({
            message: `YAML tag ${tag} is not supported in a manifest`,
            location: at(tagOffset(this.text, node.range?.[0] ?? 0)),
            suggestion: 'remove the tag: a manifest holds plain strings, numbers, booleans, lists and mappings',
          })
        }
      },
    })
    if (problems.length > 0) {
      throw new EnvsyncError(`${this.file} is not valid YAML: ${problems[0].message}`, {
        code: 'MANIFEST_YAML',
        location: problems[0].location,
        problems,
        suggestion: problems[0].suggestion,
      })
    }
  }

  private toJS(): unknown {
    try {
      return this.doc.toJS({maxAliasCount: 100})
    } catch (error) {
      // yaml throws a plain ReferenceError when aliases expand too far ("billion laughs").
      if (!(error instanceof ReferenceError) || !/excessive alias count/i.test(error.message)) throw error
      throw new EnvsyncError(`${this.file} expands YAML aliases too far (a "billion laughs" pattern)`, {
        code: 'MANIFEST_ALIASES',
        location: {file: this.file},
        suggestion: 'Write the values out instead of nesting anchors (&name) and aliases (*name).',
      })
    }
  }

  /** Where the value at `path` is; with `key`, where its key is. Falls back to the nearest parent. */
  locate(path: readonly (string | number)[], options: {key?: boolean} = {}): SourceLocation {
    const {isMap, isPair, isScalar, isSeq} = yaml()
    const {doc, lines} = this.positions()
    let node: unknown = doc.contents
    // The document's first node, not offset 0 (which may be a comment above it).
    let offset = isNodeWithRange(node) ? node.range[0] : 0
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
    const pos = lines.linePos(offset)
    return {file: this.file, line: pos.line, column: pos.col}
  }
}

const YAML_TAG_PREFIX = 'tag:yaml.org,2002:'
/** The core schema's tags (what js-yaml's CORE_SCHEMA reads), and `!`, which only forces a string. */
const CORE_TAGS = new Set(['!', ...['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => YAML_TAG_PREFIX + t)])

/**
 * Where the tag written before a node starts. yaml's node range begins after its properties
 * (`!tag &anchor`), so step back over blanks and the property tokens to the one starting with `!`.
 */
function tagOffset(text: string, nodeStart: number): number {
  let end = nodeStart
  for (let i = 0; i < 2; i++) {
    while (end > 0 && /\s/.test(text[end - 1])) end--
    let start = end
    while (start > 0 && !/\s/.test(text[start - 1])) start--
    if (text[start] === '!') return start
    if (text[start] !== '&') break
    end = start
  }
  return nodeStart
}

/** `init` writes envsync.yaml and refuses to replace an existing file, even an empty one, without --force. */
function emptyHint(file: string): string {
  const dir = path.dirname(file)
  const init = `envsync init --force${dir === '.' ? '' : ` --dir ${shellPath(dir)}`}`
  return path.basename(file) === 'envsync.yaml' ? `Run \`${init}\` to write a manifest in its place.` : `Write the manifest into it, or run \`${init}\` to create ${path.join(dir, 'envsync.yaml')} and use that.`
}

function hasSharedNodes(data: unknown): boolean {
  const seen = new Set<object>()
  const visit = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null) return false
    if (seen.has(v)) return true
    seen.add(v)
    return Object.values(v).some(visit)
  }
  return visit(data)
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
