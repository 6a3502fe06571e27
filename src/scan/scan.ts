import {asEnvsyncError, EnvsyncError} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {dockerDir} from '../manifest/resolve.js'
import {displayPath} from '../paths.js'
import {REDACTED, redactValue} from '../redact.js'
import {readStore} from '../values/store.js'
import {listFiles, readScanFile} from './files.js'
import {gitOutput} from './git.js'
import {eachBlob, introducingCommits} from './history.js'
import {Matcher, type Match} from './match.js'
import {decodeName, displayName} from './names.js'
import {MIN_VALUE_LENGTH, needlesOf, type Form} from './needles.js'
import {findAll} from './views.js'

export interface ScanOptions {
  /** Files and directories to scan; none: the project. */
  paths: string[]
  /** Only the values of these environments; default: every environment. */
  environments?: string[]
  history: boolean
  /** With the project's git file list: git-ignored files too (logs, build output). */
  ignored: boolean
}

/** A key whose value was found: the environment's, and for a previous key the key it is the old value of. */
export interface Owner {
  environment: string
  key: string
  previousOf?: string
}

interface Place {
  /** 0: the value is in the path (column: in the path as shown), not in the content. */
  line: number
  column: number
  /** How the value appears there: as is, base64, URL-encoded, JSON-escaped. */
  form: Form
  keys: Owner[]
  /** The value is in the path, not in the content. */
  inName?: true
}

export interface FileFinding extends Place {
  /** The path, redacted, control characters as they are (the renderer escapes them). */
  file: string
}

export interface HistoryFinding extends Place {
  /** The short id of a commit that introduced the content. */
  commit: string
  /** Redacted, as FileFinding's file. */
  path: string
}

export interface NotScanned {
  environment: string
  reason: string
  suggestion?: string
}

export interface ScanResult {
  /** Places found, in files and in history (a value twice on one line counts once). */
  found: number
  files: FileFinding[]
  history?: HistoryFinding[]
  /** Findings not listed (past MAX_FINDINGS), still counted in `found`. */
  unlisted: number
  scanned: {environments: string[]; values: number; files: number; bytes: number; ms: number; commits?: number; blobs?: number; historyBytes?: number; historyMs?: number}
  /** Environments whose values could not be read here: their values were not looked for. */
  notScanned: NotScanned[]
  /** Keys whose values are too short to look for: they would match by chance. */
  short: Owner[]
  skipped: {byDesign: string[]; large: string[]; special: number; unreadable: string[]; largeBlobs?: number}
  /** The commands that make each found value worthless. */
  next: string[]
}

/** Enough for a person to act on; a log holding a value a million times would otherwise fill the terminal. */
export const MAX_FINDINGS = 1000

/**
 * Looks for the exact values of the sensitive secrets (current, and previous ones kept for a grace
 * period) and their encodings in the project's files and, with `history`, in every blob of the
 * git history. A value inside a longer token counts: the value is there to read. Never returns a
 * value or a part of one: places, keys and environments.
 */
