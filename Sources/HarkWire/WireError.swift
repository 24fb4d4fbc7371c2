import HarkNoise

/// Why framing or the record layer refused bytes. Each case says what was wrong; after any of
/// them the connection should be closed (the stream is no longer in a known state).
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An empty Noise message to frame: hark never sends one (on the stream, a length prefix of 0
    /// starts an attachment instead, §3.2).
    case zeroLengthMessage
    /// The stream ended inside a message: `bufferedByteCount` bytes of an incomplete frame.
    case truncatedMessage(bufferedByteCount: Int)
    /// A Noise message to be length-prefixed exceeds 65535 bytes.
    case messageTooLarge(byteCount: Int, limit: Int)
    /// Noise transport decryption or encryption failed.
    case noise(NoiseError)
    /// A decrypted record was empty: it lacks the flag byte.
    case emptyRecord
    /// The flag byte had bits other than bit 0 ("more fragments follow") set.
    case unknownFlagBits(UInt8)
    /// A fragment that announced more to follow was not of the full size (65518 bytes), which
    /// hark's sender always uses for non-final fragments.
    case shortFragment(byteCount: Int, expected: Int)
    /// A frame (to send, or reassembled) exceeds 1 MiB.
    case frameTooLarge(byteCount: Int, limit: Int)
    /// The reassembled bytes are not a valid `Hark_V1_Frame`.
    case frameDecodeFailed(String)
    /// SwiftProtobuf could not serialize the frame to send.
    case frameEncodeFailed(String)
    /// An attachment header, or a frame announcing one, gave a length outside 1 … 262160 bytes.
    case attachmentLength(byteCount: Int)
    /// A length prefix of 0 (an attachment) arrived before the handshake was over (§3.1):
    /// refused as soon as the 2-byte prefix is read, before the attachment's length.
    case attachmentBeforeHandshake
    /// An attachment arrived where no frame had announced one (§3.2).
    case unexpectedAttachment(byteCount: Int)
    /// A Noise message arrived where the attachment announced by the previous frame was due.
    case missingAttachment(expected: Int)
    /// An attachment's length differs from the one its frame announced.
    case attachmentMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .zeroLengthMessage: return "wire: length prefix of 0 (empty messages are not allowed)"
        case let .truncatedMessage(n): return "wire: stream ended inside a message (\(n) bytes buffered)"
        case let .messageTooLarge(n, limit): return "wire: message of \(n) bytes exceeds the limit of \(limit) bytes"
        case let .noise(error): return "wire: \(error)"
        case .emptyRecord: return "wire: empty record (missing flag byte)"
        case let .unknownFlagBits(flag): return "wire: record flag byte 0x\(String(flag, radix: 16)) has unknown bits set"
        case let .shortFragment(n, expected): return "wire: non-final fragment of \(n) bytes (must be \(expected))"
        case let .frameTooLarge(n, limit): return "wire: frame of \(n) bytes exceeds the limit of \(limit) bytes"
        case let .frameDecodeFailed(why): return "wire: frame does not decode: \(why)"
        case let .frameEncodeFailed(why): return "wire: frame does not encode: \(why)"
        case let .attachmentLength(n): return "wire: attachment of \(n) bytes (must be 1 … \(WireLimits.maxAttachmentByteCount))"
        case .attachmentBeforeHandshake: return "wire: an attachment (length prefix 0) before the handshake was over"
        case let .unexpectedAttachment(n): return "wire: attachment of \(n) bytes that no frame announced"
        case let .missingAttachment(n): return "wire: a record where the announced attachment of \(n) bytes was due"
        case let .attachmentMismatch(expected, actual): return "wire: attachment of \(actual) bytes where \(expected) were announced"
        }
    }
}
