#!/usr/bin/env bash
# Joining a group by code, without a token, across real hosts (PROTOCOL.md §5.7): both screens
# show the same 6-digit code; the right code joins; a wrong code or a refusal leaves no
# membership and no stored invite; a name two nodes offer is ambiguous (64) and one nobody offers
# is not found (67); a --for invite approves its peer at once; one peer's requests are
# rate-limited (75). Three lab hosts with their own avahi-daemon.
# Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkjoin} LAB_NET=${LAB_NET:-10.93.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 3
"$LAB" guard-start >&2 || true
for x in h1:alice h2:bob h3:carol; do hark_on "${x%%:*}" init --name "${x##*:}" >/dev/null; done
for h in h1 h2 h3; do start_daemon "$h"; done
wait_until 30 has_peer h1 2 && wait_until 10 has_peer h2 2 && wait_until 10 has_peer h3 2 && ok "three hosts connected" \
  || not_ok "hosts did not connect"

is_member() {  # is_member HOST GROUP PEERNAME : the host lists PEERNAME among GROUP's members
  hark_on "$1" group members "$2" --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(json.loads(l)["display_name"] == sys.argv[1] for l in sys.stdin) else 1)' "$3"
}
holds_group() { hark_on "$1" group list --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(json.loads(l)["name"] == sys.argv[1] for l in sys.stdin) else 1)' "$2"; }
code_in() { sed -n 's/^code \([0-9]\{3\} [0-9]\{3\}\):.*/\1/p' "$1" | head -1; }
has_code() { [ -n "$(code_in "$1")" ]; }
admin_code() {  # admin_code HOST GROUP PEERNAME : the code HOST's `group requests` shows for PEERNAME
  hark_on "$1" group requests "$2" --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["display_name"] == sys.argv[1] and r.get("code"): print(r["code"]); break' "$3"
}

hark_on h1 group create ops >/dev/null
hark_on h1 group create dup >/dev/null
hark_on h3 group create dup >/dev/null

say "a name two nodes offer is ambiguous; a name nobody offers is not found"
hark_on h2 group join dup --timeout 20s >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 64 ] && grep -q "alice" "$WORK/err" && grep -q "carol" "$WORK/err" && ok "join dup: 64, both candidates listed" \
  || not_ok "join dup: exit $rc: $(cat "$WORK/err")"
hark_on h2 group join nosuch --timeout 20s >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 67 ] && ok "join nosuch: 67 ($(cat "$WORK/err"))" || not_ok "join nosuch: exit $rc: $(cat "$WORK/err")"

say "a wrong code approves nothing; a refusal leaves nothing behind"
hark_on h2 group join ops --timeout 60s >"$WORK/req1" 2>&1 &
req=$!
wait_until 20 has_code "$WORK/req1" && ok "bob's screen shows a code: $(code_in "$WORK/req1")" || not_ok "no code on bob's screen: $(cat "$WORK/req1")"
code=$(code_in "$WORK/req1")
[ -n "$code" ] && [ "$(admin_code h1 ops bob)" = "$code" ] && ok "alice's group requests shows the same code" \
  || not_ok "alice shows '$(admin_code h1 ops bob)', bob '$code'"
