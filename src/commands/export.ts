import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {displayPath} from '../paths.js'
import {BaseCommand} from '../ui/base-command.js'
import {renderExportNotes, renderExportWarning} from '../ui/render-export.js'
import {listValues} from '../ui/list-flag.js'
import {plural} from '../ui/style.js'
import {serviceFlag} from '../ui/sync-flags.js'
import {exportEnvironment, exportFormats, type ExportFormat} from '../values/export.js'

export interface ExportResult {
  environment: string
  format: ExportFormat
  services?: string[]
  /** Keys in the output. */
  keys: string[]
  /** Keys that apply but have no value: left out. */
  missing: string[]
  /** k8s: the Secrets, as namespace/name (no namespace: kubectl's current one). */
  secrets?: string[]
  /** The exported text (values included), unless --out wrote it to a file. */
  text?: string
  file?: string
  bytes?: number
}

export default class Export extends BaseCommand<typeof Export> {
  static summary = "Print an environment's values as dotenv, JSON, a Kubernetes Secret, a compose fragment or an ECS secrets block."
  static description = `The one command that prints values (on purpose): the environment's values file, else the manifest default for non-sensitive config. Only keys that apply to the environment (and, with --service, to that service); keys without a value are left out and named on stderr. A warning goes to stderr when values are printed to a terminal; --out writes a 0600 file atomically instead.

--format dotenv: KEY=value lines, quoted so that the dotenv package reads every value back byte-exact (a value no dotenv syntax can hold is refused).

--format json: one object {"KEY": "value"}.

--format k8s: one Opaque Secret per service (--- between them), byte-for-byte what \`kubectl create secret generic NAME --from-env-file=F --type=Opaque -n NS --dry-run=client -o yaml\` prints, plus envsync's labels and without creationTimestamp. Name, namespace, labels, services and \`targets.kubernetes\` literals are those push uses for the environment's kubernetes target. Without a kubernetes target: the name \`{project}-{service}\` (push's default template) and no namespace. With no namespace configured the Secret has no metadata.namespace, so \`kubectl apply\` puts it in the current context's namespace, as push does (export never reads the kubeconfig).

--format compose: a compose file fragment, \`services: <service>: environment: {KEY: value}\`, values inline (\`targets.docker\` literals applied), every $ written $$ so that Compose does not interpolate it.

--format ecs: the \`secrets\` (and \`environment\`) members of one ECS container definition, as JSON: \`{"secrets": [{"name": "KEY", "valueFrom": "<ARN>"}], "environment": [{"name": "KEY", "value": "…"}]}\`. Sensitive keys are references, never values: the full ARN of the AWS Secrets Manager secret holding the key, \`<ARN>:<json-key>::\` for a key inside a JSON secret (a group, or one secret for every key). ARNs come from the environment's AWS store, else its aws target; each referenced secret must exist there (else: push or set it first). Plain config (sensitive: false) is inline under environment. One service: --service is needed when the AWS place holds the keys of several. ECS reads secrets when a task starts: a new value needs a new deployment.`

  static examples = [
    {description: 'A .env file for local tools', command: '<%= config.bin %> export development --out .env.local'},
    {description: 'One service as JSON', command: '<%= config.bin %> export staging --format json --service backend'},
    {description: 'Kubernetes Secrets to apply by hand', command: '<%= config.bin %> export production --format k8s --out secrets.yaml'},
    {description: 'Inline compose environment', command: '<%= config.bin %> export development --format compose --out docker-compose.env.yml'},
    {description: "An ECS container's secrets block (ARNs, no values)", command: '<%= config.bin %> export production --format ecs --service api'},
  ]

  static args = {
    environment: Args.string({description: 'Environment to export.', required: true}),
  }

  static flags = {
    format: Flags.string({char: 'f', description: 'Output format.', options: [...exportFormats], default: 'dotenv'}),
    service: serviceFlag('the keys'),
    out: Flags.string({char: 'o', description: 'Write to this file (mode 0600, atomically) instead of stdout.'}),
  }

  async run(): Promise<void> {
    const env = this.args.environment
    const format = this.flags.format as ExportFormat
    const services = listValues(this.flags.service, 'service')
    const {selection, valuesFile, text, summary, fill} = await exportEnvironment(this.loadManifest(), env, {format, services, out: this.flags.out})
    const result: ExportResult = {environment: env, format, ...(services ? {services} : {}), ...summary}
    // An ECS block prints ARNs, and values of plain config only.
    if (!this.flags.out && process.stdout.isTTY && format !== 'ecs') process.stderr.write(renderExportWarning() + '\n')
    for (const line of renderExportNotes(selection, summary.missing, valuesFile, fill)) this.note(line)
    if (this.flags.out) {
      const file = displayPath(this.flags.out)
      await this.finish({...result, file, bytes: Buffer.byteLength(text)}, (r) => [`wrote ${r.file} (${plural(r.keys.length, 'key')}, mode 0600)`])
      return
    }
    // The text once: as is on stdout, or inside the envelope with --json.
    await this.finish({...result, text}, () => [text.slice(0, -1)])
  }
}
