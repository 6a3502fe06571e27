import {EnvsyncError, type Problem} from '../errors.js'

/**
 * .env files with the `dotenv` package's semantics, plus what dotenv does not do: positions for
 * errors, rejection of what dotenv would silently misread (an unterminated quote, a line that is
 * not KEY=value), and rewriting that keeps comments and untouched lines as they were.
 */

// dotenv's own line expression (lib/main.js, unchanged since v15), with indices (the d flag).
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/dgm

const QUOTES = `'"\``

/** The lines git writes around a conflict (diff3's ||||||| too). */
const CONFLICT_MARKER = /^(?:<{7}|={7}|>{7}|\|{7})(?: |$)/

export interface EnvEntry {
  key: string
  value: string
  /** 1-based line of the key. */
  line: number
  /** Offsets (in the normalised text) of the raw value, without trailing blanks or comment. */
  valueStart: number
  valueEnd: number
}

export interface EnvDocument {
  /** Text with line endings normalised to \n, as dotenv reads it. */
  text: string
  /** The file used CRLF line endings; a rewrite keeps them. */
  crlf: boolean
  entries: EnvEntry[]
}

/** Final values, last occurrence winning (as dotenv). */
export function envValues(doc: EnvDocument): Map<string, string> {
  return new Map(doc.entries.map((e) => [e.key, e.value]))
}

/** Keys set more than once (dotenv silently keeps the last). */
export function duplicateKeys(doc: EnvDocument): EnvEntry[] {
  const seen = new Set<string>()
  const dups: EnvEntry[] = []
  for (const e of doc.entries) {
    if (seen.has(e.key)) dups.push(e)
    seen.add(e.key)
  }
  return dups
}

/** offset → 1-based line and column, by binary search over line starts (files can be large). */
function lineIndex(text: string): (offset: number) => {line: number; column: number} {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return (offset) => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return {line: lo + 1, column: offset - starts[lo] + 1}
  }
}

export function parseEnv(input: string, file: string): EnvDocument {
  const crlf = input.includes('\r\n')
  const text = input.replace(/\r\n?/g, '\n')
  const entries: EnvEntry[] = []
  const problems: Problem[] = []
  const conflicts: number[] = []
  const position = lineIndex(text)
  const at = (offset: number) => ({file, ...position(offset)})

  // Text between matches must be blank lines and comments; anything else dotenv would drop silently.
  const checkGap = (from: number, to: number) => {
    let offset = from
    for (const raw of text.slice(from, to).split('\n')) {
      const content = raw.trim()
      if (content !== '' && !content.startsWith('#')) {
        const loc = at(offset + raw.indexOf(content[0]))
        if (CONFLICT_MARKER.test(content)) conflicts.push(loc.line)
        // Never quote the line: it may be the middle of a pasted secret (a PEM key without quotes).
        problems.push({
          message: `line ${loc.line} is not KEY=value`,
          location: loc,
          suggestion: 'write KEY=value; a value with line breaks or # needs quotes (KEY="…"); comments start with #',
        })
      }
      offset += raw.length + 1
    }
  }

  let covered = 0
  for (const m of text.matchAll(LINE)) {
    const indices = m.indices!
    if (m[0].length === 0) continue
    checkGap(covered, m.index)
    covered = m.index + m[0].length
    const key = m[1]
    const keyStart = indices[1][0]
    const sep = /^\s*(?:=|:\s)/.exec(text.slice(indices[1][1]))!
    let valueStart = indices[1][1] + sep[0].length
    let valueEnd = valueStart
    let raw = ''
    if (m[2] !== undefined) {
      ;[valueStart, valueEnd] = indices[2]
      raw = m[2]
      // Keep blanks before a trailing comment out of the value's span.
      valueEnd -= raw.length - raw.trimEnd().length
    }
    // dotenv's value rule.
    let value = raw.trim()
    const quote = value[0]
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, '$2')
    if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r')

    const trimmed = raw.trim()
    if (trimmed.length > 0 && QUOTES.includes(quote) && !(trimmed.length >= 2 && trimmed.endsWith(quote))) {
      const closes = trimmed.indexOf(quote, 1) !== -1
      problems.push({
        message: closes
          ? `${key}: text after the closing ${quote} quote`
          : `${key}: the ${quote} quote is never closed`,
        location: at(valueStart + raw.indexOf(quote)),
        suggestion: closes
          ? 'put the whole value inside the quotes, or move the text into a # comment'
          : `close the value with ${quote}, or use another quote style if the value contains ${quote}`,
      })
    }
    entries.push({key, value, line: at(keyStart).line, valueStart, valueEnd})
  }
  checkGap(covered, text.length)

  // Said as what it is: "line 9 is not KEY=value" sends one looking for a quoting mistake.
  if (conflicts.length > 0) {
    const file_ = file || 'the values file'
    throw new EnvsyncError(`a git merge left conflict markers (<<<<<<< ======= >>>>>>>) in ${file_}, on line ${conflicts.join(', ')}`, {
      code: 'VALUES_CONFLICT',
      location: {file, line: conflicts[0]},
      suggestion: `keep one side (\`git checkout --ours ${file_}\` or \`--theirs\`), or edit the lines, then \`envsync set ENV KEY\` for a value you want to change`,
    })
  }
  if (problems.length > 0) {
    throw new EnvsyncError(`${file} cannot be read safely: ${problems[0].message}`, {
      code: 'VALUES_INVALID',
      location: problems[0].location,
      suggestion: problems[0].suggestion,
      problems,
    })
  }
  return {text, crlf, entries}
}

