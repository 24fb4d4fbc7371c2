internal import CSodium

/// ChaCha20-Poly1305 in its IETF form (RFC 8439; `crypto_aead_chacha20poly1305_ietf_*`):
/// 32-byte key, 12-byte nonce, 16-byte tag. The cipher of Noise rev 34 §12.3.
public enum ChaChaPoly {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    /// Noise's nonce layout (rev 34 §12.3): 4 zero bytes ‖ little-endian 64-bit counter.
    public static func nonce(counter: UInt64) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: nonceByteCount)
        for i in 0..<8 { n[4 + i] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(i))) }
        return n
    }

    /// Encrypts `plaintext`; returns ciphertext ‖ tag (plaintext.count + 16 bytes).
    /// - Throws: `CryptoError.invalidLength` for a bad key or nonce size.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, keyByteCount, "ChaCha20-Poly1305 key")
        try requireLength(nonce, nonceByteCount, "ChaCha20-Poly1305 nonce")
        // Not zero-filled first: the cipher writes every byte (bulk data goes through here).
        return [UInt8](unsafeUninitializedCapacity: plaintext.count + tagByteCount) { out, count in
            var outLen: UInt64 = 0
            _ = crypto_aead_chacha20poly1305_ietf_encrypt(out.baseAddress!, &outLen, plaintext, UInt64(plaintext.count),
                                                          associatedData, UInt64(associatedData.count), nil, nonce, key)
            count = out.count
        }
    }

    /// `seal` in place (bulk records): `buffer` holds the plaintext in its first
    /// `buffer.count − 16` bytes and receives ciphertext ‖ tag.
    /// - Throws: `CryptoError.invalidLength` for a bad key or nonce size, or a buffer under 16 bytes.
    public static func sealInPlace(_ buffer: UnsafeMutableRawBufferPointer, key: [UInt8], nonce: [UInt8],
                                   associatedData: [UInt8] = []) throws(CryptoError) {
        Sodium.ready()
        try requireLength(key, keyByteCount, "ChaCha20-Poly1305 key")
        try requireLength(nonce, nonceByteCount, "ChaCha20-Poly1305 nonce")
        guard buffer.count >= tagByteCount, let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw .invalidLength(what: "ChaCha20-Poly1305 buffer", expected: tagByteCount, actual: buffer.count)
        }
        let count = buffer.count - tagByteCount
        var tagLen: UInt64 = 0
        // libsodium allows the ciphertext to overwrite the plaintext (c == m).
        _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(base, base + count, &tagLen, base, UInt64(count),
                                                               associatedData, UInt64(associatedData.count), nil, nonce, key)
    }

    /// `open` of ciphertext ‖ tag read from memory (no copy into an array first).
    /// - Throws: `CryptoError.authenticationFailed` if the tag does not verify; `.invalidLength`.
    public static func open(_ ciphertext: UnsafeRawBufferPointer, key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, keyByteCount, "ChaCha20-Poly1305 key")
        try requireLength(nonce, nonceByteCount, "ChaCha20-Poly1305 nonce")
        guard ciphertext.count >= tagByteCount, let c = ciphertext.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw .authenticationFailed
        }
        var rc: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: ciphertext.count - tagByteCount) { out, count in
            var outLen: UInt64 = 0
            var empty: UInt8 = 0   // an empty plaintext still needs a pointer
            rc = withUnsafeMutablePointer(to: &empty) { e in
                crypto_aead_chacha20poly1305_ietf_decrypt(out.baseAddress ?? e, &outLen, nil, c, UInt64(ciphertext.count),
                                                          associatedData, UInt64(associatedData.count), nonce, key)
            }
            if rc != 0 { out.initialize(repeating: 0) }
            count = out.count
        }
        guard rc == 0 else { throw .authenticationFailed }
        return out
    }

    /// Decrypts ciphertext ‖ tag.
    /// - Throws: `CryptoError.authenticationFailed` if the tag does not verify; `.invalidLength`.
    public static func open(_ ciphertext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, keyByteCount, "ChaCha20-Poly1305 key")
        try requireLength(nonce, nonceByteCount, "ChaCha20-Poly1305 nonce")
        guard ciphertext.count >= tagByteCount else { throw .authenticationFailed }
        var rc: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: ciphertext.count - tagByteCount) { out, count in
            var outLen: UInt64 = 0
            var empty: UInt8 = 0   // an empty plaintext still needs a pointer
            rc = withUnsafeMutablePointer(to: &empty) { e in
                crypto_aead_chacha20poly1305_ietf_decrypt(out.baseAddress ?? e, &outLen, nil, ciphertext, UInt64(ciphertext.count),
                                                          associatedData, UInt64(associatedData.count), nonce, key)
            }
            if rc != 0 { out.initialize(repeating: 0) }
            count = out.count
        }
        guard rc == 0 else { throw .authenticationFailed }
        return out
    }
}

