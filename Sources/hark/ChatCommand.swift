import ArgumentParser
import Foundation
import HarkControl
import HarkTerminal
#if canImport(Glibc)
import Glibc
#endif

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat in a group or direct conversation, full screen (needs a terminal).",
        discussion: """
            A full-screen chat (ncurses): messages above, a status bar with the conversation, \
            unread counts and who is typing, and an input line below. It opens on the last \
            screenful, with a "new messages" marker before the first unread message; PageUp and \
            PageDown scroll, and scrolling past the top pages older messages in from the store. \
            Your read marker moves only for messages that have been on screen. Your own messages \
            end in ticks that change in place: · sent, ✓ delivered to every member, ✓✓ read by \
            every member. A message that mentions your name is highlighted and rings the bell.

            Editing: Left/Right, Home/End (Ctrl-A/E), Ctrl-Left/Right or Alt-B/F by word, \
            Backspace/Delete, Ctrl-U/K/W, Up/Down for earlier entries, Ctrl-J or Alt-Enter for a \
            new line; a paste is one message however many lines it has. Enter sends.

            Commands: /msg @PEER [TEXT] (direct conversation), /join GROUP|TOKEN (switch, or \
            redeem an invite), /me ACTION, /share PATH…, /files, /fetch FILE-ID [DIR], /who, \
            /away [TEXT], /back, /edit ID TEXT, /delete ID, /react ID EMOJI, /ids (show message \
            IDs), /clear, /help, /quit (or Ctrl-D on an empty line, or Ctrl-C). When the daemon \
            restarts or stops answering, chat reconnects; after 30 s without a daemon it exits 69.
            Without a terminal it refuses (exit 64): use `hark send` and `hark watch` in scripts.
            """
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID, or @PEER for a direct conversation.") var group: String
    @Option(name: .long, help: "Messages of history to load first (default: a screenful and the unread ones).") var history: Int?

    func validate() throws {
        if let history, history < 0 { throw ValidationError("--history must be 0 or more") }
    }

    func run() throws {
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw fail("hark chat needs a terminal; in scripts use `hark send` and `hark watch`", Exit.usage)
        }
        TerminalText.useUTF8Locale()
        let app = try ChatApp(options: options, historyLimit: history)
        try app.open(group)
        let screen: CursesScreen
        do { screen = try CursesScreen() } catch { throw fail("\(error)", Exit.usage) }
        let code = app.run(screen)
        screen.close()
        if let message = app.exitMessage { printError(message) }
        if code != 0 { throw ExitCode(code) }
    }
}

/// The full-screen chat: owns the two control connections (requests; the `watch` stream), the
/// conversation's `ChatTranscript`, the `LineEditor` and the screen. Runs on one thread.
final class ChatApp {
    let options: HomeOptions
    let historyLimit: Int?
    var client: ControlClient
    var live: ControlClient
    var me: StatusResult
    var groupID = ""
    var groupName = ""
    var members: [String] = []
    var transcript = ChatTranscript()
    var editor = LineEditor()
    var decoder = KeyDecoder()
    var screen: CursesScreen?
    /// Typing members of the open conversation: display name → until.
    var typers: [String: Date] = [:]
    /// Messages of others that arrived in other conversations: group ID → count.
    var elsewhere: [String: Int] = [:]
    var groupNames: [String: String] = [:]
    /// Receipt states of own messages: message ID → member → "delivered" | "read".
    var receiptStates: [String: [String: String]] = [:]
    var receiptMembers: [String: Int] = [:]
    var showIDs = false
    var lastReadThrough: String?
    var lastReadAt = Date.distantPast
    var typingSentAt: Date?
    var disconnectedAt: Date?
    var lastRedial = Date.distantPast
    var historyExhausted = false
    var fetches: [(process: Process, file: String)] = []
    var exitMessage: String?
    var needsBell = false

    /// Seconds without a daemon before chat gives up (exit 69).
    static let reconnectLimit: TimeInterval = 30

