import HarkNoise

/// The fixed numbers of hark's wire format (PROTOCOL.md, channel layer). All sizes in bytes.
public enum WireLimits {
    /// Largest Noise message, handshake or transport: 65535 bytes (Noise rev 34 §3), which is also
    /// the largest value of the 2-byte big-endian length prefix.
    public static let maxNoiseMessageByteCount = NoiseHandshake.maxMessageByteCount
    /// Largest serialized `Hark_V1_HandshakePayload` hark accepts in handshake message 2 or 3: 1024 bytes.
    public static let maxHandshakePayloadByteCount = 1024
    /// Largest reassembled transport frame (a serialized `Hark_V1_Frame`): 1 MiB = 1_048_576 bytes.
    public static let maxFrameByteCount = 1_048_576
    /// Largest fragment carried by one transport message: 65535 − 16 (tag) − 1 (flag byte) = 65518 bytes.
    public static let maxFragmentByteCount = NoiseTransport.maxPlaintextByteCount - 1
    /// Length of the big-endian length prefix in front of every Noise message: 2 bytes.
    public static let lengthPrefixByteCount = 2
    /// Header of an attachment on the stream: `BE16 0 ‖ BE32 length`, 6 bytes.
    public static let attachmentHeaderByteCount = 6
    /// Largest attachment: a 256 KiB chunk slice and its 16-byte tag, 262160 bytes.
    public static let maxAttachmentByteCount = 256 * 1024 + 16
    /// Largest display name in a handshake payload: 64 bytes of UTF-8.
    public static let maxDisplayNameByteCount = 64
    /// Size of the per-start instance token: 8 bytes.
    public static let instanceTokenByteCount = 8
    /// The Noise prologue of every hark connection (Noise rev 34 §6): the 6 bytes `"hark/1"`.
    public static let prologue: [UInt8] = Array("hark/1".utf8)
    /// Domain separation prefix of the identity signature over the Noise static key:
    /// Ed25519 signs `"hark-noise-static-v1:" ‖ static public key (32 B)`.
    public static let staticKeySignatureDomain = "hark-noise-static-v1:"
}
