import type {InitResult, InitSummary} from '../init/init.js'
import {visible} from '../redact.js'
import {renderImport} from './render-import.js'
import {style, table} from './style.js'

const indent = (lines: string[]) => lines.flatMap((l) => l.split('\n')).map((l) => (l ? `  ${l}` : l))

export function renderInit(result: InitResult): string[] {
  // Paths come from --dir as typed: never let one drive the terminal.
  const r = {...result, dir: visible(result.dir), manifest: visible(result.manifest), schema: visible(result.schema), template: visible(result.template)}
  const lines = [style.green(`✓ envsync set up in ${r.dir}`), '']
  lines.push(
    ...indent(
      table([
        ['manifest', r.manifest],
        ['schema', `${r.schema} (for editors; commit it with the manifest)`],
        ...r.environments.map((e) => [e.environment, `${visible(e.file)} (${e.generated} generated)`]),
        ['template', r.template],
        ...(r.gitignore.length > 0 ? [['.gitignore', `added ${r.gitignore.join(' ')}`]] : []),
        ...(r.gitignoreRemoved.length > 0 ? [['.gitignore', `removed ${r.gitignoreRemoved.join(' ')} (.envsync/ holds shared state now: commit it)`]] : []),
      ]),
    ),
  )
  if (r.imported) lines.push('', style.bold(`Imported from ${visible(r.imported.file)}:`), ...indent(renderImport(r.imported)))
  const {cd, fill, environment, importCommand} = r.next
  // Commands first, then what each step is for as a shell comment: every line, pasted whole and in
  // order from here, runs (a step no command does is a comment as a whole).
  const steps: string[][] = [
    ...(cd ? [[visible(cd), '# go to the project']] : []),
    ...(importCommand ? [[visible(importCommand), '# adopt the values of the .env found here']] : []),
    ...fill.map((f) => [`# fill ${f.keys.join(', ')} in ${visible(f.files.join(', '))}`, '# values no recipe can make']),
    [`envsync check ${environment}`, '# audit the values'],
    ['envsync template', '# document the keys (env.template)'],
  ]
  lines.push('', 'Next:', ...indent(table(steps)))
  return lines
}

/** What init is about to write, shown before the last question (write / change / cancel). */
export function renderInitSummary(s: InitSummary): string[] {
  const services = s.services.map((x) => `${x.name} (${x.kind})`).join(', ')
  const environments = s.environments.map((e) => `${e.name}${e.protected ? ' (protected)' : ''} → ${e.targets.join(', ') || 'no target'}`)
  const secrets = s.secrets.map((x) => `${x.key} → ${x.services.join(', ')}${x.fallback ? style.dim(` — ${x.fallback}`) : ''}`)
  return [
    '',
    style.bold(`envsync will write in ${visible(s.dir)}:`),
    ...indent(table(s.files.map((f) => [visible(f.file), f.state]))),
    '',
    ...indent(
      table([
        ['services', services],
        ...environments.map((e, i) => [i === 0 ? 'environments' : '', e]),
        ...secrets.map((x, i) => [i === 0 ? 'secrets' : '', x]),
      ]),
    ),
    '',
  ]
}
