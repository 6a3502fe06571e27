import {minute} from '../check/rotation.js'
import type {KeyRotation, RotateOutcome, RotationPlan, RotationReport} from '../sync/rotate.js'
import {renderReport} from './render-plan.js'
import {renderFindings} from './render-values.js'
import {style, table} from './style.js'

/** A rotation's plan: each key (fingerprints, never values), where it goes, what is redeployed. */
export function renderRotationPlan(plan: RotationPlan): string[] {
  const rows = plan.keys.map((k) => [style.bold(k.key), keyWords(k)])
  const dests = plan.destinations.map((d) => [`  ${d.label}`, d.keys.join(', '), style.dim(d.redeploy)])
  return [
    `Rotation in ${plan.environment}:`,
    ...table(rows).map((l) => `  ${l}`),
    ...renderFindings(plan.findings),
    '',
    dests.length > 0 ? 'Pushed to, then redeployed:' : 'No destination receives these keys: the store only.',
    ...table(dests),
  ]
}

function keyWords(k: KeyRotation): string {
  const grace = k.previous && k.graceUntil ? `; the old value stays as ${k.previous} until ${minute(k.graceUntil)}` : ''
  if (k.mode === 'finish') return `grace ended ${minute(k.graceUntil!)}: ${k.previous} is removed from the store and every destination`
  if (k.mode === 'resume') return `resumes its last rotation (no new value): ${k.pending?.join(', ')} still to bring up to date${grace}`
  const value = k.fingerprint ? `new value ${k.fingerprint} (${k.source === 'recipe' ? 'by its recipe' : 'typed'})` : 'new value to type or pipe in (no recipe)'
  return `${value}${grace}`
}

/** After the run: the push's report, what is still pending and the commands to run next. */
export function renderRotationReport(r: RotationReport): string[] {
  const out = r.push ? renderReport(r.push) : ['No destination receives these keys: only the store changed.']
  if (r.pending.length > 0) out.push('', style.red(`Still holding the old value (or not redeployed): ${r.pending.join(', ')}`))
  if (r.next.length > 0) out.push('', 'Next:', ...r.next.map((n) => `  ${n}`))
  return out
}

/** The whole run in text: the plan (once), then the report. */
export function renderRotate(outcome: RotateOutcome, planShown: boolean): string[] {
  if (outcome.kind === 'none') return [outcome.message]
  if (outcome.kind === 'plan') return [...renderRotationPlan(outcome.plan), '', style.dim('dry run: nothing was written')]
  return [...(planShown ? [] : [...renderRotationPlan(outcome.plan), '']), ...renderRotationReport(outcome.report)]
}
