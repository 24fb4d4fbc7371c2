#!/usr/bin/env bash
# A peer whose address changes: h2 moves from .2 to .12 inside its own namespace while connected
# to h1 (both found through Avahi). The dead channel must not hold messages back: the moved side
# closes the channel whose local address is gone, the other probes its channel when the peer
# comes back from another address (or advertises it), and delivery resumes. Prints the time from
# the address change to the first message delivered each way and checks it is at most 3 s. Then
# each host's cable is pulled and plugged back (same address): the message sent to it meanwhile
# arrives, and the other side replaces its dead channel without waiting for the idle timeout.
# Last, the switch stops forwarding h1's port with both links up while both send: a channel
# stalled in retransmission back-off is closed as soon as the peer is heard again.
# Two lab hosts, each with its own D-Bus and avahi-daemon. Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkroam} LAB_NET=${LAB_NET:-10.93.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 2
"$LAB" guard-start >&2 || true
# IPv4 only: an IPv6 link-local address survives the move, and a channel over it would not be
# cut by it.
# promote_secondaries: the new address, added first, survives the removal of the old one.
for h in h1 h2; do
  "$LAB" exec "$h" sysctl -qw net.ipv6.conf.lan0.disable_ipv6=1 net.ipv4.conf.lan0.promote_secondaries=1
done
hark_on h1 init --name alice >/dev/null
hark_on h2 init --name bob >/dev/null
now_ms() { date +%s%3N; }
members_on() { hark_on "$1" group list --json | python3 -c 'import json,sys; print(max(len(json.loads(l)["members"]) for l in sys.stdin))'; }
has_members() { [ "$(members_on "$1" 2>/dev/null || echo 0)" = 2 ]; }
# until_delivered HOST TEXT SECONDS : poll HOST's log every 50 ms (bounded); prints elapsed ms
until_delivered() {
  local n=$(( $3 * 20 )) t0; t0=$(now_ms)
  while [ $n -gt 0 ]; do
    log_has "$1" ops "$2" && { echo $(( $(now_ms) - t0 )); return 0; }
    sleep 0.05; n=$((n - 1))
  done
  return 1
}

say "two hosts find each other and share a group"
start_daemon h1; start_daemon h2
wait_until 30 has_peer h1 && wait_until 10 has_peer h2 && ok "h1 and h2 are connected" || { not_ok "hosts did not connect"; cat_log h1; }
hark_on h1 group create ops >/dev/null
hark_on h2 group join "$(hark_on h1 group invite ops)" >/dev/null
wait_until 20 has_members h1 && wait_until 20 has_members h2 && ok "both see two members" || not_ok "membership did not converge"
hark_on h1 send ops "before the move" >/dev/null
wait_until 10 log_has h2 ops "before the move" && ok "a message arrives before the move" || not_ok "no delivery before the move"

for round in 1 2; do
  if [ "$round" = 1 ]; then old=2 new=12; else old=12 new=2; fi
  say "round $round: h2 moves from $LAB_NET.$old to $LAB_NET.$new"
  t0=$(now_ms)
  "$LAB" exec h2 sh -c "ip addr add $LAB_NET.$new/24 dev lan0 && ip addr del $LAB_NET.$old/24 dev lan0" \
    || { not_ok "round $round: cannot move h2: $("$LAB" exec h2 ip -4 addr show dev lan0 | grep inet)"; continue; }
  hark_on h1 send ops "moved $round, from h1" >/dev/null
  hark_on h2 send ops "moved $round, from h2" >/dev/null
  if ms=$(until_delivered h2 "moved $round, from h1" 20); then
    total=$(( $(now_ms) - t0 ))
    echo "# round $round: h1 -> h2 delivered ${total} ms after the address change" >&2
    [ "$total" -le 3000 ] && ok "round $round: h1 -> h2 resumes within 3 s of the address change ($total ms)" \
      || not_ok "round $round: h1 -> h2 took $total ms (goal 3000)"
  else
    not_ok "round $round: h1 -> h2 not delivered within 20 s"; cat_log h1; cat_log h2
  fi
  if until_delivered h1 "moved $round, from h2" 20 >/dev/null; then
    total=$(( $(now_ms) - t0 ))
    echo "# round $round: h2 -> h1 delivered ${total} ms after the address change" >&2
    [ "$total" -le 3000 ] && ok "round $round: h2 -> h1 resumes within 3 s ($total ms)" || not_ok "round $round: h2 -> h1 took $total ms (goal 3000)"
  else
    not_ok "round $round: h2 -> h1 not delivered within 20 s"
  fi
  addr=$(hark_on h1 peers --json | python3 -c 'import json,sys; print(next((p["address"] for p in map(json.loads, sys.stdin) if p["display_name"]=="bob"), ""))')
  case $addr in "$LAB_NET.$new:"*) ok "h1 now reaches h2 at $LAB_NET.$new";; *) not_ok "h1 shows h2 at '$addr'";; esac
