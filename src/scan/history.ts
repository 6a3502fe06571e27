import {MAX_SCAN_BYTES} from './files.js'
import {gitRequired, gitStream} from './git.js'

export interface Blob {
  sha: string
  /** A path the blob was seen at (rev-list's), as bytes. */
  path: Buffer
  bytes: Buffer
}

export interface HistoryStats {
  commits: number
  blobs: number
  bytes: number
  /** Blobs over MAX_SCAN_BYTES, not read. */
  large: number
}

/**
 * Every blob of every commit reachable from any ref, each once: `git rev-list --objects --all`
 * names them, `git cat-file --batch` streams their contents, handed to `visit` one by one.
 */
export async function eachBlob(repo: string, visit: (blob: Blob) => void): Promise<HistoryStats> {
  const stats: HistoryStats = {commits: Number(gitRequired(repo, ['rev-list', '--all', '--count']).toString().trim() || 0), blobs: 0, bytes: 0, large: 0}
  if (stats.commits === 0) return stats
  const paths = new Map<string, Buffer>()
  const reader = batchReader((sha, bytes, size) => {
    stats.blobs++
    if (!bytes) {
      stats.large++
      return
    }
    stats.bytes += size
    visit({sha, path: paths.get(sha) ?? Buffer.alloc(0), bytes})
  })
  const cat = gitStream(repo, ['cat-file', '--batch', '--buffer'], reader, {stdin: true})
  let rest = Buffer.alloc(0)
  const list = gitStream(repo, ['rev-list', '--objects', '--all', '--filter=object:type=blob'], (chunk) => {
    // Paths as bytes (not UTF-8 decoded): only the sha before the space is text.
    const data = Buffer.concat([rest, chunk])
    let names = ''
    let at = 0
    for (let nl = data.indexOf(10, at); nl >= 0; at = nl + 1, nl = data.indexOf(10, at)) {
      const space = data.indexOf(32, at)
      // Lines without a path are the commits the type filter keeps: not blobs.
      if (space < 0 || space > nl) continue
      const sha = data.toString('latin1', at, space)
      paths.set(sha, Buffer.from(data.subarray(space + 1, nl)))
      names += sha + '\n'
    }
    rest = Buffer.from(data.subarray(at))
    if (names) cat.write(names)
  })
  try {
    await list.done
  } catch (error) {
    cat.end()
    await cat.done.catch(() => undefined)
    throw error
  }
  cat.end()
  await cat.done
  return stats
}

/**
 * A parser of `git cat-file --batch` output: "<sha> <type> <size>\n<content>\n" per object.
 * Contents over MAX_SCAN_BYTES are passed over without being kept (`bytes` undefined).
 */
function batchReader(onObject: (sha: string, bytes: Buffer | undefined, size: number) => void): (chunk: Buffer) => void {
  let header = Buffer.alloc(0)
  let sha = ''
  let size = 0
  let body: Buffer | undefined
  let filled = 0
  /** Bytes of the current object still to come, its closing newline included; -1 while reading a header. */
  let left = -1
  return (chunk) => {
    let at = 0
    while (at < chunk.length) {
      if (left < 0) {
        const nl = chunk.indexOf(10, at)
        if (nl < 0) {
          header = Buffer.concat([header, chunk.subarray(at)])
          return
        }
        const line = Buffer.concat([header, chunk.subarray(at, nl)]).toString('utf8')
        header = Buffer.alloc(0)
        at = nl + 1
        const [name, type, length] = line.split(' ')
        if (type === 'missing' || length === undefined) continue
        sha = name
        size = Number(length)
        body = size <= MAX_SCAN_BYTES ? Buffer.allocUnsafe(size) : undefined
        filled = 0
        left = size + 1
        continue
      }
      const take = Math.min(left, chunk.length - at)
      const content = Math.max(0, Math.min(take, size - filled))
      if (body && content > 0) chunk.copy(body, filled, at, at + content)
      filled += content
      left -= take
      at += take
      if (left === 0) {
        left = -1
        onObject(sha, body, size)
      }
    }
  }
}

/**
 * For each blob, the first commit (oldest first, across every ref) whose change put it at a
 * path, and that path (bytes): one walk of the history's raw diffs (merges against each parent),
 * NUL-separated (-z), so that git does not C-quote a path ("sp ace\ttab.txt") or split one at a newline.
 */
export async function introducingCommits(repo: string, blobs: ReadonlySet<string>): Promise<Map<string, {commit: string; path: Buffer}>> {
  const out = new Map<string, {commit: string; path: Buffer}>()
  if (blobs.size === 0) return out
  let commit = ''
  /** The blob of the ":<modes> <old> <new> <status>" field just read, whose path is the next field. */
  let pathOf: string | undefined
  let rest = Buffer.alloc(0)
  const walk = gitStream(repo, ['log', '--all', '--reverse', '-m', '--raw', '--no-abbrev', '--no-renames', '-z', '--format=%x01%H'], (chunk) => {
    const data = Buffer.concat([rest, chunk])
    let at = 0
    for (let end = data.indexOf(0, at); end >= 0; at = end + 1, end = data.indexOf(0, at)) {
      if (pathOf !== undefined) {
        if (blobs.has(pathOf) && !out.has(pathOf)) out.set(pathOf, {commit, path: Buffer.from(data.subarray(at, end))})
        pathOf = undefined
        continue
      }
      const field = data.toString('latin1', at, end).replace(/^\n+/, '')
      if (field.startsWith('\u0001')) commit = field.slice(1)
      else if (field.startsWith(':')) pathOf = field.split(' ')[3]
    }
    rest = Buffer.from(data.subarray(at))
  })
  await walk.done
  return out
}
