import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {chosenShell, install, installPlan} from '../completion/install.js'
import {completionScript, shells} from '../completion/scripts.js'
import {homePath} from '../paths.js'
import {BaseCommand} from '../ui/base-command.js'

export default class Completion extends BaseCommand<typeof Completion> {
  static summary = 'Tab completion for bash, zsh and fish: print the script, or --install it in your rc file.'
  static description =
    'Completes commands, flags, and values from the manifest: environment names, services (--service), keys (--only, --keys, generate KEY), target kinds (--target, --from) and formats, also after other flags. The script asks `envsync __complete` for the words, which reads the manifest as every command does (--manifest/-m, ENVSYNC_MANIFEST, ./envsync.yaml); a missing or broken manifest completes nothing. Without --install nothing is edited; --install adds one marked line to ~/.bashrc, $ZDOTDIR/.zshrc (else ~/.zshrc) or fish\'s config.fish, once: a second run changes nothing.'

  static examples = [
    {description: 'Try it in this shell', command: 'eval "$(<%= config.bin %> completion bash)"'},
    {description: 'Load it in every new zsh', command: '<%= config.bin %> completion zsh --install'},
    {description: 'fish', command: '<%= config.bin %> completion fish | source'},
  ]

  static args = {
    shell: Args.string({description: 'The shell (default: the one $SHELL names).', options: [...shells]}),
  }

  static flags = {
    install: Flags.boolean({description: 'Add the line that loads the script to the shell\'s rc file (says which first; once only).', default: false}),
  }

  async run(): Promise<void> {
    const shell = chosenShell(this.args.shell, process.env)
    const bin = this.config.bin
    const plan = installPlan(shell, bin)
    if (!this.flags.install) {
      const script = completionScript(shell, bin)
      if (process.stdout.isTTY) this.note(`# to load it in every new ${shell}: \`${bin} completion ${shell} --install\` (adds \`${plan.line}\` to ${homePath(plan.file)})`)
      await this.finish({shell, script}, () => [script.trimEnd()])
      return
    }
    // JSON has the file absolute; people read it as they would type it, from anywhere.
    const result = {shell, file: plan.file, line: plan.line, changed: !plan.present}
    const shown = homePath(plan.file)
    if (plan.present) {
      await this.finish(result, () => [`${shown} loads envsync completion already: nothing changed`])
      return
    }
    this.note(`adding one line to ${shown}: ${plan.line}`)
    install(plan)
    await this.finish(result, () => [`added to ${shown}; open a new ${shell} (or run \`source ${shown}\`) to complete with Tab`])
  }
}
