#!/usr/bin/env bash
# hark as a service: a port that stays the same across restarts, the control socket under
# $XDG_RUNTIME_DIR (a home path too long for a socket works), the config file (good and bad:
# exit 78), sd_notify READY=1/STOPPING=1 on a real AF_UNIX datagram socket, journald-style log
# lines when stderr is $JOURNAL_STREAM, --log-format json, and the example systemd units
# (systemd-analyze verify passes; systemd-analyze security scores printed, goal ≤ 4.5).
# Real daemons on 127.0.0.1 only, without discovery. Ends with "N passed, M failed".
set -uo pipefail
TEST_NAME=svc
. "$(dirname "$0")/lib.sh"
# Every daemon here ignores the user's own config file and runtime directory.
export XDG_CONFIG_HOME="$T/no-config" XDG_RUNTIME_DIR=
unset NOTIFY_SOCKET JOURNAL_STREAM
port_of() { env HARK_HOME="$1" "$HARK" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_port"])'; }
# start HOME LOG [ARGS…]: start a daemon and wait (≤ 10 s) until it answers
start() {
  local h=$1 log=$2; shift 2
  env HARK_HOME="$h" "$HARK" daemon --no-discovery --listen 127.0.0.1 "$@" 2>"$log" & PID=$!; PIDS+=($PID)
  wait_until 10 env HARK_HOME="$h" "$HARK" status >/dev/null 2>&1
}
stop() { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }

echo "== a stable port"
A="$T/a"; env HARK_HOME="$A" "$HARK" init --name alice >/dev/null
start "$A" "$T/a1.log" || not_ok "daemon a did not start"
P1=$(port_of "$A"); stop
start "$A" "$T/a2.log"; P2=$(port_of "$A"); stop
start "$A" "$T/a3.log"; P3=$(port_of "$A"); stop
echo "ports across three starts: $P1 $P2 $P3"
[ -n "$P1" ] && [ "$P1" = "$P2" ] && [ "$P2" = "$P3" ] && ok "the daemon's port is the same across restarts ($P1)" || not_ok "ports: $P1 $P2 $P3"
[ "$(cat "$A/port" 2>/dev/null)" = "$P1" ] && [ "$(stat -c %a "$A/port")" = 600 ] && ok "…remembered in the home's port file (0600)" || not_ok "port file: $(cat "$A/port" 2>&1)"
# Take the remembered port: the daemon falls back (7411, else any) and says so, instead of failing.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$P1" & BLOCKER=$!; PIDS+=($BLOCKER)
sleep 0.3
start "$A" "$T/a4.log" && ok "with the remembered port taken, the daemon still starts" || not_ok "no start with the port taken: $(tail -3 "$T/a4.log")"
P4=$(port_of "$A"); stop; kill "$BLOCKER" 2>/dev/null; wait "$BLOCKER" 2>/dev/null
[ -n "$P4" ] && [ "$P4" != "$P1" ] && ok "…on another port ($P4)" || not_ok "port with the remembered one taken: $P4"
if [ "$P4" = 7411 ] || contains "preferred TCP ports are taken" "$T/a4.log"; then ok "…7411 when free, else any port with a warning"
else not_ok "fallback log: $(tail -3 "$T/a4.log")"; fi
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start "$A" "$T/a5.log" --port "$FREE"; P5=$(port_of "$A"); stop
[ "$P5" = "$FREE" ] && ok "--port overrides the remembered port" || not_ok "--port $FREE gave $P5"

echo "== the control socket under \$XDG_RUNTIME_DIR"
RUN="$T/run"; mkdir -m 700 "$RUN"
LONG="$T/$(printf 'a%.0s' $(seq 60))/$(printf 'b%.0s' $(seq 60))/home"
mkdir -p "$(dirname "$LONG")"; env HARK_HOME="$LONG" "$HARK" init --name longhome >/dev/null
expect 71 "without XDG_RUNTIME_DIR a home path too long for a socket exits 71" env HARK_HOME="$LONG" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port 0
grep -q "XDG_RUNTIME_DIR" "$T/err" && ok "…and suggests XDG_RUNTIME_DIR" || not_ok "message: $(cat "$T/err")"
export XDG_RUNTIME_DIR="$RUN"
start "$LONG" "$T/l.log" --port 0 && ok "with XDG_RUNTIME_DIR set the same long home works (status answers)" || not_ok "long home: $(tail -3 "$T/l.log")"
[ -L "$LONG/control.sock" ] && [ -S "$(readlink "$LONG/control.sock")" ] && [[ "$(readlink "$LONG/control.sock")" == "$RUN/hark/"*.sock ]] \
  && ok "control.sock in the home links to a socket in \$XDG_RUNTIME_DIR/hark/" || not_ok "link: $(ls -l "$LONG/control.sock" 2>&1)"
[ "$(stat -c %a "$RUN/hark")" = 700 ] && [ "$(stat -c %a "$(readlink "$LONG/control.sock")")" = 600 ] && ok "…its directory is 0700 and the socket 0600" || not_ok "modes: $(stat -c '%a %n' "$RUN/hark" "$RUN"/hark/*)"
stop
[ ! -e "$LONG/control.sock" ] && [ -z "$(ls -A "$RUN/hark")" ] && ok "SIGTERM removes the link and the socket" || not_ok "left: $(ls -la "$LONG" "$RUN/hark")"
export XDG_RUNTIME_DIR=

echo "== the config file"
CFG="$T/cfg"; mkdir -p "$CFG/hark"
printf 'port = \nlisten = "127.0.0.1"\n' >"$CFG/hark/config.toml"
expect 78 "a config file that is not TOML exits 78" env XDG_CONFIG_HOME="$CFG" HARK_HOME="$A" "$HARK" daemon --no-discovery
grep -q "config.toml: line 1" "$T/err" && ok "…naming the file and the line" || not_ok "message: $(cat "$T/err")"
printf 'prot = 7411\n' >"$CFG/hark/config.toml"
expect 78 "an unknown key exits 78" env XDG_CONFIG_HOME="$CFG" HARK_HOME="$A" "$HARK" daemon --no-discovery
grep -q 'unknown key "prot"' "$T/err" && ok "…naming the key" || not_ok "message: $(cat "$T/err")"
printf 'port = "seven"\n' >"$CFG/hark/config.toml"
expect 78 "a value of the wrong type exits 78" env XDG_CONFIG_HOME="$CFG" HARK_HOME="$A" "$HARK" daemon --no-discovery
printf 'peers = ["nonsense"]\n' >"$CFG/hark/config.toml"
expect 78 "a bad peer address in the file exits 78" env XDG_CONFIG_HOME="$CFG" HARK_HOME="$A" "$HARK" daemon --no-discovery
expect 78 "--config naming a missing file exits 78" env HARK_HOME="$A" "$HARK" daemon --no-discovery --config "$T/missing.toml"
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '# daemon options\nport = %s\nlisten = "127.0.0.1"\ndiscovery = false\nlog_format = "json"\nlog_level = "debug"\n' "$FREE" >"$CFG/hark/config.toml"
env XDG_CONFIG_HOME="$CFG" HARK_HOME="$A" "$HARK" daemon 2>"$T/c.log" & PID=$!; PIDS+=($PID)
wait_until 10 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1 && ok "a daemon with a good config file starts" || not_ok "config daemon: $(tail -3 "$T/c.log")"
[ "$(port_of "$A")" = "$FREE" ] && ok "…on the port from the file" || not_ok "port $(port_of "$A"), file said $FREE"
stop
python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
assert objs and all({"time", "level", "label", "message"} <= o.keys() for o in objs)
assert any(o["message"] == "node started" and "tcp.port" in o.get("metadata", {}) for o in objs)
' "$T/c.log" && ok "log_format = \"json\": every log line is a JSON object with time, level, label, message" || not_ok "json log: $(head -3 "$T/c.log")"
env XDG_CONFIG_HOME="$CFG" HARK_HOME="$A" "$HARK" daemon --port "$FREE" --log-format text 2>"$T/c2.log" & PID=$!; PIDS+=($PID)
wait_until 10 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1; stop
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.* info hark: .*node started' "$T/c2.log" && ok "--log-format text wins over the file" || not_ok "text log: $(head -2 "$T/c2.log")"

echo "== systemd: sd_notify and the journal"
NS="$T/notify.sock"
python3 - "$NS" >"$T/notify.out" <<'PY' & LISTENER=$!; PIDS+=($LISTENER)
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(20)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "STOPPING=1" in msg: break
except socket.timeout:
    pass
PY
wait_until 5 test -S "$NS"
exec 3>"$T/journal.log"
JS=$(stat -L -c '%d:%i' /proc/self/fd/3)
env NOTIFY_SOCKET="$NS" JOURNAL_STREAM="$JS" HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>&3 & PID=$!; PIDS+=($PID)
exec 3>&-
wait_until 10 grep -q "READY=1" "$T/notify.out" && ok "the daemon sends READY=1 to \$NOTIFY_SOCKET" || not_ok "no READY=1: $(cat "$T/notify.out")"
env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1 && ok "…and the control socket answers by then" || not_ok "status after READY failed"
grep "READY=1" "$T/notify.out" | contains "MAINPID=$PID" && ok "…with MAINPID and a STATUS line" || not_ok "notify: $(cat "$T/notify.out")"
stop
wait_until 5 grep -q "STOPPING=1" "$T/notify.out" && ok "SIGTERM sends STOPPING=1" || not_ok "no STOPPING=1: $(cat "$T/notify.out")"
grep -q '^<6>info hark: .*node started' "$T/journal.log" && ! grep -qE '^<[0-7]>[0-9]{4}-' "$T/journal.log" \
  && ok "with stderr on \$JOURNAL_STREAM: <6> priority prefixes and no timestamp of its own" || not_ok "journal lines: $(head -3 "$T/journal.log")"
env JOURNAL_STREAM="1:1" HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/notjournal.log" & PID=$!; PIDS+=($PID)
wait_until 10 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1; stop
grep -qE '^[0-9]{4}-.* info hark: .*node started' "$T/notjournal.log" && ok "a JOURNAL_STREAM that is not stderr's keeps the timestamped text format" || not_ok "log: $(head -2 "$T/notjournal.log")"

echo "== the example units"
if command -v systemd-analyze >/dev/null; then
  U="$T/units"; mkdir -p "$U" "$T/xdgrun"; chmod 700 "$T/xdgrun"
  for f in hark.service hark@.service; do sed "s|/usr/local/bin/hark|$HARK|g" "$ROOT/examples/$f" >"$U/$f"; done
  cp "$U/hark@.service" "$U/hark@test.service"
  XDG_RUNTIME_DIR="$T/xdgrun" systemd-analyze verify --user --man=no "$U/hark.service" >"$T/v1" 2>&1 && ok "systemd-analyze verify passes on the user unit" || not_ok "verify user unit: $(cat "$T/v1")"
  systemd-analyze verify --man=no "$U/hark@test.service" >"$T/v2" 2>&1 && ok "systemd-analyze verify passes on the system template" || not_ok "verify template: $(cat "$T/v2")"
  for f in hark.service hark@.service; do
    score=$(systemd-analyze security --offline=true --no-pager "$U/$f" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
    echo "systemd-analyze security $f: $score"
    [ -n "$score" ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 4.5 else 1)' "$score" \
      && ok "systemd-analyze security rates $f $score (goal ≤ 4.5)" || not_ok "security score of $f: '$score' (goal ≤ 4.5)"
  done
  grep -q '^Type=notify' "$ROOT/examples/hark.service" && grep -q '^RestartPreventExitStatus=.*78' "$ROOT/examples/hark.service" \
    && ok "the user unit is Type=notify and does not restart on exits that cannot heal" || not_ok "unit settings"
else
  echo "skip - systemd-analyze is not installed"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
