import type {InitResult} from '../init/init.js'
import {style, table} from './style.js'

export function renderInit(r: InitResult): string[] {
  const lines = [style.green(`✓ envsync set up in ${r.dir}`), '']
  lines.push(
    ...table([
      ['manifest', r.manifest],
      ['schema', `${r.schema} (for editors; commit it with the manifest)`],
      ...r.environments.map((e) => [e.environment, `${e.file} (${e.generated} generated)`]),
      ['template', r.template],
      ...(r.gitignore.length > 0 ? [['.gitignore', `added ${r.gitignore.join(' ')}`]] : []),
    ]).map((l) => `  ${l}`),
  )
  const first = r.environments[0]?.environment ?? 'development'
  lines.push('', 'Next:', ...table([[`envsync check ${first}`, 'audit the values'], ['envsync template', 'document the keys (env.template)']]).map((l) => `  ${l}`))
  return lines
}
