import type {CreateBackend, ManagerKind, ManagerOptions, SecretManagerBackend} from './backend.js'

/** Each platform's module, and with it its client library, is loaded only when a command needs it. */
export async function openBackend(kind: ManagerKind, options: ManagerOptions, env: NodeJS.ProcessEnv = process.env): Promise<SecretManagerBackend> {
  const {createBackend} = (await import(`./${kind}.js`)) as {createBackend: CreateBackend}
  return createBackend(options, env)
}
