#!/usr/bin/env bash
# Tidies the mdoc pages swift-argument-parser generates: blank lines become paragraph breaks
# (mdoc warns about empty input lines), the `help` pseudo-subcommand is dropped from SEE ALSO,
# and the date is the one of the last commit that changed the command tree, not "today".
set -euo pipefail
date=$(git log -1 --format=%cd --date=format:'%B %-d, %Y' -- Sources/hark 2>/dev/null || date '+%B %-d, %Y')
for f in "$@"; do
  python3 - "$f" "$date" <<'PY'
import re, sys
path, date = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
out = []
for l in lines:
    if l.startswith(".Dd "):
        l = ".Dd " + date
    if l.strip() == "":
        if out and out[-1] != ".Pp":
            out.append(".Pp")
        continue
    if re.match(r"^\.Xr hark\.help 1", l):
        continue
    out.append(l)
while out and out[-1] == ".Pp":
    out.pop()
text = "\n".join(out) + "\n"
text = text.replace(".Xr hark.status 1 ,\n.Pp\n", ".Xr hark.status 1 ,\n")
open(path, "w").write(text)
PY
done
