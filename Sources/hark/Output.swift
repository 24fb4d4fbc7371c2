import Foundation
import HarkControl
import HarkTerminal

#if canImport(Glibc)
import Glibc
#endif

/// Writes to stdout; a closed stdout (`hark log g | head -1`) ends the process quietly with 0.
func printOut(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes[off...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            exit(errno == EPIPE ? 0 : 74)
        }
        off += n
    }
}

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// One JSON object on one line (NDJSON), snake_case keys.
func printJSON<T: Encodable>(_ value: T) throws {
    let line = try ControlCoding.encodeLine(value)
    printOut(String(decoding: line.dropLast(), as: UTF8.self))
}

/// Text from peers made safe for a terminal: C0/C1 control characters (except tab), DEL and
/// Unicode format characters (bidi overrides, zero-width spaces…) become visible escapes such as
/// `\u{202E}`, so a message cannot move the cursor, recolour the screen or reorder what follows.
/// ZWJ, ZWNJ, variation selectors and emoji tags stay, so emoji sequences render (`TerminalText`).
func terminalSafe(_ text: String, keepNewlines: Bool = false) -> String {
    var out = ""
    for s in text.unicodeScalars {
        let cat = s.properties.generalCategory
        if (s == "\n" && keepNewlines) || s == "\t" {
            out.unicodeScalars.append(s)
        } else if cat == .control || (cat == .format && !TerminalText.isAllowedFormat(s)) || cat == .lineSeparator
                    || cat == .paragraphSeparator {
            out += "\\u{\(String(s.value, radix: 16, uppercase: true))}"
        } else {
            out.unicodeScalars.append(s)
        }
    }
    return out
}

/// Bytes for people: 0 B, 512 B, 1.5 KiB, 4.0 GiB.
func formatBytes(_ n: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var v = Double(n)
    var i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
}

/// `2026-12-01 07:30:12` in local time, for display only.
func formatTime(ms: Int64) -> String {
    var t = time_t(ms / 1000)
    var tmv = tm()
    localtime_r(&t, &tmv)
    var buf = [Int8](repeating: 0, count: 32)
    strftime(&buf, buf.count, "%Y-%m-%d %H:%M:%S", &tmv)
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
