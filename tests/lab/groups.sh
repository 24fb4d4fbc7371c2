#!/usr/bin/env bash
# Groups with roles and sender keys across real hosts: a removed member's node gets no
# new chain key and cannot decrypt what is sent after its removal, while it still reads what came
# before; a peer connected to members but not in the group receives none of its events; invites
# used twice or after expiry are refused; channels take posts from admins only; roles rules hold;
# direct conversations with hark send @PEER. Four lab hosts with their own avahi-daemon.
# Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkgroups} LAB_NET=${LAB_NET:-10.92.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 4
"$LAB" guard-start >&2 || true
for x in h1:alice h2:bob h3:carol h4:dave; do hark_on "${x%%:*}" init --name "${x##*:}" >/dev/null; done
for h in h1 h2 h3 h4; do start_daemon "$h"; done
wait_until 30 has_peer h1 3 && wait_until 10 has_peer h4 3 && ok "four hosts connected" || not_ok "hosts did not connect"

log_json() { hark_on "$1" log "$2" --json 2>/dev/null; }
text_state() {  # text_state HOST GROUP TEXT : readable | unreadable | absent
  log_json "$1" "$2" | python3 -c '
import json, sys
want = sys.argv[1]
for l in sys.stdin:
    m = json.loads(l)
    if m["text"] == want: print("readable"); break
else: print("absent")' "$3"
}
unreadable_count() { log_json "$1" "$2" | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l).get("unreadable")))'; }
chains_of() {  # chains_of HOST : member chain keys this node holds (rows of chain_in)
  python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True).execute("select count(*) from chain_in").fetchone()[0])' "$WORK/$1/hark.sqlite"
}
readable_on() { [ "$(text_state "$1" "$2" "$3")" = readable ]; }

say "a group with roles: invites are redeemed with an admin"
hark_on h1 group create ops >/dev/null
hark_on h2 group join "$(hark_on h1 group invite ops)" >/dev/null && ok "bob joined" || not_ok "bob could not join"
hark_on h3 group join "$(hark_on h1 group invite ops)" >/dev/null && ok "carol joined" || not_ok "carol could not join"
tok=$(hark_on h1 group invite ops --for carol)
hark_on h4 group join "$tok" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 65 ] && grep -q "for another peer" "$WORK/err" && ok "an invite --for carol is refused to dave (65)" || not_ok "exit $rc: $(cat "$WORK/err")"
exp=$(hark_on h1 group invite ops --expires 1s); sleep 1.5
hark_on h4 group join "$exp" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 65 ] && grep -q "expired" "$WORK/err" && ok "an expired invite is refused with a clear error (65)" || not_ok "expired: exit $rc: $(cat "$WORK/err")"
hark_on h1 group create scratch >/dev/null
once=$(hark_on h1 group invite scratch)
hark_on h2 group join "$once" >/dev/null && ok "bob joins scratch with a single-use invite" || not_ok "bob could not join scratch"
hark_on h4 group join "$once" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 65 ] && grep -q "already used" "$WORK/err" && ok "the same invite is refused to dave, with a clear error (65)" \
  || not_ok "reuse: exit $rc: $(cat "$WORK/err")"

say "a non-member connected to members receives nothing of the group"
hark_on h1 send ops "members only" --wait delivered --timeout 15s >/dev/null
rc=$?; [ $rc = 0 ] && ok "alice's message is delivered to bob and carol" || not_ok "delivery exit $rc"
hark_on h4 log ops >/dev/null 2>&1; rc=$?
[ $rc = 67 ] && ok "dave (connected to all three) holds no group ops (67)" || not_ok "dave log ops exit $rc"
dave_events=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True).execute("select count(*) from event e where e.group_id = (select id from grp where name = ? limit 1)", ("ops",)).fetchone()[0])' "$WORK/h4/hark.sqlite" 2>/dev/null || echo 0)
[ "$dave_events" = 0 ] && ok "dave's store holds no event of ops" || not_ok "dave holds $dave_events events of ops"

