/// How a span of a row is drawn.
public enum CellStyle: Equatable, Sendable {
    case plain, dim, notice, marker, mention, ticks
    /// A nick, coloured by a stable number 0…5 picked from the author's key.
    case nick(Int)
    case me
}

/// One screen row: spans of text with a style each. Their widths add up to at most the width
/// the row was laid out for.
public struct ChatRow: Equatable, Sendable {
    public var spans: [(text: String, style: CellStyle)]
    public init(_ spans: [(String, CellStyle)]) { self.spans = spans.map { (text: $0.0, style: $0.1) } }
    public var plainText: String { spans.map(\.text).joined() }
    public static func == (a: ChatRow, b: ChatRow) -> Bool {
        a.spans.count == b.spans.count && zip(a.spans, b.spans).allSatisfy { $0.text == $1.text && $0.style == $1.style }
    }
}

/// A line of the transcript: a message or a notice from the client.
public struct ChatEntry: Equatable, Sendable {
    /// Message ID (64 hex digits); nil for notices.
    public var id: String?
    /// Local time, e.g. "18:04" (display only).
    public var time: String
    /// Author as shown (already neutralised); empty for notices.
    public var author: String
    /// Colour number of the author's nick (0…5).
    public var colour: Int
    /// Text, already neutralised except for newlines.
    public var text: String
    public var mine: Bool
    /// An action (`/me waves`): drawn as "* name waves".
    public var action: Bool
    /// Mentions this user: drawn highlighted.
    public var mention: Bool
    /// For own messages: "" (none yet), "·" (sent), "✓" (delivered to all), "✓✓" (read by all).
    public var ticks: String
    public var edited: Bool

    public init(id: String?, time: String, author: String, colour: Int = 0, text: String, mine: Bool = false,
                action: Bool = false, mention: Bool = false, ticks: String = "", edited: Bool = false) {
        self.id = id; self.time = time; self.author = author; self.colour = colour; self.text = text; self.mine = mine
        self.action = action; self.mention = mention; self.ticks = ticks; self.edited = edited
    }

    public static func notice(_ text: String, time: String = "") -> ChatEntry {
        ChatEntry(id: nil, time: time, author: "", text: text)
    }

    /// The rows this entry takes at `width` columns: the time and name on the first, the text
    /// wrapped with continuation rows indented under the text when there is room (else by 2), and
    /// the ticks at the end of the last row.
    public func rows(width: Int) -> [ChatRow] {
        let width = max(8, width)
        if id == nil {
            return TextWrap.rows(text, firstWidth: width, width: width, indent: 2).enumerated().map { i, r in
                ChatRow([(i == 0 ? r : "  " + r, .notice)])
            }
        }
        let timePart = time.isEmpty ? "" : time + " "
        let namePart = action ? "* \(author) " : "\(author): "
        let nameStyle: CellStyle = mine ? .me : .nick(colour)
        let headWidth = TerminalText.width(of: timePart) + TerminalText.width(of: namePart)
        let indent = headWidth <= width / 3 ? headWidth : 2
        // The head itself may be wider than a row at 40 columns: truncate the name.
        var name = namePart
        if headWidth > width - 4 {
            name = TerminalText.prefix(namePart, fitting: max(1, width - 4 - TerminalText.width(of: timePart))).0
        }
        let firstWidth = width - TerminalText.width(of: timePart) - TerminalText.width(of: name)
        let body = text + (edited ? " (edited)" : "")
        var lines = TextWrap.rows(body, firstWidth: firstWidth, width: width, indent: indent)
        let textStyle: CellStyle = mention ? .mention : .plain
        var rows: [ChatRow] = []
        for (i, line) in lines.enumerated() {
            if i == 0 {
                rows.append(ChatRow([(timePart, .dim), (name, nameStyle), (line, textStyle)]))
            } else {
                rows.append(ChatRow([(String(repeating: " ", count: indent), .plain), (line, textStyle)]))
            }
        }
        if !ticks.isEmpty {
            let last = rows[rows.count - 1]
            let used = TerminalText.width(of: last.plainText)
            let tw = TerminalText.width(of: ticks) + 1
            if used + tw <= width {
                rows[rows.count - 1].spans.append((text: " " + ticks, style: .ticks))
            } else {
                lines.append(ticks)
                rows.append(ChatRow([(String(repeating: " ", count: indent), .plain), (ticks, .ticks)]))
            }
        }
        return rows
    }
}

/// The message list of one conversation: entries in order, a "new messages" marker, the scroll
/// position, and which messages have been on screen (so read markers move only for those).
/// A pure model: `layout` says what to draw and records what became visible. Not thread-safe.
public struct ChatTranscript: Sendable {
    /// Entries kept: the newest 5000 (older ones are paged back in from the store).
    public static let entryLimit = 5000

    public private(set) var entries: [ChatEntry] = []
    /// Messages by others not yet on screen.
    public private(set) var unread: Set<String> = []
    /// The "new messages" marker goes before this message (the first unread when it was set).
    public private(set) var markerBefore: String?
    /// Rows scrolled back from the bottom (0: following new messages).
    public private(set) var scrollOffset = 0
    /// The newest message by another member that has been on screen (for `read`).
    public private(set) var newestSeen: String?
    /// Every message ID that has been fully on screen.
    private var seen: Set<String> = []
    /// The width of the last layout (rows of new entries are counted at it while scrolled back).
    private var lastWidth = 80
    /// Whether `layout` ran: before it, messages are loaded history, not live arrivals.
    private var laidOut = false

