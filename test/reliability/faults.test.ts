import {createHash} from 'node:crypto'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {expect} from 'chai'
import fc from 'fast-check'

import type {SyncPlan, SyncReport} from '../../src/sync/sync.js'
import type {Destination} from '../../src/targets/target.js'
import {applyThenDrop, drop, latency, seededRandom, serverError, tooManyRequests, type Fault, type FaultInjector, type FaultRequest} from '../fakes/faults.js'
import {start as startRailway, type RailwayFake, type SeededProject} from '../fakes/railway.js'
import {DEFAULT_API_KEY, renderFault, startRenderFake, type RenderFake} from '../fakes/render.js'
import {ownershipRecords, TempProject} from '../helpers/project.js'
import {placeholderKind} from '../../src/check/placeholder.js'

/**
 * Reliability under injected faults, in-process (planSync/applySync against the Railway and
 * Render fakes over real HTTP on 127.0.0.1).
 *
 * A seeded run of random manifests (1–4 services, 1–30 keys, random sensitive/shared flags,
 * defaults, Railway literals, awkward values) is pushed to Railway and Render together while
 * about 20 % of requests fail at random (500/502/503, 429 with Retry-After, dropped
 * connections, timeouts, latency, applyThenDrop), and on some pushes a few requests fail on
 * every attempt ("sticky" faults: the retries run out, so destinations really fail). Between
 * pushes, keys are added, removed and changed, and "someone else" edits the platforms:
 * unmanaged HAND_* variables appear, change, disappear and are sealed; managed values drift
 * (edited or deleted) or get sealed while in sync.
 *
 * Reproduce a failure with the seed it prints: ENVSYNC_TEST_SEED=<seed> (ENVSYNC_FAULT_PUSHES
 * changes the number of pushes). Fault draws are a function of (seed, push, request identity,
 * attempt), not of arrival order, so concurrent destinations do not reshuffle them.
 *
 * THE INVARIANT, checked after every push. Notation, per destination D (one Railway service's
 * variables, Railway's shared variables, one Render service, the Render env group):
 *   B(D)  live state before the push, A(D) live state after it — both read straight from the
 *         fake's admin API (never through envsync), after the fake has finished every request it
 *         received (a timed-out request may still be applied after the client gave up);
 *   M(D)  the manifest keys that go to D, and W(D) those with a value (Railway literal, else the
 *         values file, else the manifest default) — computed by this test, not by envsync;
 *   T(D)  the desired state: W(D)'s keys with their values, plus every other key of B(D) that
 *         must be left alone: unmanaged keys (HAND_*, never written by envsync) and manifest
 *         keys without a local value ("missing": left as they are live). Any other key of B(D)
 *         was put there by envsync and has left the manifest, so it is absent from T(D).
 *   A destination of no manifest service (unmapped, or without keys) must be untouched: A = B.
 *
 * The push is correct when either
 *   (1) report.failed == 0 and A(D) == T(D) for every destination, or
 *   (2) report.failed > 0 and the report MATCHES the live state, meaning, per destination:
 *       - the report lists exactly the destinations of the manifest;
 *       - its added/updated/removed lists are exactly T(D) − B(D) (unless D's read failed: then
 *         nothing is listed), except that a sealed (write-only) Railway value already at its
 *         desired value may also be listed as updated: envsync cannot read it and rewrites it
 *         when it cannot be sure its last write landed — harmless, the value is the same;
 *       - `applied` or `unchanged` → A(D) == T(D) (`unchanged` also: T(D) == B(D));
 *       - `failed` with a reason, and: read failed → A(D) == B(D) (nothing written); the redeploy
 *         failed after the writes → A(D) == T(D); a write failed → every key NOT listed in the
 *         report is untouched (A[k] == B[k]) and every listed key is either untouched or at its
 *         desired value (A[k] ∈ {B[k], T[k]}, absence being a value): a failed write may have
 *         been applied before its connection dropped, but nothing outside the plan moves and no
 *         key takes a third value. Render's bulk PUT replaces a service's variables in one
 *         request, so a failed Render service is whole: A == B or A == T.
 * In both cases, every unmanaged variable ever seeded is still there with its value (checked
 * against a ledger of what "someone else" set, not only against B), and after a failing push a
 * push with faults turned off reports no failure, reaches T, and a fresh plan has no changes.
 */

const SEED = Number(process.env.ENVSYNC_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31))
const PUSHES = Number(process.env.ENVSYNC_FAULT_PUSHES ?? 200)
/** ENVSYNC_FAULT_TRACE=1: print every destination's outcome and the faults it met (keys only). */
const TRACE = process.env.ENVSYNC_FAULT_TRACE === '1'
/** The HTTP helper's timeout and backoff base for this suite (src/targets/http.ts env defaults). */
const CLIENT_TIMEOUT_MS = 150
const SLOW_MS = 200
const BACKOFF_MS = 2

const SERVICES = ['api', 'worker', 'web', 'jobs'] as const
type Service = (typeof SERVICES)[number]
const SCOPES = [...SERVICES.map((s) => `railway ${s}`), 'railway shared', ...SERVICES.map((s) => `render ${s}`), 'render group']
const HAND = 'HAND_'
const isHand = (k: string) => k.startsWith(HAND)

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7+/=\n-----END PRIVATE KEY-----\n'
const FRAGMENTS = [
  '\n', '\r\n', ' ', '  ', '\t', '"', "'", '`', '$', '$HOME', '${HOME}', '$$', '${{', '}}', '${{shared.DB}}', '${{Postgres.DATABASE_URL}}', '=', '==', '#', ' # c',
  '\\', '\\n', 'é', 'ß', '日本', '😀', '\u2028', '\u00a0', '\ufeff', '\0', 'export ', 'K=v', PEM, '-----BEGIN CERTIFICATE-----\n', 'abc', 'Z9', '/', '%20', '&x=1',
]
const storable = (v: string) => v.isWellFormed() && src.encodeValue(v) !== undefined

/**
 * envsync's modules, loaded with import(). Mocha require()s a .ts test file (tsx compiles it to
 * CommonJS), so a static import here would load src/ into the CommonJS module graph, while
 * src/targets/registry.ts loads the Railway and Render adapters with import(), into the ESM
 * graph: two copies of src/secret.ts, whose Secrets cannot compare (#value is per class).
 * Loading everything with import() keeps one graph, as in the CLI (see test/k8s/push.test.ts).
 */
const src = {} as typeof import('../../src/sync/sync.js') &
  typeof import('../../src/manifest/load.js') &
  typeof import('../../src/targets/railway.js') &
  typeof import('../../src/targets/render.js') &
  typeof import('../../src/values/dotenv.js') &
  typeof import('../../src/values/store.js')

