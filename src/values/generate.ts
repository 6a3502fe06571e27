import {EnvsyncError} from '../errors.js'
import type {Manifest, SecretDef} from '../manifest/manifest.js'
import {displayPath} from '../paths.js'
import type {Secret} from '../secret.js'
import {applicableKey} from './key.js'
import {generate, recipeFor, recipeLength} from './recipes.js'
import {inSecretManager, readStore, writeStore, type ValuesFile} from './store.js'

export interface GeneratedKey {
  key: string
  recipe: string
  length: number
  /** true when an existing value was replaced (--force). */
  replaced: boolean
}

export interface GeneratePlan {
  environment: string
  store: ValuesFile
  generate: GeneratedKey[]
  /** Keys with a value already, left alone without --force. */
  kept: string[]
}

export interface GenerateResult {
  environment: string
  file: string
  generated: GeneratedKey[]
  kept: string[]
}

/** Which keys get a new value: missing ones, or (force) every selected one with a recipe. */
export async function planGenerate(manifest: Manifest, env: string, keys: string[], force: boolean): Promise<GeneratePlan> {
  const applicable = manifest.secretsFor(env)
  const withRecipe = applicable.filter((s) => s.generate)
  let selected: SecretDef[] = withRecipe
  if (keys.length > 0) {
    selected = keys.map((key) => {
      const spec = applicableKey(manifest, env, key)
      if (!spec.generate) {
        const recipe = recipeFor(spec)
        const byHand = `set its value by hand: ${key}=… in ${displayPath(manifest.valuesFile(env))}`
        throw new EnvsyncError(`${key} has no generate recipe`, {
          code: 'NO_RECIPE',
          suggestion: recipe
            ? `add \`generate: ${recipe}\` (or another recipe) to ${key} in the manifest, or ${byHand}`
            : `${spec.default !== undefined ? 'it has a default' : 'random values never match its format'}, so it cannot have one: ${byHand}`,
        })
      }
      return spec
    })
  }
  const store = await readStore(manifest, env)
  const plan: GeneratePlan = {environment: env, store, generate: [], kept: []}
  for (const spec of selected) {
    const current = store.values.get(spec.key)
    const has = current !== undefined && !current.isEmpty
    if (has && !force) plan.kept.push(spec.key)
    else plan.generate.push({key: spec.key, recipe: spec.generate!, length: recipeLength(spec.generate!), replaced: has})
  }
  return plan
}

/** How to give keys a value: `generate` for those with a recipe, the values file for the rest. */
export function fillHint(manifest: Manifest, env: string, keys: string[], file: string): string {
  const generated = keys.filter((k) => manifest.secret(k)?.generate)
  const byHand = keys.filter((k) => !generated.includes(k))
  const them = (list: string[]) => (list.length === keys.length ? (keys.length === 1 ? 'it' : 'them') : list.join(', '))
  return [
    generated.length > 0 ? `run \`envsync generate ${env}\`${byHand.length > 0 ? ` for ${generated.join(', ')}` : ''}` : undefined,
    byHand.length > 0 ? (inSecretManager(manifest, env) ? `set ${them(byHand)} with \`envsync set ${env} ${byHand[0]}\` (values go to ${file})` : `set ${them(byHand)} in ${file}`) : undefined,
  ]
    .filter(Boolean)
    .join('; ')
}

/** Draws the values and writes them in one atomic write. Each environment gets its own values. */
export async function applyGenerate(manifest: Manifest, plan: GeneratePlan): Promise<GenerateResult> {
  const others: Secret[][] = []
  for (const other of manifest.environmentNames) {
    // Another environment's secret manager is not asked (its credentials, its latency): random values of a recipe's size do not collide.
    if (other === plan.environment || manifest.valuesFile(other) === plan.store.file || inSecretManager(manifest, other)) continue
    const file = await readStore(manifest, other)
    others.push(plan.generate.map((g) => file.values.get(g.key)).filter((v): v is Secret => v !== undefined))
  }
  const taken = others.flat()
  const changes = new Map<string, string>()
  for (const g of plan.generate) {
    let value = generate(g.recipe)
    // Short recipes can collide; a value shared with another environment is never handed out.
    for (let i = 0; i < 100 && taken.some((t) => t.equals(value)); i++) value = generate(g.recipe)
    changes.set(g.key, value.reveal())
  }
  if (changes.size > 0) await writeStore(plan.store, changes, {action: 'generate'})
  return {environment: plan.environment, file: plan.store.display, generated: plan.generate, kept: plan.kept}
}
