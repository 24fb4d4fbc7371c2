internal import CSodium

/// Argon2id (version 1.3) key derivation from a passphrase through libsodium's `crypto_pwhash`.
///
/// hark uses it to seal secret files (NodeHome) and key backups. The default cost is
/// libsodium's MODERATE profile: opslimit 3, memlimit 256 MiB, about 0.35 s on a 2-core VM
/// (measured for docs/SECURITY.md). The parameters are stored with each sealed file, so they
/// can be raised later without breaking old files.
public enum PasswordHash {
    public static let saltByteCount = 16   // crypto_pwhash_SALTBYTES
    public static let opsLimitModerate: UInt64 = 3
    public static let memLimitModerate: UInt64 = 256 << 20
    public static let opsLimitInteractive: UInt64 = 2
    public static let memLimitInteractive: UInt64 = 64 << 20
    /// What an untrusted file may ask for before we refuse to spend the memory (1 GiB, SENSITIVE).
    public static let maxOpsLimit: UInt64 = 16
    public static let maxMemLimit: UInt64 = 1 << 30

    /// Derives `byteCount` bytes from `passphrase` and `salt` (Argon2id13).
    /// - Throws: `CryptoError.invalidLength` for a bad salt, `.invalidEncoding` for limits out of
    ///   range (libsodium's minimums, at most `maxOpsLimit`/`maxMemLimit`) or an out-of-memory failure.
    public static func deriveKey(passphrase: [UInt8], salt: [UInt8], opsLimit: UInt64, memLimit: UInt64,
                                 byteCount: Int = 32) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(salt, saltByteCount, "Argon2id salt")
        guard opsLimit >= UInt64(crypto_pwhash_opslimit_min()), opsLimit <= maxOpsLimit,
              memLimit >= UInt64(crypto_pwhash_memlimit_min()), memLimit <= maxMemLimit else {
            throw .invalidEncoding("Argon2id limits out of range (opslimit \(opsLimit), memlimit \(memLimit))")
        }
        var out = [UInt8](repeating: 0, count: byteCount)
        // One byte more, so the buffer has an address even for an empty passphrase; zeroed after.
        var pw = passphrase.map { CChar(bitPattern: $0) } + [0]
        defer { pw.withUnsafeMutableBytes { if let b = $0.baseAddress { sodium_memzero(b, $0.count) } } }
        let rc = crypto_pwhash(&out, UInt64(byteCount), pw, UInt64(passphrase.count), salt,
                               opsLimit, Int(memLimit), crypto_pwhash_ALG_ARGON2ID13)
        guard rc == 0 else { throw .invalidEncoding("Argon2id failed (out of memory?)") }
        return out
    }
}

/// `crypto_secretbox_easy`: XSalsa20-Poly1305 with a 32-byte key and a 24-byte nonce.
public enum SecretBox {
    public static let keyByteCount = 32
    public static let nonceByteCount = 24
    public static let macByteCount = 16

    /// Returns MAC ‖ ciphertext (`plaintext.count + 16` bytes).
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, keyByteCount, "secretbox key")
        try requireLength(nonce, nonceByteCount, "secretbox nonce")
        var out = [UInt8](repeating: 0, count: plaintext.count + macByteCount)
        _ = crypto_secretbox_easy(&out, plaintext, UInt64(plaintext.count), nonce, key)
        return out
    }

    /// Opens a box made by `seal`. - Throws: `CryptoError.authenticationFailed` (wrong key or tampered).
    public static func open(_ box: [UInt8], key: [UInt8], nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, keyByteCount, "secretbox key")
        try requireLength(nonce, nonceByteCount, "secretbox nonce")
        guard box.count >= macByteCount else { throw .authenticationFailed }
        var out = [UInt8](repeating: 0, count: box.count - macByteCount)
        guard crypto_secretbox_open_easy(&out, box, UInt64(box.count), nonce, key) == 0 else { throw .authenticationFailed }
        return out
    }
}
