#!/usr/bin/env bash
# Desktop notifications for new messages (notify-send, from libnotify-bin). Runs until stopped.
#   examples/desktop-notify.sh [GROUP]     # every group when none is given
set -uo pipefail
command -v notify-send >/dev/null || { echo "desktop-notify: notify-send not found (apt install libnotify-bin)" >&2; exit 69; }
exec hark watch ${1:+"$1"} --exec 'notify-send --app-name=hark -- "$HARK_SENDER in $HARK_GROUP" "$HARK_TEXT"'
