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
/// node A holds a group of N events; node B joins with an invite and syncs them all. Prints the
/// time and events/s next to the Ed25519 verification rate measured in the same run, since every
/// event costs at least one signature check.
func runReplicationBenchmark() {
    let count = intArgument("--events", default: 100_000)
    let verify = measureVerifyRate()
    let root = NSTemporaryDirectory() + "hark-bench-repl-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let done = DispatchSemaphore(value: 0)
    // Detached: the caller blocks its thread on the semaphore, so the work must not inherit it.
    Task.detached {
        do { try await replicate(count: count, root: root, verifyRate: verify) } catch { print("sync.replicate failed: \(error)") }
        done.signal()
    }
    done.wait()
}

private func measureVerifyRate() -> Double {
    let key = SigningKeyPair.generate()
    let message = SecureRandom.bytes(200)
    let sig = key.signature(for: message)
    return measure { blackHole(key.publicKey.isValidSignature(sig, for: message)) }.perSecond
}

private func replicate(count: Int, root: String, verifyRate: Double) async throws {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let homeA = NodeHome(path: root + "/a"), homeB = NodeHome(path: root + "/b")
    let alice = try homeA.initialize(displayName: "alice")
    _ = try homeB.initialize(displayName: "bob")

    // Write the group straight into A's store: genesis, then `count` messages in a chain.
    let clock = ContinuousClock()
    let t0 = clock.now
    let store = try Store(path: homeA.storePath)
    let key = SecureRandom.bytes(32)
    var gc = Hark_V1_Content(); var gen = Hark_V1_Genesis(); gen.name = "bench"; gen.creatorDisplayName = "alice"; gc.genesis = gen
    let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: alice.signing, seq: 1, selfParent: nil, parents: [],
                                       wallMs: 1, body: try BodyCipher.seal(gc, groupKey: key, groupID: nil, author: alice.signing.publicKey, seq: 1))
    try store.saveGroup(Store.GroupRecord(id: genesis.id, name: "bench", key: key, createdMs: 1, joinedMs: 1))
    try store.insert(genesis, receivedMs: 1)
    var previous = genesis
    for i in 0..<count {
        var c = Hark_V1_Content(); var t = Hark_V1_Text(); t.text = "message \(i)"; c.text = t
        let seq = UInt64(i + 2)
        let body = try BodyCipher.seal(c, groupKey: key, groupID: genesis.id, author: alice.signing.publicKey, seq: seq)
        let e = try EventAuthor.make(kind: .message, groupID: genesis.id, author: alice.signing, seq: seq, selfParent: previous,
                                     parents: [], wallMs: Int64(i), body: body)
        try store.insert(e, receivedMs: Int64(i))
        previous = e
    }
    let built = clock.now - t0

    var configA = NodeConfiguration(); configA.listenHost = "127.0.0.1"; configA.discoveryEnabled = false
    let nodeA = try Node(home: homeA, configuration: configA, logger: logger)
    let taskA = Task { try await nodeA.run() }
    let a = try await waitForControl(homeA)
    _ = try a.call("log.ids", GroupRefParams(group: "bench"), as: [String].self)   // warm A's graph
    let token = try a.call("group.invite", GroupRefParams(group: "bench"), as: InviteResult.self).token
    let status = try a.call("status", NoParams(), as: StatusResult.self)

    var configB = NodeConfiguration(); configB.listenHost = "127.0.0.1"; configB.discoveryEnabled = false
    configB.staticPeers = ["127.0.0.1:\(status.tcpPort)"]
    let nodeB = try Node(home: homeB, configuration: configB, logger: logger)
    let taskB = Task { try await nodeB.run() }
    let b = try await waitForControl(homeB)
    let start = clock.now
    _ = try b.call("group.join", GroupJoinParams(token: token), as: GroupView.self)
    let target = count + 2   // genesis + messages + B's join
    var held = 0
    while clock.now - start < .seconds(600) {
        held = try b.call("group.list", NoParams(), as: [GroupView].self).first?.events ?? 0
        if held >= target { break }
        try await Task.sleep(for: .milliseconds(250))   // each poll costs the node a pass over its graph
    }
    let elapsed = clock.now - start
    taskA.cancel(); taskB.cancel()
    _ = try? await taskA.value; _ = try? await taskB.value

    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let rate = Double(held) / seconds
    let bound = Double(count) / verifyRate
    print(String(format: "sync.replicate   %d events in %.2f s = %.0f events/s   ed25519 verify %.0f /s   ratio %.2f",
                 held, seconds, rate, verifyRate, rate / verifyRate))
    print(String(format: "sync.newmember   %d events: %.2f s   bound %d / verify rate = %.2f s   ratio %.1f×   (history built in %.1f s)",
                 count, seconds, count, bound, seconds / bound,
                 Double(built.components.seconds) + Double(built.components.attoseconds) * 1e-18))
    if held < target { print("sync.replicate   INCOMPLETE: B holds \(held) of \(target) events after 600 s") }
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
