import {z} from 'zod'

import {isRecipient} from '../values/age.js'

/**
 * The manifest, v1. Strict everywhere: an unknown key is an error (with a "did you mean"), never
 * silently ignored — a misspelled `requried: false` must not pass as valid.
 * Cross-references (services, environments, rule keys) are checked in validate.ts.
 */

export const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/
export const RECIPE_PATTERN = /^(uuid|(base64|hex|alnum|password):[1-9]\d*)$/
export const ROTATE_PATTERN = /^[1-9]\d*(d|w|mo|y)$/
/** A grace period: minutes, hours, days or weeks. */
export const GRACE_PATTERN = /^[1-9]\d*(m|h|d|w)$/
/** A plain file name (Render mounts secret files at /etc/secrets/<name>): no paths, not . or .. */
export const FILE_NAME_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._-]{1,255}$/

/** A name's longest: a DNS label (Kubernetes Secret names and labels are built from it). */
export const NAME_MAX_LENGTH = 63

const name = (what: string) =>
  z
    .string()
    .regex(NAME_PATTERN, {message: `${what} names are lowercase letters, digits and '-' (e.g. "backend")`})
    .max(NAME_MAX_LENGTH, {message: `${what} names are at most ${NAME_MAX_LENGTH} characters`})

/**
 * A name-keyed mapping whose result has no prototype: `services.constructor` or
 * `secrets.toString` is there only if the manifest says so, never as an inherited member, for
 * every reader (`map[name]` and `name in map` are safe). `__proto__` is refused before parsing.
 */
function names<K extends z.ZodType<string>, V extends z.ZodType>(keySchema: K, value: V) {
  return z.record(keySchema, value).transform((r) => Object.assign(Object.create(null) as typeof r, r))
}

const key = z.string().regex(KEY_PATTERN, {
  message: 'secret keys are environment variable names: letters, digits and _, not starting with a digit',
})

/** YAML reads `3000` and `true` as numbers and booleans; config values are strings. */
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v))

export const formatNames = ['url', 'postgres-url', 'redis-url', 'email', 'port', 'int', 'bool'] as const

export const Format = z.union([
  z.enum(formatNames),
  z.strictObject({enum: z.array(scalar).min(1)}),
  z.strictObject({regex: z.string().min(1)}),
])

const Service = z.strictObject({
  description: z.string().optional(),
  public: z.boolean().default(false).describe('Bundled into a browser app: every value it receives is public.'),
})

const serviceList = z.array(z.string()).min(1)

/**
 * A secret file's mode must let its owner read it and must not let everyone write it (anyone
 * could swap the secret a container starts with). World-readable is allowed (a container user
 * may need it) and warned about by check.
 */
export const fileModeProblem = (mode: string): string | undefined => {
  const m = Number.parseInt(mode, 8)
  if ((m & 0o400) === 0) return `fileMode "${mode}" does not let the owner read the secret files: use "0600" (or "0640"/"0644" for a container user)`
  if ((m & 0o002) !== 0) return `fileMode "${mode}" lets every user of the machine rewrite the secret files: use "0600" (or "0640"/"0644" for a container user)`
  return undefined
}

const delivery = z.enum(['files', 'env'])

export const DockerTarget = z.strictObject({
  dir: z.string().min(1).optional().describe('Directory of secret files, relative to the manifest, inside the project. Default ./secrets/<environment>.'),
  fileMode: z
    .string()
    .regex(/^0?[0-7]{3}$/, {message: 'an octal file mode such as "0600" or "0640"'})
    .refine((m) => fileModeProblem(m) === undefined, {error: (issue) => fileModeProblem(String(issue.input)) ?? 'a bad fileMode'})
    .default('0600')
    .describe('Mode of each secret file. Compose bind-mounts the host file: a non-root container user needs 0640/0644 and a matching group. Never world-writable.'),
  compose: z
    .string()
    .min(1)
    .optional()
    .describe('The generated compose override file, relative to the manifest. Default docker-compose.<environment>.secrets.yml (one per environment).'),
  services: serviceList
    .optional()
    .describe("Services that get the override. Default: the services of the project's compose file (compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml beside the manifest), else every service."),
  delivery: delivery.optional().describe('How sensitive keys reach a container: files (default, a secret file at /run/secrets/<key> and <KEY>_FILE naming it) or env (a plain environment variable, from the env file). A secret may say otherwise (its docker.delivery); plain config is always env.'),
  fileSuffix: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/, {message: 'letters, digits and _ (e.g. "_FILE" or "__FILE")'})
    .optional()
    .describe('Ends the variable that names a secret file: <KEY><fileSuffix>. Default _FILE; Grafana and some images read __FILE.'),
})

