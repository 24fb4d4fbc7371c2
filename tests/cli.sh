#!/usr/bin/env bash
# The hark command line as a script sees it: exit codes (sysexits, docs/CONTROL.md), stdin
# handling, error messages, quiet pipes. Real daemons on 127.0.0.1 only, without discovery.
# Ends with "N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARK=${HARK_BIN:-$ROOT/.build/debug/hark}
T=$(mktemp -d /tmp/hark-cli.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# expect CODE DESCRIPTION CMD... : run CMD, check its exit code
expect() {
  local want=$1 what=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else not_ok "$what: exit $got, expected $want; stderr: $(head -c 300 "$T/err")"; fi
}
wait_until() { local n=$(( $1 * 10 )); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }

A="$T/a" B="$T/b"
expect 78 "a command on a home without identity says run init" env HARK_HOME="$A" "$HARK" id
grep -q "hark init" "$T/err" && ok "…and names the fix" || not_ok "no hint to run hark init: $(cat "$T/err")"
expect 0 "init creates an identity" env HARK_HOME="$A" "$HARK" init --name alice
expect 73 "init twice refuses to overwrite" env HARK_HOME="$A" "$HARK" init --name again
expect 64 "init with a display name over 64 bytes is a usage error" env HARK_HOME="$T/x" "$HARK" init --name "$(printf 'n%.0s' $(seq 70))"
[ "$(stat -c %a "$A")" = 700 ] && ok "home is mode 700" || not_ok "home mode $(stat -c %a "$A")"
[ "$(stat -c %a "$A/identity.key")" = 600 ] && [ "$(stat -c %a "$A/noise.key")" = 600 ] && ok "secret key files are mode 600" || not_ok "key modes wrong"
chmod 644 "$A/identity.key"
expect 77 "a group-readable identity key is refused" env HARK_HOME="$A" "$HARK" id
chmod 600 "$A/identity.key"
expect 0 "id prints the peer ID" env HARK_HOME="$A" "$HARK" id
grep -qE '^hk[a-z2-7]{52}$' "$T/out" && ok "peer ID is hk + 52 base32 characters" || not_ok "peer ID format: $(head -1 "$T/out")"

expect 67 "send with no daemon runs a short-lived node, which knows no group ops (67)" env HARK_HOME="$A" "$HARK" send ops hi --timeout 1s
[ ! -S "$A/control.sock" ] && ok "…and the short-lived node is gone afterwards" || not_ok "control socket left behind"
expect 69 "log with no daemon running exits 69" env HARK_HOME="$A" "$HARK" log ops
grep -q "no hark daemon is running" "$T/err" && ok "…and says no daemon is running" || not_ok "unclear message: $(cat "$T/err")"
expect 69 "status with no daemon running exits 69" env HARK_HOME="$A" "$HARK" status

env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/a.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1 || { not_ok "daemon a did not start"; cat "$T/a.log"; }
expect 75 "a second daemon on the same home exits 75" env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1
PORT=$(env HARK_HOME="$A" "$HARK" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_port"])')
env HARK_HOME="$B" "$HARK" init --name bob >/dev/null
env HARK_HOME="$B" "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$PORT" 2>"$T/b.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$B" "$HARK" status >/dev/null 2>&1 || not_ok "daemon b did not start"

expect 64 "daemon with a malformed --peer is a usage error" env HARK_HOME="$T/x" "$HARK" daemon --peer nonsense
expect 67 "send to an unknown group exits 67" env HARK_HOME="$A" "$HARK" send nosuchgroup hi
expect 0 "group create" env HARK_HOME="$A" "$HARK" group create ops
expect 65 "join with a garbage token exits 65" env HARK_HOME="$B" "$HARK" group join hark1notatoken
expect 65 "join with a token that is not hark's exits 65" env HARK_HOME="$B" "$HARK" group join hello
TOKEN=$(env HARK_HOME="$A" "$HARK" group invite ops)
expect 0 "join with the invite token" env HARK_HOME="$B" "$HARK" group join "$TOKEN"
expect 65 "joining the same group again exits 65" env HARK_HOME="$B" "$HARK" group join "$TOKEN"
expect 65 "an empty message exits 65" env HARK_HOME="$A" "$HARK" send ops ""
printf '\xff\xfe not utf8' >"$T/bad"
expect 65 "stdin that is not UTF-8 exits 65" sh -c "HARK_HOME='$A' '$HARK' send ops <'$T/bad'"
head -c 60001 /dev/zero | tr '\0' 'x' >"$T/big"
expect 65 "a message over 60000 bytes exits 65" sh -c "HARK_HOME='$A' '$HARK' send ops <'$T/big'"
expect 0 "send with text as argument" env HARK_HOME="$A" "$HARK" send ops "first"
expect 0 "send from stdin" sh -c "echo 'second; rm -rf / \$(id)' | HARK_HOME='$A' '$HARK' send ops"
expect 0 "send with - reads stdin" sh -c "printf 'third' | HARK_HOME='$A' '$HARK' send ops -"
logged() { [ "$(env HARK_HOME="$B" "$HARK" log ops --json 2>/dev/null | wc -l)" = 3 ]; }
wait_until 10 logged && ok "all three messages reached the other node" || not_ok "messages missing on b: $(env HARK_HOME="$B" "$HARK" log ops 2>&1)"
env HARK_HOME="$B" "$HARK" log ops --json | python3 -c '
import json, sys
texts = [json.loads(l)["text"] for l in sys.stdin]
sys.exit(0 if texts == ["first", "second; rm -rf / $(id)", "third"] else 1)' && ok "texts arrive byte for byte, stdin's trailing newline dropped" || not_ok "texts differ"
env HARK_HOME="$A" "$HARK" send ops $'evil \e[2J\u202e text' >/dev/null
wait_until 5 sh -c "HARK_HOME='$B' '$HARK' log ops | grep -q evil"
env HARK_HOME="$B" "$HARK" log ops | grep evil | grep -q $'\e' && not_ok "escape sequence reached the terminal" || ok "control and bidi characters are neutralised in text output"
# edits, deletes, reactions (issue 3 item 7)
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
expect 0 "hark verify passes after edits, deletes and purges" env HARK_HOME="$B" "$HARK" verify
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
C="$T/c"; env HARK_HOME="$C" "$HARK" init --name carol >/dev/null
env HARK_HOME="$C" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/c.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$C" "$HARK" status >/dev/null 2>&1
env HARK_HOME="$C" "$HARK" group join "$TOKEN" >/dev/null
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
# Real-time verbs: usage errors and what needs a terminal.
expect 64 "send --of 0 is a usage error" env HARK_HOME="$A" "$HARK" send ops hi --wait delivered --of 0
expect 64 "send --timeout that is not a duration is a usage error" env HARK_HOME="$A" "$HARK" send ops hi --wait read --timeout soon
expect 64 "send --wait with an unknown state is a usage error" env HARK_HOME="$A" "$HARK" send ops hi --wait eventually
expect 0 "send --wait delivered reaches bob over loopback" env HARK_HOME="$A" "$HARK" send ops "wait for bob" --wait delivered --timeout 10s
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
# file sharing verbs (the transfers themselves: tests/lab/files.sh)
echo "shared text" >"$T/shared.txt"; mkdir -p "$T/inbox"
expect 64 "share to @PEER is refused until direct messages exist" env HARK_HOME="$A" "$HARK" share "$T/shared.txt" @bob
expect 65 "share of a path that does not exist exits 65 or 74" sh -c 'env HARK_HOME="$1" "$2" share "$3/missing" -g ops; c=$?; [ $c = 74 ] && exit 65; exit $c' _ "$A" "$HARK" "$T"
expect 0 "share a file" env HARK_HOME="$A" "$HARK" share "$T/shared.txt" -g ops
FID=$(cat "$T/out")
[ ${#FID} = 64 ] && ok "share prints the 64-digit file ID" || not_ok "share printed '$FID'"
expect 67 "fetch of an unknown file ID exits 67" env HARK_HOME="$B" "$HARK" fetch 0123456789abcdef -o "$T/inbox"
expect 73 "fetch into a folder that does not exist exits 73" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/nonexistent"
wait_until 10 sh -c 'env HARK_HOME="$1" "$2" files --json | grep -q "$3"' _ "$B" "$HARK" "$FID" && ok "the offer reaches the other daemon" || not_ok "offer not listed on b"
expect 0 "fetch into a folder exits 0, silently in a pipe" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox"
[ ! -s "$T/out" ] && cmp -s "$T/shared.txt" "$T/inbox/shared.txt" && ok "…prints nothing and the file is identical" || not_ok "fetch output '$(cat "$T/out")'"
expect 73 "fetch over an existing file exits 73 without --force" env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/inbox"
expect 71 "a daemon whose port is taken exits 71" env HARK_HOME="$C" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port "$PORT"
expect 64 "--listen that is not an address is a usage error" env HARK_HOME="$T/x" "$HARK" daemon --listen 999.1.1.1
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"; code=$?
[ "$code" = 0 ] && ok "SIGTERM stops the daemon with exit 0" || not_ok "daemon exit $code after SIGTERM"
[ ! -e "$A/control.sock" ] && ok "…and removes its control socket" || not_ok "control socket left behind"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
