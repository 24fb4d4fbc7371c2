import HarkWire
import NIOCore
import NIOEmbedded
import PropertyBased
import Testing

@Suite("Stream units: length-prefixed Noise messages and attachments")
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

    @Test("nextUnit waits for a whole message and consumes nothing meanwhile")
    func partial() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x03, 1, 2])
        #expect(try StreamUnitDecoder.nextUnit(from: &buffer) == nil)
        #expect(buffer.readableBytes == 4)
        buffer.writeBytes([3, 0x00])
        #expect(try StreamUnitDecoder.nextUnit(from: &buffer) == .message(ByteBuffer(bytes: [1, 2, 3])))
        #expect(try StreamUnitDecoder.nextUnit(from: &buffer) == nil)   // one byte of a prefix
        #expect(buffer.readableBytes == 1)
    }

    @Test("a zero length starts an attachment: BE16 0 ‖ BE32 m ‖ m bytes, byte-exact")
    func attachment() throws {
        var header = ByteBuffer()
        try writeAttachmentHeader(byteCount: 3, into: &header)
        #expect(Array(header.readableBytesView) == [0, 0, 0, 0, 0, 3])
        var buffer = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 7, 8])
        #expect(try StreamUnitDecoder.nextUnit(from: &buffer) == nil)
        #expect(buffer.readableBytes == 8)
        buffer.writeBytes([9, 0x00, 0x01, 5])
        #expect(try StreamUnitDecoder.nextUnit(from: &buffer) == .attachment(ByteBuffer(bytes: [7, 8, 9])))
        #expect(try StreamUnitDecoder.nextUnit(from: &buffer) == .message(ByteBuffer(bytes: [5])))
    }

    @Test("an attachment of 0 or more than 256 KiB + 16 bytes is refused as soon as its header is in")
    func attachmentLimits() throws {
        var zero = ByteBuffer(bytes: [0, 0, 0, 0, 0, 0])
        #expect(throws: WireError.attachmentLength(byteCount: 0)) { _ = try StreamUnitDecoder.nextUnit(from: &zero) }
        let over = WireLimits.maxAttachmentByteCount + 1
        var big = ByteBuffer(bytes: [0, 0, UInt8(over >> 24), UInt8((over >> 16) & 0xff), UInt8((over >> 8) & 0xff), UInt8(over & 0xff)])
        #expect(throws: WireError.attachmentLength(byteCount: over)) { _ = try StreamUnitDecoder.nextUnit(from: &big) }
        var out = ByteBuffer()
        #expect(throws: WireError.attachmentLength(byteCount: over)) { try writeAttachmentHeader(byteCount: over, into: &out) }
        #expect(throws: WireError.attachmentLength(byteCount: 0)) { try writeAttachmentHeader(byteCount: 0, into: &out) }
        #expect(out.readableBytes == 0)
    }

    @Test("in a channel: byte-by-byte delivery yields the units, a bad attachment and truncation throw")
    func embeddedChannel() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(StreamUnitDecoder()))
        var attached = ByteBuffer()
        try writeAttachmentHeader(byteCount: 2, into: &attached)
        attached.writeBytes([4, 2])
        let stream = try framedMessage([1, 2, 3]) + Array(attached.readableBytesView) + framedMessage([UInt8](repeating: 9, count: 1000))
        for byte in stream { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try channel.readInbound(as: StreamUnit.self) == .message(ByteBuffer(bytes: [1, 2, 3])))
        #expect(try channel.readInbound(as: StreamUnit.self) == .attachment(ByteBuffer(bytes: [4, 2])))
        #expect(try channel.readInbound(as: StreamUnit.self) == .message(ByteBuffer(bytes: [UInt8](repeating: 9, count: 1000))))
        #expect(try channel.readInbound(as: StreamUnit.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: [0x00, 0x05, 1]))
        #expect(throws: WireError.truncatedMessage(bufferedByteCount: 3)) { _ = try channel.finish() }

        let bad = EmbeddedChannel(handler: ByteToMessageHandler(StreamUnitDecoder()))
        #expect(throws: WireError.attachmentLength(byteCount: 0)) { try bad.writeInbound(ByteBuffer(bytes: [0, 0, 0, 0, 0, 0])) }
        _ = try? bad.finish()
    }

    @Test("property: any messages and attachments, cut anywhere, come out whole and in order")
    func property() async {
        await propertyCheck(count: 100, input: Gen.uint8().array(of: 1...600).array(of: 0...8), Gen.int(in: 1...97)) { messages, cut in
            // Every third unit goes as an attachment.
            var stream: [UInt8] = []
            var expected: [StreamUnit] = []
            for (i, m) in messages.enumerated() {
                if i % 3 == 2 {
                    var b = ByteBuffer()
                    try writeAttachmentHeader(byteCount: m.count, into: &b)
                    stream += Array(b.readableBytesView) + m
                    expected.append(.attachment(ByteBuffer(bytes: m)))
                } else {
                    stream += try framedMessage(m)
                    expected.append(.message(ByteBuffer(bytes: m)))
                }
            }
            var buffer = ByteBuffer()
            var out: [StreamUnit] = []
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + cut)
                buffer.writeBytes(stream[offset..<end])
                offset = end
                while let u = try StreamUnitDecoder.nextUnit(from: &buffer) { out.append(u) }
            }
            #expect(out == expected)
            #expect(buffer.readableBytes == 0)
        }
    }
}

