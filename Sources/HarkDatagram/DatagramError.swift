/// Why a datagram was refused (receiver) or could not be made (sender). A receiver drops the
/// packet and carries on: UDP is lossy, and none of these closes the Noise channel.
public enum DatagramError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than 45 bytes (``DatagramLimits/minDatagramByteCount``).
    case tooShort
    /// More than 1200 bytes (``DatagramLimits/maxDatagramByteCount``); at seal: the padded
    /// datagram would not fit.
    case tooLarge
    /// No current or (still valid) previous receive key has this key_id.
    case unknownKey
    /// The ChaCha20-Poly1305 tag did not verify: forged, corrupted, or under another key.
    case authenticationFailed
    /// The counter was already accepted under this key.
    case replayed
    /// The counter is more than 8128 below the highest accepted one: outside the replay window.
    case tooOld
    /// Not a datagram hark's sender would produce: unknown type byte, a ciphertext that is not a
    /// whole number of padding blocks, counter ≥ 2^64 − 2^13, bad padding, a `Datagram` that does
    /// not decode, has no known kind or breaks a field rule (PROTOCOL.md §7.1); also a bad
    /// `DatagramKey` announcement.
    case malformed(String)
    /// Sender only: the counter reached 2^64 − 2^13; the key must be rotated.
    case counterExhausted

    public var description: String {
        switch self {
        case .tooShort: return "datagram: shorter than \(DatagramLimits.minDatagramByteCount) bytes"
        case .tooLarge: return "datagram: larger than \(DatagramLimits.maxDatagramByteCount) bytes"
        case .unknownKey: return "datagram: unknown key_id"
        case .authenticationFailed: return "datagram: authentication failed"
        case .replayed: return "datagram: counter already seen (replay)"
        case .tooOld: return "datagram: counter behind the replay window"
        case let .malformed(why): return "datagram: malformed: \(why)"
        case .counterExhausted: return "datagram: send counter exhausted"
        }
    }
}