say "removal: no new chain key, no decryption after, earlier messages still readable"
wait_until 10 readable_on h2 ops "members only" && ok "bob reads the message sent before his removal" || not_ok "bob cannot read the earlier message"
bob_chains=$(chains_of h2)
hark_on h1 group remove ops bob && ok "alice removes bob" || not_ok "remove failed"
hark_on h1 send ops "after bob left" --wait delivered --timeout 15s >/dev/null
hark_on h3 send ops "carol after bob left" --wait delivered --of any --timeout 15s >/dev/null
wait_until 10 readable_on h3 ops "after bob left" && ok "carol reads alice's message after the removal" || not_ok "carol cannot read it"
sleep 2
[ "$(text_state h2 ops "after bob left")" = absent ] && ok "bob's node is sent nothing written after his removal" || not_ok "bob got: $(text_state h2 ops "after bob left")"
[ "$(chains_of h2)" = "$bob_chains" ] && ok "bob's node holds no new chain key ($bob_chains before and after)" || not_ok "bob's chain keys: $bob_chains → $(chains_of h2)"
hark_on h1 export ops >"$WORK/ops.jsonl"
hark_on h2 import "$WORK/ops.jsonl" >/dev/null 2>&1
[ "$(text_state h2 ops "members only")" = readable ] && ok "with the whole history imported, bob still reads the earlier message" || not_ok "earlier message on bob: $(text_state h2 ops "members only")"
n=$(unreadable_count h2 ops)
[ "$n" -ge 2 ] && [ "$(text_state h2 ops "after bob left")" = absent ] && ok "…and cannot decrypt the $n messages sent after his removal" || not_ok "after import: $n unreadable"
hark_on h2 send ops "bob tries" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 65 ] && ok "bob cannot post any more (65: not a member)" || not_ok "bob posted: exit $rc"

say "roles and channels"
hark_on h3 group remove ops alice >/dev/null 2>&1; rc=$?
[ $rc = 65 ] && ok "a member cannot remove the owner (65)" || not_ok "exit $rc"
hark_on h1 group role ops carol admin && ok "the owner makes carol an admin" || not_ok "role change failed"
wait_until 10 sh -c "$(declare -f hark_on); LAB=$LAB WORK=$WORK HARK=$HARK hark_on h3 group list --json | grep -q '\"admin\"'" && ok "carol sees herself as admin" || not_ok "carol's role did not arrive"
hark_on h3 group remove ops alice >/dev/null 2>&1; rc=$?
[ $rc = 65 ] && ok "an admin cannot remove the owner (65)" || not_ok "exit $rc"
hark_on h1 group create news --channel >/dev/null
hark_on h3 group join "$(hark_on h1 group invite news)" >/dev/null
hark_on h3 send news "carol's post" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 65 ] && grep -q "only admins" "$WORK/err" && ok "in a channel a member cannot post (65)" || not_ok "channel post by member: exit $rc"
hark_on h1 send news "announcement" --wait read --timeout 1s >/dev/null 2>&1
wait_until 10 readable_on h3 news "announcement" && ok "members read the owner's posts" || not_ok "carol cannot read the channel"

say "direct conversations"
hark_on h1 send @dave "just between us" >/dev/null && ok "hark send @dave opens a direct conversation" || not_ok "send @dave failed"
wait_until 15 readable_on h4 @alice "just between us" && ok "dave reads it as @alice" || not_ok "dave: $(hark_on h4 log @alice 2>&1 | tail -1)"
hark_on h4 send @alice "got it" >/dev/null && wait_until 10 readable_on h1 @dave "got it" && ok "dave answers in the same conversation" || not_ok "answer missing"
[ "$(hark_on h1 group list --json | grep -c '"direct"')" = 1 ] && ok "one direct conversation on alice's side" || not_ok "direct conversations: $(hark_on h1 group list)"
[ "$(text_state h2 @alice "just between us" 2>/dev/null)" != readable ] && ok "bob sees nothing of it" || not_ok "bob read a direct message"

"$LAB" guard-check >&2 && ok "no lab packet left through eth0" || not_ok "lab traffic seen on eth0"
summary
