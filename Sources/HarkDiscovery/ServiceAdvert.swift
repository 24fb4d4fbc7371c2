/// What this node publishes as a DNS-SD service of type ``AvahiDiscovery/serviceType``.
///
/// Thread-safety: a value type; `Sendable`.
public struct ServiceAdvert: Sendable, Equatable {
    /// Longest DNS-SD instance name, in bytes of UTF-8 (RFC 6763 §4.1.1, one DNS label).
    public static let maxInstanceNameBytes = 63

    /// The DNS-SD instance name (RFC 6763 §4.1.1): at most 63 bytes of UTF-8. The
    /// initialiser truncates longer names at a character boundary. If another host already
    /// uses the name, discovery picks an alternative (`name #2`, …, via
    /// `avahi_alternative_service_name`) and reports it in ``DiscoveryEvent/published(instanceName:)``.
    public var instanceName: String
    /// The TCP port the node listens on.
    public var port: UInt16
    /// The TXT attributes (RFC 6763 §6).
    public var txt: TXTRecord

    /// - Parameters:
    ///   - instanceName: cut to ``maxInstanceNameBytes`` (63) bytes at a character boundary.
    ///   - port: TCP port.
    ///   - txt: TXT attributes; validated when published (an invalid record is reported
    ///     as `.unavailable` and not published).
    public init(instanceName: String, port: UInt16, txt: TXTRecord) {
        self.instanceName = Self.truncatedInstanceName(instanceName)
        self.port = port
        self.txt = txt
    }

    /// `name` cut to at most 63 bytes of UTF-8 (RFC 6763 §4.1.1), at a grapheme boundary
    /// where possible and never inside a UTF-8 sequence.
    public static func truncatedInstanceName(_ name: String) -> String {
        truncateUTF8(name, maxBytes: maxInstanceNameBytes)
    }
}
