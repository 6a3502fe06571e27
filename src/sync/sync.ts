import {placeholderKeys, runCheck} from '../check/check.js'
import {now} from '../clock.js'
import {asEnvsyncError, EnvsyncError, ExitCode} from '../errors.js'
import type {Manifest} from '../manifest/manifest.js'
import {keysOfServices, liveNames, manifestKeysOf, requireKeysOfServices, resolveDestinations, type Resolved, type ResolveFilter} from '../manifest/resolve.js'
import {didYouMean} from '../manifest/suggest.js'
import type {KubernetesOptions} from '../targets/kubernetes.js'
import {Targets} from '../targets/registry.js'
import type {Destination, Redeploy, TargetKind} from '../targets/target.js'
import {redact} from '../redact.js'
import {plural} from '../ui/style.js'
import {fingerprintKeyOf, readStore, type ValuesFile} from '../values/store.js'
import {plainValues} from './plain.js'
import {planDestination, planTotals, type DestinationPlan} from './plan.js'
import {mapLimitPerGroup} from '../pool.js'
import {graceStates, previousKeysInGrace} from './rotation.js'
import {SyncState, type HistoryEntry, type StateNote} from './state.js'
import {dockerWarnings, rotationGapWarnings, stateChangedWarnings, stateWarnings, type PlaceWarning} from './warnings.js'

/** Destinations of one platform read or written at once: enough to hide latency, few enough to be polite. */
export const CONCURRENCY = 4

const byKind = (d: {destination: Destination}) => d.destination.kind

export interface SyncOptions extends ResolveFilter {
  prune?: boolean
  only?: string[]
  /** Keys never to push (placeholders found by check, even with --force). */
  exclude?: Set<string>
  kubernetes?: KubernetesOptions
  /** The environment's values, when the caller has read them already. */
  store?: ValuesFile
}

export interface PushOptions extends SyncOptions, ApplyOptions {
  /** Push although check reports errors (placeholders are still held back). */
  force?: boolean
  dryRun?: boolean
  /**
   * Called with the plan before anything is written; throws to stop. Absent: confirmed up front
   * (--yes), and each destination is written as soon as its own plan is known.
   */
  confirm?: (plan: SyncPlan) => Promise<void>
}

/**
 * `push`: check, plan, confirm, apply. Returns the plan, and the report when anything was
 * written (nothing to change, --dry-run or a failed check: no report).
 */
export async function push(manifest: Manifest, env: string, options: PushOptions = {}): Promise<{plan: SyncPlan; report?: SyncReport}> {
  const store = await readStore(manifest, env)
  const prepared = await prepare(manifest, env, {...options, store, exclude: await checkBeforePush(manifest, env, options.force === true, store)})
  // A redeploy that failed last time is made again, values in sync or not: a rerun converges.
  if (!options.redeploy) {
    const owed = owedRedeploys(prepared.state.history(), env)
    const ids = new Set(prepared.resolved.filter((r) => owed.has(r.destination.id) && redeploys(r.destination)).map((r) => r.destination.id))
    options = {...options, redeploy: ids, redeployKeys: new Map([...ids].map((id) => [id, owed.get(id)!]))}
  }
  // What would fail for certain stops the push before anything is written anywhere.
  if (!options.dryRun) await preflight(prepared)
  const owed = (plan: SyncPlan) => Object.assign(plan, {redeploy: plan.plans.filter((p) => options.redeploy!.has(p.destination.id)).map((p) => p.destination.id)})
  if (!options.confirm && !options.dryRun) {
    const {plan, report} = await applyAsPlanned(prepared, env, options)
    owed(plan)
    if (planTotals(plan.plans).changes > 0 || report.redeploys) return {plan, report}
    plan.warnings.push(...stateChangedWarnings(report.state))
    return {plan}
  }
  const plan = owed(await planPrepared(prepared, env))
  if (options.dryRun) return {plan}
  if (planTotals(plan.plans).changes === 0 && plan.redeploy.length === 0) {
    // Nothing to write to any platform: an older layout of .envsync/ is still moved.
    if (plan.state.migrate()) plan.warnings.push(...stateChangedWarnings(plan.state.gitNote()))
    return {plan}
  }
  await options.confirm!(plan)
  return {plan, report: await applySync(plan, options)}
}

