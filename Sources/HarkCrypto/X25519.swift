internal import CSodium

/// X25519 Diffie-Hellman (RFC 7748) through `crypto_scalarmult`; the DH function of
/// Noise rev 34 §12.1.
public enum X25519 {
    /// Key and shared-secret size: 32 bytes.
    public static let keyByteCount = 32

    /// DH(secret, public): the 32-byte shared secret.
    /// - Throws: `CryptoError.invalidLength`, or `.weakPublicKey` when the result is all zero
    ///   (libsodium returns -1 for low-order points).
    public static func sharedSecret(secretKey: [UInt8], publicKey: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(secretKey, keyByteCount, "X25519 secret key")
        try requireLength(publicKey, keyByteCount, "X25519 public key")
        var out = [UInt8](repeating: 0, count: keyByteCount)
        guard crypto_scalarmult(&out, secretKey, publicKey) == 0 else { throw .weakPublicKey }
        return out
    }
}

/// An X25519 key pair (Noise static or ephemeral key). Value type; thread-safe.
public struct AgreementKeyPair: Sendable {
    /// 32-byte public key.
    public let publicKey: [UInt8]
    /// 32-byte secret scalar. Zero copies after use.
    public let secretKey: [UInt8]

    /// A fresh random key pair.
    public static func generate() -> AgreementKeyPair {
        try! AgreementKeyPair(secretKey: SecureRandom.bytes(X25519.keyByteCount))
    }

    /// The key pair of a 32-byte secret (`crypto_scalarmult_base`).
    /// - Throws: `CryptoError.invalidLength` unless `secretKey` is 32 bytes.
    public init(secretKey: [UInt8]) throws(CryptoError) {
        Sodium.ready()
        try requireLength(secretKey, X25519.keyByteCount, "X25519 secret key")
        var pk = [UInt8](repeating: 0, count: X25519.keyByteCount)
        _ = crypto_scalarmult_base(&pk, secretKey)
        self.publicKey = pk
        self.secretKey = secretKey
    }
}
