import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'

import type {Document} from 'yaml'

import {EnvsyncError} from '../errors.js'
import {displayPath} from '../paths.js'
import {registerSecret} from '../redact.js'

/**
 * The kubeconfig as kubectl reads it (client-go's loading rules), so envsync writes to the very
 * cluster `kubectl config current-context` names:
 * - the files of $KUBECONFIG in order (empty entries and repeats ignored), else ~/.kube/config;
 *   a file that does not exist is skipped, one that cannot be read or is not a kubeconfig is an error;
 * - YAML 1.1 as kubectl parses it (`yes`, `on`, `0123` are not strings; a date is);
 * - clusters, users and contexts: the first file to define a name wins, entries are never merged;
 *   current-context: the first file that sets one;
 * - relative file paths in a file are relative to that file's directory.
 * Every credential is made known to the redaction point as the file is read, and no parser text
 * (whose code frames quote the lines around an error, tokens included) ever reaches a message:
 * errors name file:line:col and the field.
 */

export interface NamedEntry {
  name: string
  /** The entry's body (`cluster:`, `user:`, `context:`), paths made absolute. */
  body: Record<string, unknown>
  /** The file that defined it (for messages). */
  file: string
}

export interface Kubeconfig {
  /** Files read, in order (missing ones skipped). */
  files: string[]
  /** What was looked at, for messages: the KUBECONFIG list, or ~/.kube/config. */
  looked: string
  clusters: Map<string, NamedEntry>
  users: Map<string, NamedEntry>
  contexts: Map<string, NamedEntry>
  currentContext?: {name: string; file: string}
}

/** The context envsync uses, with its cluster and user. */
export interface KubeContext {
  name: string
  namespace?: string
  cluster: NamedEntry
  user?: NamedEntry
  /** The kubeconfig (one document) client-node is given: that context alone. */
  document: string
}

/** Larger than any real kubeconfig; stops a runaway file (or /dev/zero) early. */
const MAX_BYTES = 16 * 1024 * 1024

const fail = (message: string, suggestion: string, code = 'K8S_KUBECONFIG') => new EnvsyncError(message, {code, exitCode: 1, suggestion})

/** The files kubectl would read, in order. */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): {files: string[]; fromEnv: boolean} {
  const list = env.KUBECONFIG
  if (list === undefined || list === '') return {files: [path.join(home, '.kube', 'config')], fromEnv: false}
  const files = [...new Set(list.split(path.delimiter).filter((f) => f !== '').map((f) => path.resolve(f)))]
  return {files, fromEnv: true}
}

/** Reads and merges the kubeconfig files. Undefined: none of them exists. */
export function loadKubeconfig(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): Kubeconfig | undefined {
  const {files, fromEnv} = kubeconfigFiles(env, home)
  const looked = fromEnv ? `KUBECONFIG (${files.map(displayPath).join(path.delimiter) || 'empty'})` : displayPath(files[0])
  const merged: Kubeconfig = {files: [], looked, clusters: new Map(), users: new Map(), contexts: new Map()}
  for (const file of files) {
    const text = readKubeconfig(file)
    if (text === undefined) continue
    merged.files.push(file)
    const doc = parseKubeconfig(file, text)
    for (const [field, map] of [['clusters', merged.clusters], ['users', merged.users], ['contexts', merged.contexts]] as const) {
      for (const entry of doc[field]) if (!map.has(entry.name)) map.set(entry.name, entry)
    }
    if (!merged.currentContext && doc.currentContext) merged.currentContext = {name: doc.currentContext, file}
  }
  return merged.files.length > 0 ? merged : undefined
}

/**
 * The context to use — `requested` (--context or the manifest's `context:`) or current-context —
 * checked as kubectl checks it: it exists, and so do its cluster (with a server) and user.
 */