    init(options: HomeOptions, historyLimit: Int?) throws {
        self.options = options
        self.historyLimit = historyLimit
        client = try connect(options)
        live = try connect(options)
        me = try call(client, ControlMethods.status, NoParams())
        _ = try call(live, ControlMethods.watch, WatchParams(group: nil))
    }

    // MARK: conversations

    /// Opens `ref` (group name, ID prefix or @PEER) as the conversation shown.
    /// - Throws: an `ExitCode` (67 for an unknown group) before the screen opens.
    func open(_ ref: String) throws {
        let groups = try call(client, ControlMethods.groupList, NoParams())
        for g in groups { groupNames[g.id] = g.name }
        var found = groups.first { $0.name == ref || $0.id == ref.lowercased() }
            ?? groups.first { ref.count >= 4 && $0.id.hasPrefix(ref.lowercased()) }
        if found == nil, let m = try? client.call(ControlMethods.log, LogParams(group: ref, limit: 1)).first {
            found = groups.first { $0.id == m.group }
        }
        guard let g = found else { throw fail("unknown group \(terminalSafe(ref))", Exit.noUser) }
        try switchTo(g)
    }

    func switchTo(_ g: GroupView) throws {
        groupID = g.id; groupName = g.name; members = g.members
        transcript = ChatTranscript()
        typers = [:]; elsewhere[g.id] = nil; historyExhausted = false; lastReadThrough = nil
        let rows = screen?.rows ?? Int(terminalRows())
        let unread = g.unread ?? 0
        let limit = historyLimit ?? min(1000, max(rows, unread + rows / 2))
        let page = try call(client, ControlMethods.log, LogParams(group: g.id, limit: limit))
        transcript.append(.notice("— \(terminalSafe(groupName)): /help for commands, PageUp for history —"))
        let unreadIDs = Set(page.filter { $0.author != me.peerId && $0.kind == "message" }.suffix(unread).map(\.id))
        for m in page { add(m, unread: unreadIDs.contains(m.id)) }
        if !unreadIDs.isEmpty, let s = screen { transcript.scrollToMarker(width: s.columns, height: transcriptHeight(s)) }
        else if !unreadIDs.isEmpty { pendingMarkerScroll = true }
    }
    var pendingMarkerScroll = false

    func terminalRows() -> Int32 {
        var ws = winsize()
        return ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_row > 0 ? Int32(ws.ws_row) : 24
    }

    // MARK: messages

    func entry(_ m: MessageView) -> ChatEntry {
        let mine = m.author == me.peerId
        var text = m.text
        var action = false
        if text.hasPrefix("/me ") { action = true; text.removeFirst(4) }
        var body = TerminalText.neutralised(text, keepNewlines: true)
        if m.unreadable { body = "(no key for this message reached this node yet)" }
        if let q = m.reply { body = ConversationText.quote(q) + "\n" + body }
        if !m.reactions.isEmpty { body += "  " + m.reactions.map { "\(TerminalText.neutralised($0.emoji))\($0.count > 1 ? "\($0.count)" : "")" }.joined(separator: " ") }
        var author = mine ? "you" : TerminalText.neutralised(m.authorName)
        if m.authorNameConflict || m.authorEquivocated { author = "⚠" + author }
        if showIDs { author = "\(m.id.prefix(8)) " + author }
        return ChatEntry(id: m.id, time: shortTime(m.wallMs), author: author, colour: colour(of: m.author), text: body,
                         mine: mine, action: action, mention: !mine && (m.mentionsMe || mentionsMe(m.text)), ticks: mine ? ticks(m) : "",
                         edited: m.edited)
    }

    /// Held message views, to redraw an entry when its ticks, text or reactions change.
    var views: [String: MessageView] = [:]

    func add(_ m: MessageView, unread: Bool) {
        guard m.kind == "message" else { return }
        views[m.id] = m
        if let r = m.receipts { receiptMembers[m.id] = r.members }
        transcript.append(entry(m), unread: unread)
    }

