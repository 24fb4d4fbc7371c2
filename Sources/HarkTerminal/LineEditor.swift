/// The chat's input: a readline-style editor over grapheme clusters, with multi-line text and a
/// history of submitted entries. A pure state machine (no terminal, no clock). Not thread-safe.
///
/// Keys: Left/Right, Home/End (start and end of the current line, Ctrl-A/Ctrl-E too), word
/// moves (Ctrl-Left/Right, Alt-b/f), Backspace/Delete by grapheme, Ctrl-U (delete to the start
/// of the line), Ctrl-K (to the end), Ctrl-W (the word before the cursor), Up/Down through the
/// history (in multi-line text: between lines first), Ctrl-J or Alt-Enter for a line break, a
/// bracketed paste inserted as it is, Enter to submit.
public struct LineEditor: Equatable, Sendable {
    /// Submitted entries kept for Up/Down: the last 500.
    public static let historyLimit = 500

    public private(set) var text: [Character] = []
    /// Cursor position: before the grapheme at this index (0…text.count).
    public private(set) var cursor = 0
    public private(set) var history: [String] = []
    /// Index into `history` while browsing it (nil: editing a new entry).
    private var browsing: Int?
    /// The unsent entry put aside while browsing the history.
    private var draft: [Character] = []

    public init() {}

    public var string: String { String(text) }
    public var isEmpty: Bool { text.isEmpty }

    /// What a key did.
    public enum Outcome: Equatable, Sendable {
        case edited        // the text or cursor changed (or nothing did)
        case submit(String)
        case unhandled     // not an editing key (the caller may use it)
    }

    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case let .text(s): insert(s)
        case let .paste(s): insert(s)
        case .newline: insert("\n")
        case .enter:
            let s = string
            if s.contains(where: { !$0.isWhitespace }) { remember(s) }
            text = []; cursor = 0; browsing = nil; draft = []
            return .submit(s)
        case .backspace:
            if cursor > 0 { text.remove(at: cursor - 1); cursor -= 1 }
        case .delete, .control("d"):
            if cursor < text.count { text.remove(at: cursor) }
        case .left, .control("b"): cursor = max(0, cursor - 1)
        case .right, .control("f"): cursor = min(text.count, cursor + 1)
        case .home, .control("a"): cursor = lineStart(cursor)
        case .end, .control("e"): cursor = lineEnd(cursor)
        case .wordLeft: cursor = wordStart(before: cursor)
        case .wordRight: cursor = wordEnd(after: cursor)
        case .control("u"):
            let s = lineStart(cursor); text.removeSubrange(s..<cursor); cursor = s
        case .control("k"):
            let e = lineEnd(cursor); text.removeSubrange(cursor..<e)
        case .control("w"):
            let s = wordStart(before: cursor); text.removeSubrange(s..<cursor); cursor = s
        case .up:
            if lineStart(cursor) > 0 { moveLine(-1) } else { browse(-1) }
        case .down:
            if lineEnd(cursor) < text.count { moveLine(1) } else { browse(1) }
        default: return .unhandled
        }
        return .edited
    }

    /// Replaces the text (e.g. after Tab completion) and puts the cursor at its end.
    public mutating func set(_ s: String) { text = Array(s); cursor = text.count }

    private mutating func insert(_ s: String) {
        let chars = Array(s.replacingCRLF())
        text.insert(contentsOf: chars, at: cursor)
        // Inserting can merge graphemes (e.g. a combining mark): recount from the string.
        let before = String(text[..<(cursor + chars.count)]).count
        text = Array(String(text)); cursor = min(before, text.count)
    }

    private mutating func remember(_ s: String) {
        if history.last != s { history.append(s) }
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
    }

    private mutating func browse(_ step: Int) {
        guard !history.isEmpty else { return }
        if browsing == nil {
            guard step < 0 else { return }
            draft = text; browsing = history.count
        }
        let next = (browsing ?? history.count) + step
        if next < 0 { return }
        if next >= history.count {
            browsing = nil; text = draft; cursor = text.count; return
        }
        browsing = next; text = Array(history[next]); cursor = text.count
    }

    private mutating func moveLine(_ step: Int) {
        let column = cursor - lineStart(cursor)
        if step < 0 {
            let prevEnd = lineStart(cursor) - 1
            let prevStart = lineStart(prevEnd)
            cursor = min(prevStart + column, prevEnd)
        } else {
            let nextStart = lineEnd(cursor) + 1
            cursor = min(nextStart + column, lineEnd(nextStart))
        }
    }

    private func lineStart(_ i: Int) -> Int {
        var j = i
        while j > 0, text[j - 1] != "\n" { j -= 1 }
        return j
    }

    private func lineEnd(_ i: Int) -> Int {
        var j = i
        while j < text.count, text[j] != "\n" { j += 1 }
        return j
    }

    private func isWord(_ c: Character) -> Bool { !(c.isWhitespace || c.isPunctuation) }

    private func wordStart(before i: Int) -> Int {
        var j = i
        while j > 0, !isWord(text[j - 1]) { j -= 1 }
        while j > 0, isWord(text[j - 1]) { j -= 1 }
        return j
    }

    private func wordEnd(after i: Int) -> Int {
        var j = i
        while j < text.count, !isWord(text[j]) { j += 1 }
        while j < text.count, isWord(text[j]) { j += 1 }
        return j
    }
}
