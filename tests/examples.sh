#!/usr/bin/env bash
# Runs the scripts in examples/ against two real daemons on 127.0.0.1 (no discovery): the cron
# disk-space alert, the CI notification, the !uptime bot and desktop notifications (with a
# stand-in notify-send that records its arguments); then `hark chat` in a pseudo-terminal
# (tests/chat_tty.py). Ends with "N passed, M failed".
set -uo pipefail
TEST_NAME=examples
. "$(dirname "$0")/lib.sh"

# `hark` on PATH, as the examples expect it.
mkdir -p "$T/bin"; ln -s "$HARK" "$T/bin/hark"; export PATH="$T/bin:$PATH"
A="$T/a" B="$T/b"
HARK_HOME=$A hark init --name alice >/dev/null
HARK_HOME=$B hark init --name bob >/dev/null
HARK_HOME=$A hark daemon --no-discovery --listen 127.0.0.1 2>"$T/a.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$A" hark status >/dev/null 2>&1 || not_ok "daemon a did not start"
PORT=$(HARK_HOME=$A hark status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_port"])')
HARK_HOME=$B hark daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$PORT" 2>"$T/b.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$B" hark status >/dev/null 2>&1 || not_ok "daemon b did not start"
HARK_HOME=$A hark group create ops >/dev/null
HARK_HOME=$B hark group join "$(HARK_HOME=$A hark group invite ops)" >/dev/null
members() { HARK_HOME=$1 hark group list --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["members"].__len__())'; }
two_members() { [ "$(members "$A")" = 2 ]; }
wait_until 10 two_members || not_ok "bob's join did not reach alice"
log_has() { HARK_HOME=$1 hark log ops --json | grep -qF -- "$2"; }

# disk-space-alert.sh: silent under the threshold, one message over it.
HARK_HOME=$A THRESHOLD=101 "$ROOT/examples/disk-space-alert.sh"; rc=$?
[ $rc = 0 ] && ! log_has "$A" "is " && ok "disk-space-alert is silent below the threshold" || not_ok "disk-space-alert below threshold: exit $rc"
HARK_HOME=$A THRESHOLD=0 "$ROOT/examples/disk-space-alert.sh"; rc=$?
[ $rc = 0 ] && ok "disk-space-alert over the threshold sends and waits for delivery (exit 0)" || not_ok "disk-space-alert exit $rc"
wait_until 10 log_has "$B" "disk: / on $(hostname) is" && ok "…and bob got the alert" || not_ok "bob has no disk alert"

# notify-on-failure.sh: a failing CI step is reported with its exit code, and the code is kept.
HARK_HOME=$A "$ROOT/examples/notify-on-failure.sh" sh -c 'echo compiling; exit 3'; rc=$?
[ $rc = 3 ] && ok "notify-on-failure keeps the command's exit code (3)" || not_ok "notify-on-failure exit $rc"
wait_until 10 log_has "$B" "FAILED (exit 3)" && ok "…and bob got the failure report" || not_ok "no failure report on bob"
HARK_HOME=$A "$ROOT/examples/notify-on-failure.sh" true; rc=$?
[ $rc = 0 ] && wait_until 10 log_has "$B" "ok: true on" && ok "a passing step is reported as ok" || not_ok "ok report missing (exit $rc)"

# uptime-bot.sh on bob answers alice's !uptime, and ignores other text.
HARK_HOME=$B "$ROOT/examples/uptime-bot.sh" ops 2>"$T/bot.err" & PIDS+=($!)
sleep 1
HARK_HOME=$A hark send ops "uptime please"
HARK_HOME=$A hark send ops '!uptime'
wait_until 15 log_has "$A" "(asked by alice)" && ok "the !uptime bot answered alice" || { not_ok "no answer from the bot"; cat "$T/bot.err"; }
replies() { HARK_HOME=$A hark log ops --json | grep -c "asked by alice"; }
sleep 1; [ "$(replies)" = 1 ] && ok "…exactly once, and not to other text" || not_ok "$(replies) bot replies"

# desktop-notify.sh with a stand-in notify-send that records its arguments.
cat >"$T/bin/notify-send" <<SH
#!/bin/sh
printf '%s\n' "\$@" >>"$T/notified"
SH
chmod +x "$T/bin/notify-send"
HARK_HOME=$A "$ROOT/examples/desktop-notify.sh" ops 2>"$T/notify.err" & PIDS+=($!)
sleep 1
HARK_HOME=$B hark send ops 'build $(whoami) `id` done'
notified() { grep -qxF 'build $(whoami) `id` done' "$T/notified" 2>/dev/null; }
wait_until 10 notified && ok "desktop-notify called notify-send with the text as one argument, unexpanded" || { not_ok "notify-send not called right: $(cat "$T/notified" 2>/dev/null)"; cat "$T/notify.err"; }
grep -qxF "bob in ops" "$T/notified" 2>/dev/null && ok "…with sender and group as the title" || not_ok "title: $(head -3 "$T/notified" 2>/dev/null)"

# hark chat in a pseudo-terminal (tests/chat_tty.py): history, live messages, typing, sending.
HARK_HOME=$A hark send ops "history line one" >/dev/null
if python3 "$ROOT/tests/chat_tty.py" "$HARK" "$A" "$B" ops >"$T/chat.out" 2>&1; then ok "hark chat in a terminal: $(tail -1 "$T/chat.out")"
else not_ok "hark chat in a terminal:"; cat "$T/chat.out"; fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
