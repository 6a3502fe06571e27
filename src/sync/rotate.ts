import {runCheck} from '../check/check.js'
import {minute} from '../check/rotation.js'
import type {Finding} from '../check/rules.js'
import {now} from '../clock.js'
import {asEnvsyncError, EnvsyncError, ExitCode} from '../errors.js'
import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {manifestKeysOf, resolveDestinations} from '../manifest/resolve.js'
import type {Secret} from '../secret.js'
import type {KubernetesOptions} from '../targets/kubernetes.js'
import {Targets} from '../targets/registry.js'
import type {TargetKind} from '../targets/target.js'
import {plural} from '../ui/style.js'
import {applicableKey, fingerprintOf} from '../values/key.js'
import {generate} from '../values/recipes.js'
import {planSet} from '../values/set.js'
import {readStore, writeStore, type ValuesFile} from '../values/store.js'
import {graceMs, graceStates, lastRotation, previousKeysInGrace, rotationDates, type GraceInfo} from './rotation.js'
import {SyncState, type HistoryEntry} from './state.js'
import {owedRedeploys, planSync, push, type ApplyOptions, type PushOptions, type SyncReport} from './sync.js'

/**
 * `envsync rotate`: a new value per key (its recipe, or typed for a provider-issued key), the old
 * one kept under the key's `previous:` for its grace period, written to the store in one write,
 * then pushed with deploys. A rotation whose push did not reach every destination (or whose
 * redeploy failed) is resumed by the next run — the same value pushed again, never a new one.
 */

export type RotationMode = 'new' | 'resume' | 'finish'

export interface KeyRotation {
  key: string
  mode: RotationMode
  /** new: the new value's fingerprint (as diff shows it), and where it comes from. */
  fingerprint?: string
  source?: 'recipe' | 'typed'
  /** The key that keeps the old value during the grace (new), or that goes (finish). */
  previous?: string
  /** When the previous value may go (new: from now; resume: the running grace's end). */
  graceUntil?: string
  /** resume: destinations still holding the old value, or whose redeploy is pending. */
  pending?: string[]
  /** resume: the grace starts again from now, so the destinations brought up to date get new + previous for a full grace. */
  rearm?: boolean
  /** resume under --force: the incomplete rotation is finished first, no second value drawn (it would drop the one still in use). */
  forced?: boolean
}

export interface RotationDestination {
  id: string
  label: string
  kind: TargetKind
  keys: string[]
  /** What follows the write: a deploy, a rollout restart, the compose command to run. */
  redeploy: string
}

export interface RotationPlan {
  environment: string
  keys: KeyRotation[]
  destinations: RotationDestination[]
  /** check's warnings about the new values. */
  findings: Finding[]
}

export interface RotationReport {
  environment: string
  keys: KeyRotation[]
  /** The push: each destination applied, in sync or failed, and what was redeployed. */
  push?: SyncReport
  /** Destinations that still hold an old value, or whose redeploy failed (labels). */
  pending: string[]
  /** What to run next: resume after a failure, finish after the grace. */
  next: string[]
}

export interface RotateRequest {
  keys: string[]
  due: boolean
  finish: boolean
  force: boolean
  dryRun: boolean
  kubernetes?: KubernetesOptions
}

/** What rotate asks of whoever runs it: this module prompts and prints nothing. */
export interface RotateIO {
  /** A provider-issued key's new value, typed hidden or piped in. */
  readValue(key: string): Promise<string>
  /** Whether several values can be read (a terminal): stdin holds one. */
  canReadSeveral: boolean
  /** Shows the plan and asks (protected environments); throws when refused. */
  confirm(plan: RotationPlan): Promise<void>
  onProgress?: ApplyOptions['onProgress']
}

export type RotateOutcome = {kind: 'none'; environment: string; message: string} | {kind: 'plan'; plan: RotationPlan} | {kind: 'report'; plan: RotationPlan; report: RotationReport}

/** A rotation before it is written: the plan shown, and the store write it stands for. */
interface Prepared {
  plan: RotationPlan
  store: ValuesFile
  /** Per grace end ('' = none): the keys' new values and the previous keys' old ones. */
  writes: Map<string, Map<string, Secret | null>>
}