    func refresh(_ id: String) {
        guard let m = views[id] else { return }
        let e = entry(m)
        transcript.update(id) { $0 = e }
    }

    func ticks(_ m: MessageView) -> String {
        // A fresh message (from `send`) carries no summary yet: every other member counts.
        let members = receiptMembers[m.id] ?? m.receipts?.members ?? max(0, self.members.count - 1)
        guard members > 0 else { return "" }
        let states = receiptStates[m.id] ?? [:]
        let read = max(m.receipts?.read ?? 0, states.values.filter { $0 == "read" }.count)
        let delivered = max(m.receipts?.delivered ?? 0, states.count)
        return read >= members ? "✓✓" : delivered >= members ? "✓" : "·"
    }

    func mentionsMe(_ text: String) -> Bool {
        let name = me.displayName.lowercased()
        guard !name.isEmpty else { return false }
        let lower = text.lowercased()
        var from = lower.startIndex
        while let r = lower.range(of: name, range: from..<lower.endIndex) {
            let before = r.lowerBound == lower.startIndex ? nil : lower[lower.index(before: r.lowerBound)]
            let after = r.upperBound == lower.endIndex ? nil : lower[r.upperBound]
            if !(before?.isLetter ?? false) && !(before?.isNumber ?? false) && !(after?.isLetter ?? false) && !(after?.isNumber ?? false) { return true }
            from = r.upperBound
        }
        return false
    }

