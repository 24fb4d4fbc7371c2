#!/usr/bin/env bash
# Trust on first use and verification across real hosts: an impostor on a third host
# with the same display name and a new key raises a warning on every surface and is not
# verified; `hark pair` on two hosts shows the same code on both and marks both verified; the
# verified state and the warning show in peers, log (JSON and text) and watch.
# Three lab hosts, each with its own D-Bus and avahi-daemon. Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hktrust} LAB_NET=${LAB_NET:-10.93.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 3
"$LAB" guard-start >&2 || true
hark_on h1 init --name alice >/dev/null
hark_on h2 init --name bob >/dev/null
hark_on h3 init --name bob >/dev/null   # the impostor: same display name, another key
BOB=$(fp_of h2); EVE=$(fp_of h3); ALICE=$(fp_of h1)

say "alice and the real bob meet first (trust on first use)"
start_daemon h1; start_daemon h2
wait_until 30 has_peer h1 1 && wait_until 10 has_peer h2 1 && ok "h1 and h2 are connected" || { not_ok "h1 and h2 did not connect"; cat_log h1; }
hark_on h1 group create ops >/dev/null
hark_on h2 group join "$(hark_on h1 group invite ops)" >/dev/null
[ "$(peer_field h1 "$BOB" warning)" = null ] && ok "the first key seen with the name bob carries no warning" || not_ok "warning on the real bob: $(peer_field h1 "$BOB" warning)"
"$LAB" spawn h1 watch env HARK_HOME="$WORK/h1" "$HARK" watch --json
WATCH="$LAB_RUN_DIR/h1/watch.log"
sleep 1

say "an impostor called bob with a new key appears on h3"
start_daemon h3
wait_until 30 has_peer h1 2 && ok "h1 has a channel to the impostor too (the key is authenticated; the name is only a label)" || not_ok "impostor did not connect"
has_warning() { peer_field h1 "$EVE" warning | grep -q "first seen with another key"; }
wait_until 10 has_warning && ok "hark peers --json: the impostor's key has a warning naming the name bob" || not_ok "no warning: $(hark_on h1 peers --json)"
peer_field h1 "$EVE" warning | grep -qF "$BOB" && ok "…and names the fingerprint the name was bound to" || not_ok "warning lacks bob's fingerprint"
[ "$(peer_field h1 "$EVE" verified)" = false ] && ok "the impostor is not verified" || not_ok "impostor verified: $(peer_field h1 "$EVE" verified)"
hark_on h1 peers | grep -F "$EVE" | grep -q "⚠.*WARNING" && ok "hark peers (text) marks the impostor with ⚠ and WARNING" || not_ok "peers text: $(hark_on h1 peers)"
watch_trust() { grep '"event":"trust"' "$WATCH" 2>/dev/null | grep '"change":"name_conflict"' | grep -qF "$EVE"; }
wait_until 5 watch_trust && ok "watch --json emits a trust event (name_conflict) for the impostor" || not_ok "no trust event: $(tail -5 "$WATCH")"
grep -q "TRUST WARNING" "$LAB_RUN_DIR/h1/hark-h1.log" && ok "the daemon logs a loud TRUST WARNING" || not_ok "no warning in the daemon log"
hark_on h1 verify bob >"$WORK/amb.out" 2>&1; code=$?
[ "$code" = 64 ] && grep -qF "$BOB" "$WORK/amb.out" && grep -qF "$EVE" "$WORK/amb.out" \
  && ok "hark verify bob is ambiguous (exit 64) and lists both fingerprints" || not_ok "verify bob: exit $code: $(cat "$WORK/amb.out")"

