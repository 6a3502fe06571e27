import {spawnSync} from 'node:child_process'
import path from 'node:path'

import {minute} from '../check/rotation.js'
import type {Manifest} from '../manifest/manifest.js'
import {dockerDir} from '../manifest/resolve.js'
import type {DestinationPlan} from './plan.js'
import {lastRotation, type GraceInfo} from './rotation.js'
import type {HistoryEntry, StateNote, SyncState} from './state.js'

/** A warning about where values will land: shown by check and by diff/push, never blocking. */
export interface PlaceWarning {
  rule: 'git-ignore' | 'file-mode' | 'fingerprint-key' | 'state-ignored' | 'state-changed' | 'rotation-gap'
  message: string
  hint: string
}

/**
 * The Docker target's secret files, where `git add .` would commit them (a directory git does
 * not ignore), or readable by every user of the machine (fileMode with o+r).
 */
export function dockerWarnings(manifest: Manifest, env: string): PlaceWarning[] {
  const cfg = manifest.environment(env).targets?.docker
  if (!cfg) return []
  const out: PlaceWarning[] = []
  const dir = dockerDir(manifest, env)
  const shown = path.relative(manifest.dir, dir) || '.'
  // A file that would be there (check-ignore answers for paths that do not exist yet).
  const probe = path.relative(manifest.dir, path.join(dir, 'ENVSYNC_SECRET'))
  const git = (args: string[]) => {
    const r = spawnSync('git', ['-C', manifest.dir, ...args], {stdio: 'ignore', timeout: 5000})
    return r.error ? null : r.status
  }
  if (git(['rev-parse', '--is-inside-work-tree']) === 0 && git(['check-ignore', '-q', '--', probe]) === 1) {
    out.push({
      rule: 'git-ignore',
      message: `the Docker secrets directory ${shown} is not git-ignored: \`git add .\` would commit the secret files`,
      hint: `add ${shown}/ (or secrets/) to .gitignore`,
    })
  }
  const mode = Number.parseInt(cfg.fileMode, 8)
  if ((mode & 0o004) !== 0) {
    out.push({
      rule: 'file-mode',
      message: `fileMode "${cfg.fileMode}" makes the secret files in ${shown} readable by every user of this machine`,
      hint: 'use "0640" with the container user\'s group, or "0600" when the container runs as your user',
    })
  }
  return out
}

/**
 * .envsync/ git-ignored (an older `init` put it in .gitignore): said by every diff and push that
 * reads Railway or Render ownership, not only after one that wrote it.
 */
export function stateWarnings(state: SyncState): PlaceWarning[] {
  if (!state.gitIgnored()) return []
  return [
    {
      rule: 'state-ignored',
      message: '.envsync/ is git-ignored: teammates and CI cannot see what envsync owns on Railway and Render',
      hint: 'remove the .envsync/ line from .gitignore (.envsync/.gitignore keeps the machine-local part out), then commit .envsync/',
    },
  ]
}

/** A push with nothing to change has no report: what it changed in .envsync/ (an older layout moved) goes with the plan. */
export function stateChangedWarnings(note: StateNote | undefined): PlaceWarning[] {
  return note ? [{rule: 'state-changed', message: note.message, hint: 'git add .envsync && git commit'}] : []
}

/**
 * Destinations that missed a key's last rotation, which this plan updates after its grace: they
 * go from the old value to the new one with no previous value (their apps log everyone out).
 * `rotate` again resumes the rotation with a fresh grace instead.
 */
export function rotationGapWarnings(manifest: Manifest, env: string, history: readonly HistoryEntry[], graces: Map<string, GraceInfo>, plans: DestinationPlan[]): PlaceWarning[] {
  const out: PlaceWarning[] = []
  for (const spec of manifest.secretsFor(env)) {
    if (!spec.previous || spec.previousOf || graces.get(spec.key)?.active) continue
    const rotation = lastRotation(history, env, spec.key)
    if (!rotation) continue
    const missed = plans.filter((p) => p.changes.some((c) => c.action === 'update' && c.key === spec.key)).map((p) => p.destination.label)
    if (missed.length === 0) continue
    out.push({
      rule: 'rotation-gap',
      message: `${missed.sort().join(', ')} still hold${missed.length === 1 ? 's' : ''} ${spec.key} from before its rotation on ${minute(rotation.time)}: this push switches it with no grace`,
      hint: `run \`envsync rotate ${env} ${spec.key}\` instead (it resumes the rotation with a fresh grace)`,
    })
  }
  return out
}
