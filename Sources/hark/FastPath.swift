import ArgumentParser
import HarkControl
import HarkNode
#if canImport(Glibc)
import Glibc
#endif

/// `hark send GROUP TEXT` with a daemon up, without swift-argument-parser.
///
/// Building the parser's command tree (18 subcommands, each reflected with `Mirror`, and the
/// runtime's protocol-conformance scans behind its dynamic casts) cost about 3 ms of the ~7 ms of a
/// `hark send`, more than the send itself. Scripts call `hark send` in loops, so its plain form is
/// recognised here first: exactly two positional arguments, neither starting with "-", nothing
/// else. The code below is `SendCommand` with its defaults (no --home, --json, --wait, --timeout,
/// --peer; text from the argument), and ends the same way: same output, messages and exit codes.
/// Anything else, and a home with no daemon listening (the short-lived node), returns nil and takes
/// the normal path.
enum FastPath {
    /// 0 if the fast path sent the message (it exits itself on an error), nil to parse normally.
    static func run(_ arguments: [String]) -> Int32? {
        guard arguments.count == 4, arguments[1] == "send" else { return nil }
        let group = arguments[2], text = arguments[3]
        guard !group.hasPrefix("-"), !text.hasPrefix("-") else { return nil }
        // getenv instead of ProcessInfo.environment, which copies the whole environment.
        var environment: [String: String] = [:]
        for name in ["HARK_HOME", "XDG_DATA_HOME", "HOME"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        let home = NodeHome.resolve(explicit: nil, environment: environment)
        // Not initialised, or no daemon: the normal path says why or starts a short-lived node.
        guard home.isInitialized else { return nil }
        let client: ControlClient
        do { client = try ControlClient(socketPath: home.socketPath) } catch {
            // A daemon that is there but does not answer: say so (69); none at all: the normal path.
            if let e = error as? ControlClient.ClientError, case .notAnswering = e {
                Hark.exit(withError: fail(e.description, Exit.unavailable))
            }
            return nil
        }
        // The short-lived node of another send (no daemon): the normal path waits for delivery.
        if home.lockHolder?.role == .send { return nil }
        do {
            guard !text.isEmpty else { throw fail("message text is empty", Exit.dataError) }
            guard text.utf8.count <= ControlLimits.maxTextByteCount else {
                throw fail("message text is longer than \(ControlLimits.maxTextByteCount) bytes", Exit.dataError)
            }
            try call(client, "send", SendParams(group: group, text: text))
            return 0
        } catch {
            Hark.exit(withError: error)   // as the normal path ends: `fail` already printed the message
        }
    }
}
