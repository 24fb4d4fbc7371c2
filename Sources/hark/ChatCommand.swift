import ArgumentParser
import Foundation
import HarkControl
#if canImport(Glibc)
import Glibc
#endif

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat in a group interactively (needs a terminal).",
        discussion: """
            Shows recent history, then new messages as they arrive, who is typing, and receipts \
            for your messages; what you type is sent when you press Enter. Works in any terminal, \
            over ssh too: it needs no more than carriage return and erase-line. Your read marker \
            follows what is shown.

            Commands: /help, /who (members and presence), /away [TEXT], /back, /edit ID TEXT, \
            /delete ID, /react ID EMOJI, /log [N], /more [N] (N earlier messages, default 20), /quit \
            (or Ctrl-D on an empty line, or Ctrl-C).
            Without a terminal it refuses (exit 64): use `hark send` and `hark watch` in scripts.
            """
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.") var group: String
    @Option(name: .long, help: "Messages of history to show first.") var history: Int = 20

    func validate() throws {
        guard history >= 0 else { throw ValidationError("--history must be 0 or more") }
    }

    func run() throws {
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw fail("hark chat needs a terminal; in scripts use `hark send` and `hark watch`", Exit.usage)
        }
        let client = try connect(options)
        let groups = try call(client, "group.list", NoParams(), as: [GroupView].self)
        let me = try call(client, "status", NoParams(), as: StatusResult.self)
        let live = try connect(options)
        struct Watching: Codable, Sendable { var watching: Bool }
        _ = try call(live, "watch", WatchParams(group: group), as: Watching.self)
        let recent = try call(client, "log", LogParams(group: group, limit: history), as: [MessageView].self)
        guard let groupID = recent.first?.group ?? groups.first(where: { $0.name == group || $0.id.hasPrefix(group.lowercased()) })?.id else {
            throw fail("unknown group \(group)", Exit.noUser)
        }
        let name = groups.first { $0.id == groupID }?.name ?? group
        var session = ChatSession(client: client, live: live, group: groupID, groupName: name, me: me.peerId)
        try session.run(history: recent)
    }
}

/// The interactive loop of `hark chat`: a one-line editor under a scrolling transcript.
struct ChatSession {
    let client: ControlClient
    let live: ControlClient
    let group: String
    let groupName: String
    let me: String

    var line: [Character] = []
    var pendingBytes: [UInt8] = []
    var typingSentAt: Date?
    var typers: [String: Date] = [:]     // display label → until
    var unreadShown = false
    var lastReadAt = Date.distantPast
    var shown: Set<String> = []
    /// The earliest message shown: /more pages back from it.
    var oldest: String?
    var saved = termios()

    init(client: ControlClient, live: ControlClient, group: String, groupName: String, me: String) {
        self.client = client; self.live = live; self.group = group; self.groupName = groupName; self.me = me
    }

