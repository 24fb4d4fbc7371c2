#!/usr/bin/env bash
# The hark command line as a script sees it: exit codes (sysexits, docs/CONTROL.md), stdin
# handling, error messages, quiet pipes. Real daemons on 127.0.0.1 only, without discovery.
# Ends with "N passed, M failed".
set -uo pipefail
TEST_NAME=cli
. "$(dirname "$0")/lib.sh"
OTHER_USER=""
cleanup_extra() { [ -n "$OTHER_USER" ] && userdel "$OTHER_USER" 2>/dev/null; }

# scripts/check-test-commands.sh: a command the tests call that is missing, or that no install
# step lists, fails it with the command named (simulated with a PATH of symlinks).
mkdir -p "$T/path"
for c in $("$ROOT/scripts/check-test-commands.sh" --list); do p=$(type -P "$c") && ln -sf "$p" "$T/path/$c"; done
expect 0 "check-test-commands passes with every listed command on PATH" env PATH="$T/path" "$ROOT/scripts/check-test-commands.sh"
rm -f "$T/path/nft"
expect 69 "check-test-commands fails when nft is missing" env PATH="$T/path" "$ROOT/scripts/check-test-commands.sh"
grep -q "nft (package nftables)" "$T/err" && ok "…and names nft with its package" || not_ok "missing nft not named: $(cat "$T/err")"
ln -sf "$(type -P nft)" "$T/path/nft"; printf '#!/bin/sh\n' >"$T/path/frobnicate"; chmod +x "$T/path/frobnicate"
printf 'set -e\nfrobnicate --now | grep x\n' >"$T/uses-frobnicate.sh"
expect 69 "check-test-commands fails on a command no install step lists" env PATH="$T/path" CHECK_COMMANDS_SCAN="$T/uses-frobnicate.sh" "$ROOT/scripts/check-test-commands.sh"
grep -q "frobnicate" "$T/err" && ok "…and names it" || not_ok "unlisted command not named: $(cat "$T/err")"

A="$T/a" B="$T/b"
expect 78 "a command on a home without identity says run init" env HARK_HOME="$A" "$HARK" id
grep -q "hark init" "$T/err" && ok "…and names the fix" || not_ok "no hint to run hark init: $(cat "$T/err")"
expect 0 "init creates an identity" env HARK_HOME="$A" "$HARK" init --name alice
expect 73 "init twice refuses to overwrite" env HARK_HOME="$A" "$HARK" init --name again
expect 64 "init with a display name over 64 bytes is a usage error" env HARK_HOME="$T/x" "$HARK" init --name "$(printf 'n%.0s' $(seq 70))"
expect 64 "init with a display name that is not UTF-8 is a usage error (not U+FFFD)" env HARK_HOME="$T/x" "$HARK" init --name "$(printf 'bad\xff')"
grep -q "not valid UTF-8" "$T/err" && [ ! -e "$T/x/identity.key" ] && ok "…says so and creates nothing" || not_ok "invalid UTF-8 name: $(cat "$T/err")"
[ "$(stat -c %a "$A")" = 700 ] && ok "home is mode 700" || not_ok "home mode $(stat -c %a "$A")"
[ "$(stat -c %a "$A/identity.key")" = 600 ] && [ "$(stat -c %a "$A/noise.key")" = 600 ] && ok "secret key files are mode 600" || not_ok "key modes wrong"
chmod 644 "$A/identity.key"
expect 77 "a group-readable identity key is refused" env HARK_HOME="$A" "$HARK" id
chmod 600 "$A/identity.key"
expect 0 "id prints the peer ID" env HARK_HOME="$A" "$HARK" id
grep -qE '^hk[a-z2-7]{52}$' "$T/out" && ok "peer ID is hk + 52 base32 characters" || not_ok "peer ID format: $(head -1 "$T/out")"

expect 67 "send with no daemon runs a short-lived node, which knows no group ops (67)" env HARK_HOME="$A" "$HARK" send ops hi --timeout 1s
[ ! -S "$A/control.sock" ] && ok "…and the short-lived node is gone afterwards" || not_ok "control socket left behind"
expect 67 "log with no daemon reads the store read-only, which holds no group ops (67)" env HARK_HOME="$A" "$HARK" log ops
expect 69 "log --ids with no daemon running exits 69" env HARK_HOME="$A" "$HARK" log ops --ids
grep -q "no hark daemon is running" "$T/err" && ok "…and says no daemon is running" || not_ok "unclear message: $(cat "$T/err")"
expect 66 "a read with no daemon and no store yet exits 66" env HARK_HOME="$B" sh -c '"$0" init --name b0 >/dev/null && "$0" group list' "$HARK"
rm -rf "$B"
expect 69 "status with no daemon running exits 69" env HARK_HOME="$A" "$HARK" status
# hark doctor: one JSON document; exit 69 when a check fails
doctor_check() {  # FILE NAME FIELD: a field of one check in a doctor --json report
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c={c["name"]: c for c in r["checks"]}[sys.argv[2]]; print(c.get(sys.argv[3]) or "")' "$@"
}
expect 69 "doctor with no daemon running exits 69" env HARK_HOME="$A" "$HARK" doctor --json
python3 -m json.tool "$T/out" >/dev/null && [ "$(wc -l <"$T/out")" = 1 ] && ok "doctor --json prints one valid JSON document" || not_ok "doctor --json: $(head -c 300 "$T/out")"
[ "$(doctor_check "$T/out" daemon status)" = fail ] && doctor_check "$T/out" daemon fix | grep -q "hark daemon" \
  && ok "…the daemon check fails and says to start hark daemon" || not_ok "daemon check: $(doctor_check "$T/out" daemon finding)"
[ "$(doctor_check "$T/out" home status)" = ok ] && ok "…the home check passes (0700, keys 0600)" || not_ok "home check: $(doctor_check "$T/out" home finding)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["ok"] is False and r["failed"] >= 1 and all(c["status"] in ("ok","warn","fail","skip") and c["finding"] for c in r["checks"]) else 1)' "$T/out" \
  && ok "…every check has a status and a finding; ok is false" || not_ok "doctor report shape: $(cat "$T/out")"
expect 69 "doctor on a home without identity exits 69" env HARK_HOME="$T/none" "$HARK" doctor
grep -q "^fail  home .*no hark" "$T/out" && grep -q "fix: .*hark init" "$T/out" && ok "…and says to run hark init" || not_ok "doctor text: $(cat "$T/out")"
chmod 755 "$A"
env HARK_HOME="$A" "$HARK" doctor --json >"$T/out" 2>/dev/null
[ "$(doctor_check "$T/out" home status)" = warn ] && doctor_check "$T/out" home fix | grep -q "chmod 700" && ok "doctor warns about a home readable by others, fix chmod 700" || not_ok "home 755: $(doctor_check "$T/out" home finding)"
chmod 700 "$A"

