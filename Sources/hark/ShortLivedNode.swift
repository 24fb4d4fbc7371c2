import Foundation
import HarkControl
import HarkCrypto
import HarkNode
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The node a `hark send` talks to when no daemon runs: one run inside this process for as long
/// as the command lasts, or one that another process runs (parallel sends: the first takes the
/// home's lock, the others borrow its control socket).
///
/// A borrowed node can go away (its send is done, or a starting daemon asked it to hand the
/// home over); so can this process's own (handed over). `reattach(until:)` then connects to
/// whatever serves the home next (a daemon, another send's node) or starts a node here.
/// A node run here stays after the send while other clients use it (`stop()`, at most
/// `lingerMs`), so that the sends borrowing it finish on it.
///
/// Not thread-safe: one owner (the command's task).
final class ShortLivedNode {
    /// The connection to the node in use now.
    private(set) var client: ControlClient
    /// This process's own node, if it runs one (the latest started).
    private var run: NodeRun?
    private let home: NodeHome
    private let peers: [String]
    private var secret: [UInt8]?

    /// Longest wait, ms, to reach a node (a borrowed one, or one started here).
    static let attachMs: Int64 = 10_000
    /// Longest time, ms, a node run here stays after its own send for others still using it.
    static let lingerMs: Int64 = 30_000

    private init(client: ControlClient, home: NodeHome, peers: [String], secret: [UInt8]?) {
        self.client = client
        self.home = home
        self.peers = peers
        self.secret = secret
    }

    deinit { if secret != nil { secureZero(&secret!) } }

    /// Reaches a node for this send: one that serves the home's control socket already, else one
    /// started here (waits up to `attachMs` for either).
    /// - Throws: an `ExitCode` error with a message (home, store, or socket problems).
    /// A home with encrypted keys needs `passphraseFile` (or a terminal to ask on); else exit 77.
    static func start(home: NodeHome, peers: [String], passphraseFile: String? = nil) async throws -> ShortLivedNode {
        bootstrapLogging()
        let secret = try passphraseIfSealed(home, file: passphraseFile, mayPrompt: false, why: """
            no hark daemon is running for \(home.path), and its keys are encrypted: start `hark daemon` (it asks for \
            the passphrase once), or give `hark send --passphrase-file FILE`
            """)
        let (client, run) = try await attach(home: home, peers: peers, secret: secret, own: nil, patient: false)
        let s = ShortLivedNode(client: client, home: home, peers: peers, secret: secret)
        s.run = run
        return s
    }

    /// After the connection to the node was lost: connects to whatever serves the home now, or
    /// starts a node here (waits up to `attachMs`).
    /// - Throws: an `ExitCode` error, as `start`.
    func reattach() async throws {
        let (client, run) = try await Self.attach(home: home, peers: peers, secret: secret, own: self.run, patient: true)
        self.client = client
        self.run = run
    }

    /// One attach: connect to the home's control socket; while there is none, start a node here
    /// (again every 200 ms while the home's lock is held by a node that has no socket yet, or is
    /// stopping). `own`: a node this process already runs, reused while it runs. `patient`
    /// (re-attaching): starts no node in the first second.
    private static func attach(home: NodeHome, peers: [String], secret: [UInt8]?, own: NodeRun?, patient: Bool)
        async throws -> (ControlClient, NodeRun?) {
        var run = own
        let start = ControlClient.monotonicMs()
        // Re-attaching: let a daemon taking the home over (or another send) bind first, so that
        // the lock does not go back and forth; starting: no reason to wait.
        var lastStart: Int64 = patient ? start + 800 : -1_000
        var lastFailure: (any Error)?
        while ControlClient.monotonicMs() - start < attachMs {
            if let client = try? ControlClient(socketPath: home.socketPath) {
                // Ours, or that of another process that holds the home (its lock made ours fail).
                return (client, run)
            }
            let running = run.map { !$0.isFinished } ?? false
            if !running, ControlClient.monotonicMs() - lastStart >= 200 {
                if let run, case .failure(let error) = await run.task.result {
                    if let e = error as? NodeError, case .bindFailed = e {
                        throw fail("cannot start a node for this send: \(e)", Exit.osError)
                    }
                    lastFailure = error
                }
                lastStart = ControlClient.monotonicMs()
                run = NodeRun(try makeNode(home: home, peers: peers, secret: secret))
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        if let run {
            run.task.cancel()
            _ = await run.task.result
        }
        if let e = lastFailure as? NodeError {
            throw fail("cannot start a node for this send within \(attachMs) ms: \(e)", Exit.tempFail)
        }
        throw fail("cannot start a node for this send: its control socket did not appear within \(attachMs) ms", Exit.software)
    }

    private static func makeNode(home: NodeHome, peers: [String], secret: [UInt8]?) throws -> Node {
        var config = NodeConfiguration()
        config.staticPeers = peers
        config.dialKnownPeers = true
        config.role = .send
        do { return try Node(home: home, configuration: config, logger: Logger(label: "hark"), passphrase: secret) } catch let error as HomeError {
            throw fail(error.description, Exit.code(for: error))
        } catch {
            throw fail("cannot open the store: \(error)", Exit.ioError)
        }
    }

    nonisolated(unsafe) private static var loggingBootstrapped = false

    /// swift-log may be bootstrapped once per process: stderr, level from $HARK_LOG_LEVEL (error).
    private static func bootstrapLogging() {
        guard !loggingBootstrapped else { return }
        loggingBootstrapped = true
        let level = ProcessInfo.processInfo.environment["HARK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }

    /// Ends this command's use of the node. A node run here stays while other clients (parallel
    /// sends that borrowed it) are connected, at most `lingerMs`, then stops: channels closed,
    /// requests in progress answered, the home's lock released.
    func stop() async {
        client = ControlClient(answering: { _ in [] })   // closes the connection to the node
        guard let run else { return }
        let start = ControlClient.monotonicMs()
        while !run.isFinished, run.node.controlClientCount > 0, ControlClient.monotonicMs() - start < Self.lingerMs {
            try? await Task.sleep(for: .milliseconds(50))
        }
        run.task.cancel()
        _ = await run.task.result
    }
}

/// A node run in this process, and whether its `run()` has ended. Thread-safe.
private final class NodeRun: Sendable {
    let node: Node
    let task: Task<Void, any Error>
    private let done: Done

    private final class Done: Sendable { let flag = Atomic<Bool>(false) }

    init(_ node: Node) {
        let done = Done()
        self.node = node
        self.done = done
        self.task = Task {
            defer { done.flag.store(true, ordering: .releasing) }
            try await node.run()
        }
    }

    /// True once `run()` returned or threw.
    var isFinished: Bool { done.flag.load(ordering: .acquiring) }
}
