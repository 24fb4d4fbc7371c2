/// A key or paste read from a terminal in raw mode.
public enum Key: Equatable, Sendable {
    case text(String)          // typed printable text (one or more graphemes)
    case paste(String)         // a bracketed paste (xterm mode 2004), line ends as "\n"
    case enter                 // CR
    case newline               // Ctrl-J or Alt-Enter: a line break inside the message
    case backspace, delete
    case left, right, up, down, home, end, pageUp, pageDown
    case wordLeft, wordRight   // Ctrl-Left/Right, Alt-b/f
    case tab
    case control(Character)    // Ctrl-A…Z other than those above, as the letter ("a"…"z")
    case alt(Character)        // Alt with another key
}

/// Turns the bytes a terminal sends into `Key`s: UTF-8, CSI and SS3 sequences of xterm and
/// its kin (arrows, Home/End in their `[H`/`[1~`/`OH` forms, modifiers), and bracketed paste
/// (`ESC [200~` … `ESC [201~`). A pure state machine: feed bytes as they come; call `flush()`
/// when no byte came for about 50 ms, so a lone Esc is not held forever. Pastes are bounded
/// at `maxPasteBytes` (further bytes are dropped until the paste ends). Not thread-safe.
public struct KeyDecoder: Sendable {
    /// Longest paste kept: 64 KiB (a message's text holds at most 60000 bytes).
    public static let maxPasteBytes = 65_536

    private var pending: [UInt8] = []
    private var pasting = false
    private var paste: [UInt8] = []

    public init() {}

    /// Decodes what it can of `bytes` (plus any bytes held from before).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Key] {
        pending.append(contentsOf: bytes)
        var keys: [Key] = []
        while !pending.isEmpty {
            if pasting {
                guard consumePaste(into: &keys) else { break }
                continue
            }
            guard let (key, used) = decodeOne() else { break }
            pending.removeFirst(used)
            if let key { keys.append(key) }
        }
        return merge(keys)
    }

    /// No byte arrived for a while: a held Esc (or broken sequence) is given up as Esc alone.
    public mutating func flush() -> [Key] {
        if pasting { return [] }
        defer { pending = [] }
        return pending == [0x1B] ? [.control("[")] : []
    }

    /// Adjacent `.text` keys joined, so a fast typist's burst is one insert.
    private func merge(_ keys: [Key]) -> [Key] {
        var out: [Key] = []
        for k in keys {
            if case let .text(b) = k, case let .text(a)? = out.last { out[out.count - 1] = .text(a + b) } else { out.append(k) }
        }
        return out
    }

    private static let pasteEnd: [UInt8] = [0x1B, 0x5B, 0x32, 0x30, 0x31, 0x7E]  // ESC [201~

    private mutating func consumePaste(into keys: inout [Key]) -> Bool {
        if let r = pending.firstRange(of: Self.pasteEnd) {
            appendPaste(pending[..<r.lowerBound])
            pending.removeSubrange(..<r.upperBound)
            pasting = false
            var text = String(decoding: paste, as: UTF8.self)
            text = text.replacingCRLF()
            keys.append(.paste(text))
            paste = []
            return true
        }
        // Keep a tail that could be the start of the end marker.
        let keep = min(pending.count, Self.pasteEnd.count - 1)
        appendPaste(pending[..<(pending.count - keep)])
        pending.removeFirst(pending.count - keep)
        return false
    }

    private mutating func appendPaste(_ bytes: ArraySlice<UInt8>) {
        let room = Self.maxPasteBytes - paste.count
        if room > 0 { paste.append(contentsOf: bytes.prefix(room)) }
    }

    /// One key from the front of `pending`: nil when more bytes are needed; (nil, n) to skip n bytes.
    private mutating func decodeOne() -> (Key?, Int)? {
        let b = pending[0]
        switch b {
        case 0x1B: return decodeEscape()
        case 0x0D: return (.enter, 1)
        case 0x0A: return (.newline, 1)
        case 0x7F, 0x08: return (.backspace, 1)
        case 0x09: return (.tab, 1)
        case 0x01...0x1A: return (.control(Character(Unicode.Scalar(b + 0x60))), 1)
        case 0x00, 0x1C...0x1F: return (nil, 1)
        case 0x20...0x7E: return (.text(String(Unicode.Scalar(b))), 1)
        default:
            // UTF-8: the lead byte says how long the sequence is.
            let n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            if n == 1 { return (nil, 1) }                               // stray continuation byte
            guard pending.count >= n else { return nil }
            if let s = String(validating: pending[0..<n], as: UTF8.self) { return (.text(s), n) }
            return (nil, 1)
        }
    }

    private mutating func decodeEscape() -> (Key?, Int)? {
        guard pending.count >= 2 else { return nil }
        let b1 = pending[1]
        if b1 == 0x5B || b1 == 0x4F {           // CSI or SS3
            // Parameters 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E.
            var i = 2
            while i < pending.count, (0x20...0x3F).contains(pending[i]) { i += 1 }
            guard i < pending.count else { return pending.count > 32 ? (nil, pending.count) : nil }
            let final = pending[i]
            let params = String(decoding: pending[2..<i], as: UTF8.self)
            let used = i + 1
            if b1 == 0x5B && params == "200" && final == 0x7E { pasting = true; paste = []; return (nil, used) }
            return (Self.csiKey(params: params, final: final), used)
        }
        if b1 == 0x0D { return (.newline, 2) }                              // Alt-Enter
        if b1 == 0x7F || b1 == 0x08 { return (.control("w"), 2) }           // Alt-Backspace: delete a word
        if b1 == 0x62 { return (.wordLeft, 2) }                             // Alt-b
        if b1 == 0x66 { return (.wordRight, 2) }                            // Alt-f
        if b1 == 0x1B { return (.control("["), 1) }
        if (0x20...0x7E).contains(b1) { return (.alt(Character(Unicode.Scalar(b1))), 2) }
        return (nil, 1)
    }

    private static func csiKey(params: String, final: UInt8) -> Key? {
        let fields = params.split(separator: ";")
        let modifier = fields.count > 1 ? Int(fields[1]) ?? 1 : 1
        let word = modifier == 3 || modifier == 5          // Alt or Ctrl
        switch final {
        case 0x41: return .up
        case 0x42: return .down
        case 0x43: return word ? .wordRight : .right
        case 0x44: return word ? .wordLeft : .left
        case 0x48: return .home
        case 0x46: return .end
        case 0x7E:
            switch fields.first.flatMap({ Int($0) }) {
            case 1, 7: return .home
            case 4, 8: return .end
            case 3: return .delete
            case 5: return .pageUp
            case 6: return .pageDown
            default: return nil
            }
        default: return nil
        }
    }
}

extension String {
    /// CRLF and lone CR as LF (terminals paste line ends as CR).
    func replacingCRLF() -> String {
        var out = String.UnicodeScalarView()
        var lastCR = false
        for s in unicodeScalars {
            if s == "\r" { out.append("\n"); lastCR = true; continue }
            if s == "\n" && lastCR { lastCR = false; continue }
            lastCR = false
            out.append(s)
        }
        return String(out)
    }
}