env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/a.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1 || { not_ok "daemon a did not start"; cat "$T/a.log"; }
expect 75 "a second daemon on the same home exits 75" env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1

# Another Unix user pointing at this home (a throwaway system user, removed at exit).
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v setpriv >/dev/null; then
  OTHER_USER=harkcli$$
  useradd --system --no-create-home --shell /usr/sbin/nologin "$OTHER_USER" || OTHER_USER=""
fi
if [ -n "$OTHER_USER" ]; then
  as_other() { setpriv --reuid "$OTHER_USER" --regid "$OTHER_USER" --clear-groups "$@"; }
  expect 77 "another user's hark log on this home: permission denied" as_other env HARK_HOME="$A" "$HARK" log ops
  grep -q "not accessible to this user" "$T/err" && ! grep -q "hark init" "$T/err" && ok "…says the home is not accessible, not that there is no identity" \
    || not_ok "unclear message: $(cat "$T/err")"
  chmod 711 "$T" "$A"
  expect 77 "another user's hark status on a home left 0711: permission denied, not 'no daemon'" as_other env HARK_HOME="$A" "$HARK" status
  grep -q "control socket .* is not accessible to this user" "$T/err" && ok "…says the control socket is not accessible" \
    || not_ok "unclear message: $(cat "$T/err")"
  expect 77 "another user's hark send on a home left 0711 exits 77 (no short-lived node)" as_other env HARK_HOME="$A" "$HARK" send ops hi --timeout 1s
  as_other env HARK_HOME="$A" "$HARK" doctor --json >"$T/out" 2>/dev/null
  doctor_check "$T/out" daemon finding | grep -q "not accessible to this user" && ok "…and hark doctor says the daemon's socket is not accessible, not that no daemon runs" \
    || not_ok "doctor daemon check: $(doctor_check "$T/out" daemon finding)"
  chmod 700 "$T" "$A"
  userdel "$OTHER_USER" && OTHER_USER=""
else
  echo "skip - another user's access to a home (needs root, useradd and setpriv)"
