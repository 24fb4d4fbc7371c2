import Dispatch
import Foundation
import GRDB
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkNode
import HarkStore
import Logging

/// End-to-end replication through two real nodes on loopback (real sockets, Noise, SQLite):
/// node A (a child process, `replicate-serve`) holds a group of N events; node B (this process)
/// joins with an invite and syncs them all through its real intake (signature checks,
/// validation, SQLite file). The nodes run in two processes so that each one's CPU time is its
/// own: B's is the new member's intake.
///
/// The bound is what the intake could reach if it did nothing but check signatures on every
/// core it spreads them over (`ConcurrentDecoding` uses all of them): the Ed25519 verify rate of one
/// core times the cores. Printed twice: on the wall clock (verify rate measured on all cores at
/// once, before and after the sync; the higher is the bound) and in CPU time (`sync.cpu`: B's CPU
/// per event against the verify cost in thread CPU time, which the load of other work does not
/// skew). Goal ≥ 0.75 for both.
///
/// Options: `--events=N` (100,000); `--history-cache=DIR` keeps node A's home (identity and
/// filled store) in DIR and reuses it on the next run with the same N (filling takes minutes).
/// With `HARK_BENCH_PERF_CTL=FIFO` it writes `enable` / `disable` to that FIFO around the sync
/// (for `perf record --control=fifo:FIFO -D -1`).
func runReplicationBenchmark() {
    AllocatorPolicy.applyForNode()   // node B runs here, with the daemon's malloc settings
    let count = intArgument("--events", default: 100_000)
    let root = NSTemporaryDirectory() + "hark-bench-repl-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let done = DispatchSemaphore(value: 0)
    // Detached: the caller blocks its thread on the semaphore, so the work must not inherit it.
    Task.detached {
        do { try await replicate(count: count, root: root) } catch { print("sync.replicate failed: \(error)") }
        done.signal()
    }
    done.wait()
}

/// `hark-bench replicate-serve --home=DIR`: runs node A of `replicate` on 127.0.0.1 until
/// SIGTERM, its parent's exit, or 30 minutes.
func runReplicationServe() {
    guard let path = stringArgument("--home") else { exit(64) }
    AllocatorPolicy.applyForNode()   // as `hark daemon`
    let parent = getppid()
    var logger = Logger(label: "bench-a")
    logger.logLevel = ProcessInfo.processInfo.environment["BENCH_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    var config = NodeConfiguration(); config.listenHost = "127.0.0.1"; config.discoveryEnabled = false
    guard let node = try? Node(home: NodeHome(path: path), configuration: config, logger: logger) else { exit(74) }
    Task.detached { try? await node.run(); exit(0) }
    for _ in 0..<1800 where getppid() == parent { sleep(1) }
    exit(0)
}

/// Ed25519 verifications per second on every core at once (one thread per core, each
/// verifying its own signature of a message the size an event signature covers:
/// "hark-event-sig-v1" ‖ 32-byte ID = 49 bytes), over about 1 s of wall time.
private func measureVerifyRateAllCores() -> Double {
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: cores)
    rates.initialize(repeating: 0)
    defer { rates.deallocate() }
    nonisolated(unsafe) let out = rates   // each thread writes its own element
    DispatchQueue.concurrentPerform(iterations: cores) { i in
        let key = SigningKeyPair.generate()
        let message = SecureRandom.bytes(49)
        let sig = key.signature(for: message)
        out[i] = measure { blackHole(key.publicKey.isValidSignature(sig, for: message)) }.perSecond
    }
    return rates.reduce(0, +)
}

/// Ed25519 verifications per second of CPU time on the calling thread
/// (`CLOCK_THREAD_CPUTIME_ID`): what one core gives, whatever else the machine runs.
private func measureVerifyCPURate(count: Int = 4_000) -> Double {
    let key = SigningKeyPair.generate()
    let message = SecureRandom.bytes(49)
    let sig = key.signature(for: message)
    for _ in 0..<64 { blackHole(key.publicKey.isValidSignature(sig, for: message)) }
    var t0 = timespec(), t1 = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0)
    for _ in 0..<count { blackHole(key.publicKey.isValidSignature(sig, for: message)) }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1)
    let seconds = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9
    return Double(count) / max(seconds, 1e-9)
}

