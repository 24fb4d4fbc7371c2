#!/usr/bin/env bash
# Replication across real hosts: a partition heals into one order; a clock a year
# ahead cannot reorder; one identity on two hosts forks and is detected everywhere while the
# group keeps working; a lossy, duplicating link delivers 1000 messages exactly once.
# Three lab hosts, each with its own avahi-daemon. Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-harkrepl} LAB_NET=${LAB_NET:-10.95.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

ids_of() { hark_on "$1" log ops --ids 2>/dev/null; }
msg_count() { hark_on "$1" log ops --json 2>/dev/null | wc -l; }
has_count() { [ "$(msg_count "$1")" -ge "$2" ]; }
same_ids() { local a; a=$(ids_of h1); [ -n "$a" ] && [ "$a" = "$(ids_of h2)" ] && [ "$a" = "$(ids_of h3)" ]; }

lab_setup 3
"$LAB" guard-start >&2 || true
hark_on h1 init --name alice >/dev/null
hark_on h2 init --name bob >/dev/null
hark_on h3 init --name carol >/dev/null
for h in h1 h2 h3; do start_daemon "$h"; done
wait_until 20 has_peer h1 2 || { not_ok "three hosts did not connect"; cat_log h1; }
hark_on h1 group create ops >/dev/null
token=$(hark_on h1 group invite ops --uses 2)   # one invite, two peers
hark_on h2 group join "$token" >/dev/null
hark_on h3 group join "$token" >/dev/null

say "partition {h1} | {h2, h3}: all write, then heal"
hark_on h1 send ops "before the partition"
wait_until 15 has_count h3 1 || not_ok "first message did not spread"
"$LAB" partition h1 >&2
for i in 1 2 3; do
  hark_on h1 send ops "h1 alone $i"; hark_on h2 send ops "h2 side $i"; hark_on h3 send ops "h3 side $i"
done
if wait_until 10 has_count h3 7 && ! has_count h3 8; then ok "during the partition h2 and h3 see each other's messages but not h1's"
else not_ok "partition did not behave: h3 holds $(msg_count h3) messages"; fi
sleep 16   # longer than the channels' 15 s idle timeout: the channels to h1 break
"$LAB" heal h1 >&2
if wait_until 40 has_count h1 10 && wait_until 10 has_count h2 10 && wait_until 10 has_count h3 10; then
  ok "after the heal every host holds all 10 messages"
else not_ok "after the heal: h1 $(msg_count h1), h2 $(msg_count h2), h3 $(msg_count h3) messages"; cat_log h1; fi
if wait_until 10 same_ids; then ok "hark log --ids is identical on the three hosts"
else not_ok "log --ids differs between hosts"; fi
dups=$(hark_on h2 log ops --json | python3 -c 'import json,sys; t=[json.loads(l)["text"] for l in sys.stdin]; print(len(t)-len(set(t)))')
[ "$dups" = 0 ] && ok "nothing duplicated" || not_ok "$dups duplicated messages"

say "a clock one year ahead cannot move messages out of causal order"
stop_daemon h3
# (libfaketime is preloaded into `timeout`, which then runs hark: a Swift binary exec'd straight
# from env with LD_PRELOAD=libfaketime loses its arguments, a quirk seen here with libfaketime 0.9.10.)
"$LAB" spawn h3 hark-h3 env HARK_HOME="$WORK/h3" FAKETIME="+365d" \
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 timeout "$LAB_TTL" "$HARK" daemon
wait_until 20 hark_on h3 status >/dev/null 2>&1 || not_ok "faketime daemon did not start"
future=$("$LAB" exec h3 env FAKETIME="+365d" LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 date +%Y)
[ "$future" -gt "$(date +%Y)" ] && ok "h3's clock reads $future" || not_ok "faketime not in effect ($future)"
wait_until 20 has_peer h3 2
hark_on h1 send ops "question from h1"
wait_until 15 log_has h3 ops "question from h1"
hark_on h3 send ops "answer from the future"
wait_until 15 log_has h1 ops "answer from the future"
order=$(hark_on h1 log ops --json | python3 -c '
import json, sys
m = [json.loads(l) for l in sys.stdin]
q = next(i for i, x in enumerate(m) if x["text"] == "question from h1")
a = next(i for i, x in enumerate(m) if x["text"] == "answer from the future")
print("causal" if q < a else "reordered", "flagged" if m[a].get("implausible_time") else "unflagged")')
case $order in causal*) ok "the answer stays after the question on h1";; *) not_ok "order: $order";; esac
case $order in *" flagged") ok "the future timestamp is flagged, not dropped";; *) not_ok "future timestamp not flagged ($order)";; esac
stop_daemon h3; start_daemon h3

