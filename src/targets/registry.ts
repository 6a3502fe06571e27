import {DockerTarget} from './docker.js'
import type {KubernetesOptions} from './kubernetes.js'
import type {Target, TargetKind} from './target.js'

/** One adapter per kind per run, created on first use (Kubernetes loads its client lazily). */
export class Targets {
  private readonly made = new Map<TargetKind, Promise<Target>>()

  constructor(private readonly kubernetes: KubernetesOptions = {}) {}

  get(kind: TargetKind): Promise<Target> {
    let t = this.made.get(kind)
    if (!t) {
      t = this.create(kind)
      this.made.set(kind, t)
    }
    return t
  }

  /** Requests made by every adapter so far. */
  async requests(): Promise<number> {
    let n = 0
    for (const t of this.made.values()) n += (await t).requests ?? 0
    return n
  }

  private async create(kind: TargetKind): Promise<Target> {
    switch (kind) {
      case 'docker':
        return new DockerTarget() as Target
      case 'kubernetes': {
        const {KubernetesTarget} = await import('./kubernetes.js')
        return new KubernetesTarget(this.kubernetes) as Target
      }
      default:
        throw new Error(`no adapter for ${kind} yet`)
    }
  }
}
