import Foundation
import HarkCrypto
import HarkTesting
import HarkWireProto
import SwiftProtobuf
import Testing
@testable import HarkDatagram

@Suite("Datagram packets")
struct DatagramPacketTests {
    @Test("presence, typing and head hints round-trip")
    func roundTrip() throws {
        var (s, r) = try pair()
        for d in [presence(seq: 7), typing(), typing(active: false), headHint(), presence(seq: 8, text: "", state: .online)] {
            let p = try s.seal(d, nowMs: 10)
            #expect(try r.open(p, nowMs: 11) == d)
        }
        #expect(r.udpPort == 4242)
    }

    @Test("layout is type ‖ key_id LE ‖ counter LE ‖ ChaCha20-Poly1305(padded) with the header as AD")
    func byteLayout() throws {
        let key = (0..<32).map { UInt8($0) }
        var s = DatagramSender(key: key, keyID: 0x0403_0201, nowMs: 0)
        _ = try s.seal(typing(), nowMs: 0)
        let p = try s.seal(typing(), nowMs: 0)   // counter 1
        #expect(Array(p[0..<13]) == [0x01, 0x01, 0x02, 0x03, 0x04, 0x01, 0, 0, 0, 0, 0, 0, 0])
        #expect((p.count - 13 - 16) % 16 == 0)
        // Independent opening with the raw AEAD: nonce 0000 ‖ LE64(1), AD = 13 header bytes.
        let padded = try ChaChaPoly.open(Array(p[13...]), key: key,
                                         nonce: [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], associatedData: Array(p[0..<13]))
        let plain = try Padding.unpad(padded, blockSize: 16)
        #expect(try Hark_V1_Datagram(serializedBytes: plain) == typing())
        #expect(padded.count == 48)   // a 38-byte Datagram{Typing} pads to 48
        #expect(p.count == 13 + 48 + 16)
    }

    /// Known answer, computed independently with Python `cryptography` 48.0.0
    /// (`ChaCha20Poly1305(key).encrypt(b"\0"*4 + LE64(1), padded, header)`); also in PROTOCOL.md §7.1.
    @Test("known-answer vector: HeadHint under key 00…1f, key_id 0x04030201, counter 1")
    func knownAnswer() throws {
        let expected = "010102030401000000000000008511f97f07981daa9b041ceee0272b3577cf59bcf5d9d21f71d607e93f5a6f166af8"
            + "641ef6e81c4847e8375c48475fae80f546a5304f859546d742a3e147a84208c4fecc272d340abcef4ff68a4d14d207c7ff98"
            + "32268cc4260c8686c3db3ede"
        let key = (0..<32).map { UInt8($0) }
        var s = DatagramSender(key: key, keyID: 0x0403_0201, nowMs: 0)
        _ = try s.seal(typing(), nowMs: 0)   // counter 0
        let p = try s.seal(headHint(lamport: 42), nowMs: 0)
        #expect(p.map { String(format: "%02x", $0) }.joined() == expected)
        var r = DatagramReceiver()
        var k = Hark_V1_DatagramKey(); k.keyID = 0x0403_0201; k.key = Data(key)
        try r.install(k, nowMs: 0)
        #expect(try r.open(p, nowMs: 0) == headHint(lamport: 42))
    }

    @Test("a replayed packet is refused")
    func replay() throws {
        var (s, r) = try pair()
        let p = try s.seal(presence(seq: 1), nowMs: 0)
        _ = try r.open(p, nowMs: 0)
        #expect(datagramError { try r.open(p, nowMs: 1) } == .replayed)
        #expect(datagramError { try r.open(p, nowMs: 2) } == .replayed)
    }