export function selectContext(kc: Kubeconfig, requested?: {name: string; from: string}): KubeContext {
  const names = [...kc.contexts.keys()]
  const where = kc.files.length === 1 ? `kubeconfig ${displayPath(kc.files[0])}` : `the kubeconfig (${kc.files.map(displayPath).join(', ')})`
  const choose = names.length > 0 ? `contexts: ${names.join(', ')}` : 'it defines no context'
  let name = requested?.name
  if (name === undefined) {
    if (!kc.currentContext) {
      if (names.length === 0) {
        const empty = kc.files.length === 1 ? `kubeconfig ${displayPath(kc.files[0])} defines no context (is it empty?)` : `${where} defines no context`
        throw fail(empty, 'point KUBECONFIG at the kubeconfig of your cluster (`kubectl config view` shows what kubectl sees)', 'K8S_NO_KUBECONFIG')
      }
      throw fail(`${where} sets no current-context`, `choose one (${choose}): \`kubectl config use-context NAME\`, \`context:\` on the kubernetes target, or --context`, 'K8S_NO_CONTEXT')
    }
    name = kc.currentContext.name
  }
  const context = kc.contexts.get(name)
  if (!context) {
    const from = requested ? requested.from : `current-context in ${displayPath(kc.currentContext!.file)}`
    throw fail(`${where} has no context "${name}" (${from})`, choose, 'K8S_NO_CONTEXT')
  }
  const at = `context "${name}" (${displayPath(context.file)})`
  const clusterName = str(context.body.cluster)
  const cluster = clusterName === undefined ? undefined : kc.clusters.get(clusterName)
  if (!cluster) throw fail(clusterName ? `${at} names cluster "${clusterName}", which ${where} does not define` : `${at} names no cluster`, 'fix the context, or choose another with --context')
  const userName = str(context.body.user)
  const user = userName ? kc.users.get(userName) : undefined
  if (userName && !user) throw fail(`${at} names user "${userName}", which ${where} does not define`, 'fix the context, or choose another with --context')
  checkServer(cluster)
  const entries = (e: NamedEntry | undefined, field: string) => (e ? [{name: e.name, [field]: e.body}] : [])
  const document = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries(cluster, 'cluster'),
    users: entries(user, 'user'),
    contexts: [{name, context: {...context.body, cluster: cluster.name, user: user?.name ?? ''}}],
    'current-context': name,
  })
  return {name, namespace: str(context.body.namespace) || undefined, cluster, user, document}
}