export async function rotate(manifest: Manifest, env: string, request: RotateRequest, io: RotateIO): Promise<RotateOutcome> {
  const prepared = request.finish ? await prepareFinish(manifest, env, request) : await prepareRotation(manifest, env, request, io)
  if ('message' in prepared) return {kind: 'none', environment: env, message: prepared.message}
  const {plan} = prepared
  if (request.dryRun) return {kind: 'plan', plan}
  await io.confirm(plan)
  return {kind: 'report', plan, report: await applyRotation(manifest, env, prepared, request, io)}
}

/** The keys to rotate: those named (secrets of the environment), or those due. */
function selectKeys(manifest: Manifest, env: string, request: RotateRequest, store: ValuesFile, entries: HistoryEntry[]): SecretDef[] | {message: string} {
  if (request.keys.length > 0 && request.due) throw usage('give keys or --due, not both')
  if (request.due) {
    const due = rotationDates(manifest, env, store, entries, now()).filter((r) => r.state === 'overdue' || r.state === 'soon')
    if (due.length === 0) return {message: `no secret of ${env} is due for rotation`}
    return due.map((r) => manifest.secretsFor(env).find((s) => s.key === r.key)!)
  }
  if (request.keys.length === 0) throw usage(`name the keys to rotate, or pass --due for those due (or --finish to end grace periods)`)
  return [...new Set(request.keys)].map((key) => {
    const spec = applicableKey(manifest, env, key)
    if (spec.previousOf) {
      throw new EnvsyncError(`${key} holds the previous value of ${spec.previousOf} during its grace period: it is not rotated itself`, {code: 'NOT_ROTATABLE', suggestion: `rotate ${spec.previousOf}: envsync rotate ${env} ${spec.previousOf}`})
    }
    if (spec.sensitive === false) {
      const secrets = manifest.secretsFor(env).filter((s) => s.sensitive !== false && !s.previousOf).map((s) => s.key)
      throw new EnvsyncError(`${key} is plain config (sensitive: false), not a secret: there is nothing to rotate`, {code: 'NOT_ROTATABLE', suggestion: `change it with \`envsync set ${env} ${key}\`; secrets of ${env}: ${secrets.join(', ') || 'none'}`})
    }
    return spec
  })
}

async function prepareRotation(manifest: Manifest, env: string, request: RotateRequest, io: RotateIO): Promise<Prepared | {message: string}> {
  const store = await readStore(manifest, env)
  const state = new SyncState(manifest.dir)
  const entries = state.history()
  const at = now()
  const specs = selectKeys(manifest, env, request, store, entries)
  if ('message' in specs) return specs
  if (!request.dryRun) await refuseCertainFailure(manifest, env, store, request.kubernetes)
  const graces = graceStates(manifest, env, entries, at)
  const pending = await incomplete(manifest, env, specs, store, entries, graces, request.kubernetes)

  const keys: KeyRotation[] = []
  const fresh: SecretDef[] = []
  for (const spec of specs) {
    const grace = graces.get(spec.key)
    const left = pending.get(spec.key)
    // An incomplete rotation is always resumed, --force or not: a second value would drop the one some destination still runs on.
    if (left && left.length > 0) keys.push(resumeOf(spec, left, store, grace, at, request.force))
    else if (!request.force && grace?.active) {
      throw new EnvsyncError(`${spec.key} is in its grace period until ${minute(grace.until)} (rotated ${minute(grace.since)}): rotating it again now would drop the value apps still accept`, {
        code: 'IN_GRACE',
        suggestion: `wait until ${minute(grace.until)} and run \`envsync rotate ${env} --finish\` first, or pass --force to rotate it anyway`,
      })
    } else fresh.push(spec)
  }

  // Values first (a typed one is validated before anything is shown or asked).
  const typed = fresh.filter((s) => !s.generate)
  if (typed.length > 1 && !io.canReadSeveral && !request.dryRun) {
    throw usage(`${typed.map((s) => s.key).join(', ')} have no generate recipe: each needs a typed value, and stdin holds one`, `rotate them one by one (printf %s "$VALUE" | envsync rotate ${env} ${typed[0].key}), or run on a terminal`)
  }
  const values = new Map<string, Secret>()
  const findings: Finding[] = []
  for (const spec of fresh) {
    if (!spec.generate && request.dryRun) continue
    const value = spec.generate ? generate(spec.generate).reveal() : await io.readValue(spec.key)
    const checked = await planSet(manifest, env, spec, value, store)
    const errors = checked.findings.filter((f) => f.severity === 'error')
    if (errors.length > 0 && !request.force) {
      throw new EnvsyncError(`${spec.key}: the new value fails check (${errors.map((f) => f.rule).join(', ')}); nothing was written (--force writes it anyway)`, {
        code: 'VALUE_REJECTED',
        suggestion: `${errors[0].message}: ${errors[0].hint}; or pass --force to write it anyway`,
      })
    }
    findings.push(...checked.findings)
    values.set(spec.key, checked.value)
  }

  const writes = new Map<string, Map<string, Secret | null>>()
  for (const spec of fresh) {
    const value = values.get(spec.key)
    const old = store.values.get(spec.key)
    const keepsOld = spec.previous !== undefined && old !== undefined && !old.isEmpty
    const graceUntil = keepsOld && spec.grace ? new Date(at.getTime() + graceMs(spec.grace)).toISOString() : undefined
    keys.push({
      key: spec.key,
      mode: 'new',
      source: spec.generate ? 'recipe' : 'typed',
      ...(value ? {fingerprint: fingerprintOf(manifest, store, value)} : {}),
      ...(keepsOld ? {previous: spec.previous} : {}),
      ...(graceUntil ? {graceUntil} : {}),
    })
    if (!value) continue
    const write = writes.get(graceUntil ?? '') ?? new Map<string, Secret | null>()
    write.set(spec.key, value)
    if (keepsOld) write.set(spec.previous!, old!)
    writes.set(graceUntil ?? '', write)
  }
  if (!request.force) await refuseCheckErrors(manifest, env, store, writes)

  // Where the values go once written: the previous keys of these rotations are then in grace.
  const grace = previousKeysInGrace(graces)
  for (const k of keys) if (k.previous) grace.add(k.previous)
  const plan: RotationPlan = {environment: env, keys, destinations: destinationsOf(manifest, env, store, keys, grace), findings}
  return {plan, store, writes}
}

