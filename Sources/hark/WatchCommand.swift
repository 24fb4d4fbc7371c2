import ArgumentParser
import Dispatch
import Foundation
import HarkControl
#if canImport(Glibc)
import Glibc
#endif

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Stream what happens: messages, edits, deletes, reactions, members, presence, typing, receipts, file offers.",
        discussion: """
            With --json, one object per line: {"event": KIND, "data": {…}} with KIND one of message, \
            edit, delete, reaction, membership, presence, typing, receipt, file_offer (docs/CONTROL.md "watch"). \
            The stream starts with the presence of every peer online now. When the daemon stops, \
            watch says so and exits 69.

            With --exec CMD, hark runs CMD once per new message (not your own unless --include-own), \
            one at a time, through /bin/sh -c CMD, with the message only in environment variables: \
            HARK_EVENT, HARK_GROUP, HARK_GROUP_ID, HARK_MESSAGE_ID, HARK_TEXT, HARK_SENDER, \
            HARK_SENDER_ID, HARK_SENDER_FINGERPRINT, HARK_WALL_MS. Peer data never becomes part of \
            the command line, so quote variables as usual ("$HARK_TEXT") and nothing in a message can \
            run as a command. CMD's failures are reported on stderr and do not stop the watch; \
            CMD runs with standard input closed and times out after --exec-timeout.

            With --mentions, only messages that mention you (@name, resolved to your key when they \
            were sent, so a later rename does not matter) are streamed and passed to --exec.

            Environment:
              HARK_EVENT: "message"
              HARK_GROUP, HARK_GROUP_ID: the group's name and ID
              HARK_MESSAGE_ID: the message's event ID (hex)
              HARK_TEXT: the message text
              HARK_SENDER, HARK_SENDER_ID, HARK_SENDER_FINGERPRINT: the author's display name, peer ID and short fingerprint
              HARK_WALL_MS: the author's clock when it was written, ms since the Unix epoch
              HARK_REPLY_TO: for a reply, the event ID (hex) of the message it answers; else empty
              HARK_MENTIONS_ME: "1" when the message mentions you, else "0"

            Examples:
              hark watch ops --exec 'notify-send "$HARK_SENDER" "$HARK_TEXT"'
              hark watch --json | jq -c 'select(.event == "message") | .data.text'
              hark watch --mentions --exec 'notify-send "$HARK_SENDER mentioned you" "$HARK_TEXT"'
            """ + "\n\n" + ExitDoc.text([67: "no such group", 69: "no daemon runs for the home, or it stopped"])
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID (default: every group).", completion: LiveCompletion.groups) var group: String?
    @Flag(name: .long, help: "Print one JSON object per event (NDJSON).") var json = false
    @Option(name: .long, help: ArgumentHelp("Run this shell command once per new message.", valueName: "cmd")) var exec: String?
    @Flag(name: .long, help: "With --exec: also run it for messages this node sent.") var includeOwn = false
    @Flag(name: .long, help: "Stream only messages that mention you.") var mentions = false
    @Option(name: .long, help: ArgumentHelp("With --exec: kill CMD after this long (e.g. 30s).", valueName: "duration"))
    var execTimeout: String = "60s"

    func validate() throws {
        guard Duration.parse(execTimeout) != nil else { throw ValidationError("--exec-timeout \(execTimeout) is not a duration like 500ms, 30s, 2m") }
        if let exec, exec.isEmpty { throw ValidationError("--exec needs a command") }
    }

    func run() throws {
        let client = try connect(options)
        let me = try call(client, ControlMethods.status, NoParams()).peerId
        var groupNames: [String: String] = [:]
        for g in try call(client, ControlMethods.groupList, NoParams()) { groupNames[g.id] = g.name }
        let live = try connect(options)
        _ = try call(live, ControlMethods.watch, WatchParams(group: group))
        let timeoutMs = Duration.parse(execTimeout) ?? 60_000
        while let event = try nextEvent(live) {
            if mentions {
                guard case let .message(m) = event, m.kind == "message", m.mentionsMe else { continue }
            }
            if let exec {
                if case let .message(m) = event, m.kind == "message", includeOwn || m.author != me {
                    runHook(exec, message: m, groupName: groupNames[m.group], timeoutMs: timeoutMs)
                }
                if json { try printJSON(event) }
                continue
            }
            if json { try printJSON(event) } else { printOut(Self.describe(event, groupNames: groupNames)) }
        }
        // The stream only ends when the daemon closes it: a script must be able to tell.
        throw fail("the daemon closed the watch stream (it stopped or restarted)", Exit.unavailable)
    }

    func nextEvent(_ client: ControlClient) throws -> WatchEvent? {
        do { return try client.nextWatchEvent() } catch { throw streamError(error, "watch stream") }
    }

    /// One line per event for a terminal; peer text neutralised.
    static func describe(_ e: WatchEvent, groupNames: [String: String]) -> String {
        func g(_ id: String) -> String { terminalSafe(groupNames[id] ?? String(id.prefix(12))) }
        switch e {
        case let .message(m):
            let quote = m.reply.map { " (\(ConversationText.quote($0)))" } ?? ""
            return "\(formatTime(ms: m.wallMs)) [\(g(m.group))] \(authorLabel(m))\(quote): \(terminalSafe(m.text, keepNewlines: true))"
                + (m.mentionsMe ? ConversationText.mentionMark : "")
        case let .edit(c):
            return "[\(g(c.group))] \(terminalSafe(c.authorName)) edited \(c.message.prefix(8)): \(terminalSafe(c.text ?? ""))"
        case let .delete(c):
            return "[\(g(c.group))] \(terminalSafe(c.authorName)) deleted \(c.message.prefix(8))"
        case let .reaction(c):
            return "[\(g(c.group))] \(terminalSafe(c.authorName)) reacted \(terminalSafe(c.emoji ?? "(removed)")) to \(c.message.prefix(8))"
        case let .membership(m):
            return "[\(g(m.group))] \(terminalSafe(m.memberName)) (\(m.memberFingerprint)) \(m.change)"
        case let .presence(p):
            let text = p.statusText.map { " — \(terminalSafe($0))" } ?? ""
            return "\(terminalSafe(p.displayName)) (\(shortFingerprint(p.fingerprint))) is \(p.state)\(text)"
        case let .typing(t):
            return "[\(g(t.group))] \(terminalSafe(t.displayName)) (\(shortFingerprint(t.fingerprint))) \(t.active ? "is typing…" : "stopped typing")"
        case let .receipt(r):
            return "[\(g(r.group))] \(r.message.prefix(8)) \(r.state) \(r.state == "read" ? "by" : "to") \(terminalSafe(r.memberName)) (\(r.memberFingerprint))"
        case let .trust(t):
            return "trust: \(terminalSafe(t.displayName)) (\(shortFingerprint(t.fingerprint))) \(t.change)\(t.detail.map { ": \(terminalSafe($0))" } ?? "")"
        case let .fileOffer(f):
            return "[\(g(f.group))] \(terminalSafe(f.senderName)) (\(f.senderFingerprint)) offers \(terminalSafe(f.names.joined(separator: ", "))) (\(formatBytes(f.size))) — hark fetch \(f.fileId.prefix(12))"
        }
    }

    /// Runs the hook through /bin/sh -c with the message in the environment only; waits for it
    /// (bounded by `timeoutMs`, then SIGKILL by its PID). posix_spawn and waitpid, not Foundation's
    /// Process, whose exit detection can miss a child that ends quickly.
    func runHook(_ command: String, message m: MessageView, groupName: String?, timeoutMs: Int64) {
        var env = ProcessInfo.processInfo.environment
        env["HARK_EVENT"] = "message"
        env["HARK_GROUP"] = groupName ?? m.group
        env["HARK_GROUP_ID"] = m.group
        env["HARK_MESSAGE_ID"] = m.id
        env["HARK_TEXT"] = m.text
        env["HARK_SENDER"] = m.authorName
        env["HARK_SENDER_ID"] = m.author
        env["HARK_REPLY_TO"] = m.replyTo ?? ""
        env["HARK_MENTIONS_ME"] = m.mentionsMe ? "1" : "0"
        env["HARK_SENDER_FINGERPRINT"] = m.authorFingerprint
        env["HARK_WALL_MS"] = String(m.wallMs)
        // A C environment string ends at NUL: drop NULs rather than cut the text short.
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value.replacingOccurrences(of: "\0", with: ""))") } + [nil]
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var pid = pid_t()
        let rc = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
        guard rc == 0 else {
            printError("hark: cannot run --exec command: \(String(cString: strerror(rc)))")
            return
        }
        var status: Int32 = 0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMs) * 1_000_000
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return }
            if DispatchTime.now().uptimeNanoseconds >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                printError("hark: --exec command killed after \(timeoutMs) ms (message \(m.id.prefix(8)))")
                return
            }
            usleep(5_000)
        }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if code != 0 { printError("hark: --exec command exited with \(code) (message \(m.id.prefix(8)))") }
    }
}

extension WatchEvent: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(kind, forKey: .event)
        switch self {
        case let .message(v): try c.encode(v, forKey: .data)
        case let .edit(v), let .delete(v), let .reaction(v): try c.encode(v, forKey: .data)
        case let .membership(v): try c.encode(v, forKey: .data)
        case let .presence(v): try c.encode(v, forKey: .data)
        case let .typing(v): try c.encode(v, forKey: .data)
        case let .receipt(v): try c.encode(v, forKey: .data)
        case let .trust(v): try c.encode(v, forKey: .data)
        case let .fileOffer(v): try c.encode(v, forKey: .data)
        }
    }
    enum Key: String, CodingKey { case event, data }
}

extension Duration {
    /// Milliseconds in "500ms", "30s", "2m", "1h", or plain seconds ("10"); nil otherwise or ≤ 0.
    static func parse(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard let v = Double(number), v > 0, v * Double(scale) < 9e15 else { return nil }
            return Int64((v * Double(scale)).rounded())
        }
        guard let v = Double(text), v > 0, v < 9e12 else { return nil }
        return Int64((v * 1000).rounded())
    }
}
