#!/usr/bin/env bash
# Two real hosts (network namespaces on one bridge, each with its own D-Bus and avahi-daemon
# bound to the lab interface only). Real `hark daemon` processes find each other through Avahi,
# and a message sent with `hark send` on one shows in `hark log --json` on the other; with its
# daemon stopped, a host's log, group list and files print what they printed through it; then
# the same with avahi-daemon absent, using --peer. Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 2
"$LAB" guard-start >&2 || true
hark_on h1 init --name alice >/dev/null
hark_on h2 init --name bob >/dev/null

say "discovery through Avahi"
start_daemon h1
start_daemon h2
if wait_until 20 has_peer h1 && wait_until 5 has_peer h2; then ok "h1 and h2 found each other through Avahi and opened a Noise channel"
else not_ok "h1 and h2 did not connect through Avahi"; cat_log h1; cat_log h2; fi

disc=$(hark_on h1 status --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["discovery"]; print(d["state"])')
[ "$disc" = active ] && ok "status --json reports discovery active" || not_ok "discovery state is '$disc', expected active"

hark_on h1 group create ops >/dev/null
token=$(hark_on h1 group invite ops)
case $token in hark1*) ok "group invite prints one token line";; *) not_ok "unexpected invite output: $token";; esac
hark_on h2 group join "$token" >/dev/null && ok "h2 joined with the token" || not_ok "h2 could not join"

hark_on h1 send ops "hello from h1 via avahi" 
if wait_until 15 log_has h2 ops "hello from h1 via avahi"; then ok "message sent on h1 shows in hark log --json on h2"
else not_ok "message from h1 never reached h2"; cat_log h2; fi

echo "reply from h2" | hark_on h2 send ops
if wait_until 15 log_has h1 ops "reply from h2"; then ok "message piped into hark send on h2 shows on h1"
else not_ok "reply from h2 never reached h1"; fi

ids1=$(hark_on h1 log ops --json | python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')
ids2=$(hark_on h2 log ops --json | python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')
[ -n "$ids1" ] && [ "$ids1" = "$ids2" ] && ok "both hosts list the same messages in the same order" || not_ok "logs differ: [$ids1] vs [$ids2]"

hark_on h2 log ops --json | python3 -c '
import json, sys
m = [json.loads(l) for l in sys.stdin][0]
missing = [k for k in ("id", "author", "lamport", "wall_ms", "text") if k not in m]
sys.exit(1 if missing else 0)' && ok "log --json carries id, author, lamport, wall_ms, text" || not_ok "log --json lacks fields"

say "log --follow streams new messages"
"$LAB" spawn h2 follow env HARK_HOME="$WORK/h2" "$HARK" log ops --follow --json
sleep 0.5
hark_on h1 send ops "live one"
follow_has() { grep -qF "live one" "$LAB_RUN_DIR/h2/follow.log"; }
if wait_until 10 follow_has; then ok "hark log --follow --json on h2 printed the new message from h1"
else not_ok "log --follow did not print the new message"; cat "$LAB_RUN_DIR/h2/follow.log" >&2; fi
kill "$(cat "$LAB_RUN_DIR/h2/follow.pid")" 2>/dev/null || true

say "reads with the daemon stopped print what the daemon printed"
echo "a file for the lab" >"$WORK/lab-shared.txt"
hark_on h1 share "$WORK/lab-shared.txt" -g ops >/dev/null
offered() { hark_on h2 files --json 2>/dev/null | grep -q lab-shared.txt; }
wait_until 15 offered || not_ok "the file offer never reached h2"
# File entries as stored (online holders differ without a daemon).
file_keys() { python3 -c 'import json,sys; print(sorted((d["file_id"], d["event_id"], d["names"], d["size"], d["sender"], d["state"]) for d in map(json.loads, sys.stdin)))'; }
hark_on h2 log ops >"$WORK/log.with"; hark_on h2 log ops --json >"$WORK/logjson.with"; hark_on h2 group list >"$WORK/list.with"
hark_on h2 files --json | file_keys >"$WORK/files.with"
stop_daemon h2
hark_on h2 log ops >"$WORK/log.without" && hark_on h2 log ops --json >"$WORK/logjson.without" && [ -s "$WORK/log.without" ] \
  && cmp -s "$WORK/log.with" "$WORK/log.without" && cmp -s "$WORK/logjson.with" "$WORK/logjson.without" \
  && ok "with the daemon stopped, hark log prints the same, byte for byte (text and --json)" || not_ok "log without a daemon differs: $(diff "$WORK/log.with" "$WORK/log.without" | head -5)"
hark_on h2 group list >"$WORK/list.without" && [ -s "$WORK/list.without" ] && cmp -s "$WORK/list.with" "$WORK/list.without" \
  && ok "…and hark group list" || not_ok "group list without a daemon differs: $(cat "$WORK/list.with" "$WORK/list.without")"
hark_on h2 files --json | file_keys >"$WORK/files.without"
grep -q lab-shared "$WORK/files.without" && cmp -s "$WORK/files.with" "$WORK/files.without" \
  && ok "…and hark files lists the same offers" || not_ok "files without a daemon: $(cat "$WORK/files.with" "$WORK/files.without")"

say "offline member catches up when it comes back"
hark_on h1 send ops "written while h2 was down"
start_daemon h2
if wait_until 20 log_has h2 ops "written while h2 was down"; then ok "h2 fetched what it missed after a restart"
else not_ok "h2 did not catch up after restart"; cat_log h2; fi

stop_daemon h1
stop_daemon h2

say "avahi-daemon absent: static peers"
"$LAB" stop-avahi h1 >&2
"$LAB" stop-avahi h2 >&2
start_daemon h1 --port 7411
start_daemon h2 --peer "$LAB_NET.1:7411"
reason=$(hark_on h2 status --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["discovery"]; print(d["state"], d.get("reason") or "")')
case $reason in unavailable*) ok "without avahi-daemon, status says discovery is unavailable: ${reason#unavailable }";;
  *) not_ok "discovery state without avahi: '$reason'";; esac
if wait_until 20 has_peer h2; then ok "h2 connected to h1 through --peer"
else not_ok "h2 never connected through --peer"; cat_log h2; fi
hark_on h2 send ops "static hello from h2"
if wait_until 15 log_has h1 ops "static hello from h2"; then ok "message over the --peer channel arrived"
else not_ok "message over --peer never arrived"; fi

say "avahi-daemon comes back: the node re-publishes by itself"
"$LAB" start-avahi h1 >&2
"$LAB" start-avahi h2 >&2
back() { hark_on "$1" status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["discovery"]["state"]=="active" else 1)'; }
if wait_until 20 back h1 && wait_until 5 back h2; then ok "discovery active again after avahi-daemon restarted"
else not_ok "discovery did not come back after avahi-daemon restarted"; cat_log h1; fi

stop_daemon h1

say "avahi-daemon too slow to answer at start: the node asks again"
# Frozen, it keeps its D-Bus name but answers nothing: the node's first calls time out (D-Bus,
# 25 s) and avahi-client then waits for a name that never reappears. The node must ask again
# by itself once the daemon answers.
"$LAB" freeze-avahi h1 >&2
start_daemon h1 --port 7411
sleep 30
"$LAB" thaw-avahi h1 >&2
if wait_until 30 back h1; then ok "discovery active after avahi-daemon answered late"
else not_ok "discovery stayed unavailable after avahi-daemon answered late"; cat_log h1; fi

stop_daemon h1
stop_daemon h2
if "$LAB" guard-check >&2; then ok "no lab packet left through eth0"; else not_ok "lab traffic seen on eth0"; fi
summary
