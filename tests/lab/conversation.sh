#!/usr/bin/env bash
# Replies, mentions and search across real hosts: a reply chain over three nodes, including a reply
# to a message that reaches the reader only later (its author was partitioned when it wrote it);
# a mention of a member who then renames, still highlighted, counted in group list and streamed
# by watch --mentions (and its --exec); search finds edited text and not replaced or deleted text,
# with and without a daemon. Three lab hosts with their own avahi-daemon.
# Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkconvo} LAB_NET=${LAB_NET:-10.93.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 3
"$LAB" guard-start >&2 || true
for x in h1:alice h2:bob h3:carol; do hark_on "${x%%:*}" init --name "${x##*:}" >/dev/null; done
for h in h1 h2 h3; do start_daemon "$h"; done
wait_until 30 has_peer h1 2 && wait_until 10 has_peer h3 2 && ok "three hosts connected" || not_ok "hosts did not connect"

hark_on h1 group create ops >/dev/null
hark_on h2 group join "$(hark_on h1 group invite ops)" >/dev/null && ok "bob joined" || not_ok "bob could not join"
hark_on h3 group join "$(hark_on h1 group invite ops)" >/dev/null && ok "carol joined" || not_ok "carol could not join"

# field HOST GROUP ID EXPR : a Python expression over message m (the log --json line with that ID)
field() {
  hark_on "$1" log "$2" --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m["id"] == sys.argv[1]: print(eval(sys.argv[2])); break
else: print("absent")' "$3" "$4"
}
is() { [ "$(field "$1" "$2" "$3" "$4")" = "$5" ]; }
sent_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

say "a reply chain over three nodes"
q=$(hark_on h1 send ops "who can deploy tonight?" --json --wait delivered --timeout 20s | sent_id)
wait_until 15 is h2 ops "$q" 'm["text"]' "who can deploy tonight?" || not_ok "bob did not get the question"
r1=$(hark_on h2 send ops --reply "${q:0:8}" "I can, after nine" --json --wait delivered --timeout 20s | sent_id)
wait_until 15 is h3 ops "$r1" 'm["text"]' "I can, after nine" || not_ok "carol did not get bob's reply"
r2=$(hark_on h3 send ops --reply "${r1:0:8}" "thanks bob" --json --wait delivered --timeout 20s | sent_id)
for h in h1 h2 h3; do
  wait_until 15 is "$h" ops "$r2" 'm.get("reply_to")' "$r1" && is "$h" ops "$r1" 'm.get("reply_to")' "$q" \
    && is "$h" ops "$r1" '(m["reply"]["state"], m["reply"]["author_name"], m["reply"]["text"])' "('message', 'alice', 'who can deploy tonight?')" \
    && ok "$h: reply_to and the quote of each reply in log --json" || not_ok "$h: $(field "$h" ops "$r2" 'm.get("reply")')"
done
hark_on h1 log ops >"$WORK/log.txt"
grep -A1 -F "↪ bob: I can, after nine" "$WORK/log.txt" | grep -q "thanks bob" && ok "log shows a one-line quote above the reply" \
  || not_ok "log: $(cat "$WORK/log.txt")"

say "a reply to a message that arrives later"
"$LAB" partition h1 >&2
late=$(hark_on h1 send ops "the late original" --json | sent_id)
early=$(hark_on h2 send ops --reply "$late" "answering what you have not seen yet" --json --wait delivered --of any --timeout 20s | sent_id)
wait_until 15 is h3 ops "$early" 'm["reply"]["state"]' missing && ok "carol shows the reply before its original: quote 'not here yet'" \
  || not_ok "carol: $(field h3 ops "$early" 'm.get("reply")')"
hark_on h3 log ops | grep -qF "↪ a message not here yet" && ok "log says the answered message is not here yet" || not_ok "log quote missing"
"$LAB" heal h1 >&2
wait_until 40 is h3 ops "$early" '(m["reply"]["state"], m["reply"].get("text"))' "('message', 'the late original')" \
  && ok "once the original arrives, carol's log quotes it" || not_ok "carol after heal: $(field h3 ops "$early" 'm.get("reply")')"
wait_until 20 is h1 ops "$early" 'm["reply"]["state"]' message && ok "alice sees bob's reply quoting her message" || not_ok "alice: $(field h1 ops "$early" 'm.get("reply")')"

say "mentions survive a rename"
m1=$(hark_on h2 send ops "@carol please review the deploy" --json --wait delivered --timeout 20s | sent_id)
carol_id=$(hark_on h3 id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["peer_id"])')
wait_until 15 is h3 ops "$m1" 'm["mentions_me"]' True && is h3 ops "$m1" 'm["mentions"]' "['$carol_id']" \
  && ok "carol's key is in the mention (mentions_me)" || not_ok "carol: $(field h3 ops "$m1" 'm.get("mentions")')"
is h1 ops "$m1" 'm["mentions_me"]' False && ok "not a mention of alice" || not_ok "alice: $(field h1 ops "$m1" 'm.get("mentions_me")')"
hark_on h3 group list | grep -q "1 @you" && ok "carol's group list counts 1 mention" || not_ok "group list: $(hark_on h3 group list)"
# carol renames: a new display name in her profile, daemon restarted
stop_daemon h3
python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); d["display_name"]="caroline"; json.dump(d, open(p,"w"))' "$WORK/h3/profile.json"
start_daemon h3
wait_until 30 has_peer h3 2 || not_ok "carol did not reconnect"
wait_until 20 sh -c "$(declare -f hark_on); LAB=$LAB WORK=$WORK HARK=$HARK hark_on h2 peers | grep -q caroline" && ok "bob sees carol as caroline" \
  || not_ok "bob's peers: $(hark_on h2 peers)"
