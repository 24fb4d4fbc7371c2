#!/usr/bin/env python3
"""Chat latency while a file transfer runs, against the same latency idle (goal: <= 2x).

Used by scripts/bench-files.sh with its two daemons on 127.0.0.1 (A offers the file, B fetches
it; chat goes A -> B, the file's direction). The driver writes each `send` request straight to
A's control socket and stamps the moment B's `hark log GROUP --follow --json` prints the line
(closed loop, one message in flight, as scripts/bench-follow.py). First IDLE messages with
nothing else running, then messages for as long as B's `hark fetch` of the file runs.

Bounded: at most 5 s per message, at most 300 messages and 180 s per phase. Every process
started here is ended here, by its PID. Prints one line.
"""
import argparse, json, os, socket, subprocess, sys, time
from bench_arrivals import Arrivals, text_of

PER_MESSAGE_S = 5.0
PHASE_S = 180.0
GAP_S = 0.02


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
        fetch = subprocess.Popen([args.hark, "fetch", args.file_id, "-o", args.out], env=env_b,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        procs.append(fetch)
        start = time.monotonic()
        busy = []
        while fetch.poll() is None and len(busy) < 300 and time.monotonic() - start < PHASE_S:
            busy.append(one("busy"))
        took = time.monotonic() - start
        rc = fetch.wait(timeout=PHASE_S)
        if rc != 0:
            sys.exit(f"bench-chat-during: hark fetch exited {rc}")
        if len(busy) < 5:
            sys.exit(f"bench-chat-during: only {len(busy)} messages during the {took:.2f} s fetch (a larger BENCH_FILE_MIB helps)")
        i50, i99, b50, b99 = pct(idle, 50), pct(idle, 99), pct(busy, 50), pct(busy, 99)
        print("  chat during fetch p50 %6.2f ms  p99 %6.2f ms   idle p50 %6.2f ms  p99 %6.2f ms   ratio p50 %.2f  p99 %.2f (goal <= 2)"
              "   (%d messages during the %.2f s fetch, %d idle)" % (b50, b99, i50, i99, b50 / i50, b99 / i99, len(busy), took, len(idle)))
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