async function loadSrc(): Promise<void> {
  Object.assign(
    src,
    await import('../../src/sync/sync.js'),
    await import('../../src/manifest/load.js'),
    await import('../../src/targets/railway.js'),
    await import('../../src/targets/render.js'),
    await import('../../src/values/dotenv.js'),
    await import('../../src/values/store.js'),
  )
}

// ---- faults ---------------------------------------------------------------------------------

type Label = '500' | '502' | '503' | '429' | '429-date' | 'drop' | 'applyThenDrop' | 'timeout' | 'latency'
/** Probability per request (attempt) of each fault: 20 % in all. */
const RULES: {label: Label; p: number}[] = [
  {label: '500', p: 0.04},
  {label: '502', p: 0.015},
  {label: '503', p: 0.015},
  {label: '429', p: 0.025},
  {label: '429-date', p: 0.015},
  {label: 'drop', p: 0.03},
  {label: 'applyThenDrop', p: 0.03},
  {label: 'timeout', p: 0.015},
  {label: 'latency', p: 0.015},
]
const STICKY: Label[] = ['500', '503', 'drop', 'applyThenDrop']
const STICKY_PUSHES = 0.3
const STICKY_RATE = 0.08

function unit(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('\u0001')).digest().readUInt32BE(0) / 2 ** 32
}

/**
 * Decides, for every request a fake receives, whether it fails and how. Installed with
 * FaultInjector.always(fault, {match}) once per fault kind; the decision is made once per
 * request and cached, so the injector's own bookkeeping (`injected`) stays exact.
 */
class Chaos {
  enabled = false
  sticky = false
  push = 0
  readonly injected: Record<string, number> = {}
  stickyInjected = 0
  /** Requests received while faults were on. */
  underFaults = 0
  readonly arrivals: Record<string, number> = {railway: 0, render: 0}
  private readonly attempts = new Map<string, number>()
  private readonly memo = new WeakMap<FaultRequest, Label | null>()

  constructor(readonly seed: number) {}

  begin(push: number, sticky: boolean): void {
    this.push = push
    this.enabled = true
    this.sticky = sticky
    this.attempts.clear()
  }

  install(name: 'railway' | 'render', faults: FaultInjector, identity: (r: FaultRequest) => string, make: Record<Label, Fault>): void {
    for (const label of Object.keys(make) as Label[]) faults.always(make[label], {match: (r) => this.decide(name, r, identity) === label})
  }

  private decide(name: string, r: FaultRequest, identity: (r: FaultRequest) => string): Label | null {
    const cached = this.memo.get(r)
    if (cached !== undefined) return cached
    this.arrivals[name]++
    let label: Label | null = null
    if (this.enabled) {
      this.underFaults++
      const id = `${name} ${identity(r)}`
      const attempt = this.attempts.get(id) ?? 0
      this.attempts.set(id, attempt + 1)
      if (this.sticky && unit(this.seed, this.push, id, 'sticky') < STICKY_RATE) {
        label = STICKY[Math.floor(unit(this.seed, this.push, id, 'kind') * STICKY.length)]!
        this.stickyInjected++
      } else {
        let u = unit(this.seed, this.push, id, attempt)
        for (const rule of RULES) {
          if (u < rule.p) {
            label = rule.label
            break
          }
          u -= rule.p
        }
      }
      if (label) this.injected[label] = (this.injected[label] ?? 0) + 1
    }
    this.memo.set(r, label)
    return label
  }
}

// ---- the world: two fakes, a project, who is where --------------------------------------------

interface World {
  railway: RailwayFake
  render: RenderFake
  rw: SeededProject
  rdServices: Record<Service, string>
  rdGroup: string
  /** How the manifest names each platform object (ids or names, fixed for the run). */
  refs: {rwProject: string; rwService: Record<Service, string>; rdService: Record<Service, string>; rdGroup: string}
  chaos: Chaos
}

const ENV_KEYS = ['RAILWAY_API_URL', 'RAILWAY_API_TOKEN', 'RAILWAY_TOKEN', 'RENDER_API_URL', 'RENDER_API_KEY', 'ENVSYNC_HTTP_BACKOFF_MS', 'ENVSYNC_HTTP_TIMEOUT_MS'] as const

async function startWorld(rng: () => number, seed: number): Promise<{world: World; restore: () => Promise<void>}> {
  const railway = await startRailway()
  // windowMs 0: every request opens a fresh rate-limit window, so Ratelimit-Reset is 0 and an
  // injected 429's "Ratelimit-Remaining: 0" costs no wait (the real 60 s windows would).
  const render = await startRenderFake({limits: {windowMs: 0}, seed})
  // Ids from the seed (the fake would draw random UUIDs): fault draws hash request identities,
  // which carry these ids, so the same seed must give the same ids.
  const uuid = (name: string) => {
    const h = createHash('sha256').update(`${seed}:${name}`).digest('hex')
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
  }
  const projectId = railway.addProject({name: 'shop', id: uuid('project'), environments: []}).id
  railway.addEnvironment(projectId, 'production', uuid('production'))
  for (const s of [...SERVICES, 'Postgres']) railway.addService(projectId, s, uuid(s))
  const rw = railway.describe(projectId)
  railway.setVariables({projectId: rw.id, environmentId: rw.environments.production!, serviceId: rw.services.Postgres}, {DATABASE_URL: 'postgres://rendered:secret@db/x'})
  const token = railway.accountToken()
  const rdServices = Object.fromEntries(SERVICES.map((s) => [s, render.addService({name: `shop-${s}`})])) as Record<Service, string>
  const rdGroup = render.addEnvGroup({name: 'shop-shared', services: Object.values(rdServices)})
  const pick = (id: string, name: string) => (rng() < 0.5 ? id : name)
  const refs = {
    rwProject: pick(rw.id, 'shop'),
    rwService: Object.fromEntries(SERVICES.map((s) => [s, pick(rw.services[s]!, s)])) as Record<Service, string>,
    rdService: Object.fromEntries(SERVICES.map((s) => [s, pick(rdServices[s], `shop-${s}`)])) as Record<Service, string>,
    rdGroup: pick(rdGroup, 'shop-shared'),
  }
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]))
  Object.assign(process.env, {
    RAILWAY_API_URL: railway.url,
    RAILWAY_API_TOKEN: token,
    RENDER_API_URL: render.url,
    RENDER_API_KEY: DEFAULT_API_KEY,
    ENVSYNC_HTTP_BACKOFF_MS: String(BACKOFF_MS),
    ENVSYNC_HTTP_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS),
  })
  delete process.env.RAILWAY_TOKEN

  const chaos = new Chaos(seed)
  const past = new Date(Date.now() - 60_000).toUTCString()
  chaos.install('railway', railway.faults, (r) => `${r.operationName} ${JSON.stringify(r.variables ?? null)}`, {
    '500': serverError(500),
    '502': serverError(502),
    '503': serverError(503, {retryAfter: 0}),
    '429': tooManyRequests(0),
    '429-date': tooManyRequests(past, {html: true}),
    drop: drop(),
    applyThenDrop: applyThenDrop(),
    timeout: latency(SLOW_MS),
    latency: latency(15),
  })
  chaos.install('render', render.faults, (r) => `${r.method} ${r.path}`, {
    '500': renderFault(500),
    '502': serverError(502),
    '503': renderFault(503, {retryAfter: 0}),
    '429': renderFault(429, {retryAfter: 0}),
    '429-date': {kind: 'status', status: 429, retryAfter: past},
    drop: drop(),
    applyThenDrop: applyThenDrop(),
    timeout: latency(SLOW_MS),
    latency: latency(15),
  })
  const world: World = {railway, render, rw, rdServices, rdGroup, refs, chaos}
  return {
    world,
    restore: async () => {
      for (const k of ENV_KEYS) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
      await railway.stop()
      await render.stop()
    },
  }
}

