import {MAX_SCAN_BYTES} from './files.js'
import {gitRequired, gitStream} from './git.js'

export interface Blob {
  sha: string
  /** A path the blob was seen at (rev-list's). */
  path: string
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
  const paths = new Map<string, string>()
  const reader = batchReader((sha, bytes, size) => {
    stats.blobs++
    if (!bytes) {
      stats.large++
      return
    }
    stats.bytes += size
    visit({sha, path: paths.get(sha) ?? '', bytes})
  })
  const cat = gitStream(repo, ['cat-file', '--batch', '--buffer'], reader, {stdin: true})
  let rest = ''
  const list = gitStream(repo, ['rev-list', '--objects', '--all', '--filter=object:type=blob'], (chunk) => {
    const lines = (rest + chunk.toString('utf8')).split('\n')
    rest = lines.pop()!
    let names = ''
    for (const line of lines) {
      const space = line.indexOf(' ')
      // Lines without a path are the commits the type filter keeps: not blobs.
      if (space < 0) continue
      const sha = line.slice(0, space)
      paths.set(sha, line.slice(space + 1))
      names += sha + '\n'
    }
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
 * path, and that path: one walk of the history's raw diffs (merges against each parent).
 */
export async function introducingCommits(repo: string, blobs: ReadonlySet<string>): Promise<Map<string, {commit: string; path: string}>> {
  const out = new Map<string, {commit: string; path: string}>()
  if (blobs.size === 0) return out
  let commit = ''
  let rest = ''
  const walk = gitStream(repo, ['log', '--all', '--reverse', '-m', '--raw', '--no-abbrev', '--no-renames', '--format=%x01%H'], (chunk) => {
    const lines = (rest + chunk.toString('utf8')).split('\n')
    rest = lines.pop()!
    for (const line of lines) {
      if (line.startsWith('\u0001')) commit = line.slice(1)
      else if (line.startsWith(':')) {
        // ":100644 100644 <old> <new> M\t<path>"
        const tab = line.indexOf('\t')
        const sha = line.slice(0, tab).split(' ')[3]
        if (blobs.has(sha) && !out.has(sha)) out.set(sha, {commit, path: line.slice(tab + 1)})
      }
    }
  })
  await walk.done
  return out
}
