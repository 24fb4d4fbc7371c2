#!/usr/bin/env python3
"""Live delivery cost: two real daemons on 127.0.0.1 (no discovery; B dials A with --peer), one
group; A sends COUNT messages over its control socket, one at a time, and B receives each live
(its `hark log GROUP --follow --json` prints it before the next is sent). Prints what the
receiving daemon spent per delivered event: CPU time (user + system, /proc/PID/stat), bytes and
calls passed to write (/proc/PID/io), and the wall time per message.

Usage: scripts/bench-delivery.py [--hark .build/release/hark] [--count 1000]
Bounded: 20 warm-up messages and COUNT more, each delivered within 10 s or the run stops. Only
loopback; every process started here is ended here, by its PID.
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_arrivals import Arrivals, text_of
ap = argparse.ArgumentParser()
ap.add_argument("--hark", default=".build/release/hark")
ap.add_argument("--count", type=int, default=1000)
args = ap.parse_args()
n = max(1, min(args.count, 100_000))
hark = os.path.abspath(args.hark)
work = tempfile.mkdtemp(prefix="hark-bench-delivery.")
procs = []
def spawn(cmd, env=None, **kw):
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, **kw); procs.append(p); return p
def home(x): return dict(os.environ, HARK_HOME=os.path.join(work, x))
def h(x, *a): return subprocess.run([hark, *a], env=home(x), check=True, capture_output=True, text=True, timeout=30).stdout
def wait_until(what, timeout, fn):
    """Polls fn until it holds, at most `timeout` s; exits the run otherwise."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if fn(): return
        except (OSError, ValueError, subprocess.CalledProcessError): pass
        time.sleep(0.05)
    sys.exit("bench-delivery: " + what + " within %d s" % timeout)
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def io(pid):
    return dict((l.split(":")[0], int(l.split(":")[1])) for l in open("/proc/%d/io" % pid))
try:
    h("a", "init", "--name", "alice"); h("b", "init", "--name", "bob")
    alog = open(os.path.join(work, "a.log"), "w")
    spawn([hark, "daemon", "--no-discovery", "--listen", "127.0.0.1", "--port", "0"], home("a"), stdout=alog, stderr=alog)
    wait_until("daemon A did not answer", 20, lambda: h("a", "status") is not None)
    port = json.loads(h("a", "status", "--json"))["tcp_port"]
    blog = open(os.path.join(work, "b.log"), "w")
    b = spawn([hark, "daemon", "--no-discovery", "--listen", "127.0.0.1", "--port", "0", "--peer", f"127.0.0.1:{port}"], home("b"), stdout=blog, stderr=blog)
    wait_until("daemon B did not answer", 20, lambda: h("b", "status") is not None)
    h("a", "group", "create", "bench")
    h("b", "group", "join", h("a", "group", "invite", "bench").strip())
    wait_until("B did not connect to A", 30, lambda: json.loads(h("b", "status", "--json"))["connected_peers"] >= 1)
    follow = spawn([hark, "log", "bench", "--follow", "--json"], home("b"), stdout=subprocess.PIPE)
    arrivals = Arrivals(follow.stdout.fileno(), text_of)
    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.connect(os.path.join(work, "a", "control.sock")); rfile = ctl.makefile("rb")
    seq = [0]
    def send(text):
        seq[0] += 1
        ctl.sendall(json.dumps({"id": seq[0], "method": "send", "params": {"group": "bench", "text": text}}).encode() + b"\n")
        r = json.loads(rfile.readline())
        if "error" in r: sys.exit("bench-delivery: send failed: %s" % r["error"])
    for i in range(20):
        send("warm-%d" % i)
        if arrivals.wait("warm-%d" % i, 10) is None: sys.exit("bench-delivery: warm-up message %d not delivered within 10 s" % i)
    c0, i0, t0 = cpu(b.pid), io(b.pid), time.monotonic()
    for i in range(n):
        send("m-%d" % i)
        if arrivals.wait("m-%d" % i, 10) is None: sys.exit("bench-delivery: message %d not delivered within 10 s" % i)
    c1, i1, t1 = cpu(b.pid), io(b.pid), time.monotonic()
    print("delivery.live    %d events: receiving daemon CPU %.3f ms/event, write %.1f kB/event in %.1f calls, wall %.2f ms/event" % (
        n, (c1 - c0) / n * 1e3, (i1["wchar"] - i0["wchar"]) / n / 1e3, (i1["syscw"] - i0["syscw"]) / n, (t1 - t0) / n * 1e3))
finally:
    for p in reversed(procs):
        if p.poll() is None: p.terminate()
    for p in procs:
        try: p.wait(timeout=10)
        except subprocess.TimeoutExpired: p.kill()
    shutil.rmtree(work, ignore_errors=True)
