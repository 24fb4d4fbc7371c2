/// The stream rule for attachments (PROTOCOL.md §3.2): an attachment comes only right after the
/// last record of a frame that announced it, with exactly the announced length, and such a frame
/// is always followed by its attachment. A pure state machine fed by the channel reader in
/// stream order. Value type; use from one task at a time.
public struct AttachmentGate: Sendable, Equatable {
    /// The length of the attachment that must come next, if any.
    public private(set) var due: Int?

    public init() {}

    /// A Noise message arrived (call before opening it).
    /// - Throws: `.missingAttachment` when an attachment was due instead.
    public mutating func message() throws(WireError) {
        if let due { throw .missingAttachment(expected: due) }
    }

    /// A whole frame was opened; `announced` is the attachment length it announces, or nil.
    /// - Throws: `.attachmentLength` for an announced length outside 1 … 262160.
    public mutating func frame(announcing announced: Int?) throws(WireError) {
        guard let announced else { return }
        guard announced > 0, announced <= WireLimits.maxAttachmentByteCount else { throw .attachmentLength(byteCount: announced) }
        due = announced
    }

    /// An attachment of `byteCount` bytes arrived.
    /// - Throws: `.unexpectedAttachment` when none was announced; `.attachmentMismatch` when
    ///   its length is not the announced one.
    public mutating func attachment(byteCount: Int) throws(WireError) {
        guard let due else { throw .unexpectedAttachment(byteCount: byteCount) }
        guard due == byteCount else { throw .attachmentMismatch(expected: due, actual: byteCount) }
        self.due = nil
    }
}
