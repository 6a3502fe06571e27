// Build step: envsync as users run it, bundled by esbuild into dist/. Each command, the hook, the
// help class and the redaction point (bin/run.js's last resort) is an entry point at its old path,
// so oclif's manifest finds them as before; code they share goes into dist/chunks/, and code one
// reaches only by a dynamic import (the Kubernetes client, prompts) stays in a chunk of its own,
// loaded on first use. @oclif/core is bundled too: bin/run.js starts through dist/execute.js,
// so one copy of it serves the whole run (--help opened ~100 files before, 3 now).
// Kept external: the cloud SDKs and age-encryption, imported lazily from node_modules (google-gax
// reads its .proto files from its own package directory; a test finds age's loading by its path),
// and the TypeScript compilers oclif asks for only in development.
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = (...p) => path.join(root, 'src', ...p)
const walk = (dir) => readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []))

await build({
  entryPoints: [...walk(src('commands')), ...walk(src('hooks')), src('ui', 'help.ts'), src('redact.ts'), src('execute.ts')],
  outbase: src(),
  outdir: path.join(root, 'dist'),
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Class names stay: oclif and error messages read constructor names.
  keepNames: true,
  legalComments: 'external',
  external: ['@aws-sdk/*', '@google-cloud/*', '@azure/*', 'age-encryption', 'typescript', 'ts-node', 'tsx'],
  // CommonJS dependencies inside the bundle call require().
  banner: {js: "import {createRequire as __envsyncRequire} from 'node:module'; const require = __envsyncRequire(import.meta.url);"},
  logLevel: 'warning',
})