    mutating func run(history: [MessageView]) throws {
        tcgetattr(0, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSANOW, &raw)
        defer {
            var restore = saved
            tcsetattr(0, TCSANOW, &restore)
            write(1, "\r\u{1B}[K", 4)
        }
        say("— \(terminalSafe(groupName)): /help for commands, /quit to leave —")
        for m in history { show(m) }
        oldest = history.first?.id
        markRead()
        redraw()
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: live.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&fds, 2, 500)
            if n < 0 { if errno == EINTR { continue }; break }
            if fds[1].revents != 0 {
                guard let events = try? live.readAvailable() else { say("— the daemon closed the connection —"); return }
                for e in events { handle(e) }
                redraw()
            }
            if fds[0].revents != 0 {
                var buf = [UInt8](repeating: 0, count: 1024)
                let k = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if k <= 0 { return }
                for b in buf.prefix(k) { if !(try key(b)) { return } }
                redraw()
            }
            if ControlClient.monotonicMs() - live.lastReceivedMs > Int64(live.timeoutMs) {
                throw fail(ControlClient.ClientError.notAnswering(path: "control socket", ms: live.timeoutMs).description, Exit.unavailable)
            }
            expireTypers()
            if unreadShown, Date().timeIntervalSince(lastReadAt) > 1 { markRead() }
            if let t = typingSentAt, line.isEmpty || Date().timeIntervalSince(t) > 5 {
                if line.isEmpty { sendTyping(false) }
            }
        }
    }

    // MARK: output

    func say(_ text: String) {
        let out = "\r\u{1B}[K" + text + "\r\n"
        let bytes = Array(out.utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }

    func redraw() {
        let typing = typers.keys.sorted()
        var prefix = ""
        if !typing.isEmpty { prefix = "[\(typing.joined(separator: ", ")) typing…] " }
        let out = "\r\u{1B}[K" + prefix + "> " + String(line)
        let bytes = Array(out.utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }

    mutating func show(_ m: MessageView) {
        guard m.kind == "message", shown.insert(m.id).inserted else { return }
        var text = "\(m.id.prefix(8)) \(formatTime(ms: m.wallMs).suffix(8)) \(authorLabel(m)): "
        text += terminalSafe(m.text, keepNewlines: false)
        if m.edited { text += " (edited)" }
        if let r = m.receipts, r.members > 0 {
            text += r.read == r.members ? "  ✓✓" : r.delivered == r.members ? "  ✓" : ""
        }
        say(text)
        if m.author != me { unreadShown = true }
    }

    mutating func handle(_ e: WatchEvent) {
        switch e {
        case let .message(m):
            typers.removeValue(forKey: label(m.authorName, m.authorFingerprint))
            show(m)
        case let .typing(t):
            guard t.peerId != me else { return }
            let key = label(t.displayName, t.fingerprint)
            if t.active { typers[key] = Date().addingTimeInterval(6) } else { typers.removeValue(forKey: key) }
        case let .receipt(r):
            say("  \(r.message.prefix(8)) \(r.state == "read" ? "✓✓ read" : "✓ delivered") by \(terminalSafe(r.memberName)) (\(r.memberFingerprint))")
        case .presence, .membership, .edit, .delete, .reaction, .trust, .fileOffer:
            say("  " + WatchCommand.describe(e, groupNames: [group: groupName]))
        }
    }

    func label(_ name: String, _ fingerprint: String) -> String { "\(terminalSafe(name)) (\(fingerprint))" }

    mutating func expireTypers() {
        let now = Date()
        let before = typers.count
        typers = typers.filter { $0.value > now }
        if typers.count != before { redraw() }
    }

    mutating func markRead() {
        unreadShown = false
        lastReadAt = Date()
        _ = try? client.call("read", GroupRefParams(group: group), as: ReadResult.self)
    }

    mutating func sendTyping(_ active: Bool) {
        _ = try? client.call("typing", TypingParams(group: group, active: active), as: Sent.self)
        typingSentAt = active ? Date() : nil
    }
    struct Sent: Codable, Sendable { var sent: Bool }

    // MARK: input

    /// One input byte. Returns false to leave.
    mutating func key(_ b: UInt8) throws -> Bool {
        if !pendingBytes.isEmpty || b >= 0x80 {
            // UTF-8 sequence: collect until it decodes.
            pendingBytes.append(b)
            if let s = String(validating: pendingBytes, as: UTF8.self) {
                line.append(contentsOf: s)
                pendingBytes = []
                typed()
            } else if pendingBytes.count >= 4 {
                pendingBytes = []
            }
            return true
        }
        switch b {
        case 0x03: return false                              // Ctrl-C
        case 0x04: return !line.isEmpty                      // Ctrl-D on an empty line
        case 0x0D, 0x0A: return try submit()
        case 0x7F, 0x08: if !line.isEmpty { line.removeLast() }
        case 0x15: line.removeAll()                          // Ctrl-U
        case 0x17:                                           // Ctrl-W
            while line.last == " " { line.removeLast() }
            while let c = line.last, c != " " { _ = c; line.removeLast() }
        case 0x1B: escape = true
        case 0x20...0x7E:
            if escape { if (0x40...0x7E).contains(b) && b != 0x5B { escape = false }; return true }
            line.append(Character(Unicode.Scalar(b)))
            typed()
        default: break
        }
        return true
    }
    var escape = false

    mutating func typed() {
        if typingSentAt == nil || Date().timeIntervalSince(typingSentAt!) > 3 { sendTyping(true) }
    }

    mutating func submit() throws -> Bool {
        let text = String(line).trimmingCharacters(in: .whitespaces)
        line.removeAll()
        if typingSentAt != nil { sendTyping(false) }
        guard !text.isEmpty else { return true }
        if text.hasPrefix("/") { return command(text) }
        do {
            let m = try client.call("send", SendParams(group: group, text: text), as: MessageView.self)
            show(m)
        } catch {
            say("! not sent: \(error)")
        }
        return true
    }

    mutating func command(_ text: String) -> Bool {
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        let arg1 = parts.count > 1 ? parts[1] : nil
        let rest = parts.count > 2 ? parts[2] : nil
        do {
            switch parts[0] {
            case "/quit", "/exit": return false
            case "/help":
                say("/who  /away [TEXT]  /back  /edit ID TEXT  /delete ID  /react ID EMOJI  /log [N]  /more [N]  /quit")
            case "/who":
                let g = try client.call("group.list", NoParams(), as: [GroupView].self).first { $0.id == group }
                let peers = try client.call("peers", NoParams(), as: [PeerView].self)
                for member in g?.members ?? [] {
                    if member == me { say("  you"); continue }
                    if let p = peers.first(where: { $0.peerId == member }) {
                        say("  \(p.warning != nil ? "⚠ " : "")\(terminalSafe(p.displayName)) (\(p.fingerprint.prefix(11)))\(p.verified ? " ✔" : "")  \(p.presence)\(p.statusText.map { " — \(terminalSafe($0))" } ?? "")")
                    } else {
                        say("  \(member.prefix(14))…  never seen")
                    }
                }
            case "/away":
                let status = [arg1, rest].compactMap { $0 }.joined(separator: " ")
                _ = try client.call("presence.set", PresenceSetParams(state: "away", statusText: status.isEmpty ? nil : status), as: PresenceView.self)
                say("— you are away —")
            case "/back":
                _ = try client.call("presence.set", PresenceSetParams(state: "online", statusText: ""), as: PresenceView.self)
                say("— you are online —")
            case "/edit":
                guard let id = arg1, let t = rest else { say("usage: /edit ID TEXT"); return true }
                _ = try client.call("edit", EditParams(group: group, message: id, text: t), as: MessageView.self)
            case "/delete":
                guard let id = arg1 else { say("usage: /delete ID"); return true }
                struct Deleted: Codable, Sendable { var deleted: Bool }
                _ = try client.call("delete", DeleteParams(group: group, message: id), as: Deleted.self)
            case "/react":
                guard let id = arg1, let emoji = rest else { say("usage: /react ID EMOJI"); return true }
                _ = try client.call("react", ReactParams(group: group, message: id, emoji: emoji, remove: false), as: MessageView.self)
            case "/log":
                let n = arg1.flatMap(Int.init) ?? 20
                shown.removeAll()
                let page = try client.call("log", LogParams(group: group, limit: max(0, n)), as: [MessageView].self)
                for m in page { show(m) }
                oldest = page.first?.id ?? oldest
            case "/more":
                let n = arg1.flatMap(Int.init) ?? 20
                guard let from = oldest else { say("— nothing earlier —"); return true }
                let page = try client.call("log", LogParams(group: group, limit: max(0, n), before: from), as: [MessageView].self)
                if page.isEmpty { say("— nothing earlier —"); return true }
                say("— \(page.count) earlier —")
                for m in page { show(m) }
                oldest = page.first?.id
            default:
                say("unknown command \(terminalSafe(parts[0])); /help lists them")
            }
        } catch let ControlClient.ClientError.remote(body) {
            say("! \(body.message)")
        } catch {
            say("! \(error)")
        }
        return true
    }
}
