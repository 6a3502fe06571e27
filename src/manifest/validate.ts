import type {Problem} from '../errors.js'
import {formatMatches, formatOutcomes} from '../check/format.js'
import {BACKTRACK_HINT, compileRegex, REGEX_TIME_LIMIT_MS, type RegexOutcome} from '../check/regex.js'
import {recipeFor, recipeLength} from '../values/recipes.js'
import {composeSecretName} from '../targets/docker.js'
import {secretFileName, type Manifest, type SecretDef} from './manifest.js'
import {dockerDelivery} from './resolve.js'
import {didYouMean} from './suggest.js'

type Path = (string | number)[]

/** What YAML makes of an unquoted NULL, TRUE or FALSE (or ~): never a key name someone meant. */
const YAML_WORDS = ['null', 'true', 'false']

/**
 * What the schema cannot say: names that must refer to something, and settings that contradict
 * each other (a rule that can never hold, a default on a secret, a recipe shorter than minLength).
 */
export function validateReferences(m: Manifest): Problem[] {
  const problems: Problem[] = []
  const problem = (path: Path, message: string, suggestion?: string, key = false) =>
    problems.push({path, message, suggestion, location: m.locate(path, {key})})

  const services = m.serviceNames
  const envs = m.environmentNames
  const refer = (path: Path, name: string, known: string[], what: string) => {
    if (!known.includes(name)) {
      problem(path, `unknown ${what} "${name}"`, didYouMean(name, known) ?? `known ${what}s: ${known.join(', ')}`)
    }
  }

  // A previous key is a second name for the same secret during a grace period: it must be free and come with a grace.
  const previousProblems = (s: SecretDef, at: (...rest: Path) => Path) => {
    if (s.previousOf !== undefined) return
    if (s.previous === undefined) return problem(at('grace'), `${s.key}: grace needs previous, the key that holds the old value meanwhile`, `add \`previous: ${s.key}_PREVIOUS\` beside it (read by apps that accept both values), or remove grace`)
    if (s.grace === undefined) return problem(at('previous'), `${s.key}: previous needs grace, how long the old value stays after a rotation`, 'add e.g. `grace: 1h`: at least the lifetime of the tokens or sessions the old value signed')
    if (s.previous === s.key) return problem(at('previous'), `${s.key}: previous must name another key`, `e.g. \`previous: ${s.key}_PREVIOUS\``)
    // The names refused for a declared key (protoKeyProblems, the YAML check below) are refused here too: rotate would write them to the store.
    if (s.previous === '__proto__') return problem(at('previous'), PROTO_MESSAGE, `rename it (e.g. ${s.key}_PREVIOUS)`)
    if (YAML_WORDS.includes(s.previous)) return problem(at('previous'), `previous key "${s.previous}" is what YAML makes of an unquoted NULL, TRUE or FALSE (or ~)`, `name another key, e.g. ${s.key}_PREVIOUS`)
    if (Object.hasOwn(m.data.secrets, s.previous)) return problem(at('previous'), `${s.key}: previous key ${s.previous} is also declared under secrets:`, `the previous key is envsync's own (delivered where ${s.key} goes): remove ${s.previous} from secrets:, or name another key`)
    const other = m.secrets.find((o) => o.key !== s.key && o.previousOf === undefined && o.previous === s.previous)
    if (other) problem(at('previous'), `${s.key} and ${other.key} both keep their previous value in ${s.previous}`, 'give each its own previous key')
    const clash = dockerClash(s)
    if (clash) problem(at('previous'), `${s.key}: previous key ${s.previous} and ${clash} would be the same Docker secret "${composeSecretName(s.previous)}"`, 'name another previous key: Docker secret names are lowercase and the files would collide on case-insensitive disks')
    if (s.sensitive === false) problem(at('previous'), `${s.key} is plain config (sensitive: false): only secrets rotate with a grace period`, 'remove previous and grace')
  }

  // The key whose Docker secret file a previous key would share (resolve refuses that at push time, in the middle of a rotation).
  const dockerClash = (s: SecretDef): string | undefined => {
    const def = m.previousOf(s.key)
    if (!def) return undefined
    for (const env of envs) {
      if (!m.data.environments[env].targets?.docker || !m.appliesTo(def, env) || dockerDelivery(m, env, def).how !== 'files') continue
      const other = m.secrets.find((o) => o !== def && composeSecretName(o.key) === composeSecretName(def.key) && m.appliesTo(o, env) && dockerDelivery(m, env, o).how === 'files')
      if (other) return other.key
    }
    return undefined
  }

  // A value that cannot be in its key's format; a regex that ran too long on it is named too.
  const unfit = (path: Path, key: string, fits: RegexOutcome | undefined, message: string) => {
    if (fits === false) problem(path, message)
    if (fits === 'timeout') problem(['secrets', key, 'format', 'regex'], `the format regex of ${key} ran over ${REGEX_TIME_LIMIT_MS} ms and was stopped`, BACKTRACK_HINT)
  }
  // Every default checked against its format in one bounded run.
  const withDefault = m.secrets.filter((s) => s.default !== undefined && s.format)
  const defaultFits = new Map(formatOutcomes(withDefault.map((s) => ({format: s.format!, value: s.default!}))).map((fits, i) => [withDefault[i].key, fits]))

  for (const s of m.secrets) {
    const at = (...rest: Path): Path => ['secrets', s.key, ...rest]
    // YAML reads an unquoted NULL/TRUE/FALSE key as null/true/false: the key silently changes.
    // (A previous key's name is judged by previousProblems, at its `previous:`.)
    if (YAML_WORDS.includes(s.key) && s.previousOf === undefined) {
      problem(at(), `secret key "${s.key}" is what YAML makes of an unquoted NULL, TRUE or FALSE (or ~)`, `quote the key, e.g. "NULL":`, true)
    }
    s.services.forEach((svc, i) => refer(at('services', i), svc, services, 'service'))
    s.environments?.forEach((env, i) => refer(at('environments', i), env, envs, 'environment'))
    const dup = s.services.find((svc, i) => s.services.indexOf(svc) !== i)
    if (dup) problem(at('services'), `service "${dup}" is listed twice`)

    if (s.default !== undefined && s.sensitive) {
      const recipe = recipeFor({...s, default: undefined})
      problem(at('default'), `${s.key} is sensitive, so it cannot have a default in the manifest`, `set \`sensitive: false\` if it is plain config; if it is a secret, remove the default${recipe && !s.generate ? ` and add \`generate: ${recipe}\`` : ''} and keep its value in the values files`, true)
    }
    if (s.default !== undefined && s.generate) {
      problem(at('generate'), `${s.key} has both a default and a generate recipe; choose one`, 'remove `default:` (a generated value) or `generate:` (plain config with a default)', true)
    }
    if (s.format && typeof s.format === 'object' && 'regex' in s.format) {
      const err = compileRegex(s.format.regex).error
      if (err) problem(at('format', 'regex'), `invalid regular expression: ${err}`)
    }
    unfit(at('default'), s.key, defaultFits.get(s.key), `the default of ${s.key} does not match its format`)
    if (s.generate && s.minLength !== undefined && recipeLength(s.generate) < s.minLength) {
      problem(at('minLength'), `${s.key}: recipe ${s.generate} makes ${recipeLength(s.generate)} characters, fewer than minLength ${s.minLength}`, 'raise the recipe size or lower minLength')
    }
    if (s.previous !== undefined || s.grace !== undefined) previousProblems(s, at)
    if (s.generate && s.format && !(typeof s.format === 'object' && 'regex' in s.format)) {
      // Random bytes never form a url, port or enum value: a recipe there is a mistake.
      problem(at('generate'), `${s.key}: values from recipe ${s.generate} never match format ${JSON.stringify(s.format)}`, 'remove `generate:` and set the value by hand in the values files')
    }
  }

  // Two file-shaped secrets landing in the same place under one name would overwrite each other.
  const files = new Map<string, SecretDef[]>()
  for (const s of m.secrets) {
    const name = secretFileName(s)
    if (name === undefined) continue
    const clash = files.get(name)?.find((o) => overlap(o.environments, s.environments) && (overlap(o.services, s.services) || (o.shared && s.shared)))
    if (clash) problem(['secrets', s.key, 'file'], `${s.key} and ${clash.key} would both be the secret file "${name}"`, 'give one of them another file name: `file: other-name`')
    files.set(name, [...(files.get(name) ?? []), s])
  }

  // Targets: service maps must name services; reserved names.
  for (const env of envs) {
    const targets = m.data.environments[env].targets ?? {}
    const at = (...rest: Path): Path => ['environments', env, 'targets', ...rest]
    for (const kind of ['docker', 'kubernetes'] as const) {
      targets[kind]?.services?.forEach((svc, i) => refer(at(kind, 'services', i), svc, services, 'service'))
    }
    for (const kind of ['railway', 'render'] as const) {
      for (const svc of Object.keys(targets[kind]?.services ?? {})) {
        if (!services.includes(svc)) problem(at(kind, 'services', svc), `unknown service "${svc}"`, didYouMean(svc, services), true)
      }
    }
    if (targets.docker) dockerProblems(m, env, problem)
    if (targets.railway) {
      for (const s of m.secrets.filter((x) => m.appliesTo(x, env) && /^RAILWAY_/.test(x.key))) {
        problem(['secrets', s.key], `${s.key}: names starting with RAILWAY_ are reserved by Railway, which overrides them`, 'rename the key', true)
      }
    }
  }

  m.data.rules.forEach((rule, i) => {
    const at = (...rest: Path): Path => ['rules', i, ...rest]
    rule.environments?.forEach((env, j) => refer(at('environments', j), env, envs, 'environment'))
    const ruleEnvs = rule.environments ?? envs
    const keys = 'oneOf' in rule ? rule.oneOf : rule.requires.map((c) => (typeof c === 'string' ? c : c.key))
    const field = 'oneOf' in rule ? 'oneOf' : 'requires'
    keys.forEach((key, j) => {
      const secret = m.secret(key)
      if (!secret) {
        problem(at(field, j), `rule refers to unknown key "${key}"`, didYouMean(key, m.secrets.map((s) => s.key)) ?? 'add it under secrets:')
      } else if (!ruleEnvs.some((env) => m.appliesTo(secret, env))) {
        problem(at(field, j), `rule refers to ${key}, which applies to none of the rule's environments`)
      }
    })
    if ('oneOf' in rule) {
      const dup = keys.find((k, j) => keys.indexOf(k) !== j)
      if (dup) problem(at('oneOf'), `${dup} is listed twice in the group`)
      for (const [j, key] of keys.entries()) {
        const secret = m.secret(key)
        if (secret?.required) {
          problem(at('oneOf', j), `${key} is required, which makes the one-of group meaningless${rule.exclusive ? ' (and the other keys forbidden)' : ''}`, `set \`required: false\` on ${key}`)
        }
      }
    } else {
      rule.requires.forEach((c, j) => {
        if (typeof c === 'string') return
        const secret = m.secret(c.key)
        if (secret?.format) unfit(at('requires', j, 'equals'), c.key, formatMatches(secret.format, c.equals), `${c.key} can never equal "${c.equals}": it does not match the key's format`)
      })
    }
  })
  return problems
}

