#!/usr/bin/env bash
# The generated man pages render: groff (as man runs it: preconv, tbl, the man macros) reads each page
# without an error, and the rendered page has its NAME, SYNOPSIS and DESCRIPTION and the doc's sections.
# Without groff, the .1 files are checked for their sections only.
# Usage: man_pages_test.sh MAN_DIR
set -euo pipefail
man_dir=$1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

check_page() {  # check_page PAGE SECTION...: the page renders and shows each SECTION heading.
  local page=$1; shift
  local file="$man_dir/$page.1"
  [[ -s "$file" ]] || { fail "$file is missing or empty"; return; }
  grep -q "^\.TH $page 1" "$file" || fail "$file has no .TH title line for $page(1)"
  if command -v groff >/dev/null; then
    local rendered errors
    errors=$(mktemp)
    rendered=$(groff -k -t -man -Tutf8 -P-cbou "$file" 2>"$errors") || fail "groff failed on $file: $(cat "$errors")"
    # Layout warnings (a table or a long word that does not fit an 80-column terminal) are about the
    # width, not errors in the page; anything else (an unknown macro, a bad character) fails.
    if grep -v -e 'table wider than line width' -e 'cannot adjust line' -e 'cannot break line' \
         -e "^warning: file '.*', around line" "$errors" | grep -q .; then
      fail "groff complained about $file: $(cat "$errors")"
    fi
    rm -f "$errors"
    for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO" "$@"; do
      grep -qx "$section" <<<"$rendered" || fail "$page(1) rendered has no section '$section'"
    done
    grep -qE "^ *$page +- " <<<"$rendered" || fail "$page(1) rendered has no NAME line '$page - ...'"
  else
    echo "groff not installed: $file checked for its sections only"
    for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO" "$@"; do
      grep -qx "\.SH $section" "$file" || fail "$file has no .SH $section"
    done
  fi
}

check_page cairn "Commands" "Exit codes"
check_page cairnd "Settings" "Signals" "Logs" "Exit codes"
((failures == 0)) || exit 1
echo "man pages: cairn(1) and cairnd(1) render"