say "hark pair between alice (h1) and the real bob (h2)"
"$LAB" spawn h1 pair env HARK_HOME="$WORK/h1" "$HARK" pair "${BOB:0:9}" --yes --timeout 30s
hark_on h2 pair --accept --yes --timeout 30s >"$WORK/pair-h2.out" 2>&1; code=$?
[ "$code" = 0 ] && ok "pair --accept --yes on h2 exits 0" || not_ok "pair on h2: exit $code: $(cat "$WORK/pair-h2.out")"
PAIRLOG="$LAB_RUN_DIR/h1/pair.log"
pair_done() { grep -q "is verified on this node" "$PAIRLOG" 2>/dev/null; }
wait_until 20 pair_done && ok "pair --yes on h1 finishes" || not_ok "pair on h1: $(cat "$PAIRLOG")"
C1=$(sed -n 's/^code: //p' "$PAIRLOG" | head -1); C2=$(sed -n 's/^code: //p' "$WORK/pair-h2.out" | head -1)
echo "codes: h1 '$C1', h2 '$C2'" >&2
[[ "$C1" =~ ^[0-9]{3}\ [0-9]{3}$ ]] && [ "$C1" = "$C2" ] && ok "both hosts show the same 6-digit code ($C1)" || not_ok "codes differ: '$C1' vs '$C2'"
verified_on() { [ "$(peer_field "$1" "$2" verified)" = true ]; }
wait_until 5 verified_on h1 "$BOB" && ok "h1 marks bob verified (peers --json)" || not_ok "bob not verified on h1"
wait_until 5 verified_on h2 "$ALICE" && ok "h2 marks alice verified (peers --json)" || not_ok "alice not verified on h2"
[ "$(peer_field h1 "$EVE" verified)" = false ] && peer_field h1 "$EVE" warning | grep -q "first seen" \
  && ok "the impostor stays unverified and keeps its warning" || not_ok "impostor state changed"
grep -q '"change":"verified"' "$WATCH" && ok "watch emits trust verified" || not_ok "no verified event"
hark_on h1 verify "${BOB:0:9}" | grep -q "✔ verified" && ok "hark verify shows bob verified" || not_ok "verify output: $(hark_on h1 verify "${BOB:0:9}")"

say "the impostor joins the group (membership is by key) and speaks as bob"
hark_on h3 group join "$(hark_on h1 group invite ops)" >/dev/null
hark_on h2 send ops "hello from the real bob" >/dev/null
sleep 1
hark_on h3 send ops "hello from eve calling herself bob" >/dev/null
both_logged() { log_has h1 ops "real bob" && log_has h1 ops "eve calling"; }
wait_until 20 both_logged && ok "h1 holds both messages (group traffic still flows)" || not_ok "messages missing on h1: $(hark_on h1 log ops)"
hark_on h1 log ops --json | python3 -c '
import json, sys
m = {x["text"]: x for x in map(json.loads, sys.stdin)}
real, eve = m["hello from the real bob"], m["hello from eve calling herself bob"]
ok = (real["author_verified"] and not real["author_name_conflict"]
      and not eve["author_verified"] and eve["author_name_conflict"] and eve["author_name"] == "bob")
sys.exit(0 if ok else 1)' && ok "log --json: the real bob author_verified, the impostor author_name_conflict and not verified" || not_ok "log flags: $(hark_on h1 log ops --json)"
hark_on h1 log ops | grep "real bob" | grep -q "bob (${BOB:0:4}) ✔" && ok "log (text) marks the real bob ✔" || not_ok "log text: $(hark_on h1 log ops)"
hark_on h1 log ops | grep "eve calling" | grep -q "⚠ bob (${EVE:0:4})" && ok "log (text) marks the impostor ⚠ with its fingerprint" || not_ok "log text: $(hark_on h1 log ops)"
grep '"event":"message"' "$WATCH" | grep "eve calling" | grep -q '"author_name_conflict":true' && ok "watch messages carry the flag too (chat uses it)" || not_ok "watch message flags"

say "a pairing with the impostor whose code does not match is refused"
"$LAB" spawn h3 pair env HARK_HOME="$WORK/h3" "$HARK" pair alice --yes --timeout 20s
hark_on h1 pair --accept --code "${C1// /}" --timeout 20s >"$WORK/pair-h1-eve.out" 2>&1; code=$?
# The impostor's channel gives another code (1 in a million to match by chance).
[ "$code" = 65 ] && ok "h1 refuses the impostor's pairing when the codes differ (exit 65)" || not_ok "impostor pairing: exit $code: $(cat "$WORK/pair-h1-eve.out")"
[ "$(peer_field h1 "$EVE" verified)" = false ] && ok "…and the impostor is still not verified" || not_ok "impostor verified after a refused pairing"

"$LAB" guard-check >&2 && ok "no lab packet left the machine" || not_ok "guard saw lab traffic on the real interface"
stop_daemon h1; stop_daemon h2; stop_daemon h3
summary
