#!/usr/bin/env bash
# Acceptance test of the full-screen `hark chat`, driven in tmux as a person would use it (keys
# typed with send-keys, pastes with paste-buffer -p, the screen read back with capture-pane):
# two daemons on 127.0.0.1 (no discovery), 50 messages each way, ticks updated in place, a
# 3-line paste as one message, cursor keys and history, emoji and CJK widths, the unread count
# in the status bar and the read marker, 40 columns, and a daemon restart. Ends with
# "N passed, M failed"; exit 0 iff all pass. Every wait is bounded (wait_until N seconds).
# Needs tmux (scripts/deps.sh). Daemons are stopped by PID; the tmux server is private (-L).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARK=${HARK_BIN:-$ROOT/.build/debug/hark}
command -v tmux >/dev/null || { echo "FAIL - tmux is not installed (scripts/deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
T=$(mktemp -d /tmp/hark-chat.XXXXXX)
SOCK="hark-chat-$$"
TM() { tmux -L "$SOCK" -f /dev/null "$@"; }
PIDA="" PIDB=""
cleanup() {
  TM kill-server 2>/dev/null
  for p in $PIDA $PIDB; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT INT TERM
PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
wait_until() { local n=$(( $1 * 10 )); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; echo "--- screen:"; screen | sed 's/^/| /'; fi; }

A="$T/a" B="$T/b"
export HARK_HOME=  # each command names its home
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HARK_HOME=$A "$HARK" init --name alice >/dev/null
HARK_HOME=$B "$HARK" init --name bob >/dev/null
start_a() { HARK_HOME=$A "$HARK" daemon --no-discovery --listen 127.0.0.1 --port "$PORT" 2>>"$T/a.log" & PIDA=$!; }
start_a
wait_until 10 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1 || not_ok "daemon a did not start"
HARK_HOME=$B "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$PORT" 2>"$T/b.log" & PIDB=$!
wait_until 10 env HARK_HOME="$B" "$HARK" status >/dev/null 2>&1 || not_ok "daemon b did not start"
HARK_HOME=$A "$HARK" group create ops >/dev/null
HARK_HOME=$B "$HARK" group join "$(HARK_HOME=$A "$HARK" group invite ops)" >/dev/null
two_members() { [ "$(HARK_HOME=$A "$HARK" group list --json | python3 -c 'import json,sys; print(len(json.loads(sys.stdin.readline())["members"]))')" = 2 ]; }
wait_until 15 two_members || not_ok "bob's join did not reach alice"
for i in $(seq 1 5); do HARK_HOME=$B "$HARK" send ops "history $i" >/dev/null; done

# Bob's view of alice's messages, through the control socket (the daemon's JSON).
control() { python3 - "$1" "$2" "$3" <<'PY'
import json, socket, sys, os
home, method, params = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(os.path.join(home, "control.sock"))
s.sendall(json.dumps({"id": 1, "method": method, "params": json.loads(params)}).encode() + b"\n")
print(json.dumps(json.loads(s.makefile().readline()).get("result")))
PY
}
count_texts() { control "$1" log '{"group":"ops"}' | python3 -c "
import json,sys,re; r=re.compile(sys.argv[1]); print(sum(1 for m in json.load(sys.stdin) if r.fullmatch(m['text'])))" "$2"; }
has_count() { [ "$(count_texts "$1" "$2")" = "$3" ]; }

screen() { TM capture-pane -p -t chat; }
on_screen() { screen | grep -qF -- "$1"; }
not_on_screen() { ! screen | grep -qF -- "$1"; }
status_line() { screen | grep -F '[ops]' | tail -1; }
keys() { TM send-keys -t chat "$@"; }
typed() { TM send-keys -t chat -l -- "$1"; }

TM new-session -d -s chat -x 80 -y 20 "env HARK_HOME='$A' '$HARK' chat ops; echo \$? >'$T/chat.rc'; sleep 600"
TM pipe-pane -t chat -o "cat >>'$T/raw'"
[ -n "${CHAT_TMUX_KEEP:-}" ] && echo "tmux -L $SOCK; raw output in $T/raw"
check "chat opens full screen with history and a status bar" wait_until 10 on_screen "history 5"
check "…the status bar names the conversation" wait_until 2 on_screen "[ops]"

# Emoji with ZWJ, and CJK: shown unescaped, and what is drawn after them lands in the right columns.
HARK_HOME=$B "$HARK" send ops "family 👨‍👩‍👧 and 日本語 end" >/dev/null
check "a ZWJ emoji and CJK text arrive" wait_until 10 on_screen "日本語 end"
check "…unescaped" not_on_screen '\u{'
python3 -c "import sys; sys.exit(0 if '👨\u200d👩\u200d👧'.encode() in open('$T/raw','rb').read() else 1)" \
  && ok "…the ZWJ sequence reaches the terminal whole" || { not_ok "the ZWJ sequence was not written whole"; grep -a "日本語" "$T/raw" | od -c | head -20; }
typed "wide 日本語 👨‍👩‍👧 end"; keys Enter
check "an own message with CJK and a ZWJ emoji gets its tick in place, at the right column" \
  wait_until 10 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | grep -qE '^[0-9]{2}:[0-9]{2} you: wide 日本語 👨‍👩‍👧 +end ✓$'"
cursor_after() { keys C-u; typed "$1"; sleep 0.3; TM display -p -t chat '#{cursor_x}'; }
x=$(cursor_after "日本語"); [ "$x" = 8 ] && ok "the cursor after 3 CJK characters is at column 8 (prompt 2 + 6)" || not_ok "cursor after CJK at $x"
keys C-u

# 50 messages each way.
( for i in $(seq 1 50); do HARK_HOME=$B "$HARK" send ops "from bob $i" >/dev/null; done ) & SENDER=$!
for i in $(seq 1 50); do typed "from alice $i"; keys Enter; done
wait "$SENDER"
check "50 messages typed in chat reach bob" wait_until 30 has_count "$B" 'from alice [0-9]+' 50
check "50 messages from bob reach alice" wait_until 30 has_count "$A" 'from bob [0-9]+' 50
# Chat appends live messages as they arrive and follows the bottom: the last message line is the
# last of one side's 50 (both sides sent at once, so either may arrive last).
last_line_is_newest() { screen | grep -E ' (you|bob): ' | tail -1 | grep -qE 'from (bob|alice) 50( ✓+)?$'; }
check "…and the chat follows to the newest (bob's or alice's 50th)" wait_until 10 last_line_is_newest
shown_bob() { screen | grep -cE 'bob: from bob [0-9]+$'; }
TM resize-window -t chat -x 80 -y 130; sleep 0.5
n=$(shown_bob); [ "$n" = 50 ] && ok "all 50 of bob's messages are in the transcript (a 130-row screen)" || not_ok "only $n of bob's messages on screen"
on_screen "from alice 50 ✓" && ok "…with alice's own, ticked" || not_ok "alice's last message is not shown with a tick"
screen | grep -q "new messages" && not_ok "a new-messages marker appeared while following" || ok "…and no new-messages marker while following"
TM resize-window -t chat -x 80 -y 20; sleep 0.5

# A receipt changes a tick in place and adds no line.
typed "tick check"; keys Enter
check "an own message shows ✓ once bob's node holds it" wait_until 10 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | grep -qE 'you: tick check ✓$'"
screen >"$T/before"
control "$B" read '{"group":"ops"}' >/dev/null
check "bob reading it turns the tick into ✓✓" wait_until 10 on_screen "tick check ✓✓"
screen >"$T/after"
if [ "$(wc -l <"$T/before")" = "$(wc -l <"$T/after")" ] \
   && [ "$(grep -n 'tick check' "$T/before" | cut -d: -f1)" = "$(grep -n 'tick check' "$T/after" | cut -d: -f1)" ] \
   && diff <(sed 's/ ✓✓*$//' "$T/before") <(sed 's/ ✓✓*$//' "$T/after") >/dev/null; then
  ok "…in place: no line added, nothing but ticks changed"
else
  not_ok "the receipt changed more than the tick"; diff "$T/before" "$T/after"
fi
grep -q "read by" "$T/after" && not_ok "a receipt printed a line" || ok "…and no 'read by' line"

# A bracketed paste of 3 lines is one message.
TM set-buffer -b p "$(printf 'pasted 1\npasted 2\npasted 3')"
TM paste-buffer -p -b p -t chat
check "a 3-line paste waits in the input as 3 lines" wait_until 5 on_screen "  pasted 3"
keys Enter
check "…and Enter sends it as one message" wait_until 10 has_count "$B" $'pasted 1\npasted 2\npasted 3' 1
has_count "$B" 'pasted [123]' 0 && ok "…not as single lines" || not_ok "the paste was split"
check "…shown with its continuation lines indented" wait_until 5 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | grep -qE '^ +pasted 2$'"
HARK_HOME=$B "$HARK" log ops | grep -qE '^ {20,}pasted 2$' && ok "hark log indents the continuation lines" || not_ok "hark log: $(HARK_HOME=$B "$HARK" log ops | grep -A1 'pasted 1')"

# Cursor keys and input history.
typed "world"; keys Home; typed "hello "; keys End; typed "!"; keys Left Left; typed "X"
check "Left/Home/End edit in place" wait_until 5 on_screen "> hello worlXd!"
keys BSpace Right Right; typed "?"; keys Enter
check "…Backspace and Right too: 'hello world!?' is sent" wait_until 10 has_count "$B" 'hello world!\?' 1
typed "second entry"; keys Enter
keys Up Up
check "Up Up recalls the entry before the last" wait_until 5 on_screen "> hello world!?"
keys Down
check "Down goes forward again" wait_until 5 on_screen "> second entry"
keys Up C-a; typed ">> "; keys Enter
check "a recalled entry can be edited and sent" wait_until 10 has_count "$B" '>> hello world!\?' 1
keys C-Left; typed "x"
check "Ctrl-Left and typing in an empty line do no harm" wait_until 5 on_screen "> x"
keys BSpace

# The unread count falls as messages are shown; the read marker moves only over shown ones.
keys PageUp PageUp PageUp
check "PageUp scrolls back" wait_until 5 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | grep -F '[ops]' | grep -q scrolled"
for i in $(seq 1 30); do HARK_HOME=$B "$HARK" send ops "unread $i" >/dev/null; done
check "30 messages arriving off screen show as 30 unread" wait_until 10 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | grep -F '[ops]' | grep -q '30 unread'"
check "…while the view stays where the user scrolled" not_on_screen "unread 1"
count_read_by_alice() { control "$B" log '{"group":"ops"}' | python3 -c "
import json,sys; print([m for m in json.load(sys.stdin) if m['text']==sys.argv[1]][0]['receipts']['read'])" "$1"; }
export -f count_read_by_alice control; export B
count_read_by_alice_cmd() { count_read_by_alice "$1"; }
export -f count_read_by_alice_cmd
read_by_alice() { control "$B" log '{"group":"ops"}' | python3 -c "
import json,sys; m=[m for m in json.load(sys.stdin) if m['text']=='unread 30'][0]; print(m['receipts']['read'])"; }
sleep 1.5
[ "$(read_by_alice)" = 0 ] && ok "…and alice's read marker does not cover them yet" || not_ok "read marker moved over unshown messages"
counts=""
for i in $(seq 1 15); do
  keys PageDown; sleep 0.3
  c=$(status_line | grep -oE '[0-9]+ unread' | grep -oE '[0-9]+' || echo 0)
  counts="$counts $c"
  [ "$c" = 0 ] && break
done
python3 -c "
import sys; c=[int(x) for x in sys.argv[1:]]
sys.exit(0 if c and c[-1]==0 and all(a>=b for a,b in zip(c,c[1:])) and len(set(c))>=3 else 1)" $counts \
  && ok "PageDown makes the unread count fall (30 →$counts)" || not_ok "unread counts while paging down:$counts"
check "…and once all are shown, bob sees them read" wait_until 10 bash -c "[ \"\$(HARK_HOME='$B' '$HARK' log ops --json | python3 -c \"import json,sys; print([json.loads(l) for l in sys.stdin if '\\\"unread 30\\\"' in l][0]['receipts']['read'])\")\" = 1 ]"

# At 40 columns, backspacing across a wrapped input line leaves nothing behind.
TM resize-window -t chat -x 40 -y 15
check "at 40 columns the status bar is still drawn" wait_until 5 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | grep -qF '[ops]'"
typed "$(printf 'Q%.0s' $(seq 1 60))"
check "a 60-character input wraps onto two rows" wait_until 5 bash -c "[ \"\$(tmux -L '$SOCK' capture-pane -p -t chat | grep -c Q)\" = 2 ]"
for i in $(seq 1 60); do keys BSpace; done
check "…and after 60 Backspaces no character of it is left on screen" wait_until 5 not_on_screen "Q"
check "…and the prompt is back at the start" wait_until 3 bash -c "[ \"\$(tmux -L '$SOCK' display -p -t chat '#{cursor_x}')\" = 2 ]"
wide=$(screen | python3 -c "
import sys, unicodedata
def cols(s): return sum(0 if unicodedata.combining(c) or c in '\u200d\ufe0f' else 2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in s)
print(max(cols(l.rstrip('\n')) for l in sys.stdin))")
[ "$wide" -le 40 ] && ok "no row is wider than 40 columns" || not_ok "a row is $wide columns wide"
TM resize-window -t chat -x 80 -y 20

# Replies: /reply ID TEXT, and the one-line quote above a reply.
q=$(HARK_HOME=$B "$HARK" send ops "question from bob" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "a message from bob arrives" wait_until 10 on_screen "question from bob"
typed "/reply ${q:0:8} answer from alice"; keys Enter
replied() { HARK_HOME=$B "$HARK" log ops --json --limit 5 | python3 -c "
import json,sys; sys.exit(0 if any(m['text'] == 'answer from alice' and m.get('reply_to') == '$q' for m in map(json.loads, sys.stdin)) else 1)"; }
check "/reply sends a reply that bob's node holds with its reply_to" wait_until 10 replied
check "…and chat shows it under a one-line quote of bob's message" wait_until 5 on_screen "↪ bob: question from bob"

# The daemon restarts: chat reconnects and sends again.
kill "$PIDA"; wait "$PIDA" 2>/dev/null
check "a stopped daemon shows in the status bar" wait_until 10 on_screen "reconnecting"
start_a
check "chat reconnects when the daemon is back" wait_until 20 on_screen "reconnected"
typed "after the restart"; keys Enter
check "…and sends again" wait_until 15 has_count "$B" 'after the restart' 1

# Leaving: Ctrl-D on an empty line exits 0.
keys C-d
check "Ctrl-D on an empty line leaves with exit 0" wait_until 5 bash -c "[ \"\$(cat '$T/chat.rc' 2>/dev/null)\" = 0 ]"

# Opening with unread messages: the marker, the count, and the count falling as they are shown.
for i in $(seq 1 40); do HARK_HOME=$B "$HARK" send ops "while away $i" >/dev/null; done
wait_until 15 has_count "$A" 'while away [0-9]+' 40 || not_ok "bob's 40 messages did not reach alice"
rm -f "$T/chat.rc"
TM respawn-pane -k -t chat "env HARK_HOME='$A' '$HARK' chat ops; echo \$? >'$T/chat.rc'; sleep 600"
check "chat opened with unread messages shows the new-messages marker at the top" wait_until 10 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | head -1 | grep -q 'new messages'"
check "…then the first unread message" wait_until 2 bash -c "tmux -L '$SOCK' capture-pane -p -t chat | sed -n 2p | grep -q 'while away 1$'"
first=$(status_line | grep -oE '[0-9]+ unread' | grep -oE '[0-9]+' || echo 0)
[ "$first" -gt 0 ] && [ "$first" -lt 40 ] && ok "…and the unread count of what is not on screen yet ($first)" || not_ok "unread on opening: '$first'"
sleep 1.5
[ "$(count_read_by_alice 'while away 40')" = 0 ] && ok "…and the read marker has not passed the unshown ones" || not_ok "opening marked unshown messages read"
counts="$first"
for i in $(seq 1 10); do
  keys PageDown; sleep 0.3
  c=$(status_line | grep -oE '[0-9]+ unread' | grep -oE '[0-9]+' || echo 0)
  counts="$counts $c"; [ "$c" = 0 ] && break
done
python3 -c "
import sys; c=[int(x) for x in sys.argv[1:]]
sys.exit(0 if c[-1]==0 and all(a>=b for a,b in zip(c,c[1:])) and len(set(c))>=2 else 1)" $counts \
  && ok "PageDown shows them and the count falls ($counts)" || not_ok "unread counts on opening:$counts"
check "…and then bob sees the last one read" wait_until 10 bash -c "[ \"\$(count_read_by_alice_cmd 'while away 40')\" = 1 ]"

# With the daemon gone for good, chat gives up with exit 69 after 30 s.
kill "$PIDA"; wait "$PIDA" 2>/dev/null; PIDA=""
check "chat exits 69 when the daemon stays away" wait_until 40 bash -c "[ \"\$(cat '$T/chat.rc' 2>/dev/null)\" = 69 ]"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
