import {DockerTarget} from './docker.js'
import type {KubernetesOptions} from './kubernetes.js'
import type {Target, TargetKind} from './target.js'

/** One adapter per kind per run, created on first use (Kubernetes loads its client lazily). */
export class Targets {
  private readonly made = new Map<TargetKind, Promise<Target>>()
  private readonly instances: Target[] = []

  constructor(private readonly kubernetes: KubernetesOptions = {}) {}

  get(kind: TargetKind): Promise<Target> {
    let t = this.made.get(kind)
    if (!t) {
      t = this.create(kind).then((target) => {
        this.instances.push(target)
        return target
      })
      this.made.set(kind, t)
    }
    return t
  }

  /** Requests made by every adapter so far (for reports and benchmarks). */
  get requests(): number {
    return this.instances.reduce((n, t) => n + (t.requests ?? 0), 0)
  }

  private async create(kind: TargetKind): Promise<Target> {
    switch (kind) {
      case 'docker':
        return new DockerTarget() as Target
      case 'kubernetes': {
        const {KubernetesTarget} = await import('./kubernetes.js')
        return new KubernetesTarget(this.kubernetes) as Target
      }
      case 'railway': {
        const {RailwayTarget} = await import('./railway.js')
        return new RailwayTarget() as Target
      }
      case 'render': {
        const {RenderTarget} = await import('./render.js')
        return new RenderTarget() as Target
      }
      case 'aws':
      case 'vault':
      case 'gcp':
      case 'azure': {
        const {ManagerTarget} = await import('./managers/target.js')
        return new ManagerTarget(kind) as Target
      }
    }
  }
}
