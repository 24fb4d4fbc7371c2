#!/usr/bin/env bash
# The short-lived node of `hark send` without a daemon (docs/CONTROL.md "One node per home"):
#  1. a stop never crashes, even with TCP connections arriving at its listener (3 runs);
#  2. 40 parallel daemonless sends: each exit code matches the stored log (0: committed and
#     delivered; 75: stored and queued; never 74 for a committed message; no duplicate);
#  3. a daemonless send calls its own node in-process (no connection to its own control socket);
#     `hark daemon` started during it waits for it, takes the home over, and the send finishes
#     through the daemon; a home held by a daemon is named with its pid.
# Real daemons on 127.0.0.1 only, without discovery. Ends with "N passed, M failed".
set -uo pipefail
TEST_NAME=shortlived
. "$(dirname "$0")/lib.sh"

A="$T/a" B="$T/b"
h() { local home=$1; shift; env HARK_HOME="$home" "$HARK" "$@"; }
json_field() {  # FIELD: a field of the JSON object on stdin ("" when it is not one)
  python3 -c 'import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1], ""))
except ValueError: print("")' "$1"
}
# stop_pid PID: SIGTERM, then wait for it (at most 10 s)
stop_pid() { kill "$1" 2>/dev/null; local n=100; while kill -0 "$1" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done; }
# count_in_log HOME TEXT: how many messages of group g on HOME have exactly this text
count_in_log() { h "$1" log g --json 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if l.strip() and json.loads(l)["text"] == sys.argv[1]))' "$2"; }

h "$A" init --name alice >/dev/null && h "$B" init --name bob >/dev/null
# Alice's remembered port (the home's `port` file) is a free one, not the default 7411 that another
# hark on this machine may hold: her daemon, the send's node and the daemon taking over all prefer it.
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$A/port"
env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$T/a0.log" & APID=$!; PIDS+=($APID)
wait_until 10 h "$A" status >/dev/null 2>&1 || not_ok "daemon a did not start"
APORT=$(h "$A" status --json | json_field tcp_port)
env HARK_HOME="$B" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port 0 --peer "127.0.0.1:$APORT" 2>"$T/b0.log" & BPID=$!; PIDS+=($BPID)
wait_until 10 h "$B" status >/dev/null 2>&1 || not_ok "daemon b did not start"
BPORT=$(h "$B" status --json | json_field tcp_port)
h "$A" group create g >/dev/null
expect 0 "bob joins alice's group" h "$B" group join "$(h "$A" group invite g)"
stop_pid "$APID"; stop_pid "$BPID"

# 1. The crash reproduction: homes in one group, both daemons stopped; a daemonless send waits
# for bob while plain TCP connections arrive at its listening port (8 threads) and clients at
# its control socket (2 threads) in a loop, bounded: 20000 connects, 15 s. Connections accepted
# while the node stops must be closed, never dropped (a dropped one traps in swift-nio). It must
# end with 75 (stored, queued), never a signal.
cat >"$T/connect.py" <<'EOF'
import os, socket, sys, threading, time
port, pid, control = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
end, lock, count = time.monotonic() + 15, threading.Lock(), [0]
def alive():
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
def connect_tcp():
    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
def connect_control():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.2)
    try: s.connect(control)
    finally: s.close()
def connect_loop(connect):
    # Bursts from several threads, so that connections wait in the listeners while the node stops.
    while time.monotonic() < end and alive():
        with lock:
            if count[0] >= 20000: return
            count[0] += 1
        try:
            connect()
        except OSError:
            time.sleep(0.005)
