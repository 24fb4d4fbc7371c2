internal import CSodium

/// Ed25519 signatures (RFC 8032) through libsodium's `crypto_sign_*`.
public enum Ed25519 {
    /// Public key size: 32 bytes.
    public static let publicKeyByteCount = 32
    /// Secret key size as libsodium stores it (seed ‖ public key): 64 bytes.
    public static let secretKeyByteCount = 64
    /// Seed size: 32 bytes.
    public static let seedByteCount = 32
    /// Detached signature size: 64 bytes.
    public static let signatureByteCount = 64
}

/// An Ed25519 public key (32 bytes). Value type; thread-safe.
public struct SigningPublicKey: Hashable, Sendable, Comparable {
    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// - Throws: `CryptoError.invalidLength` unless `bytes` is 32 bytes.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try requireLength(bytes, Ed25519.publicKeyByteCount, "Ed25519 public key")
        self.bytes = bytes
    }

    /// Verifies a 64-byte detached signature over `message` (`crypto_sign_verify_detached`).
    /// Returns false for a signature of the wrong size.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        Sodium.ready()
        guard signature.count == Ed25519.signatureByteCount else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), bytes) == 0
    }

    /// Hashes the 32 bytes in one call, not byte by byte.
    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    public static func == (a: SigningPublicKey, b: SigningPublicKey) -> Bool { a.bytes == b.bytes }

    public static func < (a: SigningPublicKey, b: SigningPublicKey) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
    }
}

/// An Ed25519 key pair. The secret half never leaves this type except through `secretKeyBytes`
/// (for storage). Value type; thread-safe.
public struct SigningKeyPair: Sendable {
    public let publicKey: SigningPublicKey
    private let secretKey: [UInt8]   // 64 B: seed ‖ public key

    /// A fresh random key pair (`crypto_sign_keypair`).
    public static func generate() -> SigningKeyPair {
        Sodium.ready()
        var pk = [UInt8](repeating: 0, count: Ed25519.publicKeyByteCount)
        var sk = [UInt8](repeating: 0, count: Ed25519.secretKeyByteCount)
        _ = crypto_sign_keypair(&pk, &sk)
        return SigningKeyPair(publicKey: try! SigningPublicKey(bytes: pk), secretKey: sk)
    }

    /// The key pair for a 32-byte seed (`crypto_sign_seed_keypair`); deterministic.
    /// - Throws: `CryptoError.invalidLength` unless `seed` is 32 bytes.
    public init(seed: [UInt8]) throws(CryptoError) {
        Sodium.ready()
        try requireLength(seed, Ed25519.seedByteCount, "Ed25519 seed")
        var pk = [UInt8](repeating: 0, count: Ed25519.publicKeyByteCount)
        var sk = [UInt8](repeating: 0, count: Ed25519.secretKeyByteCount)
        _ = crypto_sign_seed_keypair(&pk, &sk, seed)
        self.init(publicKey: try SigningPublicKey(bytes: pk), secretKey: sk)
    }

    /// Restores a key pair from libsodium's 64-byte secret key (seed ‖ public key).
    /// - Throws: `CryptoError.invalidLength`, or `.invalidEncoding` if the embedded public key
    ///   does not match the seed.
    public init(secretKeyBytes sk: [UInt8]) throws(CryptoError) {
        try requireLength(sk, Ed25519.secretKeyByteCount, "Ed25519 secret key")
        let again = try SigningKeyPair(seed: Array(sk[0..<32]))
        guard again.publicKey.bytes == Array(sk[32..<64]) else {
            throw .invalidEncoding("Ed25519 secret key: public half does not match the seed")
        }
        self = again
    }

    private init(publicKey: SigningPublicKey, secretKey: [UInt8]) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The 64-byte secret key, for writing to a 0600 file. Zero your copy after use.
    public var secretKeyBytes: [UInt8] { secretKey }

    /// A 64-byte detached signature over `message` (`crypto_sign_detached`).
    public func signature(for message: [UInt8]) -> [UInt8] {
        Sodium.ready()
        var sig = [UInt8](repeating: 0, count: Ed25519.signatureByteCount)
        _ = crypto_sign_detached(&sig, nil, message, UInt64(message.count), secretKey)
        return sig
    }
}