/// User plus system CPU seconds of process `pid` so far (/proc/PID/stat), or 0.
func childCPUSeconds(_ pid: Int32) -> Double {
    guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = s.lastIndex(of: ")") else { return 0 }
    let f = s[s.index(after: close)...].split(separator: " ")
    guard f.count > 12, let u = Double(f[11]), let k = Double(f[12]) else { return 0 }
    return (u + k) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Writes `command` to the FIFO named by `HARK_BENCH_PERF_CTL` (perf's control FIFO), if set.
private func perfControl(_ command: String) {
    guard let path = ProcessInfo.processInfo.environment["HARK_BENCH_PERF_CTL"],
          let h = FileHandle(forWritingAtPath: path) else { return }
    h.write(Data((command + "\n").utf8))
    try? h.close()
}

/// Node A's home with a group of `count` chained messages: copied from `cache` when it holds
/// one of that size, else written (and copied there when `cache` is set).
private func prepareServingHome(_ home: NodeHome, count: Int, cache: String?) throws -> Duration {
    let clock = ContinuousClock()
    let t0 = clock.now
    let fm = FileManager.default
    let cached = cache.map { ($0, $0 + "/a-\(count)") }
    if let (_, cached) = cached, fm.fileExists(atPath: cached) {
        try fm.copyItem(atPath: cached, toPath: home.path)
        return clock.now - t0
    }
    let alice = try home.initialize(displayName: "alice")
    do {   // closed before the node starts
        let store = try Store(path: home.storePath)
        try writeChainedHistory(into: store, author: alice.signing, name: "bench", count: count)
    }
    if let (dir, cached) = cached {
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try fm.copyItem(atPath: home.path, toPath: cached)
    }
    return clock.now - t0
}

private func replicate(count: Int, root: String) async throws {
    var logger = Logger(label: "bench")
    logger.logLevel = ProcessInfo.processInfo.environment["BENCH_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    let homeA = NodeHome(path: root + "/a"), homeB = NodeHome(path: root + "/b")
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let built = try prepareServingHome(homeA, count: count, cache: stringArgument("--history-cache"))
    _ = try homeB.initialize(displayName: "bob")
    let clock = ContinuousClock()

    let serving = Process()
    serving.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                                    ?? CommandLine.arguments[0])
    serving.arguments = ["replicate-serve", "--home=\(homeA.path)"]
    try serving.run()
    defer { if serving.isRunning { serving.terminate() } }
    let a = try await waitForControl(homeA)
    _ = try a.call(ControlMethods.groupList, NoParams())   // A answers from its store
    let token = try a.call(ControlMethods.groupInvite, GroupInviteParams(group: "bench")).token
    let status = try a.call(ControlMethods.status, NoParams())
    let verifyBefore = measureVerifyRateAllCores()
    resetPeakResident()
    let rssBefore = residentBytes()

    var configB = NodeConfiguration(); configB.listenHost = "127.0.0.1"; configB.discoveryEnabled = false
    configB.staticPeers = ["127.0.0.1:\(status.tcpPort)"]
    let nodeB = try Node(home: homeB, configuration: configB, logger: logger)
    let taskB = Task { try await nodeB.run() }
    let b = try await waitForControl(homeB)
    perfControl("enable")
    let start = clock.now
    let cpuStart = processCPUSeconds()
    let cpuStartA = childCPUSeconds(serving.processIdentifier)
    let schedStart = processSchedule()
    let ioStart = processIO()
    nonisolated(unsafe) let client = b   // used by one Dispatch thread at a time
    _ = try await offThePool { try client.call(ControlMethods.groupJoin, GroupJoinParams(token: token)) }
    let target = count + 2   // genesis + messages + B's join
    var held = 0
    var firstBatch: Duration?
    while clock.now - start < .seconds(600) {
        // A blocking control call would hold one of the cooperative threads the node runs on
        // until B answers: it waits on a Dispatch thread instead, as a CLI process would.
        held = try await offThePool { try client.call(ControlMethods.groupList, NoParams()).first?.events ?? 0 }
        if firstBatch == nil, held > 2 { firstBatch = clock.now - start }
        if held >= target { break }
        try await Task.sleep(for: .milliseconds(100))
    }
    let elapsed = clock.now - start
    let cpu = processCPUSeconds() - cpuStart
    let cpuA = childCPUSeconds(serving.processIdentifier) - cpuStartA
    perfControl("disable")
    let schedEnd = processSchedule()
    let rssAfter = residentBytes(), rssPeak = peakResidentBytes()
    let ioEnd = processIO()
    serving.terminate()
    taskB.cancel()
    _ = try? await taskB.value

    let verifyAfter = measureVerifyRateAllCores()
    let verifyCPURate = max(measureVerifyCPURate(), measureVerifyCPURate())
    let verifyRate = max(verifyBefore, verifyAfter)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let rate = Double(held) / seconds
    let events = Double(max(1, held))
    print(String(format: "sync.replicate   %d events in %.2f s = %.0f events/s   bound: ed25519 verify on %d cores %.0f /s (%.0f before, %.0f after)   ratio %.2f (goal >= 0.75)",
                 held, seconds, rate, cores, verifyRate, verifyBefore, verifyAfter, rate / verifyRate))
    print(String(format: "sync.newmember   %d events: %.2f s   bound %d / verify rate = %.2f s   ratio %.1f×   (history ready in %.1f s)",
                 count, seconds, count, Double(count) / verifyRate, seconds * verifyRate / Double(count),
                 Double(built.components.seconds) + Double(built.components.attoseconds) * 1e-18))
    let first = firstBatch.map { Double($0.components.seconds) + Double($0.components.attoseconds) * 1e-18 }
    print(String(format: "sync.phases      join and first events after %.2f s; the rest in %.2f s", first ?? -1, seconds - (first ?? 0)))
    // CPU time: B's intake per event against the verify cost per event; each spreads over the
    // same cores, so the core count cancels out of the ratio.
    let verifyMicros = 1e6 / verifyCPURate
    let perEventB = cpu / events * 1e6
    print(String(format: "sync.cpu         new member (B) %.1f µs CPU per event = %.0f events/s on %d idle cores   bound: ed25519 verify %.1f µs CPU = %.0f /s on %d cores   ratio %.2f (goal >= 0.75)",
                 perEventB, Double(cores) * 1e6 / perEventB, cores, verifyMicros, Double(cores) * verifyCPURate, cores,
                 verifyMicros / perEventB))
    print(String(format: "sync.serving     serving node (A) %.1f µs CPU per event", cpuA / events * 1e6))
    // The same rows stored by SQLite alone: what no intake on this schema can go below.
    if let floor = try? measureStoreFloor(source: homeA.storePath, scratch: root + "/floor.sqlite") {
        let bound = verifyMicros + floor
        print(String(format: "sync.floor       SQLite alone stores these rows in %.1f µs CPU per event; verify + that = %.1f µs = %.0f events/s on %d cores; B reaches %.2f of it",
                     floor, bound, Double(cores) * 1e6 / bound, cores, bound / perEventB))
    }
    // Time runnable but not running is the machine's other work; the rest of the wall time
    // that no thread ran is the sync waiting on itself (latency, serialisation).
    print(String(format: "sync.sched       B's threads ran %.2f s and waited %.2f s for a CPU (other work on the box) over %.2f s; cores busy on average %.2f",
                 schedEnd.ran - schedStart.ran, schedEnd.waited - schedStart.waited, seconds, (schedEnd.ran - schedStart.ran) / seconds))
    print(String(format: "sync.io          %.0f bytes written and %.0f read per event by B (write and read calls: SQLite files, WAL, socket)",
                 Double(ioEnd.written - ioStart.written) / events, Double(ioEnd.read - ioStart.read) / events))
    let mb = { (b: Int) in Double(b) / 1_048_576 }
    print(String(format: "sync.rss         new member (B): before its node %.0f MB; after the sync %.0f MB (+%.0f MB); peak %.0f MB",
                 mb(rssBefore), mb(rssAfter), mb(rssAfter - rssBefore), mb(rssPeak)))
    if held < target { print("sync.replicate   INCOMPLETE: B holds \(held) of \(target) events after 600 s") }
}

/// CPU µs per event that SQLite alone takes to store the rows a new member writes for one
/// event: `source`'s event, parent, read-model and search rows are copied into an empty store of
/// the same schema (`Store` creates it at `scratch`), one `INSERT … SELECT` per table (rows in
/// their stored order), all in one transaction, then checkpointed. No Swift runs per row, so this
/// is SQLite's own cost on this machine: the floor under any intake on this schema.
/// Thread CPU time (`CLOCK_THREAD_CPUTIME_ID`; SQLite works on the calling thread).
/// - Throws: `StoreError`, GRDB's `DatabaseError`.
private func measureStoreFloor(source: String, scratch: String) throws -> Double {
    do { _ = try Store(path: scratch) }   // the schema, migrated; closed at once
    var config = Configuration()
    config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
    let queue = try DatabaseQueue(path: scratch, configuration: config)
    defer { try? queue.close() }
    // Rowid tables in their stored order; `event_parent` is keyed by (child, parent).
    let tables = ["event": " ORDER BY rowid", "event_parent": "", "rm_message": " ORDER BY rowid", "rm_search_doc": " ORDER BY rowid"]
    var t0 = timespec(), t1 = timespec()
    let events: Int = try queue.writeWithoutTransaction { db in
        try db.execute(sql: "ATTACH DATABASE ? AS src", arguments: [source])
        let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM src.event") ?? 0
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0)
        try db.inTransaction {
            for (t, order) in tables.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO main.\(t) SELECT * FROM src.\(t)\(order)")
            }
            try db.execute(sql: "INSERT INTO main.rm_search (rowid, text) SELECT rowid, text FROM src.rm_search ORDER BY rowid")
            return .commit
        }
        try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1)
        try db.execute(sql: "DETACH DATABASE src")
        return n
    }
    let seconds = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9
    return seconds / Double(max(1, events)) * 1e6
}

