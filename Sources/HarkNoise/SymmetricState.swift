import HarkCrypto

/// HKDF of Noise rev 34 §4.3, composed from HMAC-SHA256 (HASHLEN = 32).
///
/// Returns `count` (2 or 3) outputs of 32 bytes each. `chainingKey` is 32 bytes; `inputKeyMaterial`
/// is 0 or 32 bytes here.
func noiseHKDF(chainingKey: [UInt8], inputKeyMaterial: [UInt8], count: Int) -> [[UInt8]] {
    precondition(count == 2 || count == 3, "Noise HKDF yields two or three outputs")
    var tempKey = HMACSHA256.authenticationCode(key: chainingKey, data: inputKeyMaterial)
    defer { secureZero(&tempKey) }
    var outputs: [[UInt8]] = []
    var previous: [UInt8] = []
    for i in 1...count {
        previous = HMACSHA256.authenticationCode(key: tempKey, data: previous + [UInt8(i)])
        outputs.append(previous)
    }
    return outputs
}

/// Noise rev 34 §5.2 SymmetricState for SHA256 and ChaChaPoly: chaining key `ck` (32 bytes),
/// handshake hash `h` (32 bytes) and a CipherState. Value type; thread-safe as any Swift value.
struct SymmetricState: Sendable {
    private(set) var chainingKey: [UInt8]
    /// `h`, the hash of everything sent and received so far (32 bytes).
    private(set) var handshakeHash: [UInt8]
    private var cipher: CipherState

    /// InitializeSymmetric(protocol_name) (§5.2): `h` = the name zero-padded to 32 bytes when it
    /// is at most 32 bytes long, else SHA256(name); `ck = h`; empty cipher key.
    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= SHA256.byteCount {
            handshakeHash = name + [UInt8](repeating: 0, count: SHA256.byteCount - name.count)
        } else {
            handshakeHash = SHA256.hash(name)
        }
        chainingKey = handshakeHash
        cipher = CipherState()
    }

    /// MixKey(ikm) (§5.2): `ck, temp_k = HKDF(ck, ikm, 2)`; the cipher key becomes `temp_k`
    /// (HASHLEN = 32 = key length, so no truncation) and the nonce 0.
    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let out = noiseHKDF(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, count: 2)
        chainingKey = out[0]
        cipher = CipherState(key: out[1])
    }

    /// MixHash(data) (§5.2): `h = SHA256(h ‖ data)`.
    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = SHA256.hash(handshakeHash + data)
    }

    /// Whether a cipher key has been mixed in yet (§5.2 HasKey via the CipherState).
    var hasKey: Bool { cipher.hasKey }

    /// EncryptAndHash(plaintext) (§5.2): ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext).
    /// Before the first MixKey the "ciphertext" is the plaintext.
    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encrypt(ad: handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash(ciphertext) (§5.2): plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext).
    /// - Throws: `.decryptFailed` if the tag does not verify.
    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decrypt(ad: handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// Split() (§5.2): `temp_k1, temp_k2 = HKDF(ck, "", 2)`; two CipherStates, the first for
    /// initiator → responder, the second for responder → initiator.
    func split() -> (CipherState, CipherState) {
        let out = noiseHKDF(chainingKey: chainingKey, inputKeyMaterial: [], count: 2)
        return (CipherState(key: out[0]), CipherState(key: out[1]))
    }
}
