import NIOCore

/// One unit of a channel's TCP byte stream (PROTOCOL.md §3.2).
public enum StreamUnit: Sendable, Equatable {
    /// A Noise message, handshake or transport: `BE16 n ‖ n bytes`, n = 1 … 65535.
    case message(ByteBuffer)
    /// An attachment: `BE16 0 ‖ BE32 m ‖ m bytes`, m = 1 … ``WireLimits/maxAttachmentByteCount``.
    /// Bytes already sealed end to end under another key (a file chunk slice, §9.2), carried
    /// beside the Noise records instead of inside them; the frame just before announces its length.
    case attachment(ByteBuffer)
}

/// Splits a TCP byte stream into ``StreamUnit``s (a slice of the receive buffer each, no copy).
///
/// Before the handshake is over (the first `handshakeMessageCount` units, PROTOCOL.md §3.1) only
/// Noise handshake messages may come: a length prefix of 0 (an attachment) throws
/// `WireError.attachmentBeforeHandshake` as soon as its 2 bytes are in, and a prefix above
/// ``HandshakeDriver/maxMessageByteCount`` (1120 bytes) throws `.messageTooLarge`, so an
/// unauthenticated peer makes the decoder hold at most 2 + 1120 bytes. After it, throws
/// `.attachmentLength` for an attachment of 0 or more than 262160 bytes. Throws
/// `.truncatedMessage` when the stream ends inside a unit. Holds at most one incomplete unit
/// (≤ 6 + 262160 bytes). Whether an attachment may come at this point of the stream is the
/// reader's business (``AttachmentGate``). A value type owned by its `ByteToMessageHandler`,
/// i.e. by one channel's event loop.
public struct StreamUnitDecoder: ByteToMessageDecoder {
    public typealias InboundOut = StreamUnit

    /// Handshake messages still expected from the peer before attachments may come.
    public private(set) var handshakeMessagesLeft: Int

    /// - Parameter handshakeMessageCount: how many Noise handshake messages the peer sends
    ///   before the handshake is over: 2 for a responder (messages 1 and 3 of XX), 1 for an
    ///   initiator (message 2); 0 skips the handshake rules (a stream already authenticated).
    public init(handshakeMessageCount: Int = 0) {
        self.handshakeMessagesLeft = max(0, handshakeMessageCount)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let unit = try next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(unit))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        let state = try decode(context: context, buffer: &buffer)
        if state == .needMoreData, buffer.readableBytes > 0 {   // the stream is ending either way
            throw WireError.truncatedMessage(bufferedByteCount: buffer.readableBytes)
        }
        return state
    }

    /// The framing step with the handshake rules: removes and returns the next complete unit
    /// from `buffer`, or returns nil (consuming nothing) while it is incomplete.
    /// - Throws: `WireError.attachmentBeforeHandshake` or `.messageTooLarge` (handshake rules,
    ///   checked as soon as the 2-byte prefix is in); as ``nextUnit(from:)`` after the handshake.
    public mutating func next(from buffer: inout ByteBuffer) throws(WireError) -> StreamUnit? {
        guard handshakeMessagesLeft > 0 else { return try Self.nextUnit(from: &buffer) }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self) else { return nil }
        guard length > 0 else { throw .attachmentBeforeHandshake }
        guard Int(length) <= HandshakeDriver.maxMessageByteCount else {
            throw .messageTooLarge(byteCount: Int(length), limit: HandshakeDriver.maxMessageByteCount)
        }
        guard let unit = try Self.nextUnit(from: &buffer) else { return nil }
        handshakeMessagesLeft -= 1
        return unit
    }

    /// The framing step without a channel and without the handshake rules: removes and returns
    /// the next complete unit from `buffer`, or returns nil (consuming nothing) while it is incomplete.
    /// - Throws: `WireError.attachmentLength` (checked as soon as the 6-byte header is in).
    public static func nextUnit(from buffer: inout ByteBuffer) throws(WireError) -> StreamUnit? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self) else { return nil }
        if length > 0 {
            guard buffer.readableBytes >= WireLimits.lengthPrefixByteCount + Int(length) else { return nil }
            buffer.moveReaderIndex(forwardBy: WireLimits.lengthPrefixByteCount)
            return buffer.readSlice(length: Int(length)).map(StreamUnit.message)
        }
        let header = WireLimits.attachmentHeaderByteCount
        guard let m = buffer.getInteger(at: buffer.readerIndex + WireLimits.lengthPrefixByteCount, endianness: .big,
                                        as: UInt32.self) else { return nil }
        guard m > 0, m <= WireLimits.maxAttachmentByteCount else { throw .attachmentLength(byteCount: Int(m)) }
        guard buffer.readableBytes >= header + Int(m) else { return nil }
        buffer.moveReaderIndex(forwardBy: header)
        return buffer.readSlice(length: Int(m)).map(StreamUnit.attachment)
    }
}

/// `bytes` with its 2-byte big-endian length prefix, ready to write to the stream.
/// - Throws: `WireError.zeroLengthMessage` for empty input, `.messageTooLarge` above 65535 bytes.
public func framedMessage(_ bytes: [UInt8]) throws(WireError) -> [UInt8] {
    guard !bytes.isEmpty else { throw .zeroLengthMessage }
    guard bytes.count <= WireLimits.maxNoiseMessageByteCount else {
        throw .messageTooLarge(byteCount: bytes.count, limit: WireLimits.maxNoiseMessageByteCount)
    }
    return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
}

/// Writes the 6-byte header of an attachment of `byteCount` bytes (`BE16 0 ‖ BE32 byteCount`)
/// to `out`; the caller writes the attachment's bytes right after it.
/// - Throws: `WireError.attachmentLength` outside 1 … 262160.
public func writeAttachmentHeader(byteCount: Int, into out: inout ByteBuffer) throws(WireError) {
    guard byteCount > 0, byteCount <= WireLimits.maxAttachmentByteCount else { throw .attachmentLength(byteCount: byteCount) }
    out.writeInteger(UInt16(0), endianness: .big)
    out.writeInteger(UInt32(byteCount), endianness: .big)
}
