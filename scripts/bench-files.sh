#!/usr/bin/env bash
# File-transfer benchmark (release build), also run by scripts/bench.sh: `hark fetch` of a
# BENCH_FILE_MIB (default 1024) MiB random file between two daemons on 127.0.0.1, beside scp,
# `ssh … cat` and socat on the same file in the same run, with the CPU time (core-seconds per
# GiB, from /proc/PID/stat) each hark daemon spent on a fetch, and chat latency during a fetch
# against idle (scripts/bench-chat-during.py), and a Syncthing pair on the same file
# (scripts/bench-syncthing.py; BENCH_SYNCTHING=0 skips it). Needs sshd, scp, socat and syncthing
# (scripts/deps.sh installs them). BENCH_FILE_RUNS (default 3) interleaved rounds of all four;
# BENCH_FILE_BASELINES=0 runs only the hark fetches.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
HARK=${HARK:-.build/release/hark}
WORK=$(mktemp -d /tmp/hark-bench-files.XXXXXX)
cleanup() {
  for p in ${FPID_A:-} ${FPID_B:-} ${SOCAT_PID:-}; do kill "$p" 2>/dev/null; done
  [ -s "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null
  wait 2>/dev/null; rm -rf "$WORK"
}
trap cleanup EXIT

# File transfer: `hark fetch` of a 1 GiB random file between two loopback daemons (each slice
# sealed once under the group's file key — AES-256-GCM where the CPU has it — and sent beside
# the Noise records; the sender checks the source file's identity; the receiver opens and
# SHA-256-verifies every chunk, writes it, and renames the file into place), against scp and
# `ssh … cat` with aes128-gcm to a throwaway sshd on 127.0.0.1, and an unencrypted socat copy to
# a file. Both ends share this machine's cores.
BIG_MIB=${BENCH_FILE_MIB:-1024}
F="$WORK/files"; mkdir -p "$F/src" "$F/hark" "$F/ssh"
head -c $((BIG_MIB << 20)) /dev/urandom >"$F/src/big.bin"
secs() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
now() { date +%s.%N; }

# two hark daemons
export HARK_HOME="$WORK/fa"; "$HARK" init --name fa >/dev/null
"$HARK" daemon --no-discovery --listen 127.0.0.1 2>"$WORK/fa.log" & FPID_A=$!
for _ in $(seq 1 100); do "$HARK" status >/dev/null 2>&1 && break; sleep 0.1; done
APORT=$("$HARK" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_port"])')
HARK_HOME="$WORK/fb" "$HARK" init --name fb >/dev/null
HARK_HOME="$WORK/fb" "$HARK" daemon --no-discovery --listen 127.0.0.1 --peer "127.0.0.1:$APORT" 2>"$WORK/fb.log" & FPID_B=$!
for _ in $(seq 1 100); do HARK_HOME="$WORK/fb" "$HARK" status >/dev/null 2>&1 && break; sleep 0.1; done
"$HARK" group create files >/dev/null
HARK_HOME="$WORK/fb" "$HARK" group join "$("$HARK" group invite files)" >/dev/null
t0=$(now); FID=$("$HARK" share "$F/src/big.bin" -g files); t1=$(now)
SHARE_S=$(secs "$t0" "$t1")
for _ in $(seq 1 50); do HARK_HOME="$WORK/fb" "$HARK" files --json 2>/dev/null | grep -q "$FID" && break; sleep 0.1; done
# CPU time (user + system, clock ticks) a process has used so far; the daemons keep their PID
# (the hark client execs hark-node in place).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)
# One fetch: prints "seconds sender-core-seconds receiver-core-seconds".
fetch_once() {
  local t0 t1 a0 b0 a1 b1
  a0=$(ticks "$FPID_A"); b0=$(ticks "$FPID_B")
  t0=$(now); HARK_HOME="$WORK/fb" "$HARK" fetch "$FID" -o "$F/hark"; t1=$(now)
  a1=$(ticks "$FPID_A"); b1=$(ticks "$FPID_B")
  cmp -s "$F/src/big.bin" "$F/hark/big.bin" || { echo "hark fetch: copy differs" >&2; exit 1; }
  rm -f "$F/hark/big.bin"
  echo "$(secs "$t0" "$t1") $(python3 -c "print('%.3f %.3f' % (($a1 - $a0) / $TCK, ($b1 - $b0) / $TCK))")"
}
RUNS=${BENCH_FILE_RUNS:-3}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
if [ "${BENCH_FILE_BASELINES:-1}" = 0 ]; then
  HARK_RUNS=(); for _ in $(seq 1 "$RUNS"); do HARK_RUNS+=("$(fetch_once)"); done
  echo "hark fetch runs (s, sender core-s, receiver core-s): ${HARK_RUNS[*]} (baselines skipped)"
  exit 0
fi

# a throwaway sshd on 127.0.0.1 (own host key, own authorized key, own config), killed by PID
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] && command -v scp >/dev/null && command -v socat >/dev/null || scripts/deps.sh
SPORT=$((20000 + RANDOM % 20000))
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$WORK/user_key"
cp "$WORK/user_key.pub" "$WORK/authorized_keys"; chmod 600 "$WORK/authorized_keys"
mkdir -p /run/sshd
cat >"$WORK/sshd_config" <<CONF
Port $SPORT
ListenAddress 127.0.0.1
HostKey $WORK/host_key
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Ciphers aes128-gcm@openssh.com
Subsystem sftp internal-sftp
CONF
"$SSHD" -f "$WORK/sshd_config"
for _ in $(seq 1 50); do [ -s "$WORK/sshd.pid" ] && break; sleep 0.1; done
SSHOPT=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$WORK/user_key" -c aes128-gcm@openssh.com)
USER_AT="$(id -un)@127.0.0.1"
KPORT=$((20000 + RANDOM % 20000))

# RUNS rounds, each: hark fetch, scp, ssh … cat, socat (interleaved, so that drift in the
# machine's speed hits all four alike); medians are compared.
HARK_RUNS=() SEND_CPU=() RECV_CPU=() SCP_RUNS=() CAT_RUNS=() SOCAT_RUNS=()
for _ in $(seq 1 "$RUNS"); do
  read -r fs fa fb <<<"$(fetch_once)"
  HARK_RUNS+=("$fs"); SEND_CPU+=("$fa"); RECV_CPU+=("$fb")
  t0=$(now); scp -q "${SSHOPT[@]}" -P "$SPORT" "$F/src/big.bin" "$USER_AT:$F/ssh/scp.bin"; t1=$(now)
  SCP_RUNS+=("$(secs "$t0" "$t1")"); rm -f "$F/ssh/scp.bin"
  t0=$(now); ssh "${SSHOPT[@]}" -p "$SPORT" "$USER_AT" "cat > '$F/ssh/cat.bin'" <"$F/src/big.bin"; t1=$(now)
  CAT_RUNS+=("$(secs "$t0" "$t1")"); rm -f "$F/ssh/cat.bin"
  # unencrypted socat copy to a file
  socat -u "TCP-LISTEN:$KPORT,bind=127.0.0.1,reuseaddr" "OPEN:$F/ssh/socat.bin,creat,trunc" & SOCAT_PID=$!
  for _ in $(seq 1 50); do ss -ltn 2>/dev/null | grep -q ":$KPORT " && break; sleep 0.1; done
  t0=$(now); socat -u "OPEN:$F/src/big.bin" "TCP:127.0.0.1:$KPORT"; wait "$SOCAT_PID"; t1=$(now); SOCAT_PID=
  SOCAT_RUNS+=("$(secs "$t0" "$t1")"); rm -f "$F/ssh/socat.bin"
done
kill "$(cat "$WORK/sshd.pid")" 2>/dev/null; rm -f "$WORK/sshd.pid"

python3 - "$BIG_MIB" "$SHARE_S" "${SEND_CPU[*]}" "${RECV_CPU[*]}" "${HARK_RUNS[*]}" "${SCP_RUNS[*]}" "${CAT_RUNS[*]}" "${SOCAT_RUNS[*]}" <<'PY'
import statistics, sys
mib, share = int(sys.argv[1]), float(sys.argv[2])
send_cpu, recv_cpu = (list(map(float, a.split())) for a in sys.argv[3:5])
runs = [list(map(float, a.split())) for a in sys.argv[5:]]
hark, scp, cat, socat = (statistics.median(r) for r in runs)
rate = lambda s: mib / s
show = lambda r: " ".join("%.2f" % x for x in r)
print("file %d MiB on loopback, median of %d interleaved runs (share/manifest build %.2f s, not counted):" % (mib, len(runs[0]), share))
print("  hark fetch       %6.2f s  %7.1f MiB/s                                            (%s)" % (hark, rate(hark), show(runs[0])))
print("  scp aes128-gcm   %6.2f s  %7.1f MiB/s   hark/scp speed ratio     %.2f (goal >= 2)  (%s)" % (scp, rate(scp), scp / hark, show(runs[1])))
print("  ssh cat aes-gcm  %6.2f s  %7.1f MiB/s   hark/ssh-cat speed ratio %.2f (goal >= 1)  (%s)" % (cat, rate(cat), cat / hark, show(runs[2])))
print("  socat (plain)    %6.2f s  %7.1f MiB/s   hark/socat speed ratio   %.2f             (%s)" % (socat, rate(socat), socat / hark, show(runs[3])))
gib = mib / 1024
print("  hark CPU per GiB: sender %.2f core-s, receiver %.2f core-s (medians; sender %s, receiver %s)"
      % (statistics.median(send_cpu) / gib, statistics.median(recv_cpu) / gib, show(send_cpu), show(recv_cpu)))
PY

# chat A -> B while B fetches the file from A, against idle
mkdir -p "$F/chat"
python3 scripts/bench-chat-during.py --hark "$HARK" --home-a "$WORK/fa" --home-b "$WORK/fb" --group files \
  --file-id "$FID" --out "$F/chat" --port "$APORT"

# the same file between two Syncthing instances on 127.0.0.1 (discovery, relays, reporting off)
if [ "${BENCH_SYNCTHING:-1}" = 1 ]; then
  command -v syncthing >/dev/null || scripts/deps.sh
  python3 scripts/bench-syncthing.py --src "$F/src" --work "$WORK" --hark-seconds "$(median "${HARK_RUNS[@]}")"
fi