/** A server URL with userinfo would be printed in every message that names the server. */
function checkServer(cluster: NamedEntry): void {
  const at = `cluster "${cluster.name}" (${displayPath(cluster.file)})`
  const server = str(cluster.body.server)
  if (!server) throw fail(`${at} has no server`, 'set `server: https://HOST:PORT` in the cluster entry')
  let url: URL
  try {
    url = new URL(server)
  } catch {
    throw fail(`${at}: server is not a URL`, 'set `server: https://HOST:PORT` in the cluster entry')
  }
  if (url.username || url.password) {
    throw fail(`${at}: the server URL carries a user name or password (host ${url.host})`, 'remove `user:password@` from the server URL; credentials belong in the user entry (token, client certificate)')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fail(`${at}: server must be an https URL, not ${url.protocol}`, 'set `server: https://HOST:PORT` in the cluster entry')
  // The Kubernetes client refuses plain http unless verification is off (it would be off anyway).
  if (url.protocol === 'http:' && cluster.body['insecure-skip-tls-verify'] !== true) {
    throw fail(`${at}: server ${url.protocol}//${url.host} is plain http`, 'use the https address of the API server, or set `insecure-skip-tls-verify: true` on the cluster to allow plain http')
  }
}

// ---- one file ---------------------------------------------------------------------------------

/** The file's text; undefined when it does not exist (kubectl skips it). Never blocks on a FIFO. */
function readKubeconfig(file: string): string | undefined {
  const shown = displayPath(file)
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw fail(`cannot read kubeconfig ${shown}: ${code ?? 'unreadable'}`, code === 'EACCES' ? 'check the file permissions' : 'check the KUBECONFIG list')
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw fail(`kubeconfig ${shown} is not a regular file`, 'point KUBECONFIG at kubeconfig files (a list separated by ":")')
    if (stat.size > MAX_BYTES) throw fail(`kubeconfig ${shown} is ${stat.size} bytes; that is no kubeconfig`, 'point KUBECONFIG at the kubeconfig of your cluster')
    const bytes = Buffer.alloc(stat.size)
    let read = 0
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read)
      if (n === 0) break
      read += n
    }
    const text = bytes.subarray(0, read).toString('utf8')
    registerCredentialLines(text)
    return text
  } catch (error) {
    if (error instanceof EnvsyncError) throw error
    throw fail(`cannot read kubeconfig ${shown}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, 'check the file')
  } finally {
    closeSync(fd)
  }
}

/** Before any parsing: a file too broken to parse still has its credentials hidden. */
function registerCredentialLines(text: string): void {
  const pattern = /(?:^|[\s{,])["']?(?:token|password|client-key-data|access-token|refresh-token|id-token|client-secret)["']?\s*:\s*["']?([^\s"',}]+)/gm
  for (const m of text.matchAll(pattern)) registerSecret(m[1])
}

type YamlLib = typeof import('yaml')
let yamlLib: YamlLib | undefined
function yaml(): YamlLib {
  yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib
  return yamlLib
}

interface ParsedFile {
  clusters: NamedEntry[]
  users: NamedEntry[]
  contexts: NamedEntry[]
  currentContext?: string
}

/** Fields read as strings by client-go; any other type is refused, as kubectl refuses it. */
const STRING_FIELDS: Record<string, string[]> = {
  clusters: ['server', 'certificate-authority', 'certificate-authority-data', 'tls-server-name', 'proxy-url'],
  users: ['token', 'tokenFile', 'username', 'password', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'as'],
  contexts: ['cluster', 'user', 'namespace'],
}
const BODY: Record<string, string> = {clusters: 'cluster', users: 'user', contexts: 'context'}
/** Relative paths resolved against the file's directory, as client-go does. */
const PATH_FIELDS: Record<string, string[]> = {clusters: ['certificate-authority'], users: ['client-certificate', 'client-key', 'tokenFile'], contexts: []}

function parseKubeconfig(file: string, text: string): ParsedFile {
  const {LineCounter, parseDocument} = yaml()
  const lines = new LineCounter()
  // kubectl's YAML: 1.1 scalars, but dates and 1:20 stay strings; a repeated key: the last wins.
  const doc = parseDocument(text, {
    version: '1.1',
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: false,
    customTags: (tags) => tags.filter((t) => !(typeof t === 'object' && (t.tag === 'tag:yaml.org,2002:timestamp' || t.format === 'TIME'))),
  })
  const shown = displayPath(file)
  const at = (p: (string | number)[]) => {
    const node = doc.getIn(p, true) as {range?: [number, number, number]} | undefined
    const pos = lines.linePos(node?.range?.[0] ?? (doc.contents as {range?: number[]} | null)?.range?.[0] ?? 0)
    return `${shown}:${pos.line}:${pos.col}`
  }
  const problem = (p: (string | number)[], what: string) => fail(`kubeconfig ${at(p)}: ${what}`, 'fix the file (`kubectl config view` reads it the same way)')
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const pos = lines.linePos(e.pos[0])
    throw fail(`kubeconfig ${shown}:${pos.line}:${pos.col} is not valid YAML (${yamlReason(e.code)})`, 'fix the YAML at that position (indentation, quotes, brackets)')
  }
  const data = toJS(doc, shown)
  const out: ParsedFile = {clusters: [], users: [], contexts: []}
  if (data === null || data === undefined) return out
  if (!isMap(data)) throw problem([], 'not a kubeconfig (expected a mapping with clusters, users and contexts)')
  if (data.kind !== undefined && data.kind !== null && data.kind !== 'Config') throw problem(['kind'], `not a kubeconfig (kind ${JSON.stringify(data.kind)}, expected Config)`)
  if (data.apiVersion !== undefined && data.apiVersion !== null && data.apiVersion !== 'v1') throw problem(['apiVersion'], `apiVersion must be v1 (got ${JSON.stringify(data.apiVersion)})`)
  const dir = path.dirname(file)
  for (const field of ['clusters', 'users', 'contexts'] as const) {
    const list = data[field]
    if (list === undefined || list === null) continue
    if (!Array.isArray(list)) throw problem([field], `${field} must be a list`)
    const seen = new Set<string>()
    list.forEach((item: unknown, i) => {
      if (!isMap(item)) throw problem([field, i], `${field}[${i}] must be a mapping with name and ${BODY[field]}`)
      const name = item.name
      if (name !== undefined && name !== null && typeof name !== 'string') throw problem([field, i, 'name'], `${field}[${i}].name must be a string (got ${describe(name)}; quote it)`)
      const body = item[BODY[field]] ?? {}
      if (!isMap(body)) throw problem([field, i, BODY[field]], `${field}[${i}].${BODY[field]} must be a mapping`)
      if (field === 'users') registerUser(body)
      for (const key of STRING_FIELDS[field]) {
        const v = body[key]
        if (v !== undefined && v !== null && typeof v !== 'string') throw problem([field, i, BODY[field], key], `${field}[${i}].${BODY[field]}.${key} must be a string (got ${describe(v)}; quote it)`)
      }
      if (field === 'clusters') {
        const skip = body['insecure-skip-tls-verify']
        if (skip !== undefined && skip !== null && typeof skip !== 'boolean') throw problem([field, i, 'cluster', 'insecure-skip-tls-verify'], `clusters[${i}].cluster.insecure-skip-tls-verify must be true or false`)
        registerUrlPassword(body.server)
        registerUrlPassword(body['proxy-url'])
      }
      const entry = name ?? ''
      if (seen.has(entry)) throw problem([field, i, 'name'], `${field} has two entries named "${entry}"`)
      seen.add(entry)
      out[field].push({name: entry, body: absolutePaths(body, PATH_FIELDS[field], dir), file})
    })
  }
  const current = data['current-context']
  if (current !== undefined && current !== null && typeof current !== 'string') throw problem(['current-context'], `current-context must be a string (got ${describe(current)}; quote it)`)
  if (current) out.currentContext = current
  return out
}

function toJS(doc: Document, shown: string): unknown {
  try {
    return doc.toJS({maxAliasCount: 100})
  } catch {
    // yaml throws on aliases that expand too far ("billion laughs") or point nowhere.
    throw fail(`kubeconfig ${shown} expands YAML aliases too far or uses an undefined one`, 'write the entries out instead of using anchors (&name) and aliases (*name)')
  }
}

/** The credentials of a user entry, made known to the redaction point. */
function registerUser(user: Record<string, unknown>): void {
  for (const key of ['token', 'password', 'client-key-data']) if (typeof user[key] === 'string') registerSecret(user[key])
  const provider = user['auth-provider']
  const config = isMap(provider) && isMap(provider.config) ? provider.config : {}
  for (const [k, v] of Object.entries(config)) if (typeof v === 'string' && /token|secret|password/i.test(k)) registerSecret(v)
  const exec = isMap(user.exec) && Array.isArray(user.exec.env) ? user.exec.env : []
  for (const e of exec) if (isMap(e) && typeof e.value === 'string' && /token|secret|password|key/i.test(String(e.name))) registerSecret(e.value)
}

/** A password in a server or proxy URL (a proxy's user:password@ is legitimate, and a credential). */
function registerUrlPassword(url: unknown): void {
  if (typeof url !== 'string') return
  try {
    const {password} = new URL(url)
    if (password) registerSecret(decodeURIComponent(password))
  } catch {
    /* not a URL: refused when the cluster is used */
  }
}

function absolutePaths(body: Record<string, unknown>, fields: string[], dir: string): Record<string, unknown> {
  const out = {...body}
  for (const f of fields) if (typeof out[f] === 'string' && out[f] !== '' && !path.isAbsolute(out[f] as string)) out[f] = path.join(dir, out[f] as string)
  // An exec plugin named by a relative path (not looked up on PATH).
  const exec = out.exec
  if (isMap(exec) && typeof exec.command === 'string' && exec.command.includes('/') && !path.isAbsolute(exec.command)) out.exec = {...exec, command: path.join(dir, exec.command)}
  return out
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array)
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** The type, never the value (a mistyped token is still a token). */
function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list'
  if (v instanceof Uint8Array) return 'binary data'
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`
}

/** yaml's own messages may quote the source; ours name the kind of mistake only. */
function yamlReason(code: string): string {
  const reasons: Record<string, string> = {
    BAD_INDENT: 'bad indentation',
    TAB_AS_INDENT: 'a tab used as indentation',
    MISSING_CHAR: 'an unclosed quote or bracket',
    BAD_DQ_ESCAPE: 'a bad escape in a double-quoted string',
    BLOCK_IN_FLOW: 'a block inside a {…} or […] collection',
    MULTILINE_IMPLICIT_KEY: 'a key that spans lines',
    MULTIPLE_DOCS: 'more than one YAML document',
    BAD_ALIAS: 'a bad alias',
    DUPLICATE_KEY: 'a repeated key',
    UNEXPECTED_TOKEN: 'unexpected text',
    BLOCK_AS_IMPLICIT_KEY: 'a block used as a key',
  }
  return reasons[code] ?? code.toLowerCase().replace(/_/g, ' ')
}
