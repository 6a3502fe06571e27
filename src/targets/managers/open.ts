import type {CreateBackend, ManagerKind, ManagerOptions, SecretManagerBackend} from './backend.js'

/** Each platform's module, and with it its client library, is loaded only when a command needs it. */
const MODULES: Record<ManagerKind, () => Promise<{createBackend: CreateBackend}>> = {
  aws: () => import('./aws.js'),
  vault: () => import('./vault.js'),
  gcp: () => import('./gcp.js'),
  azure: () => import('./azure.js'),
}

export async function openBackend(kind: ManagerKind, options: ManagerOptions, env: NodeJS.ProcessEnv = process.env): Promise<SecretManagerBackend> {
  const {createBackend} = await MODULES[kind]()
  return createBackend(options, env)
}
