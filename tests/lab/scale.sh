#!/usr/bin/env bash
# One group of N members on one LAN (scripts/lab.sh: N hosts on one bridge, real avahi-daemons),
# for each N given (default: 5 10 20):
#   - time for every node to list the N−1 others as connected, and to form the group (create,
#     N−1 parallel joins, every node lists N members);
#   - every node sends SCALE_SENDS messages (one every SCALE_INTERVAL_MS, all nodes at once);
#     bytes on the wire per delivered event (every frame entering the bridge, counted on the
#     switch's ports, /sys/class/net/hI/statistics/rx_bytes, idle rate measured beforehand and
#     subtracted) and daemon CPU per delivered event (utime+stime of the daemons from
#     /proc/PID/stat, idle subtracted); a delivered event is one event arriving at one node;
#   - 0 lost, 0 duplicated, one order on every node;
#   - half the hosts cut off at the switch, both sides send, heal: time until every node holds
#     everything again in one order.
# SCALE_FLOOD_HOSTS="h6 ..." runs those daemons with the test hook HARK_TEST_PROTOCOL=flood
# (docs/PROTOCOL.md Appendix C): they speak only §6.2 flooding, as nodes before §6.4 did, and must
# converge with the others. SCALE_EAGER_HOSTS="h5 ..." runs those with
# HARK_TEST_PROTOCOL=eager-links: one tree for all authors, as the first §6.4 nodes (links start
# eager, grafts make them eager for every author). Correctness is checked (ok/FAIL); the figures are printed, not judged
# (speed goals live in benchmarks). Ends with "N passed, M failed".
#   LAB_NAME=.. LAB_NET=.. tests/lab/scale.sh [N...]
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkscale} LAB_NET=${LAB_NET:-10.89.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

SENDS=${SCALE_SENDS:-20}
INTERVAL_MS=${SCALE_INTERVAL_MS:-100}
IDLE_S=${SCALE_IDLE_S:-10}
FLOOD_HOSTS=" ${SCALE_FLOOD_HOSTS:-} "
EAGER_HOSTS=" ${SCALE_EAGER_HOSTS:-} "
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(5 10 20)
HZ=$(python3 -c 'import os; print(os.sysconf("SC_CLK_TCK"))')
RESULTS=()

secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
hosts_of() { local i; for i in $(seq 1 "$1"); do echo "h$i"; done; }
# bytes that entered the switch from every host so far
wire_bytes() {
  local n=$1 i sum=0 b
  for i in $(seq 1 "$n"); do
    b=$(ip netns exec "$LAB_NAME-sw" cat "/sys/class/net/h$i/statistics/rx_bytes" 2>/dev/null || echo 0)
    sum=$((sum + b))
  done
  echo "$sum"
}
# CPU ticks (utime + stime) of every daemon so far
cpu_ticks() {
  local h p sum=0 t
  for h in "$@"; do
    p=${PIDS[$h]:-}; [ -n "$p" ] || continue
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
peers_all() { local h n=$1; shift; for h in "$@"; do has_peer "$h" "$n" || return 1; done; }
members_of() { hark_on "$1" group list --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    g = json.loads(l)
    if g["name"] == "scale": print(len(g["members"])); break
else: print(0)'; }
members_all() { local h n=$1; shift; for h in "$@"; do [ "$(members_of "$h")" -ge "$n" ] || return 1; done; }
ids_of() { hark_on "$1" log scale --ids 2>/dev/null; }
# ids_all HOSTS... : every host's `log --ids` into $WORK/ids/HOST, all hosts at once (a poll of
# 20 hosts one after the other would add seconds to the times measured)
ids_all() {
  local h pids=(); mkdir -p "$WORK/ids"
  for h in "$@"; do ids_of "$h" >"$WORK/ids/$h" & pids+=($!); done
  wait "${pids[@]}"
}
count_all() {
  local h n=$1; shift; ids_all "$@"
  for h in "$@"; do [ "$(wc -l <"$WORK/ids/$h")" -ge "$n" ] || return 1; done
}
# converged N HOSTS... : every host holds at least N events, all in the same order (one poll)
converged() {
  local h n=$1; shift; ids_all "$@"
  for h in "$@"; do
    [ "$(wc -l <"$WORK/ids/$h")" -ge "$n" ] && cmp -s "$WORK/ids/$1" "$WORK/ids/$h" || return 1
  done
}
# explain_divergence HOSTS... : after a failed check, what each node holds against the union of
# all (IDs in `log --ids`, texts in `log --json`) and where its order first departs from h1's
explain_divergence() {
  local h d="$WORK/divergence"; mkdir -p "$d"
  for h in "$@"; do ids_of "$h" >"$d/$h.ids"; hark_on "$h" log scale --json >"$d/$h.json" 2>"$d/$h.err"; done
  python3 - "$d" "$@" <<'PY' >&2
import json, sys, os
d, hosts = sys.argv[1], sys.argv[2:]
ids = {h: open(os.path.join(d, h + ".ids")).read().split() for h in hosts}
union = set().union(*ids.values())
ref = ids[hosts[0]]
for h in hosts:
    mine = ids[h]
    texts = sum(1 for l in open(os.path.join(d, h + ".json")) if l.strip())
    err = open(os.path.join(d, h + ".err")).read().strip().splitlines()[-1:] or [""]
    first = next((i for i, (a, b) in enumerate(zip(mine, ref)) if a != b), None)
    if first is None and len(mine) != len(ref): first = min(len(mine), len(ref))
    missing = sorted(union - set(mine))
    print("  %s: %d IDs (union %d), %d messages, missing %s, order departs from %s at %s%s"
          % (h, len(mine), len(union), texts, [m[:12] for m in missing[:4]], hosts[0],
             "-" if first is None else first, ("; log: " + err[0]) if err[0] else ""))
PY
}
same_order() { converged 0 "$@"; }
# send_all TAG HOSTS... : every host sends SENDS messages "TAG HOST i" through its control
# socket, one every INTERVAL_MS, all hosts at once; fails if any send failed
send_all() {
  local tag=$1 h pids=() rc=0; shift
  for h in "$@"; do
    "$LAB" exec "$h" env HARK_HOME="$WORK/$h" python3 - "$tag $h" "$SENDS" "$INTERVAL_MS" <<'PY' &
import json, os, socket, sys, time
prefix, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000
s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(os.environ["HARK_HOME"] + "/control.sock")
f = s.makefile("rwb")
for i in range(n):
    f.write((json.dumps({"id": i, "method": "send", "params": {"group": "scale", "text": "%s %04d" % (prefix, i)}}) + "\n").encode())
    f.flush()
    r = json.loads(f.readline())
    for _ in range(100):   # keepalive lines while a slow request runs (CONTROL.md "Timeouts and keepalive")
        if r.get("event") != "keepalive": break
        r = json.loads(f.readline())
    if "result" not in r: sys.exit("send failed: %r" % r)
    time.sleep(gap)
PY
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}
texts_ok() {  # texts_ok HOST TOTAL : prints "all distinct" counts
  hark_on "$1" log scale --json 2>/dev/null | python3 -c '
import json, sys
t = [json.loads(l)["text"] for l in sys.stdin]
print(len(t), len(set(t)))'
}

run_size() {
  local n=$1 hosts h t0 t_peers t_group
  mapfile -t hosts < <(hosts_of "$n")
  declare -gA PIDS=()
  say "$n members"
  lab_setup "$n"
  for h in "${hosts[@]}"; do hark_on "$h" init --name "m$h" >/dev/null; done
  t0=$(now_ms)
  for h in "${hosts[@]}"; do
    if [[ $FLOOD_HOSTS == *" $h "* ]]; then
      "$LAB" spawn "$h" "hark-$h" env HARK_HOME="$WORK/$h" HARK_TEST_PROTOCOL=flood "$HARK" daemon
    elif [[ $EAGER_HOSTS == *" $h "* ]]; then
      "$LAB" spawn "$h" "hark-$h" env HARK_HOME="$WORK/$h" HARK_TEST_PROTOCOL=eager-links "$HARK" daemon
    else
      "$LAB" spawn "$h" "hark-$h" env HARK_HOME="$WORK/$h" "$HARK" daemon
    fi
  done
  for h in "${hosts[@]}"; do wait_until 60 hark_on "$h" status >/dev/null 2>&1 || not_ok "daemon on $h did not start"; done
  for h in "${hosts[@]}"; do PIDS[$h]=$(hark_pid "$h"); done
  if wait_until $((30 + 3 * n)) peers_all $((n - 1)) "${hosts[@]}"; then
    t_peers=$(( $(now_ms) - t0 )); ok "$n: every node connected to the $((n - 1)) others"
  else t_peers=-1; not_ok "$n: not every node connected to all others"; cat_log h1; fi

  t0=$(now_ms)
  hark_on h1 group create scale >/dev/null
  local token; token=$(hark_on h1 group invite scale --uses $((n - 1)))
  local jp=()
  for h in "${hosts[@]:1}"; do hark_on "$h" group join "$token" >/dev/null 2>>"$WORK/join.err" & jp+=($!); done
  local jrc=0; for p in "${jp[@]}"; do wait "$p" || jrc=1; done
  [ $jrc = 0 ] || not_ok "$n: a join failed: $(tail -3 "$WORK/join.err")"
  if wait_until $((30 + 2 * n)) members_all "$n" "${hosts[@]}"; then
    t_group=$(( $(now_ms) - t0 )); ok "$n: the group formed: every node lists $n members"
  else t_group=-1; not_ok "$n: the group did not form everywhere"; fi
  local base; base=$(ids_of h1 | wc -l)
  wait_until 30 count_all "$base" "${hosts[@]}" || true
  sleep 3

  # idle rates
  local b0 c0 b1 c1 ti0 ti1
  b0=$(wire_bytes "$n"); c0=$(cpu_ticks "${hosts[@]}"); ti0=$(now_ms)
  sleep "$IDLE_S"
  b1=$(wire_bytes "$n"); c1=$(cpu_ticks "${hosts[@]}"); ti1=$(now_ms)
  local idle_ms=$((ti1 - ti0)) idle_b=$((b1 - b0)) idle_c=$((c1 - c0))

  # the load
  local total=$((base + n * SENDS)) ts t_end t_conv
  b0=$(wire_bytes "$n"); c0=$(cpu_ticks "${hosts[@]}"); ts=$(now_ms)
  send_all load "${hosts[@]}" && ok "$n: all $((n * SENDS)) sends succeeded" || not_ok "$n: some sends failed"
  # h1 first, then all: a poll makes every daemon page its whole log, work of the test's that
  # the CPU figure would count, five times a second on every node.
  if wait_until $((60 + 4 * n)) count_all "$total" h1 && wait_until $((60 + 4 * n)) count_all "$total" "${hosts[@]}"; then
    t_end=$(now_ms); t_conv=$((t_end - ts)); ok "$n: every node holds all $total events"
  else t_end=$(now_ms); t_conv=-1; not_ok "$n: not every node holds $total events"; fi
  sleep 1   # trailing acknowledgements and announcements belong to the load
  b1=$(wire_bytes "$n"); c1=$(cpu_ticks "${hosts[@]}"); t_end=$(now_ms)
  local dt=$((t_end - ts)) deliveries=$((n * SENDS * (n - 1)))
  local bytes=$(( (b1 - b0) - idle_b * dt / idle_ms )) ticks=$(( (c1 - c0) - idle_c * dt / idle_ms ))
  local bpe cpe
  bpe=$(awk -v b="$bytes" -v d="$deliveries" 'BEGIN { printf "%.2f", b / d / 1000 }')
  cpe=$(awk -v t="$ticks" -v hz="$HZ" -v d="$deliveries" 'BEGIN { printf "%.3f", t * 1000 / hz / d }')
  local lost=0 dup=0 c
  for h in "${hosts[@]}"; do
    read -r all distinct < <(texts_ok "$h")
    [ "$all" -lt $((n * SENDS)) ] && lost=$((lost + n * SENDS - all))
    dup=$((dup + all - distinct))
  done
  [ $lost = 0 ] && ok "$n: 0 lost" || { not_ok "$n: $lost lost"; explain_divergence "${hosts[@]}"; }
  [ $dup = 0 ] && ok "$n: 0 duplicated" || not_ok "$n: $dup duplicated"
  wait_until 20 same_order "${hosts[@]}" && ok "$n: one order on every node" || { not_ok "$n: orders differ"; explain_divergence "${hosts[@]}"; }

  # partition: h1..h(n/2) cut off, both sides send, heal
  local half=$((n / 2)) side_a side_b t_heal
  side_a=("${hosts[@]:0:half}"); side_b=("${hosts[@]:half}")
  echo "# $(date +%T) cutting ${side_a[*]}" >&2
  for h in "${side_a[@]}"; do "$LAB" partition "$h" >&2; done
  sleep 2
  SENDS=2 INTERVAL_MS=50 send_all cut "${hosts[@]}" || not_ok "$n: a send during the partition failed"
  local before=$((total + 2 * half)) after=$((total + 2 * n))
  wait_until 30 count_all "$before" "${side_a[@]}" || true
  sleep 3
  t0=$(now_ms)
  echo "# $(date +%T) healing" >&2
  for h in "${side_a[@]}"; do "$LAB" heal "$h" >&2; done
  if wait_until $((60 + 2 * n)) converged "$after" "${hosts[@]}"; then
    t_heal=$(( $(now_ms) - t0 )); ok "$n: after the heal every node holds all $after events in one order"
  else t_heal=-1; not_ok "$n: no convergence after the heal"; explain_divergence "${hosts[@]}"; fi

  local line
  line=$(printf '%3d members: %6s kB/event on the wire, %6s ms CPU/event, all connected %5.1f s, group formed %5.1f s, load converged %5.1f s after the first send, heal converged %5.1f s, %d lost, %d duplicated (%d events, %d deliveries)' \
    "$n" "$bpe" "$cpe" "$(secs "$t_peers")" "$(secs "$t_group")" "$(secs "$t_conv")" "$(secs "$t_heal")" \
    "$lost" "$dup" "$((n * SENDS))" "$deliveries")
  echo "$line"
  RESULTS+=("$line")
  for h in "${hosts[@]}"; do stop_daemon "$h" || true; done
  # what h1's broadcast sent (logged as it stops; absent on a flooding node)
  grep -h "broadcast counters\|frames sent\|events delivered" "$WORK/h1.daemon.log" 2>/dev/null | tail -3 | sed 's/^/  h1: /'
  "$LAB" down >/dev/null 2>&1 || true
}

for n in "${SIZES[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] || { echo "usage: scale.sh [N...] (N ≥ 2)" >&2; exit 64; }
  run_size "$n"
done
echo "--- scale: $SENDS sends per member, one every $INTERVAL_MS ms$( [ -n "${SCALE_FLOOD_HOSTS:-}" ] && echo ", flooding (§6.2 only) on:${SCALE_FLOOD_HOSTS}")$( [ -n "${SCALE_EAGER_HOSTS:-}" ] && echo ", links starting eager on:${SCALE_EAGER_HOSTS}")"
for l in "${RESULTS[@]}"; do echo "$l"; done
summary