export const KubernetesTarget = z.strictObject({
  context: z.string().min(1).optional().describe('kubeconfig context; default: the current context.'),
  namespace: name('namespace').optional().describe('Namespace; default: the context\'s namespace, else "default".'),
  secretName: z.string().min(1).default('{project}-{service}').describe('Secret name template; {project}, {service} and {environment} are replaced.'),
  createNamespace: z.boolean().default(false),
  services: serviceList.optional(),
})

export const RailwayTarget = z.strictObject({
  project: z.string().min(1).describe('Railway project id or name.'),
  environment: z.string().min(1).optional().describe("Railway environment id or name; default: the envsync environment's name."),
  services: names(z.string(), z.string().min(1)).describe('envsync service → Railway service id or name. Services left out are not deployed on Railway.'),
  shared: z.boolean().default(false).describe("Keys marked `shared: true` go to the environment's shared variables."),
  deploy: z.boolean().default(false).describe('Redeploy each changed service once after all writes.'),
})

export const RenderTarget = z.strictObject({
  services: names(z.string(), z.string().min(1)).describe('envsync service → Render service id (srv-…) or exact name.'),
  envGroup: z.string().min(1).optional().describe('Env group (id evg-… or name) receiving keys marked `shared: true`.'),
  deploy: z.boolean().default(false),
})

/**
 * Where keys live in a secret manager, the same for every platform and both roles: one secret per
 * key under a prefix, JSON secrets holding several keys (groups), or one JSON secret for all.
 */
const placeholders = 'May use {project} and {environment}'
const layout = {
  prefix: z.string().optional().describe(`Name prefix of the one-secret-per-key layout, e.g. "acme/production/". ${placeholders}.`),
  names: z.enum(['key', 'kebab']).optional().describe('How a key becomes a name after the prefix: key (JWT_SECRET) or kebab (jwt-secret). Azure names are always kebab.'),
  secret: z.string().min(1).optional().describe(`One JSON secret holding every key not in a group, as fields named by key (Vault's usual layout, and its default). ${placeholders}.`),
  groups: names(z.string().min(1), names(key, z.string().min(1)))
    .optional()
    .describe(`JSON secrets holding several keys: full secret name → {KEY: JSON field}, e.g. acme/production/redis: {REDIS_URL: url}. ${placeholders}.`),
}
const managerTarget = {
  services: serviceList.optional().describe('Services whose keys go here; default every service. A {service} placeholder in prefix/secret/group names gives each service its own place.'),
}

export const AwsManager = z.strictObject({
  region: z.string().min(1).optional().describe('AWS region; default AWS_REGION or the profile\'s.'),
  profile: z.string().min(1).optional().describe('Named profile from ~/.aws; default AWS_PROFILE or the default chain.'),
  ...layout,
})
export const VaultManager = z.strictObject({
  address: z.string().regex(/^https?:\/\/[^\s/]+/, {message: 'an http(s) URL such as https://vault.example.com:8200'}).optional().describe('Vault address; default VAULT_ADDR.'),
  mount: z.string().min(1).regex(/^[^/]+(\/[^/]+)*$/, {message: 'a mount path such as "secret" or "kv/team", no leading or trailing /'}).default('secret').describe('KV version 2 mount.'),
  namespace: z.string().min(1).optional().describe('Vault Enterprise namespace; default VAULT_NAMESPACE.'),
  ...layout,
})
export const GcpManager = z.strictObject({
  project: z.string().min(1).optional().describe('Google Cloud project id; default GOOGLE_CLOUD_PROJECT or the credentials\' project.'),
  ...layout,
})
export const AzureManager = z.strictObject({
  vault: z.string().min(1).describe('Key Vault name (https://NAME.vault.azure.net) or URL.'),
  ...layout,
})
const managers = {aws: AwsManager, vault: VaultManager, gcp: GcpManager, azure: AzureManager}
export const managerKinds = ['aws', 'vault', 'gcp', 'azure'] as const

