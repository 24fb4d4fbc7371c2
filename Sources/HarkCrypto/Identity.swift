/// A peer ID: the text form of a node's long-term Ed25519 public key.
///
/// Encoding (docs/PROTOCOL.md §1): `"hk"` followed by the RFC 4648 base32 (lowercase, no
/// padding) of the 32 key bytes: 54 characters in all. The fingerprint is the first 10 bytes of
/// BLAKE2b-256(person `"hark.fp.v1"`, key) in five dash-separated groups of 4 hex digits.
public struct PeerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let prefix = "hk"
    /// The identity key this ID names.
    public let key: SigningPublicKey

    public init(_ key: SigningPublicKey) { self.key = key }

    /// Parses the text form. - Throws: `CryptoError.invalidEncoding`.
    public init(parsing text: String) throws(CryptoError) {
        guard text.hasPrefix(Self.prefix) else { throw .invalidEncoding("peer ID must start with \"hk\"") }
        let bytes = try Base32.decode(String(text.dropFirst(Self.prefix.count)))
        guard bytes.count == Ed25519.publicKeyByteCount else { throw .invalidEncoding("peer ID must hold 32 bytes") }
        self.key = try SigningPublicKey(bytes: bytes)
    }

    /// `hk` + base32 of the key.
    public var description: String { Self.prefix + Base32.encode(key.bytes) }

    /// A short human-comparable fingerprint, e.g. `3f2a-91c0-7d1e-aa04-5b6c`.
    public var fingerprint: String {
        let h = Hex.encode(Array(BLAKE2b.hash(key.bytes, personal: "hark.fp.v1").prefix(10)))
        var groups: [Substring] = []
        var rest = Substring(h)
        while !rest.isEmpty { groups.append(rest.prefix(4)); rest = rest.dropFirst(4) }
        return groups.joined(separator: "-")
    }

    /// The first group of the fingerprint, used to tell apart peers with the same display name.
    public var shortFingerprint: String { String(fingerprint.prefix(4)) }

    public static func < (a: PeerID, b: PeerID) -> Bool { a.key < b.key }
}
