#!/usr/bin/env bash
# The shell side of hark: live completions (group names, peer names, file IDs asked from the
# daemon, and nothing, fast, without one), path completion in the generated scripts, fetch -o
# creating its folder, a resumed fetch saying so and counting only the bytes it moved, the
# progress bar fitting a 40-column terminal and ending its line on Ctrl-C, `hark send GROUP` on a
# terminal saying it reads until Ctrl-D, and man pages with real EXIT STATUS lists.
# Real daemons on 127.0.0.1 only, without discovery. Ends with "N passed, M failed".
set -uo pipefail
TEST_NAME=shell
. "$(dirname "$0")/lib.sh"
export XDG_CONFIG_HOME="$T/no-config" XDG_RUNTIME_DIR=
A="$T/a" B="$T/b"
env HARK_HOME="$A" "$HARK" init --name alice >/dev/null; env HARK_HOME="$B" "$HARK" init --name bob >/dev/null

# complete HOME SUBCOMMAND... -- ARG PREFIX : what the shell would be offered for ARG
complete_arg() {
  local home=$1; shift
  local cmd=() ; while [ "$1" != -- ]; do cmd+=("$1"); shift; done; shift
  local arg=$1 prefix=$2
  timeout 5 env HARK_HOME="$home" "$HARK" ---completion "${cmd[@]}" -- "$arg" 0 "${#prefix}" "$prefix" 2>/dev/null
}
start=$(date +%s%N)
out=$(complete_arg "$A" send -- positional@0 "")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ -z "$out" ] && ok "without a daemon, group completion offers nothing ($ms ms)" || not_ok "offered without a daemon: $out"

