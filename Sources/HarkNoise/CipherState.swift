import HarkCrypto

/// Noise rev 34 §5.1 CipherState for ChaChaPoly (§12.3): a 32-byte key `k` (or none) and a
/// 64-bit nonce `n`. Value type; no shared state, so thread-safe as any Swift value.
struct CipherState: Sendable {
    /// Nonce value Noise reserves (§5.1): encrypting or decrypting with it is an error, and
    /// Rekey (§11.3) uses it.
    static let maxNonce: UInt64 = .max

    private(set) var key: [UInt8]?
    /// The nonce for the next message (§5.1 `n`).
    private(set) var nonce: UInt64

    /// InitializeKey(k) (§5.1): sets `k` (32 bytes, or nil for "empty") and `n = 0`.
    init(key: [UInt8]? = nil) {
        self.key = key
        self.nonce = 0
    }

    /// For tests: a key together with an arbitrary starting nonce (SetNonce, §5.1).
    init(key: [UInt8], nonce: UInt64) {
        self.key = key
        self.nonce = nonce
    }

    /// HasKey() (§5.1).
    var hasKey: Bool { key != nil }

    /// EncryptWithAd(ad, plaintext) (§5.1): without a key returns `plaintext`; otherwise
    /// ciphertext ‖ 16-byte tag under nonce `n`, then `n += 1`.
    /// - Throws: `.nonceExhausted` if `n` is 2^64 − 1.
    mutating func encrypt(ad: [UInt8], plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        guard nonce != Self.maxNonce else { throw .nonceExhausted }
        let out: [UInt8]
        do { out = try ChaChaPoly.seal(plaintext, key: key, nonce: ChaChaPoly.nonce(counter: nonce), associatedData: ad) }
        catch { throw .cryptoFailure(error) }
        nonce += 1
        return out
    }

    /// EncryptWithAd in place, for a keyed state: `buffer` holds the plaintext and 16 bytes of
    /// room after it for the tag. Then `n += 1`.
    /// - Throws: `.nonceExhausted`; `.cryptoFailure` without a key.
    mutating func encryptInPlace(ad: [UInt8], _ buffer: UnsafeMutableRawBufferPointer) throws(NoiseError) {
        guard let key else { throw .cryptoFailure(.invalidLength(what: "CipherState key", expected: ChaChaPoly.keyByteCount, actual: 0)) }
        guard nonce != Self.maxNonce else { throw .nonceExhausted }
        do { try ChaChaPoly.sealInPlace(buffer, key: key, nonce: ChaChaPoly.nonce(counter: nonce), associatedData: ad) }
        catch { throw .cryptoFailure(error) }
        nonce += 1
    }

    /// DecryptWithAd of a ciphertext in memory, for a keyed state (as `decrypt(ad:ciphertext:)`).
    mutating func decrypt(ad: [UInt8], ciphertext: UnsafeRawBufferPointer) throws(NoiseError) -> [UInt8] {
        guard let key else { return Array(ciphertext) }
        guard nonce != Self.maxNonce else { throw .nonceExhausted }
        let out: [UInt8]
        do { out = try ChaChaPoly.open(ciphertext, key: key, nonce: ChaChaPoly.nonce(counter: nonce), associatedData: ad) }
        catch .authenticationFailed { throw .decryptFailed }
        catch { throw .cryptoFailure(error) }
        nonce += 1
        return out
    }

    /// DecryptWithAd(ad, ciphertext) (§5.1): without a key returns `ciphertext`; otherwise
    /// the plaintext, then `n += 1`. On failure `n` is left unchanged (§5.1).
    /// - Throws: `.nonceExhausted` if `n` is 2^64 − 1; `.decryptFailed` if the tag does not verify.
    mutating func decrypt(ad: [UInt8], ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext }
        guard nonce != Self.maxNonce else { throw .nonceExhausted }
        let out: [UInt8]
        do { out = try ChaChaPoly.open(ciphertext, key: key, nonce: ChaChaPoly.nonce(counter: nonce), associatedData: ad) }
        catch .authenticationFailed { throw .decryptFailed }
        catch { throw .cryptoFailure(error) }
        nonce += 1
        return out
    }

    /// Rekey() (§5.1, §4.2 REKEY, §11.3): `k = first 32 bytes of ENCRYPT(k, 2^64 − 1, "", 32 zero bytes)`.
    /// The nonce is not reset. No-op without a key.
    mutating func rekey() throws(NoiseError) {
        guard var old = key else { return }
        let zeros = [UInt8](repeating: 0, count: ChaChaPoly.keyByteCount)
        var sealed: [UInt8]
        do { sealed = try ChaChaPoly.seal(zeros, key: old, nonce: ChaChaPoly.nonce(counter: Self.maxNonce)) }
        catch { throw .cryptoFailure(error) }
        key = Array(sealed.prefix(ChaChaPoly.keyByteCount))
        secureZero(&old)
        secureZero(&sealed)
    }
}
