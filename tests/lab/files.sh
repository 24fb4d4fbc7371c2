#!/usr/bin/env bash
# File sharing across real hosts, four lab hosts with their own avahi-daemons:
# a folder with nested files, a 0-byte file and a sparse 5 GiB file arrive byte-identical; a
# chat message sent during a full-speed 1 GiB fetch is not queued behind it (its latency against
# idle is printed; the 2x-idle goal is measured by `make bench`, not here); a
# 1 GiB fetch (held to 150 MiB/s with --limit-rate) killed (kill -9 of the fetching daemon) at
# about half resumes without fetching, reading or hashing again what was verified; a file held by two honest peers and a lying one is fetched from both
# honest ones while the liar's chunks are rejected; a source changed after the offer gives a
# clear error and no file, without a retry loop; unsafe offered names (../../x, /etc/x,
# a/../../b, a symlink mode) and a planted symlink write nothing outside the target folder;
# names are neutralised on a terminal and escaped in JSON; auto-fetch under a size; a node that
# is still fetching a file serves the chunks it verified to another fetcher.
# Ends with "N passed, M failed".
set -uo pipefail
export LAB_NAME=${LAB_NAME:-hkfiles} LAB_NET=${LAB_NET:-10.94.0}
source "$(dirname "$0")/lib.sh"
trap lab_cleanup EXIT

lab_setup 4
"$LAB" guard-start >&2 || true
for h in h1:alice h2:bob h3:carol h4:dave; do hark_on "${h%%:*}" init --name "${h#*:}" >/dev/null; done

