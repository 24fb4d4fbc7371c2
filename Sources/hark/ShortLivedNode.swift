import Foundation
import HarkControl
import HarkCrypto
import HarkNode
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A node run inside a `hark send` that found no daemon: it lives until the command is done.
/// If another short-lived node got the home first (parallel sends), this one uses that node's
/// control socket instead.
final class ShortLivedNode: @unchecked Sendable {
    let client: ControlClient
    private let task: Task<Void, any Error>?

    private init(client: ControlClient, task: Task<Void, any Error>?) {
        self.client = client
        self.task = task
    }

    /// Starts the node and connects to its control socket (waits up to 5 s for it).
    /// - Throws: an `ExitCode` error with a message (home, store, or socket problems).
    /// A home with encrypted keys needs `passphraseFile` (or a terminal to ask on); else exit 77.
    static func start(home: NodeHome, peers: [String], passphraseFile: String? = nil) async throws -> ShortLivedNode {
        let level = ProcessInfo.processInfo.environment["HARK_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        var config = NodeConfiguration()
        config.staticPeers = peers
        config.dialKnownPeers = true
        let node: Node
        var secret = try passphraseIfSealed(home, file: passphraseFile, mayPrompt: false, why: """
            no hark daemon is running for \(home.path), and its keys are encrypted: start `hark daemon` (it asks for \
            the passphrase once), or give `hark send --passphrase-file FILE`
            """)
        defer { if secret != nil { secureZero(&secret!) } }
        do { node = try Node(home: home, configuration: config, logger: Logger(label: "hark"), passphrase: secret) } catch let error as HomeError {
            throw fail(error.description, Exit.code(for: error))
        } catch {
            throw fail("cannot open the store: \(error)", Exit.ioError)
        }
        let task = Task { try await node.run() }
        for _ in 0..<250 {
            if let client = try? ControlClient(socketPath: home.socketPath) {
                // Ours, or that of another process that took the home first (its lock made ours fail).
                return ShortLivedNode(client: client, task: task)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        switch await task.result {
        case .failure(let error as NodeError):
            throw fail("cannot start a node for this send: \(error)", Exit.osError)
        default:
            throw fail("cannot start a node for this send: its control socket did not appear within 5 s", Exit.software)
        }
    }

    /// Stops the node (if this process runs one) and waits for it to close its channels.
    func stop() async {
        guard let task else { return }
        task.cancel()
        _ = await task.result
    }
}
