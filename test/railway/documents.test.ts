import {createHash} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'
import {buildClientSchema, Kind, parse, validate, type DocumentNode, type GraphQLSchema} from 'graphql'
import ts from 'typescript'

import * as railwayDocuments from '../../src/targets/railway-documents.js'

/**
 * Every GraphQL document envsync can send to Railway, validated against Railway's FULL
 * published schema (test/fixtures/railway-schema.json, see test/fixtures/README.md) with
 * graphql-js `validate(schema, parse(doc))`. A document the real API would refuse fails here with
 * its name and graphql-js's errors, before any fake or network is involved.
 *
 * Where documents come from:
 *  1. every string export of src/targets/railway-documents.ts (and the strings of exported
 *     objects such as `documents`), taken from the module at run time, so `${connection}`
 *     pieces are filled in;
 *  2. a scan of src/**\/*.ts with the TypeScript parser for string and template literals that
 *     open like an operation (`query Name(`, `mutation {` …), so a document written elsewhere is
 *     not missed. A static one is validated as found; one built with `${…}` can only be checked
 *     through its module's exports, so outside railway-documents.ts it is an error.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SRC = path.join(ROOT, 'src')
const DOCUMENTS_FILE = path.join(SRC, 'targets', 'railway-documents.ts')
const SCHEMA_FILE = path.join(ROOT, 'test', 'fixtures', 'railway-schema.json')
/** An operation's opening: keyword, optional name, then its variables or selection set. */
const OPERATION_START = /^\s*(query|mutation|subscription)\b\s*([A-Za-z_][A-Za-z0-9_]*)?\s*[({]/

interface Found {
  /** For messages: "src/x.ts:12". */
  where: string
  file: string
  /** The literal's text; for a template with substitutions, its text before the first one. */
  text: string
  dynamic: boolean
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(p)
    return e.isFile() && p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

/** String and template literals in src/ that look like GraphQL operations. */
function scanSources(): Found[] {
  return sourceFiles(SRC).flatMap((file) => scanText(file, readFileSync(file, 'utf8')))
}

function scanText(file: string, text: string): Found[] {
  const out: Found[] = []
  if (!/\b(query|mutation|subscription)\b/.test(text)) return out
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)
  const where = path.isAbsolute(file) ? path.relative(ROOT, file) : file
  {
    const visit = (node: ts.Node): void => {
      let literal: string | undefined
      let dynamic = false
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) literal = node.text
      else if (ts.isTemplateExpression(node)) {
        literal = node.head.text
        dynamic = true
      }
      if (literal !== undefined && OPERATION_START.test(literal)) {
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1
        out.push({where: `${where}:${line}`, file, text: literal, dynamic})
      }
      ts.forEachChild(node, visit)
    }
    visit(sf)
  }
  return out
}

/**
 * Exported documents of railway-documents.ts, one entry per distinct document, named by its
 * export(s): "PROJECT (= documents.PROJECT)".
 */
function exportedDocuments(): Map<string, string> {
  const names = new Map<string, string[]>()
  const add = (name: string, v: unknown) => {
    if (typeof v === 'string' && OPERATION_START.test(v)) names.set(v, [...(names.get(v) ?? []), name])
  }
  for (const [name, value] of Object.entries(railwayDocuments as Record<string, unknown>)) {
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) add(`${name}.${k}`, v)
    else add(name, value)
  }
  return new Map([...names].map(([doc, n]) => [n.length > 1 ? `${n[0]} (= ${n.slice(1).join(', ')})` : n[0]!, doc]))
}

function problems(schema: GraphQLSchema, source: string): string[] {
  let doc: DocumentNode
  try {
    doc = parse(source)
  } catch (error) {
    return [(error as Error).message]
  }
  const errors = validate(schema, doc).map((e) => e.message)
  // envsync sends no operationName: a document with two operations would be refused.
  const operations = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)
  if (operations.length !== 1) errors.push(`holds ${operations.length} operations; envsync sends one per document`)
  return errors
}

