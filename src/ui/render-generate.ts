import type {GenerateResult} from '../values/generate.js'
import {plural, style, table} from './style.js'

export function renderGenerate(r: GenerateResult): string[] {
  const lines: string[] = []
  if (r.generated.length > 0) {
    lines.push(
      ...table(
        r.generated.map((g) => [style.green(g.replaced ? 'replaced' : 'generated'), g.key, g.recipe, `${g.length} chars`]),
      ),
    )
  }
  const kept = r.kept.length > 0 ? `; ${r.kept.length} already set (use --force to replace)` : ''
  lines.push(`${r.environment}: ${plural(r.generated.length, 'value')} written to ${r.file}${kept}`)
  return lines
}
