#!/usr/bin/env bash
# History for newcomers, as a group setting (PROTOCOL.md §5.8), across real hosts: alice and bob
# write 20 messages in a shared-history group and 20 in a joined-history group; carol then joins
# both. In the shared one she reads all 20 (alice sealed the past chains to her prekey when she
# added her); in the joined one she reads none, though she holds the events. Messages sent after
# she joined are readable in both. Three lab hosts with their own avahi-daemon.
# Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkhist} LAB_NET=${LAB_NET:-10.95.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 3
"$LAB" guard-start >&2 || true
for x in h1:alice h2:bob h3:carol; do hark_on "${x%%:*}" init --name "${x##*:}" >/dev/null; done
for h in h1 h2 h3; do start_daemon "$h"; done
wait_until 30 has_peer h1 2 && wait_until 10 has_peer h3 2 && ok "three hosts connected" || not_ok "hosts did not connect"

hark_on h1 group create team | grep -qF "shared history" && ok "group create defaults to shared history" \
  || not_ok "create team: $(hark_on h1 group list)"
hark_on h1 group create quiet --history joined | grep -qF "joined history" && ok "--history joined" || not_ok "create quiet"
hark_on h1 group create bad --history forever >/dev/null 2>&1; rc=$?
[ $rc = 64 ] && ok "a bad --history is a usage error (64)" || not_ok "bad --history: exit $rc"
for g in team quiet; do
  hark_on h2 group join "$(hark_on h1 group invite $g)" >/dev/null && ok "bob joined $g" || not_ok "bob could not join $g"
done

# counts HOST GROUP: "readable unreadable" among the messages whose text is (or was) "past N"
counts() {
  hark_on "$1" log "$2" --json --limit 500 2>/dev/null | python3 -c '
import json, sys
r = u = 0
for l in sys.stdin:
    m = json.loads(l)
    if m.get("kind") != "message": continue
    if m.get("unreadable"): u += 1
    elif m.get("text", "").startswith("past "): r += 1
print(r, u)'
}
say "20 messages before carol joins"
for g in team quiet; do
  for i in $(seq 1 10); do
    hark_on h1 send $g "past $g alice $i" >/dev/null
    hark_on h2 send $g "past $g bob $i" >/dev/null
  done
done
wait_until 30 sh -c "$(declare -f hark_on counts); LAB=$LAB WORK=$WORK HARK=$HARK; [ \"\$(counts h2 team)\" = '20 0' ] && [ \"\$(counts h2 quiet)\" = '20 0' ]" \
  && ok "bob reads the 20 messages of each group" || not_ok "bob: team $(counts h2 team), quiet $(counts h2 quiet)"

say "carol joins both"
for g in team quiet; do
  hark_on h3 group join "$(hark_on h1 group invite $g)" >/dev/null && ok "carol joined $g" || not_ok "carol could not join $g"
done
hark_on h3 group list --json | python3 -c '
import json, sys
gs = {g["name"]: g.get("history") for g in map(json.loads, sys.stdin)}
sys.exit(0 if gs.get("team") == "shared" and gs.get("quiet") == "joined" else 1)' \
  && ok "group list --json gives each group's history setting" || not_ok "group list: $(hark_on h3 group list --json)"
wait_until 40 sh -c "$(declare -f hark_on counts); LAB=$LAB WORK=$WORK HARK=$HARK; [ \"\$(counts h3 team)\" = '20 0' ]" \
  && ok "shared history: carol reads the 20 messages from before she joined" || not_ok "carol team: $(counts h3 team)"
wait_until 40 sh -c "$(declare -f hark_on counts); LAB=$LAB WORK=$WORK HARK=$HARK; [ \"\$(counts h3 quiet)\" = '0 20' ]" \
  && ok "joined history: carol holds the 20 earlier messages and reads none" || not_ok "carol quiet: $(counts h3 quiet)"
hark_on h3 log team | grep -qF "past team bob 7" && ok "log shows a past message of bob's (shared by alice)" || not_ok "carol's log: $(hark_on h3 log team --limit 5)"
hark_on h3 search team "alice" --json 2>/dev/null | grep -qF "past team alice 3" && ok "search finds the past text once the keys arrived" \
  || not_ok "search: $(hark_on h3 search team alice 2>&1 | head -3)"

say "after joining, both groups are readable"
for g in team quiet; do
  id=$(hark_on h2 send $g "now $g" --json --wait delivered --timeout 20s | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  wait_until 20 log_has h3 $g "\"now $g\"" && ok "carol reads bob's new message in $g" || not_ok "carol did not read the new message in $g"
done
hark_on h1 export team 2>/dev/null | grep -qF '"kind":"history_key"' && ok "alice wrote a history_key event in the shared-history group" \
  || not_ok "export: no history_key event"
hark_on h1 export quiet 2>/dev/null | grep -qF '"kind":"history_key"' && not_ok "a history_key event in the joined-history group" \
  || ok "no history_key event in the joined-history group"
for h in h1 h2 h3; do
  hark_on $h audit team >/dev/null 2>&1 && ok "$h: audit of the shared-history group passes" || not_ok "$h audit: $(hark_on $h audit team 2>&1 | tail -3)"
done

"$LAB" guard-check >&2 && ok "no lab packet left through eth0" || not_ok "lab traffic seen on eth0"
summary