export async function runScan(manifest: Manifest, options: ScanOptions): Promise<ScanResult> {
  const named = options.environments !== undefined
  const environments = options.environments ?? manifest.environmentNames
  for (const env of environments) manifest.environment(env)
  if (options.history && gitOutput(manifest.dir, ['rev-parse', '--git-dir']) === undefined) {
    throw new EnvsyncError(`--history: ${displayPath(manifest.dir) || '.'} is not in a git repository`, {code: 'SCAN_NO_GIT', suggestion: 'leave out --history to scan the files only'})
  }
  const {values, owners, notScanned, short} = await valuesOf(manifest, environments, named)
  const matcher = new Matcher(needlesOf(values))
  const record = new Findings(owners)
  const result: ScanResult = {
    found: 0,
    files: [],
    unlisted: 0,
    scanned: {environments: environments.filter((e) => !notScanned.some((n) => n.environment === e)), values: values.length, files: 0, bytes: 0, ms: 0},
    notScanned,
    short,
    skipped: {byDesign: [], large: [], special: 0, unreadable: []},
    next: [],
  }

  let started = performance.now()
  const keep = manifest.environmentNames.flatMap((env) => [manifest.valuesFile(env), ...(manifest.environment(env).targets?.docker ? [dockerDir(manifest, env)] : [])])
  const list = listFiles(manifest.dir, options.paths, {ignored: options.ignored, keep})
  /** A path as output shows it: a value in it (a log named after a token) is a finding and [redacted]. */
  const shown = (display: string): {text: string; places: Place[]} => {
    const bytes = Buffer.from(display)
    const matches = values.length === 0 ? [] : findAll(matcher, bytes)
    return {text: redactValue(masked(bytes, matches)), places: record.places(bytes, matches)}
  }
  result.skipped.byDesign = list.byDesign.map((f) => shown(f).text)
  result.skipped.special = list.special
  for (const file of list.files) {
    const name = shown(displayName(file))
    for (const place of name.places) result.files.push({file: name.text, ...place, line: 0, inName: true})
    const read = readScanFile(file)
    if ('skipped' in read) {
      if (read.skipped === 'large') result.skipped.large.push(name.text)
      else if (read.skipped === 'unreadable') result.skipped.unreadable.push(name.text)
      else result.skipped.special++
      continue
    }
    result.scanned.files++
    result.scanned.bytes += read.bytes.length
    if (values.length === 0) continue
    for (const place of record.places(read.bytes, findAll(matcher, read.bytes))) result.files.push({file: name.text, ...place})
  }
  result.scanned.ms = Math.round(performance.now() - started)

  if (options.history) {
    started = performance.now()
    const found: {sha: string; path: Buffer; places: Place[]}[] = []
    const stats = await eachBlob(manifest.dir, (blob) => {
      if (values.length === 0) return
      const matches = findAll(matcher, blob.bytes)
      if (matches.length > 0) found.push({sha: blob.sha, path: blob.path, places: record.places(blob.bytes, matches)})
      const inName = findAll(matcher, blob.path)
      if (inName.length > 0) found.push({sha: blob.sha, path: blob.path, places: record.places(blob.path, inName).map((place) => ({...place, line: 0, inName: true}))})
    })
    const commits = await introducingCommits(manifest.dir, new Set(found.map((f) => f.sha)))
    result.history = found.flatMap((f) => {
      const at = commits.get(f.sha)
      // A value in a committed path is a finding too; the path is shown redacted.
      const name = shown(decodeName(at?.path ?? f.path))
      return f.places.map((place) => ({commit: at ? at.commit.slice(0, 12) : f.sha.slice(0, 12), path: name.text, ...place}))
    })
    result.history.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line)
    Object.assign(result.scanned, {commits: stats.commits, blobs: stats.blobs, historyBytes: stats.bytes, historyMs: Math.round(performance.now() - started)})
    if (stats.large > 0) result.skipped.largeBlobs = stats.large
  }

  result.found = result.files.length + (result.history?.length ?? 0)
  if (result.found > MAX_FINDINGS) {
    result.unlisted = result.found - MAX_FINDINGS
    const keepFiles = Math.min(result.files.length, MAX_FINDINGS)
    result.files = result.files.slice(0, keepFiles)
    if (result.history) result.history = result.history.slice(0, MAX_FINDINGS - keepFiles)
  }
  result.next = nextSteps(record.foundKeys)
  return result
}

/**
 * The distinct values of the environments' sensitive keys, each with every key holding it. An
 * environment whose store cannot be read here (no key for an encrypted store, no credentials for
 * a secret manager) is named, not an error — unless it was asked for by name.
 */