function railwayScope(w: World, scope: string) {
  const name = scope.split(' ')[1]!
  return {projectId: w.rw.id, environmentId: w.rw.environments.production!, ...(name === 'shared' ? {} : {serviceId: w.rw.services[name]!})}
}

function renderId(w: World, scope: string): string {
  const name = scope.split(' ')[1]!
  return name === 'group' ? w.rdGroup : w.rdServices[name as Service]
}

/** Live variables of one destination, from the fake's admin API. */
function liveOf(w: World, scope: string): Record<string, string> {
  return scope.startsWith('railway ') ? w.railway.variables(railwayScope(w, scope)) : w.render.envVars(renderId(w, scope))
}

function snapshot(w: World): Record<string, Record<string, string>> {
  return Object.fromEntries(SCOPES.map((s) => [s, liveOf(w, s)]))
}

/** Names of sealed (write-only) variables per destination: only Railway has them. */
function sealedOf(w: World): Record<string, Set<string>> {
  return Object.fromEntries(SCOPES.map((s) => [s, new Set(s.startsWith('railway ') ? w.railway.sealed(railwayScope(w, s)) : [])]))
}

/** Someone else sets (or, on Render, deletes) a variable. */
function setByHand(w: World, scope: string, key: string, value: string | undefined): void {
  if (scope.startsWith('railway ')) {
    if (value === undefined) throw new Error('the Railway fake has no admin delete')
    w.railway.setVariables(railwayScope(w, scope), {[key]: value})
  } else w.render.setEnvVar(renderId(w, scope), key, value)
}

/** Waits until each fake has finished every request it received (timed-out ones included). */
async function settle(w: World): Promise<void> {
  const deadline = Date.now() + 5000
  for (;;) {
    const done = {railway: w.railway.counters.requests, render: Object.values(w.render.counters().byStatus).reduce((a, b) => a + b, 0)}
    if (done.railway >= w.chaos.arrivals.railway! && done.render >= w.chaos.arrivals.render!) return
    if (Date.now() > deadline) throw new Error(`the fakes did not finish their requests: done ${JSON.stringify(done)}, received ${JSON.stringify(w.chaos.arrivals)}`)
    await sleep(5)
  }
}

/** Destination id (as envsync names it) → this test's scope name. */
function scopeIds(w: World): Map<string, string> {
  const {refs} = w
  return new Map([
    ...SERVICES.map((s): [string, string] => [`railway:${refs.rwProject}/production/${refs.rwService[s]}`, `railway ${s}`]),
    [`railway:${refs.rwProject}/production/shared`, 'railway shared'],
    ...SERVICES.map((s): [string, string] => [`render:service/${refs.rdService[s]}`, `render ${s}`]),
    [`render:env-group/${refs.rdGroup}`, 'render group'],
  ])
}

// ---- the manifest model -------------------------------------------------------------------------

interface KeyDef {
  name: string
  services: Service[]
  sensitive: boolean
  shared: boolean
  /** In the values file; undefined: not there. */
  value?: string
  /** Manifest default (non-sensitive keys only). */
  def?: string
  /** targets.railway literal. */
  railway?: string
}

interface Model {
  services: Service[]
  keys: Map<string, KeyDef>
  railway: {services: Service[]; shared: boolean; deploy: boolean}
  render: {services: Service[]; group: boolean; deploy: boolean}
}

interface Expected {
  manifest: Set<string>
  want: Map<string, string>
}

class Gen {
  private n = 0
  constructor(readonly rng: () => number) {}
  chance(p: number): boolean {
    return this.rng() < p
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1))
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)]!
  }
  subset<T>(xs: readonly T[], p = 0.5): T[] {
    const out = xs.filter(() => this.chance(p))
    return out.length > 0 ? out : [this.pick(xs)]
  }
  alnum(len: number): string {
    const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    let s = ''
    for (let i = 0; i < len; i++) s += a[Math.floor(this.rng() * a.length)]
    return s
  }
  /** A value a .env file can hold: empty, PEM, secret-like, or glued from awkward pieces. */
  value(): string {
    for (;;) {
      const r = this.rng()
      let v: string
      if (r < 0.07) v = ''
      else if (r < 0.12) v = PEM
      else if (r < 0.35) v = this.alnum(this.int(8, 48))
      else v = Array.from({length: this.int(1, 6)}, () => (this.chance(0.7) ? this.pick(FRAGMENTS) : this.alnum(this.int(1, 6)))).join('')
      if (storable(v)) return v
    }
  }
  keyName(existing: Iterable<string>): string {
    const names = [...existing]
    if (names.length > 0 && this.chance(0.05)) {
      // A case variant of a key that exists: platforms are case-sensitive, so is envsync.
      const base = this.pick(names)
      const flipped = base[0] === base[0]!.toUpperCase() ? base[0]!.toLowerCase() + base.slice(1) : base[0]!.toUpperCase() + base.slice(1)
      if (flipped !== base && !names.includes(flipped) && /^[A-Za-z_]/.test(flipped)) return flipped
    }
    return `${this.pick(['DB_PASSWORD', 'JWT_SECRET', 'API_KEY', 'SMTP_URL', 'Redis_Url', 's3_bucket', '_TOKEN', 'X', 'A1', 'LOG_LEVEL', 'PEM_KEY', 'VITE_API_URL'])}_${++this.n}`
  }
  newKey(m: Model): KeyDef {
    const sensitive = this.chance(0.7)
    const k: KeyDef = {name: this.keyName(m.keys.keys()), services: this.subset(m.services, 0.4), sensitive, shared: this.chance(0.3)}
    if (this.chance(0.9)) k.value = this.value()
    if (!sensitive && this.chance(0.3)) k.def = this.value()
    if (this.chance(0.08)) k.railway = this.chance(0.5) ? '${{Postgres.DATABASE_URL}}' : this.value()
    return k
  }
}

