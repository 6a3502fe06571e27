import {createHash, randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {type CliResult, ROOT, runBin} from '../helpers/cli.js'
import {smallManifest} from '../helpers/project.js'

/**
 * A corpus of broken inputs, each run through the real binary (`envsync check production`):
 * every one must fail as a person would want — exit 2, one `error …` line naming the file and,
 * where the input has a position, the exact file:line:col; a "did you mean" or a hint where one
 * helps; never a stack trace; nothing on stdout; with --json exactly one envelope; nothing written.
 *
 * Manifests (*.yaml) are run as they are. Values files (*.env) are copied in as .env.production
 * beside a valid manifest. Two inputs are made here instead of committed: random bytes and a file
 * over the 8 MiB manifest limit.
 */

const CORPUS = path.dirname(fileURLToPath(import.meta.url))
const ENV = 'production'

interface Case {
  /** A file in test/corpus/, or the name of a generated input. */
  file: string
  /** The error code in the JSON envelope. */
  code: string
  /** Line and column of the headline; omitted when the input has no position (empty, binary…). */
  at?: [number, number]
  /** Further positions listed under the headline. */
  also?: [number, number][]
  /** Text the message must contain (stderr and the JSON error message). */
  says?: string[]
  /** Text of the suggestion (a "did you mean" or what to do). */
  hint?: string
  /** Inputs not committed to the corpus. */
  generate?: () => Buffer
  exit?: number
}

// Positions are 1-based, checked by hand against the corpus files (the column is where the
// offending token starts; comments note what is there).
const CASES: Case[] = [
  // --- not YAML ---------------------------------------------------------------------------
  // line 5 "  frontend: {}" is indented less than "    backend" above it: yaml flags the line start.
  {file: 'yaml-bad-indentation.yaml', code: 'MANIFEST_YAML', at: [5, 1], says: ['all mapping items must start at the same column'], hint: 'indentation'},
  // "services: [backend" (line 9) is never closed; yaml notices at the next key, "    generate:" (10:5).
  {file: 'yaml-unclosed-bracket.yaml', code: 'MANIFEST_YAML', at: [10, 5], says: ['end with a ]']},
  // the quote opened on line 9 runs to the end of the file (the file's last line is 10; 11:1 is EOF).
  {file: 'yaml-unclosed-quote.yaml', code: 'MANIFEST_YAML', at: [11, 1], says: ['missing closing "quote']},
  // line 4 is "\tbackend: {}".
  {file: 'yaml-tabs.yaml', code: 'MANIFEST_YAML', at: [4, 1], says: ['tabs are not allowed as indentation']},
  // second "project:" at line 7 col 1.
  {file: 'duplicate-key-top-level.yaml', code: 'MANIFEST_YAML', at: [7, 1], says: ['duplicate key']},
  // second "  JWT_SECRET:" at line 11 col 3.
  {file: 'duplicate-key-in-secrets.yaml', code: 'MANIFEST_YAML', at: [11, 3], says: ['duplicate key']},
  {file: 'alias-bomb.yaml', code: 'MANIFEST_ALIASES', says: ['expands YAML aliases too far'], hint: 'aliases'},
  // "    description: *db_url" (line 13): the alias at col 18.
  {file: 'yaml-undefined-alias.yaml', code: 'MANIFEST_YAML', at: [13, 18], says: ['alias *db_url refers to no anchor'], hint: 'define &db_url above this line'},
  // "    description: !Ref DatabaseUrl" (line 10): the tag at col 18.
  {file: 'yaml-tag-ref.yaml', code: 'MANIFEST_YAML', at: [10, 18], says: ['YAML tag !Ref is not supported'], hint: 'remove the tag'},
  {file: 'yaml-tag-js-function.yaml', code: 'MANIFEST_YAML', at: [11, 18], says: ['YAML tag !!js/function is not supported'], hint: 'remove the tag'},
  // "      - !!binary YmFja2VuZA==" (line 10): the tag at col 9.
  {file: 'yaml-tag-binary.yaml', code: 'MANIFEST_YAML', at: [10, 9], says: ['YAML tag !!binary is not supported'], hint: 'remove the tag'},
  // "  __proto__:" (line 11 col 3); "          __proto__: srv-abc123" (line 10 col 11).
  {file: 'proto-secret-key.yaml', code: 'MANIFEST_INVALID', at: [11, 3], says: ['"__proto__" cannot be a name'], hint: 'rename it'},
  {file: 'proto-service-name.yaml', code: 'MANIFEST_INVALID', at: [10, 11], says: ['"__proto__" cannot be a name'], hint: 'rename it'},

  // --- wrong types --------------------------------------------------------------------------
  // "  - backend" (line 4): the list starts at col 3.
  {file: 'type-services-list.yaml', code: 'MANIFEST_INVALID', at: [4, 3], says: ['services must be a mapping']},
  // '    required: "yes"': 4 spaces + "required: " = 14, the value at col 15.
  {file: 'type-required-string.yaml', code: 'MANIFEST_INVALID', at: [10, 15], says: ['secrets.SENTRY_DSN.required must be a boolean']},
  // "    minLength: -1": 4 + "minLength: " (11) = 15, the value at col 16.
  {file: 'type-minlength-negative.yaml', code: 'MANIFEST_INVALID', at: [10, 16], says: ['secrets.SMTP_PASSWORD.minLength needs at least 1']},
  {file: 'type-minlength-string.yaml', code: 'MANIFEST_INVALID', at: [10, 16], says: ['secrets.SMTP_PASSWORD.minLength must be a number']},
  // the document starts on line 2 (line 1 is a comment).
  {file: 'scalar.yaml', code: 'MANIFEST_INVALID', at: [2, 1], says: ['the manifest must be a mapping']},
  {file: 'list.yaml', code: 'MANIFEST_INVALID', at: [2, 1], says: ['the manifest must be a mapping']},

  // --- unknown keys: each with a "did you mean" ---------------------------------------------
  // "    requried: false" at line 10: the key at col 5.
  {file: 'unknown-key-requried.yaml', code: 'MANIFEST_INVALID', at: [10, 5], says: ['unknown key "requried" in secrets.SENTRY_DSN'], hint: 'did you mean "required"?'},
  // "servics:" at 3:1; the missing "services" is reported at the top mapping (2:1) below it.
  {file: 'unknown-key-servics.yaml', code: 'MANIFEST_INVALID', at: [3, 1], also: [[2, 1]], says: ['unknown key "servics"', 'services is required'], hint: 'did you mean "services"?'},
  {file: 'unknown-key-enviroments.yaml', code: 'MANIFEST_INVALID', at: [5, 1], also: [[2, 1]], says: ['unknown key "enviroments"', 'environments is required'], hint: 'did you mean "environments"?'},
  // "      kubernets:" at line 8 col 7.
  {file: 'unknown-target-kind.yaml', code: 'MANIFEST_INVALID', at: [8, 7], says: ['unknown key "kubernets" in environments.production.targets'], hint: 'did you mean "kubernetes"?'},
  // "  Backend: {}" at line 4 col 3.
  {file: 'bad-service-name-uppercase.yaml', code: 'MANIFEST_INVALID', at: [4, 3], says: ['invalid name "Backend" in services', 'lowercase']},
  // "      railway:" at line 8 col 7 has no project.
  {file: 'railway-missing-project.yaml', code: 'MANIFEST_INVALID', at: [8, 7], says: ['environments.production.targets.railway.project is required'], hint: 'add "project:"'},

  // --- references ---------------------------------------------------------------------------
  // "    services: [backnd]": 4 + "services: [" (11) = 15, the name at col 16.
  {file: 'unknown-service-ref.yaml', code: 'MANIFEST_INVALID', at: [10, 16], says: ['unknown service "backnd"'], hint: 'did you mean "backend"?'},
  // "    environments: [staging, prodution]": 4 + 15 + "staging, " (9) = 28, the name at col 29.
  {file: 'unknown-environment-ref.yaml', code: 'MANIFEST_INVALID', at: [11, 29], says: ['unknown environment "prodution"'], hint: 'did you mean "production"?'},

  // --- recipes, rotation, formats -----------------------------------------------------------
  // "    generate: b64:32": 4 + "generate: " (10) = 14, the value at col 15.
  {file: 'bad-recipe-b64.yaml', code: 'MANIFEST_INVALID', at: [10, 15], says: ['secrets.JWT_SECRET.generate', 'base64:N']},
  {file: 'bad-recipe-base64-zero.yaml', code: 'MANIFEST_INVALID', at: [10, 15], says: ['secrets.JWT_SECRET.generate', 'N > 0']},
  {file: 'bad-recipe-hex-no-size.yaml', code: 'MANIFEST_INVALID', at: [10, 15], says: ['secrets.ENCRYPTION_KEY.generate', 'hex:N']},
  // "    rotate: 90 days": 4 + "rotate: " (8) = 12, the value at col 13.
  {file: 'bad-rotate.yaml', code: 'MANIFEST_INVALID', at: [11, 13], says: ['secrets.JWT_SECRET.rotate', '90d']},
  // '    format: {regex: "^sk_…': 4 + "format: {" (9) + "regex: " (7) = 20, the string at col 21.
  {file: 'invalid-regex-format.yaml', code: 'MANIFEST_INVALID', at: [10, 21], says: ['invalid regular expression', 'Unterminated group']},
  // "    default: hunter2": the key "default" at col 5.
  // "    file: ../tls.key" (line 10): the value starts at column 11.
  {file: 'file-name-path.yaml', code: 'MANIFEST_INVALID', at: [10, 11], says: ['secrets.TLS_KEY.file', 'a file name such as "tls.key"']},
  // the second "    file: server.pem" (line 14) is where the clash shows.
  {file: 'file-name-clash.yaml', code: 'MANIFEST_INVALID', at: [14, 11], says: ['TLS_CERT and TLS_KEY would both be the secret file "server.pem"'], hint: 'file: other-name'},
  {file: 'default-on-sensitive.yaml', code: 'MANIFEST_INVALID', at: [10, 5], says: ['ADMIN_PASSWORD is sensitive, so it cannot have a default'], hint: 'sensitive: false'},
  // "    generate: alnum:32" (line 11): the value at col 15.
  {file: 'recipe-on-url-format.yaml', code: 'MANIFEST_INVALID', at: [11, 15], says: ['recipe alnum:32 never match format "postgres-url"']},
  // "    minLength: 64" (line 11): the value at col 16.
  {file: 'minlength-above-recipe.yaml', code: 'MANIFEST_INVALID', at: [11, 16], says: ['recipe hex:16 makes 32 characters, fewer than minLength 64'], hint: 'raise the recipe size or lower minLength'},

  // --- rules that can never hold ------------------------------------------------------------
  // "  - oneOf: [OPENAI_API_KEY, GEMINI_API_KEY]": "  - oneOf: [" (12) + "OPENAI_API_KEY, " (16) = 28, col 29.
  {file: 'rule-oneof-required-member.yaml', code: 'MANIFEST_INVALID', at: [14, 29], says: ['GEMINI_API_KEY is required, which makes the one-of group meaningless'], hint: 'set `required: false` on GEMINI_API_KEY'},
  // "  - oneOf: [OPENAI_API_KEY]": the list's "[" at col 12.
  {file: 'rule-oneof-single-key.yaml', code: 'MANIFEST_INVALID', at: [12, 12], says: ['rules[0].oneOf needs at least 2 items']},
  // same layout as above, line 15.
  {file: 'rule-unknown-key.yaml', code: 'MANIFEST_INVALID', at: [15, 29], says: ['rule refers to unknown key "GEMENI_API_KEY"'], hint: 'did you mean "GEMINI_API_KEY"?'},
  // "  - requires: [REDIS_URL, {key: QUEUE_BACKEND, equals: sqs}]": 15 + 11 + 6 + 15 + 8 = 55, col 56.
  {file: 'rule-requires-equals-enum.yaml', code: 'MANIFEST_INVALID', at: [17, 56], says: ['QUEUE_BACKEND can never equal "sqs"']},
  // "  - requires: [REDIS_URL, {key: USE_PG_QUEUE, equals: enabled}]": 15 + 11 + 6 + 14 + 8 = 54, col 55.
  {file: 'rule-requires-equals-bool.yaml', code: 'MANIFEST_INVALID', at: [18, 55], says: ['USE_PG_QUEUE can never equal "enabled"']},

  // --- platform rules -----------------------------------------------------------------------
  // "  RAILWAY_TOKEN:" at line 12 col 3.
  {file: 'railway-reserved-key.yaml', code: 'MANIFEST_INVALID', at: [12, 3], says: ['RAILWAY_TOKEN: names starting with RAILWAY_ are reserved by Railway'], hint: 'rename the key'},

  // --- not a manifest at all (no position) --------------------------------------------------
  {file: 'empty.yaml', code: 'MANIFEST_EMPTY', says: ['is empty'], hint: 'envsync init'},
  {file: 'whitespace-only.yaml', code: 'MANIFEST_EMPTY', says: ['is empty'], hint: 'envsync init'},
  {file: 'invalid-utf8.yaml', code: 'MANIFEST_BINARY', says: ['is not a text file']},
  {
    file: 'binary-garbage.yaml',
    code: 'MANIFEST_BINARY',
    says: ['is not a text file'],
    generate: () => {
      const bytes = randomBytes(4096)
      for (const i of [0, 100, 2048, 4095]) bytes[i] = 0
      return bytes
    },
  },
  {
    file: 'too-large.yaml',
    code: 'MANIFEST_TOO_LARGE',
    says: ['a manifest may be at most 8388608 bytes'],
    generate: () => Buffer.from(`${smallManifest()}# ${'padding '.repeat(1024 * 1024 + 16)}\n`),
  },

  // --- values files (copied in as .env.production beside a valid manifest) -------------------
  // 'DATABASE_URL="postgres…' on line 3: "DATABASE_URL=" is 13 characters, the quote at col 14.
  {file: 'env-unterminated-double.env', code: 'VALUES_INVALID', at: [3, 14], says: ['DATABASE_URL: the " quote is never closed'], hint: 'close the value with "'},
  // "VITE_API_URL='https…" on line 3: the quote at col 14.
  {file: 'env-unterminated-single.env', code: 'VALUES_INVALID', at: [3, 14], says: ["VITE_API_URL: the ' quote is never closed"], hint: "close the value with '"},
  // 'JWT_SECRET="…" extra' on line 1: the value's opening quote at col 12.
  {file: 'env-text-after-quote.env', code: 'VALUES_INVALID', at: [1, 12], says: ['JWT_SECRET: text after the closing " quote'], hint: '# comment'},
  // "  the database password is in 1password" on line 4: the text starts at col 3.
  {file: 'env-not-key-value.env', code: 'VALUES_INVALID', at: [4, 3], says: ['line 4 is not KEY=value'], hint: 'write KEY=value'},
  {file: 'env-invalid-utf8.env', code: 'VALUES_BINARY', says: ['is not a text file']},
]

interface Run {
  display: string
  human: CliResult
  json: CliResult
  before: string[]
  after: string[]
}

/** Each file's name, size, mode and content hash: a run must leave all of them as they were. */
function listing(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const file = path.join(dir, name)
      const st = statSync(file)
      const hash = st.isFile() ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) : 'dir'
      return `${name} ${st.size} ${(st.mode & 0o777).toString(8)} ${st.mtimeMs} ${hash}`
    })
}

