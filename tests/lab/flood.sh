#!/usr/bin/env bash
# An unauthenticated flood from another lab host: 1000 connections that each announce a
# 262160-byte attachment before any handshake and send 262000 bytes of it, held open for 15 s
# (tests/lab/tools/handshake-flood.py, bounded in count and time, aimed at h1's lab address).
# While it runs: the daemon's peak RSS (VmHWM) stays ≤ 100 MB, `hark status` answers within
# 1 s, and a real peer on a third host connects. Prints the measured figures.
# Ends with "N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

FLOOD_COUNT=${FLOOD_COUNT:-1000}
FLOOD_SECONDS=${FLOOD_SECONDS:-15}
RSS_LIMIT_KB=$((100 * 1024))
STATUS_LIMIT_MS=1000

lab_setup 3
hark_on h1 init --name target >/dev/null
hark_on h3 init --name real >/dev/null

say "target daemon on h1"
start_daemon h1 --port 7411 --no-discovery || { not_ok "daemon on h1 did not start"; summary; exit 1; }
pid=$(hark_pid h1)
base=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
echo "daemon pid $pid, RSS before the flood: $((base / 1024)) MB"

say "flood: $FLOOD_COUNT connections from h2 for $FLOOD_SECONDS s"
"$LAB" spawn h2 flood python3 "$ROOT/tests/lab/tools/handshake-flood.py" "$LAB_NET.1" 7411 "$FLOOD_COUNT" "$FLOOD_SECONDS"
sleep 1
start_daemon h3 --peer "$LAB_NET.1:7411" --no-discovery || not_ok "daemon on h3 did not start"

worst=0; samples=0; real_ok=0
end=$(( $(date +%s) + FLOOD_SECONDS - 1 ))
while [ "$(date +%s)" -lt "$end" ] && [ $samples -lt 100 ]; do
  t0=$(date +%s%N)
  hark_on h1 status >/dev/null 2>&1 || echo "status failed during the flood" >&2
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$ms" -gt "$worst" ] && worst=$ms
  samples=$((samples + 1))
  [ $real_ok = 0 ] && has_peer h3 && has_peer h1 && real_ok=1
  sleep 0.3
done
flood_pid=$(cat "$LAB_RUN_DIR/h2/flood.pid" 2>/dev/null || true)
wait_until 20 sh -c "! kill -0 $flood_pid 2>/dev/null" || true
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
flood_line=$(grep '^flood:' "$LAB_RUN_DIR/h2/flood.log" 2>/dev/null | tail -1)
echo "${flood_line:-flood: no report}"
echo "peak RSS (VmHWM) of the daemon: $((peak / 1024)) MB ($peak kB); worst hark status latency: $worst ms over $samples samples"

connected=$(echo "$flood_line" | awk '{print $2}')
[ "${connected:-0}" -ge $((FLOOD_COUNT * 9 / 10)) ] && ok "the flood opened ${connected} connections" \
  || not_ok "the flood did not run as intended: ${flood_line:-no report}"
[ "$peak" -le "$RSS_LIMIT_KB" ] && ok "peak RSS $((peak / 1024)) MB ≤ 100 MB under the flood" \
  || not_ok "peak RSS $((peak / 1024)) MB > 100 MB under the flood"
[ "$worst" -le "$STATUS_LIMIT_MS" ] && ok "hark status answered within $worst ms (≤ 1 s) during the flood" \
  || not_ok "hark status took $worst ms during the flood"
[ "$real_ok" = 1 ] && ok "a real peer on h3 connected to h1 while the flood ran" \
  || { not_ok "the real peer on h3 did not connect during the flood"; cat_log h3; cat_log h1; }
alive "$pid" && ok "the daemon on h1 is still running" || not_ok "the daemon on h1 died"

stop_daemon h3
stop_daemon h1
summary