@Suite("Attachment gate (PROTOCOL.md §3.2)")
struct AttachmentGateTests {
    @Test("an announced attachment must come next, with the announced length")
    func announced() throws {
        var g = AttachmentGate()
        try g.message()
        try g.frame(announcing: nil)
        #expect(g.due == nil)
        try g.message()
        try g.frame(announcing: 100)
        #expect(g.due == 100)
        #expect(throws: WireError.missingAttachment(expected: 100)) { var h = g; try h.message() }
        #expect(throws: WireError.attachmentMismatch(expected: 100, actual: 99)) { var h = g; try h.attachment(byteCount: 99) }
        try g.attachment(byteCount: 100)
        #expect(g.due == nil)
        try g.message()
    }

    @Test("an attachment nobody announced, or an announced length out of range, is refused")
    func refused() {
        var g = AttachmentGate()
        #expect(throws: WireError.unexpectedAttachment(byteCount: 5)) { try g.attachment(byteCount: 5) }
        #expect(throws: WireError.attachmentLength(byteCount: 0)) { try g.frame(announcing: 0) }
        #expect(throws: WireError.attachmentLength(byteCount: WireLimits.maxAttachmentByteCount + 1)) {
            try g.frame(announcing: WireLimits.maxAttachmentByteCount + 1)
        }
        #expect(g.due == nil)
    }
}

@Suite("Stream units before the handshake is over")
struct HandshakeFramingTests {
    @Test("a zero prefix is refused from its 2 bytes while handshake messages are due, allowed after")
    func zeroPrefixBeforeHandshake() throws {
        var d = StreamUnitDecoder(handshakeMessageCount: 2)
        var prefixOnly = ByteBuffer(bytes: [0, 0])
        #expect(throws: WireError.attachmentBeforeHandshake) { _ = try d.next(from: &prefixOnly) }
        var stream = ByteBuffer(bytes: [0, 1, 7, 0, 2, 8, 9, 0, 0, 0, 0, 0, 1, 5])
        #expect(try d.next(from: &stream) == .message(ByteBuffer(bytes: [7])))
        #expect(d.handshakeMessagesLeft == 1)
        #expect(try d.next(from: &stream) == .message(ByteBuffer(bytes: [8, 9])))
        #expect(d.handshakeMessagesLeft == 0)
        #expect(try d.next(from: &stream) == .attachment(ByteBuffer(bytes: [5])))
    }

    @Test("a handshake message above 1120 bytes is refused from its prefix; 1120 is taken")
    func handshakeMessageCap() throws {
        #expect(HandshakeDriver.maxMessageByteCount == 1120)
        var d = StreamUnitDecoder(handshakeMessageCount: 1)
        var big = ByteBuffer(bytes: [0x04, 0x61])   // 1121
        #expect(throws: WireError.messageTooLarge(byteCount: 1121, limit: 1120)) { _ = try d.next(from: &big) }
        var ok = ByteBuffer(bytes: [0x04, 0x60] + [UInt8](repeating: 1, count: 1120))
        #expect(try d.next(from: &ok) == .message(ByteBuffer(bytes: [UInt8](repeating: 1, count: 1120))))
        var after = ByteBuffer(bytes: [0xff, 0xff])   // after the handshake: a 64 KiB transport message may come
        #expect(try d.next(from: &after) == nil)
    }

    @Test("in a channel: the decoder refuses the zero prefix without waiting for more bytes")
    func embedded() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(StreamUnitDecoder(handshakeMessageCount: 2)))
        #expect(throws: WireError.attachmentBeforeHandshake) { try channel.writeInbound(ByteBuffer(bytes: [0, 0])) }
        _ = try? channel.finish()
    }
}
