import path from 'node:path'

import {now} from '../clock.js'
import type {Manifest} from '../manifest/manifest.js'
import {composeFile, dockerDelivery, dockerDir, dockerServices} from '../manifest/resolve.js'
import {userComposeServices} from '../manifest/user-compose.js'
import {graceStates, previousKeysInGrace} from '../sync/rotation.js'
import {SyncState} from '../sync/state.js'
import {composeSecretName} from '../targets/docker.js'
import {table} from '../ui/style.js'

/**
 * What each service gets from the Docker target, for `check`: the secret files it mounts (with
 * the variable naming each) and the keys it gets as plain environment; services left out of the
 * project's compose file are named. Keys and paths only, never values. No docker target: nothing.
 * A previous key is named only while its grace runs (push delivers it only then).
 */
export function dockerDeliveryNotes(manifest: Manifest, env: string, at: Date = now()): string[] {
  const target = manifest.environment(env).targets?.docker
  if (!target) return []
  const services = dockerServices(manifest, env)
  const user = target.services ? undefined : userComposeServices(manifest.dir, composeFile(manifest, env))
  const shown = (file: string) => path.relative(manifest.dir, file) || '.'
  const inGrace = previousKeysInGrace(graceStates(manifest, env, new SyncState(manifest.dir).history(), at))
  const keys = manifest.secretsFor(env).filter((s) => !s.previousOf || inGrace.has(s.key))
  const rows: string[][] = []
  for (const service of services) {
    const mine = keys.filter((s) => s.services.includes(service))
    const files = mine.flatMap((s) => {
      const how = dockerDelivery(manifest, env, s)
      return how.how === 'files' ? [`${how.variable}=/run/secrets/${composeSecretName(s.key)}`] : []
    })
    const plain = mine.filter((s) => dockerDelivery(manifest, env, s).how === 'env').map((s) => s.key)
    if (files.length === 0 && plain.length === 0) continue
    if (files.length > 0) rows.push([service, 'files', files.join(', ')])
    if (plain.length > 0) rows.push([files.length > 0 ? '' : service, 'env', `${plain.join(', ')} (from ${shown(path.join(dockerDir(manifest, env), `${service}.env`))})`])
  }
  const from = target.services ? 'services named by the target' : user ? `services of ${shown(user.file)}` : 'every service'
  const out = [`Docker delivers (${from}, override ${shown(composeFile(manifest, env))}):`]
  out.push(...(rows.length > 0 ? table(rows).map((l) => `  ${l}`) : ['  nothing: no key goes to these services']))
  const left = manifest.serviceNames.filter((s) => !services.includes(s) && keys.some((k) => k.services.includes(s)))
  if (user && left.length > 0) out.push(`  not in ${shown(user.file)}, so not delivered by Docker: ${left.join(', ')}`)
  return out
}
