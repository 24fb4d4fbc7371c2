import HarkControl
import HarkControlNIO
import NIOCore
import NIOEmbedded
import Testing

/// ``NewlineDelimitedDecoder``: lines at `\n`, a trailing `\r` dropped, a bound on line length.
@Suite struct LineDecoderTests {
    private func lines(_ chunks: [String], max: Int = 64) throws -> [String] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NewlineDelimitedDecoder(maxLineByteCount: max)))
        for chunk in chunks { try channel.writeInbound(ByteBuffer(string: chunk)) }
        var out: [String] = []
        while let line: ByteBuffer = try channel.readInbound() { out.append(String(buffer: line)) }
        _ = try? channel.finish()
        return out
    }

    @Test func splitsAcrossChunksAndDropsCR() throws {
        #expect(try lines(["{\"id\":1}\r\n{\"i", "d\":2}\n", "\n", "partial"]) == ["{\"id\":1}", "{\"id\":2}", ""])
    }

    @Test func aLineOverTheLimitIsAnError() {
        #expect(throws: NewlineDelimitedDecoder.LineTooLong.self) { _ = try lines([String(repeating: "x", count: 65) + "\n"]) }
        // without a newline yet, too: the daemon does not buffer without bound
        #expect(throws: NewlineDelimitedDecoder.LineTooLong.self) { _ = try lines([String(repeating: "x", count: 65)]) }
        #expect(throws: Never.self) { _ = try lines([String(repeating: "x", count: 64) + "\n"]) }
    }
}