threads = [threading.Thread(target=connect_loop, args=(connect_tcp,)) for _ in range(8)]
threads += [threading.Thread(target=connect_loop, args=(connect_control,)) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
print(count[0])
EOF
for run in 1 2 3; do
  env HARK_HOME="$A" "$HARK" send g "crash-$run" --timeout 3s >/dev/null 2>"$T/crash$run.err" & SPID=$!
  port=""
  for _ in $(seq 50); do
    port=$(h "$A" status --json 2>/dev/null | json_field tcp_port) && [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then not_ok "run $run: the short-lived node's port was not found"; wait $SPID; continue; fi
  t0=$(date +%s.%N); connects=$(timeout 20 python3 "$T/connect.py" "$port" "$SPID" "$A/control.sock")
  wait $SPID; code=$?; echo "# run $run: $connects connects, send ended after $(python3 -c "import time;print(round(time.time()-$t0,1))") s" >&2
  if [ "$code" = 75 ]; then ok "run $run: a daemonless send stops cleanly under $connects connects (TCP and control socket; exit 75, queued)"
  else not_ok "run $run: daemonless send under $connects connects: exit $code, expected 75; stderr: $(head -c 300 "$T/crash$run.err")"; fi
  [ "$(count_in_log "$A" "crash-$run")" = 1 ] && ok "…the queued message is stored once" || not_ok "run $run: crash-$run stored $(count_in_log "$A" "crash-$run") times"
  expect 69 "…and no node holds the home afterwards (status: no daemon)" h "$A" status
done

# 2. 40 parallel daemonless sends on alice while bob's daemon is up: the first takes the home,
# the others borrow its node or start their own once it ends.
env HARK_HOME="$B" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port "$BPORT" 2>"$T/b1.log" & BPID=$!; PIDS+=($BPID)
wait_until 10 h "$B" status >/dev/null 2>&1 || not_ok "daemon b did not restart"
mkdir "$T/codes"
SENDS=()
for i in $(seq 40); do
  ( h "$A" send g "par-$i" --timeout 30s --peer "127.0.0.1:$BPORT" >/dev/null 2>"$T/codes/$i.err"; echo $? >"$T/codes/$i" ) & SENDS+=($!)
done
for p in "${SENDS[@]}"; do
  n=900; while kill -0 "$p" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  kill -0 "$p" 2>/dev/null && { not_ok "a parallel send still runs after 90 s"; kill "$p"; }
done
bob_has_all() { [ "$(h "$B" log g --json 2>/dev/null | grep -c '"par-')" -ge 40 ]; }
wait_until 15 bob_has_all
h "$A" log g --json >"$T/a.json" 2>/dev/null; h "$B" log g --json >"$T/b.json" 2>/dev/null
python3 - "$T/codes" "$T/a.json" "$T/b.json" >"$T/verdict" <<'EOF'
import json, os, sys
codes_dir, a_path, b_path = sys.argv[1:]
def texts(path):
    out = {}
    for line in open(path):
        if line.strip():
            t = json.loads(line)["text"]
            out[t] = out.get(t, 0) + 1
    return out
a, b = texts(a_path), texts(b_path)
bad, tally = [], {}
for i in range(1, 41):
    t = f"par-{i}"
    p = os.path.join(codes_dir, str(i))
    code = open(p).read().strip() if os.path.exists(p) else "none"
    tally[code] = tally.get(code, 0) + 1
    err = open(p + ".err").read().strip()[:200] if os.path.exists(p + ".err") else ""
    stored, held = a.get(t, 0), b.get(t, 0)
    if stored > 1 or held > 1: bad.append(f"{t}: stored {stored}x on alice, {held}x on bob (duplicate)")
    if code == "0" and (stored != 1 or held != 1): bad.append(f"{t}: exit 0 but stored {stored}x, delivered {held}x")
    elif code == "75" and stored != 1: bad.append(f"{t}: exit 75 but stored {stored}x ({err})")
    elif code not in ("0", "75") and stored != 0: bad.append(f"{t}: exit {code} although committed ({err})")
print("codes " + " ".join(f"{k}:{v}" for k, v in sorted(tally.items())))
for line in bad: print("BAD " + line)
EOF
tally=$(head -1 "$T/verdict")
if contains ^BAD "$T/verdict"; then not_ok "40 parallel sends: an exit code does not match the store ($tally): $(grep ^BAD "$T/verdict" | head -5 | tr '\n' ';')"
else ok "40 parallel sends: every exit code matches the stored log ($tally)"; fi
[ "$tally" = "codes 0:40" ] && ok "…all 40 exit 0 (committed and delivered; bob is online)" || not_ok "…with bob online not all exit 0: $tally"
grep -q "codes.* 74:" "$T/verdict" && not_ok "…some exited 74" || ok "…none exits 74"
expect 69 "…and no node holds the home afterwards" h "$A" status

# 3. `hark daemon` started while a daemonless send holds the home (bob offline, so it waits).
stop_pid "$BPID"
env HARK_HOME="$A" "$HARK" send g takeover --timeout 40s --peer "127.0.0.1:$BPORT" >/dev/null 2>"$T/take.err" & SPID=$!
role_is_send() { [ "$(h "$A" status --json 2>/dev/null | json_field role)" = send ]; }
wait_until 10 role_is_send \
  && ok "the daemonless send's node says role send in status" || not_ok "no short-lived node with role send: $(h "$A" status --json 2>&1 | head -c 300)"
# The send calls its own node in-process: while it waits, no connection to the node's control
# socket is open in the process (ss: connected Unix sockets of the send's pid on control.sock;
# the `hark status` above has ended, and nothing else uses the socket now).
own_links() { ss -xpn state established 2>/dev/null | grep "control\.sock" | grep -c "pid=$SPID,"; }
links=$(own_links); sleep 0.5; links="$links $(own_links)"
[ "$links" = "0 0" ] && ok "…it waits without a connection to its own control socket (typed API in-process)" \
  || not_ok "the daemonless send holds connections to its own control socket (ss counts: $links)"
env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port "$APORT" 2>"$T/a1.log" & APID=$!; PIDS+=($APID)
daemon_serves() { [ "$(h "$A" status --json 2>/dev/null | json_field pid)" = "$APID" ]; }
wait_until 20 daemon_serves && ok "hark daemon waits for the send's node and takes the home over" \
  || not_ok "the daemon did not take over: $(tail -5 "$T/a1.log")"
kill -0 "$APID" 2>/dev/null && ok "…and keeps running" || not_ok "the daemon exited: $(tail -3 "$T/a1.log")"
grep "hand the home over" "$T/a1.log" | contains "pid=$SPID" && ok "…its log names the send and its pid while it waits" \
  || not_ok "the daemon's wait message does not name pid $SPID: $(grep -i "home\|lock" "$T/a1.log" | head -3)"
env HARK_HOME="$B" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port "$BPORT" --peer "127.0.0.1:$APORT" 2>"$T/b2.log" & BPID=$!; PIDS+=($BPID)
n=450; while kill -0 "$SPID" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
wait $SPID; code=$?
[ "$code" = 0 ] && ok "the send finishes through the daemon once bob is back (exit 0)" || not_ok "the taken-over send: exit $code; stderr: $(head -c 300 "$T/take.err")"
bob_has_takeover() { [ "$(count_in_log "$B" takeover)" = 1 ]; }
wait_until 10 bob_has_takeover && ok "…bob holds the message once" || not_ok "bob holds 'takeover' $(count_in_log "$B" takeover) times"
[ "$(count_in_log "$A" takeover)" = 1 ] && ok "…alice stored it once" || not_ok "alice stored 'takeover' $(count_in_log "$A" takeover) times"
# Bounded: a daemon that wrongly starts must not hang the suite.
expect 75 "a second daemon on a home a daemon holds exits 75" timeout 30 env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1
contains "a hark daemon (pid $APID)" "$T/err" && ok "…and names the daemon and its pid" || not_ok "lock message: $(cat "$T/err")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
