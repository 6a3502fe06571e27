import type {GeneratedKey, KeyList, RecipientsChange} from '../values/keys.js'
import {plural, style, table} from './style.js'

export function renderGeneratedKey(r: GeneratedKey): string[] {
  return [
    `${style.green('created')} ${r.file} (mode 0600): your age identity. Back it up; it never goes in a repository.`,
    `Your recipient (public, safe to share): ${style.bold(r.recipient)}`,
    `Ask a teammate who can read an environment to run: envsync keys add ENVIRONMENT ${r.recipient}`,
  ]
}

export function renderRecipientsChange(r: RecipientsChange): string[] {
  const lines: string[] = []
  if (r.added.length === 0 && r.removed.length === 0 && !r.fileRecipients && !r.converted) return [`${r.environment}: nothing to change (already ${plural(r.recipients.length, 'recipient')})`]
  for (const a of r.added) lines.push(`${style.green('added')} ${a}`)
  for (const a of r.removed) lines.push(`${style.red('removed')} ${a}`)
  if (r.fileRecipients) lines.push(`${r.file} was encrypted to ${plural(r.fileRecipients.length, 'recipient')} (${r.fileRecipients.join(', ') || 'none'}), not the ${r.recipients.length} envsync.yaml lists`)
  const how = r.converted ? `encrypted ${plural(r.reencrypted, 'value')} in place` : `re-encrypted ${plural(r.reencrypted, 'value')}`
  lines.push(`${r.environment}: ${how} in ${r.file} to ${plural(r.recipients.length, 'recipient')}; commit it with envsync.yaml`)
  if (r.gitignore) lines.push(`.gitignore: added ${r.gitignore} so ${r.file} can be committed`)
  if (r.stillIgnored) lines.push(style.yellow(`${r.file} is still ignored by git: add it with \`git add -f ${r.file}\``))
  if (r.plainInHistory) {
    lines.push(
      style.yellow(`${r.file} was tracked by git as plain text: its values are in the git history, readable by anyone with the repository.`),
      `Rotate them: \`envsync generate ${r.environment} --force\` for keys with a recipe, \`envsync set ${r.environment} KEY\` for the rest.`,
    )
  }
  if (r.newFingerprintKey) lines.push(`A new fingerprint key was made: sealed Railway/Render values are pushed once more on the next push (their fingerprints were under the old key).`)
  if (r.removed.length > 0) {
    lines.push(
      style.yellow(`Whoever holds the removed key can still read every value they could before (git history keeps the old ciphertexts).`),
      `Rotate the values it could read: \`envsync generate ${r.environment} --force\` for keys with a recipe, the others by hand (\`envsync set ${r.environment} KEY\`).`,
    )
  }
  return lines
}

export function renderKeyList(r: KeyList): string[] {
  const lines: string[] = []
  for (const e of r.environments) {
    if (e.fileRecipients) lines.push(style.yellow(`${e.environment}: ${e.file} is encrypted to ${e.fileRecipients.join(', ') || 'no one'}, not to the recipients envsync.yaml lists: someone who can read it should run \`envsync keys add ${e.environment} ${e.recipients[0]?.recipient ?? 'age1…'}\``))
  }
  if (r.problem) lines.push(style.yellow(`your identity could not be read: ${r.problem}`))
  else if (r.yours.length === 0) lines.push('you hold no age identity (run `envsync keys generate`)')
  else lines.push(`your ${plural(r.yours.length, 'recipient')} (from ${r.source}): ${r.yours.join(', ')}`)
  const rows: string[][] = []
  for (const e of r.environments) {
    if (!e.encrypted) rows.push([e.environment, style.dim('plain (not encrypted)'), ''])
    for (const [i, rec] of e.recipients.entries()) rows.push([i === 0 ? e.environment : '', rec.recipient, rec.yours ? style.green('yours') : ''])
  }
  return [...lines, ...table(rows).map((l) => l.trimEnd())]
}