function freshModel(g: Gen): Model {
  const services = g.subset(SERVICES, 0.6)
  const m: Model = {services, keys: new Map(), railway: {services: g.subset(services, 0.85), shared: g.chance(0.6), deploy: g.chance(0.4)}, render: {services: g.subset(services, 0.85), group: g.chance(0.6), deploy: g.chance(0.4)}}
  for (let i = g.int(1, 30); i > 0; i--) {
    const k = g.newKey(m)
    m.keys.set(k.name, k)
  }
  return m
}

/** Keys added, removed and changed; services and targets now and then. */
function mutate(g: Gen, m: Model): void {
  if (g.chance(0.1)) {
    const missing = SERVICES.filter((s) => !m.services.includes(s))
    if (missing.length > 0 && (m.services.length === 1 || g.chance(0.5))) m.services.push(g.pick(missing))
    else if (m.services.length > 1) m.services.splice(g.int(0, m.services.length - 1), 1)
    for (const k of m.keys.values()) {
      k.services = k.services.filter((s) => m.services.includes(s))
      if (k.services.length === 0) k.services = [g.pick(m.services)]
    }
  }
  const remap = (current: Service[]) => {
    const kept = current.filter((s) => m.services.includes(s))
    return kept.length > 0 && !g.chance(0.1) ? kept : g.subset(m.services, 0.85)
  }
  m.railway.services = remap(m.railway.services)
  m.render.services = remap(m.render.services)
  if (g.chance(0.08)) m.railway.shared = !m.railway.shared
  if (g.chance(0.08)) m.render.group = !m.render.group
  if (g.chance(0.15)) m.railway.deploy = !m.railway.deploy
  if (g.chance(0.15)) m.render.deploy = !m.render.deploy

  for (const k of [...m.keys.values()]) {
    if (m.keys.size > 1 && g.chance(0.08)) {
      m.keys.delete(k.name)
      continue
    }
    if (g.chance(0.15)) k.value = g.chance(0.93) ? g.value() : undefined
    if (g.chance(0.05)) k.shared = !k.shared
    if (g.chance(0.05)) k.services = g.subset(m.services, 0.4)
    if (g.chance(0.05)) {
      k.sensitive = !k.sensitive
      if (k.sensitive) k.def = undefined
    }
    if (!k.sensitive && g.chance(0.04)) k.def = k.def === undefined ? g.value() : undefined
    if (g.chance(0.04)) k.railway = k.railway === undefined ? '${{Postgres.DATABASE_URL}}' : undefined
  }
  for (let i = g.int(0, 4); i > 0 && m.keys.size < 30; i--) {
    const k = g.newKey(m)
    m.keys.set(k.name, k)
  }
}

/** YAML double-quoted scalar; everything outside printable ASCII escaped. */
function yq(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '"' || ch === '\\') out += '\\' + ch
    else if (c >= 0x20 && c <= 0x7e) out += ch
    else if (c <= 0xffff) out += '\\u' + c.toString(16).padStart(4, '0')
    else out += '\\U' + c.toString(16).padStart(8, '0')
  }
  return out + '"'
}

function manifestYaml(m: Model, w: World): string {
  const {refs} = w
  const map = (svcs: Service[], ref: Record<Service, string>) => `{${svcs.map((s) => `${s}: ${yq(ref[s])}`).join(', ')}}`
  const lines = [
    'version: 1',
    'project: shop',
    `services: {${m.services.map((s) => `${s}: {}`).join(', ')}}`,
    'environments:',
    '  production:',
    '    targets:',
    `      railway: {project: ${yq(refs.rwProject)}, environment: production, services: ${map(m.railway.services, refs.rwService)}, shared: ${m.railway.shared}, deploy: ${m.railway.deploy}}`,
    `      render: {services: ${map(m.render.services, refs.rdService)}, ${m.render.group ? `envGroup: ${yq(refs.rdGroup)}, ` : ''}deploy: ${m.render.deploy}}`,
    'secrets:',
  ]
  for (const k of m.keys.values()) {
    const f = [`services: [${k.services.join(', ')}]`, `sensitive: ${k.sensitive}`, `shared: ${k.shared}`]
    if (k.value === undefined) f.push('required: false')
    if (k.def !== undefined) f.push(`default: ${yq(k.def)}`)
    if (k.railway !== undefined) f.push(`targets: {railway: ${yq(k.railway)}}`)
    lines.push(`  ${k.name}: {${f.join(', ')}}`)
  }
  return lines.join('\n') + '\n'
}

/** The values file holds exactly the model's values (written with envsync's own store). */
function writeStore(file: string, m: Model): void {
  const current = src.readValues(file)
  const changes = new Map<string, string | null>()
  for (const k of current.values.keys()) changes.set(k, null)
  for (const k of m.keys.values()) if (k.value !== undefined) changes.set(k.name, k.value)
  src.writeValues(current, changes)
  const back = src.readValues(file)
  for (const k of m.keys.values()) expect(back.values.get(k.name)?.reveal(), `store ${k.name}`).to.equal(k.value)
}

/** The destinations the manifest has, with M(D) and W(D): the test's own reading of the manifest. */
function expectedDestinations(m: Model, owned: Set<string>): Map<string, Expected> {
  const out = new Map<string, Expected>()
  const keys = [...m.keys.values()]
  // A place the manifest no longer sends anything to is still visited while envsync owns keys
  // there (by its local record), to remove them.
  const add = (scope: string, kind: 'railway' | 'render', ks: KeyDef[]) => {
    if (ks.length === 0 && !owned.has(scope)) return
    const want = new Map<string, string>()
    for (const k of ks) {
      const v = (kind === 'railway' ? k.railway : undefined) ?? k.value ?? k.def
      if (v !== undefined) want.set(k.name, v)
    }
    out.set(scope, {manifest: new Set(ks.map((k) => k.name)), want})
  }
  for (const s of m.railway.services) add(`railway ${s}`, 'railway', keys.filter((k) => k.services.includes(s) && !(m.railway.shared && k.shared)))
  if (m.railway.services.length > 0) add('railway shared', 'railway', m.railway.shared ? keys.filter((k) => k.shared && k.services.some((s) => m.railway.services.includes(s))) : [])
  for (const s of m.render.services) add(`render ${s}`, 'render', keys.filter((k) => k.services.includes(s) && !(m.render.group && k.shared)))
  if (m.render.group) add('render group', 'render', keys.filter((k) => k.shared && k.services.some((s) => m.render.services.includes(s))))
  return out
}

