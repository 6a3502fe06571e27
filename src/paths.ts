import path from 'node:path'

/** A path for messages: relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file)
  return rel && !rel.startsWith('..') ? rel : file
}

/**
 * A path as envsync records it (destination ids, ownership, audit log): relative to the
 * manifest's directory with `/` separators, so a moved or re-cloned checkout keeps its records.
 * A path outside the project stays absolute.
 */
export function projectPath(root: string, file: string): string {
  const rel = path.relative(root, file)
  if (rel.startsWith('..') || path.isAbsolute(rel)) return file
  return rel.split(path.sep).join('/') || '.'
}
