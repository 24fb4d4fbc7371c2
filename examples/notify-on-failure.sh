#!/usr/bin/env bash
# CI step wrapper: runs a command and tells the "ops" group how it went, keeping its exit code.
#   examples/notify-on-failure.sh make test
# Uses the running `hark daemon` when there is one, else a short-lived node (see hark.send(1)).
set -uo pipefail
group=${HARK_GROUP:-ops}
if out=$("$@" 2>&1); then
  hark send "$group" "ok: $* on $(hostname)"
else
  rc=$?
  printf 'FAILED (exit %d): %s on %s\n%s\n' "$rc" "$*" "$(hostname)" "$(tail -n 20 <<<"$out")" | hark send "$group"
  exit "$rc"
fi
