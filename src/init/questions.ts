/** init's questions in a terminal, and the last step before writing: write, change an answer, or cancel. */
import {EnvsyncError} from '../errors.js'
import {visible} from '../redact.js'
import {aborted, type Prompter} from '../ui/prompt.js'
import {deployKinds, type TargetKind} from '../manifest/schema.js'
import {answersFromFlags, list, oneName, protectedByDefault, PUBLIC_GUESS, validNames, type InitFlags} from './answers.js'
import {catalogue, catalogueEntry} from './catalogue.js'
import {MANIFEST_NAME, summarize, type InitSummary} from './init.js'
import type {InitAnswers} from './scaffold.js'

type Section = 'project' | 'services' | 'environments' | 'secrets' | 'targets' | 'protected'

/** The questions, each starting from the answers so far (flags, a kept manifest, or an earlier pass). */
const questions: Record<Section, (p: Prompter, a: InitAnswers, before: InitAnswers) => Promise<Partial<InitAnswers>>> = {
  async project(p, a) {
    return {project: (await p.input({message: 'Project name', default: a.project, validate: validNames('project', oneName)})).trim()}
  },
  async services(p, a) {
    const names = [...new Set(list(await p.input({message: 'Services (comma-separated)', default: a.services.map((s) => s.name).join(', '), validate: validNames('service')})))]
    const pub = await p.checkbox({
      message: 'Which services are bundled into the browser (public)?',
      choices: names.map((s) => ({name: s, value: s, checked: a.services.find((b) => b.name === s)?.public ?? PUBLIC_GUESS.test(s)})),
    })
    return {services: names.map((name) => ({name, public: pub.includes(name)}))}
  },
  async environments(p, a) {
    return {environments: [...new Set(list(await p.input({message: 'Environments (comma-separated)', default: a.environments.join(', '), validate: validNames('environment')})))]}
  },
  async secrets(p, a) {
    const kept = a.previous?.secrets ?? {}
    // A kept manifest's own keys are offered too (checked), so replacing it loses none by surprise.
    const extra = Object.keys(kept).filter((k) => !catalogueEntry(k))
    const label = (key: string, text: string) => `${key.padEnd(26)} ${text}`
    const secrets = await p.checkbox({
      message: 'Secrets to manage',
      required: true,
      choices: [
        ...catalogue.map((e) => ({
          name: label(e.key, `${e.generate ? `generate ${e.generate}` : 'set by hand'}${e.rotate ? `, rotate ${e.rotate}` : ''}`),
          value: e.key,
          description: e.description,
          checked: a.secrets.includes(e.key),
        })),
        ...extra.map((key) => ({name: label(key, `from ${MANIFEST_NAME}`), value: key, description: typeof kept[key].description === 'string' ? visible(kept[key].description) : undefined, checked: a.secrets.includes(key)})),
      ].map((c) => ({...c, short: c.value})), // the answer echoes key names, not the padded labels
    })
    if (!a.previous) return {secrets}
    // A kept manifest's order stays; keys added now follow in catalogue order.
    return {secrets: [...a.secrets.filter((k) => secrets.includes(k)), ...secrets.filter((k) => !a.secrets.includes(k))]}
  },
  async targets(p, a) {
    const targets: Record<string, TargetKind[]> = {}
    for (const env of a.environments) {
      targets[env] = await p.checkbox({
        message: `Where is ${env} deployed?`,
        choices: deployKinds.map((k) => ({name: k, value: k, checked: (a.targets[env] ?? ['docker']).includes(k)})),
      })
    }
    return {targets}
  },
  async protected(p, a, before) {
    // Pre-checked: what flags or the kept manifest said, or a production-like name; a push there asks for the environment's name.
    return {
      protected: await p.checkbox({
        message: 'Which environments are protected (a push there needs its name typed)?',
        choices: a.environments.map((env) => ({name: env, value: env, checked: protectedByDefault(env, before)})),
      }),
    }
  },
}

/** The last step's ways back, each with the questions it asks again (targets and protection are per environment). */
const CHANGES: [Section, string, Section[]][] = [
  ['project', 'Change the project name', ['project']],
  ['services', 'Change services', ['services']],
  ['environments', 'Change environments', ['environments', 'targets', 'protected']],
  ['secrets', 'Change secrets', ['secrets']],
  ['targets', 'Change where environments deploy', ['targets']],
  ['protected', 'Change protected environments', ['protected']],
]

/**
 * The interactive questions, then a summary of what will be written and a last step: write, go
 * back to one answer, or cancel (nothing written). Flags (or a kept manifest) are the defaults.
 */
export async function askAnswers(p: Prompter, flags: InitFlags, dir: string, options: {previous?: InitAnswers; force?: boolean; show: (summary: InitSummary | EnvsyncError) => void}): Promise<InitAnswers> {
  let a = answersFromFlags(flags, dir, options.previous)
  const ask = async (sections: Section[]) => {
    const before = a
    for (const section of sections) a = {...a, ...(await questions[section](p, a, before))}
  }
  await ask(['project', 'services', 'environments', 'secrets', 'targets', 'protected'])
  for (;;) {
    // Answers that make no manifest (every service public) are shown as the error, and Write is not offered.
    const summary = await tryOrError(() => summarize(dir, a, options.force))
    options.show(summary)
    const writable = !(summary instanceof EnvsyncError)
    const next = await p.select<Section | 'write' | 'cancel'>({
      message: writable ? 'Write these files?' : 'Change an answer?',
      choices: [...(writable ? [{name: 'Write', value: 'write' as const}] : []), ...CHANGES.map(([value, name]) => ({name, value})), {name: 'Cancel (write nothing)', value: 'cancel'}],
    })
    if (next === 'write') return a
    if (next === 'cancel') throw aborted()
    await ask(CHANGES.find(([section]) => section === next)![2])
  }
}

async function tryOrError<T>(f: () => Promise<T>): Promise<T | EnvsyncError> {
  try {
    return await f()
  } catch (error) {
    if (error instanceof EnvsyncError) return error
    throw error
  }
}