async function valuesOf(manifest: Manifest, environments: string[], named: boolean) {
  const byValue = new Map<string, Owner[]>()
  const notScanned: NotScanned[] = []
  const short: Owner[] = []
  for (const env of environments) {
    let store
    try {
      store = await readStore(manifest, env)
    } catch (error) {
      // Only a store this machine cannot open is a note; a damaged one is bad input (not an all-clear).
      if (named || !(error instanceof EnvsyncError) || !unreadableHere(error)) throw error
      const e = asEnvsyncError(error)
      notScanned.push({environment: env, reason: unreadableReason(e), ...(e.suggestion ? {suggestion: e.suggestion} : {})})
      continue
    }
    for (const spec of manifest.secretsFor(env)) {
      if (spec.sensitive === false) continue
      const value = store.values.get(spec.key)?.reveal()
      if (!value) continue
      const owner: Owner = {environment: env, key: spec.key, ...(spec.previousOf ? {previousOf: spec.previousOf} : {})}
      if ([...value].length < MIN_VALUE_LENGTH) short.push(owner)
      else {
        const list = byValue.get(value)
        if (list) list.push(owner)
        else byValue.set(value, [owner])
      }
    }
  }
  return {values: [...byValue.keys()], owners: [...byValue.values()], notScanned, short}
}

/** No key for an encrypted store, no credentials for a secret manager: readable elsewhere, not broken. */
const unreadableHere = (e: EnvsyncError) => e.code === 'STORE_LOCKED' || e.code.startsWith('AUTH_')

/** The path's text with the matched byte ranges as [redacted] (overlapping ones merged). */
function masked(bytes: Buffer, matches: Match[]): string {
  if (matches.length === 0) return bytes.toString('utf8')
  const ranges = matches.map((m) => [m.at, m.end ?? m.at + m.needle.bytes.length]).sort((a, b) => a[0] - b[0])
  let out = ''
  let at = 0
  for (const [start, end] of ranges) {
    if (end <= at) continue
    if (start >= at) out += bytes.toString('utf8', at, start) + REDACTED
    at = end
  }
  return out + bytes.toString('utf8', at)
}

function unreadableReason(e: EnvsyncError): string {
  if (e.code === 'STORE_LOCKED') return 'no key for its encrypted store'
  if (e.code.startsWith('AUTH_')) return `no credentials for its secret manager: ${e.message}`
  return e.message
}

/** Matches as places: line and column, one per value and line, with the keys of the value. */
class Findings {
  readonly foundKeys = new Map<string, Owner>()

  constructor(private readonly owners: Owner[][]) {}

  places(buf: Buffer, matches: Match[]): Place[] {
    matches.sort((a, b) => a.at - b.at)
    const out: Place[] = []
    const seen = new Set<string>()
    let line = 1
    let lineStart = 0
    for (const m of matches) {
      for (let nl = buf.indexOf(10, lineStart); nl !== -1 && nl < m.at; nl = buf.indexOf(10, lineStart)) {
        line++
        lineStart = nl + 1
      }
      const id = `${line}:${m.needle.value}`
      if (seen.has(id)) continue
      seen.add(id)
      const keys = this.owners[m.needle.value]
      for (const k of keys) this.foundKeys.set(`${k.environment}\0${k.key}`, k)
      out.push({line, column: buf.subarray(lineStart, m.at).toString('utf8').length + 1, form: m.form ?? m.needle.form, keys})
    }
    return out
  }
}

/** `envsync rotate ENV KEY…` per environment; a leaked previous value: end its grace now. */
function nextSteps(found: Map<string, Owner>): string[] {
  const byEnv = new Map<string, {keys: Set<string>; finish: boolean}>()
  for (const o of found.values()) {
    const entry = byEnv.get(o.environment) ?? {keys: new Set<string>(), finish: false}
    byEnv.set(o.environment, entry)
    if (o.previousOf) entry.finish = true
    else entry.keys.add(o.key)
  }
  const out: string[] = []
  for (const [env, {keys, finish}] of [...byEnv].sort(([a], [b]) => a.localeCompare(b))) {
    if (keys.size > 0) out.push(`envsync rotate ${env} ${[...keys].sort().join(' ')}`)
    if (finish) out.push(`envsync rotate ${env} --finish --force`)
  }
  return out
}
