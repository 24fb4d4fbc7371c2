import HarkControl
import NIOCore

/// Splits a byte stream into lines at `\n` (a trailing `\r` is dropped) for the control socket.
/// A line longer than `maxLineByteCount` is an error, so a client cannot make the daemon
/// buffer without bound.
public struct NewlineDelimitedDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// A line exceeded the limit.
    public struct LineTooLong: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "control line longer than \(limit) bytes" }
    }

    public let maxLineByteCount: Int
    public init(maxLineByteCount: Int = ControlLimits.maxLineByteCount) { self.maxLineByteCount = maxLineByteCount }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let nl = buffer.readableBytesView.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > maxLineByteCount { throw LineTooLong(limit: maxLineByteCount) }
            return .needMoreData
        }
        let length = nl - buffer.readerIndex
        if length > maxLineByteCount { throw LineTooLong(limit: maxLineByteCount) }
        guard var line = buffer.readSlice(length: length) else { return .needMoreData }   // never: the newline is readable
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == 0x0D, let trimmed = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) {
            line = trimmed
        }
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
