#!/bin/sh
# examples/embedded --help prints its usage and exits 0, and an unknown option exits 2, both without
# creating anything (the example used to create a directory named after any first argument).
# Usage: help_test.sh PATH_TO_EMBEDDED
set -u
embedded=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fail() { echo "help_test: $*" >&2; exit 1; }

"$embedded" --help > help.out 2> help.err || fail "--help exited $?"
grep -q '^usage: embedded \[DATA_DIR\]' help.out || fail "--help printed no usage: $(cat help.out)"
"$embedded" -h > h.out 2>&1 || fail "-h exited $?"
"$embedded" --bogus > bogus.out 2>&1
[ $? -eq 2 ] || fail "an unknown option did not exit 2"
grep -q 'unknown option --bogus' bogus.out || fail "no message for the unknown option: $(cat bogus.out)"
"$embedded" one two > two.out 2>&1
[ $? -eq 2 ] || fail "two directories did not exit 2"
left=$(ls -A | grep -v -x -e help.out -e help.err -e h.out -e bogus.out -e two.out)
[ -z "$left" ] || fail "created: $left"
echo "help_test: ok"
