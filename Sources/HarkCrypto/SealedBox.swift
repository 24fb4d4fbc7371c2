internal import CSodium

/// Anonymous public-key encryption to an X25519 key: libsodium's `crypto_box_seal`
/// (ephemeral X25519 + XSalsa20-Poly1305, nonce = BLAKE2b(ephemeral pk ‖ recipient pk)).
/// The sender is not authenticated by the box; hark signs the event that carries it.
/// Stateless; thread-safe.
public enum SealedBox {
    /// Bytes a sealed box adds: 32 B ephemeral key + 16 B tag.
    public static let overheadByteCount = Int(crypto_box_sealbytes())

    /// Seals `plaintext` to `publicKey` (32 B).
    /// - Returns: `plaintext.count + 48` bytes.
    /// - Throws: `CryptoError.invalidLength` for a key that is not 32 bytes.
    public static func seal(_ plaintext: [UInt8], to publicKey: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(publicKey, X25519.keyByteCount, "sealed box recipient key")
        var out = [UInt8](repeating: 0, count: plaintext.count + overheadByteCount)
        _ = crypto_box_seal(&out, plaintext, UInt64(plaintext.count), publicKey)
        return out
    }

    /// Opens a box sealed to `keyPair`.
    /// - Throws: `.authenticationFailed` when it was not sealed to this key or was changed;
    ///   `.invalidLength` when it is shorter than the overhead.
    public static func open(_ box: [UInt8], keyPair: AgreementKeyPair) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        guard box.count >= overheadByteCount else {
            throw .invalidLength(what: "sealed box", expected: overheadByteCount, actual: box.count)
        }
        var out = [UInt8](repeating: 0, count: box.count - overheadByteCount)
        guard crypto_box_seal_open(&out, box, UInt64(box.count), keyPair.publicKey, keyPair.secretKey) == 0 else {
            throw .authenticationFailed
        }
        return out
    }
}