    public init() {}

    public var unreadCount: Int { unread.count }
    public var isFollowing: Bool { scrollOffset == 0 }
    public var oldestID: String? { entries.first(where: { $0.id != nil })?.id }

    /// Adds a message or notice at the end, or replaces a message already held (same ID: an
    /// update such as ticks or an edit, drawn in place). `unread`: a message by another member
    /// that the user has not seen. Returns true when it was new.
    @discardableResult
    public mutating func append(_ entry: ChatEntry, unread isUnread: Bool = false) -> Bool {
        if let id = entry.id, let i = entries.firstIndex(where: { $0.id == id }) {
            entries[i] = entry
            return false
        }
        entries.append(entry)
        // While following the bottom, a new message is on screen at the next frame: no marker.
        let following = laidOut && scrollOffset == 0
        if let id = entry.id, isUnread, !seen.contains(id), !following {
            if unread.isEmpty {
                if markerBefore != nil, scrollOffset > 0 { scrollOffset -= 1 }   // the old marker row goes
                markerBefore = id
                if scrollOffset > 0 { scrollOffset += 1 }
            }
            unread.insert(id)
        }
        // Scrolled back, the view stays on the same rows while messages arrive below it.
        if scrollOffset > 0 { scrollOffset += entry.rows(width: lastWidth).count }
        if entries.count > Self.entryLimit {
            let drop = entries.count - Self.entryLimit
            for e in entries.prefix(drop) { if let id = e.id { unread.remove(id); seen.remove(id) } }
            entries.removeFirst(drop)
        }
        return true
    }

    /// Puts earlier messages (a page from the store, oldest first) before the ones held; the
    /// view keeps showing the same rows.
    public mutating func prepend(_ older: [ChatEntry]) {
        let known = Set(entries.compactMap(\.id))
        let fresh = older.filter { $0.id.map { !known.contains($0) } ?? true }
        entries.insert(contentsOf: fresh, at: 0)
    }

    /// Changes a held message (ticks, edit, reaction text); false when it is not held.
    @discardableResult
    public mutating func update(_ id: String, _ change: (inout ChatEntry) -> Void) -> Bool {
        guard let i = entries.firstIndex(where: { $0.id == id }) else { return false }
        change(&entries[i])
        return true
    }

    public mutating func remove(_ id: String) {
        entries.removeAll { $0.id == id }
        unread.remove(id)
    }

    /// Forgets the marker (e.g. after the user sent a message: everything above is answered).
    public mutating func clearMarker() { markerBefore = nil }

    /// Scrolls so that the "new messages" marker is the top row (or as near as the held rows
    /// allow); nothing changes when there is no marker.
    public mutating func scrollToMarker(width: Int, height: Int) {
        guard let m = markerBefore, let i = entries.firstIndex(where: { $0.id == m }) else { return }
        var below = 1
        for e in entries[i...] { below += e.rows(width: width).count }
        scrollOffset = max(0, below - max(1, height))
    }

    public mutating func scroll(by rows: Int) { scrollOffset = max(0, scrollOffset + rows) }
    public mutating func scrollToBottom() { scrollOffset = 0 }

    /// What a layout shows.
    public struct Screen: Equatable, Sendable {
        public var rows: [ChatRow]
        /// The top of the held entries is on screen (the caller may page in older ones).
        public var atTop: Bool
    }

    /// The rows to draw in a `width` × `height` area at the current scroll position (clamped),
    /// bottom-aligned. Messages wholly on screen count as seen from now on: they leave `unread`.
    /// At the bottom (following), every message held counts as seen: a burst that scrolled past
    /// between two frames went by in front of the user, as in any chat client.
    public mutating func layout(width: Int, height: Int) -> Screen {
        lastWidth = width
        laidOut = true
        var all: [ChatRow] = []
        var spans: [(id: String?, from: Int, to: Int)] = []
        let markerRow = ChatRow([(Self.markerText(width: width), .marker)])
        for e in entries {
            if let m = markerBefore, e.id == m { all.append(markerRow) }
            let r = e.rows(width: width)
            spans.append((e.id, all.count, all.count + r.count))
            all.append(contentsOf: r)
        }
        let height = max(1, height)
        let maxOffset = max(0, all.count - height)
        scrollOffset = min(scrollOffset, maxOffset)
        let end = all.count - scrollOffset
        let start = max(0, end - height)
        for s in spans where (s.from >= start || scrollOffset == 0) && s.to <= end {
            guard let id = s.id else { continue }
            seen.insert(id)
            unread.remove(id)
        }
        newestSeen = entries.last(where: { e in !e.mine && (e.id.map { seen.contains($0) } ?? false) })?.id
        var rows = Array(all[start..<end])
        if rows.count < height { rows = Array(repeating: ChatRow([]), count: height - rows.count) + rows }
        return Screen(rows: rows, atTop: start == 0)
    }

    static func markerText(width: Int) -> String {
        let label = " new messages "
        let side = max(0, (width - label.count) / 2)
        return String(repeating: "─", count: side) + label + String(repeating: "─", count: max(0, width - side - label.count))
    }
}
