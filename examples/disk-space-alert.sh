#!/usr/bin/env bash
# Cron job: tell a group when a file system fills up. Silent when all is well.
#   */10 * * * *  $HOME/bin/disk-space-alert.sh   (copy it there from examples/ in the source tree)
# Settings (environment): HARK_GROUP (default ops), THRESHOLD percent (default 90),
# MOUNTS (default "/"). Works with or without a running daemon: without one, `hark send` starts
# a short-lived node, and a message nobody could take stays queued (exit 75; cron mails it).
set -uo pipefail
group=${HARK_GROUP:-ops}
threshold=${THRESHOLD:-90}
status=0
for mount in ${MOUNTS:-/}; do
  used=$(df -P "$mount" | awk 'NR == 2 { sub("%", "", $5); print $5 }')
  [ -n "$used" ] || { echo "disk-space-alert: cannot read $mount" >&2; status=74; continue; }
  if [ "$used" -ge "$threshold" ]; then
    hark send "$group" "disk: $mount on $(hostname) is ${used}% full (threshold ${threshold}%)" \
      --wait delivered --of any --timeout 30s || status=$?
  fi
done
exit "$status"
