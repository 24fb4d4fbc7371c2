#!/usr/bin/env bash
# Checks that the committed man pages (man/*.1) and shell completions (completions/) match the
# command tree of the built `hark`, without the release build `make man` needs:
# - man pages: runs `hark --experimental-dump-help` (swift-argument-parser's JSON dump of the
#   command tree, the same input generate-manual reads) and compares every (sub)command's page
#   name, abstract, discussion, synopsis, each option/flag/argument (names, value name, help text)
#   and SEE ALSO against what the mdoc pages contain; pages for commands that no longer exist fail.
# - completions: regenerates bash, zsh and fish scripts and compares them byte for byte.
# Uses the debug binary (HARK_BIN overrides). Prints what is stale and how to fix it, ends with
# "N passed, M failed", and exits non-zero when anything is stale.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARK=${HARK_BIN:-$ROOT/.build/debug/hark}
MAN_DIR=${MAN_DIR:-$ROOT/man}
COMP_DIR=${COMP_DIR:-$ROOT/completions}
if [ ! -x "$HARK" ]; then
  echo "FAIL - no hark binary at $HARK (run swift build first)"
  echo "0 passed, 1 failed"
  exit 1
fi
T=$(mktemp -d /tmp/hark-docs.XXXXXX)
trap 'rm -rf "$T"' EXIT

PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# --- man pages -------------------------------------------------------------------------------
MAN_RESULT=fail
if "$HARK" --experimental-dump-help >"$T/tree.json" 2>"$T/err"; then
  python3 - "$T/tree.json" "$MAN_DIR" >"$T/man.out" <<'PY'
import glob, json, os, re, sys

tree_path, man_dir = sys.argv[1], sys.argv[2]
root = json.load(open(tree_path))["command"]
passed = failed = 0

def ok(msg):
    global passed; passed += 1; print("ok   - " + msg)

def fail(msg, detail=None):
    global failed; failed += 1; print("FAIL - " + msg)
    if detail: print("       " + detail)

# --- rendering, as swift-argument-parser's generate-manual (1.8) does it -------------------
def macro_arg(s):
    """String.escapedMacroArgument(): ASCII only, \\ -> \\e, " -> \\(dq, quoted if blank/empty."""
    out, blank = "", False
    for ch in s:
        if not ch.isascii(): continue
        if ch == " ": out += ch; blank = True
        elif ch == "\\": out += r"\e"
        elif ch == '"': out += r"\(dq"
        elif ch in "\n\r": out += " "; blank = True
        else: out += ch
    return '"%s"' % out if (out == "" or blank) else out

def name_mdoc(n):
    return "-" + n["name"] if n["kind"] == "long" else n["name"]

def value_name(a):
    return macro_arg((a.get("valueName") or "") + ("..." if a.get("isRepeating") else ""))

def item_title(a):
    """ArgumentInfoV0.manualPageDescription: short names first, then long, comma separated."""
    if a["kind"] == "positional":
        return "Ar " + value_name(a)
    names = a.get("names") or []
    names = [n for n in names if n["kind"] == "short"] + [n for n in names if n["kind"] != "short"]
    title = "Fl " + " , ".join(macro_arg(name_mdoc(n)) for n in names)
    return title + (" Ar " + value_name(a) if a["kind"] == "option" else "")

def preferred(a):
    names = a.get("names") or []
    return next((n for n in names if n["kind"] != "short"), names[0] if names else None)

def synopsis_line(a):
    if a["kind"] == "positional":
        s = "Ar " + value_name(a)
    else:
        s = "Fl " + macro_arg(name_mdoc(preferred(a)))
        if a["kind"] == "option": s += " Ar " + value_name(a)
    return "." + ("Op " + s if a.get("isOptional") else s)

def label(a):
    if a["kind"] == "positional": return "argument <%s>" % a.get("valueName")
    return "%s --%s" % (a["kind"], preferred(a)["name"]) if preferred(a)["kind"] == "long" \
        else "%s -%s" % (a["kind"], preferred(a)["name"])

