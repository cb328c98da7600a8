#!/usr/bin/env bash
# The generated completion scripts (packaging/CMakeLists.txt): bash completes what a user types, and
# every command and global option `cairn --help` lists is in both scripts.
# Usage: completion_test.sh CAIRN BASH_SCRIPT ZSH_SCRIPT
set -euo pipefail
cairn=$1 bash_script=$2 zsh_script=$3
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Completes the words given (the last one being completed) with the bash script and prints COMPREPLY.
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cairn; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$bash_script" "$@"
}
expect() {  # expect WORD -- WORDS...: completing WORDS offers WORD.
  local want=$1; shift 2
  local got; got=$(complete_words "$@")
  grep -qx -- "$want" <<<"$got" || fail "completing '$*' offers '${got//$'\n'/ }', not '$want'"
}
expect_not() {
  local unwanted=$1; shift 2
  local got; got=$(complete_words "$@")
  ! grep -qx -- "$unwanted" <<<"$got" || fail "completing '$*' offers '$unwanted'"
}

expect get -- cairn ge
expect_not put -- cairn ge
expect get -- cairn --json ge
expect get -- cairn --connect 127.0.0.1:7401 ge     # the option's value is not taken for a command
expect --raw -- cairn get --r
expect --json -- cairn get k --js                    # global options after the command
expect --value-file -- cairn put k --val
expect_not get -- cairn get k ge                     # after the command: no command names
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
touch "$tmp/token.txt"; mkdir "$tmp/datadir"
expect "$tmp/token.txt" -- cairn --token-file "$tmp/tok"
expect "$tmp/datadir" -- cairn --data-dir "$tmp/data"

# Every command and global option of `cairn --help` is in both scripts.
help=$("$cairn" --help)
commands=$(sed -n '/^Subcommands:/,/^$/p' <<<"$help" | awk 'NF && !/^Subcommands:/ {print $1}')
[[ -n "$commands" ]] || fail "no commands found in cairn --help"
options=$(grep -oE '^ +(-[a-zA-Z],)?--[a-z-]+' <<<"$help" | grep -oE -- '--[a-z-]+')
[[ -n "$options" ]] || fail "no options found in cairn --help"
for word in $commands; do
  grep -qw -- "$word" "$bash_script" || fail "bash completion lacks the command $word"
  grep -q -- "'$word:" "$zsh_script" || fail "zsh completion lacks the command $word"
done
for option in $options; do
  grep -q -- "$option" "$bash_script" || fail "bash completion lacks the option $option"
  grep -q -- "$option" "$zsh_script" || fail "zsh completion lacks the option $option"
done

if command -v zsh >/dev/null; then
  zsh -n "$zsh_script" || fail "zsh cannot parse $zsh_script"
else
  echo "zsh not installed: its script is checked for content only (scripts/install-deps.sh installs zsh)"
fi

((failures == 0)) || exit 1
echo "completion: all checks passed"