done
# A cable pulled and plugged back: the host keeps its address. Its side closes the channel at
# once (the link is down); the other side's channel sits in TCP retransmission back-off, and the
# host dials again from the same address as soon as the link returns (without waiting for
# discovery to find the peer again). The other side must give up its dead channel then rather
# than keep it until the 15 s idle timeout. Each side is cut once.
silent_before() { grep -c "peer silent" "$LAB_RUN_DIR/$1/hark-$1.log" 2>/dev/null || true; }
for cut in h2 h1; do
  if [ "$cut" = h2 ]; then other=h1; else other=h2; fi
  say "the cable of $cut is pulled for 8 s and plugged back (same address)"
  silent0=$(silent_before "$other")
  "$LAB" partition "$cut" >&2
  sleep 1
  hark_on "$other" send ops "during the cut of $cut" >/dev/null   # queued on the dead channel
  sleep 7
  t0=$(now_ms); "$LAB" heal "$cut" >&2
  if until_delivered "$cut" "during the cut of $cut" 20 >/dev/null; then
    total=$(( $(now_ms) - t0 ))
    echo "# cable of $cut: delivered ${total} ms after the link came back" >&2
    ok "cable of $cut: the message sent during the cut arrives after the link returns ($total ms)"
  else
    not_ok "cable of $cut: the message sent during the cut did not arrive within 20 s"; cat_log "$other"
  fi
  [ "$(silent_before "$other")" = "$silent0" ] \
    && ok "cable of $cut: $other replaced the dead channel without waiting for the idle timeout" \
    || not_ok "cable of $cut: $other kept the dead channel until the 15 s idle timeout"
done
# A path cut further away (the switch stops forwarding; both links stay up, no address is
# lost): both sides send meanwhile, so each channel holds unacknowledged bytes in TCP
# retransmission back-off. The first side to hear the other's heartbeat again must close its
# stalled channel at once (TCP_INFO), not after the 1 s probe, and both messages arrive.
say "the switch stops forwarding h1's port for 8 s while both send (links stay up)"
"$LAB" block h1 >&2
sleep 1
hark_on h1 send ops "from h1 during the block" >/dev/null
hark_on h2 send ops "from h2 during the block" >/dev/null
sleep 7
t0=$(now_ms); "$LAB" unblock h1 >&2
if until_delivered h1 "from h2 during the block" 20 >/dev/null && until_delivered h2 "from h1 during the block" 20 >/dev/null; then
  total=$(( $(now_ms) - t0 ))
  echo "# block: both messages delivered ${total} ms after forwarding resumed" >&2
  ok "after the block both messages sent during it arrive ($total ms)"
else
  not_ok "a message sent during the block did not arrive within 20 s"; cat_log h1; cat_log h2
fi
grep -qh "channel stalled in TCP retransmission backoff; closing it" "$LAB_RUN_DIR/h1/hark-h1.log" "$LAB_RUN_DIR/h2/hark-h2.log" \
  && ok "the side that heard its peer again closed the channel stalled in retransmission back-off at once" \
  || not_ok "neither side closed its stalled channel at once (TCP_INFO)"

grep -q "a local address appeared; dialling the peers its loss cut off" "$LAB_RUN_DIR/h1/hark-h1.log" \
  && grep -q "a local address appeared; dialling the peers its loss cut off" "$LAB_RUN_DIR/h2/hark-h2.log" \
  && ok "each host dialled its peer itself when its link came back" \
  || not_ok "a host whose link came back did not dial the peer it had lost"

grep -q "local address of the channel is gone" "$LAB_RUN_DIR/h2/hark-h2.log" \
  && ok "h2 closed the channel whose local address was gone at once" || not_ok "h2's log shows no stranded channel"
grep -q "probe unanswered; closing the channel" "$LAB_RUN_DIR/h1/hark-h1.log" \
  && ok "h1 probed its channel to the moved peer and closed it when no answer came within 1 s" || not_ok "h1's log shows no failed probe"
grep -h "probing channel" "$LAB_RUN_DIR/h1/hark-h1.log" | sed 's/.*reason=/# h1 probed: /; s/ peer.id.*//' | sort | uniq -c >&2

stop_daemon h1; stop_daemon h2
"$LAB" guard-check >&2 && ok "no lab packet left the machine" || not_ok "lab traffic seen outside"
summary
