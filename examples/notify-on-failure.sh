#!/usr/bin/env bash
# Runs a command and tells the "ops" group how it went. Usage: notify-on-failure.sh CMD...
# Needs a running `hark daemon` that is a member of the group (see README).
set -uo pipefail
group=${HARK_GROUP:-ops}
if out=$("$@" 2>&1); then
  hark send "$group" "ok: $* on $(hostname)"
else
  rc=$?
  printf 'FAILED (exit %d): %s on %s\n%s\n' "$rc" "$*" "$(hostname)" "$(tail -n 20 <<<"$out")" | hark send "$group"
  exit "$rc"
fi
