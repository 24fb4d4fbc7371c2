/// A peer's service as resolved on one network interface.
///
/// Thread-safety: a value type; `Sendable`.
public struct ServiceSighting: Sendable, Equatable {
    /// The DNS-SD instance name (RFC 6763 §4.1.1).
    public let instanceName: String
    /// The target host of the SRV record, e.g. `h1.local`.
    public let hostName: String
    /// Every address resolved for the service on ``interfaceIndex``, one per (interface,
    /// protocol) resolution; IPv4 first. Can be empty only transiently (never emitted empty).
    public let addresses: [ResolvedAddress]
    /// The port of the SRV record.
    public let port: UInt16
    /// The parsed TXT record (RFC 6763 §6); malformed strings are dropped.
    public let txt: TXTRecord
    /// The kernel interface index the service was seen on.
    public let interfaceIndex: Int32

    /// Memberwise; discovery builds these, tests and callers may too.
    public init(instanceName: String, hostName: String, addresses: [ResolvedAddress],
                port: UInt16, txt: TXTRecord, interfaceIndex: Int32) {
        self.instanceName = instanceName
        self.hostName = hostName
        self.addresses = addresses
        self.port = port
        self.txt = txt
        self.interfaceIndex = interfaceIndex
    }
}

/// One address of a resolved service.
///
/// Thread-safety: a value type; `Sendable`.
public struct ResolvedAddress: Sendable, Hashable {
    /// Numeric address text: `"10.0.0.2"` or `"fe80::1"` (no `%scope` suffix).
    public let ip: String
    /// Whether ``ip`` is an IPv6 address.
    public let isIPv6: Bool
    /// For IPv6 link-local addresses (fe80::/10): the interface index to use as
    /// `sin6_scope_id` when connecting; otherwise 0.
    public let scopeID: UInt32
    /// The interface index the address was resolved on.
    public let interfaceIndex: Int32

    /// Memberwise. `scopeID` should be `interfaceIndex` for fe80::/10, else 0.
    public init(ip: String, isIPv6: Bool, scopeID: UInt32, interfaceIndex: Int32) {
        self.ip = ip
        self.isIPv6 = isIPv6
        self.scopeID = scopeID
        self.interfaceIndex = interfaceIndex
    }
}