    @Test("every flipped bit is refused and leaves the replay window unchanged")
    func flippedBits() throws {
        var (s, r) = try pair()
        var packets: [[UInt8]] = []
        for i in 0..<5 { packets.append(try s.seal(presence(seq: UInt64(i)), nowMs: 0)) }
        _ = try r.open(packets[0], nowMs: 0)
        _ = try r.open(packets[2], nowMs: 0)   // highest = 2, 1 is a gap
        let id = s.keyID
        let before = try #require(r.window(keyID: id))
        for target in [packets[1], packets[3]] {
            for bit in 0..<(target.count * 8) {
                var t = target
                t[bit / 8] ^= 1 << UInt8(bit % 8)
                let e = datagramError { try r.open(t, nowMs: 0) }
                #expect(e != nil, "bit \(bit) flipped was accepted")
                #expect(r.window(keyID: id) == before, "bit \(bit) moved the window")
            }
        }
        // The genuine packets still open exactly once.
        #expect(try r.open(packets[3], nowMs: 0) == presence(seq: 3))
        #expect(try r.open(packets[1], nowMs: 0) == presence(seq: 1))
        #expect(datagramError { try r.open(packets[1], nowMs: 0) } == .replayed)
    }

    @Test("a forged packet with a huge counter does not push genuine packets out of the window")
    func forgedCounterDoesNotMoveWindow() throws {
        var (s, r) = try pair()
        let p0 = try s.seal(typing(), nowMs: 0)
        var forged = try s.seal(typing(), nowMs: 0)
        for i in 5..<13 { forged[i] = 0xEE }   // counter far ahead, tag now wrong
        forged[12] = 0x0F
        #expect(datagramError { try r.open(forged, nowMs: 0) } == .authenticationFailed)
        #expect(r.window(keyID: s.keyID)?.highest == 0)
        _ = try r.open(p0, nowMs: 0)
    }

