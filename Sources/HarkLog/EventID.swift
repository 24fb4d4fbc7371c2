import HarkCrypto

/// A 32-byte event ID: BLAKE2b-256(personal "hark.event.v1", header bytes exactly as authored).
/// A group is named by the ID of its genesis event. Ordered bytewise. Value type; thread-safe.
///
/// Held inline as four 64-bit words (big-endian, so word order is byte order), not as an array:
/// an ID in a dictionary, set or graph entry costs no heap allocation and no reference counting.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Size of an ID: 32 bytes.
    public static let byteCount = EventLimits.hashBytes

    private let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The 32 ID bytes (a new array on each access).
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
        }
        return out
    }

    /// From exactly 32 bytes (checked by the callers).
    private init(exactly bytes: [UInt8]) {
        func word(_ at: Int) -> UInt64 {
            var w: UInt64 = 0
            for i in at..<(at + 8) { w = w << 8 | UInt64(bytes[i]) }
            return w
        }
        w0 = word(0); w1 = word(8); w2 = word(16); w3 = word(24)
    }

    /// - Throws: `EventError.invalidLength` unless `bytes` is 32 bytes.
    public init(bytes: [UInt8]) throws(EventError) {
        guard bytes.count == Self.byteCount else {
            throw .invalidLength(field: "event ID", expected: Self.byteCount, actual: bytes.count)
        }
        self.init(exactly: bytes)
    }

    /// The ID of serialized header bytes. Hashes them as given; never re-serialise a decoded header.
    public init(hashingHeader headerBytes: [UInt8]) {
        self.init(exactly: BLAKE2b.hash(headerBytes, byteCount: Self.byteCount, personal: EventDomain.idPersonal))
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
    public func hash(into hasher: inout Hasher) { hasher.combine(w0); hasher.combine(w1); hasher.combine(w2); hasher.combine(w3) }
    public static func == (a: EventID, b: EventID) -> Bool { a.w0 == b.w0 && a.w1 == b.w1 && a.w2 == b.w2 && a.w3 == b.w3 }

    public static func < (a: EventID, b: EventID) -> Bool {
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        if a.w2 != b.w2 { return a.w2 < b.w2 }
        return a.w3 < b.w3
    }
}
