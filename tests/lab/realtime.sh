#!/usr/bin/env bash
# The real-time layer and the scripting interface across real hosts: presence after
# kill -9, a partition and a restart on a new port; typing notices; send --wait delivered/read
# and the timeout code when a member is partitioned; watch --json event kinds; --exec with shell
# metacharacters; send without a daemon (delivered, and queued with exit 75); 50 parallel sends.
# Three lab hosts, each with its own D-Bus and avahi-daemon. Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkrealtime} LAB_NET=${LAB_NET:-10.95.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 3
"$LAB" guard-start >&2 || true
hark_on h1 init --name alice >/dev/null
hark_on h2 init --name bob >/dev/null
hark_on h3 init --name carol >/dev/null

# control_on HOST JSON : one raw control request (for methods the CLI has no verb for)
control_on() {
  "$LAB" exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())' "$WORK/$1/control.sock" "$2"
}
presence_of() {  # presence_of HOST NAME : the presence HOST sees for the peer called NAME
  hark_on "$1" peers --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    p = json.loads(l)
    if p["display_name"] == sys.argv[1]: print(p["presence"]); break' "$2"
}
presence_is() { [ "$(presence_of "$1" "$2")" = "$3" ]; }
now_ms() { date +%s%3N; }

say "three hosts find each other and share a group"
start_daemon h1; start_daemon h2; start_daemon h3
wait_until 30 has_peer h1 2 && wait_until 10 has_peer h2 2 && wait_until 10 has_peer h3 2 \
  && ok "h1, h2 and h3 are all connected" || { not_ok "hosts did not connect"; cat_log h1; }
hark_on h1 group create ops >/dev/null
hark_on h2 group join "$(hark_on h1 group invite ops)" >/dev/null
hark_on h3 group join "$(hark_on h1 group invite ops)" >/dev/null
members_on() { hark_on "$1" group list --json | python3 -c 'import json,sys; print(max(len(json.loads(l)["members"]) for l in sys.stdin))'; }
has_members() { [ "$(members_on "$1" 2>/dev/null || echo 0)" = 3 ]; }
wait_until 20 has_members h1 && wait_until 20 has_members h2 && wait_until 20 has_members h3 \
  && ok "every host sees three members" || not_ok "membership did not converge: $(members_on h1) $(members_on h2) $(members_on h3)"

"$LAB" spawn h1 watch env HARK_HOME="$WORK/h1" "$HARK" watch ops --json
WATCH="$LAB_RUN_DIR/h1/watch.log"
watch_has() { python3 - "$WATCH" "$@" <<'PY'
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[3:])
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("event") != sys.argv[2]: continue
    if all(str(e["data"].get(k)) == v for k, v in want.items()): sys.exit(0)
sys.exit(1)
PY
}
sleep 1

say "presence and typing"
wait_until 10 presence_is h1 bob online && ok "h1 sees bob online" || not_ok "bob is '$(presence_of h1 bob)' on h1"
hark_on h2 presence away --status "at lunch"
wait_until 6 presence_is h1 bob away && ok "bob's away reaches h1 within a heartbeat" || not_ok "bob is '$(presence_of h1 bob)' on h1, expected away"
hark_on h1 peers | grep -q '"at lunch"' && ok "hark peers shows the status text" || not_ok "status text missing: $(hark_on h1 peers)"
hark_on h2 presence online --status ""
control_on h2 '{"id":1,"method":"typing","params":{"group":"ops","active":true}}' >/dev/null
wait_until 5 watch_has typing display_name=bob active=True && ok "a typing notice from bob reaches h1's watch" || not_ok "no typing event on h1"

say "send --wait"
hark_on h1 send ops "to everyone" --wait delivered --timeout 10s
rc=$?; [ $rc = 0 ] && ok "send --wait delivered (all members) exits 0" || not_ok "send --wait delivered exited $rc"
hark_on h1 send ops "nobody reads this in time" --wait read --timeout 2s 2>"$WORK/err"
rc=$?; [ $rc = 75 ] && ok "send --wait read times out with 75 when nobody reads" || not_ok "send --wait read exited $rc, expected 75"
grep -q "0 of 2 members" "$WORK/err" && ok "…and says how far it got" || not_ok "timeout message: $(cat "$WORK/err")"
"$LAB" spawn h1 waitread env HARK_HOME="$WORK/h1" "$HARK" send ops "please read" --wait read --of 2 --timeout 30s
wait_until 10 log_has h2 ops "please read" && wait_until 10 log_has h3 ops "please read"
hark_on h2 read ops >/dev/null; hark_on h3 read ops >/dev/null
wpid=$(cat "$LAB_RUN_DIR/h1/waitread.pid")
n=100; while [ $n -gt 0 ] && alive "$wpid"; do sleep 0.1; n=$((n - 1)); done
if alive "$wpid"; then not_ok "send --wait read did not return after both members read"
else ok "send --wait read --of 2 returned once both members read"; fi
hark_on h1 log ops | grep "please read" | grep -q "✓✓ read" && ok "hark log marks the message read" || not_ok "log shows: $(hark_on h1 log ops | grep 'please read')"
wait_until 5 watch_has receipt state=read member_name=carol && ok "watch --json streams read receipts" || not_ok "no read receipt event"

"$LAB" partition h3 >&2
t0=$(now_ms)
hark_on h1 send ops "carol is cut off" --wait delivered --timeout 3s 2>/dev/null
rc=$?; [ $rc = 75 ] && ok "send --wait delivered (all) exits 75 while a member is partitioned" || not_ok "exit $rc with h3 partitioned"
hark_on h1 send ops "bob suffices" --wait delivered --of any --timeout 5s
rc=$?; [ $rc = 0 ] && ok "…while --of any exits 0" || not_ok "--of any exited $rc"
if wait_until 10 presence_is h1 carol offline; then
  dt=$(( $(now_ms) - t0 ))
  [ $dt -le 10000 ] && ok "a partitioned peer shows offline after $dt ms (bound 10 s)" || not_ok "offline only after $dt ms"