async function runCase(c: Case): Promise<Run> {
  const dir = mkdtempSync(path.join(tmpdir(), 'envsync-corpus-'))
  try {
    const bytes = c.generate ? c.generate() : readFileSync(path.join(CORPUS, c.file))
    let manifest = c.file
    let display = c.file
    if (c.file.endsWith('.env')) {
      manifest = 'envsync.yaml'
      display = `.env.${ENV}`
      writeFileSync(path.join(dir, manifest), smallManifest(), {mode: 0o644})
      writeFileSync(path.join(dir, display), bytes, {mode: 0o600})
    } else {
      writeFileSync(path.join(dir, manifest), bytes, {mode: 0o644})
    }
    const before = listing(dir)
    const args = ['check', ENV, '--manifest', manifest]
    const human = await runBin(args, {cwd: dir, env: {ENVSYNC_MANIFEST: undefined}})
    const json = await runBin([...args, '--json'], {cwd: dir, env: {ENVSYNC_MANIFEST: undefined}})
    return {display, human, json, before, after: listing(dir)}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/** Runs `fn` over the items with at most `limit` at a time; one promise per item, in order. */
function pooled<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R>[] {
  let active = 0
  const waiting: (() => void)[] = []
  const acquire = () =>
    active < limit ? (active++, Promise.resolve()) : new Promise<void>((resolve) => waiting.push(() => (active++, resolve())))
  const release = () => {
    active--
    waiting.shift()?.()
  }
  return items.map(async (item) => {
    await acquire()
    try {
      return await fn(item)
    } finally {
      release()
    }
  })
}

function assertNoCrash(what: string, ...outputs: string[]): void {
  for (const out of outputs) {
    expect(out, `${what}: a stack trace`).to.not.match(/^\s+at /m)
    expect(out, `${what}: an internal error`).to.not.include('internal error')
    expect(out, `${what}: node internals`).to.not.include('node:internal')
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('corpus of broken inputs (real binary)', function () {
  // The whole corpus runs 4 processes at a time; each test waits for its own case.
  this.timeout(60_000)
  const runs = new Map<string, Promise<Run | Error>>()

  before(function () {
    if (!existsSync(path.join(ROOT, 'dist', 'commands', 'check.js'))) {
      throw new Error('dist/ is missing: run `npm run build` before the corpus tests')
    }
    const results = pooled(CASES, 4, (c) => runCase(c).catch((error: Error) => error))
    CASES.forEach((c, i) => runs.set(c.file, results[i]))
  })

  it('covers every file in the corpus, and has at least 35 inputs', () => {
    const files = readdirSync(CORPUS).filter((f) => f !== path.basename(fileURLToPath(import.meta.url)))
    const committed = CASES.filter((c) => !c.generate).map((c) => c.file)
    expect(files.sort()).to.deep.equal([...committed].sort())
    expect(new Set(CASES.map((c) => c.file)).size).to.equal(CASES.length)
    expect(CASES.length).to.be.at.least(35)
  })

  for (const c of CASES) {
    const exit = c.exit ?? 2
    it(`${c.file}: exit ${exit}, ${c.code}${c.at ? ` at ${c.at.join(':')}` : ''}`, async () => {
      const run = await runs.get(c.file)!
      if (run instanceof Error) throw run
      const {display, human, json} = run

      // Human output: one error block on stderr, nothing on stdout.
      expect(human.exitCode, human.stderr).to.equal(exit)
      expect(human.stdout, 'stdout').to.equal('')
      expect(human.stderr.startsWith('error '), human.stderr).to.equal(true)
      const headline = human.stderr.split('\n')[0]
      if (c.at) {
        expect(headline, 'the headline names file:line:col').to.include(`error ${display}:${c.at[0]}:${c.at[1]}: `)
      } else {
        expect(headline, 'the headline names the file').to.match(new RegExp(`^error ${escape(display)}: `))
        expect(human.stderr, 'no position where the input has none').to.not.match(new RegExp(`${escape(display)}:\\d+:\\d+`))
      }
      for (const [line, col] of c.also ?? []) expect(human.stderr).to.include(`${display}:${line}:${col} `)
      for (const text of c.says ?? []) expect(human.stderr).to.include(text)
      if (c.hint) expect(human.stderr, 'the suggestion').to.include(c.hint)
      assertNoCrash('stderr', human.stderr)

      // --json: exactly one envelope on stdout, the same exit code, nothing on stderr.
      expect(json.exitCode, json.stdout).to.equal(exit)
      expect(json.stderr, 'stderr with --json').to.equal('')
      let envelope: {ok: boolean; exitCode: number; command: string; error: Record<string, any>}
      try {
        envelope = JSON.parse(json.stdout)
      } catch {
        expect.fail(`stdout with --json is not one JSON document:\n${json.stdout}`)
      }
      expect(envelope).to.include({ok: false, exitCode: exit, command: 'check'})
      expect(envelope.error).to.be.an('object')
      expect(envelope.error).to.include({code: c.code, exitCode: exit, file: display})
      expect(envelope.error.message).to.be.a('string').and.include(display)
      expect(headline).to.include(envelope.error.message)
      if (c.at) expect([envelope.error.line, envelope.error.column]).to.deep.equal(c.at)
      else expect(envelope.error.line).to.equal(undefined)
      for (const text of c.says ?? []) expect(JSON.stringify(envelope.error)).to.include(JSON.stringify(text).slice(1, -1))
      if (c.hint) {
        const hints = [envelope.error.suggestion, ...(envelope.error.problems ?? []).map((p: {suggestion?: string}) => p.suggestion)]
        expect(hints.some((h) => typeof h === 'string' && h.includes(c.hint!)), `a suggestion with "${c.hint}" in ${JSON.stringify(hints)}`).to.equal(true)
      }
      assertNoCrash('--json stdout', json.stdout)

      // Nothing written: the directory is as it was before both runs.
      expect(run.after).to.deep.equal(run.before)
    })
  }
})
