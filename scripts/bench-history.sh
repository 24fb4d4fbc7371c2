#!/usr/bin/env bash
# Growth benchmark (release build): one group filled to 1k, 10k, 100k and 1M messages by
# `hark-bench fill`; at each size, log --limit 20 (and --before a middle message), group list,
# daemon start until status answers, daemon RSS after start and after 1,000 sends, and send wall
# time, with ratios against the first size. Every step is bounded (HISTORY_TIMEOUT s, default 60;
# the sends of one size HISTORY_SEND_TIMEOUT s, default 300).
#   HISTORY_SIZES="1000 10000"  sizes to measure (default "1000 10000 100000 1000000")
#   HISTORY_RUNS=5              runs per read (median)
#   HISTORY_SENDS=1000          sends per size (timed one by one; median; daemon CPU per send beside it)
#   HISTORY_INTERLEAVE=3        also measure the sends again in 3 rounds that visit every size in turn
#   HISTORY_HOMES="1000000=DIR" measure a copy of a home filled earlier at that size instead of filling it
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
exec python3 scripts/bench-history.py --hark "${HARK:-.build/release/hark}" --bench "${BENCH:-.build/release/hark-bench}"