/** Scopes where envsync's local ownership record says it put keys. */
function ownedScopes(w: World, manifestFile: string): Set<string> {
  const record: Record<string, {keys?: string[]}> = ownershipRecords(path.dirname(manifestFile))
  const ids = scopeIds(w)
  return new Set(Object.entries(record).filter(([, r]) => (r.keys?.length ?? 0) > 0).map(([id]) => ids.get(id)!).filter(Boolean))
}

/** T(D): see the invariant at the top. */
function desiredState(before: Record<string, string>, e: Expected): Record<string, string> {
  const t: Record<string, string> = {}
  for (const [k, v] of Object.entries(before)) if (isHand(k) || (e.manifest.has(k) && !e.want.has(k))) t[k] = v
  for (const [k, v] of e.want) t[k] = v
  return t
}

/**
 * What the report must list for a destination. A sealed value cannot be read, so envsync decides
 * by the fingerprint of what it last pushed; when it cannot be sure its last write landed it may
 * rewrite a sealed value with the same value: such keys (`rewritable`) may be listed as updated.
 */
function expectedLists(before: Record<string, string>, e: Expected, sealed: Set<string>): {added: string[]; updated: string[]; removed: string[]; rewritable: string[]} {
  return {
    added: [...e.want.keys()].filter((k) => !(k in before)).sort(),
    updated: [...e.want].filter(([k, v]) => k in before && before[k] !== v).map(([k]) => k).sort(),
    removed: Object.keys(before).filter((k) => !isHand(k) && !e.manifest.has(k)).sort(),
    rewritable: [...e.want].filter(([k, v]) => sealed.has(k) && before[k] === v).map(([k]) => k),
  }
}

const show = (o: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))))

interface Tally {
  destinations: number
  applied: number
  unchanged: number
  failedRead: number
  failedWrite: number
  failedDeploy: number
}

/** The invariant (see the top of the file) for one push. */
function checkPush(w: World, before: Record<string, Record<string, string>>, after: Record<string, Record<string, string>>, sealed: Record<string, Set<string>>, expected: Map<string, Expected>, plan: SyncPlan, report: SyncReport, tally: Tally): void {
  const ids = scopeIds(w)
  const reported = new Map<string, {d: SyncReport['destinations'][number]; p: SyncPlan['plans'][number]}>()
  report.destinations.forEach((d, i) => {
    const scope = ids.get(d.id)
    expect(scope, `unexpected destination ${d.id}`).to.be.a('string')
    reported.set(scope!, {d, p: plan.plans[i]!})
  })
  expect([...reported.keys()].sort(), 'the destinations of the manifest').to.deep.equal([...expected.keys()].sort())
  expect(report.failed).to.equal(report.destinations.filter((d) => d.status === 'failed').length)
  expect(report.applied).to.equal(report.destinations.filter((d) => d.status === 'applied').length)

  for (const scope of SCOPES) {
    const b = before[scope]!
    const a = after[scope]!
    const e = expected.get(scope)
    if (!e) {
      expect(show(a), `${scope} is no destination of the manifest: untouched`).to.equal(show(b))
      continue
    }
    tally.destinations++
    const t = desiredState(b, e)
    const {d, p} = reported.get(scope)!
    const where = `${scope} (${d.status}${d.error ? `: ${d.error.code} ${d.error.message}` : ''})`
    const {rewritable, ...want} = expectedLists(b, e, sealed[scope]!)
    const lists = {added: [...d.added].sort(), updated: d.updated.filter((k) => !rewritable.includes(k)).sort(), removed: [...d.removed].sort()}
    if (!p.error) expect(lists, `${where}: the report lists what differs`).to.deep.equal(want)
    if (d.status === 'applied' || d.status === 'unchanged') {
      expect(show(a), `${where}: live state is the desired state`).to.equal(show(t))
      if (d.status === 'unchanged') expect(show(b), `${where}: unchanged means nothing differed`).to.equal(show(t))
      tally[d.status]++
      continue
    }
    expect(d.status, where).to.equal('failed')
    expect(report.failed, where).to.be.greaterThan(0)
    expect(d.error?.message, `${where}: a failure says why`).to.be.a('string').and.not.equal('')
    if (p.error) {
      expect(show(a), `${where}: the read failed, so nothing was written`).to.equal(show(b))
      tally.failedRead++
    } else if (/redeploy failed/.test(d.error!.message)) {
      expect(show(a), `${where}: values written before the redeploy failed`).to.equal(show(t))
      tally.failedDeploy++
    } else {
      tally.failedWrite++
      const listed = new Set([...d.added, ...d.updated, ...d.removed])
      for (const k of new Set([...Object.keys(a), ...Object.keys(b), ...Object.keys(t)])) {
        if (!listed.has(k)) expect(a[k], `${where}: ${k} is not in the report, so untouched`).to.equal(b[k])
        else expect(a[k] === b[k] || a[k] === t[k], `${where}: ${k} is either untouched or desired, got ${JSON.stringify(a[k])}`).to.equal(true)
      }
      if (scope.startsWith('render ') && scope !== 'render group') expect(show(a) === show(b) || show(a) === show(t), `${where}: one bulk PUT: all or nothing`).to.equal(true)
    }
  }
}

function trace(push: number, what: string, report: SyncReport, plan: SyncPlan, w: World): void {
  report.destinations.forEach((d, i) => {
    const p = plan.plans[i]!
    const owned = [...p.owned].sort().join(',')
    console.log(`push ${push} ${what} ${d.id} ${d.status} +[${d.added}] ~[${d.updated}] -[${d.removed}] owned-after=[${owned}] ${d.error ? `${d.error.code}: ${d.error.message}` : ''}`)
  })
  const recent = (xs: {fault: Fault; request: FaultRequest}[]) => xs.slice(-60).map((x) => `${x.fault.kind}${x.fault.kind === 'status' ? x.fault.status : ''}@${x.request.operationName ?? `${x.request.method} ${x.request.path}`}`)
  console.log(`  faults: railway ${recent(w.railway.faults.injected).join(' ')} | render ${recent(w.render.faults.injected).join(' ')}`)
  w.railway.faults.injected.length = 0
  w.render.faults.injected.length = 0
}