# --- text normalisation: paragraphs of whitespace-collapsed ASCII text ---------------------
def norm_paragraphs(paras):
    out = []
    for p in paras:
        p = re.sub(r"\s+", " ", "".join(c for c in p if c.isascii())).strip()
        if p: out.append(p)
    return " ¶ ".join(out)

def text_paragraphs(s):
    """Source text: blank lines separate paragraphs (scripts/man-tidy.sh turns them into .Pp)."""
    paras, cur = [], []
    for line in (s or "").split("\n"):
        if line.strip() == "":
            paras.append(" ".join(cur)); cur = []
        else:
            cur.append(line)
    paras.append(" ".join(cur))
    return paras

def unescape(s):
    return s.replace(r"\(dq", '"').replace(r"\&", "").replace(r"\e", "\\")

def unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"': s = s[1:-1]
    return unescape(s)

def page_paragraphs(lines):
    """mdoc text lines; .Pp, .Bl and .El break paragraphs, a nested .It starts one."""
    paras, cur = [], []
    for l in lines:
        if l in (".Pp",) or l.startswith(".Bl") or l == ".El":
            paras.append(" ".join(cur)); cur = []
        elif l.startswith(".It "):
            paras.append(" ".join(cur))
            cur = [" ".join(t for t in unescape(l[4:]).split() if t not in ("Ar", "Fl")) + ":"]
        else:
            cur.append(unescape(l))
    paras.append(" ".join(cur))
    return norm_paragraphs(paras)

def expected_item_text(a):
    paras = text_paragraphs(a.get("abstract"))
    if a.get("discussion") is not None or a.get("allValues") is not None:
        paras += text_paragraphs(a.get("discussion"))
        if a.get("allValues") is not None and a.get("allValueDescriptions") is not None:
            for v in a["allValues"]:
                paras.append(v + ": " + a["allValueDescriptions"].get(v, ""))
    return norm_paragraphs(paras)

# --- paragraphs scripts/man-tidy.sh moves out of DESCRIPTION ---------------------------------
MOVED_SECTIONS = {"Environment": "ENVIRONMENT", "Files": "FILES", "Exit status": "EXIT STATUS",
                  "Examples": "EXAMPLES", "Example": "EXAMPLES"}

def squash(text):
    """Letters and digits only: what must survive the move from a paragraph into a section."""
    return re.sub(r"[^A-Za-z0-9]", "", "".join(c for c in text if c.isascii()))

def section_text(lines):
    words = []
    for l in lines or []:
        if l.startswith((".Bl", ".El", ".Bd", ".Ed", ".Pp")): continue
        if l.startswith(".It "):
            words += [t for t in unescape(l[4:]).split() if t not in ("Ev", "Pa", ",")]
        else:
            words.append(unescape(l))
    return squash(" ".join(words))

def split_moved(paras):
    """The discussion's paragraphs that stay in DESCRIPTION, and {section: text} of the others."""
    kept, moved = [], {}
    for p in paras:
        m = re.match(r"^\s*(Environment|Files|Exit status|Examples?):", p)
        if m: moved[MOVED_SECTIONS[m.group(1)]] = p[m.end():]
        else: kept.append(p)
    return kept, moved

# --- parsing a page ------------------------------------------------------------------------
def parse_page(path):
    lines = [l.rstrip("\n") for l in open(path, encoding="utf-8", errors="replace")]
    sections, cur = {}, None
    for l in lines:
        if l.startswith(".Sh "):
            cur = unquote(l[4:]).upper(); sections[cur] = []
        elif cur is not None:
            sections[cur].append(l)
    page = {"nm": None, "nd": None, "synopsis": [], "discussion": "", "items": [], "see_also": [],
            "moved": {k: sections.get(k) for k in MOVED_SECTIONS.values()}}
    for l in sections.get("NAME", []):
        if l.startswith(".Nm "): page["nm"] = unquote(l[4:])
        elif l.startswith(".Nd "): page["nd"] = unquote(l[4:])
    page["synopsis"] = [l for l in sections.get("SYNOPSIS", []) if l != ".Nm"]
    desc = sections.get("DESCRIPTION", [])
    i, head = 0, []
    while i < len(desc) and not desc[i].startswith(".Bl"):
        head.append(desc[i]); i += 1
    page["discussion"] = page_paragraphs(head)
    depth, item = 0, None
    for l in desc[i:]:
        if l.startswith(".Bl"):
            depth += 1
            if depth > 1 and item is not None: item[1].append(l)
        elif l == ".El":
            depth -= 1
            if depth >= 1 and item is not None: item[1].append(l)
        elif l.startswith(".It ") and depth == 1:
            item = (l[4:], []); page["items"].append(item)
        elif item is not None:
            item[1].append(l)
    for l in sections.get("SEE ALSO", []):
        m = re.match(r"^\.Xr (\S+) (\d)", l)
        if m: page["see_also"].append(m.group(1))
    return page

