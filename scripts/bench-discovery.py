#!/usr/bin/env python3
"""Discovery latency in a 2-host lab (scripts/lab.sh; root): hark against bare Avahi.

(a) hark: `hark daemon` starts on h1 (a fresh identity each run, so h2 has never heard of it) ->
    h2's running daemon lists it as connected in `hark peers --json` (polled inside h2 every 10 ms).
(b) avahi: `avahi-publish -s NAME _bench._tcp PORT` starts on h1 -> an `avahi-browse -p -r
    _bench._tcp` running on h2 prints the resolved `=` line for NAME (a fresh NAME each run).

Both go through `lab.sh exec` and are timed from just before that command starts to the moment
the line reaches this script (same clock, same launcher). Runs alternate a/b, N each (default 10).
Prints medians and their ratio. Bounded: 30 s a run; the lab is taken down on every exit.
"""
import argparse, os, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "scripts", "lab.sh")
RUN_TIMEOUT_S = 30.0
os.environ.setdefault("LAB_NAME", "bench")
os.environ.setdefault("LAB_NET", "10.95.0")
os.environ.setdefault("LAB_TTL", "900")

procs = []


def lab(*args, **kw):
    return subprocess.run([LAB, *args], check=True, timeout=120, **kw)


def spawn(host, cmd, **kw):
    """Starts CMD on HOST (lab.sh exec ends in exec, so the PID is CMD's)."""
    p = subprocess.Popen([LAB, "exec", host, *cmd], stdin=subprocess.DEVNULL, **kw)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


