import HarkControl

#if canImport(Glibc)
import Glibc
#endif

/// `hark send GROUP TEXT` with a daemon up, without loading the node or an argument parser.
///
/// Exactly two positional arguments, valid UTF-8, neither starting with "-", and nothing else; the home from
/// `$HARK_HOME`, `$XDG_DATA_HOME` or `$HOME` (`HomeLocation`). What `hark-node send` would do
/// with the same arguments, with the same output and exit codes. Everything that is not that,
/// and every case that fails before the request is written (no identity, no daemon listening,
/// empty or too long text), returns nil, so that `hark-node` runs and says why or starts a
/// short-lived node: nothing is ever sent twice.
enum DaemonSend {
    /// The exit status when this sent the message or the daemon refused it; nil to run `hark-node`.
    static func run(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32? {
        guard argc == 4 else { return nil }
        // The arguments as given; one that is not UTF-8 goes to hark-node, which refuses it.
        var arguments: [String] = []
        for i in 0..<4 {
            guard let p = argv[i], let a = String(validatingCString: p) else { return nil }
            arguments.append(a)
        }
        guard arguments[1] == "send" else { return nil }
        let group = arguments[2], text = arguments[3]
        guard !group.hasPrefix("-"), !text.hasPrefix("-"), !text.isEmpty,
              text.utf8.count <= ControlLimits.maxTextByteCount else { return nil }
        let home = HomeLocation.resolve(explicit: nil, environment: HomeLocation.processEnvironment())
        guard HomeLocation.isInitialized(home: home) else { return nil }
        // The short-lived node of another send (no daemon): hark-node waits for delivery as a
        // daemonless send does, and re-attaches if that node stops.
        if HomeLocation.lockHolder(path: HomeLocation.lockPath(home: home))?.role == .send { return nil }
        let client: ControlClient
        do { client = try ControlClient(socketPath: HomeLocation.socketPath(home: home)) } catch {
            // A daemon that is there but does not answer: say so (69); none at all: hark-node.
            if let e = error as? ControlClient.ClientError, case .notAnswering = e { return fail(e.message, e.exitStatus) }
            return nil
        }
        do {
            try client.callIgnoringResult(ControlMethods.send, SendParams(group: group, text: text))
            return 0
        } catch let e as ControlClient.ClientError {
            return fail(e.message, e.exitStatus)
        } catch {
            return fail("\(error)", 70)
        }
    }

    /// Prints `hark: message` to standard error and returns `status`.
    static func fail(_ message: String, _ status: Int32) -> Int32 {
        let bytes = Array("hark: \(message)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        return status
    }
}
