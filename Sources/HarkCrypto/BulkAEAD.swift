internal import CCryptoBoringSSL
internal import CSodium
internal import Crypto
import Foundation

/// The AEADs that seal a slice of file data (PROTOCOL.md §9.2). Values are the wire values of
/// `BulkCipher` in `ChunkData.cipher`.
public enum BulkCipher: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// XChaCha20-Poly1305 (`crypto_aead_xchacha20poly1305_ietf_*`) under the file key, with a
    /// random 24-byte nonce. Every node can open it.
    case xchacha20Poly1305 = 1
    /// AES-256-GCM (swift-crypto, BoringSSL) under a key of its own per slice,
    /// BLAKE2b-256(key = file key, message = a random 16-byte salt, personal "hark.aesgcm.v1"),
    /// with the all-zero 12-byte nonce. Only where the CPU has AES-NI and PCLMUL, at both ends.
    case aes256GCM = 2
    /// ChaCha20-Poly1305 (RFC 8439) under a key of its own per slice, BLAKE2b-256(key = file
    /// key, message = a random 16-byte salt, personal "hark.chacha.v1"), with the all-zero 12-byte
    /// nonce: the same work as XChaCha20-Poly1305 less one HChaCha20 and 8 nonce bytes per slice.
    /// Every node that offers it opens it.
    case chacha20Poly1305 = 3

    public var description: String {
        switch self {
        case .xchacha20Poly1305: return "XChaCha20-Poly1305"
        case .aes256GCM: return "AES-256-GCM"
        case .chacha20Poly1305: return "ChaCha20-Poly1305"
        }
    }

    /// Bytes of the per-slice value carried in `ChunkData.nonce`: the XChaCha20 nonce (24) or
    /// the key salt of the other two (16).
    public var nonceByteCount: Int {
        switch self {
        case .xchacha20Poly1305: return XChaChaPoly.nonceByteCount
        case .aes256GCM, .chacha20Poly1305: return BulkAEAD.saltByteCount
        }
    }

    /// The BLAKE2b personalisation of the slice key, for the ciphers that derive one.
    var slicePersonal: String? {
        switch self {
        case .xchacha20Poly1305: return nil
        case .aes256GCM: return "hark.aesgcm.v1"
        case .chacha20Poly1305: return "hark.chacha.v1"
        }
    }
}

/// Sealing and opening of bulk data (PROTOCOL.md §9.2). Stateless; thread-safe (calls may run
/// concurrently).
///
/// AES-256-GCM runs through BoringSSL's EVP_AEAD interface (the library under swift-crypto; its
/// VAES code: 13 GB/s a core here, against libsodium's 2.6), called directly so that it seals in
/// place and opens straight into the caller's buffer: swift-crypto's `AES.GCM` returns fresh
/// `Data`, which cost one allocation and one 256 KiB copy per slice at each end.
/// XChaCha20-Poly1305 and ChaCha20-Poly1305 run in place through libsodium: for 256 KiB slices
/// its ChaCha20-Poly1305 measured 1.65 GB/s a core here against 0.94 GB/s through swift-crypto
/// (which is faster, 2.5 GB/s, on 64 KiB records; `hark-bench bulk-crypto`). The bytes are
/// those of RFC 8439 either way.
public enum BulkAEAD {
    /// Tag bytes after each sealed slice (every cipher).
    public static let tagByteCount = 16
    /// Bytes of the random salt from which an AES-256-GCM or ChaCha20-Poly1305 slice key is derived.
    public static let saltByteCount = 16
    /// The former name of `saltByteCount`.
    public static let aesSaltByteCount = saltByteCount
    static let zeroNonce = [UInt8](repeating: 0, count: 12)

    /// Whether this CPU has AES-NI and PCLMUL (`crypto_aead_aes256gcm_is_available`, a CPUID
    /// check), where AES-256-GCM is the fastest cipher.
    public static var aes256GCMAvailable: Bool {
        Sodium.ready()
        return crypto_aead_aes256gcm_is_available() == 1
    }

    /// Seals `buffer`: its first `buffer.count − 16` bytes are the plaintext and receive the
    /// ciphertext, the last 16 receive the tag. Picks a fresh random nonce (XChaCha20) or salt.
    /// - Parameters:
    ///   - key: the 32-byte file key.
    ///   - associatedData: bound into the tag (§9.2 AD).
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
        let count = buffer.count - tagByteCount
        switch cipher {
        case .xchacha20Poly1305:
            let p = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var outLen: UInt64 = 0
            let nonce = SecureRandom.bytes(XChaChaPoly.nonceByteCount)
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(p, &outLen, p, UInt64(count), associatedData, UInt64(associatedData.count),
                                                           nil, nonce, key)
            return nonce
        case .chacha20Poly1305:
            let salt = SecureRandom.bytes(saltByteCount)
            var sliceKey = sliceKey(cipher, fileKey: key, salt: salt)
            defer { secureZero(&sliceKey) }
            try ChaChaPoly.sealInPlace(buffer, key: sliceKey, nonce: zeroNonce, associatedData: associatedData)
            return salt
        case .aes256GCM:
            guard aes256GCMAvailable else { throw .unavailable("AES-256-GCM") }
            let salt = SecureRandom.bytes(saltByteCount)
            var sliceKey = sliceKey(cipher, fileKey: key, salt: salt)
            defer { secureZero(&sliceKey) }
            try AESGCMInPlace.seal(buffer, plaintextCount: count, key: sliceKey, associatedData: associatedData)
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
        let count = out.count
        var ok = false
        switch cipher {
        case .xchacha20Poly1305:
            let c = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let m = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
            var outLen: UInt64 = 0
            ok = crypto_aead_xchacha20poly1305_ietf_decrypt(m, &outLen, nil, c, UInt64(sealed.count),
                                                            associatedData, UInt64(associatedData.count), nonce, key) == 0
        case .chacha20Poly1305:
            var sliceKey = sliceKey(cipher, fileKey: key, salt: nonce)
            defer { secureZero(&sliceKey) }
            let c = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
            // libsodium decrypts in place when m == c (out may be the same memory as sealed).
            ok = crypto_aead_chacha20poly1305_ietf_decrypt_detached(out.baseAddress?.assumingMemoryBound(to: UInt8.self), nil,
                                                                    c, UInt64(count), c + count, associatedData,
                                                                    UInt64(associatedData.count), zeroNonce, sliceKey) == 0
        case .aes256GCM:
            guard aes256GCMAvailable else { throw .unavailable("AES-256-GCM") }
            var sliceKey = sliceKey(cipher, fileKey: key, salt: nonce)
            defer { secureZero(&sliceKey) }
            ok = AESGCMInPlace.open(sealed, key: sliceKey, associatedData: associatedData, into: out)
        }
        guard ok else {
            if !out.isEmpty { out.initializeMemory(as: UInt8.self, repeating: 0) }
            throw .authenticationFailed
        }
    }

