import {expect} from 'chai'

import {Secret} from '../../src/secret.js'
import {countActions, planDestination, type PlanInput} from '../../src/sync/plan.js'
import {WRITE_ONLY, type LiveValue} from '../../src/targets/target.js'

const dest = {id: 'docker:/x', kind: 'docker' as const, label: 'docker x', environment: 'production', services: ['backend'], config: {}}
const s = (v: string) => new Secret(v)

function plan(opts: {desired?: Record<string, string>; manifest?: string[]; live?: Record<string, string | typeof WRITE_ONLY>; owned?: string[]; prune?: boolean; only?: string[]; conflicts?: Record<string, string[]>; plain?: string[]}) {
  const desired = new Map(Object.entries(opts.desired ?? {}).map(([k, v]) => [k, s(v)]))
  const input: PlanInput = {
    destination: dest,
    desired,
    manifestKeys: new Set(opts.manifest ?? desired.keys()),
    live: {exists: true, values: new Map(Object.entries(opts.live ?? {}).map(([k, v]): [string, LiveValue] => [k, v === WRITE_ONLY ? WRITE_ONLY : s(v)])), conflicts: opts.conflicts && new Map(Object.entries(opts.conflicts))},
    owned: new Set(opts.owned ?? []),
    prune: opts.prune ?? false,
    only: opts.only ? new Set(opts.only) : undefined,
    fingerprint: (x) => x.fingerprint('k'),
    shown: (key, value) => (opts.plain?.includes(key) ? value.reveal() : undefined),
  }
  return planDestination(input)
}
const actions = (p: ReturnType<typeof plan>) => Object.fromEntries(p.keys.map((k) => [k.key, k.action]))

describe('sync/plan', () => {
  it('adds, updates and keeps, with fingerprints but never values', () => {
    const p = plan({desired: {A: 'VAL_NEW', B: 'VAL_SAME', C: 'VAL_CHANGED'}, live: {B: 'VAL_SAME', C: 'VAL_OLD'}, owned: ['B', 'C']})
    expect(actions(p)).to.deep.equal({A: 'add', B: 'unchanged', C: 'update'})
    expect(p.changes.map((c) => [c.key, c.action])).to.deep.equal([['A', 'add'], ['C', 'update']])
    const c = p.keys.find((k) => k.key === 'C')!
    expect(c.local).to.equal(s('VAL_CHANGED').fingerprint('k'))
    expect(c.live).to.equal(s('VAL_OLD').fingerprint('k'))
    expect(JSON.stringify(p)).to.not.include('VAL_')
  })

  it('removes only keys envsync owns; others are unmanaged unless --prune', () => {
    const p = plan({desired: {A: '1'}, live: {A: '1', OURS: 'x', THEIRS: 'y'}, owned: ['A', 'OURS']})
    expect(actions(p)).to.deep.equal({A: 'unchanged', OURS: 'remove', THEIRS: 'unmanaged'})
    expect(p.changes).to.deep.equal([{key: 'OURS', action: 'remove'}])
    expect([...p.owned]).to.deep.equal(['A'])
    const pruned = plan({desired: {A: '1'}, live: {A: '1', THEIRS: 'y'}, owned: ['A'], prune: true})
    expect(actions(pruned)).to.deep.equal({A: 'unchanged', THEIRS: 'remove'})
    expect(pruned.keys.find((k) => k.key === 'THEIRS')!.pruned).to.equal(true)
  })

  it('a write-only live value is unknown and not rewritten; a manifest key without value is missing, never removed', () => {
    const p = plan({desired: {SEALED: 'v'}, manifest: ['SEALED', 'NOVALUE'], live: {SEALED: WRITE_ONLY, NOVALUE: 'live'}, owned: ['NOVALUE']})
    expect(actions(p)).to.deep.equal({NOVALUE: 'missing', SEALED: 'unknown'})
    expect(p.changes).to.deep.equal([])
    expect(p.owned.has('NOVALUE')).to.equal(true)
  })

  it('--only limits changes and keeps ownership of other keys', () => {
    const p = plan({desired: {A: 'a2', B: 'b2'}, live: {A: 'a1', B: 'b1', OLD: 'o'}, owned: ['A', 'B', 'OLD'], only: ['A']})
    expect(actions(p)).to.deep.equal({A: 'update'})
    expect([...p.owned].sort()).to.deep.equal(['A', 'B', 'OLD'])
    expect([...p.desired.keys()].sort()).to.deep.equal(['A', 'B'])
  })

  it('in sync: no changes', () => {
    const p = plan({desired: {A: 'x'}, live: {A: 'x'}, owned: ['A']})
    expect(p.changes).to.deep.equal([])
    expect(countActions(p)).to.include({unchanged: 1, add: 0, update: 0, remove: 0})
  })

  it('a key another field manager holds is a conflict only where push would change it', () => {
    const p = plan({desired: {A: 'new', B: 'same'}, live: {A: 'old', B: 'same', C: 'x'}, owned: ['A'], conflicts: {A: ['kubectl-edit'], B: ['helm'], C: ['helm']}})
    expect(p.keys.map((k) => [k.key, k.action, k.conflict])).to.deep.equal([['A', 'update', ['kubectl-edit']], ['B', 'unchanged', undefined], ['C', 'unmanaged', undefined]])
  })

  it('plain config carries its values, both sides; secrets only fingerprints', () => {
    const p = plan({desired: {LOG_LEVEL: 'debug', TOKEN: 'VAL_T2'}, manifest: ['LOG_LEVEL', 'TOKEN', 'MODE'], live: {LOG_LEVEL: 'info', TOKEN: 'VAL_T1', MODE: 'fast'}, plain: ['LOG_LEVEL', 'MODE']})
    expect(p.keys.map((k) => [k.key, k.action, k.localValue, k.liveValue])).to.deep.equal([
      ['LOG_LEVEL', 'update', 'debug', 'info'],
      ['MODE', 'missing', undefined, 'fast'],
      ['TOKEN', 'update', undefined, undefined],
    ])
    expect(JSON.stringify(p.keys)).to.not.include('VAL_')
  })

  it('treats values byte-exact: a trailing newline or space is a difference', () => {
    expect(actions(plan({desired: {A: 'x'}, live: {A: 'x\n'}}))).to.deep.equal({A: 'update'})
    expect(actions(plan({desired: {A: 'x '}, live: {A: 'x'}}))).to.deep.equal({A: 'update'})
    expect(actions(plan({desired: {A: ''}, live: {}}))).to.deep.equal({A: 'add'})
  })
})