# start_daemon_env HOST ENV... -- ARGS... : like start_daemon, with extra environment
start_daemon_env() {
  local h=$1; shift; local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  "$LAB" spawn "$h" "hark-$h" env HARK_HOME="$WORK/$h" "${envs[@]}" "$HARK" daemon "$@"
  wait_until 20 hark_on "$h" status >/dev/null 2>&1 || { echo "daemon on $h did not start" >&2; cat_log "$h"; return 1; }
}
control_on() {
  "$LAB" exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())' "$WORK/$1/control.sock" "$2"
}
jget() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); 
for k in sys.argv[1].split("."): d = d[int(k)] if isinstance(d, list) else d[k]
print(d)' "$1"; }
status_files() { hark_on "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][sys.argv[1]])' "$2"; }
# digest PATH... : content digest that does not depend on holes (sparse-aware, 4 KiB blocks)
digest() { python3 - "$@" <<'PY'
import hashlib, os, sys
for path in sys.argv[1:]:
    h = hashlib.sha256(); fd = os.open(path, os.O_RDONLY); size = os.fstat(fd).st_size
    h.update(str(size).encode()); off = 0
    while off < size:
        try: d = os.lseek(fd, off, os.SEEK_DATA)
        except OSError: break
        d -= d % 4096; e = os.lseek(fd, d, os.SEEK_HOLE); pos = d
        while pos < e:
            blk = os.pread(fd, min(1 << 22, e - pos), pos)
            if not blk: break
            for i in range(0, len(blk), 4096):
                b = blk[i:i + 4096]
                if b.count(0) != len(b): h.update((pos + i).to_bytes(8, "little")); h.update(b)
            pos += len(blk)
        off = e
    os.close(fd); print(h.hexdigest(), os.path.basename(path))
PY
}
now() { date +%s.%N; }
ms_since() { python3 -c "import sys; print(int((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$1" "$2"; }

say "four hosts share a group"
start_daemon_env h1 HARK_TEST_RAW_OFFERS=1 --
start_daemon h2
start_daemon_env h3 HARK_TEST_CORRUPT_CHUNKS=1 --
# h4 neither offers nor uses AES-256-GCM (test hook): what it fetches is sealed with
# XChaCha20-Poly1305, the cipher every node has (PROTOCOL.md §9.2).
start_daemon_env h4 HARK_TEST_BULK_CIPHER=xchacha --
wait_until 40 has_peer h1 3 && wait_until 10 has_peer h4 3 && ok "the four hosts are connected" || { not_ok "hosts did not connect"; cat_log h1; }
hark_on h1 group create ops >/dev/null
for h in h2 h3 h4; do hark_on $h group join "$(hark_on h1 group invite ops)" >/dev/null; done
members_on() { hark_on "$1" group list --json | python3 -c 'import json,sys; print(max(len(json.loads(l)["members"]) for l in sys.stdin))'; }
has_members() { [ "$(members_on "$1" 2>/dev/null || echo 0)" = 4 ]; }
wait_until 20 has_members h1 && wait_until 20 has_members h4 && ok "every host sees four members" || not_ok "membership did not converge"
offer_seen() { hark_on "$1" files --json 2>/dev/null | grep -q "$2"; }

say "a folder with nested files, a 0-byte file and a sparse 5 GiB file"
S=$WORK/h1/src; mkdir -p "$S/tree/sub/deep" "$WORK/h2/in"
echo "hello" >"$S/tree/a.txt"; : >"$S/tree/empty"; head -c 3000000 /dev/urandom >"$S/tree/sub/deep/b.bin"
chmod 755 "$S/tree/sub/deep/b.bin"
truncate -s 5G "$S/sparse.img"; head -c 1048576 /dev/urandom | dd of="$S/sparse.img" bs=1M seek=3000 conv=notrunc status=none
t0=$(now); ID=$(hark_on h1 share "$S/tree" "$S/sparse.img" -g ops -m "tree and a sparse disk"); t1=$(now)
[ ${#ID} = 64 ] && ok "share prints a 64-digit file ID ($(ms_since $t0 $t1) ms to build the manifest)" || not_ok "share printed '$ID'"
wait_until 10 offer_seen h2 "$ID" && ok "the offer reaches h2 (hark files)" || not_ok "h2 does not list the offer"
hark_on h2 files | grep "${ID:0:12}" | grep -q "held by 1" && ok "hark files says one peer holds it" || not_ok "files: $(hark_on h2 files)"
t0=$(now); hark_on h2 fetch "$ID" -o "$WORK/h2/in" --json >"$WORK/tree.json"; rc=$?; t1=$(now)
[ $rc = 0 ] && ok "fetch of the tree and 5 GiB sparse file exits 0 in $(ms_since $t0 $t1) ms" || { not_ok "fetch exited $rc: $(tail -2 "$WORK/tree.json")"; cat_log h2; }
want=$(cd "$S" && digest tree/a.txt tree/empty tree/sub/deep/b.bin sparse.img)
got=$(cd "$WORK/h2/in" && digest tree/a.txt tree/empty tree/sub/deep/b.bin sparse.img 2>&1)
[ "$want" = "$got" ] && ok "nested files, the 0-byte file and the sparse 5 GiB file are byte-identical" || not_ok "digests differ: $got"
[ "$(stat -c %s "$WORK/h2/in/sparse.img")" = 5368709120 ] && ok "the sparse file is 5 GiB" || not_ok "size $(stat -c %s "$WORK/h2/in/sparse.img")"
[ "$(stat -c %a "$WORK/h2/in/tree/sub/deep/b.bin")" = 755 ] && ok "the mode travels (755)" || not_ok "mode $(stat -c %a "$WORK/h2/in/tree/sub/deep/b.bin")"
zero=$(tail -1 "$WORK/tree.json" | jget data.chunks_zero)
[ "$zero" -ge 1270 ] && ok "$zero all-zero chunks were never sent (the receiver checks the manifest's zero hash)" || not_ok "chunks_zero $zero"
[ ! -e "$WORK/h2/in/.hark-partial" ] && ok "no staging folder is left" || not_ok "staging left: $(ls -la "$WORK/h2/in/.hark-partial")"
hark_on h2 fetch "$ID" -o "$WORK/h2/in" 2>"$WORK/err"; rc=$?
[ $rc = 73 ] && ok "fetching again over the files exits 73 without --force" || not_ok "refetch exited $rc"
hark_on h2 fetch "$ID" -o "$WORK/h2/in" --force; rc=$?
[ $rc = 0 ] && ok "…and 0 with --force" || not_ok "--force exited $rc"

say "1 GiB: chat during the transfer, kill -9 at half, resume"
head -c 1073741824 /dev/urandom >"$S/big.bin"
BIG=$(hark_on h1 share "$S/big.bin" -g ops)
wait_until 10 offer_seen h2 "$BIG" || not_ok "h2 does not see the 1 GiB offer"
# Chat latency, as "D E" per message: D = ms from the event's creation in h1's daemon (its
# wall_ms) to its storing in h2's daemon (received_ms), daemon to daemon, what a transfer could
# delay; E = ms from starting `hark send` on h1 to that storing (end to end, including the CLI's
# start-up, which on a 2-core box busy with the transfer measures mostly CPU contention). Both
# clocks are the same kernel's (namespaces share it). The messages are sent back to back first
# and read from h2's log afterwards, so that all of them leave during a transfer that lasts only
# a couple of seconds at full speed.
send_tags() {   # PREFIX N: sends N messages, prints "TAG T0" per message
  local i tag t0
  for i in $(seq 1 "$2"); do
    tag="lat-$1$i-$RANDOM"; t0=$(now)
    hark_on h1 send ops "$tag" >/dev/null
    echo "$tag $t0"
  done
}
latencies() {   # FILE of "TAG T0" lines: prints "D E" per message (99999 when it never arrived)
  local n=0
  while [ $n -lt 100 ]; do
    hark_on h2 log ops --json --limit 60 >"$WORK/lat.log" 2>/dev/null
    [ "$(grep -cFf <(cut -d' ' -f1 "$1") "$WORK/lat.log")" -ge "$(wc -l <"$1")" ] && break
    sleep 0.05; n=$((n + 1))
  done
  python3 - "$1" "$WORK/lat.log" <<'PY2'
import json, sys
got = {}
for line in open(sys.argv[2]):
    try: d = json.loads(line)
    except ValueError: continue
    got[d.get("text")] = d
for line in open(sys.argv[1]):
    tag, t0 = line.split()
    d = got.get(tag)
    print("99999 99999" if d is None else "%d %d" % (d["received_ms"] - d["wall_ms"], int(d["received_ms"] - float(t0) * 1000)))
PY2
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
idle=() idle_e=()
for i in 1 2 3 4 5 6 7 8 9; do
  send_tags idle$i 1 >"$WORK/tags"; read -r d e < <(latencies "$WORK/tags"); idle+=("$d"); idle_e+=("$e")
done
IDLE=$(median "${idle[@]}") IDLE_E=$(median "${idle_e[@]}")
ok "idle chat latency h1 → h2: median $IDLE ms daemon to daemon (${idle[*]}), $IDLE_E ms from hark send (${idle_e[*]})"
progress() { tail -1 "$1" 2>/dev/null | python3 -c 'import json,sys
try:
    o=json.loads(sys.stdin.read()); d=o["data"]
    print(100 if o["event"]=="done" else int(100*d["bytes_done"]/max(1,d["bytes_total"])))
except Exception: print(0)'; }
past() { [ "$(progress "$1")" -ge "$2" ]; }

# 1. A full-speed 1 GiB fetch (into h2's lat/), with chat messages sent while it runs.
mkdir -p "$WORK/h2/lat"
"$LAB" spawn h2 latfetch env HARK_HOME="$WORK/h2" "$HARK" fetch "$BIG" -o "$WORK/h2/lat" --json
LLOG="$LAB_RUN_DIR/h2/latfetch.log"
wait_until 60 past "$LLOG" 2 || not_ok "the 1 GiB fetch does not progress: $(tail -2 "$LLOG")"
p0=$(progress "$LLOG")
send_tags busy 5 >"$WORK/tags"
p=$(progress "$LLOG")
[ "$p" -lt 100 ] && ok "5 messages were sent during the full-speed transfer (between $p0 % and $p %)" \
  || not_ok "the transfer ended before the messages were sent ($p0 % → $p %)"
busy=() busy_e=(); while read -r d e; do busy+=("$d"); busy_e+=("$e"); done < <(latencies "$WORK/tags")
BUSY=$(median "${busy[@]}") BUSY_E=$(median "${busy_e[@]}")
# A check of function, not speed: a chat frame waits behind at most a slice or two of chunk data
# (~2 ms each at full speed), never behind the transfer (seconds). The latency goal (2x idle)
# is a benchmark (scripts/bench-files.sh, `make bench`): on a loaded 2-core machine single
# samples vary by tens of ms.
LIMIT=250
RATIO=$(python3 -c "print(round($BUSY / max($IDLE, 1), 2))")
[ "$BUSY" -le "$LIMIT" ] && ok "chat is not queued behind the 1 GiB transfer: median $BUSY ms daemon to daemon ≤ $LIMIT ms ($RATIO × idle $IDLE ms) (${busy[*]})" \
  || not_ok "chat latency during the transfer $BUSY ms > $LIMIT ms: queued behind the transfer? (idle $IDLE ms) (${busy[*]})"
echo "       end to end from hark send: median $BUSY_E ms during the transfer (${busy_e[*]}), $IDLE_E ms idle"
wait_until 60 past "$LLOG" 100 && [ "$(sha256sum <"$S/big.bin")" = "$(sha256sum <"$WORK/h2/lat/big.bin")" ] \
  && ok "the full-speed copy is identical ($(tail -1 "$LLOG" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["chunks_fetched"], "chunks")'))" \
  || not_ok "full-speed fetch: $(tail -1 "$LLOG")"

# 2. Killed at about half, then resumed: the fetch is held to 150 MiB/s (--limit-rate) so that
# the kill lands mid-way on a fast machine, and resumes at full speed.
served0=$(status_files h1 chunks_served)
"$LAB" spawn h2 bigfetch env HARK_HOME="$WORK/h2" "$HARK" fetch "$BIG" -o "$WORK/h2/in" --json --limit-rate 150M
FLOG="$LAB_RUN_DIR/h2/bigfetch.log"
wait_until 120 past "$FLOG" 50
p=$(progress "$FLOG")
kill -9 "$(hark_pid h2)" 2>/dev/null
[ "$p" -ge 50 ] && [ "$p" -lt 100 ] && ok "the fetching daemon is killed (-9) at $p %" || not_ok "kill at $p %"
sleep 0.5; rm -f "$LAB_RUN_DIR/h2/hark-h2.pid"
start_daemon h2
wait_until 30 has_peer h2 3
served1=$(status_files h1 chunks_served)
[ $((served1 - served0)) -gt 0 ] && ok "the limited fetch took $((served1 - served0)) chunks from h1 before the kill" || not_ok "h1 served nothing"
hark_on h2 fetch "$BIG" -o "$WORK/h2/in" --json >"$WORK/big2.json"; rc=$?
[ $rc = 0 ] && ok "the fetch resumes and finishes after a restart" || { not_ok "resume exited $rc: $(tail -2 "$WORK/big2.json")"; cat_log h2; }
served2=$(status_files h1 chunks_served)
read -r total fetched resumed readback hashed < <(tail -1 "$WORK/big2.json" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]
print(d["chunks_total"], d["chunks_fetched"], d["chunks_resumed"], d["bytes_read_back"], d["bytes_hashed"])')
[ "$resumed" -ge $((total * 40 / 100)) ] && [ $((resumed + fetched)) = "$total" ] \
  && ok "resume: $resumed of $total chunks taken from the bitmap, $fetched fetched" || not_ok "resume: total $total fetched $fetched resumed $resumed"
# The bitmap records the part file's identity after each chunk. A kill -9 between a chunk's write
# and that record leaves an identity the bitmap does not know: the resume must then re-hash what
# was written (never more), and otherwise read back nothing.
if [ "$readback" = 0 ]; then
  [ "$hashed" -le $(( (total - resumed) * 1048576 )) ] \
    && ok "resume read back 0 bytes and hashed only the new chunks ($hashed bytes)" || not_ok "read back 0, but hashed $hashed"
else
  [ "$readback" -le $(( resumed * 1048576 )) ] && [ "$hashed" -le $(( total * 1048576 )) ] \
    && ok "the kill landed inside a chunk's write: the resume re-hashed the written part only ($readback bytes)" \
    || not_ok "read back $readback, above the $resumed chunks written; hashed $hashed"
fi
# A fetch asks other peers only, and h1 is the only other holder of big.bin.
# Each missing chunk once, and none the bitmap holds: at most 5 % more for chunks asked again
# after a request timed out on a loaded machine (seen in CI: 450 served for 437 fetched).
served=$((served2 - served1))
[ "$served" -ge "$fetched" ] && [ "$served" -le $(( fetched + fetched / 20 )) ] \
  && ok "the sender served the $fetched missing chunks on resume ($served with re-asked ones), not the $resumed from the bitmap" \
  || not_ok "sender served $served chunks on resume, fetch reports $fetched"
[ "$(sha256sum <"$S/big.bin")" = "$(sha256sum <"$WORK/h2/in/big.bin")" ] && ok "the 1 GiB file is identical" || not_ok "1 GiB file differs"

say "a part file damaged between an interrupted fetch and its resume"
# The resume must not trust the saved bitmap over bytes that changed on disk: no wrong byte may
# reach the final name, and `hark files` must not call it complete.
head -c 16M /dev/urandom >"$S/dmg.bin"
DID=$(hark_on h1 share "$S/dmg.bin" -g ops)
offered() { hark_on h2 files --json 2>/dev/null | grep -q "$DID"; }
wait_until 20 offered || not_ok "the 16 MiB offer did not reach h2"
mkdir -p "$WORK/h2/dmg"
"$LAB" exec h2 env HARK_HOME="$WORK/h2" timeout 4 "$HARK" fetch "$DID" -o "$WORK/h2/dmg" --limit-rate 1M >/dev/null 2>&1
sleep 1
PART=$(ls "$WORK/h2/dmg/.hark-partial/"*/0.part 2>/dev/null | head -1)
if [ -n "$PART" ]; then
  printf '\xAA\xBB\xCC\xDD' | dd of="$PART" bs=1 seek=1000 conv=notrunc 2>/dev/null
  ok "the fetch was interrupted and its part file damaged at byte 1000"
else
  not_ok "no part file after the interrupted fetch: $(ls -R "$WORK/h2/dmg" | head)"
fi
t0=$(now)
hark_on h2 fetch "$DID" -o "$WORK/h2/dmg" --json >"$WORK/dmg.json"; rc=$?
t1=$(now)
[ $rc = 0 ] && ok "the resumed fetch exits 0" || not_ok "resume exit $rc: $(tail -2 "$WORK/dmg.json")"
cmp -s "$S/dmg.bin" "$WORK/h2/dmg/dmg.bin" && ok "…and the file is byte-identical (the damaged chunk was fetched again)" \
  || not_ok "cmp: $(cmp "$S/dmg.bin" "$WORK/h2/dmg/dmg.bin" 2>&1)"
read -r dresumed dfetched dreadback < <(tail -1 "$WORK/dmg.json" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]
print(d["chunks_resumed"], d["chunks_fetched"], d["bytes_read_back"])')
[ "${dreadback:-0}" -gt 0 ] && [ "${dfetched:-0}" -ge 1 ] \
  && ok "the changed part file was re-hashed ($dreadback bytes read back, $dresumed chunks kept, $dfetched fetched)" \
  || not_ok "resume of a damaged part file: resumed $dresumed fetched $dfetched read back $dreadback"
echo "# resume of a damaged 16 MiB part file: $(ms_since "$t0" "$t1") ms wall, $dreadback bytes re-hashed" >&2
hark_on h2 files | grep "${DID:0:12}" | grep -q complete && ok "hark files says complete only now that the bytes match" || not_ok "files: $(hark_on h2 files | grep "${DID:0:12}")"

say "two honest holders and a liar"
MID=$(head -c 67108864 /dev/urandom | tee "$S/mid.bin" | sha256sum)
MIDID=$(hark_on h1 share "$S/mid.bin" -g ops)
mkdir -p "$WORK/h3/in" "$WORK/h4/in"
wait_until 10 offer_seen h3 "$MIDID"
hark_on h2 fetch "$MIDID" -o "$WORK/h2/in" && hark_on h3 fetch "$MIDID" -o "$WORK/h3/in" \
  && ok "h2 and h3 (the liar-to-be) fetched the 64 MiB file" || not_ok "h2/h3 fetch failed"
holders() { hark_on h4 files --json | python3 -c 'import json,sys
for l in sys.stdin:
    o=json.loads(l)
    if o["file_id"]==sys.argv[1]: print(o["holders"])' "$MIDID"; }
wait_until 5 test "$(holders)" = 3 && ok "hark files on h4 counts 3 holders" || not_ok "holders on h4: $(holders)"
xc0=$(( $(status_files h1 chunks_served_xchacha) + $(status_files h2 chunks_served_xchacha) ))
hark_on h4 fetch "$MIDID" -o "$WORK/h4/in" --json >"$WORK/mid.json"; rc=$?
xc1=$(( $(status_files h1 chunks_served_xchacha) + $(status_files h2 chunks_served_xchacha) ))
[ $rc = 0 ] && ok "h4 fetches the file held by h1, h2 and the lying h3" || not_ok "h4 fetch exited $rc: $(tail -1 "$WORK/mid.json")"
tail -1 "$WORK/mid.json" | python3 -c 'import json,sys
d=json.load(sys.stdin)["data"]; p={x["display_name"]: x for x in d["peers"]}
print(p["alice"]["chunks"], p["bob"]["chunks"], p["carol"].get("dropped"), p["carol"]["chunks"], d["corrupt_chunks"])' >"$WORK/mid.peers"
read -r ca cb dc cc corrupt <"$WORK/mid.peers"
[ "$ca" -gt 0 ] && [ "$cb" -gt 0 ] && ok "both honest holders served chunks (alice $ca, bob $cb)" || not_ok "alice $ca bob $cb"
[ "$dc" = corrupt ] && [ "$cc" = 0 ] && [ "$corrupt" -ge 1 ] && ok "the liar's corrupt chunk was rejected and carol dropped; the chunk came from another peer" \
  || not_ok "liar: dropped=$dc chunks=$cc corrupt=$corrupt"
[ "$(sha256sum <"$WORK/h4/in/mid.bin")" = "$MID" ] && ok "the file h4 assembled is identical" || not_ok "h4's copy differs"
[ $((xc1 - xc0)) -ge $((ca + cb)) ] && ok "h1 and h2 sealed all $((xc1 - xc0)) chunks for h4 (no AES offered) with XChaCha20-Poly1305" \
  || not_ok "XChaCha20-Poly1305 chunks served to h4: $((xc1 - xc0)), h4 got $((ca + cb)) from them"
if grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo; then
  [ "$(status_files h1 chunks_served_aes_gcm)" -gt 0 ] && ok "h1 sealed the chunks for h2 (both with AES-NI) with AES-256-GCM ($(status_files h1 chunks_served_aes_gcm))" \
    || not_ok "no AES-256-GCM chunks served by h1 although the CPU has AES-NI"
fi
[ "$(status_files h1 chunks_rehashed)" = 0 ] && ok "no chunk needed a re-hash on the sender (every source has its identity recorded)" \
  || not_ok "chunks re-hashed: $(status_files h1 chunks_rehashed)"

say "a fetch in progress serves what it has (swarm)"
SW=$(head -c 67108864 /dev/urandom | tee "$S/swarm.bin" | sha256sum)
SWID=$(hark_on h1 share "$S/swarm.bin" -g ops)
mkdir -p "$WORK/h2/sw" "$WORK/h4/sw"
wait_until 10 offer_seen h2 "$SWID"; wait_until 10 offer_seen h4 "$SWID"
part0=$(status_files h2 chunks_served_partial)
# h2 fetches slowly (16 MiB/s), so it is mid-way when h4 starts at full speed.
"$LAB" spawn h2 swfetch env HARK_HOME="$WORK/h2" "$HARK" fetch "$SWID" -o "$WORK/h2/sw" --json --limit-rate 16M
SLOG="$LAB_RUN_DIR/h2/swfetch.log"
wait_until 30 past "$SLOG" 30
hark_on h4 fetch "$SWID" -o "$WORK/h4/sw" --json >"$WORK/sw4.json"; rc=$?
[ $rc = 0 ] && ok "h4 fetched the 64 MiB file while h2 was still fetching it (h2 at $(progress "$SLOG") %)" || not_ok "h4 swarm fetch exited $rc: $(tail -1 "$WORK/sw4.json")"
frombob=$(tail -1 "$WORK/sw4.json" | python3 -c 'import json,sys
d=json.load(sys.stdin)["data"]; print(sum(p["chunks"] for p in d["peers"] if p["display_name"]=="bob"))')
part1=$(status_files h2 chunks_served_partial)
[ "$frombob" -gt 0 ] && [ $((part1 - part0)) -ge "$frombob" ] \
  && ok "h2 served $frombob verified chunks of its unfinished fetch to h4 (from its part file)" \
  || not_ok "swarm: h4 got $frombob chunks from bob, h2 served $((part1 - part0)) partial chunks"
[ "$(sha256sum <"$WORK/h4/sw/swarm.bin")" = "$SW" ] && ok "h4's copy is identical" || not_ok "h4's swarm copy differs"
wait_until 60 past "$SLOG" 100 && [ "$(sha256sum <"$WORK/h2/sw/swarm.bin")" = "$SW" ] \
  && ok "h2's slow fetch finishes, identical" || not_ok "h2 swarm fetch: $(tail -1 "$SLOG")"

say "the same bytes offered in two groups"
hark_on h1 group create side >/dev/null
hark_on h2 group join "$(hark_on h1 group invite side)" >/dev/null
TW=$(head -c 3000000 /dev/urandom | tee "$S/twice.bin" | sha256sum)
TW1=$(hark_on h1 share "$S/twice.bin" -g ops); TW2=$(hark_on h1 share "$S/twice.bin" -g side)
[ "$TW1" = "$TW2" ] && ok "one manifest ID for both offers" || not_ok "IDs differ: $TW1 $TW2"
mkdir -p "$WORK/h3/tw" "$WORK/h2/tw"
wait_until 10 offer_seen h3 "$TW1"
hark_on h3 fetch "$TW1" -o "$WORK/h3/tw" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 0 ] && [ "$(sha256sum <"$WORK/h3/tw/twice.bin")" = "$TW" ] \
  && ok "a member of only the first group still fetches it after the second offer" || not_ok "h3 (ops only) fetch: exit $rc $(cat "$WORK/err")"
wait_until 10 offer_seen h2 "$TW1"
hark_on h2 fetch "$TW1" -o "$WORK/h2/tw" >/dev/null 2>"$WORK/err"; rc=$?
[ $rc = 0 ] && [ "$(sha256sum <"$WORK/h2/tw/twice.bin")" = "$TW" ] \
  && ok "a member of both groups fetches it too" || not_ok "h2 (both groups) fetch: exit $rc $(cat "$WORK/err")"

say "a source that changed after the offer"
head -c 8388608 /dev/urandom >"$S/changing.bin"
CH=$(hark_on h1 share "$S/changing.bin" -g ops)
head -c 8388608 /dev/urandom >"$S/changing.bin"
wait_until 10 offer_seen h4 "$CH"
sc0=$(status_files h1 source_changed)
t0=$(now); hark_on h4 fetch "$CH" -o "$WORK/h4/in" --timeout 2s 2>"$WORK/err"; rc=$?; t1=$(now)
sc1=$(status_files h1 source_changed)
[ $rc = 65 ] && ok "fetching a changed source exits 65 after $(ms_since $t0 $t1) ms" || not_ok "changed source: exit $rc ($(cat "$WORK/err"))"
grep -q "changed" "$WORK/err" && ok "…and says the sender's file changed: $(head -c 120 "$WORK/err")" || not_ok "message: $(cat "$WORK/err")"
[ ! -e "$WORK/h4/in/changing.bin" ] && ok "no file appears (no mix of old and new bytes)" || not_ok "changing.bin was written"
[ $((sc1 - sc0)) -ge 1 ] && [ $((sc1 - sc0)) -le 16 ] && ok "the sender refused $((sc1 - sc0)) requests: no retry loop" || not_ok "source_changed refusals: $((sc1 - sc0))"

say "unsafe names write nothing outside the target"
T4=$WORK/h4/unsafe/deep; mkdir -p "$T4" "$WORK/h4/outside"; [ -e /etc/x ] && PRE_ETC=1 || PRE_ETC=0
for spec in '[["..","..","x"]]:../../x' '[["/etc/x"]]:/etc/x' '[["a","..","..","b"]]:a/../../b'; do
  paths=${spec%%:*} name=${spec#*:}
  r=$(control_on h1 "{\"id\":1,\"method\":\"test.offer_raw\",\"params\":{\"group\":\"ops\",\"paths\":$paths}}")
  rid=$(echo "$r" | jget result.file_id)
  wait_until 10 offer_seen h4 "$rid"
  hark_on h4 fetch "$rid" -o "$T4" 2>"$WORK/err"; rc=$?
  [ $rc = 65 ] && ok "offered name $name is refused (exit 65: $(head -c 90 "$WORK/err"))" || not_ok "$name: exit $rc"
done
r=$(control_on h1 '{"id":1,"method":"test.offer_raw","params":{"group":"ops","paths":[["link"]],"mode":41471}}')
rid=$(echo "$r" | jget result.file_id); wait_until 10 offer_seen h4 "$rid"
hark_on h4 fetch "$rid" -o "$T4" 2>"$WORK/err"; rc=$?
[ $rc = 65 ] && ok "an entry with a symlink mode (0o120777) is refused (exit 65)" || not_ok "symlink-mode entry: exit $rc"
[ ! -e "$WORK/h4/x" ] && [ ! -e "$WORK/h4/unsafe/b" ] && [ ! -e "$WORK/h4/unsafe/x" ] && { [ $PRE_ETC = 1 ] || [ ! -e /etc/x ]; } \
  && [ -z "$(ls -A "$T4")" ] && ok "nothing was written inside or outside the target folder" || not_ok "files appeared: $(ls -la "$T4" "$WORK/h4" | head)"
mkdir -p "$S/evil"; echo payload >"$S/evil/x"
EV=$(hark_on h1 share "$S/evil" -g ops); wait_until 10 offer_seen h4 "$EV"
ln -s "$WORK/h4/outside" "$T4/evil"
hark_on h4 fetch "$EV" -o "$T4" 2>"$WORK/err"; rc=$?
[ $rc = 73 ] && ok "a symlink planted in the target is not followed (exit 73: $(head -c 80 "$WORK/err"))" || not_ok "planted symlink: exit $rc"
[ -z "$(ls -A "$WORK/h4/outside")" ] && ok "…and nothing reaches the folder it points to" || not_ok "outside has: $(ls "$WORK/h4/outside")"
r=$(control_on h1 '{"id":1,"method":"test.offer_raw","params":{"group":"ops","paths":[["evil\u001b[31mred\u202etxt.exe"]]}}')
rid=$(echo "$r" | jget result.file_id); wait_until 10 offer_seen h4 "$rid"
hark_on h4 files >"$WORK/files.txt"
! grep -q $'\x1b' "$WORK/files.txt" && grep -qF 'evil\u{1B}[31mred\u{202E}txt.exe' "$WORK/files.txt" \
  && ok "hark files neutralises control and bidi characters in names" || not_ok "files output: $(grep red "$WORK/files.txt" | od -c | head -3)"
hark_on h4 files --json | grep -qF 'evil\u001b[31mred' && ok "hark files --json escapes them" || not_ok "json: $(hark_on h4 files --json | grep red)"

say "auto-fetch under a size"
stop_daemon h4
start_daemon h4 --auto-fetch-max 100000
wait_until 30 has_peer h4 3
echo "small enough" >"$S/small.txt"; head -c 200000 /dev/urandom >"$S/large.bin"
hark_on h1 share "$S/small.txt" -g ops >/dev/null; hark_on h1 share "$S/large.bin" -g ops >/dev/null
wait_until 45 test -f "$WORK/h4/files/small.txt" && cmp -s "$S/small.txt" "$WORK/h4/files/small.txt" \
  && ok "an offer under --auto-fetch-max arrives by itself in files/" || { not_ok "small.txt not auto-fetched"; cat_log h4; }
sleep 1; [ ! -e "$WORK/h4/files/large.bin" ] && ok "…and one over it does not" || not_ok "large.bin was auto-fetched"

stop_daemon h1; stop_daemon h2; stop_daemon h3; stop_daemon h4
"$LAB" guard-check >&2 && ok "no lab packet left the machine" || not_ok "lab traffic seen outside"
summary
