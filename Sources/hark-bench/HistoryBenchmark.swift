import Dispatch
import Foundation
import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkNode
import HarkStore
import Logging

/// Start-up, memory and `send` cost of one node against the size of its history: a group of N
/// events is written straight into a fresh home's SQLite store (signed, sealed, through
/// `Store.insert(batch:)`) by a child process, so this process's memory holds none of it. Then
/// this process starts a real node on that home and prints the time until `status` answers,
/// the resident set size (RSS) after start, the first `send` and the mean of the next ones, the
/// RSS after them, and the time and RSS of building the group's whole causal graph from the
/// store (what sync still does). Run it at several N to see what grows with history.
func runHistoryBenchmark() {
    let count = intArgument("--events", default: 100_000)
    let sends = intArgument("--sends", default: 200)
    if let home = stringArgument("--fill-home") {
        do {
            let t = try fillHistoryHome(path: home, count: count)
            print(String(format: "history.fill     %d events written in %.1f s", count, t))
        } catch { print("history.fill failed: \(error)"); exit(1) }
        return
    }
    if let home = stringArgument("--home") {
        // A home filled before (by --fill-home): measured as is, and kept.
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { try await measureHistory(root: home, count: count, sends: sends) } catch { print("history failed: \(error)") }
            done.signal()
        }
        done.wait()
        return
    }
    let root = NSTemporaryDirectory() + "hark-bench-history-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let fill = Process()
    fill.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    fill.arguments = ["history", "--events=\(count)", "--fill-home=\(root)"]
    do { try fill.run() } catch { print("history: cannot run the fill process: \(error)"); exit(1) }
    fill.waitUntilExit()
    guard fill.terminationStatus == 0 else { print("history: fill failed"); exit(1) }
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { try await measureHistory(root: root, count: count, sends: sends) } catch { print("history failed: \(error)") }
        done.signal()
    }
    done.wait()
}

/// Writes a home with one group "bench": genesis, then `count` MESSAGE events in one chain.
/// - Returns: seconds taken.
private func fillHistoryHome(path: String, count: Int) throws -> Double {
    let clock = ContinuousClock()
    let t0 = clock.now
    let home = NodeHome(path: path)
    let me = try home.initialize(displayName: "alice")
    let store = try Store(path: home.storePath)
    try writeChainedHistory(into: store, author: me.signing, name: "bench", count: count)
    return seconds(clock.now - t0)
}

/// Writes a group named `name` into `store`: genesis, then `count` MESSAGE events by `author`
/// in one chain, stored in batches of 1,000 through `Store.insert(batch:)`.
/// - Returns: the genesis (the group's ID is its ID).
/// - Throws: store and crypto errors.
@discardableResult
func writeChainedHistory(into store: Store, author: SigningKeyPair, name: String, count: Int) throws -> Event {
    let key = SecureRandom.bytes(32)
    var gc = Hark_V1_Content(); var gen = Hark_V1_Genesis(); gen.name = name; gen.creatorDisplayName = "alice"; gc.genesis = gen
    let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: author, seq: 1, selfParent: nil, parents: [],
                                       wallMs: 1, body: try BodyCipher.seal(gc, groupKey: key, groupID: nil, author: author.publicKey, seq: 1))
    try store.saveGroup(Store.GroupRecord(id: genesis.id, name: name, key: key, createdMs: 1, joinedMs: 1))
    try store.insert(genesis, receivedMs: 1)
    var previous = genesis
    var batch: [Event] = []
    batch.reserveCapacity(1000)
    for i in 0..<count {
        var c = Hark_V1_Content(); var t = Hark_V1_Text(); t.text = "message \(i)"; c.text = t
        let seq = UInt64(i + 2)
        let body = try BodyCipher.seal(c, groupKey: key, groupID: genesis.id, author: author.publicKey, seq: seq)
        let e = try EventAuthor.make(kind: .message, groupID: genesis.id, author: author, seq: seq, selfParent: previous,
                                     parents: [], wallMs: Int64(i), body: body)
        batch.append(e)
        if batch.count == 1000 { try store.insert(batch: batch, receivedMs: Int64(i)); batch.removeAll(keepingCapacity: true) }
        previous = e
    }
    if !batch.isEmpty { try store.insert(batch: batch, receivedMs: Int64(count)) }
    return genesis
}

private func measureHistory(root: String, count: Int, sends: Int) async throws {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let home = NodeHome(path: root)
    let clock = ContinuousClock()
    let rss0 = residentBytes()
    let t0 = clock.now
    var config = NodeConfiguration(); config.listenHost = "127.0.0.1"; config.discoveryEnabled = false
    let node = try Node(home: home, configuration: config, logger: logger)
    let task = Task { try await node.run() }
    var client: ControlClient?
    while client == nil, clock.now - t0 < .seconds(60) {
        if let c = try? ControlClient(socketPath: home.socketPath), (try? c.call(ControlMethods.status, NoParams())) != nil {
            client = c
        } else {
            try await Task.sleep(for: .milliseconds(2))
        }
    }
    let started = clock.now - t0
    guard let c = client else { throw CocoaError(.fileNoSuchFile) }
    let rssStart = residentBytes()
    let t1 = clock.now
    _ = try c.call(ControlMethods.send, SendParams(group: "bench", text: "first"))
    let first = clock.now - t1
    let rssFirst = residentBytes()
    let t2 = clock.now
    for i in 0..<sends { _ = try c.call(ControlMethods.send, SendParams(group: "bench", text: "message \(i)")) }
    let mean = seconds(clock.now - t2) / Double(max(1, sends))
    let rssSends = residentBytes()
    task.cancel()
    _ = try? await task.value
    // The group's whole causal graph, as sync still loads it: its time and memory.
    let store = try Store(path: home.storePath)
    guard let group = try store.allGroups().first?.id else { throw CocoaError(.fileNoSuchFile) }
    let t3 = clock.now
    var graph = CausalGraph()
    for e in try store.events(group: group, limit: nil, afterLamport: nil) { try graph.insert(e) }
    let graphLoad = clock.now - t3
    let rssGraph = residentBytes()
    blackHole(graph.count)
    let mb = { (b: Int) in Double(b) / 1_048_576 }
    print(String(format: "history.start    %8d events: status answers %.0f ms after start   RSS %.0f MB (%.0f MB before the node)",
                 count, seconds(started) * 1000, mb(rssStart), mb(rss0)))
    print(String(format: "history.send     %8d events: first send %.1f ms   mean of next %d %.2f ms   RSS %.0f MB after the first, %.0f MB after all",
                 count, seconds(first) * 1000, sends, mean * 1000, mb(rssFirst), mb(rssSends)))
    print(String(format: "history.graph    %8d events: whole causal graph (what a fork or log --graph loads) built in %.2f s   RSS %.0f MB after",
                 count, seconds(graphLoad), mb(rssGraph)))
}

/// This process's resident set size, bytes (VmRSS in /proc/self/status; 0 if unreadable).
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return digits * 1024
    }
    return 0
}

private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