/**
 * A rotation resumed: the value in the store pushed again. While the old value is still in the
 * store, its grace starts again from now — the grace fixed at the store write may have ended
 * before the destinations left behind got the new value and the previous one.
 */
function resumeOf(spec: SecretDef, pending: string[], store: ValuesFile, grace: GraceInfo | undefined, at: Date, force: boolean): KeyRotation {
  const old = spec.previous ? store.values.get(spec.previous) : undefined
  const rearm = spec.grace !== undefined && old !== undefined && !old.isEmpty
  const kept = rearm ? {previous: spec.previous, graceUntil: new Date(at.getTime() + graceMs(spec.grace!)).toISOString(), rearm: true} : grace?.active ? {previous: grace.previous, graceUntil: grace.until} : {}
  return {key: spec.key, mode: 'resume', pending, ...kept, ...(force ? {forced: true} : {})}
}

/**
 * `--finish`: the previous values whose grace ended leave every destination, then the store. Ended:
 * the grace ran out (or --force ends it now), or none runs and the previous value is still in the
 * store or at a destination (a push that did not cover every destination and key left it there).
 */
async function prepareFinish(manifest: Manifest, env: string, request: RotateRequest): Promise<Prepared | {message: string}> {
  if (request.due) throw usage('--finish ends grace periods: it takes keys, not --due')
  const store = await readStore(manifest, env)
  const entries = new SyncState(manifest.dir).history()
  const graces = graceStates(manifest, env, entries, now())
  const withPrevious = manifest.secretsFor(env).filter((s) => s.previous && !s.previousOf)
  for (const key of request.keys) {
    const spec = applicableKey(manifest, env, key)
    if (!spec.previous) throw new EnvsyncError(`${key} has no previous: key, so it has no grace period to finish`, {code: 'NO_GRACE', suggestion: `keys with a grace period: ${withPrevious.map((s) => s.key).join(', ') || 'none'}`})
  }
  const named = (key: string) => request.keys.length === 0 || request.keys.includes(key)
  const chosen = [...graces.values()].filter((g) => named(g.key))
  const running = chosen.filter((g) => g.active)
  const left = await leftBehind(manifest, env, store, withPrevious.filter((s) => named(s.key) && !graces.has(s.key)), graces, request.kubernetes)
  const ending: KeyRotation[] = [...(request.force ? chosen : chosen.filter((g) => !g.active)).map((g) => ({key: g.key, mode: 'finish' as const, previous: g.previous, graceUntil: g.until})), ...left]
  // Named keys still in grace, or nothing ended while graces run: refused (the old value is still accepted).
  if (!request.force && running.length > 0 && (request.keys.length > 0 || ending.length === 0)) {
    const g = running[0]
    throw new EnvsyncError(`the grace period of ${g.key} runs until ${minute(g.until)}: ${g.previous} is still accepted by apps that signed with it`, {code: 'IN_GRACE', suggestion: `run it again after ${minute(g.until)}, or pass --force to end it now`})
  }
  if (ending.length === 0) return {message: `no grace period of ${env} to finish`}
  // Where the previous keys were delivered until now: the destinations they are removed from.
  const delivered = new Set([...previousKeysInGrace(graces), ...ending.map((k) => k.previous!)])
  const plan: RotationPlan = {environment: env, keys: ending, destinations: destinationsOf(manifest, env, store, ending, delivered), findings: []}
  return {plan, store, writes: new Map([['', new Map(ending.map((k) => [k.previous!, null]))]])}
}

