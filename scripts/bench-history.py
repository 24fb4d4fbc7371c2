#!/usr/bin/env python3
"""Growth benchmark: how reads, start-up, memory and sends of one node change as one group's
history grows (release build; one node on loopback, no discovery).

For each size in HISTORY_SIZES (default 1000 10000 100000 1000000 messages), the group `ops`
of a fresh home is filled up to that size with `hark-bench fill` (signed events written straight
into the store with the daemon stopped), then measured:

  log        `hark log ops --limit 20`, median of HISTORY_RUNS runs (ms)
  before     `hark log ops --limit 20 --before ID` with ID a message in the middle (ms; "n/a"
             when this hark has no --before)
  list       `hark group list`, median (ms), and its first run after the start ("1st": what the
             daemon loads lazily is paid there)
  search     `hark search ops WORDS --limit 20`, median (ms), for three queries: "message" (every
             message matches: the newest 20), "topic37" (1% of them) and the number of the middle
             message (one); "n/a" when this hark has no search
  start      daemon start until `hark status` answers (ms)
  rss0       daemon VmRSS after start (MB)
  send       `hark send ops x` wall time, median of the timed sends, and the first one (ms)
  send cpu   the daemon's CPU time (user + system, /proc/PID/stat) over the timed sends, per send
             (ms): what a send costs the daemon whatever the load of the machine
  rss1       daemon VmRSS after HISTORY_SENDS more sends (MB)

With HISTORY_HOMES="1000000=/path/to/home ..." a size is not filled: a copy of that home (one
group `ops` filled by `hark-bench fill` to about that size earlier, the daemon stopped) is measured
instead, and later sizes grow that copy. The middle message for --before is read from its store.

With HISTORY_INTERLEAVE=N (N rounds), the home is also copied at each size before its sends, and
the sends are then measured again in N rounds that visit every size in turn (HISTORY_SENDS / N
sends per size and round, a fresh daemon each time), so a change in the machine's load hits every
size alike; the medians over the rounds are printed as a second table with their ratios.

Every step is bounded by HISTORY_TIMEOUT seconds (default 60; the sends together by
HISTORY_SEND_TIMEOUT, default 300; a fill by 1 s per 200 messages, 5,000 s at 1M, which a
loaded 2-core machine needs with the search index); a step that runs over prints "timeout" and the run moves on
(a daemon left busy by a read that ran over is restarted first). Ratios are against the first size's row; goals at 1M:
log <= 30 ms and <= 1.5x, start <= 1 s, RSS <= 150 MB, send <= 1.2x, each search <= 50 ms.
"""
import argparse
import os
import sqlite3
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

MB = 1024 * 1024


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


