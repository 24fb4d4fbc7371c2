internal import CSodium

/// Cryptographically secure random bytes from libsodium (`randombytes_buf`). Thread-safe.
public enum SecureRandom {
    /// - Parameter count: number of bytes, ≥ 0.
    /// - Returns: `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ready()
        var out = [UInt8](repeating: 0, count: count)
        if count > 0 { randombytes_buf(&out, count) }
        return out
    }

    /// A uniformly random `UInt64`.
    public static func uint64() -> UInt64 {
        bytes(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }
}

/// Overwrites secret bytes with zeros in a way the compiler may not elide (`sodium_memzero`).
public func secureZero(_ bytes: inout [UInt8]) {
    Sodium.ready()
    bytes.withUnsafeMutableBytes { buf in
        if let base = buf.baseAddress { sodium_memzero(base, buf.count) }
    }
}

/// Constant-time equality of two byte strings of the same length (`sodium_memcmp`).
/// Returns false when the lengths differ.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    Sodium.ready()
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return sodium_memcmp(a, b, a.count) == 0
}