describe('Railway GraphQL documents against the published schema', () => {
  let schema: GraphQLSchema
  const exported = exportedDocuments()
  const scanned = scanSources()

  before(() => {
    schema = buildClientSchema(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')).data)
  })

  it('the fixture is the full published schema (not a hand-trimmed excerpt)', () => {
    expect(schema.getQueryType()?.name).to.equal('Query')
    expect(schema.getMutationType()?.name).to.equal('Mutation')
    expect(Object.keys(schema.getTypeMap()).length).to.be.greaterThan(500)
    for (const f of ['project', 'projects', 'projectToken', 'variables']) expect(schema.getQueryType()!.getFields(), f).to.have.property(f)
    for (const f of ['variableCollectionUpsert', 'variableDelete', 'serviceInstanceRedeploy']) expect(schema.getMutationType()!.getFields(), f).to.have.property(f)
  })

  it('the fixture is the copy test/fixtures/README.md describes (same SHA-256)', () => {
    const readme = readFileSync(path.join(ROOT, 'test', 'fixtures', 'README.md'), 'utf8')
    const recorded = /## railway-schema\.json[\s\S]*?SHA-256: `([0-9a-f]{64})`/.exec(readme)?.[1]
    expect(createHash('sha256').update(readFileSync(SCHEMA_FILE)).digest('hex')).to.equal(recorded)
  })

  it('the check is not vacuous: a document with an unknown field or a wrong argument fails', () => {
    expect(problems(schema, 'query Bad { project(id: "x") { id nope } }').join('\n')).to.match(/Cannot query field "nope" on type "Project"/)
    expect(problems(schema, 'query Bad($p: String!) { variables(projectId: $p) }').join('\n')).to.match(/argument "environmentId" of type "String!" is required/)
    expect(problems(schema, 'mutation Bad($i: VariableDeleteInput!) { variableDelete(input: $i, skipDeploys: true) }').join('\n')).to.match(/Unknown argument "skipDeploys"/)
    expect(problems(schema, 'query A { projectToken { projectId } } query B { projectToken { environmentId } }').join('\n')).to.match(/2 operations/)
  })

  it('the scan recognises documents however they are written', () => {
    const sample = [
      'const a = `query Foo($id: String!) { project(id: $id) { id } }`',
      "const b = 'mutation { variableDelete(input: {projectId: \"p\", environmentId: \"e\", name: \"N\"}) }'",
      'const c = gql`\n  query {\n    projectToken { projectId }\n  }`',
      'const d = `mutation Dyn($x: String!) { ${field} }`',
      "const notOne = 'query failed, retrying'",
      "const alsoNot = 'the mutation was applied'",
    ].join('\n')
    const found = scanText('sample.ts', sample)
    expect(found.map((f) => [f.where, f.dynamic])).to.deep.equal([
      ['sample.ts:1', false],
      ['sample.ts:2', false],
      ['sample.ts:3', false],
      ['sample.ts:7', true],
    ])
  })

  it('finds every document: all exports of railway-documents.ts, and they are the ones the scan sees there', () => {
    const names = [...exported.keys()].map((n) => n.split(' ')[0])
    expect(names).to.include.members(['PROJECT', 'PROJECTS', 'PROJECT_TOKEN', 'VARIABLES', 'UPSERT', 'DELETE', 'REDEPLOY'])
    const inFile = scanned.filter((f) => f.file === DOCUMENTS_FILE)
    const values = new Set(exported.values())
    expect(inFile.length, 'documents written in railway-documents.ts').to.equal(values.size)
    for (const f of inFile) {
      expect([...values].some((v) => v.startsWith(f.text)), `${f.where} matches an export`).to.equal(true)
    }
  })

  it('documents written outside railway-documents.ts are static (so they can be validated)', () => {
    const dynamic = scanned.filter((f) => f.dynamic && f.file !== DOCUMENTS_FILE)
    expect(
      dynamic.map((f) => `${f.where}: built with \${…}; move it to src/targets/railway-documents.ts`),
      'dynamic documents outside railway-documents.ts',
    ).to.deep.equal([])
  })

  describe('each exported document validates', () => {
    for (const [name, source] of exportedDocuments()) {
      it(name, () => {
        const errors = problems(schema, source)
        expect(errors, `${name} does not validate against Railway's schema:\n  ${errors.join('\n  ')}\n${source}`).to.deep.equal([])
      })
    }
  })

  describe('each document found elsewhere in src/ validates', () => {
    const elsewhere = scanSources().filter((f) => !f.dynamic && f.file !== DOCUMENTS_FILE)
    if (elsewhere.length === 0) it('(none outside railway-documents.ts)', () => {})
    for (const found of elsewhere) {
      it(found.where, () => {
        const errors = problems(schema, found.text)
        expect(errors, `${found.where} does not validate against Railway's schema:\n  ${errors.join('\n  ')}\n${found.text}`).to.deep.equal([])
      })
    }
  })
})
