/**
 * What a Tab completes: command names, flag names, and values — environments, services and keys
 * from the manifest, a flag's options, file names. Pure: the command metadata (oclif's manifest)
 * and the manifest's names are passed in, so the completer reads nothing it does not need.
 */

/** The parts of a command's oclif metadata completion uses. */
export interface CommandInfo {
  id: string
  hidden?: boolean
  /** false: more positionals than declared are taken (`status ENV…`). */
  strict?: boolean
  aliases?: string[]
  flags: Record<string, {name: string; char?: string; type: string; options?: readonly string[]; multiple?: boolean; delimiter?: string; hidden?: boolean}>
  args: Record<string, {name: string; options?: readonly string[]; multiple?: boolean}>
}

/** Names read from the manifest (environments, services, keys of one environment or all). */
export interface ManifestNames {
  environments: string[]
  services: string[]
  keys: (env: string | undefined) => string[]
}

/** A completion: the words, or "complete a file name here" (the shell's own file completion). */
export type Completion = {words: string[]} | {files: true}

/** Flags whose values are names from the manifest, or paths. */
const VALUES: Record<string, 'services' | 'keys' | 'files'> = {service: 'services', only: 'keys', key: 'keys', keys: 'keys', manifest: 'files', out: 'files', dir: 'files'}

/** The flag a word names (`--target`, `--target=x`, `-t`), if the command has it. */
function flagOf(cmd: CommandInfo, word: string) {
  if (word.startsWith('--')) return cmd.flags[word.slice(2).split('=')[0]]
  if (/^-[^-]$/.test(word)) return Object.values(cmd.flags).find((f) => f.char === word[1])
  return undefined
}

/**
 * Where `-m`/`--manifest` points among the words typed, if anywhere (the completer then reads
 * that manifest, as the command would).
 */
export function manifestFlag(words: readonly string[]): string | undefined {
  let found: string | undefined
  words.forEach((w, i) => {
    if (w === '-m' || w === '--manifest') found = words[i + 1] || found
    else if (w.startsWith('--manifest=')) found = w.slice('--manifest='.length)
  })
  return found
}

/** What an argument's name says it takes, whatever the command: new commands complete without edits here. */
const ARG_KINDS: Record<string, 'environments' | 'keys' | 'services' | 'files'> = {
  environment: 'environments',
  env: 'environments',
  key: 'keys',
  keys: 'keys',
  service: 'services',
  file: 'files',
  path: 'files',
}

/**
 * The command the words name, with its id split at the topic separator (`keys add` → keys:add):
 * the longest run of leading words that is a command, and how many words it took.
 */
function commandOf(done: readonly string[], commands: readonly CommandInfo[]): {cmd?: CommandInfo; used: number} {
  for (let n = done.length; n > 0; n--) {
    const id = done.slice(0, n).join(':')
    const cmd = commands.find((c) => c.id === id || c.aliases?.includes(id))
    if (cmd) return {cmd, used: n}
  }
  return {used: 0}
}

/** Commands and topics one word below `topic` ('' for the top): `keys` → add, list, remove. */
function subcommands(topic: readonly string[], commands: readonly CommandInfo[]): string[] {
  const prefix = topic.length > 0 ? `${topic.join(':')}:` : ''
  return commands.filter((c) => !c.hidden && c.id.startsWith(prefix)).map((c) => c.id.slice(prefix.length).split(':')[0])
}

/**
 * The completion of the last word of `words` (the one under the cursor; '' after a space).
 * `words` start after the program name: `['push', 'production', '--t']`.
 */
