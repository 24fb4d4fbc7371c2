import CNcurses
#if canImport(Glibc)
import Glibc
#endif

/// The terminal, drawn through ncursesw: the only code that talks to curses. It draws what the
/// pure types lay out (`ChatRow`s, the input rows and cursor); it never reads keys (the caller
/// reads standard input and decodes with `KeyDecoder`). Bracketed paste (xterm mode 2004) is
/// switched on while it is open. Not thread-safe: one screen per process, on one thread.
public final class CursesScreen {
    public enum ScreenError: Error, CustomStringConvertible {
        case noTerminal(String)
        public var description: String {
            switch self { case let .noTerminal(t): return "cannot use the terminal \(t.isEmpty ? "(TERM is not set)" : "\"\(t)\"") for full-screen chat" }
        }
    }

    private var screen: OpaquePointer?
    private var colours = false
    public private(set) var rows: Int = 24
    public private(set) var columns: Int = 80
    private var open = false

    /// Takes over the terminal on standard input/output (curses `newterm`).
    /// - Throws: `ScreenError.noTerminal` when curses does not know `TERM`.
    public init() throws {
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        guard !term.isEmpty, let s = newterm(nil, hark_stdout(), hark_stdin()) else { throw ScreenError.noTerminal(term) }
        screen = s
        set_term(s)
        open = true
        raw(); noecho(); nonl()
        intrflush(hark_stdscr(), false)
        if has_colors() {
            start_color()
            use_default_colors()
            let palette: [Int16] = [Int16(COLOR_RED), Int16(COLOR_GREEN), Int16(COLOR_YELLOW), Int16(COLOR_BLUE),
                                    Int16(COLOR_MAGENTA), Int16(COLOR_CYAN)]
            for (i, c) in palette.enumerated() { init_pair(Int16(1 + i), c, -1) }
            init_pair(7, Int16(COLOR_CYAN), -1)      // notices
            init_pair(8, Int16(COLOR_RED), -1)       // new-messages marker
            init_pair(9, Int16(COLOR_GREEN), -1)     // ticks
            init_pair(10, Int16(COLOR_YELLOW), -1)   // mentions
            colours = true
        }
        writeRaw("\u{1B}[?2004h")
        refreshSize()
    }

    deinit { close() }

    /// Gives the terminal back (modes, cursor, main screen).
    public func close() {
        guard open else { return }
        open = false
        endwin()
        writeRaw("\u{1B}[?2004l")
        if let s = screen { delscreen(s) }
        screen = nil
    }

