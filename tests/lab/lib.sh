# Shared helpers of hark's lab tests and demo (sourced, not run).
# Every wait is bounded; every process runs inside the lab's own namespaces, started through
# scripts/lab.sh, and `lab_cleanup` ends them by their namespaces and removes the lab.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HARK=${HARK_BIN:-$ROOT/.build/debug/hark}
LAB="$ROOT/scripts/lab.sh"
export LAB_NAME=${LAB_NAME:-harktest}
export LAB_NET=${LAB_NET:-10.97.0}
export LAB_TTL=${LAB_TTL:-1800}
WORK=${WORK:-/tmp/$LAB_NAME.work}

PASSED=0
FAILED=0

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
ok() { PASSED=$((PASSED + 1)); printf 'ok   - %s\n' "$*"; }
not_ok() { FAILED=$((FAILED + 1)); printf 'FAIL - %s\n' "$*"; }

# hark_on HOST ARGS... : run the hark CLI on a lab host against that host's home
hark_on() { local h=$1; shift; "$LAB" exec "$h" env HARK_HOME="$WORK/$h" "$HARK" "$@"; }

# start_daemon HOST ARGS... : run `hark daemon` on HOST in the background (log in $WORK/HOST.log)
start_daemon() {
  local h=$1; shift
  "$LAB" spawn "$h" "hark-$h" env HARK_HOME="$WORK/$h" "$HARK" daemon "$@"
  wait_until 20 hark_on "$h" status >/dev/null 2>&1 || { echo "daemon on $h did not start" >&2; cat_log "$h"; return 1; }
}

LAB_RUN_DIR=${LAB_RUN:-/run/$LAB_NAME}

alive() { [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }

# stop_daemon HOST : SIGTERM the daemon started by start_daemon (by its PID) and wait, at
# most 10 s, for it to exit; SIGKILL after that. Returns 1 if it had to be killed.
stop_daemon() {
  local f="$LAB_RUN_DIR/$1/hark-$1.pid" p n=100
  [ -f "$f" ] || return 0
  p=$(cat "$f"); rm -f "$f"
  kill -TERM "$p" 2>/dev/null || return 0
  while [ $n -gt 0 ] && alive "$p"; do sleep 0.1; n=$((n - 1)); done
  if alive "$p"; then kill -KILL "$p" 2>/dev/null; return 1; fi
  cat "$LAB_RUN_DIR/$1/hark-$1.log" >>"$WORK/$1.daemon.log" 2>/dev/null || true
}

# hark_pid HOST : the PID of the hark process itself (the spawn PID file names its `timeout` wrapper)
hark_pid() {
  local p; p=$(cat "$LAB_RUN_DIR/$1/hark-$1.pid")
  for _ in 1 2 3 4; do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = "$(basename "$HARK" | cut -c1-15)" ] && { echo "$p"; return 0; }
    p=$(ps -o pid= --ppid "$p" | head -1 | tr -d ' '); [ -n "$p" ] || return 1
  done
  return 1
}

cat_log() { echo "--- daemon log of $1 (last 40 lines)" >&2; tail -n 40 "$LAB_RUN_DIR/$1/hark-$1.log" >&2 2>/dev/null || true; }

# wait_until SECONDS CMD... : poll CMD every 0.2 s until it succeeds, at most SECONDS
wait_until() {
  local n=$(( $1 * 5 )); shift
  while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.2; n=$((n - 1)); done
  return 1
}

connected_peers() { hark_on "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["connected_peers"])'; }
has_peer() { [ "$(connected_peers "$1" 2>/dev/null || echo 0)" -ge "${2:-1}" ]; }
log_has() { hark_on "$1" log "$2" --json 2>/dev/null | grep -qF -- "$3"; }

lab_setup() {
  [ -x "$HARK" ] || { echo "no hark binary at $HARK (run: swift build)" >&2; exit 2; }
  rm -rf "$WORK"; mkdir -p "$WORK"
  "$LAB" up "${1:-2}" >&2
}

lab_cleanup() {
  "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}

summary() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# fp_of HOST : the full fingerprint of HOST's identity
fp_of() { hark_on "$1" id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])'; }
# peer_field HOST FINGERPRINT KEY : one field (JSON) of the peer HOST lists with that fingerprint
peer_field() {
  hark_on "$1" peers --json 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    p = json.loads(l)
    if p["fingerprint"] == sys.argv[1]: print(json.dumps(p.get(sys.argv[2]))); break' "$2" "$3"
}
