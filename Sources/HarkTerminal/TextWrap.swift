/// Lays text out in terminal rows by display width (`TerminalText.width`). Pure; thread-safe.
public enum TextWrap {
    /// `text` (which may hold newlines) broken into rows of at most `width` columns. The first
    /// row has `firstWidth` columns free (a prefix such as the time and name takes the rest);
    /// every other row has `width - indent` (the caller draws `indent` spaces before it). Breaks
    /// after a space when a word would not fit, inside a word only when it is longer than a row.
    /// A grapheme cluster is never split. Always returns at least one row.
    public static func rows(_ text: String, firstWidth: Int, width: Int, indent: Int) -> [String] {
        let rest = max(1, width - indent)
        var rows: [String] = []
        var avail = max(1, firstWidth)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { avail = rest }
            var current = ""
            var used = 0
            var word = ""
            var wordWidth = 0
            func flushWord() {
                // Place `word` (which may end in a space) on the current row or the next.
                if used + wordWidth > avail, used > 0 {
                    rows.append(current); current = ""; used = 0; avail = rest
                    if word.first == " " { word.removeFirst(); wordWidth -= 1 }
                }
                for c in word {
                    let cw = TerminalText.width(of: c)
                    if used + cw > avail, used > 0 {
                        rows.append(current); current = ""; used = 0; avail = rest
                        if c == " " { continue }
                    }
                    current.append(c); used += cw
                }
                word = ""; wordWidth = 0
            }
            for c in line {
                word.append(c); wordWidth += TerminalText.width(of: c)
                if c == " " { flushWord() }
            }
            flushWord()
            rows.append(current)
            avail = rest
        }
        return rows.isEmpty ? [""] : rows
    }
}

/// Where the input line's text and cursor go on screen: hard-wrapped by cell (no word wrap, so
/// every cursor position has one place), newlines start a row. Pure.
public struct InputLayout: Equatable, Sendable {
    /// Rows of text, without the prompt (row 0 follows the prompt, others follow an indent of
    /// the prompt's width).
    public var rows: [String]
    /// Cursor position: row index and column within the row's text area (0-based).
    public var cursorRow: Int
    public var cursorColumn: Int

    /// Lays `text` out with `width - promptWidth` columns per row and the cursor before the
    /// grapheme at index `cursor` (0…count).
    public init(text: [Character], cursor: Int, width: Int, promptWidth: Int) {
        let avail = max(1, width - promptWidth)
        var rows: [String] = [""]
        var used = 0
        var cRow = 0, cCol = 0
        for (i, c) in text.enumerated() {
            if i == cursor { cRow = rows.count - 1; cCol = used }
            if c == "\n" { rows.append(""); used = 0; continue }
            let cw = TerminalText.width(of: c)
            if used + cw > avail, used > 0 { rows.append(""); used = 0 }
            if i == cursor { cRow = rows.count - 1; cCol = used }
            rows[rows.count - 1].append(c); used += cw
        }
        if cursor >= text.count {
            if used >= avail { rows.append(""); used = 0 }
            cRow = rows.count - 1; cCol = used
        }
        self.rows = rows; self.cursorRow = cRow; self.cursorColumn = cCol
    }
}