fi
PORT=$(env HARK_HOME="$A" "$HARK" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_port"])')
env HARK_HOME="$B" "$HARK" init --name bob >/dev/null
env HARK_HOME="$B" "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$PORT" 2>"$T/b.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$B" "$HARK" status >/dev/null 2>&1 || not_ok "daemon b did not start"

expect 64 "daemon with a malformed --peer is a usage error" env HARK_HOME="$T/x" "$HARK" daemon --peer nonsense
expect 67 "send to an unknown group exits 67" env HARK_HOME="$A" "$HARK" send nosuchgroup hi
expect 0 "group create" env HARK_HOME="$A" "$HARK" group create ops
expect 65 "join with a garbage token exits 65" env HARK_HOME="$B" "$HARK" group join hark1notatoken
expect 65 "join with a token that is not hark's exits 65" env HARK_HOME="$B" "$HARK" group join "$(printf 'notatoken%.0s' $(seq 10))"
grep -q "not a hark invite token" "$T/err" && ok "…and says it is not a hark invite token" || not_ok "message: $(cat "$T/err")"
expect 67 "join by a name no connected node administers exits 67" env HARK_HOME="$B" "$HARK" group join nosuchgroup --timeout 10s
TOKEN=$(env HARK_HOME="$A" "$HARK" group invite ops)
expect 0 "join with the invite token" env HARK_HOME="$B" "$HARK" group join "$TOKEN"
expect 65 "joining the same group again exits 65" env HARK_HOME="$B" "$HARK" group join "$TOKEN"
expect 65 "joining a group by name when already a member exits 65" env HARK_HOME="$B" "$HARK" group join ops@alice
expect 65 "group remove of this node itself is refused" env HARK_HOME="$A" "$HARK" group remove ops alice
grep -q "group leave ops" "$T/err" && ok "…and points to group leave" || not_ok "self-remove message: $(cat "$T/err")"
Y="$T/y"; env HARK_HOME="$Y" "$HARK" init --name yves >/dev/null
env HARK_HOME="$Y" "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$PORT" 2>"$T/y.log" & YPID=$!
wait_until 10 env HARK_HOME="$Y" "$HARK" status >/dev/null 2>&1
expect 65 "a used single-use invite is refused by the admin" env HARK_HOME="$Y" "$HARK" group join "$TOKEN"
grep -q "already used" "$T/err" && ok "…and says it was already used" || not_ok "refusal message: $(cat "$T/err")"
wait_until 3 grep -q "invite redeem refused" "$T/a.log"
grep "invite redeem refused" "$T/a.log" | grep -q "already used" && ok "…and the admin's daemon logs the refusal with its reason" \
  || not_ok "no refusal in the admin's log: $(grep -i redeem "$T/a.log" | tail -3)"
expect 65 "an expired invite is refused at once" env HARK_HOME="$Y" "$HARK" group join "$(env HARK_HOME="$A" "$HARK" group invite ops --expires 1s; sleep 1.2)"
grep -q "expired" "$T/err" && ok "…and says it expired" || not_ok "expiry message: $(cat "$T/err")"
kill "$YPID"; wait "$YPID" 2>/dev/null
# carol joins now, then goes offline; later she gets the rest by import (below).
C="$T/c"; env HARK_HOME="$C" "$HARK" init --name carol >/dev/null
env HARK_HOME="$C" "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$PORT" 2>"$T/c1.log" & CPID=$!
wait_until 10 env HARK_HOME="$C" "$HARK" status >/dev/null 2>&1
expect 0 "carol joins with her own invite while alice is online" env HARK_HOME="$C" "$HARK" group join "$(env HARK_HOME="$A" "$HARK" group invite ops --for carol 2>/dev/null || env HARK_HOME="$A" "$HARK" group invite ops)"
carol_joined() { env HARK_HOME="$C" "$HARK" log ops --ids 2>/dev/null | wc -l | grep -qv '^[012]$'; }
wait_until 10 carol_joined
kill "$CPID"; wait "$CPID" 2>/dev/null
expect 65 "an empty message exits 65" env HARK_HOME="$A" "$HARK" send ops ""
printf '\xff\xfe not utf8' >"$T/bad"
expect 65 "stdin that is not UTF-8 exits 65" sh -c "HARK_HOME='$A' '$HARK' send ops <'$T/bad'"
head -c 60001 /dev/zero | tr '\0' 'x' >"$T/big"
expect 65 "a message over 60000 bytes exits 65" sh -c "HARK_HOME='$A' '$HARK' send ops <'$T/big'"
expect 66 "send with standard input closed and no text exits 66" sh -c "HARK_HOME='$A' '$HARK' send ops <&-"
grep -q "standard input is closed" "$T/err" && grep -q "as an argument" "$T/err" && ok "…and says stdin is closed and the text can be an argument" || not_ok "closed stdin: $(cat "$T/err")"
expect 0 "send with text as argument" env HARK_HOME="$A" "$HARK" send ops "first"
expect 0 "send from stdin" sh -c "echo 'second; rm -rf / \$(id)' | HARK_HOME='$A' '$HARK' send ops"
expect 0 "send with - reads stdin" sh -c "printf 'third' | HARK_HOME='$A' '$HARK' send ops -"
logged() { [ "$(env HARK_HOME="$B" "$HARK" log ops --json 2>/dev/null | wc -l)" = 3 ]; }
wait_until 10 logged && ok "all three messages reached the other node" || not_ok "messages missing on b: $(env HARK_HOME="$B" "$HARK" log ops 2>&1)"
env HARK_HOME="$B" "$HARK" log ops --json | python3 -c '
import json, sys
texts = [json.loads(l)["text"] for l in sys.stdin]
sys.exit(0 if texts == ["first", "second; rm -rf / $(id)", "third"] else 1)' && ok "texts arrive byte for byte, stdin's trailing newline dropped" || not_ok "texts differ"

# `hark` is a small client: it sends `hark send GROUP TEXT` to a running daemon itself and execs
# hark-node (installed beside it) for everything else, with the same exit codes.
mkdir -p "$T/client"; cp "$HARK" "$T/client/hark"
env HARK_HOME="$A" "$HARK" group create clientg >/dev/null
expect 0 "the hark client alone (no hark-node beside it) sends to a running daemon" env HARK_HOME="$A" "$T/client/hark" send clientg "client only"
[ "$(env HARK_HOME="$A" "$HARK" log clientg --json | python3 -c 'import json,sys; print([json.loads(l)["text"] for l in sys.stdin])')" = "['client only']" ] \
  && ok "…and the message is stored once" || not_ok "client send: $(env HARK_HOME="$A" "$HARK" log clientg 2>&1)"
expect 67 "…a daemon's refusal keeps its exit code (unknown group, 67)" env HARK_HOME="$A" "$T/client/hark" send nosuchgroup "x"
expect 69 "…any other command without hark-node beside it exits 69" env HARK_HOME="$A" "$T/client/hark" status
grep -q "cannot run .*hark-node" "$T/err" && ok "…and names hark-node" || not_ok "no hark-node: $(cat "$T/err")"
# Its start-up is what every `hark send` pays: a static executable (no program interpreter, so no
# shared libraries to load and relocate) without NIO (Package.swift; scripts/bench.sh measures it).
python3 - "$HARK" <<'PY' && ok "the hark client is a static executable without NIO" || not_ok "the hark client links dynamically or links NIO"
import struct, sys
b = open(sys.argv[1], "rb").read()
phoff, = struct.unpack_from("<Q", b, 0x20); phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
interp = any(struct.unpack_from("<I", b, phoff + i * phentsize)[0] == 3 for i in range(phnum))   # PT_INTERP
sys.exit(1 if interp or b"NIOPosix" in b or b"NIOCore" in b else 0)
PY
[ "$(cat "/proc/${PIDS[0]}/comm" 2>/dev/null)" = hark ] && ok "the daemon hark exec'd as hark-node still shows as hark (same PID, comm)" \
  || not_ok "daemon process: pid ${PIDS[0]} comm $(cat "/proc/${PIDS[0]}/comm" 2>&1)"
env HARK_HOME="$A" "$HARK" send ops $'evil \e[2J\u202e text' >/dev/null
wait_until 5 sh -c "HARK_HOME='$B' '$HARK' log ops | grep -q evil"
env HARK_HOME="$B" "$HARK" log ops | grep evil | grep -q $'\e' && not_ok "escape sequence reached the terminal" || ok "control and bidi characters are neutralised in text output"
# edits, deletes, reactions
ids=$(env HARK_HOME="$A" "$HARK" log ops --json | python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')
set -- $ids; FIRST=$1; SECOND=$2; THIRD=$3
expect 0 "edit a message" env HARK_HOME="$A" "$HARK" edit ops "${FIRST:0:12}" "first, corrected"
expect 0 "delete a message" env HARK_HOME="$A" "$HARK" delete ops "$THIRD"
expect 0 "react to a message" env HARK_HOME="$B" "$HARK" react ops "$SECOND" "👍"
expect 65 "editing someone else's message is refused" env HARK_HOME="$B" "$HARK" edit ops "$FIRST" "hijack"
expect 67 "editing an unknown message exits 67" env HARK_HOME="$A" "$HARK" edit ops 0123456789abcdef "x"
state_ok() {
  env HARK_HOME="$1" "$HARK" log ops --json | python3 -c '
import json, sys
m = {x["id"]: x for x in map(json.loads, sys.stdin)}
first, second, third = sys.argv[1:4]
ok = (m[first]["text"] == "first, corrected" and m[first]["edited"] and third not in m
      and [r["emoji"] for r in m[second]["reactions"]] == ["👍"])
sys.exit(0 if ok else 1)' "$FIRST" "$SECOND" "$THIRD"
}
wait_until 10 state_ok "$B" && ok "the other node shows the edit, hides the deleted message, and counts the reaction" || not_ok "visible state on b: $(env HARK_HOME="$B" "$HARK" log ops --json)"
wait_until 10 state_ok "$A" && ok "the author's node shows the same state" || not_ok "visible state on a"
purged() { env HARK_HOME="$1" "$HARK" export ops | python3 -c '
import json, sys
ev = {e["id"]: e for e in map(json.loads, sys.stdin)}
sys.exit(0 if ev[sys.argv[1]]["has_body"] is False and ev[sys.argv[2]]["has_body"] else 1)' "$THIRD" "$SECOND"; }
wait_until 10 purged "$B" && ok "the deleted message's body is purged on the other node" || not_ok "body not purged on b"
expect 0 "hark audit passes after edits, deletes and purges" env HARK_HOME="$B" "$HARK" audit
expect 67 "editing a deleted message exits 67 and writes nothing" env HARK_HOME="$A" "$HARK" edit ops "$THIRD" "again"
expect 67 "deleting it twice exits 67" env HARK_HOME="$A" "$HARK" delete ops "$THIRD"
expect 67 "reacting to it exits 67" env HARK_HOME="$B" "$HARK" react ops "$THIRD" "👍"
expect 0 "react --remove withdraws the reaction" env HARK_HOME="$B" "$HARK" react ops "$SECOND" "👍" --remove
unreacted() { env HARK_HOME="$A" "$HARK" log ops --json | grep "$SECOND" | grep -q '"reactions":\[\]'; }
wait_until 10 unreacted && ok "…on both nodes" || not_ok "reaction still shown on a"
expect 0 "log --ids lists every event" env HARK_HOME="$A" "$HARK" log ops --ids
[ "$(wc -l <"$T/out")" -ge 8 ] && ok "…genesis, join, messages, edit, delete and reactions" || not_ok "log --ids: $(wc -l <"$T/out") lines"
expect 0 "log --graph draws the graph" env HARK_HOME="$A" "$HARK" log ops --graph
grep -q "genesis" "$T/out" && ok "…down to the genesis" || not_ok "graph: $(cat "$T/out")"
env HARK_HOME="$A" "$HARK" export ops >"$T/export.jsonl"
env HARK_HOME="$C" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/c.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$C" "$HARK" status >/dev/null 2>&1
expect 0 "import the exported history into a node with no peers" env HARK_HOME="$C" "$HARK" import "$T/export.jsonl"
imported_ok() {
  env HARK_HOME="$C" "$HARK" log ops --json | python3 -c '
import json, sys
m = {x["id"]: x for x in map(json.loads, sys.stdin)}
first, third = sys.argv[1:3]
sys.exit(0 if m[first]["text"] == "first, corrected" and third not in m else 1)' "$FIRST" "$THIRD"
}
imported_ok && ok "the imported history shows the same state (edit applied, deleted message hidden)" || not_ok "state after import: $(env HARK_HOME="$C" "$HARK" log ops --json)"
sed 's/"signed":"C/"signed":"D/' "$T/export.jsonl" >"$T/tampered.jsonl"
expect 65 "importing tampered events exits 65" env HARK_HOME="$C" "$HARK" import "$T/tampered.jsonl"

expect 0 "log --limit 1" env HARK_HOME="$B" "$HARK" log ops --limit 1
[ "$(wc -l <"$T/out")" = 1 ] && ok "…prints one line" || not_ok "log --limit 1 printed $(wc -l <"$T/out") lines"
expect 0 "log piped into head exits quietly" sh -c "HARK_HOME='$B' '$HARK' log ops | head -1 >/dev/null; exit \${PIPESTATUS:-0}"
[ ! -s "$T/err" ] && ok "…with nothing on stderr" || not_ok "stderr: $(cat "$T/err")"
env HARK_HOME="$A" "$HARK" doctor --json >"$T/out" 2>"$T/err"
python3 -m json.tool "$T/out" >/dev/null && [ "$(doctor_check "$T/out" daemon status)" = ok ] && ok "doctor with a daemon: the daemon check passes" || not_ok "doctor with a daemon: $(head -c 300 "$T/out") $(head -c 300 "$T/err")"
[ "$(doctor_check "$T/out" discovery status)" = warn ] && ok "…and warns that the daemon runs with --no-discovery" || not_ok "discovery check: $(doctor_check "$T/out" discovery finding)"
[ "$(doctor_check "$T/out" peers status)" = warn ] && ok "…and warns (does not fail) about offline carol while bob is connected" || not_ok "peers check: $(doctor_check "$T/out" peers status) $(doctor_check "$T/out" peers finding)"
# An unscoped link-local --peer: the kernel refuses to connect (EINVAL) without sending anything.
D="$T/d"; env HARK_HOME="$D" "$HARK" init --name dave >/dev/null
env HARK_HOME="$D" "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer '[fe80::1]:7411' 2>"$T/d.log" & PIDS+=($!); DPID=$!
wait_until 10 env HARK_HOME="$D" "$HARK" status >/dev/null 2>&1
expect 69 "doctor with a link-local --peer without a scope exits 69" env HARK_HOME="$D" "$HARK" doctor --json
[ "$(doctor_check "$T/out" link-local status)" = fail ] && doctor_check "$T/out" link-local fix | grep -q "fe80::1%" \
  && ok "…the link-local check fails and shows the address with a scope" || not_ok "link-local check: $(doctor_check "$T/out" link-local finding)"
kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
expect 0 "peers --json" env HARK_HOME="$A" "$HARK" peers --json
python3 -c 'import json,sys; p=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if p and p[0]["connected"] and p[0]["display_name"]=="bob" else 1)' "$T/out" \
  && ok "peers --json lists bob as connected" || not_ok "peers --json: $(cat "$T/out")"
expect 0 "group list" env HARK_HOME="$B" "$HARK" group list --json
grep -q '"name":"ops"' "$T/out" && ok "group list shows ops" || not_ok "group list: $(cat "$T/out")"
echo '{"id":1,"method":"nope","params":{}}' >"$T/req"
python3 - "$A/control.sock" "$T/req" <<'PY' && ok "control socket answers an unknown method with unknown_method" || not_ok "control socket reply wrong"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(open(sys.argv[2], "rb").read() + b"not json\n")
f = s.makefile()
a, b = json.loads(f.readline()), json.loads(f.readline())
sys.exit(0 if a["error"]["code"] == "unknown_method" and b["error"]["code"] == "bad_request" else 1)
PY
python3 - "$A/control.sock" <<'PY' && ok "a client that half-closes after its request still gets the answer (echo … | socat)" || not_ok "no answer after half-close"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"id":7,"method":"status","params":{}}\n'); s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
sys.exit(0 if json.loads(data.splitlines()[0])["id"] == 7 else 1)
PY
python3 - "$A/control.sock" <<'PY' && ok "an open watch stream carries a keepalive line about every second (CONTROL.md)" || not_ok "no keepalive on an open stream"
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b'{"id":1,"method":"watch","params":{}}\n')
f = s.makefile(); end = time.time() + 3.5; kinds = []
while time.time() < end:
    kinds.append(json.loads(f.readline()).get("event", "response"))
sys.exit(0 if kinds[0] == "response" and 2 <= kinds.count("keepalive") <= 4 else 1)
PY
# Real-time verbs: usage errors and what needs a terminal.
expect 64 "send --of 0 is a usage error" env HARK_HOME="$A" "$HARK" send ops hi --wait delivered --of 0
expect 64 "send --timeout that is not a duration is a usage error" env HARK_HOME="$A" "$HARK" send ops hi --wait read --timeout soon
expect 64 "send --wait with an unknown state is a usage error" env HARK_HOME="$A" "$HARK" send ops hi --wait eventually
expect 0 "send --wait delivered --of 1 reaches bob over loopback" env HARK_HOME="$A" "$HARK" send ops "wait for bob" --wait delivered --of 1 --timeout 10s
expect 75 "send --wait delivered (all) times out while carol is offline" env HARK_HOME="$A" "$HARK" send ops "carol is away" --wait delivered --timeout 1s
expect 64 "chat without a terminal refuses" sh -c "HARK_HOME='$A' '$HARK' chat ops </dev/null"
grep -q "needs a terminal" "$T/err" && ok "…and says it needs a terminal" || not_ok "chat message: $(cat "$T/err")"
expect 64 "presence with an unknown state is a usage error" env HARK_HOME="$A" "$HARK" presence busy
expect 0 "presence away with a status" env HARK_HOME="$A" "$HARK" presence away --status "in a meeting"
[ "$(env HARK_HOME="$A" "$HARK" presence)" = away ] && ok "presence shows away" || not_ok "presence: $(env HARK_HOME="$A" "$HARK" presence)"
expect 64 "watch --exec-timeout that is not a duration is a usage error" env HARK_HOME="$A" "$HARK" watch --exec true --exec-timeout forever
expect 0 "read writes a read marker" env HARK_HOME="$B" "$HARK" read ops --json
for verb in status peers "group list" "log ops" "read ops" presence; do
  env HARK_HOME="$A" "$HARK" $verb --json 2>/dev/null | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' \
    && ok "$verb --json prints JSON lines" || not_ok "$verb --json is not JSON"
done
# Trust and key storage: verify PEER, passphrase, key backup.
expect 0 "verify PEER by display name shows a safety number" env HARK_HOME="$A" "$HARK" verify bob
grep -qE '^  [0-9]{5} [0-9]{5} [0-9]{5} [0-9]{5}$' "$T/out" && [ "$(grep -cE '^  [0-9]{5}( [0-9]{5}){3}$' "$T/out")" = 3 ] \
  && ok "…as 12 groups of 5 digits" || not_ok "safety number output: $(cat "$T/out")"
SN_A=$(env HARK_HOME="$A" "$HARK" verify bob --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["safety_number"])')
SN_B=$(env HARK_HOME="$B" "$HARK" verify alice --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["safety_number"])')
[ -n "$SN_A" ] && [ "$SN_A" = "$SN_B" ] && ok "both sides compute the same safety number" || not_ok "safety numbers differ: $SN_A / $SN_B"
BOB_FP=$(env HARK_HOME="$B" "$HARK" id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
expect 0 "verify PEER by fingerprint prefix" env HARK_HOME="$A" "$HARK" verify "${BOB_FP:0:9}"
expect 67 "verify of an unknown peer exits 67" env HARK_HOME="$A" "$HARK" verify nobody-here
expect 64 "pair without a terminal and without --yes/--code exits 64" sh -c "HARK_HOME='$A' '$HARK' pair bob </dev/null"
expect 65 "pair --code with a wrong code exits 65 (not verified)" env HARK_HOME="$A" "$HARK" pair bob --code 000000x --timeout 10s
env HARK_HOME="$A" "$HARK" peers --json | python3 -c 'import json,sys; sys.exit(0 if not any(json.loads(l)["verified"] for l in sys.stdin) else 1)' \
  && ok "…and bob is not verified" || not_ok "bob verified after a wrong code"
printf 'correct horse battery\n' >"$T/pw"; printf 'wrong horse\n' >"$T/badpw"; : >"$T/emptypw"
P="$T/p"
expect 64 "init --passphrase without a terminal or a file exits 64" sh -c "HARK_HOME='$P' '$HARK' init --name pat --passphrase </dev/null"
[ ! -e "$P/identity.key" ] && ok "…and creates no identity" || not_ok "identity created without a passphrase"
expect 64 "init --passphrase-file with an empty first line exits 64" env HARK_HOME="$P" "$HARK" init --name pat --passphrase-file "$T/emptypw"
expect 0 "init --passphrase-file seals the keys" env HARK_HOME="$P" "$HARK" init --name pat --passphrase-file "$T/pw"
[ "$(head -c 8 "$P/identity.key")" = HARKSEAL ] && [ "$(head -c 8 "$P/noise.key")" = HARKSEAL ] && ok "identity.key and noise.key start with HARKSEAL" || not_ok "key files not sealed"
modes=$(stat -c '%a' "$P" "$P/identity.key" "$P/noise.key" "$P/identity.pub" "$P/profile.json" | tr '\n' ' ')
[ "$modes" = "700 600 600 600 600 " ] && ok "encrypted home 0700, every file in it 0600" || not_ok "modes: $modes"
expect 0 "id works on an encrypted home without the passphrase" env HARK_HOME="$P" "$HARK" id
env HARK_HOME="$P" "$HARK" daemon --no-discovery --listen 127.0.0.1 --passphrase-file "$T/pw" 2>"$T/p.log" & PPID_=$!
wait_until 15 env HARK_HOME="$P" "$HARK" status >/dev/null 2>&1 && ok "the daemon unlocks with --passphrase-file" || not_ok "daemon with passphrase did not start: $(tail -3 "$T/p.log")"
env HARK_HOME="$P" "$HARK" group create vault >/dev/null
kill -TERM "$PPID_"; wait "$PPID_" 2>/dev/null
grep -q "correct horse" "$T/p.log" && not_ok "the passphrase appears in the daemon log" || ok "the passphrase never appears in the log"
sum_before=$(sha256sum "$P/hark.sqlite" | cut -d' ' -f1); mtime_before=$(stat -c %Y.%y "$P/hark.sqlite"); ls_before=$(ls "$P")
expect 77 "a wrong passphrase exits 77" env HARK_HOME="$P" "$HARK" daemon --no-discovery --listen 127.0.0.1 --passphrase-file "$T/badpw"
grep -q "wrong passphrase" "$T/err" && ok "…and says so" || not_ok "message: $(cat "$T/err")"
[ "$(sha256sum "$P/hark.sqlite" | cut -d' ' -f1)" = "$sum_before" ] && [ "$(stat -c %Y.%y "$P/hark.sqlite")" = "$mtime_before" ] && [ "$(ls "$P")" = "$ls_before" ] \
  && ok "…and leaves the store untouched (bytes, mtime, no new files)" || not_ok "store changed after a wrong passphrase"
expect 77 "a daemon on an encrypted home without a terminal or a file exits 77" sh -c "HARK_HOME='$P' '$HARK' daemon --no-discovery --listen 127.0.0.1 </dev/null"
expect 77 "send without a daemon on an encrypted home, no --passphrase-file, exits 77" sh -c "HARK_HOME='$P' '$HARK' send vault hi --timeout 1s </dev/null"
grep -q "passphrase-file" "$T/err" && ok "…and names --passphrase-file" || not_ok "message: $(cat "$T/err")"
expect 69 "a read without a daemon on an encrypted home exits 69 (its keys need the daemon)" env HARK_HOME="$P" "$HARK" group list
grep -q "keys are encrypted" "$T/err" && ok "…and says why" || not_ok "encrypted-home read message: $(cat "$T/err")"
expect 0 "send --passphrase-file without a daemon unlocks and runs a short-lived node" env HARK_HOME="$P" "$HARK" send vault hi --timeout 1s --passphrase-file "$T/pw"
expect 0 "key export writes an encrypted backup" env HARK_HOME="$P" "$HARK" key export --out "$T/p.backup" --passphrase-file "$T/pw"
[ "$(stat -c %a "$T/p.backup")" = 600 ] && [ "$(head -c 8 "$T/p.backup")" = HARKSEAL ] && ok "…mode 0600, sealed" || not_ok "backup mode/format"
grep -q "one identity on one device" "$T/err" && ok "…with the warning about one identity on two devices" || not_ok "no fork warning: $(cat "$T/err")"
expect 73 "key export refuses to overwrite" env HARK_HOME="$P" "$HARK" key export --out "$T/p.backup" --passphrase-file "$T/pw"
expect 77 "key export with a wrong passphrase exits 77" env HARK_HOME="$P" "$HARK" key export --out "$T/p2.backup" --passphrase-file "$T/badpw"
expect 77 "key import with a wrong passphrase exits 77" env HARK_HOME="$T/q" "$HARK" key import "$T/p.backup" --passphrase-file "$T/badpw"
[ ! -e "$T/q/identity.key" ] && ok "…and writes nothing" || not_ok "identity written after a wrong passphrase"
expect 0 "key import restores into an empty home" env HARK_HOME="$T/q" "$HARK" key import "$T/p.backup" --passphrase-file "$T/pw"
[ "$(env HARK_HOME="$T/q" "$HARK" id)" = "$(env HARK_HOME="$P" "$HARK" id)" ] && ok "…the same identity (round trip)" || not_ok "restored identity differs"
[ "$(stat -c %a "$T/q" "$T/q/identity.key" "$T/q/noise.key" | tr '\n' ' ')" = "700 600 600 " ] && ok "…home 0700, keys 0600" || not_ok "restored modes"
expect 73 "key import into a home with an identity exits 73" env HARK_HOME="$T/q" "$HARK" key import "$T/p.backup" --passphrase-file "$T/pw"
expect 0 "key import --passphrase keeps the keys encrypted" env HARK_HOME="$T/r" "$HARK" key import "$T/p.backup" --passphrase-file "$T/pw" --passphrase
[ "$(head -c 8 "$T/r/identity.key")" = HARKSEAL ] && ok "…sealed on disk" || not_ok "restored keys not sealed"
# file sharing verbs (the transfers themselves: tests/lab/files.sh)
echo "shared text" >"$T/shared.txt"; mkdir -p "$T/inbox"
expect 67 "share to @PEER without a direct conversation exits 67" env HARK_HOME="$A" "$HARK" share "$T/shared.txt" @bob
grep -q "hark send @bob" "$T/err" && ok "…and says how to start one" || not_ok "share @PEER message: $(cat "$T/err")"
expect 64 "share with both -g and @PEER is a usage error" env HARK_HOME="$A" "$HARK" share "$T/shared.txt" @bob -g ops
expect 65 "share of a path that does not exist exits 65 or 74" sh -c 'env HARK_HOME="$1" "$2" share "$3/missing" -g ops; c=$?; [ $c = 74 ] && exit 65; exit $c' _ "$A" "$HARK" "$T"
mkdir -p "$T/twins" "$T/withempty/empty" "$T/withempty/full"; echo a >"$T/twins/$(printf 'caf\xc3\xa9')"; echo b >"$T/twins/$(printf 'cafe\xcc\x81')"
echo c >"$T/withempty/full/f.txt"
expect 65 "share of a folder with NFC and NFD twins exits 65" env HARK_HOME="$A" "$HARK" share "$T/twins" -g ops
grep -q "same name after Unicode normalisation" "$T/err" && grep -q "c3 a9" "$T/err" && grep -q "65 cc 81" "$T/err" \
  && ok "…says names are compared after Unicode normalisation and names both entries" || not_ok "twins message: $(cat "$T/err")"
expect 0 "share of a folder holding an empty folder" env HARK_HOME="$A" "$HARK" share "$T/withempty" -g ops
grep -q "skipped .*withempty/empty: empty folder" "$T/err" && ok "…says on stderr that the empty folder is skipped" || not_ok "empty folder: $(cat "$T/err")"
expect 0 "share a file" env HARK_HOME="$A" "$HARK" share "$T/shared.txt" -g ops
FID=$(cat "$T/out")
[ ${#FID} = 64 ] && ok "share prints the 64-digit file ID" || not_ok "share printed '$FID'"
expect 67 "fetch of an unknown file ID exits 67" env HARK_HOME="$B" "$HARK" fetch 0123456789abcdef -o "$T/inbox"
expect 73 "fetch -o naming a file, not a folder, exits 73" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/shared.txt"
grep -q "not a folder" "$T/err" && ok "…and says so" || not_ok "message: $(cat "$T/err")"
wait_until 10 sh -c 'env HARK_HOME="$1" "$2" files --json | grep -q "$3"' _ "$B" "$HARK" "$FID" && ok "the offer reaches the other daemon" || not_ok "offer not listed on b"
expect 0 "fetch into a folder exits 0, silently in a pipe" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox"
[ ! -s "$T/out" ] && cmp -s "$T/shared.txt" "$T/inbox/shared.txt" && ok "…prints nothing and the file is identical" || not_ok "fetch output '$(cat "$T/out")'"
expect 73 "fetch over an existing file exits 73 without --force" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox"
expect 64 "fetch --limit-rate that is not a rate is a usage error" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox" --limit-rate fast
grep -q -- "--limit-rate fast is not a rate" "$T/err" && ok "…and says what a rate looks like" || not_ok "limit-rate message: $(cat "$T/err")"
expect 64 "fetch --limit-rate 0 is a usage error" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox" --limit-rate 0
expect 64 "fetch --limit-rate below 64K (one chunk a second) is a usage error" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox" --limit-rate 1000
mkdir -p "$T/inbox2"
expect 0 "fetch --limit-rate 1MiB of a small file exits 0" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox2" --limit-rate 1MiB
cmp -s "$T/shared.txt" "$T/inbox2/shared.txt" && ok "…and the file is identical" || not_ok "rate-limited fetch differs"
status_files() { env HARK_HOME="$1" "$HARK" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][sys.argv[1]])' "$2"; }
holders_of() { env HARK_HOME="$1" "$HARK" files --json | python3 -c 'import json,sys
for l in sys.stdin:
    o = json.loads(l)
    if o["file_id"] == sys.argv[1]: print(o["holders"])' "$2"; }
rh0=$(status_files "$A" chunks_rehashed)
mkdir -p "$T/inbox3"; touch -d "2020-01-02 03:04:05" "$T/shared.txt"   # same bytes, new mtime: served after a re-hash
expect 0 "fetch of a touched source (same bytes) exits 0" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox3"
rh1=$(status_files "$A" chunks_rehashed)
[ $((rh1 - rh0)) -ge 1 ] && ok "…and the sender counts the re-hashed chunk in chunks_rehashed ($rh0 → $rh1)" || not_ok "chunks_rehashed stayed $rh0 → $rh1"

echo "soon deleted" >"$T/gone.txt"
GONE=$(env HARK_HOME="$A" "$HARK" share "$T/gone.txt" -g ops)
wait_until 10 sh -c '[ "$(holders_of "$1" "$2")" = 1 ]' _ "$B" "$GONE" 2>/dev/null
[ "$(holders_of "$B" "$GONE")" = 1 ] && ok "hark files on b counts the sender as a holder" || not_ok "holders before delete: $(holders_of "$B" "$GONE")"
rm -f "$T/gone.txt"
[ "$(holders_of "$B" "$GONE")" = 0 ] && ok "…and no holder once the sender deleted the source" || not_ok "a deleted source is still held by $(holders_of "$B" "$GONE")"

head -c 3145728 /dev/urandom >"$T/stale.bin"
STALE=$(env HARK_HOME="$A" "$HARK" share "$T/stale.bin" -g ops)
wait_until 10 sh -c 'env HARK_HOME="$1" "$2" files --json | grep -q "$3"' _ "$B" "$HARK" "$STALE"
mkdir -p "$T/inbox4"
timeout 3 env HARK_HOME="$B" "$HARK" fetch "$STALE" -o "$T/inbox4" --limit-rate 128K >/dev/null 2>&1
wait_until 5 sh -c '[ -n "$(find "$1" -name "*.part")" ]' _ "$T/inbox4"
[ -n "$(find "$T/inbox4" -name '*.part')" ] && ok "an interrupted fetch leaves a partial download to resume" || not_ok "no partial download staged"
head -c 3145728 /dev/urandom >"$T/stale.bin"   # the source changes: no resume can finish
expect 65 "resuming a fetch whose source changed exits 65" env HARK_HOME="$B" "$HARK" fetch "$STALE" -o "$T/inbox4" --timeout 5s
grep -q "partial download was removed" "$T/err" && ok "…says the partial download was removed" || not_ok "message: $(cat "$T/err")"
[ -z "$(find "$T/inbox4" -name '*.part' -o -name '*.bitmap' 2>/dev/null)" ] && [ ! -e "$T/inbox4/.hark-partial" ] \
  && ok "…and no part file or staging folder is left" || not_ok "left behind: $(find "$T/inbox4" | head -5)"
# A daemon that stops answering (SIGSTOP on a daemon this test started, by PID): every command is
# bounded and exits 69 with a clear message; open streams notice through the missing keepalives.
S="$T/s"; env HARK_HOME="$S" "$HARK" init --name stan >/dev/null
env HARK_HOME="$S" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/s.log" & SPID=$!
wait_until 10 env HARK_HOME="$S" "$HARK" status >/dev/null 2>&1 || not_ok "daemon s did not start"
env HARK_HOME="$S" "$HARK" group create sg >/dev/null
env HARK_HOME="$S" timeout 30 "$HARK" watch --json >"$T/s.watch" 2>"$T/s.watch.err" & SWATCH=$!
env HARK_HOME="$S" timeout 30 "$HARK" log sg --follow --json >"$T/s.follow" 2>"$T/s.follow.err" & SFOLLOW=$!
sleep 1.5   # both streams open (the stop must come after their subscriptions)
kill -STOP "$SPID"
t0=$(date +%s%N)
expect 69 "status on a stopped daemon exits 69 instead of hanging" env HARK_HOME="$S" timeout 30 "$HARK" status
t1=$(date +%s%N)
grep -q "did not answer within" "$T/err" && ok "…and says the daemon did not answer" || not_ok "stopped-daemon message: $(cat "$T/err")"
[ $(( (t1 - t0) / 1000000 )) -lt 15000 ] && ok "…within the bound ($(( (t1 - t0) / 1000000 )) ms)" || not_ok "status took $(( (t1 - t0) / 1000000 )) ms"
expect 69 "send on a stopped daemon honours --timeout and exits 69" env HARK_HOME="$S" timeout 30 "$HARK" send sg "x" --timeout 1s
expect 69 "send on the fast path (no options) exits 69" env HARK_HOME="$S" timeout 30 "$HARK" send sg "x"
wait "$SWATCH"; code=$?
[ "$code" = 69 ] && ok "watch notices the stopped daemon through the missing keepalives (exit 69)" || not_ok "watch exit $code: $(cat "$T/s.watch.err")"
wait "$SFOLLOW"; code=$?
[ "$code" = 69 ] && ok "log --follow notices it too (exit 69)" || not_ok "log --follow exit $code: $(cat "$T/s.follow.err")"
! grep -q keepalive "$T/s.watch" "$T/s.follow" && ok "…and never prints a keepalive" || not_ok "keepalive leaked into the output"
kill -CONT "$SPID"
expect 0 "after SIGCONT the daemon answers again" env HARK_HOME="$S" timeout 30 "$HARK" status
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
# A home of its own (the lock comes before the port: on C, whose daemon holds that port, the
# answer is 75, the home in use).
env HARK_HOME="$T/porttaken" "$HARK" init --name porttaken >/dev/null 2>&1
expect 71 "a daemon whose port is taken exits 71" env HARK_HOME="$T/porttaken" timeout 30 "$HARK" daemon --no-discovery --listen 127.0.0.1 --port "$PORT"
expect 75 "…and a second daemon on a home in use exits 75 before it tries the port" env HARK_HOME="$C" timeout 30 "$HARK" daemon --no-discovery --listen 127.0.0.1 --port "$PORT"
contains "in use by a hark daemon" "$T/err" && ok "…and says what holds the home" || not_ok "home-in-use message: $(cat "$T/err")"
expect 64 "--listen that is not an address is a usage error" env HARK_HOME="$T/x" "$HARK" daemon --listen 999.1.1.1
# Reads without a daemon: the store opened read-only prints what the daemon printed.
READS=("group list" "group list --json" "group members ops" "export ops" "audit" "audit --json" "log ops" "log ops --json --limit 3" "files --json" "peers --json")
read_all() {  # DIR: each read's stdout and exit code into DIR/N
  mkdir -p "$1"; local i=0
  for r in "${READS[@]}"; do env HARK_HOME="$A" "$HARK" $r >"$1/$i" 2>"$1/$i.err"; echo $? >"$1/$i.rc"; i=$((i + 1)); done
}
read_all "$T/with"
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"; code=$?
[ "$code" = 0 ] && ok "SIGTERM stops the daemon with exit 0" || not_ok "daemon exit $code after SIGTERM"
[ ! -e "$A/control.sock" ] && ok "…and removes its control socket" || not_ok "control socket left behind"
read_all "$T/without"
i=0
for r in "${READS[@]}"; do
  case "$r" in
  files*|peers*)  # online holders, presence and connection state differ without a daemon: compare the stored entries (JSON)
    keys() { python3 -c 'import json,sys; print(sorted((d.get("file_id") or d.get("peer_id"), d.get("event_id"), d.get("names"), d.get("state"), d.get("display_name")) for d in map(json.loads, open(sys.argv[1]))))' "$1"; }
    k=$(keys "$T/without/$i")
    [ "$(cat "$T/without/$i.rc")" = 0 ] && [ "${k:0:2}" = "[(" ] && [ "$(keys "$T/with/$i")" = "$k" ] \
      && ok "without a daemon, hark $r lists the same entries" || not_ok "hark $r without a daemon: exit $(cat "$T/without/$i.rc"), $(head -c 300 "$T/without/$i") $(head -c 300 "$T/without/$i.err")" ;;
  "log ops --json"*)  # a file offer line carries its online holders, live through the daemon: compared without them
    nolive() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l); d.get("file", {}).pop("holders", None); print(json.dumps(d, sort_keys=True))' "$1"; }
    [ "$(cat "$T/without/$i.rc")" = 0 ] && [ -s "$T/without/$i" ] && [ "$(nolive "$T/with/$i")" = "$(nolive "$T/without/$i")" ] \
      && ok "without a daemon, hark $r prints the same (a file offer's online holders aside)" || not_ok "hark $r without a daemon differs: $(diff <(nolive "$T/with/$i") <(nolive "$T/without/$i") | head -5 | cut -c1-300)" ;;
  "group members"*)  # bob's presence is live through the daemon
    [ "$(cat "$T/without/$i.rc")" = 0 ] && [ "$(sed 's/  [a-z]*$//' "$T/with/$i")" = "$(sed 's/  [a-z]*$//' "$T/without/$i")" ] && [ -s "$T/without/$i" ] \
      && ok "without a daemon, hark $r prints the same members and roles" || not_ok "hark $r without a daemon: $(cat "$T/without/$i" "$T/without/$i.err")" ;;
  *)
    [ "$(cat "$T/without/$i.rc")" = "$(cat "$T/with/$i.rc")" ] && cmp -s "$T/with/$i" "$T/without/$i" && [ -s "$T/without/$i" ] \
      && ok "without a daemon, hark $r prints the same, byte for byte" || not_ok "hark $r without a daemon differs: $(diff "$T/with/$i" "$T/without/$i" | head -5) $(head -c 300 "$T/without/$i.err")" ;;
  esac
  i=$((i + 1))
