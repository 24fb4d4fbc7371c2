import CNcurses
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text made safe and measured for a terminal cell grid.
///
/// Widths come from the C library's `wcwidth(3)`, per grapheme cluster (`width(of:)`) (through the CNcurses shim) (the same table ncurses uses to advance its
/// cursor), so the layout and what ncurses draws agree. They depend on `LC_CTYPE`: call
/// `TerminalText.useUTF8Locale()` once before measuring. Pure functions; thread-safe.
public enum TerminalText {
    /// Sets `LC_CTYPE` (only: numbers keep the C format) from the environment, falling back to `C.UTF-8` when that is not UTF-8.
    /// Returns true when the locale is UTF-8 afterwards.
    @discardableResult
    public static func useUTF8Locale() -> Bool {
        if let name = setlocale(LC_CTYPE, ""), String(cString: name).uppercased().contains("UTF") { return true }
        if setlocale(LC_CTYPE, "C.UTF-8") != nil { return true }
        return setlocale(LC_CTYPE, "en_US.UTF-8") != nil
    }

    /// Scalars kept although their category is format: ZWJ, ZWNJ, variation selectors
    /// (U+FE00…FE0F, U+E0100…E01EF) and emoji tag characters (U+E0020…E007F).
    public static func isAllowedFormat(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x200C, 0x200D, 0xFE00...0xFE0F, 0xE0100...0xE01EF, 0xE0020...0xE007F: return true
        default: return false
        }
    }

    /// `text` with control, bidi-override and other format characters shown as `\u{XXXX}`, so a
    /// peer cannot move the cursor, recolour the screen or reorder what is displayed. ZWJ, ZWNJ
    /// and variation selectors stay (emoji sequences render). With `keepNewlines`, U+000A stays;
    /// a tab becomes one space.
    public static func neutralised(_ text: String, keepNewlines: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            let cat = s.properties.generalCategory
            if s == "\n" && keepNewlines {
                out.append(s)
            } else if s == "\t" {
                out.append(" ")
            } else if (cat == .format && !isAllowedFormat(s)) || cat == .control || cat == .lineSeparator
                        || cat == .paragraphSeparator || cat == .surrogate {
                out.append(contentsOf: "\\u{\(String(s.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }

    /// Columns one scalar takes: `wcwidth(3)`, with non-printing (-1) counted as 0.
    public static func width(of scalar: Unicode.Scalar) -> Int {
        max(0, Int(hark_wcwidth(scalar.value)))
    }

    /// A grapheme cluster whose width terminals disagree on: an emoji ZWJ sequence, a base with
    /// a skin-tone modifier, a flag, or anything with a variation selector or more than one
    /// spacing character. These are drawn over a reserved run of cells (`CursesScreen`).
    public static func isComposite(_ character: Character) -> Bool {
        let scalars = character.unicodeScalars
        guard scalars.count > 1 else { return false }
        for s in scalars.dropFirst() {
            if s.value == 0x200D || (0xFE00...0xFE0F).contains(s.value) || width(of: s) > 0 { return true }
        }
        return false
    }

    /// Columns a grapheme cluster takes. A simple one takes the width of its scalars (a base
    /// and its combining marks: é 1, 日 2). A composite one (`isComposite`) reserves the most
    /// any terminal draws it with: the sum of its scalars' widths (👨‍👩‍👧 6, 👍🏽 4), and at
    /// least 2 with an emoji variation selector (❤️ 2), so text after it always lands in the
    /// same column whether the terminal joins the sequence into one glyph or not.
    public static func width(of character: Character) -> Int {
        var w = 0
        var emojiPresentation = false
        for s in character.unicodeScalars {
            w += width(of: s)
            if s.value == 0xFE0F { emojiPresentation = true }
        }
        return emojiPresentation ? max(w, 2) : w
    }

    /// Columns `text` takes on one line (no newlines expected).
    public static func width(of text: some StringProtocol) -> Int {
        var w = 0
        for c in text { w += width(of: c) }
        return w
    }

    /// The longest prefix of `text` that fits in `columns`, and its width.
    public static func prefix(_ text: some StringProtocol, fitting columns: Int) -> (String, Int) {
        var out = ""
        var w = 0
        for c in text {
            let cw = width(of: c)
            if w + cw > columns { break }
            out.append(c); w += cw
        }
        return (out, w)
    }
}