/** Keys with no grace recorded whose previous value is still in the store, or at a destination (read to know). */
async function leftBehind(manifest: Manifest, env: string, store: ValuesFile, specs: SecretDef[], graces: Map<string, GraceInfo>, kubernetes?: KubernetesOptions): Promise<KeyRotation[]> {
  const inStore = (s: SecretDef) => store.values.get(s.previous!)?.isEmpty === false
  let atDestinations = new Set<string>()
  if (specs.some((s) => !inStore(s))) {
    const plan = await planSync(manifest, env, {store, grace: previousKeysInGrace(graces), kubernetes})
    atDestinations = new Set(plan.plans.flatMap((p) => p.changes.filter((c) => c.action === 'remove').map((c) => c.key)))
  }
  return specs.filter((s) => inStore(s) || atDestinations.has(s.previous!)).map((s) => ({key: s.key, mode: 'finish', previous: s.previous}))
}

/**
 * Every key rotated last by `rotate` whose push did not land everywhere: per key, the labels of
 * destinations that differ from the store (or could not be read) or whose redeploy failed.
 */
async function incomplete(manifest: Manifest, env: string, specs: SecretDef[], store: ValuesFile, entries: HistoryEntry[], graces: Map<string, GraceInfo>, kubernetes?: KubernetesOptions): Promise<Map<string, string[]>> {
  const rotated = specs.filter((s) => lastRotation(entries, env, s.key) !== undefined)
  const out = new Map<string, string[]>()
  if (rotated.length === 0) return out
  const inGrace = previousKeysInGrace(graces)
  const scope = rotatedKeys(rotated.map((s) => s.key), manifest, inGrace)
  const delivered = deliveredKeys(manifest, env, store, inGrace)
  const only = scope.filter((k) => delivered.has(k))
  if (only.length === 0) return out
  const receivers = new Map(resolveDestinations(manifest, env, store, {grace: inGrace}).map((r) => [r.destination.id, new Set(manifestKeysOf(r))]))
  const plan = await planSync(manifest, env, {store, only, kubernetes, deploy: true})
  const owed = owedRedeploys(entries, env)
  for (const spec of rotated) {
    const own = [spec.key, ...(spec.previous && inGrace.has(spec.previous) ? [spec.previous] : [])]
    const receives = (id: string) => own.some((k) => receivers.get(id)?.has(k))
    const left = plan.plans
      .filter((p) => receives(p.destination.id) && (p.error !== undefined || p.changes.some((c) => own.includes(c.key)) || owed.has(p.destination.id)))
      .map((p) => p.destination.label)
    if (left.length > 0) out.set(spec.key, left.sort())
  }
  return out
}

/** The keys a rotation pushes: each key and, while its grace runs, its previous key. */
function rotatedKeys(keys: string[], manifest: Manifest, inGrace: ReadonlySet<string>): string[] {
  return keys.flatMap((k) => {
    const previous = manifest.previousOf(k)?.key
    return previous && inGrace.has(previous) ? [k, previous] : [k]
  })
}

/** Keys some destination of the environment receives. */
function deliveredKeys(manifest: Manifest, env: string, store: ValuesFile, grace: ReadonlySet<string>): Set<string> {
  return new Set(resolveDestinations(manifest, env, store, {grace}).flatMap(manifestKeysOf))
}

/** The destinations receiving any of the keys, and what follows their write. */
function destinationsOf(manifest: Manifest, env: string, store: ValuesFile, keys: KeyRotation[], grace: ReadonlySet<string>): RotationDestination[] {
  const wanted = new Set(keys.flatMap((k) => [k.key, ...(k.previous ? [k.previous] : [])]))
  return resolveDestinations(manifest, env, store, {grace, deploy: true})
    .map((r) => ({r, keys: manifestKeysOf(r).filter((k) => wanted.has(k))}))
    .filter(({keys}) => keys.length > 0)
    .map(({r, keys}) => ({id: r.destination.id, label: r.destination.label, kind: r.destination.kind, keys: keys.sort(), redeploy: REDEPLOY[r.destination.kind] ?? 'none'}))
}

