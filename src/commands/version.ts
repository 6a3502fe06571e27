import {BaseCommand} from '../ui/base-command.js'

export default class Version extends BaseCommand<typeof Version> {
  static summary = 'Print the envsync version (also `envsync --version` and `envsync -v`).'
  static description = 'The same line as `envsync --version`: envsync/VERSION PLATFORM-ARCH node-vVERSION. With --json, the parts as fields.'

  static examples = [
    {description: 'The version', command: '<%= config.bin %> version'},
    {description: 'For a bug report or a script', command: '<%= config.bin %> version --json'},
  ]

  async run(): Promise<void> {
    const {version, platform, arch, userAgent} = this.config
    await this.finish({version, platform, arch, node: process.versions.node, userAgent}, (r) => [r.userAgent])
  }
}
