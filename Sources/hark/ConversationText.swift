import HarkControl
import HarkTerminal

/// How replies and mentions read in `log`, `search` and `chat`: plain text, safe for a terminal.
enum ConversationText {
    /// Columns a quoted text is cut to (then "…").
    static let quoteColumns = 60

    /// The one-line quote of the message a reply answers, e.g. `↪ alice: can you deploy?`.
    static func quote(_ q: ReplyQuote) -> String {
        switch q.state {
        case "message":
            let first = terminalSafe(q.text ?? "").split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let (cut, _) = TerminalText.prefix(first, fitting: quoteColumns)
            let more = cut.count < first.count || (q.text ?? "").contains("\n")
            return "↪ \(terminalSafe(q.authorName ?? "unknown")): \(cut)\(more ? "…" : "")"
        case "deleted": return "↪ deleted message"
        case "unreadable": return "↪ a message this node cannot decrypt"
        default: return "↪ a message not here yet"
        }
    }

    /// What a line that mentions this node's user ends with.
    static let mentionMark = "  « mentions you"
}