class Bench:
    def __init__(self, hark, bench, work, timeout, runs, sends):
        self.hark, self.bench, self.work = hark, bench, work
        self.timeout, self.runs, self.sends = timeout, runs, sends
        self.send_timeout = env_int("HISTORY_SEND_TIMEOUT", 300)
        self.env = dict(os.environ, HARK_HOME=os.path.join(work, "home"))
        self.daemon = None

    def run(self, args, timeout=None, check=True):
        """Runs a command; returns (seconds, stdout) or (None, None) past the timeout."""
        t0 = time.monotonic()
        try:
            p = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired:
            return None, None
        dt = time.monotonic() - t0
        if check and p.returncode != 0:
            raise RuntimeError("%s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        return dt, p.stdout

    def median_ms(self, args):
        """Median wall time of `runs` runs (ms), or "timeout" when one run exceeds the bound
        (the others are then skipped: a slow read is not worth repeating). `self.first` keeps the
        first run's time: the first call after a start pays for whatever the daemon loads lazily."""
        times = []
        self.first = "timeout"
        deadline = time.monotonic() + self.timeout
        for _ in range(self.runs):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            dt, _ = self.run(args, timeout=left)
            if dt is None:
                return "timeout"
            times.append(dt * 1e3)
            if len(times) == 1:
                self.first = times[0]
        return statistics.median(times) if times else "timeout"

    def hark_cmd(self, *a):
        return [self.hark] + list(a)

    def start_daemon(self):
        """Starts the daemon; returns ms until `hark status` answers, or "timeout"."""
        log = open(os.path.join(self.work, "daemon.log"), "ab")
        t0 = time.monotonic()
        self.daemon = subprocess.Popen(self.hark_cmd("daemon", "--no-discovery", "--listen", "127.0.0.1"),
                                       env=self.env, stdout=log, stderr=log)
        while time.monotonic() - t0 < self.timeout:
            if self.daemon.poll() is not None:
                raise RuntimeError("the daemon exited %d (see %s/daemon.log)" % (self.daemon.returncode, self.work))
            try:
                p = subprocess.run(self.hark_cmd("status"), env=self.env, capture_output=True, timeout=5)
                if p.returncode == 0:
                    return (time.monotonic() - t0) * 1e3
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.01)
        return "timeout"

    def stop_daemon(self):
        """SIGTERM, then SIGKILL after 10 s (a daemon busy with a long read does not stop sooner)."""
        if self.daemon is None:
            return
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait(timeout=30)
        self.daemon = None

    def restart_daemon(self):
        self.stop_daemon()
        if self.start_daemon() == "timeout":
            raise RuntimeError("the daemon did not answer within %d s after a restart" % self.timeout)

    def rss_mb(self):
        try:
            with open("/proc/%d/status" % self.daemon.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024 / MB
        except OSError:
            pass
        return "n/a"

    def cpu_s(self):
        """The daemon's CPU time so far (user + system, s), or None."""
        try:
            with open("/proc/%d/stat" % self.daemon.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def sends_ms(self, count):
        """Sends `count` messages one by one within the bound; returns (median ms, how many were
        sent). `self.send_cpu` is the daemon's CPU time per send over them (ms)."""
        times = []
        deadline = time.monotonic() + self.send_timeout
        cpu0 = self.cpu_s()
        for i in range(count):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            dt, _ = self.run(self.hark_cmd("send", "ops", "x"), timeout=left)
            if dt is None:
                break
            times.append(dt * 1e3)
        cpu1 = self.cpu_s()
        self.first = times[0] if times else "timeout"
        self.send_cpu = (cpu1 - cpu0) * 1e3 / len(times) if times and cpu0 is not None and cpu1 is not None else "n/a"
        return (statistics.median(times) if times else "timeout"), len(times)


def fmt(v, unit=""):
    if isinstance(v, str):
        return v
    return ("%.1f" % v if v < 100 else "%.0f" % v) + unit


def ratio(v, base):
    if isinstance(v, str) or isinstance(base, str) or not base:
        return "-"
    return "%.2fx" % (v / base)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hark", default=".build/release/hark")
    ap.add_argument("--bench", default=".build/release/hark-bench")
    a = ap.parse_args()
    sizes = [int(s) for s in os.environ.get("HISTORY_SIZES", "1000 10000 100000 1000000").split()]
    timeout = env_int("HISTORY_TIMEOUT", 60)
    runs = env_int("HISTORY_RUNS", 5)
    sends = env_int("HISTORY_SENDS", 1000)
    interleave = env_int("HISTORY_INTERLEAVE", 0)
    homes = dict((int(k), v) for k, v in (item.split("=", 1) for item in os.environ.get("HISTORY_HOMES", "").split()))
    work = tempfile.mkdtemp(prefix="hark-bench-history.")
    b = Bench(os.path.abspath(a.hark), os.path.abspath(a.bench), work, timeout, runs, sends)
    rows = []
    copies = {}   # size -> a copy of the home at that size, before its sends (HISTORY_INTERLEAVE)
    rounds = {}   # size -> [(send median ms, daemon CPU ms per send)] over the interleaved rounds
    try:
        b.run(b.hark_cmd("init", "--name", "bench"))
        if b.start_daemon() == "timeout":
            raise RuntimeError("the daemon did not answer within %d s" % timeout)
        b.run(b.hark_cmd("group", "create", "ops"))
        b.stop_daemon()
        _, helptext = b.run(b.hark_cmd("log", "--help"))
        has_before = "--before" in helptext
        _, toplevel = b.run(b.hark_cmd("--help"))
        has_search = any(l.split()[:1] == ["search"] for l in toplevel.splitlines())
        held = 0   # messages in the group
        for size in sorted(sizes):
            if size in homes:
                # A home filled earlier: measured on a copy (its sends change the copy only).
                reused = os.path.join(work, "home-given-%d" % size)
                shutil.copytree(homes[size], reused, symlinks=True, ignore=shutil.ignore_patterns("control.sock", "*.lock"))
                b.env["HARK_HOME"] = reused
                with sqlite3.connect("file:%s?mode=ro" % os.path.join(reused, "hark.sqlite"), uri=True) as db:
                    count = db.execute("SELECT messages FROM rm_group").fetchone()[0]
                    middle = db.execute("SELECT hex(id) FROM rm_message ORDER BY group_id, lamport, id LIMIT 1 OFFSET ?",
                                        (count // 2,)).fetchone()[0].lower()
                print("history.home     %s: %d messages (a copy)" % (homes[size], count), flush=True)
                held = size
            if size > held:
                # The middle message of the group at this size lies in this fill (sizes grow ×10).
                mark = max(1, size // 2 - held)
                t0 = time.monotonic()
                p = subprocess.run([b.bench, "fill", "--home=" + b.env["HARK_HOME"], "--group=ops",
                                    "--messages=%d" % (size - held), "--mark=%d" % mark],
                                   env=b.env, capture_output=True, text=True, timeout=max(timeout, size / 200))
                if p.returncode != 0:
                    raise RuntimeError("hark-bench fill exited %d: %s" % (p.returncode, p.stderr.strip()))
                middle = next((l.split()[1] for l in p.stdout.splitlines() if l.startswith("mark ")), None)
                print(next(l for l in p.stdout.splitlines() if l.startswith("history.fill")), flush=True)
                held = size
            row = {"size": size}
            # Reads go through the daemon. A read past the bound leaves the daemon busy with it,
            # so the daemon is restarted before the next step.
            row["start"] = b.start_daemon()
            if row["start"] == "timeout":
                row.update(rss0="timeout", log="timeout", before="timeout", list="timeout", send="timeout", rss1="timeout",
                           sendcpu="timeout",
                           log1="timeout", before1="timeout", list1="timeout", send1="timeout",
                           search="timeout", search1pct="timeout", searchone="timeout",
                           search1="timeout", search1pct1="timeout", searchone1="timeout")
            else:
                row["rss0"] = b.rss_mb()
                reads = [("log", ["log", "ops", "--limit", "20"]),
                         ("before", ["log", "ops", "--limit", "20", "--before", middle] if has_before and middle else None),
                         ("list", ["group", "list"]),
                         ("search", ["search", "ops", "message", "--limit", "20"] if has_search else None),
                         ("search1pct", ["search", "ops", "topic37", "--limit", "20"] if has_search else None),
                         ("searchone", ["search", "ops", str(max(1, size // 2)), "--limit", "20"] if has_search else None)]
                for key, args in reads:
                    if args is None:
                        row[key] = row[key + "1"] = "n/a"
                        continue
                    row[key] = b.median_ms(b.hark_cmd(*args))
                    row[key + "1"] = b.first
                    if row[key] == "timeout":
                        b.restart_daemon()
                if interleave > 0:
                    b.stop_daemon()
                    copies[size] = os.path.join(work, "home-%d" % size)
                    shutil.copytree(b.env["HARK_HOME"], copies[size], symlinks=True)
                    b.restart_daemon()
                row["send"], sent = b.sends_ms(sends)
                row["sendcpu"] = b.send_cpu
                row["send1"] = b.first
                row["rss1"] = b.rss_mb() if sent == sends else "timeout"
                held += sent
            b.stop_daemon()
            rows.append(row)
            print("history.size %-8d log %8s  before %8s  list %8s (1st %8s)  start %8s  rss %7s -> %7s  send %7s (1st %8s, cpu %8s)" % (
                size, fmt(row["log"], " ms"), fmt(row["before"], " ms"), fmt(row["list"], " ms"), fmt(row["list1"], " ms"),
                fmt(row["start"], " ms"), fmt(row["rss0"], " MB"), fmt(row["rss1"], " MB"), fmt(row["send"], " ms"),
                fmt(row["send1"], " ms"), fmt(row["sendcpu"], " ms")), flush=True)
            print("history.search %-8d all %8s  1%% %8s  one %8s" % (
                size, fmt(row["search"], " ms"), fmt(row["search1pct"], " ms"), fmt(row["searchone"], " ms")), flush=True)
        # Interleaved rounds: every size in turn, each round, on its own copy of the home.
        per_round = max(1, sends // interleave) if interleave > 0 else 0
        for r in range(interleave):
            for size in sorted(copies):
                b.env["HARK_HOME"] = copies[size]
                if b.start_daemon() == "timeout":
                    raise RuntimeError("the daemon did not answer within %d s (interleaved round)" % timeout)
                ms, sent = b.sends_ms(per_round)
                b.stop_daemon()
                rounds.setdefault(size, []).append((ms, b.send_cpu))
                print("history.round %d size %-8d send %7s  cpu %8s  (%d sends)" % (
                    r + 1, size, fmt(ms, " ms"), fmt(b.send_cpu, " ms"), sent), flush=True)
    finally:
        b.stop_daemon()
        shutil.rmtree(work, ignore_errors=True)

    print("\nhistory growth (one group, one node on loopback; ms = median of %d runs, send = median of %d sends; "
          "1st = the first call after the daemon started; bound %d s a step)" % (runs, sends, timeout))
    cols = [("log", "log --limit 20", " ms"), ("before", "--before mid", " ms"), ("list", "group list", " ms"),
            ("list1", "list, 1st", " ms"), ("start", "start", " ms"), ("rss0", "RSS start", " MB"), ("rss1", "RSS +sends", " MB"),
            ("send", "send", " ms"), ("send1", "send, 1st", " ms"), ("sendcpu", "send CPU", " ms"),
            ("search", "search all", " ms"), ("search1pct", "search 1%", " ms"), ("searchone", "search one", " ms")]
    print("%10s" % "messages" + "".join("%16s" % c[1] for c in cols))
    base = rows[0] if rows else {}
    for r in rows:
        print("%10d" % r["size"] + "".join("%16s" % fmt(r[k], u) for k, _, u in cols))
        if r is not base:
            print("%10s" % ("÷ %d" % base["size"]) + "".join("%16s" % ratio(r[k], base[k]) for k, _, _ in cols))
    if rows and rows[-1]["size"] >= 1_000_000:
        top = rows[-1]

        def ok(cond):
            return "met" if cond else "NOT met"

        def num(v):
            return v if not isinstance(v, str) else float("inf")
        print("goals at %d: log %s ms <= 30 and %s <= 1.5x: %s; start %s ms <= 1000: %s; RSS %s MB <= 150: %s; send %s <= 1.2x: %s" % (
            top["size"], fmt(top["log"]), ratio(top["log"], base["log"]),
            ok(num(top["log"]) <= 30 and num(top["log"]) <= 1.5 * num(base["log"])),
            fmt(top["start"]), ok(num(top["start"]) <= 1000),
            fmt(max(num(top["rss0"]), num(top["rss1"]))), ok(max(num(top["rss0"]), num(top["rss1"])) <= 150),
            ratio(top["send"], base["send"]), ok(num(top["send"]) <= 1.2 * num(base["send"]))))
        worst = max(num(top["search"]), num(top["search1pct"]), num(top["searchone"]))
        print("goal at %d: search %s / %s / %s ms (all / 1%% / one match) <= 50: %s" % (
            top["size"], fmt(top["search"]), fmt(top["search1pct"]), fmt(top["searchone"]), ok(worst <= 50)))
    if rounds:
        def med(vals):
            nums = [v for v in vals if not isinstance(v, str)]
            return statistics.median(nums) if nums else "n/a"
        print("\nsends interleaved (%d rounds of %d sends per size; medians over the rounds)" % (interleave, per_round))
        print("%10s%16s%16s" % ("messages", "send", "send CPU"))
        first = min(rounds)
        base_send, base_cpu = med([m for m, _ in rounds[first]]), med([c for _, c in rounds[first]])
        for size in sorted(rounds):
            ms, cpu = med([m for m, _ in rounds[size]]), med([c for _, c in rounds[size]])
            print("%10d%16s%16s" % (size, fmt(ms, " ms"), fmt(cpu, " ms")))
            if size != first:
                print("%10s%16s%16s" % ("÷ %d" % first, ratio(ms, base_send), ratio(cpu, base_cpu)))


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("bench-history: %s" % e, file=sys.stderr)
        sys.exit(1)