/** Where apps run and read values; `init` offers these. */
export const deployKinds = ['docker', 'kubernetes', 'railway', 'render'] as const
export const targetKinds = [...deployKinds, ...managerKinds] as const
export type TargetKind = (typeof targetKinds)[number]

const Targets = z.strictObject({
  docker: DockerTarget.optional(),
  kubernetes: KubernetesTarget.optional(),
  railway: RailwayTarget.optional(),
  render: RenderTarget.optional(),
  aws: managers.aws.extend(managerTarget).optional().describe('AWS Secrets Manager as a push destination.'),
  vault: managers.vault.extend(managerTarget).optional().describe('HashiCorp Vault KV v2 as a push destination.'),
  gcp: managers.gcp.extend(managerTarget).optional().describe('Google Secret Manager as a push destination.'),
  azure: managers.azure.extend(managerTarget).optional().describe('Azure Key Vault as a push destination.'),
})

/** An age X25519 recipient: `age1` and 58 bech32 characters, as age-keygen prints it. */
const recipient = z.string().refine(isRecipient, {
  error: (issue) => `"${String(issue.input).slice(0, 80)}" is not an age X25519 recipient: a public key such as age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p (\`envsync keys generate\` or \`age-keygen\` prints one; never paste the AGE-SECRET-KEY line)`,
})

/**
 * Where an environment's values live, when not in the plain local file: one kind key, so other
 * stores (secret managers) can join as kinds of their own.
 */
const Store = z
  .strictObject({
  aws: managers.aws.optional().describe('AWS Secrets Manager holds the values.'),
  vault: managers.vault.optional().describe('HashiCorp Vault KV v2 holds the values.'),
  gcp: managers.gcp.optional().describe('Google Secret Manager holds the values.'),
  azure: managers.azure.optional().describe('Azure Key Vault holds the values.'),
  encrypted: z
    .strictObject({
      recipients: z.array(recipient).min(1).describe('age recipients (age1…) who can read the values: each teammate and the deploy runner.'),
    })
    .optional()
    .describe('The values file is committed, every value encrypted with age on its own line. Manage recipients with `envsync keys add/remove`.'),
})
  .refine((s) => Object.values(s).filter((v) => v !== undefined).length === 1, {message: 'a store is one of: encrypted, aws, vault, gcp, azure'})

const Environment = z.strictObject({
  description: z.string().optional(),
  file: z.string().min(1).optional().describe('Values file, relative to the manifest. Default .env.<environment>.'),
  store: Store.optional().describe('Where the values live: default a git-ignored local file; `encrypted: {recipients: [age1…]}` keeps them encrypted and committed.'),
  protected: z.boolean().optional().describe('Confirmation before overwriting values or pushing. Default: true for names that mean production (production, prod, prd, live, prod-eu…).'),
  targets: Targets.optional(),
})

/** Per-target literal that replaces the local value, e.g. a Railway reference ${{Postgres.DATABASE_URL}}. */
const TargetOverrides = z.strictObject(Object.fromEntries(targetKinds.map((k) => [k, z.string().optional()])) as Record<TargetKind, z.ZodOptional<z.ZodString>>)

/** How one key reaches a Docker container, when not as its target and sensitivity say. */
const SecretDocker = z.strictObject({
  delivery: delivery.optional().describe('files: a secret file at /run/secrets/<key>, named by a variable; env: a plain environment variable. Default: the docker target\'s delivery for a secret, env for plain config.'),
  fileVariable: key.optional().describe('The variable naming the secret file, e.g. GF_SECURITY_ADMIN_PASSWORD__FILE. Default <KEY><fileSuffix>.'),
})

