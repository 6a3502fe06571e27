import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {EnvsyncError} from '../errors.js'
import {changeLog} from '../sync/log.js'
import {HISTORY_ACTIONS, type HistoryAction} from '../sync/state.js'
import {BaseCommand} from '../ui/base-command.js'
import {listFlag, listValues} from '../ui/list-flag.js'
import {renderLog} from '../ui/render-log.js'

export default class Log extends BaseCommand<typeof Log> {
  static summary = 'Show the change history: who changed which keys, where and when.'
  static description = `Every push (one entry per destination written), set, generate, unset, import, pull, rotate and redeploy is recorded in .envsync/history.jsonl — when, who (git user.name <user.email>, else the OS user; and the CI job: github:octocat, gitlab:ada…), the environment, the action, the keys — never a value. The file is committed and merged line by line, so every clone shows the same log. Newest first, time in this machine's time zone. Entries of environments no longer in the manifest are shown too (and can be named).

--format jsonl prints the entries themselves, one JSON object per line (newest first; fields in one order: time, user, ci, environment, action, destination, status, keys, added, updated, removed, graceUntil, error — those that apply). --json prints the usual envelope.`

  static examples = [
    {description: 'Everything, newest first', command: '<%= config.bin %> log'},
    {description: 'Who touched the JWT secret in production', command: '<%= config.bin %> log production --key JWT_SECRET'},
    {description: 'Pushes and rotations of the last two weeks', command: '<%= config.bin %> log --action push,rotate --since 2w'},
    {description: 'Export for an audit', command: '<%= config.bin %> log --format jsonl > envsync-history.jsonl'},
  ]

  static args = {
    environment: Args.string({description: 'Only this environment.', required: false}),
  }

  static flags = {
    key: listFlag({description: 'Only entries touching these keys.', helpValue: 'KEY'}),
    action: listFlag({description: 'Only these actions.', options: HISTORY_ACTIONS}),
    since: Flags.string({description: 'Only entries since a date (2026-11-01, 2026-11-01T09:00:00Z) or a span back from now (30m, 12h, 7d, 2w).'}),
    limit: Flags.integer({char: 'n', description: 'At most this many entries (the newest).', min: 1}),
    format: Flags.string({description: 'text (default), or jsonl: one entry per line.', options: ['text', 'jsonl']}),
  }

  async run(): Promise<void> {
    const jsonl = this.flags.format === 'jsonl'
    if (jsonl && this.json) throw new EnvsyncError('--format jsonl and --json are two outputs: choose one', {code: 'USAGE', suggestion: '--format jsonl for the entries one per line, --json for one envelope'})
    const keys = listValues(this.flags.key, 'key')
    const query = {environment: this.args.environment, keys, actions: listValues(this.flags.action, 'action') as HistoryAction[] | undefined, since: this.flags.since, limit: this.flags.limit}
    const result = changeLog(this.loadManifest(), query)
    await this.finish(result, jsonl ? (r) => r.entries.map((e) => JSON.stringify(e)) : (r) => renderLog(r, query))
  }
}