/** Characters any reader takes unquoted, as is. Anything else gets quotes. */
const PLAIN = /^[A-Za-z0-9_\-.,:;/@+=%!?*~^()[\]{}<>|&]+$/

/**
 * The text to write after `KEY=` so that dotenv reads exactly `value` back, or undefined when no
 * dotenv syntax can hold it. Candidates, most readable first, are each proved by reading them
 * back with the parser above (which is dotenv's own expression): dotenv's rules are too irregular
 * to predict safely (a one-line value with no `#` falls through to the unquoted rule, which still
 * strips outer quotes; U+2028 ends a line for its regex). Two forms are never written, because
 * dotenv reads them only by backtracking and a later quote in the file can swallow the lines
 * after them: a quoted value ending in a backslash, an unquoted value starting with a quote.
 */
export function encodeValue(value: string): string | undefined {
  if (value === '') return ''
  const quotable = !value.endsWith('\\')
  const candidates = [
    PLAIN.test(value) && !QUOTES.includes(value[0]) ? value : undefined,
    // Single quotes before double: fully literal, and dotenv-expand leaves `$` in them alone.
    quotable ? `'${value}'` : undefined,
    quotable ? `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"` : undefined,
    quotable ? `\`${value}\`` : undefined,
    QUOTES.includes(value[0]) ? undefined : value,
  ]
  return candidates.find((form) => form !== undefined && readsBack(form, value))
}

/** Whether envsync's own reader reads `form` (a value as written after `K=`) as exactly `value`. */
export function readsBack(form: string, value: string): boolean {
  try {
    const {entries} = parseEnv(`K=${form}\n`, '')
    return entries.length === 1 && entries[0].value === value
  } catch {
    return false
  }
}

/** The dotenv form of a value, or a clear error naming the key; `fix` says what to do instead. */
export function encodeOrThrow(key: string, value: string, fix: string, exitCode?: number): string {
  const encoded = encodeValue(value)
  if (encoded === undefined) {
    throw new EnvsyncError(`the value of ${key} cannot be written as dotenv: no quoting style holds it`, {
      code: 'VALUE_UNREPRESENTABLE',
      exitCode,
      suggestion: `a value with ' " and \` together (or a carriage return beside ") has no dotenv form; ${fix}`,
    })
  }
  return encoded
}

/**
 * The document with `changes` applied: a string sets the key (in place, where it last was),
 * null removes every occurrence. New keys are appended in the given order. The result is parsed
 * again and compared, so a write can never change a value it was not asked to.
 */
export function applyChanges(doc: EnvDocument, changes: Map<string, string | null>, file: string): string {
  const keepOut = (key: string) => `change the value or keep ${key} out of ${file}`
  const last = new Map<string, EnvEntry>()
  for (const e of doc.entries) last.set(e.key, e)
  const edits: {start: number; end: number; text: string}[] = []
  for (const e of doc.entries) {
    const change = changes.get(e.key)
    if (change === undefined) continue
    if (change === null) {
      const lineStart = doc.text.lastIndexOf('\n', e.valueStart - 1) + 1
      const next = doc.text.indexOf('\n', e.valueEnd)
      edits.push({start: lineStart, end: next === -1 ? doc.text.length : next + 1, text: ''})
    } else if (last.get(e.key) === e) {
      edits.push({start: e.valueStart, end: e.valueEnd, text: encodeOrThrow(e.key, change, keepOut(e.key))})
    }
  }
  let text = doc.text
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end)
  }
  const added = [...changes].filter(([k, v]) => v !== null && !last.has(k))
  if (added.length > 0) {
    if (text.length > 0 && !text.endsWith('\n')) text += '\n'
    for (const [k, v] of added) text += `${k}=${encodeOrThrow(k, v!, keepOut(k))}\n`
  }

  const expected = envValues(doc)
  for (const [k, v] of changes) {
    if (v === null) expected.delete(k)
    else expected.set(k, v)
  }
  const actual = envValues(parseEnv(text, file))
  const same = actual.size === expected.size && [...expected].every(([k, v]) => actual.get(k) === v)
  if (!same) {
    throw new EnvsyncError(`refusing to write ${file}: the rewritten file would not read back the same values`, {
      code: 'VALUES_ROUNDTRIP',
      exitCode: 1,
      suggestion: 'nothing was written; please report this with the keys involved (never the values)',
    })
  }
  return doc.crlf ? text.replace(/\n/g, '\r\n') : text
}
