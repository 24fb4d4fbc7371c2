#!/usr/bin/env python3
"""Drives `hark chat` in a real pseudo-terminal, as a person at a plain terminal (or over ssh)
would: history, a live message, a typing indicator, sending a line, /who, leaving with Ctrl-D,
and the terminal modes restored. Usage: chat_tty.py HARK HOME_A HOME_B GROUP. Exit 0 iff all pass.
Every wait is bounded (5 s)."""
import json, os, pty, select, socket, subprocess, sys, termios, time

hark, home_a, home_b, group = sys.argv[1:5]
passed = failed = 0

def ok(cond, what):
    global passed, failed
    if cond: passed += 1; print("ok   - " + what)
    else: failed += 1; print("FAIL - " + what)

def control(home, method, params):
    s = socket.socket(socket.AF_UNIX); s.connect(os.path.join(home, "control.sock"))
    s.sendall(json.dumps({"id": 1, "method": method, "params": params}).encode() + b"\n")
    return json.loads(s.makefile().readline())

pid, fd = pty.fork()
if pid == 0:
    os.environ["HARK_HOME"] = home_a
    os.environ.setdefault("TERM", "xterm")  # the chat draws with ncurses: it needs a terminal type
    os.execv(hark, [hark, "chat", group])

before = termios.tcgetattr(fd)  # the pty's modes as the child found them (canonical, echo)
screen = b""
def read_until(needle, seconds=5.0):
    global screen
    deadline = time.time() + seconds
    while time.time() < deadline:
        if needle.encode() in screen: return True
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: screen += os.read(fd, 65536)
            except OSError: break
    return needle.encode() in screen

ok(read_until("history line one"), "chat shows recent history")
ok(read_until("> "), "chat shows a prompt")
modes = termios.tcgetattr(fd)
ok(not (modes[3] & termios.ICANON) and not (modes[3] & termios.ECHO), "chat switched the terminal to its own line editor")

control(home_b, "typing", {"group": group, "active": True})
ok(read_until("typing"), "a typing notice from bob shows in the prompt line")
control(home_b, "send", {"group": group, "text": "live from bob"})
ok(read_until("live from bob"), "a message from bob shows as it arrives")

os.write(fd, "hello from the chat ✓\r".encode())
deadline = time.time() + 5; got = False
while time.time() < deadline and not got:
    log = control(home_b, "log", {"group": group})["result"]
    got = any(m["text"] == "hello from the chat ✓" for m in log); time.sleep(0.1)
ok(got, "a line typed in chat (with UTF-8) reaches bob")

os.write(fd, b"/who\r")
ok(read_until("bob ("), "/who lists bob with his fingerprint")
os.write(fd, b"/nonsense\r")
ok(read_until("unknown command"), "an unknown /command is explained, not sent")

os.write(fd, b"\x04")  # Ctrl-D on an empty line
status = None
deadline = time.time() + 5
while time.time() < deadline:
    try: screen += os.read(fd, 65536)
    except OSError: pass
    wpid, st = os.waitpid(pid, os.WNOHANG)
    if wpid == pid: status = os.waitstatus_to_exitcode(st); break
    time.sleep(0.05)
ok(status == 0, "Ctrl-D on an empty line leaves chat with exit 0 (got %r)" % status)
try:
    after = termios.tcgetattr(fd)
    ok(after[3] == before[3], "the terminal's modes are restored")
except termios.error:
    ok(False, "the terminal is gone")
if status is None: os.kill(pid, 9)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
