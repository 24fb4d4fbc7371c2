/// A fixed-size set of chunk indices, 0 ..< `count`: which chunks a fetch has verified, or which
/// a peer holds. Serialised as ceil(count / 8) bytes, bit i = (byte[i / 8] >> (i % 8)) & 1
/// (least significant bit first); the unused high bits of the last byte are zero.
/// Value type; thread-safe.
public struct ChunkBitmap: Sendable, Equatable {
    /// Number of chunks the bitmap covers.
    public let count: Int
    private var words: [UInt64]
    /// Number of set bits.
    public private(set) var setCount: Int = 0

    /// An empty bitmap over `count` chunks (`count` ≥ 0).
    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    /// A bitmap with all `count` bits set.
    public static func full(count: Int) -> ChunkBitmap {
        var b = ChunkBitmap(count: count)
        for i in 0..<count { b.insert(i) }
        return b
    }

    /// Decodes `bytes` (the format above). Returns nil when the length is not ceil(count / 8)
    /// or an unused bit is set.
    public init?(count: Int, bytes: [UInt8]) {
        guard count >= 0, bytes.count == (count + 7) / 8 else { return nil }
        self.init(count: count)
        for (i, byte) in bytes.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << bit) != 0 {
                let index = i * 8 + bit
                guard index < count else { return nil }
                insert(index)
            }
        }
    }

    /// The encoded form: ceil(count / 8) bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: (count + 7) / 8)
        for i in 0..<out.count {
            out[i] = UInt8(truncatingIfNeeded: words[i / 8] >> UInt64((i % 8) * 8))
        }
        return out
    }

    public var isFull: Bool { setCount == count }

    public func contains(_ index: Int) -> Bool {
        guard index >= 0 && index < count else { return false }
        return words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// Sets bit `index` (0 ..< count). Returns false when it was already set.
    @discardableResult
    public mutating func insert(_ index: Int) -> Bool {
        precondition(index >= 0 && index < count, "chunk index out of range")
        let mask: UInt64 = 1 << UInt64(index & 63)
        if words[index >> 6] & mask != 0 { return false }
        words[index >> 6] |= mask
        setCount += 1
        return true
    }

    /// Clears bit `index` (0 ..< count). Returns false when it was not set.
    @discardableResult
    public mutating func remove(_ index: Int) -> Bool {
        precondition(index >= 0 && index < count, "chunk index out of range")
        let mask: UInt64 = 1 << UInt64(index & 63)
        if words[index >> 6] & mask == 0 { return false }
        words[index >> 6] &= ~mask
        setCount -= 1
        return true
    }

    /// The lowest index ≥ `start` that is not set, or nil.
    public func firstMissing(from start: Int = 0) -> Int? {
        var i = max(0, start)
        while i < count {   // bounded: i grows every step
            let w = words[i >> 6] >> UInt64(i & 63)
            if w == UInt64.max >> UInt64(i & 63) {
                i = (i | 63) + 1     // the rest of this word is full
                continue
            }
            let offset = (~w).trailingZeroBitCount
            let found = i + offset
            return found < count ? found : nil
        }
        return nil
    }
}
