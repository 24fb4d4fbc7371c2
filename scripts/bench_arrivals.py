"""Arrival stamps of lines printed by a process (`hark log --follow --json`, a relay): shared by
scripts/bench-follow.py and scripts/bench-chat-during.py.

Thread-safe: one reader thread stamps lines; `wait` may be called from any thread.
"""
import json, os, threading, time


def text_of(line):
    """The `text` field of a JSON line, or None (not JSON, no text)."""
    try:
        return json.loads(line).get("text")
    except ValueError:
        return None


class Arrivals:
    """Stamps lines read from a pipe; `wait(key)` blocks until `key` arrived."""

    def __init__(self, fd, key_of):
        self.times, self.cond, self.fd, self.key_of = {}, threading.Condition(), fd, key_of
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return
            now = time.perf_counter_ns()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            with self.cond:
                for line in lines:
                    key = self.key_of(line)
                    if key is not None:
                        self.times.setdefault(key, now)
                self.cond.notify_all()

    def wait(self, key, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while key not in self.times:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.times[key]
