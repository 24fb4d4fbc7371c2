#!/usr/bin/env bash
# Tidies the mdoc pages swift-argument-parser generates: blank lines become paragraph breaks
# (mdoc warns about empty input lines), the `help` pseudo-subcommand is dropped from SEE ALSO,
# and the date is the one of the last commit that changed the command tree, not "today".
# Paragraphs of a command's discussion that start with "Environment:", "Files:", "Exit status:"
# or "Examples:" move out of DESCRIPTION into the ENVIRONMENT, FILES, EXIT STATUS (replacing the
# generic `.Ex -std`) and EXAMPLES sections, in mdoc's order:
#   Environment: / Files:  one "NAME: text" a line   ->  .Bl -tag with .It Ev NAME / .It Pa NAME
#   Exit status: N text; N text; ….                  ->  .Bl -tag with .It N
#   Examples: one command a line                      ->  .Bd -literal
# scripts/check-docs-current.sh reads them back from there.
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

# Split the page into sections.
head, sections, order, shline = [], {}, [], {}
cur = None
for l in out:
    if l.startswith(".Sh "):
        cur = l[4:].strip().strip('"'); order.append(cur); sections[cur] = []; shline[cur] = l
    elif cur is None:
        head.append(l)
    else:
        sections[cur].append(l)

def esc(s):
    """Text for an mdoc line (already escaped by generate-manual): a leading dot or quote would
    be read as a request."""
    return "\\&" + s if s[:1] in (".", "'") else s

moved = {"ENVIRONMENT": None, "FILES": None, "EXIT STATUS": None, "EXAMPLES": None}
desc = sections.get("DESCRIPTION", [])
# Paragraphs of the description before the option list (.Bl), separated by .Pp.
bl = next((i for i, l in enumerate(desc) if l.startswith(".Bl")), len(desc))
paras, curp = [], []
for l in desc[:bl]:
    if l == ".Pp":
        paras.append(curp); curp = []
    else:
        curp.append(l)
paras.append(curp)
kept = []
for p in paras:
    first = p[0] if p else ""
    m = re.match(r"^(Environment|Files|Exit status|Examples?):\s*(.*)$", first)
    if not m:
        kept.append(p); continue
    kind, rest = m.group(1), m.group(2)
    body = ([rest] if rest.strip() else []) + p[1:]
    if kind in ("Environment", "Files"):
        macro = "Ev" if kind == "Environment" else "Pa"
        items = []
        for l in body:
            name, _, text = l.strip().partition(": ")
            items += [".It " + " , ".join("%s %s" % (macro, n.strip()) for n in name.split(", ")), esc(text.strip())]
        moved["ENVIRONMENT" if kind == "Environment" else "FILES"] = [".Bl -tag -width Ds"] + items + [".El"]
    elif kind == "Exit status":
        text = " ".join(x.strip() for x in body).rstrip(".")
        items = []
        for part in text.split("; "):
            code, _, what = part.partition(" ")
            items += [".It " + code, esc(what)]
        moved["EXIT STATUS"] = [".Bl -tag -width Ds"] + items + [".El"]
    else:
        moved["EXAMPLES"] = [".Bd -literal -offset indent"] + [esc(l.strip()) for l in body if l.strip()] + [".Ed"]
new_desc = []
for p in kept:
    if not p: continue
    if new_desc: new_desc.append(".Pp")
    new_desc += p
sections["DESCRIPTION"] = new_desc + desc[bl:]

# Reassemble: ENVIRONMENT and FILES before EXIT STATUS, EXAMPLES after it (mdoc(7) order).
final_order = []
for s in order:
    if s == "EXIT STATUS":
        for extra in ("ENVIRONMENT", "FILES"):
            if moved[extra]: final_order.append(extra); sections[extra] = moved[extra]
        final_order.append(s)
        if moved["EXIT STATUS"]: sections[s] = moved["EXIT STATUS"]
        if moved["EXAMPLES"]: final_order.append("EXAMPLES"); sections["EXAMPLES"] = moved["EXAMPLES"]
    else:
        final_order.append(s)
res = head[:]
for s in final_order:
    res.append(shline.get(s) or ".Sh " + ('"%s"' % s if " " in s else s))
    res += sections[s]
text = "\n".join(res) + "\n"
text = text.replace(".Xr hark.status 1 ,\n.Pp\n", ".Xr hark.status 1 ,\n")
open(path, "w").write(text)
PY
done
