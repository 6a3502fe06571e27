import {minute} from '../check/rotation.js'
import type {GraceEnded, KeyRotation, RotateOutcome, RotationPlan, RotationReport} from '../sync/rotate.js'
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
  const grace = k.previous && k.graceUntil ? `; ${k.rearm ? 'its grace starts again: ' : ''}the old value stays as ${k.previous} until ${minute(k.graceUntil)}` : ''
  if (k.mode === 'finish') return `${k.graceUntil ? `grace ended ${minute(k.graceUntil)}` : 'no grace runs'}: ${k.previous} is removed from every destination, then from the store`
  if (k.mode === 'resume') {
    const forced = k.forced ? ' (--force draws no new value while a rotation is incomplete: that would drop the one still in use)' : ''
    return `resumes its last rotation (no new value)${forced}: ${k.pending?.join(', ')} still to bring up to date${grace}`
  }
  const value = k.fingerprint ? `new value ${k.fingerprint} (${k.source === 'recipe' ? 'by its recipe' : 'typed'})` : 'new value to type or pipe in (no recipe)'
  return `${value}${grace}`
}

/** After the run: the push's report, what is still pending and the commands to run next. */
export function renderRotationReport(r: RotationReport): string[] {
  const out = r.push ? renderReport(r.push) : ['No destination receives these keys: only the store changed.']
  const finish = r.keys.some((k) => k.mode === 'finish')
  if (r.pending.length > 0) out.push('', style.red(`${finish ? 'Still holding the previous value (the store keeps it until none does)' : 'Still holding the old value (or not redeployed)'}: ${r.pending.join(', ')}`))
  if (r.next.length > 0) out.push('', 'Next:', ...r.next.map((n) => `  ${n}`))
  return out
}

/** The whole run in text: the plan (once), then the report. */
export function renderRotate(outcome: RotateOutcome, planShown: boolean): string[] {
  if (outcome.kind === 'none') return [outcome.message]
  if (outcome.kind === 'plan') return [...renderRotationPlan(outcome.plan), '', style.dim('dry run: nothing was written')]
  return [...(planShown ? [] : [...renderRotationPlan(outcome.plan), '']), ...renderRotationReport(outcome.report)]
}

/** What a push made of a grace period that ran out: its previous key removed everywhere, or still in the store (and why). */
export function graceEndedNote(g: GraceEnded, env: string, dryRun: boolean): string {
  const what = g.removedFromStore
    ? `${g.previous} was removed from every destination, then from the store`
    : !g.complete
      ? `this push covers only part of ${env}: ${g.previous} stays in the store (and where this push does not write) until a push of every destination and key, or \`envsync rotate ${env} --finish\``
      : dryRun
        ? `this push would remove ${g.previous} from every destination, then from the store`
        : `${g.previous} stays in the store until every destination is brought up to date: push again, or run \`envsync rotate ${env} --finish\``
  return `the grace period of ${g.key} ended ${minute(g.until)}: ${what}`
}