    private func writeRaw(_ s: String) {
        fflush(hark_stdout())
        let bytes = Array(s.utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }

    /// Rereads the window size (TIOCGWINSZ) and resizes curses when it changed. Returns true on a change.
    @discardableResult
    public func refreshSize() -> Bool {
        var ws = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 else {
            rows = Int(hark_lines()); columns = Int(hark_cols()); return false
        }
        let (r, c) = (Int(ws.ws_row), Int(ws.ws_col))
        if r == rows && c == columns && Int(hark_lines()) == r && Int(hark_cols()) == c { return false }
        resizeterm(Int32(r), Int32(c))
        rows = r; columns = c
        return true
    }

    /// Draws one frame: `transcript` rows from the top, `status` in reverse video, then the
    /// input rows (`prompt` before the first, spaces of its width before the others), and puts
    /// the cursor at (`cursorRow`, `cursorColumn`) of the input area.
    public func draw(transcript: [ChatRow], status: String, prompt: String, input: [String],
                     cursorRow: Int, cursorColumn: Int) {
        let frame = FrameKey(transcript: transcript, status: status, prompt: prompt, input: input, cursorRow: cursorRow,
                             cursorColumn: cursorColumn, rows: rows, columns: columns)
        if frame == lastFrame { return }
        lastFrame = frame
        // Rows that held overlays are repainted whole: ncurses believes they hold spaces there.
        for y in overlayRows { wredrawln(hark_stdscr(), y, 1) }
        overlays = []
        werase(hark_stdscr())
        var y: Int32 = 0
        for row in transcript.prefix(max(0, rows - 1 - input.count)) {
            wmove(hark_stdscr(), y, 0)
            for span in row.spans { put(span.text, attributes(span.style)) }
            y += 1
        }
        let statusY = Int32(max(0, rows - 1 - input.count))
        wmove(hark_stdscr(), statusY, 0)
        let (fitted, used) = TerminalText.prefix(status, fitting: columns)
        put(fitted + String(repeating: " ", count: max(0, columns - used)), hark_a_reverse())
        let promptWidth = TerminalText.width(of: prompt)
        for (i, line) in input.enumerated() {
            let iy = statusY + 1 + Int32(i)
            guard iy < Int32(rows) else { break }
            wmove(hark_stdscr(), iy, 0)
            put(i == 0 ? prompt : String(repeating: " ", count: promptWidth), hark_a_bold())
            put(line, 0)
        }
        let cy = min(Int32(rows - 1), statusY + 1 + Int32(cursorRow)), cx = Int32(min(columns - 1, promptWidth + cursorColumn))
        wmove(hark_stdscr(), cy, cx)
        wrefresh(hark_stdscr())
        drawOverlays(cursorY: cy, cursorX: cx)
    }

    /// What the last frame showed: an unchanged frame is not drawn again.
    private struct FrameKey: Equatable {
        var transcript: [ChatRow]; var status: String; var prompt: String; var input: [String]
        var cursorRow: Int; var cursorColumn: Int; var rows: Int; var columns: Int
    }
    private var lastFrame: FrameKey?

    /// Rings the terminal bell (or flashes where there is none).
    public func bell() { beep() }

    /// Composite clusters drawn this frame: row, column and the cluster.
    private var overlays: [(y: Int32, x: Int32, text: String)] = []
    /// Rows that held overlays in the previous frame (repainted whole, so no stale glyph stays).
    private var overlayRows: Set<Int32> = []

    /// Writes `text` through ncurses, except composite grapheme clusters (emoji ZWJ sequences,
    /// skin tones, flags, variation selectors): for those ncurses gets spaces of the width
    /// `TerminalText` reserves, and `drawOverlays` writes the cluster itself over them after the
    /// refresh, so ncurses' idea of the cursor never depends on how the terminal joins emoji.
    private func put(_ text: String, _ attrs: attr_t) {
        guard !text.isEmpty else { return }
        wattr_on(hark_stdscr(), attrs, nil)
        var plain = ""
        func flush() {
            guard !plain.isEmpty else { return }
            var wide = plain.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
            wide.append(0)
            _ = wide.withUnsafeBufferPointer { waddwstr(hark_stdscr(), $0.baseAddress) }
            plain = ""
        }
        for c in text {
            if TerminalText.isComposite(c) {
                flush()
                let w = TerminalText.width(of: c)
                let y = getcury(hark_stdscr()), x = getcurx(hark_stdscr())
                guard Int(x) + w <= columns else { break }
                overlays.append((y, x, String(c)))
                plain = String(repeating: " ", count: w)
                flush()
            } else {
                plain.append(c)
            }
        }
        flush()
        wattr_off(hark_stdscr(), attrs, nil)
    }

    /// Writes this frame's composite clusters at their reserved cells, then puts the cursor
    /// back where ncurses left it (ncurses has reset the attributes by then).
    private func drawOverlays(cursorY: Int32, cursorX: Int32) {
        overlayRows = Set(overlays.map(\.y))
        guard !overlays.isEmpty else { return }
        var out = ""
        for o in overlays { out += "\u{1B}[\(o.y + 1);\(o.x + 1)H" + o.text }
        out += "\u{1B}[\(cursorY + 1);\(cursorX + 1)H"
        writeRaw(out)
    }

    private func attributes(_ style: CellStyle) -> attr_t {
        func pair(_ n: Int) -> attr_t { colours ? hark_color_pair(Int32(n)) : 0 }
        switch style {
        case .plain: return 0
        case .dim: return hark_a_dim()
        case .notice: return pair(7)
        case .marker: return pair(8) | hark_a_bold()
        case .mention: return pair(10) | hark_a_bold()
        case .ticks: return pair(9)
        case let .nick(n): return pair(1 + (n % 6)) | hark_a_bold()
        case .me: return hark_a_bold()
        }
    }
}
