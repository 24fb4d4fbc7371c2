import HarkNoise

/// Why a hark handshake failed. After any of these the driver is aborted: close the connection.
public enum HandshakeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The Noise layer refused a message (tampering, different prologue, wrong sizes, weak key…).
    case noise(NoiseError)
    /// The peer's payload is not a valid `Hark_V1_HandshakePayload` or breaks a field rule
    /// (sizes of identity key, signature, token; display name ≤ 64 B; non-empty message 1 payload).
    case malformedPayload(String)
    /// The identity signature does not verify over `"hark-noise-static-v1:" ‖` the Noise static
    /// key the peer actually used in this handshake.
    case invalidIdentitySignature
    /// The peer's payload is larger than 1024 bytes (its size in bytes).
    case payloadTooLarge(Int)
    /// A message arrived when none was expected: before `start()`, or after completion.
    case unexpectedMessage
    /// `start()` was called twice.
    case alreadyStarted
    /// `transport()` was called before the handshake completed.
    case notComplete
    /// An earlier error aborted this handshake.
    case aborted
    /// Our own hello cannot be sent: it breaks a payload rule (e.g. display name over 64 bytes).
    case invalidLocalHello(String)

    public var description: String {
        switch self {
        case let .noise(error): return "handshake: \(error)"
        case let .malformedPayload(why): return "handshake: malformed peer payload: \(why)"
        case .invalidIdentitySignature:
            return "handshake: peer's identity signature does not cover the Noise static key it used"
        case let .payloadTooLarge(n):
            return "handshake: peer payload of \(n) bytes exceeds \(WireLimits.maxHandshakePayloadByteCount) bytes"
        case .unexpectedMessage: return "handshake: message received when none was expected"
        case .alreadyStarted: return "handshake: start() called twice"
        case .notComplete: return "handshake: not complete yet"
        case .aborted: return "handshake: aborted by an earlier error"
        case let .invalidLocalHello(why): return "handshake: local hello is invalid: \(why)"
        }
    }
}
