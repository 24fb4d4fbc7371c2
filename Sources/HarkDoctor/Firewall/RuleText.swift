import Foundation

/// Words and port lists shared by the nft and iptables rule readers.
enum RuleText {
    /// Service names nft prints for ports (with `-S` iptables prints numbers).
    static let serviceNames = ["mdns": 5353]

    /// `22`, `mdns`, `80,443`, `6000-6010` (nft) or `6000:6010` (iptables) as ranges; nil when
    /// any item is not understood.
    static func parsePorts(_ text: String) -> [ClosedRange<Int>]? {
        var out: [ClosedRange<Int>] = []
        for item in text.split(separator: ",") {
            let s = item.trimmingCharacters(in: .whitespaces)
            if let n = Int(s) ?? serviceNames[s] { out.append(n...n); continue }
            let ends = s.split(separator: s.contains(":") ? ":" : "-").map { Int($0) }
            guard ends.count == 2, let a = ends[0], let b = ends[1], a <= b else { return nil }
            out.append(a...b)
        }
        return out.isEmpty ? nil : out
    }

    /// Splits on whitespace, keeping `"quoted strings"` and `{ … }` sets as one token each.
    static func tokens(_ line: String) -> [String] {
        var out: [String] = [], cur = ""
        var quote = false, brace = 0
        for ch in line {
            if quote { cur.append(ch); if ch == "\"" { quote = false }; continue }
            if ch == "\"" { quote = true; cur.append(ch); continue }
            if ch == "{" { brace += 1; cur.append(ch); continue }
            if ch == "}" && brace > 0 { brace -= 1; cur.append(ch); continue }
            if ch.isWhitespace && brace == 0 { if !cur.isEmpty { out.append(cur); cur = "" }; continue }
            cur.append(ch)
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }
}
