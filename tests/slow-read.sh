#!/usr/bin/env bash
# No read takes a node off the network (docs/CONTROL.md "Reads"): alice's daemon runs with the
# test hook HARK_TEST_READ_DELAY_MS=12000, so every read (log, export, group list, receipts,
# files…) blocks its thread 12 s inside the read. While a `hark log` and a `hark export` run on her: `hark
# status` answers, bob keeps seeing her online past the 7 s presence limit (heartbeats go on),
# a message bob sends is taken in (her unread count rises), and the channel stays open.
# Real daemons on 127.0.0.1 only, without discovery. Ends with "N passed, M failed".
set -uo pipefail
TEST_NAME=slow-read
. "$(dirname "$0")/lib.sh"

A="$T/a" B="$T/b"
h() { local home=$1; shift; env HARK_HOME="$home" "$HARK" "$@"; }
json_field() {  # FIELD: a field of the JSON object on stdin ("" when it is not one)
  python3 -c 'import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1], ""))
except ValueError: print("")' "$1"
}
# alice as bob's peers list shows her: "connected/presence"
alice_seen_by_bob() {
  timeout 2 env HARK_HOME="$B" "$HARK" peers --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        p = json.loads(l)
        if p.get("display_name") == "alice": print(str(p.get("connected")) + "/" + str(p.get("presence")))'
}
unread_a() { timeout 2 env HARK_HOME="$A" "$HARK" status --json 2>/dev/null | json_field unread; }
# Every check during the read is bounded (timeout 2) and counts only while the read still runs.
reading() { kill -0 "$LOGPID" 2>/dev/null; }

h "$A" init --name alice >/dev/null && h "$B" init --name bob >/dev/null
# alice's reads take 12 s each, from the start: set everything up through bob and writes.
env HARK_HOME="$A" HARK_TEST_READ_DELAY_MS=12000 "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/a.log" & PIDS+=($!)
wait_until 10 h "$A" status >/dev/null 2>&1 || not_ok "daemon a did not start"
APORT=$(h "$A" status --json | json_field tcp_port)
env HARK_HOME="$B" "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$APORT" 2>"$T/b.log" & PIDS+=($!)
wait_until 10 h "$B" status >/dev/null 2>&1 || not_ok "daemon b did not start"
h "$A" group create g >/dev/null
expect 0 "bob joins alice's group" h "$B" group join "$(h "$A" group invite g)"
online() { [ "$(alice_seen_by_bob)" = "True/online" ]; }
wait_until 15 online && ok "bob sees alice online" || not_ok "bob does not see alice online: $(alice_seen_by_bob)"
h "$B" send g "before" >/dev/null
before_unread() { [ "$(unread_a)" = 1 ]; }
wait_until 10 before_unread || not_ok "alice did not take in bob's first message (unread $(unread_a))"

start=$(date +%s%N)
h "$A" log g --json >"$T/log.json" 2>"$T/log.err" & LOGPID=$!
# A second slow read at the same time (export): with both blocking a thread, the node must still
# have threads to run on (the cooperative pool has one per core; reads get threads of their own).
h "$A" export g >/dev/null 2>"$T/export.err" & EXPORTPID=$!
sleep 1
s0=$(date +%s%N)
timeout 2 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1 && reading && ok "hark status answers during a slow read ($(( ($(date +%s%N) - s0) / 1000000 )) ms)" \
  || not_ok "hark status did not answer within 2 s during a slow read"
timeout 2 env HARK_HOME="$A" "$HARK" peers >/dev/null 2>&1 && reading && ok "hark peers answers during a slow read" || not_ok "hark peers did not answer within 2 s"
h "$B" send g "during" >/dev/null
during_unread() { [ "$(unread_a)" = 2 ]; }
wait_until 2 during_unread && reading && ok "a message bob sends during the read is taken in at once (unread 2)" \
  || not_ok "bob's message was not taken in during the read (unread $(unread_a))"
# Past the 7 s presence limit (PresenceJudge): heartbeats must have gone on.
while [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 9500 ]; do sleep 0.2; done
seen=$(alice_seen_by_bob)
[ "$seen" = "True/online" ] && reading && ok "9.5 s into the read bob still sees alice connected and online" || not_ok "9.5 s into the read bob sees alice as $seen"
kill -0 "$LOGPID" 2>/dev/null && ok "…while the read still runs (the hook works)" || not_ok "the read ended before 9.5 s: the test hook did not slow it"
n=200; while kill -0 "$LOGPID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
wait "$LOGPID"; code=$?
n=50; while kill -0 "$EXPORTPID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
wait "$EXPORTPID" && ok "the second slow read (export) ends with its answer too" || not_ok "slow export: $(head -c 300 "$T/export.err")"
[ "$code" = 0 ] && ok "the slow read ends with its answer (exit 0, kept alive by keepalives)" || not_ok "slow read: exit $code; $(head -c 300 "$T/log.err")"
grep -c '"text"' "$T/log.json" | contains -x 2 && ok "…and shows both messages" || not_ok "slow read output: $(head -c 300 "$T/log.json")"
contains -i "peer silent" "$T/a.log" "$T/b.log" && not_ok "a channel was closed as silent during the read" || ok "no channel was closed as silent"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
