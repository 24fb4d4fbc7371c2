import HarkCrypto
import HarkLog
import Foundation
import HarkWireProto

/// A salted Bloom filter of event IDs (docs/PROTOCOL.md §6.3.2).
///
/// Positions: `h = BLAKE2b(out = max(16, 4·k) bytes, key = salt (16 B), personal = "hark.bloom.v1",
/// data = the 32-byte ID)`; probe `i` (0 ≤ i < k) is the little-endian `UInt32` at `h[4i ..< 4i+4]`
/// modulo `m`. Bit `j` is `bits[j / 8] >> (j % 8) & 1`. A fresh random salt per filter means a
/// peer cannot grind event IDs that collide in our filters (the automerge-poison attack).
///
/// Value type; thread-safe.
public struct BloomFilter: Sendable, Equatable {
    /// Bits per expected entry (BEC §5).
    public static let bitsPerEntry = 10
    /// Probes per ID (BEC §5): false-positive rate ≈ 0.82 % at 10 bits/entry.
    public static let defaultHashCount = 7
    /// Smallest filter built here, bits.
    public static let minBitCount = 64
    /// Largest filter accepted from a peer, bits (8 Mi bits = 1 MiB of `bits`).
    public static let maxBitCount = 8 * 1024 * 1024
    /// Largest filter built here, bits (6 Mi bits = 768 KiB, so a SyncRequest with 2 × 1024 IDs
    /// stays under the 1 MiB frame limit). Past ~629 000 entries the false-positive rate rises,
    /// which costs extra Needs rounds, never correctness.
    public static let maxBuiltBitCount = 6 * 1024 * 1024
    /// Largest probe count accepted from a peer.
    public static let maxHashCount = 16
    /// Salt size, bytes (BLAKE2b keys must be 16…64 bytes).
    public static let saltByteCount = 16
    /// BLAKE2b personalisation.
    public static let personal = "hark.bloom.v1"

    public let salt: [UInt8]
    /// m.
    public let bitCount: Int
    /// k.
    public let hashCount: Int
    /// ceil(m / 8) bytes.
    public private(set) var bits: [UInt8]

    /// An empty filter sized for `capacity` entries: m = clamp(10 · capacity, 64, 6 Mi), k = 7.
    /// - Parameter salt: 16 bytes; nil draws a fresh random salt (the normal case; tests inject one).
    public init(capacity: Int, salt: [UInt8]? = nil) {
        let salt = salt ?? SecureRandom.bytes(Self.saltByteCount)
        precondition(salt.count == Self.saltByteCount, "Bloom salt must be 16 bytes")
        let wanted = capacity > Self.maxBuiltBitCount / Self.bitsPerEntry ? Self.maxBuiltBitCount : capacity * Self.bitsPerEntry
        self.salt = salt
        self.bitCount = min(Self.maxBuiltBitCount, max(Self.minBitCount, wanted))
        self.hashCount = Self.defaultHashCount
        self.bits = [UInt8](repeating: 0, count: (bitCount + 7) / 8)
    }

    /// A filter holding `ids`, sized for them.
    public init<S: Collection>(_ ids: S, salt: [UInt8]? = nil) where S.Element == EventID {
        self.init(capacity: ids.count, salt: salt)
        for id in ids { insert(id) }
    }

    /// Decodes and validates a peer's filter: salt 16 B, 1 ≤ bit_count ≤ 8 Mi, 1 ≤ hash_count ≤ 16,
    /// bits exactly ceil(m/8) bytes with the unused high bits of the last byte zero.
    /// - Throws: `SyncError.badBloomFilter`.
    public init(validating p: Hark_V1_BloomFilter) throws(SyncError) {
        guard p.salt.count == Self.saltByteCount else { throw .badBloomFilter("salt of \(p.salt.count) bytes") }
        guard p.bitCount >= 1, Int(p.bitCount) <= Self.maxBitCount else { throw .badBloomFilter("bit_count \(p.bitCount)") }
        guard p.hashCount >= 1, Int(p.hashCount) <= Self.maxHashCount else { throw .badBloomFilter("hash_count \(p.hashCount)") }
        let m = Int(p.bitCount)
        guard p.bits.count == (m + 7) / 8 else {
            throw .badBloomFilter("\(p.bits.count) bytes of bits for bit_count \(m) (want \((m + 7) / 8))")
        }
        let bits = [UInt8](p.bits)
        if m % 8 != 0, bits[bits.count - 1] >> (m % 8) != 0 { throw .badBloomFilter("bits set beyond bit_count") }
        self.salt = [UInt8](p.salt)
        self.bitCount = m
        self.hashCount = Int(p.hashCount)
        self.bits = bits
    }

    /// The wire form.
    public var proto: Hark_V1_BloomFilter {
        var p = Hark_V1_BloomFilter()
        p.salt = Data(salt)
        p.bitCount = UInt32(bitCount)
        p.hashCount = UInt32(hashCount)
        p.bits = Data(bits)
        return p
    }

    /// The k bit positions of `id` (see the type's documentation).
    public func positions(_ id: EventID) -> [Int] {
        let h = BLAKE2b.hash(id.bytes, byteCount: max(16, 4 * hashCount), key: salt, personal: Self.personal)
        let m = UInt32(bitCount)
        return (0..<hashCount).map { i in
            let w = UInt32(h[4 * i]) | UInt32(h[4 * i + 1]) << 8 | UInt32(h[4 * i + 2]) << 16 | UInt32(h[4 * i + 3]) << 24
            return Int(w % m)
        }
    }

    public mutating func insert(_ id: EventID) {
        for j in positions(id) { bits[j >> 3] |= 1 << UInt8(j & 7) }
    }

    /// False means `id` was certainly not inserted; true means it probably was.
    public func mightContain(_ id: EventID) -> Bool {
        positions(id).allSatisfy { bits[$0 >> 3] & (1 << UInt8($0 & 7)) != 0 }
    }

    /// The false-positive probability for `n` entries: (1 − e^(−kn/m))^k.
    public func expectedFalsePositiveRate(entries n: Int) -> Double {
        let x = 1 - exp(-Double(hashCount) * Double(n) / Double(bitCount))
        var r = 1.0
        for _ in 0..<hashCount { r *= x }
        return r
    }
}