hark_on h3 log ops | grep -F "please review" | grep -qF "« mentions you" && ok "after the rename carol's log still highlights the mention" \
  || not_ok "log: $(hark_on h3 log ops | grep -F 'please review')"
HOOKED="$WORK/h3-mentions.txt"
"$LAB" spawn h3 mentions env HARK_HOME="$WORK/h3" "$HARK" watch --mentions --json --exec 'printf "%s|%s\n" "$HARK_SENDER" "$HARK_TEXT" >>'"$HOOKED"
sleep 1
hark_on h2 send ops "no one in particular" --wait delivered --timeout 20s >/dev/null
hark_on h2 send ops "@caroline and @alice: standup" --wait delivered --timeout 20s >/dev/null
hark_on h1 send ops "@carol, by the old name" --wait delivered --timeout 20s >/dev/null
wait_until 20 sh -c "[ \$(wc -l <'$HOOKED' 2>/dev/null || echo 0) -ge 2 ]"
grep -qF "bob|@caroline and @alice: standup" "$HOOKED" && grep -qF "alice|@carol, by the old name" "$HOOKED" \
  && ok "watch --mentions --exec ran for both mentions (new name, old name)" || not_ok "hook: $(cat "$HOOKED" 2>/dev/null)"
! grep -qF "no one in particular" "$HOOKED" && ok "…and not for a message without one" || not_ok "hook ran for a plain message"
grep -qF '"mentions_me":true' "$LAB_RUN_DIR/h3/mentions.log" && ! grep -qF "no one in particular" "$LAB_RUN_DIR/h3/mentions.log" \
  && ok "watch --mentions --json streams only the mentions" || not_ok "watch: $(cat "$LAB_RUN_DIR/h3/mentions.log")"

say "a file offer is a line of the log with name, size and state"
head -c 300000 /dev/urandom >"$WORK/h1/report.bin"
fid=$(hark_on h1 share "$WORK/h1/report.bin" -g ops -m "the Q3 report" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["file_id"])')
offer_line() { hark_on "$1" log ops --limit 3 2>/dev/null | grep -F "[file] report.bin"; }
wait_until 20 sh -c "$(declare -f hark_on offer_line); LAB=$LAB WORK=$WORK HARK=$HARK offer_line h2 | grep -qF 'offered'" \
  && offer_line h2 | grep -qF "293.0 KiB" && offer_line h2 | grep -qF "hark fetch ${fid:0:12}: the Q3 report" \
  && ok "bob's log shows the offer in place: name, size, state offered, fetch command, note" || not_ok "bob's log: $(hark_on h2 log ops --limit 3)"
offer_line h1 | grep -qF ", mine" && ok "alice's log shows it as hers" || not_ok "alice: $(offer_line h1)"
hark_on h2 log ops --limit 3 --json | grep -F '"kind":"file_offer"' | grep -qF "\"file_id\":\"$fid\"" && ok "log --json gives kind file_offer with the offer" \
  || not_ok "json: $(hark_on h2 log ops --limit 3 --json)"
mkdir -p "$WORK/h2/got"
hark_on h2 fetch "${fid:0:12}" -o "$WORK/h2/got" --json >/dev/null 2>&1 && cmp -s "$WORK/h1/report.bin" "$WORK/h2/got/report.bin" \
  && offer_line h2 | grep -qF ", complete" && ok "after the fetch bob's log shows the offer complete" || not_ok "after fetch: $(offer_line h2)"

say "search: edited text is found, replaced and deleted text is not"
flaky=$(hark_on h1 send ops "the nightly build is flaky" --json --wait delivered --timeout 20s | sent_id)
secret=$(hark_on h1 send ops "launch codes are zebra" --json --wait delivered --timeout 20s | sent_id)
hark_on h1 edit ops "${flaky:0:8}" "the nightly build is green again" >/dev/null
hark_on h1 delete ops "${secret:0:8}" >/dev/null
wait_until 20 is h2 ops "$flaky" 'm["edited"]' True && wait_until 20 is h2 ops "$secret" 'm' absent || not_ok "edit or delete did not reach bob"
found() { hark_on h2 search "$@" --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"][:8] for l in sys.stdin))'; }
[ "$(found ops green)" = "${flaky:0:8}" ] && ok "bob's search finds the edited text" || not_ok "search green: '$(found ops green)'"
[ -z "$(found ops flaky)" ] && ok "…not the text it replaced" || not_ok "search flaky: '$(found ops flaky)'"
[ -z "$(found zebra)" ] && ok "…and not the deleted message (every group)" || not_ok "search zebra: '$(found zebra)'"
[ "$(found 'nigh* GREEN')" = "${flaky:0:8}" ] && ok "prefix and case-insensitive words" || not_ok "search nigh*: '$(found 'nigh* GREEN')'"
hark_on h2 search ops "" >/dev/null 2>&1; rc=$?
[ $rc = 64 ] && ok "an empty query is a usage error (64)" || not_ok "empty query: exit $rc"
hark_on h2 search nosuchgroup green >/dev/null 2>&1; rc=$?
[ $rc = 67 ] && ok "an unknown group exits 67" || not_ok "unknown group: exit $rc"
stop_daemon h2
[ "$(found ops green)" = "${flaky:0:8}" ] && ok "search works without a daemon" || not_ok "without daemon: '$(found ops green)'"
hark_on h2 search ops green | grep -qF "green again" && ok "…and prints log lines" || not_ok "plain output: $(hark_on h2 search ops green 2>&1)"

"$LAB" guard-check >&2 && ok "no lab packet left through eth0" || not_ok "lab traffic seen on eth0"
summary
