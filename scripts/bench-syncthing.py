#!/usr/bin/env python3
"""Syncthing on loopback: one 1-file folder from A (send-only) to B (receive-only), the same file
scripts/bench-files.sh fetches with hark, timed the same way (the sender's scan, like hark's
share, is not counted).

Two `syncthing serve` instances with homes of their own under --work, both on 127.0.0.1 only
(sync and GUI/REST ports), each knowing the other's address: global and local discovery,
relays, NAT traversal, usage and crash reporting, and upgrades are all off. B's folder starts
paused; once B is connected to A and A has scanned the file, the clock starts and B's folder is
unpaused through B's REST API; it stops when B reports the folder in sync with the whole file.
Also the CPU time (user + system, /proc/PID/stat) each instance spent meanwhile.

Bounded: every wait has a limit (start-up 60 s, scan 300 s, transfer 600 s); every process
started here is ended here, by its PID. Prints one line; --hark-seconds adds the ratio.
"""
import argparse, json, os, re, secrets, socket, subprocess, sys, time, urllib.request

CONFIG = """<configuration version="36">
    <folder id="bench" label="bench" path="{folder}" type="{type}" rescanIntervalS="3600" fsWatcherEnabled="false" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
        <device id="{me}"></device>
        <device id="{peer}"></device>
        <paused>{paused}</paused>
    </folder>
    <device id="{me}" name="{name}" compression="never"><address>dynamic</address></device>
    <device id="{peer}" name="peer" compression="never"><address>tcp://127.0.0.1:{peer_port}</address></device>
    <gui enabled="true" tls="false"><address>127.0.0.1:{gui_port}</address><apikey>{apikey}</apikey></gui>
    <options>
        <listenAddress>tcp://127.0.0.1:{port}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <urAccepted>-1</urAccepted>
        <crashReportingEnabled>false</crashReportingEnabled>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <startBrowser>false</startBrowser>
        <reconnectionIntervalS>1</reconnectionIntervalS>
    </options>
</configuration>
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ticks(pid):
    """CPU clock ticks (user + system) of `pid` and its descendants (syncthing serve runs its
    worker as a child of a monitor process)."""
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                stats[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))   # ppid; utime + stime
            except OSError:
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, (0, 0))[1]
        todo += [c for c, (pp, _) in stats.items() if pp == p]
    return total


def wait_for(what, timeout, fn):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if fn():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    sys.exit(f"bench-syncthing: {what} within {timeout} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="folder holding only the file to sync")
    ap.add_argument("--work", required=True)
    ap.add_argument("--hark-seconds", type=float)
    args = ap.parse_args()
    files = [n for n in os.listdir(args.src) if not n.startswith(".") and os.path.isfile(os.path.join(args.src, n))]
    if len(files) != 1:
        sys.exit(f"bench-syncthing: {args.src} must hold exactly one file (it holds {len(files)})")
    name = files[0]
    size = os.path.getsize(os.path.join(args.src, name))
    ids, ports, guis, keys, homes = {}, {}, {}, {}, {}
    for n in "ab":
        homes[n] = os.path.join(args.work, "st-" + n)
        out = subprocess.run(["syncthing", "generate", "--home=" + homes[n], "--no-default-folder", "--skip-port-probing"],
                             capture_output=True, text=True, timeout=60, check=True)
        ids[n] = re.search(r"Device ID: (\S+)", out.stdout + out.stderr).group(1)
        ports[n], guis[n], keys[n] = free_port(), free_port(), secrets.token_hex(16)
    dest = os.path.join(args.work, "st-dest")
    os.makedirs(dest, exist_ok=True)
    for n, peer, folder, kind, paused in [("a", "b", args.src, "sendonly", "false"), ("b", "a", dest, "receiveonly", "true")]:
        with open(os.path.join(homes[n], "config.xml"), "w") as f:
            f.write(CONFIG.format(folder=folder, type=kind, me=ids[n], peer=ids[peer], name=n, peer_port=ports[peer],
                                  gui_port=guis[n], apikey=keys[n], port=ports[n], paused=paused))

    def rest(n, path, method="GET", body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{guis[n]}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"X-API-Key": keys[n], "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            text = r.read()
            return json.loads(text) if text else None

    procs = {}
    env = dict(os.environ, STNOUPGRADE="1", STNORESTART="1")
    try:
        for n in "ab":
            log = open(os.path.join(args.work, f"st-{n}.log"), "w")
            procs[n] = subprocess.Popen(["syncthing", "serve", "--home=" + homes[n], "--no-browser", "--no-restart", "--no-upgrade"],
                                        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        for n in "ab":
            wait_for(f"syncthing {n} did not answer", 60, lambda n=n: rest(n, "/rest/system/ping")["ping"] == "pong")
        wait_for("A did not scan the file", 300,
                 lambda: (lambda s: s["state"] == "idle" and s["globalBytes"] == size)(rest("a", "/rest/db/status?folder=bench")))
        wait_for("B did not connect to A", 60, lambda: rest("b", "/rest/system/connections")["connections"][ids["a"]]["connected"])
        a0, b0 = ticks(procs["a"].pid), ticks(procs["b"].pid)
        t0 = time.monotonic()
        rest("b", "/rest/config/folders/bench", "PATCH", {"paused": False})
        wait_for("B did not receive the file", 600,
                 lambda: (lambda s: s["state"] == "idle" and s["needBytes"] == 0 and s["localBytes"] == size)(
                     rest("b", "/rest/db/status?folder=bench")))
        took = time.monotonic() - t0
        tck = os.sysconf("SC_CLK_TCK")
        ca, cb = (ticks(procs["a"].pid) - a0) / tck, (ticks(procs["b"].pid) - b0) / tck
        if subprocess.run(["cmp", "-s", os.path.join(args.src, name), os.path.join(dest, name)]).returncode != 0:
            sys.exit("bench-syncthing: B's copy differs")
        gib, mib = size / (1 << 30), size / (1 << 20)
        ratio = "   hark/syncthing speed ratio %.2f" % (took / args.hark_seconds) if args.hark_seconds else ""
        print("  syncthing pair   %6.2f s  %7.1f MiB/s%s   CPU per GiB: sender %.2f core-s, receiver %.2f core-s (one run)"
              % (took, mib / took, ratio, ca / gib, cb / gib))
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