/**
 * Docker delivery settings that cannot take effect: a file variable on a key delivered as plain
 * environment, a fileSuffix beside `delivery: env` that no key uses, and two keys naming their files with one variable in a
 * service (Compose would keep one).
 */
function dockerProblems(m: Manifest, env: string, problem: (path: Path, message: string, suggestion?: string, key?: boolean) => void): void {
  const target = m.data.environments[env].targets!.docker!
  const keys = m.secrets.filter((s) => m.appliesTo(s, env))
  const variables = new Map<string, string>()
  // By name, once: a find per key made loading a 20,000-secret manifest quadratic (bench/scaling.js).
  const byKey = new Map(keys.map((k) => [k.key, k]))
  for (const s of keys) {
    const how = dockerDelivery(m, env, s)
    if (how.how === 'env') {
      if (s.docker?.fileVariable) problem(['secrets', s.key, 'docker', 'fileVariable'], `${s.key} is delivered to Docker as plain environment${s.docker.delivery ? '' : s.sensitive ? ` (the ${env} docker target's delivery is env)` : ' (plain config)'}, so fileVariable never applies`, 'remove fileVariable, or set `delivery: files` beside it', true)
      continue
    }
    for (const service of s.services) {
      const other = variables.get(`${service}/${how.variable}`)
      if (other) problem(['secrets', s.key, 'docker'], `${other} and ${s.key} both name their file with ${how.variable} in service ${service}`, 'give one of them its own `fileVariable`', true)
      variables.set(`${service}/${how.variable}`, s.key)
    }
    // The override's `environment:` beats env_file and any other value: the key of that name would get a path.
    const service = byKey.get(how.variable)?.services.find((sv) => s.services.includes(sv))
    if (service) {
      problem(
        s.docker?.fileVariable ? ['secrets', s.key, 'docker', 'fileVariable'] : ['secrets', s.key],
        `${s.key}'s file variable ${how.variable} is also a key delivered to service ${service}: it would get the path /run/secrets/${composeSecretName(s.key)} instead of its value`,
        s.docker?.fileVariable ? 'give fileVariable a name no key has' : 'set `docker: {fileVariable: …}` on the key to a name no key has, or rename the other key',
        true,
      )
    }
  }
  if (target.delivery === 'env' && target.fileSuffix !== undefined && !keys.some((s) => dockerDelivery(m, env, s).how === 'files' && !s.docker?.fileVariable)) {
    problem(['environments', env, 'targets', 'docker', 'fileSuffix'], `fileSuffix "${target.fileSuffix}" names no file: the ${env} docker target delivers as plain environment (delivery: env)`, 'remove fileSuffix, or set `delivery: files`', true)
  }
}

const PROTO_MESSAGE = '"__proto__" cannot be a name: dotenv and JavaScript objects drop a key called so, so it would silently vanish'

/**
 * `__proto__` keys anywhere in the parsed YAML. A JavaScript object cannot hold a key of that
 * name (zod and dotenv drop it, an assignment replaces the object's prototype), so a secret,
 * service or environment named so is refused here instead of vanishing later.
 */
export function protoKeyProblems(data: unknown, locate: (path: Path) => Problem['location']): Problem[] {
  const problems: Problem[] = []
  const visit = (v: unknown, at: Path) => {
    if (typeof v !== 'object' || v === null) return
    if (Object.hasOwn(v, '__proto__')) {
      const path = [...at, '__proto__']
      problems.push({
        path,
        location: locate(path),
        message: PROTO_MESSAGE,
        suggestion: 'rename it (e.g. PROTO)',
      })
    }
    for (const [k, child] of Object.entries(v)) visit(child, [...at, Array.isArray(v) ? Number(k) : k])
  }
  visit(data, [])
  return problems
}

/** Two lists share a member; undefined means every one (a key without `environments`). */
function overlap(a: string[] | undefined, b: string[] | undefined): boolean {
  return !a || !b || a.some((x) => b.includes(x))
}