else not_ok "partitioned carol is still '$(presence_of h1 carol)' after 10 s"; fi
"$LAB" heal h3 >&2
wait_until 30 log_has h3 ops "carol is cut off" && ok "after the heal h3 receives what it missed" || not_ok "h3 did not catch up"

say "watch --json kinds and --exec"
hark_on h2 send ops "bob's original" >/dev/null
wait_until 10 log_has h1 ops "bob's original"
bid=$(hark_on h2 log ops --json | python3 -c 'import json,sys; print([json.loads(l)["id"] for l in sys.stdin if "original" in l][-1])')
hark_on h2 edit ops "$bid" "bob's edited" >/dev/null
hark_on h1 react ops "$bid" "👍" >/dev/null
hark_on h2 send ops "to be deleted" >/dev/null
wait_until 10 log_has h1 ops "to be deleted"
did=$(hark_on h2 log ops --json | python3 -c 'import json,sys; print([json.loads(l)["id"] for l in sys.stdin if "to be deleted" in l][-1])')
hark_on h2 delete ops "$did" >/dev/null
for kind in message edit delete reaction presence typing receipt; do
  wait_until 10 watch_has "$kind" && ok "watch --json streamed a '$kind' event" || not_ok "no '$kind' event in watch"
done

HOOKED="$WORK/hooked"
"$LAB" spawn h1 hook env HARK_HOME="$WORK/h1" "$HARK" watch ops --exec 'printf "%s|%s\n" "$HARK_SENDER" "$HARK_TEXT" >>'"$HOOKED"
sleep 1
evil='$(touch '"$WORK"'/pwned1); `touch '"$WORK"'/pwned2`; touch '"$WORK"'/pwned3 && echo "quoted" | cat; exit 7'
hark_on h2 send ops "$evil"
hooked_has() { grep -qF -- "bob|$evil" "$HOOKED" 2>/dev/null; }
wait_until 10 hooked_has && ok "--exec got the message text byte for byte in HARK_TEXT" || not_ok "hook output: $(cat "$HOOKED" 2>/dev/null)"
ls "$WORK"/pwned* >/dev/null 2>&1 && not_ok "shell metacharacters in a message were executed" || ok "shell metacharacters in the message were not executed"
kill "$(cat "$LAB_RUN_DIR/h1/hook.pid")" 2>/dev/null || true

say "presence after kill -9 and a restart on a new port"
victim=$(hark_pid h3) && kill -9 "$victim" || not_ok "cannot find h3's hark process"
wait_until 5 sh -c "! kill -0 $victim 2>/dev/null"; rm -f "$LAB_RUN_DIR/h3/hark-h3.pid"
t0=$(now_ms)
if wait_until 10 presence_is h1 carol offline; then ok "carol shows offline $(( $(now_ms) - t0 )) ms after kill -9 (bound 10 s)"
else not_ok "carol still '$(presence_of h1 carol)' 10 s after kill -9"; fi
start_daemon h3 --port 47123
t0=$(now_ms)
if wait_until 15 presence_is h1 carol online; then ok "carol, restarted on port 47123, is online again on h1 after $(( $(now_ms) - t0 )) ms"
else not_ok "restarted carol not reached"; cat_log h1; fi
wait_until 10 watch_has presence display_name=carol state=offline && ok "watch streamed carol's offline presence" || not_ok "no offline presence event"

say "send without a daemon"
stop_daemon h2
hark_on h2 send ops "from a short-lived node" --timeout 15s
rc=$?; [ $rc = 0 ] && ok "send without a daemon delivered to a running peer (exit 0)" || not_ok "short-lived send exited $rc"
wait_until 10 log_has h1 ops "from a short-lived node" && ok "…and h1 holds the message" || not_ok "h1 did not get it"
"$LAB" partition h2 >&2
hark_on h2 send ops "queued while alone" --timeout 2s 2>"$WORK/err"
rc=$?; [ $rc = 75 ] && ok "send without a daemon and no reachable member exits 75" || not_ok "exit $rc, expected 75"
grep -q "queued" "$WORK/err" && ok "…and says the message is queued" || not_ok "message: $(cat "$WORK/err")"
"$LAB" heal h2 >&2
start_daemon h2
wait_until 30 log_has h1 ops "queued while alone" && ok "the queued message went out when a node ran again" || not_ok "queued message never reached h1"

say "50 parallel sends"
pids=()
for i in $(seq 1 50); do hark_on h1 send ops "parallel-$i" & pids+=($!); done
fails=0; for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
[ $fails = 0 ] && ok "50 parallel hark send calls all exited 0" || not_ok "$fails of 50 parallel sends failed"
count_parallel() { hark_on "$1" log ops --json | python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)["text"] for l in sys.stdin)
print(sum(1 for i in range(1, 51) if c["parallel-%d" % i] == 1), sum(v for k, v in c.items() if k.startswith("parallel-")))'; }
[ "$(count_parallel h1)" = "50 50" ] && ok "h1 stored each of the 50 messages exactly once" || not_ok "h1: $(count_parallel h1)"
has50() { [ "$(count_parallel h2)" = "50 50" ]; }
wait_until 20 has50 && ok "h2 received each exactly once" || not_ok "h2: $(count_parallel h2)"

"$LAB" guard-check >&2 && ok "no lab packet left through eth0" || not_ok "lab traffic seen on eth0"
summary
