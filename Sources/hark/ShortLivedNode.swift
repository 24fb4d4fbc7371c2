import Foundation
import HarkControl
import HarkCrypto
import HarkNode
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The node a `hark send` talks to when no daemon runs: one run inside this process for as long
/// as the command lasts, called through its typed API (`NodeEndpoint.inProcess`), or one that
/// another process runs (parallel sends: the first takes the home's lock, the others borrow its
/// control socket, `NodeEndpoint.socket`).
///
/// A borrowed node can go away (its send is done, or a starting daemon asked it to hand the
/// home over); so can this process's own (handed over). `reattach(until:)` then connects to
/// whatever serves the home next (a daemon, another send's node) or starts a node here.
/// A node run here stays after the send while other clients use it (`stop()`, at most
/// `lingerMs`), so that the sends borrowing it finish on it.
///
/// Not thread-safe: one owner (the command's task).
final class ShortLivedNode {
    /// The node in use now: this process's own, or a connection to another process's.
    private(set) var endpoint: NodeEndpoint
    /// This process's own node, if it runs one (the latest started).
    private var run: NodeRun?
    private let home: NodeHome
    private let peers: [String]
    private var secret: [UInt8]?

    /// Longest wait, ms, to reach a node (a borrowed one, or one started here).
    static let attachMs: Int64 = 10_000
    /// Longest time, ms, a node run here stays after its own send for others still using it.
    static let lingerMs: Int64 = 30_000

    private init(endpoint: NodeEndpoint, home: NodeHome, peers: [String], secret: [UInt8]?) {
        self.endpoint = endpoint
        self.home = home
        self.peers = peers
        self.secret = secret
    }

    deinit {
        // swift-format-ignore: NeverForceUnwrap
        // Zeroes the stored array in place (an unwrapped copy would be zeroed, not the secret).
        if secret != nil { secureZero(&secret!) }
    }

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
        let (endpoint, run) = try await attach(home: home, peers: peers, secret: secret, own: nil, patient: false)
        let s = ShortLivedNode(endpoint: endpoint, home: home, peers: peers, secret: secret)
        s.run = run
        return s
    }

    /// After the node in use was lost (a borrowed node's connection closed, or this process's
    /// own node stopped): reaches whatever serves the home now, or starts a node here (waits
    /// up to `attachMs`).
    /// - Throws: an `ExitCode` error, as `start`.
    func reattach() async throws {
        let (endpoint, run) = try await Self.attach(home: home, peers: peers, secret: secret, own: self.run, patient: true)
        self.endpoint = endpoint
        self.run = run
    }

    /// One attach: this process's own node once it serves the home (and is not stopping), called
    /// in-process; while none runs here, the home's control socket (another process's node);
    /// while there is none either, start a node here (again every 200 ms while the home's lock is
    /// held by a node that has no socket yet, or is stopping). `own`: a node this process already
    /// runs, reused while it runs. `patient` (re-attaching): starts no node in the first second.
    private static func attach(home: NodeHome, peers: [String], secret: [UInt8]?, own: NodeRun?, patient: Bool)
        async throws -> (NodeEndpoint, NodeRun?) {
        var run = own
        let start = ControlClient.monotonicMs()
        // Re-attaching: let a daemon taking the home over (or another send) bind first, so that
        // the lock does not go back and forth; starting: no reason to wait.
        var lastStart: Int64 = patient ? start + 800 : -1_000
        var lastFailure: (any Error)?
        while ControlClient.monotonicMs() - start < attachMs {
            // A node starting here either comes to serve the home or ends soon (another node
            // holds the lock): its own socket is never used by this process.
            let running = run.map { !$0.isFinished } ?? false
            if let run, running, run.isReady, !(await run.node.isStopping) {
                return (.inProcess(run.node), run)
            }
            if !running, let client = try? ControlClient(socketPath: home.socketPath) {
                // Another process holds the home (its lock made ours fail, or none started here).
                return (.socket(client), run)
            }
            if !running, ControlClient.monotonicMs() - lastStart >= 200 {
                if let run, case .failure(let error) = await run.task.result {
                    if let e = error as? NodeError, case .bindFailed = e {
                        throw fail("cannot start a node for this send: \(e)", Exit.osError)
                    }
                    lastFailure = error
                }
                lastStart = ControlClient.monotonicMs()
                let flags = NodeRun.Flags()
                run = NodeRun(try makeNode(home: home, peers: peers, secret: secret, onReady: NodeRun.readyHook(flags)), flags: flags)
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

    private static func makeNode(home: NodeHome, peers: [String], secret: [UInt8]?,
                                 onReady: @escaping @Sendable (Int) -> Void) throws -> Node {
        var config = NodeConfiguration()
        config.onReady = onReady
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
        endpoint = .socket(ControlClient(answering: { _ in [] }))   // closes a connection to another process's node
        guard let run else { return }
        let start = ControlClient.monotonicMs()
        while !run.isFinished, run.node.controlClientCount > 0, ControlClient.monotonicMs() - start < Self.lingerMs {
            try? await Task.sleep(for: .milliseconds(50))
        }
        run.task.cancel()
        _ = await run.task.result
    }
}
