/// Out-of-band verification of identity keys (docs/PROTOCOL.md §1.1, docs/SECURITY.md).
public enum SafetyNumber {
    public static let version: [UInt8] = [0x00, 0x01]
    public static let iterations = 5200

    /// The 30-digit half of one identity key: `d = BLAKE2b-512(person "hark.safety.v1", version ‖ key)`,
    /// then 5199 times `d = BLAKE2b-512(person "hark.safety.v1", d ‖ key)`; the first 30 bytes of `d`
    /// as six 5-byte big-endian integers, each mod 100000 as 5 zero-padded digits.
    public static func half(_ key: SigningPublicKey) -> String {
        var d = BLAKE2b.hash(version + key.bytes, byteCount: 64, personal: "hark.safety.v1")
        for _ in 1..<iterations { d = BLAKE2b.hash(d + key.bytes, byteCount: 64, personal: "hark.safety.v1") }
        var out = ""
        for chunk in 0..<6 {
            let v = d[chunk * 5..<chunk * 5 + 5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 100_000
            let s = String(v)
            out += String(repeating: "0", count: 5 - s.count) + s
        }
        return out
    }

    /// The 60-digit safety number of two identities: both halves, the smaller string first, so
    /// both sides compute the same digits. Shown as 12 groups of 5 (`groups`).
    public static func digits(_ a: SigningPublicKey, _ b: SigningPublicKey) -> String {
        let (x, y) = (half(a), half(b))
        return x <= y ? x + y : y + x
    }

    /// `digits` in groups of 5 separated by spaces.
    public static func groups(_ digits: String) -> [String] {
        var out: [String] = []
        var rest = Substring(digits)
        while !rest.isEmpty { out.append(String(rest.prefix(5))); rest = rest.dropFirst(5) }
        return out
    }
}

/// The short code of `hark pair` (docs/PROTOCOL.md §3.3): a commit-then-reveal exchange of two
/// random nonces over an open channel, then 6 digits both users compare.
public enum PairingCode {
    public static let nonceByteCount = 32

    /// The initiator's commitment: `BLAKE2b-256(person "hark.pair.c.v1", handshake hash ‖ nonce_i)`.
    public static func commitment(handshakeHash: [UInt8], initiatorNonce: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(handshakeHash + initiatorNonce, personal: "hark.pair.c.v1")
    }

    /// The code: the first 8 bytes of `BLAKE2b-256(person "hark.pair.v1", handshake hash ‖ nonce_i ‖ nonce_r)`
    /// as a big-endian integer mod 10^6, 6 zero-padded digits shown as `123 456`.
    public static func code(handshakeHash: [UInt8], initiatorNonce: [UInt8], responderNonce: [UInt8]) -> String {
        let h = BLAKE2b.hash(handshakeHash + initiatorNonce + responderNonce, personal: "hark.pair.v1")
        let v = h[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 1_000_000
        let s = String(v)
        let padded = String(repeating: "0", count: 6 - s.count) + s
        return padded.prefix(3) + " " + padded.suffix(3)
    }
}