const REDEPLOY: Partial<Record<TargetKind, string>> = {
  railway: 'redeploy of the service',
  render: 'deploy of the service',
  kubernetes: 'rollout restart of the workloads using the Secret',
  docker: 'the compose command to run, printed',
}

/**
 * What would stop the push for certain (a Kubernetes namespace it will not create) stops the
 * rotation before the store is written — and before a provider-issued value is typed.
 */
async function refuseCertainFailure(manifest: Manifest, env: string, store: ValuesFile, kubernetes?: KubernetesOptions): Promise<void> {
  const targets = new Targets(kubernetes)
  const dests = resolveDestinations(manifest, env, store).map((r) => r.destination)
  for (const kind of new Set(dests.map((d) => d.kind))) await (await targets.get(kind)).preflight?.(dests.filter((d) => d.kind === kind))
}

/** What check would say with the new values in place: an error stops the rotation before anything is written. */
async function refuseCheckErrors(manifest: Manifest, env: string, store: ValuesFile, writes: Map<string, Map<string, Secret | null>>): Promise<void> {
  const values = new Map(store.values)
  for (const write of writes.values()) for (const [k, v] of write) if (v) values.set(k, v)
  const errors = (await runCheck(manifest, env, {...store, values})).findings.filter((f) => f.severity === 'error')
  if (errors.length === 0) return
  throw new EnvsyncError(`check found ${plural(errors.length, 'error')} in ${env}, so its push would be refused; nothing was rotated (first: ${errors[0].message})`, {
    code: 'CHECK_FAILED',
    exitCode: ExitCode.failed,
    suggestion: `run \`envsync check ${env}\` and fix them, or pass --force (placeholders are never pushed)`,
  })
}

/**
 * A rotation: store write(s), then one push of the rotated keys with deploys. A finish: the push
 * first, and the store lets the previous values go only once no destination holds them. The
 * report says what is left.
 */
async function applyRotation(manifest: Manifest, env: string, prepared: Prepared, request: RotateRequest, io: RotateIO): Promise<RotationReport> {
  const {plan, store, writes} = prepared
  if (!request.finish) {
    await writeAll(store, writes, 'rotate')
    rearmGraces(manifest, env, plan.keys)
  }
  const keys = plan.keys.map((k) => k.key)
  const resume = `envsync rotate ${env}${request.finish ? ' --finish' : ''}${request.finish && request.force ? ' --force' : ''} ${keys.join(' ')}`
  let pushed: Pushed | undefined
  try {
    pushed = await pushRotated(manifest, env, request, io, prepared)
  } catch (error) {
    const e = asEnvsyncError(error)
    const where = `${plan.destinations.map((d) => d.label).join(', ') || 'every destination'} still hold${plan.destinations.length === 1 ? 's' : ''}`
    const message = request.finish
      ? `nothing was finished: ${e.message}. The store and ${where} the previous values`
      : `the store holds the new values, but nothing was pushed: ${e.message}. Until a push, ${where} the old values`
    throw new EnvsyncError(message, {
      code: e.code,
      exitCode: ExitCode.failed,
      suggestion: `${e.suggestion ? e.suggestion + '; then ' : ''}run \`${resume}\` ${request.finish ? 'again' : 'to push them (no new value is drawn)'}`,
    })
  }
  const pending = pushed ? failedDestinations(pushed) : []
  if (request.finish && pending.length === 0) await writeAll(store, writes, 'finish')
  const next: string[] = []
  if (pending.length > 0) next.push(resume)
  const graceEnds = plan.keys.filter((k) => k.mode !== 'finish' && k.graceUntil).map((k) => k.graceUntil!)
  if (graceEnds.length > 0) next.push(`envsync rotate ${env} --finish   (after ${minute(graceEnds.sort().at(-1)!)})`)
  return {environment: env, keys: plan.keys, ...(pushed?.report ? {push: pushed.report} : {}), pending, next}
}

/** The store writes, one per grace end. */
async function writeAll(store: ValuesFile, writes: Prepared['writes'], action: 'rotate' | 'finish'): Promise<void> {
  for (const [graceUntil, write] of writes) {
    if (write.size === 0) continue
    await writeStore(store, new Map([...write].map(([k, v]) => [k, v === null ? null : v.reveal()])), {action, ...(graceUntil ? {graceUntil} : {})})
  }
}