function checkLedger(w: World, ledger: Map<string, Map<string, string>>): number {
  let n = 0
  for (const [scope, vars] of ledger) {
    const live = liveOf(w, scope)
    for (const [k, v] of vars) {
      n++
      expect(live[k], `unmanaged ${k} in ${scope} survives with its value`).to.equal(v)
    }
  }
  return n
}

// ---- the suites -------------------------------------------------------------------------------

describe('reliability: random manifests pushed to Railway and Render under injected faults', function () {
  this.timeout(120_000)
  let world: World
  let restore: () => Promise<void>
  let p: TempProject
  const g = new Gen(seededRandom(SEED))

  before(async () => {
    await loadSrc()
    ;({world, restore} = await startWorld(g.rng, SEED))
    p = new TempProject('envsync-reliability-')
  })
  after(async () => {
    await restore?.()
    p?.cleanup()
  })

  it(`${PUSHES} pushes with ~20 % of requests failing keep the invariant (seed ${SEED})`, async function () {
    const started = Date.now()
    const w = world
    const ledger = new Map<string, Map<string, string>>(SCOPES.map((s) => [s, new Map()]))
    const hand = (scope: string, key: string, value: string | undefined) => {
      setByHand(w, scope, key, value)
      if (value === undefined) ledger.get(scope)!.delete(key)
      else ledger.get(scope)!.set(key, value)
    }
    let handN = 0
    for (const scope of SCOPES) for (let i = g.int(1, 3); i > 0; i--) hand(scope, `${HAND}${++handN}`, g.value())
    // More than one page (100) of unmanaged variables on a Render service: a truncated read
    // followed by the bulk PUT would delete them.
    for (let i = 0; i < 105; i++) hand('render api', `${HAND}PAGE_${i}`, g.alnum(12))

    const tally: Tally = {destinations: 0, applied: 0, unchanged: 0, failedRead: 0, failedWrite: 0, failedDeploy: 0}
    let failingPushes = 0
    let convergencePushes = 0
    let ledgerChecks = 0
    let model: Model | undefined

    for (let i = 0; i < PUSHES; i++) {
      let step = 'prepare'
      try {
        // The manifest and values change; someone else edits the platforms.
        if (model) mutate(g, model)
        else model = freshModel(g)
        p.write('envsync.yaml', manifestYaml(model, w))
        writeStore(p.path('.env.production'), model)
        if (g.chance(0.35)) for (let j = g.int(1, 3); j > 0; j--) hand(g.pick(SCOPES), `${HAND}${++handN}`, g.value())
        if (g.chance(0.15)) {
          const scope = g.pick(SCOPES)
          const keys = [...ledger.get(scope)!.keys()]
          if (keys.length > 0) hand(scope, g.pick(keys), g.value())
        }
        if (g.chance(0.05)) {
          const scope = g.pick(SCOPES.filter((s) => s.startsWith('render ')))
          const keys = [...ledger.get(scope)!.keys()]
          if (keys.length > 0) hand(scope, g.pick(keys), undefined)
        }
        if (g.chance(0.05)) {
          // Sealed by hand: unreadable through the API, and still never deleted.
          const scope = g.pick(SCOPES.filter((s) => s.startsWith('railway ')))
          const keys = [...ledger.get(scope)!.keys()]
          if (keys.length > 0) w.railway.seal(railwayScope(w, scope), g.pick(keys))
        }
        if (g.chance(0.1)) {
          // Sealed by hand while in sync: envsync must still rewrite it when the local value
          // changes (it compares the fingerprint of what it last pushed).
          const scope = g.pick(SCOPES.filter((s) => s.startsWith('railway ')))
          const managed = Object.keys(liveOf(w, scope)).filter((k) => !isHand(k))
          if (managed.length > 0) w.railway.seal(railwayScope(w, scope), g.pick(managed))
        }
        if (g.chance(0.1)) {
          // Drift: a managed value edited (or, on Render, deleted) behind envsync's back. Not a
          // sealed one: nobody could tell, by design.
          const scope = g.pick(SCOPES)
          const sealedNow = scope.startsWith('railway ') ? w.railway.sealed(railwayScope(w, scope)) : []
          const managed = Object.keys(liveOf(w, scope)).filter((k) => !isHand(k) && !sealedNow.includes(k))
          if (managed.length > 0) setByHand(w, scope, g.pick(managed), scope.startsWith('render ') && g.chance(0.3) ? undefined : g.value())
        }

        const manifest = src.loadManifest(p.manifest)
        const expected = expectedDestinations(model, ownedScopes(w, p.manifest))
        const before = snapshot(w)
        const sealed = sealedOf(w)
        step = 'push with faults'
        w.chaos.begin(i, g.chance(STICKY_PUSHES))
        let plan: SyncPlan
        let report: SyncReport
        try {
          // Half the pushes as `push --yes` runs them: each destination written once planned.
          if (g.chance(0.5)) ({plan, report} = await src.planAndApply(manifest, 'production'))
          else {
            plan = await src.planSync(manifest, 'production')
            report = await src.applySync(plan)
          }
        } finally {
          w.chaos.enabled = false
        }
        await settle(w)
        const after = snapshot(w)
        if (TRACE) trace(i, 'faults', report, plan, w)
        step = 'invariant'
        checkPush(w, before, after, sealed, expected, plan, report, tally)
        ledgerChecks += checkLedger(w, ledger)

        if (report.failed > 0) {
          failingPushes++
          convergencePushes++
          step = 'convergence push without faults'
          const expected2 = expectedDestinations(model, ownedScopes(w, p.manifest))
          const plan2 = await src.planSync(src.loadManifest(p.manifest), 'production')
          const report2 = await src.applySync(plan2)
          await settle(w)
          const after2 = snapshot(w)
          if (TRACE) trace(i, 'rerun', report2, plan2, w)
          expect(report2.failed, JSON.stringify(report2.destinations.filter((d) => d.error).map((d) => [d.id, d.error]))).to.equal(0)
          checkPush(w, after, after2, sealedOf(w), expected2, plan2, report2, {...tally})
          ledgerChecks += checkLedger(w, ledger)
        }
        step = 'diff without faults'
        const again = await src.planSync(src.loadManifest(p.manifest), 'production')
        expect(again.plans.filter((x) => x.error).map((x) => x.error!.message), 'diff reads').to.deep.equal([])
        expect(again.plans.flatMap((x) => x.changes.map((c) => `${x.destination.label}: ${c.action} ${c.key}`)), 'diff shows no changes').to.deep.equal([])
      } catch (error) {
        const e = error as Error
        e.message = `[seed ${SEED} — rerun with ENVSYNC_TEST_SEED=${SEED}; push ${i} of ${PUSHES}, ${step}] ${e.message}`
        throw e
      }
    }

    const ms = Date.now() - started
    const faults = Object.values(w.chaos.injected).reduce((a, b) => a + b, 0)
    const requests = w.chaos.arrivals.railway! + w.chaos.arrivals.render!
    const injectedByFakes = w.railway.faults.injected.length + w.render.faults.injected.length
    expect(injectedByFakes, 'every decided fault was applied by a fake').to.equal(faults)
    expect(failingPushes, 'some pushes failed (the failure paths were exercised)').to.be.greaterThan(0)
    expect(tally.failedWrite, 'some writes failed for good').to.be.greaterThan(0)
    const summary = {
      seed: SEED,
      pushes: PUSHES,
      failingPushes,
      convergencePushes,
      destinations: tally,
      requests,
      requestsUnderFaults: w.chaos.underFaults,
      faults,
      faultsByKind: w.chaos.injected,
      stickyFaults: w.chaos.stickyInjected,
      unmanagedChecks: ledgerChecks,
      ms,
    }
    console.log(`      ${JSON.stringify(summary)}`)
    this.test!.title += ` [${failingPushes} failing pushes, ${faults} faults in ${requests} requests, ${ms} ms]`
  })
})

