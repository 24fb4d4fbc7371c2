#if canImport(Glibc)
import Glibc
#endif

/// A peer endpoint as the user writes it: `host:port`, `[v6]:port`, `[v6%scope]:port`, or a
/// bare host.
///
/// The one host:port type of hark: the node parses `--peer` addresses with ``init(endpoint:)``
/// and `hark doctor` reads the addresses the daemon reports with ``init(_:)``. Parsing only: no
/// name is resolved. Thread-safety: a value type; `Sendable`.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: a name, an IPv4 literal or an IPv6 literal, which may carry a
    /// `%scope` (interface name or index).
    public var host: String
    /// The port, when the text had one that reads as an integer (not range-checked by
    /// ``init(_:)``; 1…65535 after ``init(endpoint:)``).
    public var port: Int?

    /// Memberwise.
    public init(host: String, port: Int?) {
        self.host = host
        self.port = port
    }

    /// Splits `host:port`, `[v6]:port`, `[v6%scope]:port` or a bare host (a bare IPv6 literal
    /// has more than one colon, so it is a host without a port). `port` is nil when the text
    /// names none or it is not an integer. Nil only for an empty host or an unclosed `[`.
    public init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            port = rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            port = Int(text[text.index(after: colon)...])
        } else {
            host = text
            port = nil
        }
        if host.isEmpty { return nil }
    }

    /// A dialable endpoint, as `--peer` takes it: `host:port` or `[v6]:port` with a port in
    /// 1…65535; nil otherwise (no port, a malformed one, or an unbracketed IPv6 literal).
    public init?(endpoint text: String) {
        guard let parsed = HostPort(text), let port = parsed.port, (1...65535).contains(port) else { return nil }
        self = parsed
    }

    /// `host:port`, with brackets around an IPv6 host; the bare host when there is no port.
    public var description: String {
        guard let port else { return host }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// fe80::/10 without a `%scope`: ambiguous on a host with more than one interface.
    public var isUnscopedLinkLocal: Bool { !host.contains("%") && HostPort.isLinkLocalV6(host) }

    /// Whether `host` (a `%scope` suffix ignored) is an IPv6 literal in fe80::/10.
    public static func isLinkLocalV6(_ host: String) -> Bool {
        var a = in6_addr()
        let bare = String(host.prefix { $0 != "%" })
        guard inet_pton(AF_INET6, bare, &a) == 1 else { return false }
        return withUnsafeBytes(of: &a) { $0[0] == 0xFE && ($0[1] & 0xC0) == 0x80 }
    }
}