class Lines:
    """Reads a pipe in a thread; `wait(pred)` returns the arrival time of the first line matching."""

    def __init__(self, stream):
        self.lines, self.cond = [], threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            now = time.perf_counter()
            with self.cond:
                self.lines.append((now, raw.decode(errors="replace").rstrip("\n")))
                self.cond.notify_all()

    def wait(self, pred, timeout):
        end, seen = time.monotonic() + timeout, 0
        with self.cond:
            while True:
                for t, line in self.lines[seen:]:
                    if pred(line):
                        return t
                seen = len(self.lines)
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hark", required=True)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    runs = max(1, min(args.runs, 50))
    hark = os.path.abspath(args.hark)
    work = tempfile.mkdtemp(prefix="hark-bench-disc.")
    os.chmod(work, 0o755)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        lab("up", "2", stderr=subprocess.DEVNULL)

        def hark_on(host, home, *a):
            return subprocess.run([LAB, "exec", host, "env", f"HARK_HOME={home}", hark, *a], check=True,
                                  capture_output=True, text=True, timeout=30).stdout

        h2home = os.path.join(work, "h2")
        hark_on("h2", h2home, "init", "--name", "observer")
        h2log = open(os.path.join(work, "h2.log"), "w")
        spawn("h2", ["env", f"HARK_HOME={h2home}", hark, "daemon"], stdout=h2log, stderr=h2log)
        end = time.monotonic() + 20
        while True:
            try:
                if "active" in hark_on("h2", h2home, "status", "--json"):
                    break
            except subprocess.CalledProcessError:
                pass
            if time.monotonic() > end:
                sys.exit("bench-discovery: h2's daemon did not start with discovery active")
            time.sleep(0.1)
        browse = spawn("h2", ["stdbuf", "-oL", "avahi-browse", "-p", "-r", "_bench._tcp"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
        # (c) reference: a service h2 announced long ago, browsed from h1 by a new avahi-browse
        spawn("h2", ["avahi-publish", "-s", "bench-announced", "_benchold._tcp", "7998"],
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        browsed = Lines(browse.stdout)
        time.sleep(1.0)   # the browser is up and its first queries are out, as h2's daemon's are

        hark_ms, avahi_ms, old_ms, dirs = [], [], [], []
        for i in range(runs):
            # (a) hark
            home = os.path.join(work, f"h1-{i}")
            hark_on("h1", home, "init", "--name", f"run{i}")
            pid = hark_on("h1", home, "id").strip()
            poll = ("echo ready; for _ in $(seq 1 2000); do "
                    f"l=$(\"{hark}\" peers --json | grep -F '\"peer_id\":\"{pid}\"' | grep -F '\"connected\":true') "
                    "&& { echo \"found $l\"; exit 0; }; sleep 0.01; done; echo timeout")
            poller = spawn("h2", ["env", f"HARK_HOME={h2home}", "bash", "-c", poll], stdout=subprocess.PIPE)
            polled = Lines(poller.stdout)
            if polled.wait(lambda l: l == "ready", 10) is None:
                sys.exit("bench-discovery: poller on h2 did not start")
            log = open(os.path.join(work, f"h1-{i}.log"), "w")
            t0 = time.perf_counter()
            d = spawn("h1", ["env", f"HARK_HOME={home}", hark, "daemon"], stdout=log, stderr=log)
            t1 = polled.wait(lambda l: l.startswith("found ") or l == "timeout", RUN_TIMEOUT_S)
            found = t1 is not None and polled.lines[-1][1].startswith("found ")
            direction = "inbound" if '"direction":"inbound"' in polled.lines[-1][1] else "outbound"
            stop(poller)
            stop(d)
            if not found:
                sys.exit(f"bench-discovery: run {i}: h2 never listed h1's daemon (log {log.name})")
            hark_ms.append((t1 - t0) * 1e3)
            dirs.append(direction)
            time.sleep(0.5)
            # (b) avahi-publish -> avahi-browse
            name = f"bench-{os.getpid()}-{i}"
            t0 = time.perf_counter()
            pub = spawn("h1", ["avahi-publish", "-s", name, "_bench._tcp", "7999"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t1 = browsed.wait(lambda l: l.startswith("=;") and f";{name};" in l, RUN_TIMEOUT_S)
            stop(pub)
            if t1 is None:
                sys.exit(f"bench-discovery: run {i}: avahi-browse on h2 never resolved {name}")
            avahi_ms.append((t1 - t0) * 1e3)
            time.sleep(0.5)
            # (c) avahi-browse started on h1 -> resolved line of h2's announced service
            t0 = time.perf_counter()
            b1 = spawn("h1", ["stdbuf", "-oL", "avahi-browse", "-p", "-r", "_benchold._tcp"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
            t1 = Lines(b1.stdout).wait(lambda l: l.startswith("=;") and ";bench-announced;" in l, RUN_TIMEOUT_S)
            stop(b1)
            if t1 is None:
                sys.exit(f"bench-discovery: run {i}: avahi-browse on h1 never resolved h2's service")
            old_ms.append((t1 - t0) * 1e3)
            print(f"  run {i + 1:2d}: hark {hark_ms[-1]:7.1f} ms (h2 sees an {direction} channel)   "
                  f"avahi publish->browse {avahi_ms[-1]:7.1f} ms   browse of an announced service {old_ms[-1]:6.1f} ms",
                  file=sys.stderr, flush=True)

        hm, am, om = statistics.median(hark_ms), statistics.median(avahi_ms), statistics.median(old_ms)
        print("hark.discovery   %7.1f ms   avahi-publish->browse %7.1f ms   ratio %.2f   (median of %d runs each,"
              " min-max %.0f-%.0f vs %.0f-%.0f; goal <= 1.2)"
              % (hm, am, hm / am, runs, min(hark_ms), max(hark_ms), min(avahi_ms), max(avahi_ms)))
        print("  reference: avahi-browse of an already announced service %.1f ms (median); h2 saw %d of %d hark"
              " channels inbound, i.e. h1 found h2 and dialed it" % (om, dirs.count("inbound"), runs), flush=True)
    finally:
        for p in reversed(procs):
            try:
                stop(p)
            except Exception:
                pass
        subprocess.run([LAB, "down"], stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
