/// Errors from HarkCrypto. Each case says which operation failed and why.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A key, nonce or signature had the wrong size.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// AEAD decryption failed: wrong key, wrong nonce, wrong associated data, or tampered ciphertext.
    case authenticationFailed
    /// X25519 produced the all-zero shared secret (a low-order public key); Noise rev 34 §12.1 lets us refuse it.
    case weakPublicKey
    /// `sodium_unpad` found no valid ISO/IEC 7816-4 padding.
    case invalidPadding
    /// Text that should hold an encoded key or token did not decode.
    case invalidEncoding(String)
    /// The primitive is not available on this CPU (libsodium's AES-256-GCM needs AES-NI and PCLMUL).
    case unavailable(String)

    public var description: String {
        switch self {
        case let .invalidLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case .authenticationFailed: return "authentication failed (wrong key or tampered data)"
        case .weakPublicKey: return "peer public key is of low order (all-zero shared secret)"
        case .invalidPadding: return "invalid padding"
        case let .invalidEncoding(why): return "invalid encoding: \(why)"
        case let .unavailable(what): return "\(what) is not available on this CPU"
        }
    }
}

@inline(__always)
func requireLength(_ bytes: [UInt8], _ n: Int, _ what: String) throws(CryptoError) {
    guard bytes.count == n else { throw .invalidLength(what: what, expected: n, actual: bytes.count) }
}