env HARK_HOME="$A" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port 0 2>"$T/a.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$A" "$HARK" status >/dev/null 2>&1 || not_ok "daemon a did not start"
PORT=$(env HARK_HOME="$A" "$HARK" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tcp_port"])')
env HARK_HOME="$B" "$HARK" daemon --no-discovery --listen 127.0.0.1 --port 0 --peer "127.0.0.1:$PORT" 2>"$T/b.log" & PIDS+=($!)
wait_until 10 env HARK_HOME="$B" "$HARK" status >/dev/null 2>&1 || not_ok "daemon b did not start"
env HARK_HOME="$A" "$HARK" group create ops >/dev/null; env HARK_HOME="$A" "$HARK" group create opera >/dev/null
env HARK_HOME="$B" "$HARK" group join "$(env HARK_HOME="$A" "$HARK" group invite ops)" >/dev/null

[ "$(complete_arg "$A" send -- positional@0 op | sort | tr '\n' ' ')" = "opera ops " ] && ok "hark send <Tab>: the daemon's group names matching the prefix" \
  || not_ok "send completions: $(complete_arg "$A" send -- positional@0 op)"
complete_arg "$A" log -- positional@0 "" | contains -x ops && ok "hark log <Tab> offers groups too" || not_ok "log completions"
has_bob() { complete_arg "$A" verify -- positional@0 b | contains -x bob; }
wait_until 10 has_bob && ok "hark verify <Tab>: peer names" || not_ok "verify completions: $(complete_arg "$A" verify -- positional@0 "")"
complete_arg "$A" group invite -- --for b | contains -x bob && ok "group invite --for <Tab>: peer names" || not_ok "--for completions"
head -c 3145728 /dev/urandom >"$T/big.bin"
FID=$(env HARK_HOME="$A" "$HARK" share "$T/big.bin" -g ops)
has_fid() { complete_arg "$B" fetch -- positional@0 "${FID:0:2}" | contains -x "${FID:0:12}"; }
wait_until 10 has_fid && ok "hark fetch <Tab>: file IDs (12 hex digits)" || not_ok "fetch completions: $(complete_arg "$B" fetch -- positional@0 "")"

fn() { awk -v f="$2" '$0 ~ "^"f"\\(\\) *\\{" {p=1} p {print} p && /^}/ {exit}' "$1"; }
fn "$ROOT/completions/_hark" _hark_share | contains ":path:_files'" && fn "$ROOT/completions/_hark" _hark_fetch | contains -- "-o.*:dir:_files -/" \
  && ok "zsh completes paths for share and a folder for fetch -o" || not_ok "zsh: $(fn "$ROOT/completions/_hark" _hark_share | grep path)"
fn "$ROOT/completions/hark.bash" _hark_share | contains "__hark_add_completions -f" && fn "$ROOT/completions/hark.bash" _hark_import | contains "__hark_add_completions -f" \
  && ok "bash completes paths for share and import" || not_ok "bash: $(fn "$ROOT/completions/hark.bash" _hark_share | tail -8)"
grep -q '"hark share" -ge 1.* -F$' "$ROOT/completions/hark.fish" && grep -E "^complete .*-l 'home'" "$ROOT/completions/hark.fish" | contains "__hark_complete_directories" \
  && ok "fish completes paths for share and a folder for --home" || not_ok "fish: $(grep '"hark share"' "$ROOT/completions/hark.fish" | head -3)"
fn "$ROOT/completions/hark.bash" _hark_send | contains -- "---completion send" && ok "bash asks the daemon for group names (hark send)" || not_ok "bash send: no live completion"

echo "== fetch"
env HARK_HOME="$B" timeout -s INT 3 "$HARK" fetch "$FID" -o "$T/new/sub" --limit-rate 256K >/dev/null 2>"$T/f1.err"
[ -d "$T/new/sub" ] && ok "fetch -o DIR creates a missing DIR" || not_ok "-o not created: $(cat "$T/f1.err")"
[ -n "$(find "$T/new/sub/.hark-partial" -name '*.part' 2>/dev/null)" ] && ok "the interrupted fetch left a partial download" || not_ok "no partial download"
env HARK_HOME="$B" "$HARK" fetch "$FID" -o "$T/new/sub" >/dev/null 2>"$T/f2.err"; code=$?
[ "$code" = 0 ] && cmp -s "$T/big.bin" "$T/new/sub/big.bin" && ok "the resumed fetch completes and matches the source" || not_ok "resume: exit $code: $(cat "$T/f2.err")"
grep -qE "^resuming at [0-9]+ % \([0-9.]+ of 3 MiB already verified\)$" "$T/f2.err" && ok "…and says: $(head -1 "$T/f2.err")" || not_ok "no resume line: $(cat "$T/f2.err")"

# In a 40-column pseudo-terminal: every redraw of the bar fits, and Ctrl-C ends its line.
python3 - "$HARK" "$B" "$FID" "$T/tty" >"$T/pty.out" <<'PY'
import fcntl, os, pty, re, select, signal, struct, sys, termios, time
hark, home, fid, out = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.environ["HARK_HOME"] = home
    os.execv(hark, [hark, "fetch", fid, "-o", out, "--limit-rate", "128K"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 40, 0, 0))
os.kill(pid, signal.SIGWINCH)
buf = b""; deadline = time.time() + 4
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try: buf += os.read(fd, 65536)
        except OSError: break
os.write(fd, b"\x03")
end = time.time() + 5; status = None
while time.time() < end and status is None:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try: buf += os.read(fd, 65536)
        except OSError: pass
    p, st = os.waitpid(pid, os.WNOHANG)
    if p: status = st
text = buf.decode("utf-8", "replace").replace("\x1b[K", "")
segments = [s for s in re.split(r"[\r\n]", text) if s.strip()]
draws = [s for s in segments if "%" in s]
widest = max((len(s) for s in draws), default=0)
print("draws=%d widest=%d exit=%s ends_line=%s" % (len(draws), widest,
      os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else status, buf.endswith(b"\n")))
PY
read -r draws widest ex ends < <(sed 's/[a-z_]*=//g' "$T/pty.out")
[ "${draws:-0}" -ge 2 ] && [ "${widest:-99}" -le 39 ] && ok "in 40 columns every progress line fits ($draws draws, widest $widest)" || not_ok "progress in 40 columns: $(cat "$T/pty.out")"
[ "$ex" = 130 ] && [ "$ends" = True ] && ok "Ctrl-C ends the bar's line and exits 130" || not_ok "Ctrl-C: $(cat "$T/pty.out")"

echo "== send on a terminal"
python3 - "$HARK" "$A" >"$T/send.out" <<'PY'
import os, pty, select, sys, time
hark, home = sys.argv[1:3]
pid, fd = pty.fork()
if pid == 0:
    os.environ["HARK_HOME"] = home
    os.execv(hark, [hark, "send", "ops"])
buf = b""; deadline = time.time() + 5
while time.time() < deadline and b"Ctrl-D" not in buf:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r: buf += os.read(fd, 4096)
os.write(fd, b"typed at the terminal\n\x04")
end = time.time() + 5; status = None
while time.time() < end and status is None:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p: status = st
    time.sleep(0.05)
print("hint=%s exit=%s" % (b"end it with Ctrl-D" in buf, os.WEXITSTATUS(status) if status is not None else None))
PY
grep -q "hint=True exit=0" "$T/send.out" && ok "hark send ops on a terminal says it reads until Ctrl-D, then sends" || not_ok "send on a tty: $(cat "$T/send.out")"
env HARK_HOME="$A" "$HARK" log ops | contains "typed at the terminal" && ok "…and the typed message is in the log" || not_ok "typed message missing"
echo piped | env HARK_HOME="$A" "$HARK" send ops 2>"$T/err"; [ ! -s "$T/err" ] && ok "from a pipe it says nothing" || not_ok "stderr from a pipe: $(cat "$T/err")"

echo "== man pages"
bad=$(grep -L '^\.It 69' "$ROOT"/man/hark.send.1 "$ROOT"/man/hark.fetch.1 "$ROOT"/man/hark.peer.block.1 2>&1)
[ -z "$bad" ] && ok "send, fetch and peer block pages list their exit codes" || not_ok "no code list in: $bad"
generic=$(cd "$ROOT/man" && grep -l '^\.Ex -std' ./*.1 | tr '\n' ' ')
echo "pages still with the generic exit status: ${generic:-none}"
grep -q '^\.Sh EXAMPLES' "$ROOT/man/hark.send.1" && grep -q '^\.Sh FILES' "$ROOT/man/hark.1" && grep -q '^\.Sh ENVIRONMENT' "$ROOT/man/hark.1" \
  && ok "hark.send(1) has EXAMPLES; hark(1) has FILES and ENVIRONMENT" || not_ok "sections missing"
awk '/^\.Sh "EXIT STATUS"/,/^\.Sh EXAMPLES/' "$ROOT/man/hark.daemon.1" | grep -A1 '^\.It 78$' | contains "no identity" \
  && ok "hark.daemon(1) lists exit 78 with its meaning in EXIT STATUS" || not_ok "daemon page: $(grep -A30 'EXIT STATUS' "$ROOT/man/hark.daemon.1" | head -12)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