export interface SyncPlan {
  environment: string
  plans: DestinationPlan[]
  targets: Targets
  state: SyncState
  /** Where values land that deserves a word (a secrets directory git does not ignore). */
  warnings: PlaceWarning[]
  /** Destinations whose last redeploy failed: push makes it again (where they redeploy at all). */
  redeploy?: string[]
}

/**
 * Destinations whose last redeploy in the change history failed (a restart refused, a deploy
 * that did not start) or never finished (pending: the run died during it): their values are in
 * place, what reads them may still have the old ones.
 */
export function owedRedeploys(history: HistoryEntry[], env: string): Map<string, string[]> {
  const last = new Map<string, HistoryEntry>()
  for (const e of history) if (e.environment === env && e.action === 'redeploy' && e.destination) last.set(e.destination, e)
  return new Map([...last].filter(([, e]) => e.status === 'failed' || e.status === 'pending').map(([id, e]) => [id, e.keys ?? []]))
}

/**
 * Whether envsync redeploys a destination itself: Railway/Render `deploy`, Kubernetes `restart`
 * (--deploy). Docker's is a command for the user to run: nothing started, nothing owed.
 */
const redeploys = (d: Destination) => {
  const c = d.config as {deploy?: boolean; restart?: boolean}
  return d.kind !== 'docker' && (c.deploy === true || c.restart === true)
}

/** Manifest + local values + what is live → a plan per destination. Reads, never writes. */
export async function planSync(manifest: Manifest, env: string, options: SyncOptions = {}): Promise<SyncPlan> {
  return planPrepared(await prepare(manifest, env, options), env)
}

async function planPrepared({resolved, planOne, targets, state, warnings, gapWarnings}: Prepared, env: string): Promise<SyncPlan> {
  const plans = await mapLimitPerGroup(resolved, byKind, CONCURRENCY, planOne)
  return {environment: env, plans, targets, state, warnings: [...warnings, ...gapWarnings(plans), ...fingerprintWarnings(new Set(plans.flatMap((p) => foreignKeys(state, p))))]}
}

/**
 * Plan and apply in one pass, for a push already confirmed (--yes): each destination is written
 * as soon as its own read is planned, so a slow platform's reads never hold back another's
 * writes. Per destination it is the same read → plan → apply as planSync + applySync.
 */
export async function planAndApply(manifest: Manifest, env: string, options: SyncOptions & ApplyOptions = {}): Promise<{plan: SyncPlan; report: SyncReport}> {
  return applyAsPlanned(await prepare(manifest, env, options), env, options)
}

async function applyAsPlanned({resolved, planOne, targets, state, warnings, gapWarnings}: Prepared, env: string, options: ApplyOptions): Promise<{plan: SyncPlan; report: SyncReport}> {
  const plan: SyncPlan = {environment: env, plans: new Array<DestinationPlan>(resolved.length), targets, state, warnings: [...warnings]}
  const run = new ApplyRun(plan, options)
  // Before each destination's apply records its fingerprints under this run's key.
  const foreign = new Set<string>()
  await mapLimitPerGroup(resolved, byKind, CONCURRENCY, async (r, index) => {
    plan.plans[index] = await planOne(r)
    for (const k of foreignKeys(state, plan.plans[index])) foreign.add(k)
    return run.apply(index)
  })
  plan.warnings.push(...gapWarnings(plan.plans), ...fingerprintWarnings(foreign))
  return {plan, report: await run.settle()}
}

type Prepared = Awaited<ReturnType<typeof prepare>>

