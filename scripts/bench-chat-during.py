#!/usr/bin/env python3
"""Chat latency while a file transfer runs, against the same latency idle (goal: <= 2x).

Used by scripts/bench-files.sh with its two daemons on 127.0.0.1 (A offers the file, B fetches
it; chat goes A -> B, the file's direction). The driver writes each `send` request straight to
A's control socket and stamps the moment B's `hark log GROUP --follow --json` prints the line
(closed loop, one message in flight, as scripts/bench-follow.py). First IDLE messages with
nothing else running, then messages while B fetches the file, fetch after fetch (each copy
removed), until BUSY messages are in: one fetch of 1 GiB gives too few for a p99.

Where a chat frame can wait behind file data in the kernel: with --port (A's peer port), the
bytes queued on the channel's TCP socket at A (Send-Q: written, not yet acknowledged) and at B
(Recv-Q: arrived, not yet read by the node) are sampled every 5 ms during the fetches from
/proc/net/tcp and /proc/net/tcp6, and their p50/p99 printed.

Bounded: at most 5 s per message, at most 300 messages and 180 s per phase, at most 10 fetches.
Every process started here is ended here, by its PID. Prints two lines.
"""
import argparse, json, os, socket, subprocess, sys, threading, time
from bench_arrivals import Arrivals, text_of

PER_MESSAGE_S = 5.0
PHASE_S = 180.0
GAP_S = 0.02
MAX_FETCHES = 10


class QueueSampler:
    """Samples the TCP queues of the channel to `port` on loopback every 5 ms, until stopped:
    tx_queue of the socket whose local port is `port` (the sender's Send-Q) and rx_queue of the
    socket whose remote port is `port` (the receiver's Recv-Q), in bytes."""

    def __init__(self, port):
        self.port, self.send, self.recv, self.stop = port, [], [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(0.005):
            tx = rx = None
            for name in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    lines = open(name).read().splitlines()[1:]
                except OSError:
                    continue
                for line in lines:
                    f = line.split()
                    if f[3] != "01":  # ESTABLISHED
                        continue
                    local, remote = int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16)
                    t, r = (int(x, 16) for x in f[4].split(":"))
                    if local == self.port:
                        tx = max(tx or 0, t)
                    elif remote == self.port:
                        rx = max(rx or 0, r)
            if tx is not None:
                self.send.append(tx)
            if rx is not None:
                self.recv.append(rx)

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=5)


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hark", required=True)
    ap.add_argument("--home-a", required=True)
    ap.add_argument("--home-b", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--file-id", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--idle", type=int, default=100)
    ap.add_argument("--busy", type=int, default=200, help="messages during fetches (the fetch is repeated until in)")
    ap.add_argument("--port", type=int, help="A's peer port: sample the channel's kernel queues")
    args = ap.parse_args()
    env_b = dict(os.environ, HARK_HOME=args.home_b)
    procs = []
    try:
        follow = subprocess.Popen([args.hark, "log", args.group, "--follow", "--json"], env=env_b,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        procs.append(follow)
        arrivals = Arrivals(follow.stdout.fileno(), text_of)
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.connect(os.path.join(args.home_a, "control.sock"))
        rfile = ctl.makefile("rb")
        seq = [0]

        def one(name):
            seq[0] += 1
            key = f"chat-{name}-{seq[0]}"
            t0 = time.perf_counter_ns()
            ctl.sendall(json.dumps({"id": seq[0], "method": "send", "params": {"group": args.group, "text": key}}).encode() + b"\n")
            resp = json.loads(rfile.readline())
            if "error" in resp:
                sys.exit(f"bench-chat-during: send failed: {resp['error']}")
            t1 = arrivals.wait(key, PER_MESSAGE_S)
            if t1 is None:
                sys.exit(f"bench-chat-during: {key} not printed within {PER_MESSAGE_S} s")
            time.sleep(GAP_S)
            return (t1 - t0) / 1e6

        for _ in range(10):
            one("warm")
        start = time.monotonic()
        idle = []
        while len(idle) < args.idle and time.monotonic() - start < PHASE_S:
            idle.append(one("idle"))
        sampler = QueueSampler(args.port) if args.port else None
        start = time.monotonic()
        busy, fetches, took = [], 0, 0.0
        while len(busy) < args.busy and fetches < MAX_FETCHES and time.monotonic() - start < PHASE_S:
            for name in os.listdir(args.out):
                os.remove(os.path.join(args.out, name))
            fetch = subprocess.Popen([args.hark, "fetch", args.file_id, "-o", args.out], env=env_b,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            procs.append(fetch)
            fetches += 1
            t0 = time.monotonic()
            while fetch.poll() is None and len(busy) < 300 and time.monotonic() - start < PHASE_S:
                busy.append(one("busy"))
            took += time.monotonic() - t0
            rc = fetch.wait(timeout=PHASE_S)
            if rc != 0:
                sys.exit(f"bench-chat-during: hark fetch exited {rc}")
        if sampler:
            sampler.finish()
        if len(busy) < 5:
            sys.exit(f"bench-chat-during: only {len(busy)} messages during {fetches} fetches of {took:.2f} s (a larger BENCH_FILE_MIB helps)")
        i50, i99, b50, b99 = pct(idle, 50), pct(idle, 99), pct(busy, 50), pct(busy, 99)
        print("  chat during fetch p50 %6.2f ms  p99 %6.2f ms   idle p50 %6.2f ms  p99 %6.2f ms   ratio p50 %.2f  p99 %.2f (goal <= 2)"
              "   (%d messages during %d fetches, %.2f s in all, %d idle)" % (b50, b99, i50, i99, b50 / i50, b99 / i99, len(busy), fetches, took, len(idle)))
        if sampler and sampler.send and sampler.recv:
            kib = lambda xs, p: pct(xs, p) / 1024
            print("  kernel queues on the channel during the fetches: sender Send-Q p50 %.0f KiB p99 %.0f KiB, receiver Recv-Q p50 %.0f KiB p99 %.0f KiB   (%d samples)"
                  % (kib(sampler.send, 50), kib(sampler.send, 99), kib(sampler.recv, 50), kib(sampler.recv, 99), len(sampler.send)))
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
