#!/usr/bin/env bash
# Names that stay reachable: an impostor "bob" (a new key under a verified contact's display name)
# appears on a third host; `@bob`, `verify bob` and `group invite --for bob` still reach the
# verified bob, and the impostor stays flagged. Then the user's own decisions, with the daemon
# running: `hark peer alias`, `peer block` (no channel, shown as blocked, its messages not shown
# live), `peer unblock`, and `peer forget` (the key is dropped; when it comes back it is flagged
# again). Three lab hosts, each with its own D-Bus and avahi-daemon. Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hknames} LAB_NET=${LAB_NET:-10.94.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 3
"$LAB" guard-start >&2 || true
hark_on h1 init --name alice >/dev/null
hark_on h2 init --name bob >/dev/null
hark_on h3 init --name bob >/dev/null   # the impostor
BOB=$(fp_of h2); EVE=$(fp_of h3)

say "alice and bob meet and verify each other by pairing"
start_daemon h1; start_daemon h2
wait_until 30 has_peer h1 1 && wait_until 10 has_peer h2 1 && ok "h1 and h2 are connected" || { not_ok "h1 and h2 did not connect"; cat_log h1; }
# Both daemons dial each other and the duplicate rule then closes one channel; a pairing is bound
# to its channel's handshake hash and ends with it. Give the simultaneous dials a second to settle.
sleep 1
"$LAB" spawn h1 pair env HARK_HOME="$WORK/h1" "$HARK" pair "${BOB:0:9}" --yes --timeout 30s
hark_on h2 pair --accept --yes --timeout 30s >"$WORK/pair-h2.out" 2>&1
verified_bob() { [ "$(peer_field h1 "$BOB" verified)" = true ]; }
wait_until 30 verified_bob && ok "h1 marks bob verified" \
  || not_ok "bob not verified: $(hark_on h1 peers); h2: $(cat "$WORK/pair-h2.out"); h1: $(cat "$LAB_RUN_DIR/h1/pair.log" 2>&1)"
hark_on h1 group create ops >/dev/null
hark_on h2 group join "$(hark_on h1 group invite ops)" >/dev/null && ok "bob joins ops" || not_ok "bob could not join ops"

say "an impostor called bob appears"
start_daemon h3
wait_until 30 has_peer h1 2 && ok "h1 has a channel to the impostor" || not_ok "impostor did not connect"
eve_warned() { peer_field h1 "$EVE" warning | grep -q "first seen with another key"; }
wait_until 10 eve_warned && ok "the impostor is flagged" || not_ok "no warning on the impostor"
hark_on h1 peers | grep -F "(${EVE:0:4})" | grep -q "⚠" && ok "peers (text) shows the impostor with ⚠ and the short fingerprint" || not_ok "peers text: $(hark_on h1 peers)"

say "@bob still reaches the verified bob"
out=$(hark_on h1 verify bob 2>&1); code=$?
[ "$code" = 0 ] && grep -qF "$BOB" <<<"$out" && ! grep -qF "$EVE" <<<"$out" && ok "verify bob: exit 0, the verified key" || not_ok "verify bob: exit $code: $out"
hark_on h1 send @bob "just between us" >/dev/null 2>&1; code=$?
[ "$code" = 0 ] && ok "send @bob exits 0" || not_ok "send @bob: exit $code"
got_direct() { log_has h2 @alice "just between us"; }
wait_until 20 got_direct && ok "the real bob received the direct message" || not_ok "bob has no direct message: $(hark_on h2 group list)"
! hark_on h3 log @alice --json 2>/dev/null | grep -q "just between us" && ok "the impostor did not" || not_ok "the impostor got the direct message"
hark_on h1 group create ops2 >/dev/null
tok=$(hark_on h1 group invite ops2 --for bob 2>&1); code=$?
[ "$code" = 0 ] && ok "group invite ops2 --for bob exits 0" || not_ok "invite --for bob: exit $code: $tok"
hark_on h3 group join "$tok" >/dev/null 2>&1; c3=$?
hark_on h2 group join "$tok" >/dev/null 2>&1; c2=$?
[ "$c2" = 0 ] && [ "$c3" != 0 ] && ok "the invite for bob admits the real bob (exit 0) and not the impostor (exit $c3)" || not_ok "invite --for bob: bob exit $c2, impostor exit $c3"
[ "$(peer_field h1 "$EVE" verified)" = false ] && eve_warned && ok "the impostor keeps its warning" || not_ok "impostor state changed"

