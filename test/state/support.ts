import {start as startRailway, type RailwayFake, type Scope, type SeededProject} from '../fakes/railway.js'
import {type CliResult, runBin} from '../helpers/cli.js'
import {ownershipRecords, TempProject} from '../helpers/project.js'

/** The destination the manifest below pushes to, as the ownership record names it. */
export const DESTINATION = 'railway:shop/production/api'

/** A one-service manifest (shop, service api) whose production pushes these keys to Railway. */
export const manifest = (keys: string[], options: {deploy?: boolean} = {}) => `version: 1
project: shop
services: {api: {}}
environments:
  production:
    targets:
      railway: {project: shop, services: {api: api}${options.deploy ? ', deploy: true' : ''}}
secrets:
${keys.map((k) => `  ${k}: {services: [api]}`).join('\n')}
`

/** What each test of a suite gets fresh: the Railway fake with project shop seeded, a project folder. */
export interface Shop {
  readonly railway: RailwayFake
  readonly p: TempProject
  readonly project: SeededProject
  /** The environment that points envsync at the fake with an account token. */
  env(): Record<string, string | undefined>
  /** envsync (bin/run.js) in the project folder with env(). */
  run(...args: string[]): Promise<CliResult>
  /** Where production's service api keeps its variables in the fake. */
  scope(): Scope
  /** .envsync/ownership.tsv, every destination. */
  records(): ReturnType<typeof ownershipRecords>
  /** .envsync/ownership.tsv, this manifest's destination only. */
  record(): ReturnType<typeof ownershipRecords>[string] | undefined
}

/**
 * Registers the suite's beforeEach/afterEach (call it inside describe): a Railway fake with project
 * shop (production, service api) and an empty project folder, both gone after each test.
 */
export function railwayShop(prefix: string): Shop {
  let railway: RailwayFake
  let p: TempProject
  let project: SeededProject
  let token: string

  beforeEach(async () => {
    railway = await startRailway()
    project = railway.addProject({name: 'shop', environments: ['production'], services: ['api']})
    token = railway.accountToken()
    p = new TempProject(prefix)
  })

  afterEach(async () => {
    p.cleanup()
    await railway.stop()
  })

  const shop: Shop = {
    get railway() {
      return railway
    },
    get p() {
      return p
    },
    get project() {
      return project
    },
    // RAILWAY_TOKEN unset: one from the developer's shell would make envsync refuse both tokens.
    env: () => ({RAILWAY_API_URL: railway.url, RAILWAY_API_TOKEN: token, RAILWAY_TOKEN: undefined}),
    run: (...args) => runBin(args, {cwd: p.dir, env: shop.env()}),
    scope: () => ({projectId: project.id, environmentId: project.environments.production, serviceId: project.services.api}),
    records: () => ownershipRecords(p.dir),
    record: () => shop.records()[DESTINATION],
  }
  return shop
}