def item_key(title):
    """The argument a page item documents: its first long name, else short name, else <value>."""
    toks = title.split()
    if toks and toks[0] == "Ar":
        v = unquote(" ".join(toks[1:]))
        return "<%s>" % (v[:-3] if v.endswith("...") else v)   # a repeating argument shows "path..."
    names = []
    for t in toks[1:]:
        if t == "Ar": break
        if t != ",": names.append(unquote(t))
    longs = [n for n in names if n.startswith("-")]
    return "-" + longs[0] if longs else ("-" + names[0] if names else title)

def arg_key(a):
    if a["kind"] == "positional": return "<%s>" % a.get("valueName")
    n = preferred(a)
    return ("--" if n["kind"] == "long" else "-") + n["name"]

# --- the comparison ------------------------------------------------------------------------
def commands(c, supers=()):
    yield c, supers
    for s in c.get("subcommands") or []:
        if not supers and s["commandName"] == "help":
            continue  # argument-parser's help pseudo-command; `make man` drops its page
        yield from commands(s, supers + (c["commandName"],))

expected_pages = set()
for c, supers in commands(root):
    parts = list(supers) + [c["commandName"]]
    title, name = ".".join(parts), " ".join(parts)
    fname = title + ".1"
    expected_pages.add(fname)
    path = os.path.join(man_dir, fname)
    if not os.path.exists(path):
        fail("%s: no man page for `%s`" % (fname, name)); continue
    page = parse_page(path)
    where = fname

    # NAME: .Nm and the abstract (.Nd)
    problems = []
    if page["nm"] != name: problems.append(".Nm is %r, the command is %r" % (page["nm"], name))
    want_nd = unquote(macro_arg(c.get("abstract") or ""))
    if c.get("abstract") is None:
        if page["nd"] is not None: problems.append("has an abstract (.Nd) the command no longer has")
    elif re.sub(r"\s+", " ", page["nd"] or "").strip() != re.sub(r"\s+", " ", want_nd).strip():
        problems.append("abstract (.Nd) is %r, the command says %r" % (page["nd"], c["abstract"]))
    if problems: fail("%s: name and abstract" % where, "; ".join(problems))
    else: ok("%s: name and abstract" % where)

    # DESCRIPTION: the discussion text
    kept, moved = split_moved(text_paragraphs(c.get("discussion")))
    want_disc = norm_paragraphs(kept)
    if page["discussion"] != want_disc:
        fail("%s: discussion differs" % where, "man page: %r\n       command:  %r" % (page["discussion"][:300], want_disc[:300]))
    else:
        ok("%s: discussion" % where)
    # ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES: moved there from the discussion by man-tidy.sh
    for sec in sorted(set(MOVED_SECTIONS.values())):
        want, got = squash(moved.get(sec, "")), page["moved"].get(sec)
        if sec in moved:
            if got is None: fail("%s: no %s section (the command's discussion has one)" % (where, sec))
            elif section_text(got) != want:
                fail("%s: %s differs" % (where, sec), "man page: %r\n       command:  %r" % (section_text(got)[:200], want[:200]))
            else: ok("%s: %s" % (where, sec))
        elif got is not None and sec != "EXIT STATUS":
            fail("%s: has a %s section the command's discussion no longer has" % (where, sec))
        elif sec == "EXIT STATUS" and got is not None and any(l.startswith(".It") for l in got):
            fail("%s: lists exit codes the command's discussion no longer has" % where)

    # SYNOPSIS, line by line
    args = c.get("arguments") or []
    want_syn = []
    if c.get("subcommands"):
        want_syn += [".Oo", ".Ar subcommand", ".Oc"] if c.get("defaultSubcommand") else [".Ar subcommand"]
    want_syn += [synopsis_line(a) for a in args if a.get("shouldDisplay", True)]
    if page["synopsis"] != want_syn:
        missing = [l for l in want_syn if l not in page["synopsis"]]
        extra = [l for l in page["synopsis"] if l not in want_syn]
        fail("%s: synopsis differs" % where,
             "missing %s; stale %s%s" % (missing or "nothing", extra or "nothing",
                                          "" if missing or extra else "; order differs"))
    else:
        ok("%s: synopsis" % where)

    # Each option, flag and argument: present, same names and value name, same help text
    items = {item_key(t): (t, body) for t, body in page["items"]}
    seen = set()
    for a in args:
        if not a.get("shouldDisplay", True): continue
        key = arg_key(a); seen.add(key)
        what = "%s: %s" % (where, label(a))
        if key not in items:
            fail(what + " is missing from the man page"); continue
        t, body = items[key]
        problems = []
        if t != item_title(a):
            problems.append("listed as `.It %s`, expected `.It %s`" % (t, item_title(a)))
        got, want = page_paragraphs(body), expected_item_text(a)
        if got != want:
            problems.append("help text is %r, the command says %r" % (got, want))
        if problems: fail(what, "; ".join(problems))
        else: ok(what)
    for key, (t, _) in items.items():
        if key not in seen:
            fail("%s: documents `.It %s`, which the command no longer has" % (where, t))

    # SEE ALSO: the subcommands' pages
    want_see = sorted(".".join(list(supers) + [c["commandName"], s["commandName"]])
                      for s in (c.get("subcommands") or []) if not (not supers and s["commandName"] == "help"))
    if sorted(page["see_also"]) != want_see:
        fail("%s: SEE ALSO differs" % where, "missing %s; stale %s" % (
            [x for x in want_see if x not in page["see_also"]] or "nothing",
            [x for x in page["see_also"] if x not in want_see] or "nothing"))
    else:
        ok("%s: SEE ALSO" % where)