say "peer alias"
hark_on h1 peer alias "${EVE:0:9}" eve >/dev/null && ok "peer alias EVE eve exits 0" || not_ok "peer alias failed"
[ "$(peer_field h1 "$EVE" alias)" = '"eve"' ] && ok "peers --json shows the alias" || not_ok "alias: $(peer_field h1 "$EVE" alias)"
hark_on h1 verify eve 2>/dev/null | grep -qF "$EVE" && ok "verify eve names the aliased key" || not_ok "verify eve: $(hark_on h1 verify eve 2>&1)"
hark_on h1 peer alias "${BOB:0:9}" "${EVE:0:4}" >/dev/null 2>&1; code=$?
[ "$code" = 65 ] && ok "an alias that looks like a fingerprint is refused (exit 65)" || not_ok "hex alias: exit $code"
hark_on h1 peer alias "${EVE:0:9}" eve >/dev/null
hark_on h1 peer alias nobody-like-this x >/dev/null 2>&1; code=$?
[ "$code" = 67 ] && ok "peer alias of an unknown key exits 67" || not_ok "unknown key: exit $code"

say "peer block"
"$LAB" spawn h1 watch env HARK_HOME="$WORK/h1" "$HARK" watch ops --json
WATCH="$LAB_RUN_DIR/h1/watch.log"
hark_on h3 group join "$(hark_on h1 group invite ops)" >/dev/null 2>&1
hark_on h1 peer block eve >/dev/null && ok "peer block eve exits 0" || not_ok "peer block failed"
[ "$(peer_field h1 "$EVE" blocked)" = true ] && ok "peers --json: blocked" || not_ok "blocked: $(peer_field h1 "$EVE" blocked)"
eve_gone() { [ "$(peer_field h1 "$EVE" connected)" = false ]; }
wait_until 5 eve_gone && ok "the channel to the impostor is closed" || not_ok "still connected"
sleep 3
[ "$(peer_field h1 "$EVE" connected)" = false ] && ok "…and stays closed while it keeps dialling" || not_ok "the blocked key reconnected"
grep -q "channel refused: the user blocked this key" "$LAB_RUN_DIR/h1/hark-h1.log" && ok "the daemon log says it refused the blocked key" || not_ok "no refusal in the log"
hark_on h1 peers | grep -F "(${EVE:0:4})" | grep -q "^blocked" && ok "peers (text) shows it as blocked" || not_ok "peers text: $(hark_on h1 peers)"
hark_on h3 send ops "from the blocked impostor" >/dev/null 2>&1
hark_on h2 send ops "from bob after the block" >/dev/null
got_bob() { grep -q "from bob after the block" "$WATCH" 2>/dev/null; }
wait_until 20 got_bob && ok "watch still shows bob's messages" || not_ok "bob's message not watched"
relayed() { log_has h1 ops "from the blocked impostor"; }
wait_until 20 relayed && ok "the blocked key's message still reaches h1's log through bob (group logs stay whole)" || not_ok "the blocked key's message never reached h1"
sleep 1
! grep -q "from the blocked impostor" "$WATCH" && ok "…but watch does not show it" || not_ok "blocked key's message relayed to watch"
hark_on h1 peer unblock eve >/dev/null && ok "peer unblock exits 0" || not_ok "unblock failed"
eve_back() { [ "$(peer_field h1 "$EVE" connected)" = true ]; }
wait_until 30 eve_back && ok "after unblock the impostor connects again" || not_ok "no channel after unblock"

say "peer forget"
stop_daemon h3
hark_on h1 peer forget "${EVE:0:9}" >/dev/null && ok "peer forget exits 0" || not_ok "peer forget failed"
[ -z "$(peer_field h1 "$EVE" fingerprint)" ] && ok "the forgotten key is no longer listed" || not_ok "still listed: $(hark_on h1 peers)"
hark_on h1 verify "${EVE:0:9}" >/dev/null 2>&1; code=$?
[ "$code" = 67 ] && ok "verify of the forgotten key: unknown (exit 67)" || not_ok "verify forgotten: exit $code"
start_daemon h3
wait_until 30 eve_back && ok "the impostor comes back" || not_ok "impostor did not reconnect"
wait_until 10 eve_warned && ok "…and is flagged again (the name is still bound to bob)" || not_ok "no warning after forget"
[ "$(peer_field h1 "$EVE" alias)" = null ] && ok "…without its old alias" || not_ok "alias survived forget"

"$LAB" guard-check >&2 && ok "no lab packet left the machine" || not_ok "guard saw lab traffic on the real interface"
stop_daemon h1; stop_daemon h2; stop_daemon h3
summary
