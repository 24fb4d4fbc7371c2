import Dispatch
import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import HarkNode
import HarkProto
import HarkStore
import Logging

/// End-to-end replication through two real nodes on loopback (real sockets, Noise, SQLite):
/// node A holds a group of N events; node B joins with an invite and syncs them all through its
/// real intake (signature checks, validation, SQLite file). Prints events/s next to the Ed25519
/// verify bound measured in the same run (one core, the 49-byte message an event signature
/// covers, before and after the sync; the higher rate is the bound), and their ratio (goal ≥ 0.75);
/// then the same ratio in CPU time (`sync.cpu`), which the load of other work does not skew.
func runReplicationBenchmark() {
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

/// Ed25519 verifications per second on one core, of a message the size an event signature
/// covers ("hark-event-sig-v1" ‖ 32-byte ID = 49 bytes).
private func measureVerifyRate() -> Double {
    let key = SigningKeyPair.generate()
    let message = SecureRandom.bytes(49)
    let sig = key.signature(for: message)
    return measure { blackHole(key.publicKey.isValidSignature(sig, for: message)) }.perSecond
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

private func replicate(count: Int, root: String) async throws {
    var logger = Logger(label: "bench")
    logger.logLevel = ProcessInfo.processInfo.environment["BENCH_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    let homeA = NodeHome(path: root + "/a"), homeB = NodeHome(path: root + "/b")
    let alice = try homeA.initialize(displayName: "alice")
    _ = try homeB.initialize(displayName: "bob")

    // Write the group straight into A's store: genesis, then `count` messages in a chain.
    let clock = ContinuousClock()
    let t0 = clock.now
    do {   // closed before the nodes start: its page cache is not theirs
        let store = try Store(path: homeA.storePath)
        try writeChainedHistory(into: store, author: alice.signing, name: "bench", count: count)
    }
    let built = clock.now - t0
    resetPeakResident()
    let rssBefore = residentBytes()

    var configA = NodeConfiguration(); configA.listenHost = "127.0.0.1"; configA.discoveryEnabled = false
    let nodeA = try Node(home: homeA, configuration: configA, logger: logger)
    let taskA = Task { try await nodeA.run() }
    let a = try await waitForControl(homeA)
    _ = try a.call("group.list", NoParams(), as: [GroupView].self)   // A answers from its store
    let rssServing = residentBytes()
    let token = try a.call("group.invite", GroupRefParams(group: "bench"), as: InviteResult.self).token
    let status = try a.call("status", NoParams(), as: StatusResult.self)
    let verifyBefore = measureVerifyRate()

    var configB = NodeConfiguration(); configB.listenHost = "127.0.0.1"; configB.discoveryEnabled = false
    configB.staticPeers = ["127.0.0.1:\(status.tcpPort)"]
    let nodeB = try Node(home: homeB, configuration: configB, logger: logger)
    let taskB = Task { try await nodeB.run() }
    let b = try await waitForControl(homeB)
    let start = clock.now
    let cpuStart = processCPUSeconds()
    let schedStart = processSchedule()
    let ioStart = processIO()
    nonisolated(unsafe) let client = b   // used by one Dispatch thread at a time
    _ = try await offThePool { try client.call("group.join", GroupJoinParams(token: token), as: GroupView.self) }
    let target = count + 2   // genesis + messages + B's join
    var held = 0
    var firstBatch: Duration?
    while clock.now - start < .seconds(600) {
        // A blocking control call would hold one of the two cooperative threads the nodes run
        // on until B answers: it waits on a Dispatch thread instead, as a CLI process would.
        held = try await offThePool { try client.call("group.list", NoParams(), as: [GroupView].self).first?.events ?? 0 }
        if firstBatch == nil, held > 2 { firstBatch = clock.now - start }
        if held >= target { break }
        try await Task.sleep(for: .milliseconds(100))
    }
    let elapsed = clock.now - start
    let cpu = processCPUSeconds() - cpuStart
    let schedEnd = processSchedule()
    let rssAfter = residentBytes(), rssPeak = peakResidentBytes()
    let ioEnd = processIO()
    taskA.cancel(); taskB.cancel()
    _ = try? await taskA.value; _ = try? await taskB.value

    let verifyAfter = measureVerifyRate()
    let verifyCPURate = max(measureVerifyCPURate(), measureVerifyCPURate())
    let verifyRate = max(verifyBefore, verifyAfter)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let rate = Double(held) / seconds
    let bound = Double(count) / verifyRate
    print(String(format: "sync.replicate   %d events in %.2f s = %.0f events/s   ed25519 verify bound %.0f /s (%.0f before, %.0f after)   ratio %.2f (goal >= 0.75)",
                 held, seconds, rate, verifyRate, verifyBefore, verifyAfter, rate / verifyRate))
    print(String(format: "sync.newmember   %d events: %.2f s   bound %d / verify rate = %.2f s   ratio %.1f×   (history built in %.1f s)",
                 count, seconds, count, bound, seconds / bound,
                 Double(built.components.seconds) + Double(built.components.attoseconds) * 1e-18))
    // Both nodes run in this process: CPU time per event over the sync, and the rate the cores
    // would give at that cost (what the wall clock shows on an otherwise idle machine).
    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
    print(String(format: "sync.phases      join and first events after %.2f s; the rest in %.2f s",
                 firstBatch.map { Double($0.components.seconds) + Double($0.components.attoseconds) * 1e-18 } ?? -1,
                 seconds - (firstBatch.map { Double($0.components.seconds) + Double($0.components.attoseconds) * 1e-18 } ?? 0)))
    // The same in CPU time on both sides: the verify rate per CPU-second of one core, against
    // the events per CPU-second of the sync times the cores (what idle cores would give).
    print(String(format: "sync.cpu         %.1f µs CPU per event (both nodes)   = %.0f events/s on %d idle cores   ed25519 verify %.1f µs CPU (%.0f /s per core)   ratio %.2f (goal >= 0.75)",
                 cpu / Double(max(1, held)) * 1e6, cores * Double(held) / cpu, Int(cores), 1e6 / verifyCPURate, verifyCPURate,
                 cores * Double(held) / cpu / verifyCPURate))
    // Time runnable but not running is the machine's other work; the rest of the wall time
    // that no thread ran is the sync waiting on itself (latency, serialisation).
    print(String(format: "sync.sched       threads ran %.2f s and waited %.2f s for a CPU (other work on the box) over %.2f s; cores busy on average %.2f",
                 schedEnd.ran - schedStart.ran, schedEnd.waited - schedStart.waited, seconds, (schedEnd.ran - schedStart.ran) / seconds))
    print(String(format: "sync.io          %.0f bytes written and %.0f read per event by both nodes (write and read calls: SQLite files, WAL, sockets)",
                 Double(ioEnd.written - ioStart.written) / Double(max(1, held)), Double(ioEnd.read - ioStart.read) / Double(max(1, held))))
    // Both nodes share this process: A's growth is what loading the group to serve it costs,
    // the growth over the sync what B's intake (and both sessions) cost.
    let mb = { (b: Int) in Double(b) / 1_048_576 }
    print(String(format: "sync.rss         before the nodes %.0f MB; serving node A ready +%.0f MB; after the sync (A and B) %.0f MB (+%.0f MB over the sync); peak %.0f MB",
                 mb(rssBefore), mb(rssServing - rssBefore), mb(rssAfter), mb(rssAfter - rssServing), mb(rssPeak)))
    if held < target { print("sync.replicate   INCOMPLETE: B holds \(held) of \(target) events after 600 s") }
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