/** A resumed rotation's new grace, in the history (no value changes): the push that follows delivers the previous keys again. */
function rearmGraces(manifest: Manifest, env: string, keys: KeyRotation[]): void {
  const byEnd = new Map<string, string[]>()
  for (const k of keys) if (k.rearm) byEnd.set(k.graceUntil!, [...(byEnd.get(k.graceUntil!) ?? []), k.key])
  const time = now().toISOString()
  new SyncState(manifest.dir).recordHistory([...byEnd].map(([graceUntil, keys]) => ({time, environment: env, action: 'rotate' as const, keys, graceUntil})))
}

type Pushed = Awaited<ReturnType<typeof push>>

/** Destinations a push did not bring up to date: failed, or not even read (labels). */
function failedDestinations({plan, report}: Pushed): string[] {
  const failed = [...plan.plans.filter((p) => p.error).map((p) => p.destination.label), ...(report?.destinations ?? []).filter((d) => d.status === 'failed').map((d) => d.label)]
  return [...new Set(failed)].sort()
}

/**
 * The push of a rotation: only its keys, with deploys (a finish: everything, without the previous
 * keys that end, a grace --force ends early too). The redeploys still owed (from the history) are
 * made again; a resume prints Docker's compose command again, its directory in sync or not.
 */
async function pushRotated(manifest: Manifest, env: string, request: RotateRequest, io: RotateIO, prepared: Prepared): Promise<Pushed | undefined> {
  const store = await readStore(manifest, env)
  const entries = new SyncState(manifest.dir).history()
  const inGrace = previousKeysInGrace(graceStates(manifest, env, entries, now()))
  const {keys, destinations} = prepared.plan
  const rotated = keys.map((k) => k.key)
  let only: string[] | undefined
  let grace = inGrace
  if (request.finish) {
    const ending = new Set(keys.map((k) => k.previous))
    grace = new Set([...inGrace].filter((k) => !ending.has(k)))
  } else {
    const delivered = deliveredKeys(manifest, env, store, inGrace)
    only = rotatedKeys(rotated, manifest, inGrace).filter((k) => delivered.has(k))
    if (only.length === 0) return undefined
  }
  const docker = keys.some((k) => k.mode === 'resume') ? destinations.filter((d) => d.kind === 'docker').map((d) => d.id) : []
  const redeployKeys = new Map([...owedRedeploys(entries, env), ...docker.map((id) => [id, rotated] as const)])
  return push(manifest, env, {only, grace, deploy: true, force: request.force, kubernetes: request.kubernetes, onProgress: io.onProgress, redeploy: new Set(redeployKeys.keys()), redeployKeys})
}

/** A grace period that ran out, as a push ended it. */
export interface GraceEnded {
  key: string
  previous: string
  until: string
  /** The previous value left the store (the push covered every destination and key, and failed nowhere). */
  removedFromStore: boolean
  /** The push covered every destination and key (no --only, --service, --target). */
  complete: boolean
}

/**
 * `push`, for an environment whose grace periods may have run out: their previous keys are no
 * longer delivered, so the push removes them where it writes; then they leave the store, but only
 * once the push covered every destination and key and none failed — never while a destination
 * may still hold one.
 */
export async function pushEndingGraces(manifest: Manifest, env: string, options: PushOptions): Promise<Pushed & {gracesEnded: GraceEnded[]}> {
  const ended = [...graceStates(manifest, env, new SyncState(manifest.dir).history(), now()).values()].filter((g) => !g.active)
  const pushed = await push(manifest, env, options)
  const complete = !options.only?.length && !options.services?.length && !options.targets?.length
  const removed = ended.length > 0 && complete && !options.dryRun && failedDestinations(pushed).length === 0
  if (removed) await writeStore(await readStore(manifest, env), new Map(ended.map((g) => [g.previous, null])), {action: 'finish'})
  return {...pushed, gracesEnded: ended.map(({key, previous, until}) => ({key, previous, until, removedFromStore: removed, complete}))}
}

function usage(message: string, suggestion = 'envsync rotate ENV KEY…, envsync rotate ENV --due, or envsync rotate ENV --finish'): EnvsyncError {
  return new EnvsyncError(message, {code: 'USAGE', exitCode: ExitCode.usage, suggestion})
}
