#!/usr/bin/env bash
# Benchmarks, release build. Each line prints hark's figure beside a baseline measured in the
# same run, and their ratio.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH=.build/release/hark-bench
HARK=.build/release/hark
"$BENCH" noise
"$BENCH" bulk-crypto
"$BENCH" sync
"$BENCH" replicate --events="${BENCH_EVENTS:-100000}"
"$BENCH" removal
"$BENCH" history-share

# hark send wall time with a daemon up, against a static "hello" Swift binary (goal <= 3x), and
# their CPU time (user + system), which a busy machine disturbs less. `hark` is the small client
# (it answers a send itself, and execs hark-node for everything else).
WORK=$(mktemp -d /tmp/hark-bench.XXXXXX)
cleanup() {
  for p in ${DPID:-}; do kill "$p" 2>/dev/null; done
  [ -s "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null
  wait 2>/dev/null; rm -rf "$WORK"
}
trap cleanup EXIT
printf 'print("hello")\n' >"$WORK/hello.swift"
swiftc -O -static-stdlib "$WORK/hello.swift" -o "$WORK/hello" 2>/dev/null
export HARK_HOME="$WORK/home"
"$HARK" init --name bench >/dev/null
"$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$WORK/daemon.log" &
DPID=$!
for _ in $(seq 1 100); do "$HARK" status >/dev/null 2>&1 && break; sleep 0.1; done
"$HARK" group create bench >/dev/null
command -v hyperfine >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq hyperfine >/dev/null; }
hyperfine -N --warmup 20 --runs 200 --export-json "$WORK/send.json" "$WORK/hello" "$HARK send bench benchmark-message" >/dev/null 2>&1
python3 - "$WORK/send.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
hello = next(v for k, v in r.items() if k.endswith("/hello"))
send = next(v for k, v in r.items() if " send " in k)
cpu = lambda x: x["user"] + x["system"]
print("hark.send        %6.2f ms   static hello  %6.2f ms   ratio %.1f   CPU %.2f ms vs %.2f ms, ratio %.1f   (mean of %d runs each, daemon up)"
      % (send["mean"] * 1e3, hello["mean"] * 1e3, send["mean"] / hello["mean"], cpu(send) * 1e3, cpu(hello) * 1e3,
         cpu(send) / cpu(hello), len(send["times"])))
PY
kill "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; DPID=

# send -> printed by `hark log --follow` on another node (two daemons on 127.0.0.1), p50/p99,
# beside the same hops through three socat relays.
command -v socat >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq socat >/dev/null; }
python3 scripts/bench-follow.py --hark "$HARK" --count "${BENCH_FOLLOW_COUNT:-1000}"

# daemon start -> listed in the peer's `hark peers`, against avahi-publish -> avahi-browse, in a
# 2-host lab (LAB_NAME=bench; root, network namespaces; goal <= 1.2x).
if [ "$(id -u)" = 0 ] && command -v avahi-daemon >/dev/null && command -v avahi-browse >/dev/null; then
  python3 scripts/bench-discovery.py --hark "$HARK" --runs "${BENCH_DISCOVERY_RUNS:-10}"
else
  echo "hark.discovery   skipped (needs root and the lab tools: scripts/lab.sh deps)"
fi

scripts/bench-files.sh

# reads, start-up, memory and sends as one group grows to 1M messages (HISTORY_SIZES to shorten)
scripts/bench-history.sh