say "one identity on two hosts, used while partitioned: the fork is detected everywhere"
stop_daemon h2
wait_until 5 true
rm -rf "$WORK/h2b"; cp -a "$WORK/h2" "$WORK/h2b"
"$LAB" partition h2 >&2
start_daemon h2
"$LAB" spawn h3 hark-h3b env HARK_HOME="$WORK/h2b" "$HARK" daemon   # bob's copy runs on h3
wait_until 20 sh -c "'$LAB' exec h3 env HARK_HOME='$WORK/h2b' '$HARK' status >/dev/null 2>&1"
"$LAB" exec h3 env HARK_HOME="$WORK/h2b" "$HARK" send ops "bob's copy speaks"
hark_on h2 send ops "bob speaks"
sleep 16
"$LAB" heal h2 >&2
forked() { hark_on "$1" audit ops --json 2>/dev/null | python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); sys.exit(0 if r["forks"] else 1)'; }
if wait_until 40 forked h1 && wait_until 20 forked h2 && wait_until 20 forked h3; then ok "hark audit reports bob's fork on all hosts"
else not_ok "fork not reported everywhere"; fi
flagged() { hark_on "$1" peers --json 2>/dev/null | grep -q '"equivocated":true'; }
wait_until 10 flagged h1 && ok "hark peers on h1 flags bob as equivocating" || not_ok "peers does not flag bob"
hark_on h1 send ops "still working after the fork"
if wait_until 15 log_has h2 ops "still working after the fork" && wait_until 15 log_has h3 ops "still working after the fork"; then
  ok "the group keeps working after the fork"; else not_ok "group stalled after the fork"; fi
wait_until 15 same_ids && ok "all hosts agree on the order, forked branches included" || not_ok "orders differ after the fork"
kill "$(cat "$LAB_RUN_DIR/h3/hark-h3b.pid")" 2>/dev/null || true

say "store and forward: h1 and h3 cannot reach each other, h2 carries their messages"
for h in h1 h3; do stop_daemon "$h"; done
"$LAB" exec h1 iptables -w -A INPUT -s "$LAB_NET.3" -j DROP
"$LAB" exec h1 iptables -w -A OUTPUT -d "$LAB_NET.3" -j DROP
# and no TCP over IPv6 link-local at all for h1 (h3's fe80:: address would go around the rule above)
"$LAB" exec h1 ip6tables -w -A INPUT -p tcp -j DROP
"$LAB" exec h1 ip6tables -w -A OUTPUT -p tcp -j DROP
start_daemon h1; start_daemon h3
wait_until 20 has_peer h2 2 || not_ok "h2 did not reconnect to both"
hark_on h1 send ops "h1 to h3 through h2"
hark_on h3 send ops "h3 to h1 through h2"
if wait_until 20 log_has h3 ops "h1 to h3 through h2" && wait_until 20 log_has h1 ops "h3 to h1 through h2"; then
  ok "h1 and h3 exchanged messages without ever meeting"; else not_ok "store and forward failed"; fi
direct=$(hark_on h1 peers --json | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["display_name"]=="carol" and json.loads(l)["connected"]))')
[ "$direct" = 0 ] && ok "…and h1 never had a channel to h3" || not_ok "h1 was connected to h3 directly"
"$LAB" exec h1 iptables -w -F INPUT; "$LAB" exec h1 iptables -w -F OUTPUT
"$LAB" exec h1 ip6tables -w -F INPUT; "$LAB" exec h1 ip6tables -w -F OUTPUT

say "a link that drops and duplicates packets: 1000 messages arrive exactly once"
"$LAB" exec h1 iptables -w -A OUTPUT -o lan0 -p tcp -m statistic --mode random --probability 0.05 -j DROP
"$LAB" exec h1 iptables -w -t mangle -A POSTROUTING -o lan0 -p tcp -m statistic --mode random --probability 0.05 -j TEE --gateway "$LAB_NET.2"
before=$(msg_count h2)
"$LAB" exec h1 env HARK_HOME="$WORK/h1" python3 - <<'PY'
import json, os, socket
s = socket.socket(socket.AF_UNIX); s.connect(os.environ["HARK_HOME"] + "/control.sock")
f = s.makefile("rwb")
for i in range(1000):
    f.write((json.dumps({"id": i, "method": "send", "params": {"group": "ops", "text": "bulk %04d" % i}}) + "\n").encode())
    f.flush()
    r = json.loads(f.readline())
    assert "result" in r, r
PY
bulk() { [ "$(hark_on h2 log ops --json | grep -c '"text":"bulk ')" -ge 1000 ]; }
if wait_until 60 bulk; then ok "all 1000 messages reached h2 over the lossy link"
else not_ok "h2 holds $(hark_on h2 log ops --json | grep -c '"text":"bulk ') of 1000"; fi
n=$(hark_on h2 log ops --json | python3 -c 'import json,sys; t=[json.loads(l)["text"] for l in sys.stdin if "bulk" in l]; print(len(t), len(set(t)))')
[ "$n" = "1000 1000" ] && ok "each exactly once" || not_ok "counts (all, distinct): $n"
"$LAB" exec h1 iptables -w -F OUTPUT; "$LAB" exec h1 iptables -w -t mangle -F POSTROUTING

for h in h1 h2 h3; do stop_daemon "$h"; done
if "$LAB" guard-check >&2; then ok "no lab packet left through eth0"; else not_ok "lab traffic seen on eth0"; fi
summary