export function complete(words: readonly string[], commands: readonly CommandInfo[], names: () => ManifestNames | undefined): Completion {
  const current = words.at(-1) ?? ''
  const done = words.slice(0, -1)
  const visible = commands.filter((c) => !c.hidden)
  if (done.length === 0) return match(current.startsWith('-') ? ['--help', '--version'] : subcommands([], commands), current)
  const {cmd, used: idWords} = commandOf(done, commands)
  // A topic typed (`keys `): its commands, unless the topic is a command of its own with arguments.
  const below = current.startsWith('-') ? [] : subcommands(done, commands)
  if (below.length > 0 && (!cmd || idWords < done.length || Object.keys(cmd.args).length === 0)) return match(below, current)
  if (!cmd) return {words: []}

  // Walk the words typed so far: which flags are set, which positionals given, what waits for a value.
  const used = new Set<string>()
  const positionals: string[] = []
  let awaiting: CommandInfo['flags'][string] | undefined
  let rest = false
  for (const w of done.slice(idWords)) {
    if (awaiting) {
      awaiting = undefined
      continue
    }
    const flag = rest ? undefined : flagOf(cmd, w)
    if (w === '--' && !rest) rest = true
    else if (flag) {
      used.add(flag.name)
      if (flag.type === 'option' && !w.includes('=')) awaiting = flag
    } else if (!w.startsWith('-') || rest) positionals.push(w)
  }
  const args = Object.values(cmd.args)
  const envAt = args.findIndex((a) => ARG_KINDS[a.name] === 'environments')
  const env = envAt === -1 ? undefined : positionals[envAt]

  if (awaiting) return values(awaiting, current, '', names, env)
  if (!rest && current.startsWith('--') && current.includes('=')) {
    const flag = flagOf(cmd, current)
    const prefix = current.slice(0, current.indexOf('=') + 1)
    return flag ? values(flag, current.slice(prefix.length), prefix, names, env) : {words: []}
  }
  const flagNames = () => {
    const flags = Object.values(cmd.flags).filter((f) => !f.hidden && (f.multiple || !used.has(f.name)))
    return match([...flags.map((f) => `--${f.name}`), '--help'], current)
  }
  if (!rest && current.startsWith('-')) return flagNames()

  // A positional: the argument at that place, or the last one when it takes several (or the
  // command takes more than it declares: `status development production`).
  const arg = args[positionals.length] ?? (args.at(-1)?.multiple || (cmd.strict === false && !rest) ? args.at(-1) : undefined)
  if (cmd.id === 'help') return match(visible.map((c) => c.id), current)
  // Every argument given: what is left to type is flags.
  if (!arg) return rest ? {words: []} : flagNames()
  if (arg.options) return match(arg.options, current)
  const kind = ARG_KINDS[arg.name]
  if (kind === 'files') return {files: true}
  const n = kind ? names() : undefined
  if (!n) return {words: []}
  if (kind === 'environments') return match(n.environments.filter((e) => !positionals.includes(e)), current)
  if (kind === 'services') return match(n.services.filter((k) => !positionals.includes(k)), current)
  return match(n.keys(env).filter((k) => !positionals.includes(k)), current)
}

/** A flag's value: its options, or names from the manifest; a list flag completes its last item. */
function values(flag: CommandInfo['flags'][string], typed: string, prefix: string, names: () => ManifestNames | undefined, env: string | undefined): Completion {
  const kind = VALUES[flag.name]
  if (kind === 'files') return {files: true}
  let candidates: readonly string[] | undefined = flag.options
  if (!candidates && kind) {
    const n = names()
    candidates = n === undefined ? [] : kind === 'services' ? n.services : n.keys(env)
  }
  if (!candidates) return {words: []}
  // `--service backend,fr` completes `fr`, keeps `backend,` and leaves out what is already listed.
  const cut = flag.delimiter ? typed.lastIndexOf(flag.delimiter) + 1 : 0
  const before = typed.slice(0, cut)
  const listed = new Set(before.split(flag.delimiter ?? ',').filter(Boolean))
  const {words} = match(candidates.filter((c) => !listed.has(c)), typed.slice(cut)) as {words: string[]}
  return {words: words.map((w) => `${prefix}${before}${w}`)}
}

/** At most this many candidates: more helps no one at a prompt, and a shell slows down listing them. */
export const MAX_CANDIDATES = 2000

function match(candidates: readonly string[], typed: string): Completion {
  return {words: [...new Set(candidates.filter((c) => c.startsWith(typed)))].slice(0, MAX_CANDIDATES)}
}