/** Each target's preflight over its destinations (a Kubernetes namespace push will not create). */
async function preflight({resolved, targets}: Prepared): Promise<void> {
  for (const kind of new Set(resolved.map((r) => r.destination.kind))) {
    const target = await targets.get(kind)
    await target.preflight?.(resolved.filter((r) => r.destination.kind === kind).map((r) => r.destination))
  }
}

/** Destinations to visit, and how to read and plan one of them. */
async function prepare(manifest: Manifest, env: string, options: SyncOptions) {
  const store = options.store ?? (await readStore(manifest, env))
  const state = new SyncState(manifest.dir)
  const key = state.fingerprintKey(fingerprintKeyOf(store))
  const history = state.history()
  const graces = graceStates(manifest, env, history, now())
  const grace = options.grace ?? previousKeysInGrace(graces)
  const resolved = resolveDestinations(manifest, env, store, {...options, grace}).filter((r) => !r.optional || state.ownership(r.destination.id).keys.size > 0)
  // Placeholders never leave the machine: push holds them back, and diff shows what push will do.
  const exclude = options.exclude ?? placeholderKeys(manifest, env, store)
  for (const r of resolved) for (const name of liveNames(r, exclude)) r.desired.delete(name)
  const only = options.only && options.only.length > 0 ? new Set(options.only) : undefined
  requireKeysOfServices(manifest, env, 'only', options.only, options.services)
  const selected = keysOfServices(manifest, env, options.services)
  if (only) {
    const known = new Set(resolved.flatMap(manifestKeysOf))
    for (const key of only) {
      if (!known.has(key)) {
        throw new EnvsyncError(`--only ${key}: no destination of ${env} receives that key`, {
          code: 'UNKNOWN_KEY',
          suggestion: didYouMean(key, known) ?? `keys: ${[...known].sort().join(', ')}`,
        })
      }
    }
  }
  /**
   * The keys a destination's plan covers: --only's, else (with -s) all but the manifest keys of
   * services outside -s, which a shared Docker directory also holds: those are left out, not
   * shown as missing. Live keys the manifest does not have stay in view (stale, unmanaged).
   */
  const scope = (r: Resolved, live: Iterable<string>): Set<string> | undefined => {
    if (only) return liveNames(r, only)
    const outside = liveNames(r, manifestKeysOf(r).filter((k) => selected && !selected.has(k)))
    return outside.size === 0 ? undefined : new Set([...r.manifestKeys, ...live].filter((k) => !outside.has(k)))
  }
  const shownIn = plainValues(manifest, env, store)
  const targets = new Targets(options.kubernetes)
  const planOne = async (r: Resolved): Promise<DestinationPlan> => {
    const target = await targets.get(r.destination.kind)
    try {
      const live = await target.read(r.destination)
      const record = state.ownership(r.destination.id)
      return planDestination({
        destination: r.destination,
        desired: r.desired,
        manifestKeys: r.manifestKeys,
        live,
        owned: live.owned ?? record.keys,
        pushed: live.owned ? undefined : record.pushed,
        prune: options.prune === true,
        only: scope(r, live.values.keys()),
        heldBack: liveNames(r, exclude),
        fingerprint: (s) => s.fingerprint(key),
        shown: shownIn(live),
      })
    } catch (error) {
      const empty = {exists: false, values: new Map()}
      return {destination: r.destination, exists: false, keys: [], changes: [], desired: new Map(), owned: new Set<string>(), pushed: new Map(), live: empty, error: asEnvsyncError(error)}
    }
  }
  const warnings = [
    ...(resolved.some((r) => r.destination.kind === 'docker') ? dockerWarnings(manifest, env) : []),
    ...(resolved.some((r) => r.destination.kind === 'railway' || r.destination.kind === 'render') ? stateWarnings(state) : []),
  ]
  const gapWarnings = (plans: DestinationPlan[]) => rotationGapWarnings(manifest, env, history, graces, plans)
  return {resolved, planOne, targets, state, warnings, gapWarnings}
}

