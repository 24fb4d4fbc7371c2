#!/usr/bin/env python3
"""Unauthenticated connection flood for hark's lab tests (run inside a lab namespace only).

Opens COUNT TCP connections to HOST:PORT, each sending what a hostile peer sends before any
handshake: a length prefix of 0 (an attachment), the attachment length 262160, then up to
262000 random bytes, and holds it open until HOLD seconds have passed since the start.
Bounded: at most COUNT connections (≤ 2000), at most HOLD seconds (≤ 60), then everything is
closed. HOST must be an address of a lab namespace (the test passes the target's lan0 address).
Prints one line: "flood: N connected, M closed by the target, B bytes sent".
"""
import os, resource, selectors, socket, sys, time

host, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
count, hold = min(count, 2000), min(hold, 60.0)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 64)), hard))

payload = b"\0\0\0\4\0\x10" + os.urandom(262000)
sel = selectors.DefaultSelector()
state = {}          # socket -> bytes sent so far
counted = set()     # sockets whose connect result was counted
connected = closed = sent = 0
start = time.monotonic()
for _ in range(count):
    if time.monotonic() - start > hold:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect_ex((host, port))
    except OSError:
        s.close(); continue
    state[s] = 0
    sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ)

while time.monotonic() - start < hold and sel.get_map():
    for key, ev in sel.select(timeout=0.2):
        s = key.fileobj
        try:
            if state[s] == 0 and s not in counted:
                counted.add(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected += 1
            if ev & selectors.EVENT_READ:
                if s.recv(4096) == b"":
                    raise ConnectionResetError
            if ev & selectors.EVENT_WRITE:
                n = s.send(payload[state[s]:state[s] + 65536])
                state[s] += n; sent += n
                if state[s] >= len(payload):
                    sel.modify(s, selectors.EVENT_READ)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            closed += 1
            sel.unregister(s); s.close(); state.pop(s, None)

for s in list(state):
    sel.unregister(s); s.close()
print(f"flood: {connected} connected, {closed} closed by the target, {sent} bytes sent", flush=True)
