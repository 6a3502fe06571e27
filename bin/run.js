#!/usr/bin/env node
// dist/execute.js: oclif's runner bundled with the commands (scripts/bundle.js), one copy of it.
import {execute} from '../dist/execute.js'

// A failure no command caught (a library's stray rejection) still passes the one redaction point:
// Node's default handler would print its message and stack as they are.
const fatal = async (error) => {
  const {redact} = await import('../dist/redact.js')
  process.stderr.write(`error internal: ${redact(String(error?.message ?? error))}\n  → run again with DEBUG=1 for a stack trace, and report it\n`)
  if (process.env.DEBUG && error?.stack) process.stderr.write(redact(error.stack) + '\n')
  process.exit(1)
}
process.on('unhandledRejection', fatal)
process.on('uncaughtException', fatal)

await execute({dir: import.meta.url})
