import Foundation
import HarkNoise
import HarkWire
import HarkWireProto
import PropertyBased
import Testing

@Suite("Record layer")
struct RecordLayerTests {
    /// Seals on one side and opens on the other; returns the frame and the message count.
    private func roundTrip(_ frame: Hark_V1_Frame, _ a: inout RecordLayer, _ b: inout RecordLayer) throws -> (Hark_V1_Frame?, Int) {
        let messages = try a.seal(frame)
        var result: Hark_V1_Frame?
        for (n, m) in messages.enumerated() {
            #expect(m.count <= WireLimits.maxNoiseMessageByteCount)
            let opened = try b.open(m)
            if n < messages.count - 1 { #expect(opened == nil, "frame must not appear before its last fragment") }
            result = opened
        }
        return (result, messages.count)
    }

    @Test("frames of 0 B, 70 KB and ~1 MiB round-trip with the expected fragment counts")
    func fragmentation() throws {
        var (a, b) = try recordLayers()
        let empty = Hark_V1_Frame()
        let (e, n0) = try roundTrip(empty, &a, &b)
        #expect(e == empty && n0 == 1)

        let seventy = needsFrame(byteCount: 70_000)
        let (s, n1) = try roundTrip(seventy, &a, &b)
        #expect(s == seventy && n1 == 2)

        let huge = needsFrame(byteCount: WireLimits.maxFrameByteCount - 10)
        let hugeSize = (try huge.serializedBytes() as [UInt8]).count
        #expect(hugeSize <= WireLimits.maxFrameByteCount)
        let (h, n2) = try roundTrip(huge, &b, &a)   // and the other direction
        #expect(h == huge)
        #expect(n2 == (hugeSize + WireLimits.maxFragmentByteCount - 1) / WireLimits.maxFragmentByteCount)

        var ping = Hark_V1_Frame(); ping.ping.nonce = 99
        #expect(try roundTrip(ping, &a, &b).0 == ping)   // state was reset after the big frame
    }

    @Test("sealing a frame over 1 MiB is refused")
    func sealTooLarge() throws {
        var (a, _) = try recordLayers()
        let big = needsFrame(byteCount: WireLimits.maxFrameByteCount + 100)
        #expect {
            _ = try a.seal(big)
        } throws: { error in
            guard case let .frameTooLarge(n, limit)? = error as? WireError else { return false }
            return n > limit && limit == 1_048_576
        }
    }

    /// Raw transports for crafting records that hark's sealer would never produce.
    private func rawPair() throws -> (NoiseTransport, RecordLayer) {
        let (i, r, _, _) = try completeHandshake(makeHello(), makeHello())
        return (try i.transport(), RecordLayer(transport: try r.transport()))
    }

    @Test("reassembly beyond 1 MiB is refused")
    func reassemblyTooLarge() throws {
        var (sender, receiver) = try rawPair()
        let full = [UInt8(1)] + [UInt8](repeating: 0x42, count: WireLimits.maxFragmentByteCount)
        let fragmentsThatFit = WireLimits.maxFrameByteCount / WireLimits.maxFragmentByteCount   // 16
        for _ in 0..<fragmentsThatFit { #expect(try receiver.open(try sender.encrypt(full)) == nil) }
        #expect(throws: WireError.frameTooLarge(byteCount: (fragmentsThatFit + 1) * WireLimits.maxFragmentByteCount,
                                                limit: WireLimits.maxFrameByteCount)) {
            _ = try receiver.open(try sender.encrypt(full))
        }
    }

    @Test("unknown flag bits, empty records, short non-final fragments and non-protobuf bytes are refused")
    func malformedRecords() throws {
        var (s1, r1) = try rawPair()
        #expect(throws: WireError.unknownFlagBits(0x02)) { _ = try r1.open(try s1.encrypt([0x02, 8, 1])) }
        var (s2, r2) = try rawPair()
        #expect(throws: WireError.emptyRecord) { _ = try r2.open(try s2.encrypt([])) }
        var (s3, r3) = try rawPair()
        #expect(throws: WireError.shortFragment(byteCount: 3, expected: WireLimits.maxFragmentByteCount)) {
            _ = try r3.open(try s3.encrypt([0x01, 1, 2, 3]))
        }
        var (s4, r4) = try rawPair()
        #expect {
            _ = try r4.open(try s4.encrypt([0x00, 0xff, 0xff, 0xff]))   // truncated varint tag
        } throws: { error in
            guard case .frameDecodeFailed? = error as? WireError else { return false }
            return true
        }
    }

    @Test("a flipped bit anywhere in a record is refused", arguments: [0, 16, 40])
    func flippedBit(position: Int) throws {
        var (a, b) = try recordLayers()
        var ping = Hark_V1_Frame(); ping.ping.nonce = 0xdead_beef_cafe
        var message = try #require(try a.seal(ping).first)
        message[position % message.count] ^= 0x10
        #expect(throws: WireError.noise(.decryptFailed)) { _ = try b.open(message) }
    }

    @Test("property: random frames round-trip")
    func property() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...5), Gen.uint8().array(of: 0...300), Gen.int(in: 0...150_000)) { kind, bytes, size in
            var frame = Hark_V1_Frame()
            switch kind {
            case 0: frame.ping.nonce = bytes.reduce(0) { $0 &* 31 &+ UInt64($1) }
            case 1: frame.close.reason = String(decoding: bytes, as: UTF8.self)
            case 2: frame.heads.groupID = Data(bytes); frame.heads.heads = [Data(bytes), Data(bytes.reversed())]
            case 3: frame = needsFrame(byteCount: size, seed: bytes.first ?? 0)
            case 4: frame.groupOffer.tags = stride(from: 0, to: bytes.count, by: 32).map { Data(bytes[$0..<min($0 + 32, bytes.count)]) }
            default: break   // an empty frame
            }
            var (a, b) = try recordLayers()   // fresh per case, so one failure cannot cascade
            let messages = try a.seal(frame)
            var opened: [Hark_V1_Frame] = []
            for m in messages { if let f = try b.open(m) { opened.append(f) } }
            #expect(opened == [frame])
        }
    }
}
