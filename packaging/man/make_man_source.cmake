# Assembles a man page's Markdown source for go-md2man: HEAD (title, NAME, SYNOPSIS), the user doc
# DOC without its own title line, then TAIL (SEE ALSO). Relative links to other docs become their
# text (a man page cannot follow them), and the few non-ASCII characters become ASCII, so the page
# renders the same under any locale. Run as: cmake -DHEAD=... -DDOC=... -DTAIL=... -DOUT=...
# -DVERSION=... -P make_man_source.cmake
file(READ "${HEAD}" head)
file(READ "${DOC}" doc)
file(READ "${TAIL}" tail)
string(REPLACE "@CAIRN_VERSION@" "${VERSION}" head "${head}")
# Drop the document's first line, its "# title": the man page has its own NAME section.
string(FIND "${doc}" "\n" first_newline)
math(EXPR body_start "${first_newline} + 1")
string(SUBSTRING "${doc}" ${body_start} -1 body)
# [text](other.md#anchor) -> text
string(REGEX REPLACE "\\[([^]]*)\\]\\([a-zA-Z0-9_./-]*\\.md(#[a-zA-Z0-9_-]*)?\\)" "\\1" body "${body}")
# [text](#anchor) -> text
string(REGEX REPLACE "\\[([^]]*)\\]\\(#[a-zA-Z0-9_-]*\\)" "\\1" body "${body}")
string(REPLACE "…" "..." body "${body}")
string(REPLACE "—" "--" body "${body}")
string(REPLACE "–" "-" body "${body}")
string(REPLACE "→" "->" body "${body}")
file(WRITE "${OUT}" "${head}${body}${tail}")
