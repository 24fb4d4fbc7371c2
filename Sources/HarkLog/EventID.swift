import HarkCrypto

/// A 32-byte event ID: BLAKE2b-256(personal "hark.event.v1", header bytes exactly as authored).
/// A group is named by the ID of its genesis event. Ordered bytewise. Value type; thread-safe.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Size of an ID: 32 bytes.
    public static let byteCount = EventLimits.hashBytes

    /// The 32 ID bytes.
    public let bytes: [UInt8]

    /// - Throws: `EventError.invalidLength` unless `bytes` is 32 bytes.
    public init(bytes: [UInt8]) throws(EventError) {
        guard bytes.count == Self.byteCount else {
            throw .invalidLength(field: "event ID", expected: Self.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }

    /// The ID of serialized header bytes. Hashes them as given; never re-serialise a decoded header.
    public init(hashingHeader headerBytes: [UInt8]) {
        self.bytes = BLAKE2b.hash(headerBytes, byteCount: Self.byteCount, personal: EventDomain.idPersonal)
    }

    /// Parses 64 hex digits (either case).
    /// - Throws: `EventError.invalidHex` for non-hex text, `.invalidLength` for the wrong size.
    public init(hex: String) throws(EventError) {
        let decoded: [UInt8]
        do { decoded = try Hex.decode(hex) } catch { throw .invalidHex(error.description) }
        try self.init(bytes: decoded)
    }

    /// Lowercase hex, 64 characters.
    public var hex: String { Hex.encode(bytes) }

    /// The first 8 hex characters, for logs and UI.
    public var shortHex: String { String(hex.prefix(8)) }

    /// Full lowercase hex.
    public var description: String { hex }

    /// Bytewise lexicographic order.
    /// Hashes the 32 bytes in one call (the synthesised conformance feeds the hasher byte by byte,
    /// which dominated graph inserts).
    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    public static func == (a: EventID, b: EventID) -> Bool { a.bytes == b.bytes }

    public static func < (a: EventID, b: EventID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
