#!/usr/bin/env bash
# A bot: answers "!uptime" in a group with this host's uptime. Runs until stopped.
#   examples/uptime-bot.sh ops
# The message text reaches the hook only as $HARK_TEXT (never as part of a command line), so
# nothing a peer writes can run here.
set -uo pipefail
group=${1:-${HARK_GROUP:-ops}}
exec hark watch "$group" --exec '
  case "$HARK_TEXT" in
    "!uptime") hark send "$HARK_GROUP_ID" "$(hostname): up $(cut -d. -f1 /proc/uptime) s, load $(cut -d" " -f1-3 /proc/loadavg) (asked by $HARK_SENDER)" ;;
  esac'
