#!/usr/bin/env python3
"""send -> printed by `hark log --follow --json` on another node: p50 and p99 latency.

Two real daemons on 127.0.0.1 (no discovery; B dials A with --peer). The driver writes each
`send` request straight to A's control socket (NDJSON, docs/CONTROL.md), so no `hark send`
process start is counted, and stamps the moment B's `hark log GROUP --follow --json` prints
the line with that text. Closed loop: one message in flight at a time.

Baseline, same run, same loop: the same hops with the messenger taken out, three socat relays
    driver -> UNIX socket -> socat -> TCP -> socat -> UNIX socket -> socat -> stdout pipe -> driver
(hark's path: driver -> control socket -> daemon A -> Noise/TCP -> daemon B -> control socket ->
`hark log --follow` -> stdout pipe -> driver).

Bounded: COUNT messages (default 1000) plus 20 warm-up, at most 5 s each, at most 180 s a loop.
Only loopback; every process started here is ended here, by its PID.
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time
from bench_arrivals import Arrivals, text_of

WARMUP = 20
PER_MESSAGE_S = 5.0
LOOP_S = 180.0


def closed_loop(name, count, send, arrivals):
    """Returns sorted latencies in ms of messages WARMUP..WARMUP+count."""
    lat, start = [], time.monotonic()
    for i in range(WARMUP + count):
        if time.monotonic() - start > LOOP_S:
            sys.exit(f"bench-follow: {name}: over {LOOP_S:.0f} s after {i} messages")
        key = f"bench-{name}-{i}"
        t0 = time.perf_counter_ns()
        send(key)
        t1 = arrivals.wait(key, PER_MESSAGE_S)
        if t1 is None:
            sys.exit(f"bench-follow: {name}: message {i} not printed within {PER_MESSAGE_S} s")
        if i >= WARMUP:
            lat.append((t1 - t0) / 1e6)
    return sorted(lat)


def pct(sorted_ms, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_ms) - 1, int(round(p / 100 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def wait_until(what, timeout, fn):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if fn():
                return
        except (OSError, ValueError, subprocess.CalledProcessError):
            pass
        time.sleep(0.05)
    sys.exit(f"bench-follow: {what} within {timeout} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hark", required=True)
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    count = max(1, min(args.count, 100_000))
    hark = os.path.abspath(args.hark)
    work = tempfile.mkdtemp(prefix="hark-bench-follow.")
    procs = []

    def spawn(cmd, env=None, **kw):
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, **kw)
        procs.append(p)
        return p

    def home(n):
        return dict(os.environ, HARK_HOME=os.path.join(work, n))

    def h(n, *a):
        return subprocess.run([hark, *a], env=home(n), check=True, capture_output=True, text=True, timeout=30).stdout

    try:
        # ---- hark: A and B on loopback, one group, B follows it
        h("a", "init", "--name", "alice")
        h("b", "init", "--name", "bob")
        alog = open(os.path.join(work, "a.log"), "w")
        spawn([hark, "daemon", "--no-discovery", "--listen", "127.0.0.1"], home("a"), stdout=alog, stderr=alog)
        wait_until("daemon A did not start", 20, lambda: h("a", "status") is not None)
        port = json.loads(h("a", "status", "--json"))["tcp_port"]
        blog = open(os.path.join(work, "b.log"), "w")
        spawn([hark, "daemon", "--no-discovery", "--listen", "127.0.0.1", "--peer", f"127.0.0.1:{port}"],
              home("b"), stdout=blog, stderr=blog)
        wait_until("daemon B did not start", 20, lambda: h("b", "status") is not None)
        h("a", "group", "create", "bench")
        h("b", "group", "join", h("a", "group", "invite", "bench").strip())
        wait_until("B did not connect to A", 20,
                   lambda: json.loads(h("b", "status", "--json"))["connected_peers"] >= 1)
        follow = spawn([hark, "log", "bench", "--follow", "--json"], home("b"), stdout=subprocess.PIPE)

        arrivals = Arrivals(follow.stdout.fileno(), text_of)
        ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ctl.connect(os.path.join(work, "a", "control.sock"))
        rfile = ctl.makefile("rb")
        seq = [0]

        def hark_send(text):
            seq[0] += 1
            req = {"id": seq[0], "method": "send", "params": {"group": "bench", "text": text}}
            ctl.sendall(json.dumps(req).encode() + b"\n")
            resp = json.loads(rfile.readline())
            if "error" in resp:
                sys.exit(f"bench-follow: send failed: {resp['error']}")

        hark_lat = closed_loop("hark", count, hark_send, arrivals)

        # ---- baseline: three socat relays over the same kinds of sockets
        s = socket.socket(); s.bind(("127.0.0.1", 0)); tcp_port = s.getsockname()[1]; s.close()
        a_sock, b_sock = os.path.join(work, "relay-a.sock"), os.path.join(work, "relay-b.sock")
        last = spawn(["socat", "-u", f"UNIX-LISTEN:{b_sock}", "STDOUT"], stdout=subprocess.PIPE)
        wait_until("socat did not listen", 10, lambda: os.path.exists(b_sock))
        spawn(["socat", "-u", f"TCP-LISTEN:{tcp_port},bind=127.0.0.1,reuseaddr", f"UNIX-CONNECT:{b_sock}"])
        spawn(["socat", "-u", f"UNIX-LISTEN:{a_sock}", f"TCP:127.0.0.1:{tcp_port},retry=100,interval=0.02"])
        wait_until("socat did not listen", 10, lambda: os.path.exists(a_sock))
        relay_in = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        relay_in.connect(a_sock)
        relay_arrivals = Arrivals(last.stdout.fileno(), lambda line: line.decode())
        relay_lat = closed_loop("relay", count, lambda text: relay_in.sendall(text.encode() + b"\n"), relay_arrivals)

        hp50, hp99, rp50, rp99 = pct(hark_lat, 50), pct(hark_lat, 99), pct(relay_lat, 50), pct(relay_lat, 99)
        print("hark.follow      p50 %6.2f ms  p99 %6.2f ms   socat relay x3  p50 %5.3f ms  p99 %5.3f ms"
              "   ratio p50 %.0f  p99 %.0f   (%d messages each, one in flight)"
              % (hp50, hp99, rp50, rp99, hp50 / rp50, hp99 / rp99, count))
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