    func colour(of peer: String) -> Int { peer.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF } % 6 }

    func shortTime(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return String(format: "%02d:%02d", tmv.tm_hour, tmv.tm_min)
    }

    func notice(_ text: String) { transcript.append(.notice(text)) }

    // MARK: live events

    func handle(_ e: WatchEvent) {
        switch e {
        case let .message(m):
            guard m.kind == "message" else { return }
            if m.group != groupID {
                if m.author != me.peerId {
                    elsewhere[m.group, default: 0] += 1
                    if m.mentionsMe || mentionsMe(m.text) { needsBell = true }
                }
                return
            }
            typers.removeValue(forKey: TerminalText.neutralised(m.authorName))
            let isNew = views[m.id] == nil
            add(m, unread: m.author != me.peerId)
            // Replies shown before the message they answer arrived now quote it.
            for (id, var v) in views where v.replyTo == m.id && v.reply?.state != "message" {
                v.reply = ReplyQuote(state: "message", authorName: m.authorName, text: m.text)
                views[id] = v
                refresh(id)
            }
            if isNew, m.author != me.peerId, m.mentionsMe || mentionsMe(m.text) { needsBell = true }
        case let .typing(t):
            guard t.group == groupID, t.peerId != me.peerId else { return }
            let key = TerminalText.neutralised(t.displayName)
            if t.active { typers[key] = Date().addingTimeInterval(6) } else { typers.removeValue(forKey: key) }
        case let .receipt(r):
            guard r.group == groupID else { return }
            var states = receiptStates[r.message] ?? [:]
            if states[r.member] != "read" { states[r.member] = r.state }
            receiptStates[r.message] = states
            refresh(r.message)
        case let .edit(c):
            guard c.group == groupID, var m = views[c.message], let text = c.text else { return }
            m.text = text; m.edited = true; views[c.message] = m
            refresh(c.message)
        case let .delete(c):
            guard c.group == groupID else { return }
            views[c.message] = nil
            transcript.remove(c.message)
        case let .reaction(c):
            guard c.group == groupID, views[c.message] != nil,
                  let fresh = try? client.call(ControlMethods.log, LogParams(group: groupID, limit: 200)),
                  let m = fresh.first(where: { $0.id == c.message }) else { return }
            views[c.message] = m
            refresh(c.message)
        case let .membership(v):
            guard v.group == groupID else { return }
            notice("— " + WatchCommand.describe(e, groupNames: [groupID: groupName]) + " —")
            if v.change == "joined" || v.change == "added" { members.append(v.member) }
        case let .fileOffer(f):
            guard f.group == groupID else { return }
            notice("— " + WatchCommand.describe(e, groupNames: [groupID: groupName]) + " (/fetch \(f.fileId.prefix(12))) —")
        case .trust:
            notice("— " + WatchCommand.describe(e, groupNames: groupNames) + " —")
        case .presence:
            break
        }
    }

    // MARK: the loop

    /// Runs until the user leaves (0) or the daemon stays away (69).
    func run(_ screen: CursesScreen) -> Int32 {
        self.screen = screen
        if pendingMarkerScroll { transcript.scrollToMarker(width: screen.columns, height: transcriptHeight(screen)); pendingMarkerScroll = false }
        draw()
        var lastByte = Date()
        var lastDraw = Date()
        while true {
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]
            if disconnectedAt == nil { fds.append(pollfd(fd: live.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            let n = poll(&fds, nfds_t(fds.count), 100)
            if n < 0 && errno != EINTR { return 71 }
            if fds.count > 1, fds[1].revents != 0 {
                do {
                    if let events = try live.readAvailable() { for e in events { handle(e) } } else { lost() }
                } catch { lost() }
            }
            // The daemon writes a keepalive line every second on an open stream: silence past the
            // client's bound means it stopped answering (stopped, hung), as good as gone.
            if disconnectedAt == nil, ControlClient.monotonicMs() - live.lastReceivedMs > Int64(live.timeoutMs) { lost() }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var buf = [UInt8](repeating: 0, count: 4096)
                let k = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if k <= 0 { return 0 }
                lastByte = Date()
                for key in decoder.feed(buf.prefix(k)) { if !input(key) { return 0 } }
            } else if fds[0].revents & Int16(POLLHUP | POLLERR) != 0 {
                return 0
            } else if Date().timeIntervalSince(lastByte) > 0.05 {
                for key in decoder.flush() { if !input(key) { return 0 } }
            }
            if let since = disconnectedAt {
                if Date().timeIntervalSince(since) > Self.reconnectLimit {
                    exitMessage = "hark chat: the daemon has been gone for \(Int(Self.reconnectLimit)) s; giving up"
                    return 69
                }
                if Date().timeIntervalSince(lastRedial) >= 1 { redial() }
            }
            reapFetches()
            let now = Date()
            let typing = typers.count
            typers = typers.filter { $0.value > now }
            if let t = typingSentAt, editor.isEmpty || now.timeIntervalSince(t) > 5, editor.isEmpty { sendTyping(false) }
            // Lay out and draw only when something may have changed (a key, an event, a resize,
            // a typing notice expiring, the connection) or once a second: an idle chat stays idle.
            let resized = screen.refreshSize()
            if n > 0 || resized || typers.count != typing || disconnectedAt != nil || now.timeIntervalSince(lastDraw) >= 1 {
                draw()
                lastDraw = now
            }
            markRead()
        }
    }

    func transcriptHeight(_ s: CursesScreen) -> Int { max(1, s.rows - 1 - inputLayout(s).rows.count) }

    func inputLayout(_ s: CursesScreen) -> InputLayout {
        InputLayout(text: editor.text, cursor: editor.cursor, width: s.columns, promptWidth: 2)
    }

    func draw() {
        guard let s = screen else { return }
        let input = inputLayout(s)
        // At most a third of the screen for the input: a window of rows around the cursor.
        let maxInput = max(1, s.rows / 3)
        var rows = input.rows
        var cursorRow = input.cursorRow
        if rows.count > maxInput {
            let first = min(max(0, cursorRow - maxInput + 1), rows.count - maxInput)
            rows = Array(rows[first..<(first + maxInput)]); cursorRow -= first
        }
        let height = max(1, s.rows - 1 - rows.count)
        let view = transcript.layout(width: s.columns, height: height)
        if view.atTop, !transcript.isFollowing || transcript.entries.count > height, !historyExhausted, disconnectedAt == nil,
           transcript.scrollOffset > 0 {
            pageBack(height: height)
        }
        if needsBell { s.bell(); needsBell = false }
        s.draw(transcript: view.rows, status: statusLine(), prompt: "> ", input: rows,
               cursorRow: cursorRow, cursorColumn: input.cursorColumn)
    }

    func statusLine() -> String {
        var parts = ["[\(TerminalText.neutralised(groupName))]"]
        if transcript.unreadCount > 0 { parts.append("\(transcript.unreadCount) unread") }
        if !transcript.isFollowing { parts.append("scrolled") }
        let typing = typers.keys.sorted()
        if !typing.isEmpty { parts.append(typing.joined(separator: ", ") + " typing…") }
        let others = elsewhere.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !others.isEmpty {
            parts.append(others.map { "\(TerminalText.neutralised(groupNames[$0.key] ?? String($0.key.prefix(8)))):\($0.value)" }.joined(separator: " "))
        }
        if disconnectedAt != nil { parts.append("daemon gone, reconnecting…") }
        return " " + parts.joined(separator: " │ ")
    }

    /// Loads the page before the oldest held message from the store (`log` with `before`).
    func pageBack(height: Int) {
        guard let oldest = transcript.oldestID else { historyExhausted = true; return }
        let pageSize = max(50, height * 2)
        do {
            let page = try client.call(ControlMethods.log, LogParams(group: groupID, limit: pageSize, before: oldest))
            let fresh = page.filter { $0.kind == "message" && views[$0.id] == nil }
            if fresh.isEmpty { historyExhausted = true; transcript.prepend([.notice("— the start of the conversation —")]); return }
            for m in fresh { views[m.id] = m; if let r = m.receipts { receiptMembers[m.id] = r.members } }
            transcript.prepend(fresh.map(entry))
        } catch {
            historyExhausted = true
        }
    }

    /// Moves the read marker over what has been on screen, at most once a second.
    func markRead() {
        guard disconnectedAt == nil, let through = transcript.newestSeen, through != lastReadThrough,
              Date().timeIntervalSince(lastReadAt) >= 1 else { return }
        lastReadAt = Date()
        if (try? client.call(ControlMethods.read, ReadParams(group: groupID, through: through))) != nil {
            lastReadThrough = through
        }
    }

    func sendTyping(_ active: Bool) {
        _ = try? client.call(ControlMethods.typing, TypingParams(group: groupID, active: active))
        typingSentAt = active ? Date() : nil
    }

    // MARK: connection

    func lost() {
        guard disconnectedAt == nil else { return }
        disconnectedAt = Date()
        lastRedial = Date()
        notice("— the daemon closed the connection; reconnecting —")
    }

    func redial() {
        lastRedial = Date()
        // A short bound: the screen does not freeze while a stopped daemon fails to answer.
        guard let c = try? ControlClient(socketPath: options.nodeHome.socketPath, timeoutMs: 1000),
              let l = try? ControlClient(socketPath: options.nodeHome.socketPath, timeoutMs: 1000) else { return }
        guard (try? l.call(ControlMethods.watch, WatchParams(group: nil))) != nil,
              let status = try? c.call(ControlMethods.status, NoParams()) else { return }
        c.setTimeout(ms: ControlClient.defaultTimeoutMs)
        l.setTimeout(ms: ControlClient.defaultTimeoutMs)
        client = c; live = l; me = status
        disconnectedAt = nil
        notice("— reconnected —")
        // Catch up on what arrived while away.
        if let page = try? client.call(ControlMethods.log, LogParams(group: groupID, limit: 200)) {
            for m in page where views[m.id] == nil { add(m, unread: m.author != me.peerId) }
        }
    }

    /// A request failed: a lost daemon starts reconnecting; anything else is shown.
    func report(_ error: Error, what: String) {
        if let e = error as? ControlClient.ClientError {
            switch e {
            case let .remote(body): notice("! \(what): \(TerminalText.neutralised(body.message))"); return
            default: lost()
            }
        }
        notice("! \(what): \(TerminalText.neutralised(String(describing: error)))")
    }
}