/// Bytes this process passed to write and read calls so far (`wchar`, `rchar` of /proc/self/io).
func processIO() -> (written: Int, read: Int) {
    guard let s = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return (0, 0) }
    var written = 0, read = 0
    for line in s.split(separator: "\n") {
        let parts = line.split(separator: " ")
        guard parts.count == 2, let v = Int(parts[1]) else { continue }
        if parts[0] == "wchar:" { written = v } else if parts[0] == "rchar:" { read = v }
    }
    return (written, read)
}

/// Seconds this process's threads ran on a CPU and waited runnable for one, summed over its
/// threads (`/proc/self/task/*/schedstat`: ns on CPU, ns waiting on a run queue); threads that
/// ended are not counted.
func processSchedule() -> (ran: Double, waited: Double) {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return (0, 0) }
    var ran = 0.0, waited = 0.0
    for t in tasks {
        guard let s = try? String(contentsOfFile: "/proc/self/task/\(t)/schedstat", encoding: .utf8) else { continue }
        let f = s.split(separator: " ")
        guard f.count >= 2, let r = Double(f[0]), let w = Double(f[1]) else { continue }
        ran += r * 1e-9
        waited += w * 1e-9
    }
    return (ran, waited)
}

/// Resets this process's peak RSS (VmHWM) to its current RSS (Linux `clear_refs`, value 5).
func resetPeakResident() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// This process's peak RSS since start or `resetPeakResident()` (VmHWM), bytes; 0 if unknown.
func peakResidentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
    }
    return 0
}

/// Runs blocking work (a control call) on a Dispatch thread, off Swift's cooperative pool.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}

/// User plus system CPU time of this process so far, seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}

private func waitForControl(_ home: NodeHome) async throws -> ControlClient {
    for _ in 0..<400 {
        if let c = try? ControlClient(socketPath: home.socketPath) { return c }
        try await Task.sleep(for: .milliseconds(25))
    }
    throw CocoaError(.fileNoSuchFile)
}

func intArgument(_ name: String, default value: Int) -> Int {
    for a in CommandLine.arguments where a.hasPrefix(name + "=") {
        if let v = Int(a.dropFirst(name.count + 1)) { return v }
    }
    return value
}