    /// BLAKE2b-256(key = file key, message = salt, personal "hark.aesgcm.v1" or "hark.chacha.v1"):
    /// the key of one slice. A fresh random salt per slice means a fresh key per slice, so the
    /// fixed all-zero nonce is never used twice under one key.
    static func sliceKey(_ cipher: BulkCipher, fileKey: [UInt8], salt: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(salt, key: fileKey, personal: cipher.slicePersonal!)
    }

    /// The AES-256-GCM slice key (`sliceKey` for `.aes256GCM`).
    static func aesSliceKey(fileKey: [UInt8], salt: [UInt8]) -> [UInt8] {
        sliceKey(.aes256GCM, fileKey: fileKey, salt: salt)
    }
}

/// AES-256-GCM with the all-zero 12-byte nonce and a 16-byte tag through BoringSSL's
/// `EVP_AEAD_CTX_seal` / `EVP_AEAD_CTX_open` (`EVP_aead_aes_256_gcm`), without intermediate
/// buffers: the bytes are those of swift-crypto's `AES.GCM` (the same library and code).
/// Each call sets up a context for its one key (a new key per slice, §9.2) and frees it.
/// Stateless; thread-safe.
enum AESGCMInPlace {
    /// Seals the first `plaintextCount` bytes of `buffer` in place and writes the 16-byte tag
    /// right after them (`buffer.count` must be `plaintextCount + 16`).
    /// - Throws: `.unavailable` when BoringSSL refuses (it does not for valid sizes).
    static func seal(_ buffer: UnsafeMutableRawBufferPointer, plaintextCount count: Int, key: [UInt8],
                     associatedData: [UInt8]) throws(CryptoError) {
        precondition(key.count == 32 && buffer.count == count + BulkAEAD.tagByteCount)
        guard let ctx = CCryptoBoringSSL_EVP_AEAD_CTX_new(CCryptoBoringSSL_EVP_aead_aes_256_gcm(), key, key.count,
                                                          BulkAEAD.tagByteCount) else {
            throw .unavailable("AES-256-GCM context")
        }
        defer { CCryptoBoringSSL_EVP_AEAD_CTX_free(ctx) }
        let p = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var outLength = 0
        let ok = BulkAEAD.zeroNonce.withUnsafeBufferPointer { nonce in
            associatedData.withUnsafeBufferPointer { ad in
                CCryptoBoringSSL_EVP_AEAD_CTX_seal(ctx, p, &outLength, buffer.count, nonce.baseAddress, nonce.count,
                                                   p, count, ad.baseAddress, ad.count)
            }
        }
        guard ok == 1, outLength == buffer.count else { throw .unavailable("AES-256-GCM seal") }
    }

    /// Opens `sealed` (ciphertext ‖ 16-byte tag) into `out` (`sealed.count − 16` bytes; may be
    /// the same memory as `sealed`). False when the tag does not verify.
    static func open(_ sealed: UnsafeRawBufferPointer, key: [UInt8], associatedData: [UInt8],
                     into out: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(key.count == 32 && out.count == sealed.count - BulkAEAD.tagByteCount)
        guard let ctx = CCryptoBoringSSL_EVP_AEAD_CTX_new(CCryptoBoringSSL_EVP_aead_aes_256_gcm(), key, key.count,
                                                          BulkAEAD.tagByteCount) else { return false }
        defer { CCryptoBoringSSL_EVP_AEAD_CTX_free(ctx) }
        var outLength = 0
        // BoringSSL needs a non-null output pointer even for an empty plaintext.
        var empty: UInt8 = 0
        let ok = withUnsafeMutablePointer(to: &empty) { fallback in
            BulkAEAD.zeroNonce.withUnsafeBufferPointer { nonce in
                associatedData.withUnsafeBufferPointer { ad in
                    CCryptoBoringSSL_EVP_AEAD_CTX_open(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? fallback,
                                                       &outLength, out.count, nonce.baseAddress, nonce.count,
                                                       sealed.baseAddress!.assumingMemoryBound(to: UInt8.self), sealed.count,
                                                       ad.baseAddress, ad.count)
                }
            }
        }
        return ok == 1 && outLength == out.count
    }
}
