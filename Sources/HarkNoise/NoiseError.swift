import HarkCrypto

/// Why a Noise handshake or transport operation failed.
///
/// Every case names what happened and, through `description`, why. After any error from
/// ``NoiseHandshake/readMessage(_:)`` or ``NoiseHandshake/writeMessage(payload:)`` the handshake
/// is aborted (Noise rev 34 §5.3: "any error … the handshake has failed"); later calls throw
/// ``handshakeFailed``. After ``decryptFailed`` from ``NoiseTransport/decrypt(_:)`` the caller
/// should close the channel: on a stream, a message that does not authenticate means the peer
/// or the path is broken.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `writeMessage` was called while the peer is due to write, or `readMessage` while we are.
    case wrongTurn
    /// The handshake already finished all three XX messages; use ``NoiseHandshake/split()``.
    case handshakeAlreadyComplete
    /// An earlier error aborted this handshake; start a new one.
    case handshakeFailed
    /// A received message is shorter than the tokens of its handshake step (or a transport
    /// message shorter than the 16-byte tag) require.
    case messageTooShort(byteCount: Int, minimum: Int)
    /// A message (received, or about to be written) exceeds the Noise limit of 65535 bytes
    /// (rev 34 §3), or a transport plaintext exceeds 65535 − 16 bytes.
    case messageTooLarge(byteCount: Int, limit: Int)
    /// ChaCha20-Poly1305 authentication failed: wrong key, wrong prologue or handshake
    /// transcript, or tampered bytes.
    case decryptFailed
    /// The 64-bit nonce reached 2^64 − 1, which Noise reserves (rev 34 §5.1); no more messages
    /// may be sent or received with this CipherState.
    case nonceExhausted
    /// `split()` was called before the handshake finished.
    case handshakeNotComplete
    /// The peer's public key is of low order: X25519 gave the all-zero output (rev 34 §12.1).
    case weakKey
    /// A HarkCrypto primitive refused its input for a reason other than the above (for
    /// example a key of the wrong size). Indicates a bug, not a hostile peer.
    case cryptoFailure(CryptoError)

    public var description: String {
        switch self {
        case .wrongTurn:
            return "Noise: not this side's turn for that operation in the XX handshake"
        case .handshakeAlreadyComplete:
            return "Noise: handshake already complete; call split() for the transport"
        case .handshakeFailed:
            return "Noise: handshake was aborted by an earlier error; start a new handshake"
        case let .messageTooShort(byteCount, minimum):
            return "Noise: message of \(byteCount) bytes is too short (at least \(minimum) bytes expected)"
        case let .messageTooLarge(byteCount, limit):
            return "Noise: message of \(byteCount) bytes exceeds the limit of \(limit) bytes"
        case .decryptFailed:
            return "Noise: decryption failed (wrong key, different prologue, or tampered message)"
        case .nonceExhausted:
            return "Noise: nonce exhausted (2^64 - 1 reached); the channel must be re-established"
        case .handshakeNotComplete:
            return "Noise: handshake not complete; split() needs all three XX messages"
        case .weakKey:
            return "Noise: peer public key is of low order (all-zero X25519 output)"
        case let .cryptoFailure(error):
            return "Noise: cryptographic primitive failed: \(error)"
        }
    }
}