export const SecretSpec = z.strictObject({
  description: z.string().optional(),
  services: serviceList.describe('Services that receive the key.'),
  required: z.boolean().default(true).describe('`check` fails when the key has no value.'),
  sensitive: z.boolean().default(true).describe('false = plain config (VITE_API_URL): may go to public services, may have a default.'),
  generate: z
    .string()
    .regex(RECIPE_PATTERN, {message: 'a recipe: base64:N, hex:N, alnum:N, password:N or uuid (N > 0)'})
    .optional()
    .describe('Recipe for `envsync generate`: base64:N (N bytes, as openssl rand -base64 N), hex:N, alnum:N, password:N, uuid.'),
  rotate: z.string().regex(ROTATE_PATTERN, {message: 'a period such as 90d, 12w, 6mo or 1y'}).optional().describe('Rotation period: 90d, 12w, 6mo, 1y. `check` warns ahead of the due date and fails when it has passed (an error in protected environments).'),
  previous: key
    .optional()
    .describe('During a rotation\'s grace period the old value is kept under this key (e.g. JWT_SECRET_PREVIOUS), delivered to the same services, so apps that accept both never log anyone out. Needs grace.'),
  grace: z
    .string()
    .regex(GRACE_PATTERN, {message: 'a duration such as 30m, 1h, 2d or 1w'})
    .optional()
    .describe('How long the previous value stays after `envsync rotate` (30m, 1h, 2d, 1w): at least the lifetime of what the old value signed. Then `rotate --finish` (or a push) removes it.'),
  minLength: z.int().min(1).max(65536).optional().describe('Minimum length; default 32 for generated secrets (or the recipe length if shorter).'),
  format: Format.optional().describe('url, postgres-url, redis-url, email, port, int, bool, {enum: [...]} or {regex: "..."} (whole value).'),
  environments: z.array(z.string()).min(1).optional().describe('Environments the key applies to; default: all.'),
  default: scalar.optional().describe('Value used when the store has none. Only for non-sensitive config.'),
  shared: z.boolean().default(false).describe("Goes to a platform's shared place (Railway shared variables, Render env group)."),
  targets: TargetOverrides.optional().describe('Per-target literal that replaces the local value, e.g. railway: ${{Postgres.DATABASE_URL}}.'),
  file: z
    .union([z.literal(true), z.string().regex(FILE_NAME_PATTERN, {message: 'a file name such as "tls.key" or "credentials.json": letters, digits, ., _ and -'})])
    .optional()
    .describe('File-shaped secret (a PEM key, a JSON credential): Render stores it as a secret file, /etc/secrets/<name>; true = named as the key. Other targets are unchanged.'),
  docker: SecretDocker.optional().describe('How the Docker target delivers this key: as a file or a plain environment variable.'),
})

const KeyCondition = z.union([
  key,
  z.strictObject({key, equals: scalar}),
])

export const Rule = z.union([
  z.strictObject({
    oneOf: z.array(key).min(2).describe('At least one of these keys has a value; with exclusive, exactly one.'),
    exclusive: z.boolean().default(false),
    description: z.string().optional(),
    environments: z.array(z.string()).min(1).optional(),
  }),
  z.strictObject({
    requires: z.array(KeyCondition).min(1).describe('At least one alternative holds: a key with a value, or a key equal to a value.'),
    description: z.string().optional(),
    environments: z.array(z.string()).min(1).optional(),
  }),
])

export const ManifestSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).default(1),
  project: name('project').describe('Project name: lowercase letters, digits and -.'),
  services: names(name('service'), Service)
    .refine((s) => Object.keys(s).length > 0, {message: 'at least one service is needed'})
    .describe('Services that receive values (backend, frontend, workers…).'),
  environments: names(name('environment'), Environment)
    .refine((e) => Object.keys(e).length > 0, {message: 'at least one environment is needed'})
    .describe('Environments, each with its values file and deploy targets.'),
  secrets: names(key, SecretSpec).describe('Every secret and config key, by environment variable name.'),
  rules: z.array(Rule).default([]).describe('oneOf groups and requires alternatives across keys.'),
})

export type ManifestData = z.output<typeof ManifestSchema>
export type SecretSpecData = z.output<typeof SecretSpec>
export type FormatSpec = z.output<typeof Format>
export type RuleData = z.output<typeof Rule>
export type EnvironmentData = z.output<typeof Environment>
export type TargetsData = z.output<typeof Targets>
export type StoreData = z.output<typeof Store>
export type ManagerKind = (typeof managerKinds)[number]
export type ManagerData = z.output<typeof AwsManager> | z.output<typeof VaultManager> | z.output<typeof GcpManager> | z.output<typeof AzureManager>
export type KeyConditionData = z.output<typeof KeyCondition>

/** JSON Schema for editors (yaml-language-server), generated from the zod schema above. */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ManifestSchema, {io: 'input', target: 'draft-7'}) as Record<string, unknown>
  return {
    title: 'envsync manifest',
    description: 'envsync.yaml: which secrets an app has, where they go, how they are generated and checked.',
    ...schema,
  }
}