/** A destination plan's write-only values whose last pushed fingerprints only other keys made (a clone with its own machine key). */
function foreignKeys(state: SyncState, p: DestinationPlan): string[] {
  return p.keys.filter((k) => k.live === 'write-only' && k.action === 'update' && state.foreignFingerprint(p.destination.id, k.key)).map((k) => k.key)
}

/** Those values are never compared, so they are written once more and recorded under this key. Said once per plan. */
function fingerprintWarnings(keys: Set<string>): PlaceWarning[] {
  if (keys.size === 0) return []
  return [
    {
      rule: 'fingerprint-key',
      message: `the fingerprint of ${plural(keys.size, 'sealed value')} (${[...keys].sort().join(', ')}) in .envsync/ownership.tsv was made under another fingerprint key (another machine's): envsync cannot tell whether ${keys.size === 1 ? 'it' : 'they'} changed, so push writes ${keys.size === 1 ? 'it' : 'them'} once more and records ${keys.size === 1 ? 'it' : 'them'} under this key`,
      hint: "use one key everywhere: an encrypted store carries one for all its recipients, or copy .envsync/local/key from the machine that pushed",
    },
  ]
}

/**
 * Refuses to push values that check reports as errors, unless forced. Returns the keys that must
 * not leave the machine even then: a placeholder never reaches a platform.
 */
async function checkBeforePush(manifest: Manifest, env: string, force: boolean, store: ValuesFile): Promise<Set<string>> {
  const result = await runCheck(manifest, env, store)
  if (result.errors > 0 && !force) {
    const first = result.findings.find((f) => f.severity === 'error')!
    throw new EnvsyncError(`check found ${plural(result.errors, 'error')} in ${env}; nothing was pushed (first: ${first.message})`, {
      code: 'CHECK_FAILED',
      exitCode: ExitCode.failed,
      suggestion: `run \`envsync check ${env}\` and fix them, or pass --force to push anyway (placeholders are never pushed)`,
    })
  }
  return placeholderKeys(manifest, env, store)
}

export type DestinationStatus = 'applied' | 'unchanged' | 'failed'

export interface DestinationReport {
  id: string
  label: string
  kind: TargetKind
  status: DestinationStatus
  added: string[]
  updated: string[]
  removed: string[]
  error?: {code: string; message: string; suggestion?: string}
}

export interface SyncReport {
  environment: string
  destinations: DestinationReport[]
  applied: number
  failed: number
  requests: number
  /** .envsync/ after the writes, when git should hear of it (commit it; or it is git-ignored). */
  state?: StateNote
  /** What followed the writes: restarts, deploys, commands to run (absent: nothing to redeploy). */
  redeploys?: Redeploy[]
}

export type ProgressEvent = {type: 'start' | 'done'; report?: DestinationReport; label: string; index: number; total: number}

export interface ApplyOptions {
  onProgress?: (e: ProgressEvent) => void
  /**
   * Destination ids to redeploy even when this run leaves their values unchanged (a rerun after
   * a failed redeploy: the values landed, the restart did not). Only where the destination
   * redeploys at all (deploy / restart from the manifest or --deploy).
   */
  redeploy?: ReadonlySet<string>
  /** The keys such a redeploy is for, recorded in the change history (rotate: the rotated keys; or per destination id). */
  redeployKeys?: string[] | ReadonlyMap<string, string[]>
}

/**
 * Applies every plan with bounded concurrency. A failing destination does not stop the others;
 * each reports applied / unchanged / failed. Ownership and the change history (keys only, never
 * values) are recorded per destination as its writes land; each redeploy before and after it.
 */
export async function applySync(plan: SyncPlan, options: ApplyOptions = {}): Promise<SyncReport> {
  const run = new ApplyRun(plan, options)
  await mapLimitPerGroup(plan.plans, byKind, CONCURRENCY, (_p, index) => run.apply(index))
  return run.settle()
}

type OwnershipUpdate = {keys: Set<string>; pushed: Map<string, string>}

