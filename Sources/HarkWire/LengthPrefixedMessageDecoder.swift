import NIOCore

/// Splits a TCP byte stream into Noise messages: each is a 2-byte big-endian length `n`
/// (1…65535) followed by `n` bytes. Emits one `ByteBuffer` per message (a slice, no copy).
///
/// Throws `WireError.zeroLengthMessage` for a length of 0 and `.truncatedMessage` when the
/// stream ends inside a message. Holds at most 2 + 65535 bytes of one incomplete message. A
/// value type owned by its `ByteToMessageHandler`, i.e. by one channel's event loop.
public struct LengthPrefixedMessageDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try Self.nextMessage(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        let state = try decode(context: context, buffer: &buffer)
        if state == .needMoreData, buffer.readableBytes > 0 {   // the stream is ending either way
            throw WireError.truncatedMessage(bufferedByteCount: buffer.readableBytes)
        }
        return state
    }

    /// The framing step without a channel: removes and returns the next complete message from
    /// `buffer`, or returns nil (consuming nothing) while it is incomplete.
    /// - Throws: `WireError.zeroLengthMessage`.
    public static func nextMessage(from buffer: inout ByteBuffer) throws(WireError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self) else { return nil }
        guard length > 0 else { throw .zeroLengthMessage }
        guard buffer.readableBytes >= WireLimits.lengthPrefixByteCount + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: WireLimits.lengthPrefixByteCount)
        return buffer.readSlice(length: Int(length))
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