describe('reliability: awkward values round-trip through Railway and Render byte-exact (property)', function () {
  this.timeout(120_000)
  let world: World
  let restore: () => Promise<void>
  let p: TempProject
  const KEYS = ['V_SVC', 'V_SHARED', 'V_CFG', 'V_OTHER']

  before(async () => {
    await loadSrc()
    ;({world, restore} = await startWorld(seededRandom(SEED ^ 0x5eed), SEED))
    p = new TempProject('envsync-roundtrip-')
    const {refs} = world
    p.write(
      'envsync.yaml',
      `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets:
      railway: {project: ${yq(refs.rwProject)}, services: {api: ${yq(refs.rwService.api)}}, shared: true}
      render: {services: {api: ${yq(refs.rdService.api)}}, envGroup: ${yq(refs.rdGroup)}}
secrets:
  V_SVC: {services: [api], required: false}
  V_SHARED: {services: [api], shared: true, required: false}
  V_CFG: {services: [api], sensitive: false, required: false}
  V_OTHER: {services: [api], shared: true, sensitive: false, required: false}
  DATABASE_URL: {services: [api], targets: {railway: "\${{Postgres.DATABASE_URL}}"}}
`,
    )
  })
  after(async () => {
    await restore?.()
    p?.cleanup()
  })

  const piece = fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({unit: 'grapheme', maxLength: 4}), fc.string({unit: 'binary', maxLength: 4}))
  const awkward = fc.oneof(
    {weight: 4, arbitrary: fc.array(piece, {maxLength: 8}).map((parts) => parts.join(''))},
    {weight: 1, arbitrary: fc.string({unit: 'binary', maxLength: 40})},
    {weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', PEM, '\0', ' leading', 'trailing ', `a'b"c`, '#x', 'x=y=z', '$VAR ${VAR}', '${{X.Y}}', '${{shared.V_SHARED}}', '${{ Postgres.DATABASE_URL }}', 'ünïcödé 日本 😀')},
  )
  const named = [
    {V_SVC: PEM, V_SHARED: '', V_CFG: '${{X.Y}}', V_OTHER: ' spaced\t'},
    {V_SVC: 'line1\nline2\n', V_SHARED: '\0nul\0', V_CFG: `q ' " x`, V_OTHER: 'multi\nline\r\nvalue'},
    {V_SVC: '$HOME ${HOME} $$', V_SHARED: '😀 日本 é', V_CFG: '${{shared.V_SHARED}}', V_OTHER: '\u2028'},
  ]

  it('store → push → platform state → adapter read is byte-exact; Railway references stay literal', async function () {
    const started = Date.now()
    const w = world
    let runs = 0
    const file = p.path('.env.production')
    const check = async (values: Record<string, string>) => {
      runs++
      const current = src.readValues(file)
      src.writeValues(current, new Map(Object.entries(values)))
      const store = src.readValues(file)
      for (const k of KEYS) expect(store.values.get(k)?.reveal(), `store ${k}`).to.equal(values[k])
      const manifest = src.loadManifest(p.manifest)
      const plan = await src.planSync(manifest, 'production')
      const report = await src.applySync(plan)
      expect(report.failed, JSON.stringify(report.destinations.map((d) => d.error))).to.equal(0)
      // Platform state, from the admin API.
      const rwApi = liveOf(w, 'railway api')
      const rwShared = liveOf(w, 'railway shared')
      const rdApi = liveOf(w, 'render api')
      const rdGroup = liveOf(w, 'render group')
      expect(rwApi, 'railway service').to.deep.equal({V_SVC: values.V_SVC, V_CFG: values.V_CFG, DATABASE_URL: '${{Postgres.DATABASE_URL}}'})
      expect(rwShared, 'railway shared').to.deep.equal({V_SHARED: values.V_SHARED, V_OTHER: values.V_OTHER})
      expect(rdApi, 'render service').to.deep.equal({V_SVC: values.V_SVC, V_CFG: values.V_CFG, DATABASE_URL: ''})
      expect(rdGroup, 'render group').to.deep.equal({V_SHARED: values.V_SHARED, V_OTHER: values.V_OTHER})
      // Read back by the adapters, fresh instances (no cached state from the push).
      const railway = new src.RailwayTarget()
      const render = new src.RenderTarget()
      for (const pl of plan.plans) {
        const target = pl.destination.kind === 'railway' ? railway : render
        const live = await target.read(pl.destination as Destination<never>)
        const got = Object.fromEntries([...live.values].map(([k, v]) => [k, typeof v === 'symbol' ? '(write-only)' : v.reveal()]))
        const admin = pl.destination.kind === 'railway' ? (pl.destination.id.endsWith('/shared') ? rwShared : rwApi) : pl.destination.id.startsWith('render:env-group') ? rdGroup : rdApi
        expect(got, `${pl.destination.label}: adapter read`).to.deep.equal(admin)
      }
      const again = await src.planSync(src.loadManifest(p.manifest), 'production')
      expect(again.plans.flatMap((x) => x.changes.map((c) => `${x.destination.label}: ${c.action} ${c.key}`))).to.deep.equal([])
    }
    // An empty DATABASE_URL goes to Render (no literal there): the store must hold it.
    const withDb = (v: Record<string, string>) => ({...v, DATABASE_URL: ''})
    for (const v of named) await check(withDb(v))
    await fc.assert(
      fc.asyncProperty(fc.record({V_SVC: awkward, V_SHARED: awkward, V_CFG: awkward, V_OTHER: awkward}), async (values) => {
        fc.pre(Object.values(values).every(storable))
        // Placeholders are never pushed (held back by design): not a round trip to test here.
        fc.pre(!Object.values(values).some((v) => placeholderKind(v)))
        await check(withDb(values))
      }),
      {numRuns: 80, seed: SEED},
    )
    // The reference is stored literally, though it renders to something else on Railway.
    expect(w.railway.variables(railwayScope(w, 'railway api')).DATABASE_URL).to.equal('${{Postgres.DATABASE_URL}}')
    expect(runs, 'most generated values are storable').to.be.greaterThan(50)
    this.test!.title += ` [${runs} runs, ${Date.now() - started} ms]`
  })
})

