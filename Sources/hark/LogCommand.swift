import ArgumentParser
import HarkControl

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show a group's messages in their total order.",
        discussion: """
            Messages are ordered by (Lamport timestamp, event ID), the same on every replica that \
            holds the same events; the time shown is the author's clock and is for display only.
            With --json, one object per line with id, group, author, author_name, \
            author_fingerprint, seq, lamport, wall_ms, kind, text, settled, implausible_time, \
            author_equivocated, edited, reactions and, for your own messages, receipts {members, \
            delivered, read} (docs/CONTROL.md). Your own messages end with · sent, ✓ N/M delivered, \
            ✓ delivered (to every member) or ✓✓ read (by every member). Each text line starts with \
            the message's short ID, which edit, delete and react accept.
            """ + "\n\n" + ExitDoc.text([67: "no such group", 69: "no daemon runs for the home, or it stopped during --follow"])
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Flag(name: .long, help: "Print one JSON object per message (NDJSON).") var json = false
    @Flag(name: .shortAndLong, help: "Keep printing new messages as they arrive.") var follow = false
    @Option(name: .shortAndLong, help: "Show only the last N messages.") var limit: Int?
    @Flag(name: .long, help: "Print every event ID of the group (all kinds) in total order, one per line.") var ids = false
    @Flag(name: .long, help: "Draw the causal graph of the group's events, newest first.") var graph = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if ids && graph { throw ValidationError("--ids and --graph cannot be combined") }
        if (ids || graph) && follow { throw ValidationError("--follow works only with the message listing") }
    }

    func run() throws {
        let client = try connect(options)
        if ids {
            for id in try call(client, "log.ids", GroupRefParams(group: group), as: [String].self) { printOut(id) }
            return
        }
        if graph {
            let rows = try call(client, "log.graph", GroupRefParams(group: group), as: [GraphRow].self)
            if json { for r in rows { try printJSON(r) } } else { for line in GraphDrawing.lines(rows) { printOut(line) } }
            return
        }
        if follow {
            // Subscribe first so nothing falls between the history and the stream.
            let live = try connect(options)
            struct Following: Codable, Sendable { var following: Bool }
            _ = try call(live, "log.follow", GroupRefParams(group: group), as: Following.self)
            let history = try call(client, "log", LogParams(group: group, limit: limit), as: [MessageView].self)
            var shown = Set(history.map(\.id))
            for m in history { try show(m) }
            while let line = try live.nextEvent(as: MessageView.self) {
                guard line.data.kind == "message", shown.insert(line.data.id).inserted else { continue }
                try show(line.data)
            }
            throw fail("the daemon closed the stream (it stopped or restarted)", Exit.unavailable)
        }
        for m in try call(client, "log", LogParams(group: group, limit: limit), as: [MessageView].self) { try show(m) }
    }

    func show(_ m: MessageView) throws {
        if json { try printJSON(m); return }
        var line = "\(m.id.prefix(8))  \(formatTime(ms: m.wallMs))\(m.implausibleTime ? "?" : " ") \(authorLabel(m))"
        if m.authorEquivocated { line += " [forked]" }
        line += m.unreadable ? "  [cannot decrypt: no key for it here]" : "  \(terminalSafe(m.text, keepNewlines: true))"
        if m.edited { line += "  (edited)" }
        if let r = m.receipts, r.members > 0 {
            line += r.read == r.members ? "  ✓✓ read" : r.delivered == r.members ? "  ✓ delivered" : r.delivered > 0 ? "  ✓ \(r.delivered)/\(r.members)" : "  · sent"
        }
        if !m.reactions.isEmpty { line += "  " + m.reactions.map { "\(terminalSafe($0.emoji))\($0.count > 1 ? "×\($0.count)" : "")" }.joined(separator: " ") }
        printOut(line)
    }
}
