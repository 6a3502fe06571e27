/**
 * The shell side of completion: a few lines per shell that hand the words typed to
 * `envsync __complete` and offer what it prints. The completer is bounded (timeout 2 s where the
 * `timeout` tool exists, and it stops itself), and its stderr never reaches the prompt.
 */

export const shells = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof shells)[number]

/** The line __complete prints for "complete a file name here". */
export const FILES = ':files'

export function completionScript(shell: Shell, bin: string): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}_complete`
  switch (shell) {
    case 'bash':
      return `# ${bin} completion for bash. Load it with: eval "$(${bin} completion bash)"
${fn}() {
  # The words up to the cursor, split as the completer expects ('' when a new word starts).
  local line="\${COMP_LINE:0:COMP_POINT}" out cur prefix="" w
  local -a words run=(${bin} __complete --)
  read -r -a words <<< "$line"
  [[ "$line" == *[[:space:]] ]] && words+=("")
  cur="\${words[\${#words[@]}-1]}"
  command -v timeout >/dev/null 2>&1 && run=(timeout 2 "\${run[@]}")
  out="$("\${run[@]}" "\${words[@]:1}" 2>/dev/null)" || out=""
  COMPREPLY=()
  if [[ "$out" == "${FILES}" ]]; then
    w="\${COMP_WORDS[COMP_CWORD]}"
    [[ "$w" == "=" ]] && w=""
    compopt -o filenames 2>/dev/null
    while IFS= read -r out; do COMPREPLY+=("$out"); done < <(compgen -f -- "$w")
    return 0
  fi
  # bash splits --flag=value at '=': offer only what follows it.
  [[ "$COMP_WORDBREAKS" == *=* && "$cur" == *=* ]] && prefix="\${cur%"\${cur##*=}"}"
  while IFS= read -r w; do [[ -n "$w" ]] && COMPREPLY+=("\${w#"$prefix"}"); done <<< "$out"
  return 0
}
complete -F ${fn} ${bin}
`
    case 'zsh':
      return `#compdef ${bin}
# ${bin} completion for zsh. Load it with: eval "$(${bin} completion zsh)"
${fn}() {
  local -a out run=(${bin} __complete --)
  (( $+commands[timeout] )) && run=(timeout 2 "\${run[@]}")
  out=("\${(@f)$("\${run[@]}" "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "\${out[1]}" == "${FILES}" ]]; then
    _files
    return
  fi
  out=(\${out:#})
  (( \${#out} )) && compadd -Q -- "\${out[@]}"
}
if (( ! $+functions[compdef] )); then
  autoload -Uz compinit && compinit
fi
compdef ${fn} ${bin}
`
    case 'fish':
      return `# ${bin} completion for fish. Load it with: ${bin} completion fish | source
function ${fn}
    set -l words (commandline -opc)
    set -e words[1]
    set -l out (${bin} __complete -- $words (commandline -ct) 2>/dev/null)
    if test "$out[1]" = "${FILES}"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\\n' $out
    end
end
complete -c ${bin} -f -a '(${fn})'
`
  }
}
