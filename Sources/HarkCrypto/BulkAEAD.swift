internal import CSodium

/// The AEADs that seal a slice of file data (PROTOCOL.md §11.2). Values are the wire values of
/// `BulkCipher` in `ChunkData.cipher`.
public enum BulkCipher: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// XChaCha20-Poly1305 (`crypto_aead_xchacha20poly1305_ietf_*`) under the file key, with a
    /// random 24-byte nonce. Every node can open it.
    case xchacha20Poly1305 = 1
    /// AES-256-GCM (`crypto_aead_aes256gcm_*`) under a key of its own per slice,
    /// BLAKE2b-256(key = file key, message = a random 16-byte salt, personal "hark.aesgcm.v1"),
    /// with the all-zero 12-byte nonce. Only where libsodium has it (AES-NI and PCLMUL) at both ends.
    case aes256GCM = 2

    public var description: String {
        switch self {
        case .xchacha20Poly1305: return "XChaCha20-Poly1305"
        case .aes256GCM: return "AES-256-GCM"
        }
    }

    /// Bytes of the per-slice value carried in `ChunkData.nonce`: the XChaCha20 nonce (24) or
    /// the AES-256-GCM key salt (16).
    public var nonceByteCount: Int {
        switch self {
        case .xchacha20Poly1305: return XChaChaPoly.nonceByteCount
        case .aes256GCM: return BulkAEAD.aesSaltByteCount
        }
    }
}

/// Sealing and opening of bulk data in place, without intermediate arrays (PROTOCOL.md §11.2).
/// Stateless; thread-safe (calls may run concurrently).
public enum BulkAEAD {
    /// Tag bytes after each sealed slice (both ciphers).
    public static let tagByteCount = 16
    /// Bytes of the random salt from which an AES-256-GCM slice key is derived.
    public static let aesSaltByteCount = 16
    static let aesPersonal = "hark.aesgcm.v1"

    /// Whether this CPU runs libsodium's AES-256-GCM (`crypto_aead_aes256gcm_is_available`).
    public static var aes256GCMAvailable: Bool {
        Sodium.ready()
        return crypto_aead_aes256gcm_is_available() == 1
    }

    /// Seals `buffer` in place: its first `buffer.count − 16` bytes are the plaintext, the last
    /// 16 receive the tag. Picks a fresh random nonce (XChaCha20) or salt (AES-256-GCM).
    /// - Parameters:
    ///   - key: the 32-byte file key.
    ///   - associatedData: bound into the tag (§11.2 AD).
    /// - Returns: the value for `ChunkData.nonce` (`cipher.nonceByteCount` bytes).
    /// - Throws: `.invalidLength` for a bad key or a buffer under 16 bytes; `.unavailable` for
    ///   AES-256-GCM on a CPU without it.
    public static func seal(inPlace buffer: UnsafeMutableRawBufferPointer, cipher: BulkCipher, key: [UInt8],
                            associatedData: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ready()
        try requireLength(key, XChaChaPoly.keyByteCount, "file key")
        guard buffer.count >= tagByteCount else {
            throw .invalidLength(what: "sealed slice", expected: tagByteCount, actual: buffer.count)
        }
        let count = UInt64(buffer.count - tagByteCount)
        let p = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var outLen: UInt64 = 0
        switch cipher {
        case .xchacha20Poly1305:
            let nonce = SecureRandom.bytes(XChaChaPoly.nonceByteCount)
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(p, &outLen, p, count, associatedData, UInt64(associatedData.count),
                                                           nil, nonce, key)
            return nonce
        case .aes256GCM:
            guard aes256GCMAvailable else { throw .unavailable("AES-256-GCM") }
            let salt = SecureRandom.bytes(aesSaltByteCount)
            var sliceKey = aesSliceKey(fileKey: key, salt: salt)
            defer { secureZero(&sliceKey) }
            let nonce = [UInt8](repeating: 0, count: Int(crypto_aead_aes256gcm_NPUBBYTES))
            _ = crypto_aead_aes256gcm_encrypt(p, &outLen, p, count, associatedData, UInt64(associatedData.count),
                                              nil, nonce, sliceKey)
            return salt
        }
    }

    /// Opens `sealed` (ciphertext ‖ 16-byte tag) into `out` (exactly `sealed.count − 16`
    /// bytes; may be the same memory as `sealed`). On failure `out` holds zeros.
    /// - Throws: `.authenticationFailed` when the tag does not verify (wrong key, nonce, AD or
    ///   tampered bytes) or `sealed` is under 16 bytes; `.invalidLength` for a bad key, nonce
    ///   or `out`; `.unavailable` for AES-256-GCM on a CPU without it.
    public static func open(_ sealed: UnsafeRawBufferPointer, cipher: BulkCipher, key: [UInt8], nonce: [UInt8],
                            associatedData: [UInt8], into out: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        Sodium.ready()
        try requireLength(key, XChaChaPoly.keyByteCount, "file key")
        try requireLength(nonce, cipher.nonceByteCount, "\(cipher) nonce")
        guard sealed.count >= tagByteCount else { throw .authenticationFailed }
        guard out.count == sealed.count - tagByteCount else {
            throw .invalidLength(what: "opened slice", expected: sealed.count - tagByteCount, actual: out.count)
        }
        let c = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let m = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var outLen: UInt64 = 0
        let rc: Int32
        switch cipher {
        case .xchacha20Poly1305:
            rc = crypto_aead_xchacha20poly1305_ietf_decrypt(m, &outLen, nil, c, UInt64(sealed.count),
                                                            associatedData, UInt64(associatedData.count), nonce, key)
        case .aes256GCM:
            guard aes256GCMAvailable else { throw .unavailable("AES-256-GCM") }
            var sliceKey = aesSliceKey(fileKey: key, salt: nonce)
            defer { secureZero(&sliceKey) }
            let zero = [UInt8](repeating: 0, count: Int(crypto_aead_aes256gcm_NPUBBYTES))
            rc = crypto_aead_aes256gcm_decrypt(m, &outLen, nil, c, UInt64(sealed.count),
                                               associatedData, UInt64(associatedData.count), zero, sliceKey)
        }
        guard rc == 0 else {
            if !out.isEmpty { out.initializeMemory(as: UInt8.self, repeating: 0) }
            throw .authenticationFailed
        }
    }

    /// BLAKE2b-256(key = file key, message = salt, personal "hark.aesgcm.v1"): the AES-256-GCM
    /// key of one slice. A fresh random salt per slice means a fresh key per slice, so the fixed
    /// all-zero nonce is never used twice under one key.
    static func aesSliceKey(fileKey: [UInt8], salt: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(salt, key: fileKey, personal: aesPersonal)
    }
}
