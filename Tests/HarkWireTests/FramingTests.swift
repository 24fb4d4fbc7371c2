import HarkWire
import NIOCore
import NIOEmbedded
import PropertyBased
import Testing

@Suite("Length-prefixed framing")
struct FramingTests {
    @Test("framedMessage prefixes a 2-byte big-endian length and refuses 0 and > 65535 bytes")
    func encode() throws {
        #expect(try framedMessage([0xaa, 0xbb, 0xcc]) == [0x00, 0x03, 0xaa, 0xbb, 0xcc])
        #expect(try framedMessage([UInt8](repeating: 1, count: 300)).prefix(2) == [0x01, 0x2c])
        #expect(try framedMessage([UInt8](repeating: 1, count: 65535)).count == 65537)
        #expect(throws: WireError.messageTooLarge(byteCount: 65536, limit: 65535)) {
            _ = try framedMessage([UInt8](repeating: 1, count: 65536))
        }
        #expect(throws: WireError.zeroLengthMessage) { _ = try framedMessage([]) }
    }

    @Test("nextMessage waits for a whole message and consumes nothing meanwhile")
    func partial() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x03, 1, 2])
        #expect(try LengthPrefixedMessageDecoder.nextMessage(from: &buffer) == nil)
        #expect(buffer.readableBytes == 4)
        buffer.writeBytes([3, 0x00])
        #expect(try LengthPrefixedMessageDecoder.nextMessage(from: &buffer) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try LengthPrefixedMessageDecoder.nextMessage(from: &buffer) == nil)   // one byte of a prefix
        #expect(buffer.readableBytes == 1)
    }

    @Test("a zero length is a protocol error")
    func zeroLength() {
        var buffer = ByteBuffer(bytes: [0x00, 0x00, 0x01])
        #expect(throws: WireError.zeroLengthMessage) { _ = try LengthPrefixedMessageDecoder.nextMessage(from: &buffer) }
    }

    @Test("in a channel: byte-by-byte delivery yields the messages, zero length and truncation throw")
    func embeddedChannel() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LengthPrefixedMessageDecoder()))
        let stream = try framedMessage([1, 2, 3]) + framedMessage([UInt8](repeating: 9, count: 1000))
        for byte in stream { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [UInt8](repeating: 9, count: 1000)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: [0x00, 0x05, 1]))
        #expect(throws: WireError.truncatedMessage(bufferedByteCount: 3)) { _ = try channel.finish() }

        let bad = EmbeddedChannel(handler: ByteToMessageHandler(LengthPrefixedMessageDecoder()))
        #expect(throws: WireError.zeroLengthMessage) { try bad.writeInbound(ByteBuffer(bytes: [0, 0])) }
        _ = try? bad.finish()
    }

    @Test("property: any messages, cut anywhere, come out whole and in order")
    func property() async {
        await propertyCheck(count: 100, input: Gen.uint8().array(of: 1...600).array(of: 0...8), Gen.int(in: 1...97)) { messages, cut in
            var stream: [UInt8] = []
            for m in messages { stream += try framedMessage(m) }
            var buffer = ByteBuffer()
            var out: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + cut)
                buffer.writeBytes(stream[offset..<end])
                offset = end
                while let m = try LengthPrefixedMessageDecoder.nextMessage(from: &buffer) { out.append(Array(m.readableBytesView)) }
            }
            #expect(out == messages)
            #expect(buffer.readableBytes == 0)
        }
    }
}
