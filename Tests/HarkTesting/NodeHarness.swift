import Dispatch
import Foundation
import HarkNode
import Logging
import Synchronization

/// A temporary node home under /tmp, removed when the value is released. Thread-safe.
public final class TempHome: Sendable {
    public let path: String

    /// - Parameter name: part of the directory's name, to tell tests apart.
    public init(_ name: String) {
        var template = Array("/tmp/hark-test-\(name)-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ b in b.baseAddress.flatMap { mkdtemp($0) } }) else {
            preconditionFailure("cannot create a directory under /tmp: errno \(errno)")
        }
        path = String(cString: p)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A real node (real sockets on 127.0.0.1, real SQLite, real libsodium) running in this
/// process, with discovery off: its static peers stand in for discovery. Thread-safe (immutable).
public final class RunningNode: Sendable {
    public let home: TempHome
    public let node: Node
    public let task: Task<Void, any Error>
    /// The TCP port it accepts peer channels on.
    public let port: Int

    /// Starts a node in a new home named `name`, and returns once its peer port and control
    /// socket are bound (at most 5 s).
    /// - Parameters:
    ///   - staticPeers: `host:port` of the nodes to dial (the fake discovery).
    ///   - configure: changes to the test configuration (e.g. a `ManualClock`, a longer
    ///     handshake deadline).
    /// - Throws: `HomeError` or store errors when the home cannot be made.
    public static func start(_ name: String, staticPeers: [String] = [],
                             configure: (inout NodeConfiguration) -> Void = { _ in }) async throws -> RunningNode {
        let home = TempHome(name)
        _ = try NodeHome(path: home.path).initialize(displayName: name)
        var config = NodeConfiguration()
        config.listenHost = "127.0.0.1"
        config.discoveryEnabled = false
        config.staticPeers = staticPeers
        config.redialInitialMs = 100
        configure(&config)
        let bound = BoundPort()
        let theirs = config.onReady
        config.onReady = { port in
            bound.set(port)
            theirs?(port)
        }
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = ProcessInfo.processInfo.environment["HARK_TEST_LOG"] == "debug" ? .debug : .warning
        let node = try Node(home: NodeHome(path: home.path), configuration: config, logger: logger)
        let task = Task { try await node.run() }
        var port = 0
        for _ in 0..<200 {
            port = bound.value
            if port != 0, FileManager.default.fileExists(atPath: home.path + "/control.sock") { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        precondition(port != 0, "node did not start")
        return RunningNode(home: home, node: node, task: task, port: port)
    }

    private init(home: TempHome, node: Node, task: Task<Void, any Error>, port: Int) {
        self.home = home; self.node = node; self.task = task; self.port = port
    }

    /// Stops the node and removes its home.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
        try? FileManager.default.removeItem(atPath: home.path)
    }
}

/// The port `NodeConfiguration.onReady` reported (0 until then). Thread-safe.
private final class BoundPort: Sendable {
    private let port = Mutex(0)
    var value: Int { port.withLock { $0 } }
    func set(_ p: Int) { port.withLock { $0 = p } }
}

/// Runs `body`, then stops every node (also when `body` throws), so no test leaves a home behind.
public func withNodes(_ nodes: [RunningNode], _ body: () async throws -> Void) async throws {
    do { try await body() } catch {
        for n in nodes { await n.stop() }
        throw error
    }
    for n in nodes { await n.stop() }
}

/// Runs blocking work off the cooperative thread pool.
public func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in DispatchQueue.global().async { c.resume(returning: body()) } }
}

/// Polls `condition` every 50 ms for at most `seconds`.
public func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
