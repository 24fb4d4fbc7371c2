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
# (a static executable that answers a send itself, and execs hark-node for everything else).
# The second line is the daemon's part of that wall time: the same `send` request written to the
# control socket by one long-lived process, connect to answer.
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
print("hark.send        %6.2f ms   static hello  %6.2f ms   ratio %.1f   CPU %.2f ms vs %.2f ms, ratio %.1f   (mean of %d runs each, daemon up; median %.2f vs %.2f ms, ratio %.1f)"
      % (send["mean"] * 1e3, hello["mean"] * 1e3, send["mean"] / hello["mean"], cpu(send) * 1e3, cpu(hello) * 1e3,
         cpu(send) / cpu(hello), len(send["times"]), send["median"] * 1e3, hello["median"] * 1e3, send["median"] / hello["median"]))
PY
python3 - "$HARK_HOME/control.sock" <<'PY'
import socket, statistics, sys, time
times = []
for i in range(200):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    t0 = time.perf_counter()
    s.connect(sys.argv[1])
    s.sendall(b'{"id":1,"method":"send","params":{"group":"bench","text":"benchmark-request %d"}}\n' % i)
    line = b""
    while not line.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk: sys.exit("the daemon closed the connection")
        line += chunk
    times.append(time.perf_counter() - t0)
    s.close()
    if b'"error"' in line: sys.exit("the daemon refused the send: %s" % line[:200])
print("hark.send.daemon %6.2f ms   connect to answer of one send request on the control socket (median of %d)"
      % (statistics.median(times) * 1e3, len(times)))
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
