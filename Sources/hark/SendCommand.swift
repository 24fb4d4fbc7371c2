import ArgumentParser
import HarkControl
import HarkNode
#if canImport(Glibc)
import Glibc
#endif

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a message to a group.",
        discussion: """
            The text is the argument, or standard input when the argument is absent or "-" \
            (one trailing newline is dropped; on a terminal it says it is reading until Ctrl-D). \
            Text must be UTF-8, 1 to 60000 bytes (exit 65 otherwise).

            --wait delivered|read|settled blocks until --of members (all, any, or a number; default \
            all) hold the message, or have read it, or until its place in the order is settled; \
            exit 0 when reached, 75 (EX_TEMPFAIL) at --timeout. The message is stored either way \
            and keeps going out. A group with no other member has no one to wait for.

            Without a running daemon, hark starts a short-lived node (discovery, the peers it knew, \
            and every --peer), sends, and exits once a member holds the message (--wait delivered \
            --of any unless told otherwise) or at --timeout (default 10s). If no member was reached \
            the message stays queued in the store and goes out the next time a node runs on this \
            home: exit 75. A daemon that is there but does not answer within --timeout (else 5 s) \
            gives exit 69, and no short-lived node is started. Parallel sends without a daemon \
            share the first one's node (it stays while they use it, at most 30 s more); a send \
            whose node goes away (it ended, or a starting `hark daemon` took the home over) \
            re-attaches within 10 s and finishes there. The exit code follows the store: 0 for a \
            committed message (delivered as asked), 75 for one stored and queued, never 74 for a \
            committed message.

            --reply ID answers a message: ID is its short ID from `hark log` (8+ hex digits), or \
            the full 64-digit ID of a message not here yet (the quote shows once it arrives). \
            log and chat show the answered message as a one-line quote.

            @name in the text mentions a member: every current member whose display name, name \
            at joining, or local alias (peer alias) follows an @ is named in the message by key, \
            so the mention still reaches them after a rename. It is highlighted for them in log \
            and chat, counted in group list, and streamed by watch --mentions.

            Examples:
              echo "backup done" | hark send ops
              hark send ops --reply 3fa1c2d9 "done, @bob can deploy"
              hark send ops "deploy starts" --wait read --of 2 --timeout 5m
              hark send @bob "just between us"
            """ + "\n\n" + ExitDoc.text([65: "empty, too long or non-UTF-8 text, or posting in a channel as a plain member", 67: "no such group, or no message --reply names", 69: "a daemon is there but does not answer within --timeout (else 5 s); with no daemon at all, send starts a short-lived node", 75: "the message is stored but did not reach the --wait state in time, or it is queued (no daemon, no member reached)"])
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Argument(help: "Message text (default: read standard input).") var text: String?
    @Flag(name: .long, help: "Print the message sent as one JSON object.") var json = false
    @Option(name: .long, help: ArgumentHelp("Answer this message (short ID from `hark log`, or a full ID).", valueName: "ID"))
    var reply: String?
    @Option(name: .long, help: "Wait until the message is delivered, read or settled.") var wait: WaitState?
    @Option(name: .long, help: ArgumentHelp("With --wait: how many members, all, any or N.", valueName: "all|any|N"))
    var of: WaitQuorum = .all
    @Option(name: .long, help: ArgumentHelp("Give up waiting after this long: 500ms, 30s, 2m (default 30s; 10s without a daemon).", valueName: "duration"))
    var timeout: String?
    @Option(name: .customLong("peer"), help: ArgumentHelp("Without a daemon: also dial this peer, HOST:PORT (repeatable).", valueName: "host:port"))
    var peers: [String] = []
    @Option(name: .long, help: ArgumentHelp("Without a daemon, for a home with encrypted keys: read the passphrase from the first line of this file (never asked for; exit 77 without it).", valueName: "file"),
            completion: .file())
    var passphraseFile: String?

    func validate() throws {
        if let reply, !(reply.count >= 8 && reply.count <= 64 && reply.allSatisfy(\.isHexDigit)) {
            throw ValidationError("--reply \(reply): expected a message ID of 8 to 64 hex digits (see `hark log`)")
        }
        if let timeout, Duration.parse(timeout) == nil { throw ValidationError("--timeout \(timeout) is not a duration like 500ms, 30s, 2m") }
        for p in peers where Node.parseHostPort(p) == nil {
            throw ValidationError("--peer \(p): expected HOST:PORT or [V6]:PORT with a port of 1 to 65535")
        }
    }

    func run() async throws {
        let message = try readText()
        let home = options.nodeHome
        do { try home.requireInitialized() } catch { throw fail(error.description, Exit.code(for: error)) }
        // A stopped daemon is given --timeout (else the default bound) to answer; only a daemon
        // that is not there at all is replaced by a short-lived node.
        let boundMs = timeout.flatMap(Duration.parse).map { Int(max(1, $0)) } ?? ControlClient.defaultTimeoutMs
        do {
            let client = try ControlClient(socketPath: home.socketPath, timeoutMs: boundMs)
            // The node there may be another send's short-lived node: then this send waits as
            // one without a daemon does, and survives that node's end (below).
            if home.lockHolder?.role != .send {
                try deliver(message, via: client, defaultTimeoutMs: 30_000)
                return
            }
        } catch let e as ControlClient.ClientError {
            switch e {
            case .daemonNotRunning: break
            case .permissionDenied: throw fail(e.description, Exit.noPermission)
            default: throw fail(e.description, Exit.unavailable)
            }
        }
        // No daemon: run a node in this process (or borrow the one another send runs) for as
        // long as it takes, re-attaching when the node in use goes away.
        let node = try await ShortLivedNode.start(home: home, peers: peers, passphraseFile: passphraseFile)
        do {
            try await deliverShortLived(message, via: node)
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    /// Sends through a short-lived node and waits (`--wait`, else delivered to any member): this
    /// process's own node through its typed API, a borrowed one through its socket
    /// (`NodeEndpoint`; both fail alike, so the output is the same). When the node in use goes
    /// away (a borrowed node that ended, or one handed over to a starting daemon), re-attaches
    /// (`ShortLivedNode.reattach`) and goes on: a `send` that got no answer was not run (a node
    /// answers every request it read before it closes; its own node writes nothing once
    /// stopping) and is sent again; a wait goes on until its deadline. Exit: 0 committed and
    /// the wait reached; 75 committed and queued; never 74 for a committed message.
    func deliverShortLived(_ message: String, via node: ShortLivedNode) async throws {
        var view: MessageView?
        var lost = 0
        while view == nil {
            do throws(ControlClient.ClientError) {
                view = try await node.endpoint.send(group: group, text: message, replyTo: reply)
            } catch {
                guard error.isConnectionLost && lost < 5 else { throw controlExitCode(for: error) }
                lost += 1
                try await node.reattach()
            }
        }
        guard let view else { return }
        if json { try printJSON(view) }
        let state = wait ?? .delivered
        let goal = receiptGoal(state, wait == nil ? WaitQuorum.any : of)
        let timeoutMs = timeout.flatMap(Duration.parse) ?? 10_000
        let deadline = ControlClient.monotonicMs() + timeoutMs
        var outcome: ReceiptsWaitResult?
        while outcome == nil {
            do throws(ControlClient.ClientError) {
                outcome = try await node.endpoint.waitForReceipts(group: view.group, message: view.id, goal: goal,
                                                                  timeoutMs: max(0, deadline - ControlClient.monotonicMs()))
            } catch {
                guard error.isConnectionLost && lost < 20 else { throw controlExitCode(for: error) }
                // Committed already: find a node again and keep waiting (the store has the
                // message; whichever node serves the home sends it out).
                lost += 1
                do { try await node.reattach() } catch {
                    throw fail("message \(view.id.prefix(8)) is queued (the node went away and none could be reached again); it goes out the next time a hark node runs on \(options.nodeHome.path)", Exit.tempFail)
                }
            }
        }
        guard let outcome, !outcome.reached else { return }
        throw fail("message \(view.id.prefix(8)) is queued (\(Self.shortfall(outcome.receipts, state)) after \(timeoutMs) ms); it goes out the next time a hark node runs on \(options.nodeHome.path)", Exit.tempFail)
    }

    /// "delivered to 1 of 3 members", or why a message is not settled.
    static func shortfall(_ result: ReceiptsResult, _ state: WaitState) -> String {
        let have = result.members.filter { state == .read ? $0.state == "read" : $0.state != "pending" }.count
        return state == .settled ? "not every member has written an event after it yet"
            : "\(state.rawValue) to \(have) of \(result.members.count) members"
    }

    func readText() throws -> String {
        var message: String
        if let text, text != "-" {
            message = text
        } else {
            if isatty(0) == 1 {
                printError("hark: reading the message from standard input; end it with Ctrl-D (Ctrl-C cancels)")
            }
            message = try readStdin(limit: ControlLimits.maxTextByteCount + 1)
            if message.hasSuffix("\n") { message.removeLast() }
        }
        guard !message.isEmpty else { throw fail("message text is empty", Exit.dataError) }
        guard message.utf8.count <= ControlLimits.maxTextByteCount else {
            throw fail("message text is longer than \(ControlLimits.maxTextByteCount) bytes", Exit.dataError)
        }
        return message
    }

    /// Sends through a daemon, prints, and waits as asked.
    func deliver(_ message: String, via client: ControlClient, defaultTimeoutMs: Int64) throws {
        let view = try call(client, ControlMethods.send, SendParams(group: group, text: message, replyTo: reply))
        if json { try printJSON(view) }
        guard let state = wait else { return }
        let timeoutMs = timeout.flatMap(Duration.parse) ?? defaultTimeoutMs
        // The daemon ends the wait at `timeoutMs` and writes a keepalive line every second
        // meanwhile: a read bound of `--timeout` alone could expire in the same millisecond as
        // its answer. Two keepalive intervals still tell a hung daemon (exit 69) from a wait.
        if client.timeoutMs < 2 * ControlClient.keepaliveIntervalMs { client.setTimeout(ms: 2 * ControlClient.keepaliveIntervalMs) }
        let result: ReceiptsResult, reached: Bool
        do {
            (result, reached) = try waitForReceipts(client: client, group: view.group, message: view.id, state: state,
                                                    quorum: of, timeoutMs: timeoutMs)
        } catch let e as ControlClient.ClientError { throw controlExitCode(for: e) }
        if reached { return }
        throw fail("message \(view.id.prefix(8)) was not \(state.rawValue) in time (\(Self.shortfall(result, state)) after \(timeoutMs) ms); it stays stored and keeps going out", Exit.tempFail)
    }
}

/// Whether descriptor 0 was closed when the process started (set first thing in `main`).
nonisolated(unsafe) var standardInputWasClosed = false

/// Reads standard input up to `limit` bytes; rejects bytes that are not UTF-8 (exit 65).
func readStdin(limit: Int) throws -> String {
    if standardInputWasClosed {
        throw fail("standard input is closed and no text was given; give the text as an argument: hark send GROUP TEXT", Exit.noInput)
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count <= limit {
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw fail("cannot read standard input: \(String(cString: strerror(errno)))", Exit.ioError)
        }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    if bytes.count > limit { throw fail("message text is longer than \(limit - 1) bytes", Exit.dataError) }
    guard let s = String(validating: bytes, as: UTF8.self) else { throw fail("standard input is not UTF-8 text", Exit.dataError) }
    return s
}