    @Test("packets reordered within the window are each accepted exactly once")
    func reordering() throws {
        var (s, r) = try pair()
        var packets: [[UInt8]] = []
        for i in 0..<300 { packets.append(try s.seal(presence(seq: UInt64(i)), nowMs: 0)) }
        var rng = SeededRNG(seed: 6479)
        let order = Array(0..<300).shuffled(using: &rng)
        for i in order { #expect(try r.open(packets[i], nowMs: 0) == presence(seq: UInt64(i))) }
        for i in order.shuffled(using: &rng) { #expect(datagramError { try r.open(packets[i], nowMs: 0) } == .replayed) }
    }

    @Test("a counter more than 8128 behind the highest is too old; exactly 8128 behind is accepted")
    func tooOld() throws {
        let key = SecureRandom.bytes(32)
        var r = DatagramReceiver()
        var old = DatagramSender(key: key, keyID: 9, nowMs: 0)
        try r.install(old.announcement(udpPort: 1), nowMs: 0)
        let p0 = try old.seal(typing(), nowMs: 0)   // counter 0
        let p1 = try old.seal(typing(), nowMs: 0)   // counter 1
        // The same key further along (as if 8129 packets had been sent); tests only.
        var ahead = DatagramSender(key: key, keyID: 9, nowMs: 0, startCounter: 8129,
                                   rotateAfterMs: .max, rotateAfterPackets: .max)
        _ = try r.open(try ahead.seal(typing(), nowMs: 0), nowMs: 0)   // highest = 8129
        #expect(datagramError { try r.open(p0, nowMs: 0) } == .tooOld)    // 8129 behind
        #expect(try r.open(p1, nowMs: 0) == typing())                      // 8128 behind
        #expect(datagramError { try r.open(p1, nowMs: 0) } == .replayed)
        #expect(DatagramLimits.replayWindowSize == 8128)
    }

    @Test("size limits: short, long, odd-sized and oversized packets; oversize and bad fields at seal")
    func sizeLimits() throws {
        var (s, r) = try pair()
        #expect(DatagramLimits.maxDatagramByteCount == 1200)
        #expect(DatagramLimits.maxPaddedPlaintextByteCount == 1168)
        #expect(DatagramLimits.minDatagramByteCount == 45)
        let good = try s.seal(typing(), nowMs: 0)
        #expect(datagramError { try r.open(Array(good[0..<44]), nowMs: 0) } == .tooShort)
        #expect(datagramError { try r.open([], nowMs: 0) } == .tooShort)
        #expect(datagramError { try r.open(good + [UInt8](repeating: 0, count: 1201 - good.count), nowMs: 0) } == .tooLarge)
        guard case .malformed? = datagramError({ try r.open(good + [0], nowMs: 0) }) else {
            Issue.record("a ciphertext that is not whole blocks must be malformed"); return
        }
        var wrongType = good; wrongType[0] = 0x02
        guard case .malformed? = datagramError({ try r.open(wrongType, nowMs: 0) }) else {
            Issue.record("unknown type must be malformed"); return
        }
        let counterBefore = s.nextCounter
        #expect(datagramError { try s.seal(presence(seq: 1, text: String(repeating: "x", count: 1200)), nowMs: 0) } == .tooLarge)
        guard case .malformed? = datagramError({ try s.seal(presence(seq: 1, text: String(repeating: "x", count: 65)), nowMs: 0) }) else {
            Issue.record("65-byte status text must be refused"); return
        }
        guard case .malformed? = datagramError({ try s.seal(Hark_V1_Datagram(), nowMs: 0) }) else {
            Issue.record("an empty datagram must be refused"); return
        }
        #expect(s.nextCounter == counterBefore, "a refused seal must not consume a counter")
        let max = try s.seal(presence(seq: .max, text: String(repeating: "é", count: 32)), nowMs: 0)   // 64 B
        #expect(max.count <= DatagramLimits.maxDatagramByteCount)
        #expect(try r.open(max, nowMs: 0).presence.statusText.utf8.count == 64)
        #expect(try r.open(good, nowMs: 0) == typing())
    }

    @Test("authenticated but malformed plaintext is refused and still consumes its counter")
    func malformedPlaintext() throws {
        let key = SecureRandom.bytes(32)
        var r = DatagramReceiver()
        var k = Hark_V1_DatagramKey(); k.keyID = 77; k.key = Data(key); k.udpPort = 9
        try r.install(k, nowMs: 0)
        func craft(_ plain: [UInt8], counter: UInt64) throws -> [UInt8] {
            let h = DatagramHeader(keyID: 77, counter: counter).bytes
            return h + (try ChaChaPoly.seal(plain, key: key, nonce: ChaChaPoly.nonce(counter: counter), associatedData: h))
        }
        var shortGroup = typing(); shortGroup.typing.groupID = Data(count: 31)
        var zeroLamport = headHint(); zeroLamport.headHint.lamport = 0
        var unspecified = presence(seq: 1); unspecified.presence.state = .unspecified
        let cases: [[UInt8]] = [
            [UInt8](repeating: 0, count: 16),                                   // no 0x80 padding marker
            Padding.pad([0xFF, 0xFF], blockSize: 16),                           // does not decode
            Padding.pad([], blockSize: 16),                                     // no kind
            Padding.pad(try shortGroup.serializedBytes(), blockSize: 16),
            Padding.pad(try zeroLamport.serializedBytes(), blockSize: 16),
            Padding.pad(try unspecified.serializedBytes(), blockSize: 16),
        ]
        for (n, plain) in cases.enumerated() {
            let p = try craft(plain, counter: UInt64(n))
            guard case .malformed? = datagramError({ try r.open(p, nowMs: 0) }) else {
                Issue.record("case \(n) not refused as malformed"); continue
            }
            #expect(datagramError { try r.open(p, nowMs: 0) } == .replayed, "case \(n)")
        }
        let bad = try craft(Padding.pad([], blockSize: 16), counter: DatagramLimits.counterLimit)
        guard case .malformed? = datagramError({ try r.open(bad, nowMs: 0) }) else {
            Issue.record("a counter at the limit must be refused"); return
        }
    }

    @Test("a packet under an unknown key_id is refused")
    func unknownKey() throws {
        var (s, _) = try pair()
        var other = DatagramReceiver()
        #expect(datagramError { try other.open(try! s.seal(typing(), nowMs: 0), nowMs: 0) } == .unknownKey)
        var k = Hark_V1_DatagramKey(); k.keyID = s.keyID &+ 1; k.key = Data(SecureRandom.bytes(32))
        try other.install(k, nowMs: 0)
        #expect(datagramError { try other.open(try! s.seal(typing(), nowMs: 0), nowMs: 0) } == .unknownKey)
        #expect(DatagramHeader.keyID(of: try s.seal(typing(), nowMs: 0)) == s.keyID)
    }
}