done
expect 69 "a command that writes still needs the daemon (react exits 69)" env HARK_HOME="$A" "$HARK" react ops "$SECOND" "👍"
# hark-bench fill (the growth benchmark's filler) leaves a store the daemon continues from.
BENCH_BIN=${HARK_BENCH_BIN:-$ROOT/.build/debug/hark-bench}
if [ -x "$BENCH_BIN" ]; then
  F="$T/f"
  env HARK_HOME="$F" "$HARK" init --name filler >/dev/null
  env HARK_HOME="$F" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/f.log" & FPID=$!
  wait_until 10 env HARK_HOME="$F" "$HARK" status >/dev/null 2>&1 || not_ok "daemon f did not start"
  env HARK_HOME="$F" "$HARK" group create solo >/dev/null && env HARK_HOME="$F" "$HARK" send solo "written by the node" >/dev/null
  expect 65 "fill refuses while the daemon runs" "$BENCH_BIN" fill --home="$F" --group=solo --messages=10
  kill -TERM "$FPID"; wait "$FPID" 2>/dev/null
  expect 0 "fill writes 250 messages (a new sender chain every 100) with the daemon stopped" "$BENCH_BIN" fill --home="$F" --group=solo --messages=250 --batch=100
  expect 0 "…which hark audit (no daemon) finds valid: signatures, links, lamports, rules" env HARK_HOME="$F" "$HARK" audit
  grep -q "0 problems, 0 forks" "$T/out" && ok "…0 problems" || not_ok "audit after fill: $(cat "$T/out")"
  env HARK_HOME="$F" "$HARK" log solo --limit 1 | grep -q "history message 250" && ok "…and log reads the last filled message" || not_ok "log after fill: $(env HARK_HOME="$F" "$HARK" log solo --limit 2 2>&1)"
  env HARK_HOME="$F" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>>"$T/f.log" & FPID=$!
  wait_until 10 env HARK_HOME="$F" "$HARK" status >/dev/null 2>&1 || not_ok "daemon f did not restart"
  expect 0 "the daemon sends after the fill" env HARK_HOME="$F" "$HARK" send solo "after the fill"
  env HARK_HOME="$F" "$HARK" log solo --limit 2 | grep -c "history message 250\|after the fill" | grep -q 2 && ok "…and lists it after the filled ones" || not_ok "log after send: $(env HARK_HOME="$F" "$HARK" log solo --limit 2 2>&1)"
  expect 0 "…and the whole history still audits" env HARK_HOME="$F" "$HARK" audit
  kill -TERM "$FPID"; wait "$FPID" 2>/dev/null
else
  echo "skip - hark-bench fill (no $BENCH_BIN)"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
