#!/usr/bin/env bash
# Benchmarks, release build. Each line prints hark's figure beside a baseline measured in the
# same run, and their ratio.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH=.build/release/hark-bench
HARK=.build/release/hark
"$BENCH" noise

# hark send wall time with a daemon up, against a static "hello" Swift binary.
WORK=$(mktemp -d /tmp/hark-bench.XXXXXX)
cleanup() { [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
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
echo
echo "hark send (daemon up) against a static Swift hello, same run:"
hyperfine -N --warmup 20 --runs 200 --style basic "$WORK/hello" "$HARK send bench benchmark-message" 2>&1 | sed -n "/Summary/,\$p"
