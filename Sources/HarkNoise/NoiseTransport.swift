import HarkCrypto

/// The transport phase of a completed Noise handshake (rev 34 §5.2 Split, §5.1 CipherState):
/// one CipherState for sending and one for receiving, oriented for this side.
///
/// hark rule: each CipherState calls Rekey() (rev 34 §4.2, §11.3) after every
/// ``rekeyInterval`` messages it has processed, on both sides, without any signalling. The
/// nonce is not reset by Rekey, so message number `i` (from 0) is sealed under nonce `i` with
/// key generation `i / 65536`.
///
/// Associated data is always empty. Messages are at most 65535 bytes; plaintexts at most
/// ``maxPlaintextByteCount`` (65519) bytes.
///
/// Value type; `Sendable`. The two directions are independent, but a single value must be
/// mutated from one task at a time.
public struct NoiseTransport: Sendable {
    /// Messages per key generation: Rekey() after every 2^16 messages in each direction.
    public static let rekeyInterval: UInt64 = 65536
    /// Largest plaintext one transport message can carry: 65535 − 16 bytes.
    public static let maxPlaintextByteCount = NoiseHandshake.maxMessageByteCount - ChaChaPoly.tagByteCount

    private var sending: CipherState
    private var receiving: CipherState
    /// The final handshake hash `h` (32 bytes), identical on both sides; use it for channel
    /// binding (rev 34 §11.2).
    public let handshakeHash: [UInt8]

    init(sending: CipherState, receiving: CipherState, handshakeHash: [UInt8]) {
        self.sending = sending
        self.receiving = receiving
        self.handshakeHash = handshakeHash
    }

    /// Encrypts one transport message: ciphertext ‖ 16-byte tag (plaintext.count + 16 bytes).
    /// - Throws: `.messageTooLarge(byteCount:limit:)` for a plaintext over 65519 bytes;
    ///   `.nonceExhausted` after 2^64 − 1 messages.
    public mutating func encrypt(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard plaintext.count <= Self.maxPlaintextByteCount else {
            throw .messageTooLarge(byteCount: plaintext.count, limit: Self.maxPlaintextByteCount)
        }
        let message = try sending.encrypt(ad: [], plaintext: plaintext)
        if sending.nonce % Self.rekeyInterval == 0 { try sending.rekey() }
        return message
    }

    /// Decrypts one transport message.
    /// - Throws: `.messageTooLarge(byteCount:limit:)` over 65535 bytes;
    ///   `.messageTooShort(byteCount:minimum:)` under 16; `.decryptFailed` if it does not
    ///   authenticate (the nonce does not advance; close the channel); `.nonceExhausted`.
    public mutating func decrypt(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard ciphertext.count <= NoiseHandshake.maxMessageByteCount else {
            throw .messageTooLarge(byteCount: ciphertext.count, limit: NoiseHandshake.maxMessageByteCount)
        }
        guard ciphertext.count >= ChaChaPoly.tagByteCount else {
            throw .messageTooShort(byteCount: ciphertext.count, minimum: ChaChaPoly.tagByteCount)
        }
        let plaintext = try receiving.decrypt(ad: [], ciphertext: ciphertext)
        if receiving.nonce % Self.rekeyInterval == 0 { try receiving.rekey() }
        return plaintext
    }

    /// `encrypt` in place: `buffer` holds the plaintext (≤ 65519 bytes) followed by 16 bytes of
    /// room, which receive the tag. Same nonce and rekey rules as `encrypt`.
    public mutating func encrypt(inPlace buffer: UnsafeMutableRawBufferPointer) throws(NoiseError) {
        let count = buffer.count - ChaChaPoly.tagByteCount
        guard count >= 0, count <= Self.maxPlaintextByteCount else {
            throw .messageTooLarge(byteCount: max(count, 0), limit: Self.maxPlaintextByteCount)
        }
        try sending.encryptInPlace(ad: [], buffer)
        if sending.nonce % Self.rekeyInterval == 0 { try sending.rekey() }
    }

    /// `decrypt` of a message in memory (a slice of the receive buffer: no copy first).
    public mutating func decrypt(_ ciphertext: UnsafeRawBufferPointer) throws(NoiseError) -> [UInt8] {
        guard ciphertext.count <= NoiseHandshake.maxMessageByteCount else {
            throw .messageTooLarge(byteCount: ciphertext.count, limit: NoiseHandshake.maxMessageByteCount)
        }
        guard ciphertext.count >= ChaChaPoly.tagByteCount else {
            throw .messageTooShort(byteCount: ciphertext.count, minimum: ChaChaPoly.tagByteCount)
        }
        let plaintext = try receiving.decrypt(ad: [], ciphertext: ciphertext)
        if receiving.nonce % Self.rekeyInterval == 0 { try receiving.rekey() }
        return plaintext
    }

    /// Number of messages sent so far (the next sending nonce). For diagnostics and tests.
    public var sentMessageCount: UInt64 { sending.nonce }
    /// Number of messages received so far (the next receiving nonce).
    public var receivedMessageCount: UInt64 { receiving.nonce }
}