digits=${code// /}
wrong=$(printf '%06d' $(( (10#${digits:-0} + 1) % 1000000 )))
hark_on h1 group approve ops "$wrong" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 65 ] && grep -q "nothing was approved" "$WORK/err" && ok "approve with a wrong code: 65, nothing approved" \
  || not_ok "wrong code: exit $rc: $(cat "$WORK/err")"
sleep 1
! holds_group h2 ops && ! is_member h1 ops bob && ok "after the wrong code bob holds no group ops and is no member" \
  || not_ok "bob joined with a wrong code"
hark_on h1 group refuse ops bob >/dev/null 2>"$WORK/err" && ok "alice refuses bob's request" || not_ok "refuse: $(cat "$WORK/err")"
wait "$req"; rc=$?
[ $rc = 65 ] && grep -q "refused" "$WORK/req1" && ok "bob's join ends with 65: refused" || not_ok "bob's join: exit $rc: $(cat "$WORK/req1")"
! holds_group h2 ops && ! is_member h1 ops bob && ok "after the refusal bob holds no group ops and is no member" \
  || not_ok "bob joined after a refusal"
[ "$(hark_on h2 group invites)" = "no invites" ] && ok "bob's node keeps no invite" || not_ok "bob's invites: $(hark_on h2 group invites)"
[ "$(hark_on h1 group requests ops)" = "no requests" ] && ok "alice's node keeps no request" || not_ok "alice's requests: $(hark_on h1 group requests ops)"

say "the right code joins"
hark_on h2 group join ops@alice --timeout 60s >"$WORK/req2" 2>&1 &
req=$!
wait_until 20 has_code "$WORK/req2" || true
code=$(code_in "$WORK/req2")
[ -n "$code" ] && [ "$(admin_code h1 ops bob)" = "$code" ] && ok "ops@alice: both screens show $code" \
  || not_ok "alice shows '$(admin_code h1 ops bob)', bob '$code': $(cat "$WORK/req2")"
hark_on h1 group approve ops "$code" >/dev/null 2>"$WORK/err" && ok "alice approves with the code" || not_ok "approve: $(cat "$WORK/err")"
wait "$req"; rc=$?
[ $rc = 0 ] && grep -q "joined group ops" "$WORK/req2" && ok "bob's join ends with 0: joined" || not_ok "bob's join: exit $rc: $(cat "$WORK/req2")"
wait_until 10 is_member h1 ops bob && ok "alice lists bob as a member of ops" || not_ok "alice's members: $(hark_on h1 group members ops)"
hark_on h1 send ops "welcome bob" >/dev/null
wait_until 15 log_has h2 ops "welcome bob" && ok "bob reads alice's message" || not_ok "bob cannot read ops"

say "a --for invite approves its peer without a code"
hark_on h1 group invite ops --for carol >/dev/null
hark_on h3 group join ops@alice --timeout 30s >"$WORK/req3" 2>&1; rc=$?
[ $rc = 0 ] && ! has_code "$WORK/req3" && ok "carol joins at once (0, no code asked)" || not_ok "carol: exit $rc: $(cat "$WORK/req3")"
wait_until 10 is_member h1 ops carol && ok "alice lists carol as a member" || not_ok "carol is not a member"

say "requests from one peer are rate-limited"
limited=0 notfound=0 first_limited=0
for i in 1 2 3 4 5 6 7 8; do
  hark_on h2 group join "nosuch$i@alice" --timeout 10s >/dev/null 2>"$WORK/err$i"; rc=$?
  case $rc in
    67) notfound=$((notfound + 1)) ;;
    75) limited=$((limited + 1)); [ $first_limited = 0 ] && first_limited=$i ;;
  esac
done
[ $limited -ge 2 ] && [ $((limited + notfound)) = 8 ] && grep -q "too many" "$WORK/err$first_limited" \
  && ok "8 requests in a row: $notfound answered (67), $limited refused as too many (75)" \
  || not_ok "rate limit: $notfound answered, $limited limited: $(cat "$WORK/err8")"
wait_s=$(sed -n 's/.*try again in \([0-9]*\) s.*/\1/p' "$WORK/err8")
if [ -n "$wait_s" ] && [ "$wait_s" -le 13 ]; then
  sleep $((wait_s + 1))
  hark_on h2 group join nosuch@alice --timeout 10s >/dev/null 2>"$WORK/err"; rc=$?
  [ $rc = 67 ] && ok "after the $wait_s s the admin named, bob's next request is answered again (67)" || not_ok "after the wait: exit $rc: $(cat "$WORK/err")"
else
  not_ok "the refusal names no wait of at most 13 s: $(cat "$WORK/err8")"
fi
hark_on h3 group join nosuch@alice --timeout 10s >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 67 ] && ok "another peer is not limited by bob's requests (67)" || not_ok "carol: exit $rc: $(cat "$WORK/err")"

say "tokens keep working"
hark_on h1 group create tok >/dev/null
hark_on h2 group join "$(hark_on h1 group invite tok)" >/dev/null && ok "bob joins tok with a token" || not_ok "token join failed"

"$LAB" guard-check >&2 && ok "no lab packet left through eth0" || not_ok "lab traffic seen on eth0"
summary