/// XChaCha20-Poly1305 (`crypto_aead_xchacha20poly1305_ietf_*`): 32-byte key, 24-byte nonce
/// (safe to pick at random), 16-byte tag. Used for event bodies.
public enum XChaChaPoly {
    public static let keyByteCount = 32
    public static let nonceByteCount = 24
    public static let tagByteCount = 16

    /// Encrypts under a fresh random nonce; returns nonce(24) ‖ ciphertext ‖ tag(16).
    public static func sealWithRandomNonce(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        let nonce = SecureRandom.bytes(nonceByteCount)
        return nonce + (try seal(plaintext, key: key, nonce: nonce, associatedData: associatedData))
    }

    /// Opens nonce(24) ‖ ciphertext ‖ tag(16) as made by `sealWithRandomNonce`.
    /// - Throws: `CryptoError.authenticationFailed` on a short or tampered box.
    public static func openWithPrefixedNonce(_ box: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        guard box.count >= nonceByteCount + tagByteCount else { throw .authenticationFailed }
        return try open(Array(box[nonceByteCount...]), key: key, nonce: Array(box[0..<nonceByteCount]), associatedData: associatedData)
    }

    /// `sealWithRandomNonce` into `out` (exactly `plaintext.count` + 40 bytes: nonce ‖
    /// ciphertext ‖ tag), without intermediate arrays: for bulk file data.
    /// - Throws: `.invalidLength` for a bad key or `out` size.
    public static func sealWithRandomNonce(_ plaintext: UnsafeRawBufferPointer, key: [UInt8], associatedData: [UInt8],
                                           into out: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        Sodium.ready()
        try requireLength(key, keyByteCount, "XChaCha20-Poly1305 key")
        guard out.count == plaintext.count + nonceByteCount + tagByteCount else {
            throw .invalidLength(what: "XChaCha20-Poly1305 box", expected: plaintext.count + nonceByteCount + tagByteCount, actual: out.count)
        }
        let nonce = SecureRandom.bytes(nonceByteCount)
        out.copyBytes(from: nonce)
        var outLen: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(out.baseAddress! + nonceByteCount, &outLen,
                                                       plaintext.baseAddress, UInt64(plaintext.count),
                                                       associatedData, UInt64(associatedData.count), nil, nonce, key)
    }

    /// `openWithPrefixedNonce` into `out` (exactly `box.count` − 40 bytes), without
    /// intermediate arrays. On failure `out` holds zeros.
    /// - Throws: `.authenticationFailed` on a short or tampered box; `.invalidLength`.
    public static func openWithPrefixedNonce(_ box: UnsafeRawBufferPointer, key: [UInt8], associatedData: [UInt8],
                                             into out: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        Sodium.ready()
        try requireLength(key, keyByteCount, "XChaCha20-Poly1305 key")
        guard box.count >= nonceByteCount + tagByteCount else { throw .authenticationFailed }
        guard out.count == box.count - nonceByteCount - tagByteCount else {
            throw .invalidLength(what: "XChaCha20-Poly1305 plaintext", expected: box.count - nonceByteCount - tagByteCount, actual: out.count)
        }
        var outLen: UInt64 = 0
        let base = box.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out.baseAddress?.assumingMemoryBound(to: UInt8.self), &outLen, nil,
                                                            base + nonceByteCount, UInt64(box.count - nonceByteCount),
                                                            associatedData, UInt64(associatedData.count), base, key)
        guard rc == 0 else { out.initializeMemory(as: UInt8.self, repeating: 0); throw .authenticationFailed }
    }

    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, keyByteCount, "XChaCha20-Poly1305 key")
        try requireLength(nonce, nonceByteCount, "XChaCha20-Poly1305 nonce")
        var out = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var outLen: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(&out, &outLen, plaintext, UInt64(plaintext.count),
                                                       associatedData, UInt64(associatedData.count), nil, nonce, key)
        return out
    }

    public static func open(_ ciphertext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, keyByteCount, "XChaCha20-Poly1305 key")
        try requireLength(nonce, nonceByteCount, "XChaCha20-Poly1305 nonce")
        guard ciphertext.count >= tagByteCount else { throw .authenticationFailed }
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagByteCount)
        var outLen: UInt64 = 0
        let rc = crypto_aead_xchacha20poly1305_ietf_decrypt(&out, &outLen, nil, ciphertext, UInt64(ciphertext.count),
                                                            associatedData, UInt64(associatedData.count), nonce, key)
        guard rc == 0 else { throw .authenticationFailed }
        return out
    }
}