/** One push's writes: each destination applied once, then the follow-up work and the records. */
class ApplyRun {
  private readonly reports: DestinationReport[] = []
  /** Plans whose writes landed: redeployed, whatever a record after them says. */
  private readonly written = new Set<number>()

  constructor(
    private readonly plan: SyncPlan,
    private readonly options: ApplyOptions,
  ) {}

  async apply(index: number): Promise<void> {
    const p = this.plan.plans[index]
    const d = p.destination
    const total = this.plan.plans.length
    const keysOf = (action: string) => p.changes.filter((c) => c.action === action).map((c) => c.key)
    const report: DestinationReport = {id: d.id, label: d.label, kind: d.kind, status: 'unchanged', added: keysOf('add'), updated: keysOf('update'), removed: keysOf('remove')}
    this.reports[index] = report
    this.options.onProgress?.({type: 'start', label: d.label, index, total})
    if (p.error) {
      report.status = 'failed'
      report.error = errorInfo(p.error)
    } else if (p.changes.length > 0) {
      // Before writing, what the write may leave behind if this process dies during it (kill -9,
      // Ctrl-C, a CI timeout): keys that were not there are envsync's once written.
      if (p.live.owned === undefined && !this.record(index, ownershipIfInterrupted(p, this.plan.state))) return this.done(index)
      try {
        const target = await this.plan.targets.get(d.kind)
        await target.apply(d, {changes: p.changes, desired: p.desired, owned: p.owned, live: p.live})
        report.status = 'applied'
        this.written.add(index)
      } catch (error) {
        report.status = 'failed'
        report.error = errorInfo(error as Error)
      }
    }
    // As soon as the writes landed (a redeploy may follow much later).
    this.record(index, ownershipAfter(p, report.status, this.plan.state))
    this.done(index)
  }

  private done(index: number): void {
    const p = this.plan.plans[index]
    const r = this.reports[index]
    // In the history as soon as the writes landed (or failed): a redeploy may follow much later, or never.
    if (r.status !== 'unchanged') {
      this.log([r], [{time: now().toISOString(), environment: this.plan.environment, action: 'push', destination: r.id, status: r.status, added: r.added, updated: r.updated, removed: r.removed, ...(r.error ? {error: r.error.code} : {})}])
    }
    this.options.onProgress?.({type: 'done', report: r, label: p.destination.label, index, total: this.plan.plans.length})
  }

  /**
   * Appends to the change history. One that cannot be written does not end the run: the
   * destinations it was for are reported failed, naming it (their values are where they are).
   */
  private log(reports: DestinationReport[], entries: Omit<HistoryEntry, 'user' | 'ci'>[]): void {
    try {
      this.plan.state.recordHistory(entries)
    } catch (error) {
      const info = errorInfo(error as Error)!
      for (const r of reports) {
        if (r.status === 'failed') continue
        r.error = {...info, message: `${r.status === 'applied' ? 'values written' : 'values in sync'}, but the change history was not: ${info.message}`}
        r.status = 'failed'
      }
    }
  }

  /**
   * Records one destination's ownership under the state's lock. A state that cannot be written
   * (read-only, full disk) does not end the run: the destination is reported failed, naming it.
   */
  private record(index: number, update: OwnershipUpdate | undefined): boolean {
    if (!update) return true
    try {
      this.plan.state.recordOwnership(new Map([[this.plan.plans[index].destination.id, update]]))
      return true
    } catch (error) {
      const r = this.reports[index]
      const info = errorInfo(error as Error)!
      const written = r.status === 'applied'
      r.status = 'failed'
      r.error = {
        ...info,
        message: written ? `values written, but the ownership record was not saved: ${info.message}` : `nothing written: the ownership record cannot be saved: ${info.message}`,
      }
      return false
    }
  }

