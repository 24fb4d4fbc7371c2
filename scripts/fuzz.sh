#!/usr/bin/env bash
# Runs the libFuzzer target for FUZZ_SECONDS over the committed seed corpus Fuzz/corpus, writing
# new inputs to .build-fuzz/run/new. Then merges inputs that add edge coverage back into
# Fuzz/corpus, but only while it stays small (FUZZ_CORPUS_MAX_FILES files, FUZZ_CORPUS_MAX_BYTES
# bytes). Exits 1 if libFuzzer reports a crash, trap, sanitizer error, timeout or OOM, and prints
# where the reproducer is (kept until the next run). Build first: `make fuzz` does both.
# FUZZ_BIN overrides the fuzzer binary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${FUZZ_BIN:-.build-fuzz/debug/hark-fuzz}
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
MAX_FILES=${FUZZ_CORPUS_MAX_FILES:-300}
MAX_BYTES=${FUZZ_CORPUS_MAX_BYTES:-2097152}
CORPUS=Fuzz/corpus
WORK=.build-fuzz/run
LIMITS=(-rss_limit_mb=2048 -timeout=5)

[ -x "$BIN" ] || { echo "fuzz.sh: $BIN is missing; run make fuzz" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK/new" "$WORK/artifacts"

echo "fuzz.sh: fuzzing for ${SECONDS_TO_RUN}s over $CORPUS (log: $WORK/fuzz.log)"
set +e
"$BIN" -max_total_time="$SECONDS_TO_RUN" "${LIMITS[@]}" -print_final_stats=1 \
    -artifact_prefix="$WORK/artifacts/" "$WORK/new" "$CORPUS" >"$WORK/fuzz.log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+[[:space:]]+(INITED|pulse|DONE)|^stat::' "$WORK/fuzz.log" || true

shopt -s nullglob
artifacts=("$WORK"/artifacts/*)
if [ "$rc" -ne 0 ] || [ ${#artifacts[@]} -gt 0 ]; then
    tail -n 60 "$WORK/fuzz.log"
    echo "fuzz.sh: libFuzzer exited with $rc. Reproducer(s):" >&2
    for a in "${artifacts[@]}"; do echo "  $a   (replay: $BIN $a)" >&2; done
    exit 1
fi

# Merge: a scratch copy of the corpus gains a small set of new inputs (greedy set cover) that
# covers every new edge; hit counts are ignored (-use_counters=0), which keeps the set small.
# Keep the result if it stays within the limits.
cp -r "$CORPUS" "$WORK/merged"
"$BIN" -set_cover_merge=1 -use_counters=0 "${LIMITS[@]}" "$WORK/merged" "$WORK/new" >"$WORK/merge.log" 2>&1 \
    || { tail -n 30 "$WORK/merge.log"; echo "fuzz.sh: merge failed (log: $WORK/merge.log)" >&2; exit 1; }
files=$(find "$WORK/merged" -type f | wc -l)
bytes=$(find "$WORK/merged" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
before=$(find "$CORPUS" -type f | wc -l)
if [ "$files" -le "$MAX_FILES" ] && [ "$bytes" -le "$MAX_BYTES" ]; then
    cp -n "$WORK"/merged/* "$CORPUS"/
    echo "fuzz.sh: corpus $before -> $files files, $bytes bytes ($CORPUS)"
else
    echo "fuzz.sh: merged corpus would be $files files, $bytes bytes (limit $MAX_FILES, $MAX_BYTES); $CORPUS left as is"
fi
