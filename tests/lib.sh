# Shared prologue of the command-line test scripts (tests/*.sh; the lab suites have
# tests/lab/lib.sh). Sourced, not run. The caller sets TEST_NAME first; it gets:
#   ROOT, HARK (the debug binary, or $HARK_BIN), T (a fresh temporary folder, removed at exit),
#   PIDS (processes to end at exit, by PID), PASSED/FAILED and ok/not_ok/expect/wait_until.
# A script that needs more clean-up defines cleanup_extra; it runs at exit before T is removed.
# Every wait is bounded (wait_until SECONDS).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARK=${HARK_BIN:-$ROOT/.build/debug/hark}
T=$(mktemp -d "/tmp/hark-${TEST_NAME:-test}.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null
  if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
  rm -rf "$T"
}
trap cleanup EXIT
PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# expect CODE DESCRIPTION CMD... : run CMD (stdout in $T/out, stderr in $T/err), check its exit code
expect() {
  local want=$1 what=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else not_ok "$what: exit $got, expected $want; stderr: $(head -c 300 "$T/err")"; fi
}
# wait_until SECONDS CMD... : poll CMD every 0.1 s until it succeeds, at most SECONDS
wait_until() { local n=$(( $1 * 10 )); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }
# contains GREP-ARGS... : grep that reads all its input and prints nothing. Use it instead of
# `| grep -q` under pipefail: grep -q exits at the first match, and the writer's SIGPIPE would
# fail the pipeline.
contains() { grep "$@" >/dev/null; }