for path in sorted(glob.glob(os.path.join(man_dir, "*.1"))):
    f = os.path.basename(path)
    if f not in expected_pages:
        fail("%s: man page for a command that no longer exists" % f)

print("MAN %d %d" % (passed, failed))
PY
  grep -v '^MAN ' "$T/man.out"
  read -r _ p f < <(grep '^MAN ' "$T/man.out")
  PASSED=$((PASSED + ${p:-0})) FAILED=$((FAILED + ${f:-1}))
  [ "${f:-1}" = 0 ] && MAN_RESULT=ok
else
  not_ok "hark --experimental-dump-help failed: $(head -c 300 "$T/err")"
fi

# --- completions -----------------------------------------------------------------------------
COMP_RESULT=ok
for pair in bash:hark.bash zsh:_hark fish:hark.fish; do
  shell=${pair%%:*} file=${pair#*:}
  if ! "$HARK" --generate-completion-script "$shell" >"$T/$file" 2>"$T/err"; then
    not_ok "completions/$file: hark --generate-completion-script $shell failed: $(head -c 300 "$T/err")"
    COMP_RESULT=fail
  elif [ ! -f "$COMP_DIR/$file" ]; then
    not_ok "completions/$file is missing"; COMP_RESULT=fail
  elif cmp -s "$T/$file" "$COMP_DIR/$file"; then
    ok "completions/$file ($shell) matches the command tree"
  else
    not_ok "completions/$file ($shell) is stale"
    diff -u "$COMP_DIR/$file" "$T/$file" | sed -n '3,14p' | sed 's/^/       /'
    COMP_RESULT=fail
  fi
done

[ "$MAN_RESULT" = ok ] || echo "man pages are stale or incomplete: run \`make man\` and commit man/"
[ "$COMP_RESULT" = ok ] || echo "completions are stale: run \`make completions\` and commit completions/"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