  /** After every write: follow-up work per platform, then what git should hear of .envsync/. */
  async settle(): Promise<SyncReport> {
    const {plan, reports} = this
    const redeploys = await this.redeploy()
    const written = reports.some((r) => r.status !== 'unchanged')
    // Any push moves an older layout of .envsync/, one with nothing to change too.
    let moved = false
    try {
      moved = plan.state.migrate()
    } catch (error) {
      if (!written) throw error
      const info = errorInfo(error as Error)!
      for (const r of reports) if (r.status === 'applied') Object.assign(r, {status: 'failed', error: {...info, message: `values written, but the older .envsync/ files were not moved: ${info.message}`}})
    }
    const state = written || moved ? plan.state.gitNote() : undefined
    return {
      environment: plan.environment,
      destinations: reports,
      applied: reports.filter((r) => r.status === 'applied').length,
      failed: reports.filter((r) => r.status === 'failed').length,
      requests: plan.targets.requests,
      ...(state ? {state} : {}),
      ...(redeploys.length > 0 ? {redeploys} : {}),
    }
  }

  /**
   * Each platform's follow-up once all writes landed: a deploy per changed service, a rollout
   * restart of what reads a Secret, the compose command to run. For the destinations written now
   * and those asked for (ApplyOptions.redeploy: values already in sync, the redeploy still owed).
   * A redeploy that failed fails its destination's report: the values are there, not yet read.
   * Each is in the history as pending before it is attempted, applied or failed after: a run that
   * dies during it leaves it owed, and the next push or rotate makes it.
   */
  private async redeploy(): Promise<Redeploy[]> {
    const {plan, reports} = this
    const asked = this.options.redeploy ?? new Set<string>()
    const out: Redeploy[] = []
    for (const kind of new Set(plan.plans.map((p) => p.destination.kind))) {
      const chosen = plan.plans.filter((p, i) => p.destination.kind === kind && (this.written.has(i) || (reports[i].status === 'unchanged' && asked.has(p.destination.id))))
      const target = await plan.targets.get(kind)
      if (chosen.length === 0 || !target.finish) continue
      const keys = new Map(chosen.map((p) => [p.destination.id, this.keysOf(p.destination.id)]))
      const owing = chosen.filter((p) => redeploys(p.destination)).map((p) => p.destination.id)
      const record = (statusOf: (id: string) => 'pending' | 'applied' | 'failed') =>
        this.log(
          reports.filter((r) => owing.includes(r.id)),
          owing.map((destination) => {
            const status = statusOf(destination)
            return {time: now().toISOString(), environment: plan.environment, action: 'redeploy' as const, destination, keys: keys.get(destination)!, status, ...(status === 'failed' ? {error: 'REDEPLOY_FAILED'} : {})}
          }),
        )
      // Recorded as started before it is attempted: a run killed during it leaves it owed.
      record(() => 'pending')
      let done: Redeploy[]
      try {
        done = (await target.finish(chosen.map((p) => p.destination), keys)) ?? []
      } catch (error) {
        // Nothing known of what it did: every destination of the kind owes its redeploy.
        const message = errorInfo(error as Error)!.message
        done = chosen.map((p) => ({destination: p.destination.id, label: p.destination.label, what: 'redeploy', status: 'failed' as const, error: message}))
        for (const p of chosen) this.redeployFailed(p.destination.id, error as Error)
      }
      for (const r of done.filter((x) => x.status === 'failed')) this.redeployFailed(r.destination, new EnvsyncError(`${r.what}: ${r.error ?? 'failed'}`, {code: 'REDEPLOY_FAILED'}))
      // Each pending entry closed; a destination with no deploy to make (nothing reads it) is done too.
      const failed = new Set(done.filter((x) => x.status === 'failed').map((x) => x.destination))
      record((id) => (failed.has(id) ? 'failed' : 'applied'))
      // Errors are foreign text (a platform's answer): redacted like every other message.
      out.push(...done.map((d) => (d.error ? {...d, error: redact(d.error)} : d)))
    }
    return out
  }

