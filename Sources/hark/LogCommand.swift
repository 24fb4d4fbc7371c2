import ArgumentParser
import HarkControl
import HarkTerminal

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show a group's messages in their total order.",
        discussion: """
            Messages are ordered by (Lamport timestamp, event ID), the same on every replica that \
            holds the same events; the time shown is the author's clock and is for display only.
            With --json, one object per line with id, group, author, author_name, \
            author_fingerprint, seq, lamport, wall_ms, kind, text, settled, implausible_time, \
            author_equivocated, edited, reactions, mentions, mentions_me, for a reply reply_to and \
            reply {state, author_name, text}, and, for your own messages, receipts {members, \
            delivered, read} (docs/CONTROL.md). A reply is shown under a one-line quote of the \
            message it answers (↪ author: text, or ↪ deleted message, or ↪ a message not here yet \
            until it arrives). A message that mentions you ends with « mentions you.
            A file offer is a line of its own in its place: [file] names, size and its state here \
            (offered, fetching, partial, complete, mine) with the fetch command; with --json it has \
            kind "file_offer" and a file object as hark files --json prints. Offers do not count \
            toward --limit. Your own messages end with · sent, ✓ N/M delivered, \
            ✓ delivered (to every member) or ✓✓ read (by every member). Each text line starts with \
            the message's short ID, which edit, delete, react, --before and --after accept.
            Every read is a page of the group's read model (docs/HISTORY.md): --limit N, with \
            --before ID (the N messages just before it) or --after ID (the N just after it), costs \
            about the same with a million messages as with ten. Without --limit, log prints every \
            message; --follow starts from the last 20 unless --limit or --after says otherwise.
            """ + "\n\n" + ExitDoc.text([67: "no such group or message", 69: "no daemon runs and the store needs one to upgrade it, or the daemon stopped during --follow"], reading: true)
    )

    @OptionGroup var options: HomeOptions
    @Argument(help: "Group name or ID.", completion: LiveCompletion.groups) var group: String
    @Flag(name: .long, help: "Print one JSON object per message (NDJSON).") var json = false
    @Flag(name: .shortAndLong, help: "Keep printing new messages as they arrive.") var follow = false
    @Option(name: .shortAndLong, help: "Show only the last N messages (with --after: the first N; with --follow: 20 unless given).") var limit: Int?
    @Option(name: .long, help: ArgumentHelp("Show only messages before this one (ID prefix of 8+ hex digits).", valueName: "ID")) var before: String?
    @Option(name: .long, help: ArgumentHelp("Show only messages after this one (ID prefix of 8+ hex digits).", valueName: "ID")) var after: String?
    @Flag(name: .long, help: "Print every event ID of the group (all kinds) in total order, one per line.") var ids = false
    @Flag(name: .long, help: "Draw the causal graph of the group's events, newest first.") var graph = false

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if ids && graph { throw ValidationError("--ids and --graph cannot be combined") }
        if (ids || graph) && follow { throw ValidationError("--follow works only with the message listing") }
        if before != nil && after != nil { throw ValidationError("--before and --after cannot be combined") }
        if (ids || graph) && (before != nil || after != nil) { throw ValidationError("--before and --after work only with the message listing") }
        if follow && before != nil { throw ValidationError("--follow starts from the newest messages; --before cannot be combined with it") }
    }

    func run() throws {
        TerminalText.useUTF8Locale()   // column widths of names for the continuation indent
        // The plain listing is a read: without a daemon it comes from the store (LocalReader).
        let client = try (ids || graph || follow) ? connect(options) : connectReading(options)
        if ids {
            for id in try call(client, ControlMethods.logIds, GroupRefParams(group: group)) { printOut(id) }
            return
        }
        if graph {
            let rows = try call(client, ControlMethods.logGraph, GroupRefParams(group: group))
            if json { for r in rows { try printJSON(r) } } else { for line in GraphDrawing.lines(rows) { printOut(line) } }
            return
        }
        if follow {
            // Subscribe first so nothing falls between the history and the stream.
            let live = try connect(options)
            _ = try call(live, ControlMethods.logFollow, GroupRefParams(group: group))
            let history = try call(client, ControlMethods.log, LogParams(group: group, limit: limit ?? (after == nil ? 20 : nil), after: after, files: true))
            var shown = Set(history.map(\.id))
            for m in history { try show(m) }
            func next() throws -> EventLine<MessageView>? {
                do { return try live.nextEvent(as: MessageView.self) } catch { throw streamError(error, "log stream") }
            }
            while let line = try next() {
                guard line.data.kind == "message", shown.insert(line.data.id).inserted else { continue }
                try show(line.data)
            }
            throw fail("the daemon closed the stream (it stopped or restarted)", Exit.unavailable)
        }
        for m in try call(client, ControlMethods.log, LogParams(group: group, limit: limit, before: before, after: after, files: true)) {
            try show(m)
        }
    }

    func show(_ m: MessageView) throws { try Self.show(m, json: json) }

    /// Prints one message as log does; `prefix` starts the line (search names the group there).
    static func show(_ m: MessageView, json: Bool, prefix: String = "") throws {
        if json { try printJSON(m); return }
        var line = "\(prefix)\(m.id.prefix(8))  \(formatTime(ms: m.wallMs))\(m.implausibleTime ? "?" : " ") \(authorLabel(m))"
        if m.authorEquivocated { line += " [forked]" }
        line += "  "
        if let f = m.file {
            let names = f.names.map { terminalSafe($0) }.joined(separator: ", ")
            line += "[file] \(names)\(f.files > f.names.count ? " (\(f.files) files)" : "") \(formatBytes(f.size)), \(f.state) — hark fetch \(f.fileId.prefix(12))"
            if let note = f.text, !note.isEmpty { line += ": " + terminalSafe(note) }
            printOut(line)
            return
        }
        // Continuation lines of a multi-line message start under its first line's text.
        let indent = "\n" + String(repeating: " ", count: TerminalText.width(of: line))
        line += m.unreadable ? "[cannot decrypt: no key for it here]"
                             : terminalSafe(m.text, keepNewlines: true).replacingOccurrences(of: "\n", with: indent)
        if m.edited { line += "  (edited)" }
        if let r = m.receipts, r.members > 0 {
            line += r.read == r.members ? "  ✓✓ read" : r.delivered == r.members ? "  ✓ delivered" : r.delivered > 0 ? "  ✓ \(r.delivered)/\(r.members)" : "  · sent"
        }
        if !m.reactions.isEmpty { line += "  " + m.reactions.map { "\(terminalSafe($0.emoji))\($0.count > 1 ? "×\($0.count)" : "")" }.joined(separator: " ") }
        if m.mentionsMe { line += ConversationText.mentionMark }
        // A reply: the answered message as a one-line quote, above, under the text column.
        if let q = m.reply { line = String(indent.dropFirst()) + ConversationText.quote(q) + "\n" + line }
        printOut(line)
    }
}
