import type {ExportSelection} from '../values/export.js'
import {style} from './style.js'

/** Notes for stderr: keys left out for lack of a value, Secrets or services left out entirely. */
export function renderExportNotes(selection: ExportSelection, missing: string[], valuesFile: string, fill: string): string[] {
  const err = process.stderr
  const lines: string[] = []
  if (missing.length > 0) {
    const n = missing.length
    lines.push(
      `${style.yellow('note', err)} ${n} key${n === 1 ? ' has' : 's have'} no value in ${valuesFile} and ${n === 1 ? 'was' : 'were'} left out: ${missing.join(', ')}`,
      `  ${style.cyan('→', err)} ${fill}`,
    )
  }
  const empty = selection.groups.filter((g) => g.values.size === 0 && g.service !== undefined).map((g) => g.service!)
  if (empty.length > 0 && (selection.format === 'k8s' || selection.format === 'compose')) {
    const what = selection.format === 'k8s' ? 'no Secret' : 'no entry'
    lines.push(`${style.yellow('note', err)} ${what} for ${empty.join(', ')}: none of ${empty.length === 1 ? 'its' : 'their'} keys has a value`)
  }
  const ecs = selection.groups[0]?.ecs
  if (ecs && ecs.secrets.length > 0) {
    lines.push(`${style.yellow('note', err)} ${ecs.secrets.length === 1 ? 'the ARN is' : 'ARNs are'} from ${ecs.source}; ECS reads ${ecs.secrets.length === 1 ? 'it' : 'them'} when a task starts, so a new value needs a new deployment (the task's execution role needs secretsmanager:GetSecretValue)`)
  }
  return lines
}

export function renderExportWarning(instead = 'use --out FILE to write them to a 0600 file instead'): string {
  const err = process.stderr
  return `${style.yellow('warning', err)} printing secret values to the terminal; ${instead}`
}