/**
 * The sequences the random suite found, pinned down (each failed before the fix in
 * src/sync/sync.ts: local ownership was recorded only for destinations whose final status was
 * `applied`, and never from a read that found a destination in sync).
 */
describe('reliability: regressions found by the fault suite', function () {
  this.timeout(60_000)
  let world: World
  let restore: () => Promise<void>
  let p: TempProject

  beforeEach(async () => {
    await loadSrc()
    ;({world, restore} = await startWorld(seededRandom(SEED), SEED))
    p = new TempProject('envsync-regression-')
  })
  afterEach(async () => {
    await restore?.()
    p?.cleanup()
  })

  const manifest = (secrets: string, deploy = false) => {
    const {refs} = world
    return `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets:
      railway: {project: ${yq(refs.rwProject)}, services: {api: ${yq(refs.rwService.api)}}, shared: true, deploy: ${deploy}}
      render: {services: {api: ${yq(refs.rdService.api)}}, envGroup: ${yq(refs.rdGroup)}, deploy: ${deploy}}
secrets:
${secrets}`
  }
  const setValues = (values: Record<string, string>) => src.writeValues(src.readValues(p.path('.env.production')), new Map(Object.entries(values)))
  const push = async () => src.applySync(await src.planSync(src.loadManifest(p.manifest), 'production'))
  const statuses = (r: SyncReport) => r.destinations.map((d) => `${d.label}: ${d.status}`)

  it('keys written before a failed redeploy are envsync\'s: dropped from the manifest, they are removed', async () => {
    p.write('envsync.yaml', manifest('  KEEP: {services: [api], shared: true}\n  GONE: {services: [api], shared: true}\n  SVC: {services: [api]}\n  SVC_GONE: {services: [api]}\n', true))
    setValues({KEEP: 'k', GONE: 'g', SVC: 's', SVC_GONE: 'sg'})
    // A deploy trigger is not retried after it may have reached the server: one 502 fails it.
    world.railway.faults.once(serverError(502), {match: {operationName: 'EnvsyncRedeploy'}})
    world.render.faults.once(serverError(502), {match: {operationId: 'create-deploy'}})
    const first = await push()
    expect(first.failed, statuses(first).join('; ')).to.equal(4)
    for (const d of first.destinations) expect(d.error?.message).to.match(/values written, but the redeploy failed/)
    expect(liveOf(world, 'render group')).to.deep.equal({KEEP: 'k', GONE: 'g'})

    p.write('envsync.yaml', manifest('  KEEP: {services: [api], shared: true}\n  SVC: {services: [api]}\n', true))
    const second = await push()
    expect(second.failed, statuses(second).join('; ')).to.equal(0)
    expect(liveOf(world, 'render group')).to.deep.equal({KEEP: 'k'})
    expect(liveOf(world, 'railway shared')).to.deep.equal({KEEP: 'k'})
    expect(liveOf(world, 'render api')).to.deep.equal({SVC: 's'})
    expect(liveOf(world, 'railway api')).to.deep.equal({SVC: 's'})
  })

  it('a write whose answer was lost is envsync\'s, and an in-sync read records it: removed when dropped, a sealed value rewritten when it changes', async () => {
    p.write('envsync.yaml', manifest('  SEALED: {services: [api]}\n  GONE: {services: [api]}\n  A_LANDED: {services: [api], shared: true}\n  B_LATER: {services: [api], shared: true}\n'))
    setValues({SEALED: 'v1', GONE: 'g', A_LANDED: 'a', B_LATER: 'b'})
    // Every attempt is applied and its answer lost: the retries run out, the writes landed.
    world.railway.faults.always(applyThenDrop(), {match: {operationName: 'EnvsyncUpsert'}})
    world.render.faults.always(applyThenDrop(), {match: {operationId: ['update-env-vars-for-service', 'update-env-group-env-var']}})
    const first = await push()
    expect(first.failed, statuses(first).join('; ')).to.equal(4)
    expect(liveOf(world, 'railway api')).to.deep.equal({SEALED: 'v1', GONE: 'g'})
    expect(liveOf(world, 'railway shared')).to.deep.equal({A_LANDED: 'a', B_LATER: 'b'})
    // Env group writes are one PUT per key: the first one failed for good, the second never went.
    expect(liveOf(world, 'render group')).to.deep.equal({A_LANDED: 'a'})
    world.railway.faults.clear()
    world.render.faults.clear()
    // The rerun finds what landed in sync and writes only what did not.
    const rerun = await push()
    expect(rerun.failed).to.equal(0)
    expect(rerun.destinations.filter((d) => d.status === 'applied').map((d) => [d.label, d.added])).to.deep.equal([[`render env group ${world.refs.rdGroup}`, ['B_LATER']]])

    world.railway.seal(railwayScope(world, 'railway api'), 'SEALED')
    p.write('envsync.yaml', manifest('  SEALED: {services: [api]}\n  B_LATER: {services: [api], shared: true}\n'))
    setValues({SEALED: 'v2'})
    const third = await push()
    expect(third.failed, statuses(third).join('; ')).to.equal(0)
    expect(liveOf(world, 'railway api'), 'the sealed value is rotated, the dropped key removed').to.deep.equal({SEALED: 'v2'})
    expect(liveOf(world, 'render api')).to.deep.equal({SEALED: 'v2'})
    expect(liveOf(world, 'railway shared')).to.deep.equal({B_LATER: 'b'})
    expect(liveOf(world, 'render group')).to.deep.equal({B_LATER: 'b'})
    const again = await src.planSync(src.loadManifest(p.manifest), 'production')
    expect(again.plans.flatMap((x) => x.keys.filter((k) => k.action !== 'unchanged').map((k) => `${x.destination.label}: ${k.action} ${k.key}`))).to.deep.equal([])
  })
})