  /** The keys a destination's redeploy is for: those changed there, else those it was asked for. */
  private keysOf(id: string): string[] {
    const r = this.reports.find((x) => x.id === id)!
    const changed = [...r.added, ...r.updated, ...r.removed]
    if (changed.length > 0) return changed
    const asked = this.options.redeployKeys
    return [...((asked instanceof Map ? asked.get(id) : (asked as string[] | undefined)) ?? [])]
  }

  /** Once per destination: the values are in place, what reads them was not redeployed. */
  private redeployFailed(id: string, error: Error): void {
    const r = this.reports.find((x) => x.id === id)
    if (!r || r.error?.code === 'REDEPLOY_FAILED') {
      if (r?.error && !r.error.message.includes(error.message)) r.error.message += `; ${error.message}`
      return
    }
    const info = errorInfo(error)!
    const written = r.status === 'applied'
    r.status = 'failed'
    r.error = {
      code: 'REDEPLOY_FAILED',
      message: `${written ? 'values written' : 'values in sync'}, but the redeploy failed: ${info.message}`,
      suggestion: info.suggestion ?? 'fix the cause and push again (with --deploy where the manifest does not deploy): the redeploys still owed are made again',
    }
  }
}

const sameKeys = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((k) => b.has(k))
const samePushed = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)

/**
 * What a destination's record must say if this process dies while writing it: the record as it
 * was, plus the keys the write adds (not there before: envsync's if they land), with no
 * fingerprint, so a write that may not have landed never counts as pushed. A key taken over
 * (there before, not envsync's) is recorded only once its write is confirmed: a later removal
 * from the manifest must never delete a value envsync may not have written.
 */
function ownershipIfInterrupted(p: DestinationPlan, state: SyncState): OwnershipUpdate | undefined {
  const before = state.ownership(p.destination.id)
  const keys = new Set(before.keys)
  for (const c of p.changes) if (c.action === 'add') keys.add(c.key)
  return sameKeys(keys, before.keys) ? undefined : {keys, pushed: before.pushed}
}

/**
 * The record after a destination's apply (undefined: unchanged). Recorded for what was
 * written, not for the final status: values written before a failed redeploy are envsync's. A
 * destination not (known to be) written keeps its record, plus the keys its read found in sync
 * (live is the local value: owned, with that fingerprint) and, after a failed write, the keys
 * that write may have added (answer lost, or a later request failed): owned, so that dropping
 * them from the manifest removes them, but with their old fingerprints.
 */
function ownershipAfter(p: DestinationPlan, status: DestinationStatus, state: SyncState): OwnershipUpdate | undefined {
  if (p.error) return undefined
  const written = status === 'applied'
  const before = state.ownership(p.destination.id)
  if (p.live.owned !== undefined) {
    // The platform keeps ownership itself (managedFields, the Docker directory's record); the
    // local record only remembers that envsync has keys there, so a place the manifest stops
    // feeding is still visited.
    const keys = written ? p.owned : p.live.owned
    return sameKeys(keys, before.keys) ? undefined : {keys, pushed: new Map()}
  }
  if (written) return sameKeys(p.owned, before.keys) && samePushed(p.pushed, before.pushed) ? undefined : {keys: p.owned, pushed: p.pushed}
  const keys = new Set(before.keys)
  const pushed = new Map(before.pushed)
  for (const k of p.keys) {
    if (k.action !== 'unchanged') continue
    keys.add(k.key)
    if (k.local) pushed.set(k.key, k.local)
  }
  if (status === 'failed') for (const c of p.changes) if (c.action === 'add') keys.add(c.key)
  return sameKeys(keys, before.keys) && samePushed(pushed, before.pushed) ? undefined : {keys, pushed}
}

/** What a report says of a failure: redacted again, for values read after the error was made. */
function errorInfo(error: Error): DestinationReport['error'] {
  const {code, message, suggestion} = asEnvsyncError(error).toJSON()
  return {code, message, suggestion}
}
