/// Size and shape limits of an event (PROTOCOL.md §4.2). Checked by `Event(decoding:)` and
/// `EventAuthor.make`; a peer that sends anything larger is misbehaving.
public enum EventLimits {
    /// The only header `format` this code understands.
    public static let format: UInt32 = 1
    /// Largest serialized `EventHeader`: 2048 bytes.
    public static let maxHeaderBytes = 2048
    /// Largest event body (nonce ‖ ciphertext ‖ tag): 65536 bytes.
    public static let maxBodyBytes = 65536
    /// Most *other* parents an event may name (the self-parent is not counted).
    public static let maxParents = 16
    /// Size of an event ID, a body hash, a group ID and an author key: 32 bytes.
    public static let hashBytes = 32
    /// Largest reaction emoji: 32 bytes of UTF-8.
    public static let maxEmojiBytes = 32
    /// Most members one message may mention (`Text.mentions`, PROTOCOL.md §4.7.8); later entries are ignored.
    public static let maxMentions = 64
    /// Size of an event signature: 64 bytes.
    public static let signatureBytes = 64
    /// Largest `SignedEvent` encoding accepted by `Event(decodingBytes:)`: header + signature +
    /// body + 16 bytes of protobuf tags and lengths (3 fields × (1-byte tag + ≤ 3-byte length)).
    public static let maxSignedEventBytes = maxHeaderBytes + signatureBytes + maxBodyBytes + 16
}

/// Domain-separation constants of the event format. Changing any of them changes every ID.
enum EventDomain {
    /// BLAKE2b personalisation of the event ID hash.
    static let idPersonal = "hark.event.v1"
    /// BLAKE2b personalisation of the body hash.
    static let bodyPersonal = "hark.body.v1"
    /// Prefix of the signed message: ASCII `"hark-event-sig-v1"`, followed by the 32-byte ID.
    static let signaturePrefix: [UInt8] = Array("hark-event-sig-v1".utf8)
}
