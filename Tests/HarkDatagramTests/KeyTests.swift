import Foundation
import HarkCrypto
import HarkWireProto
import Testing
@testable import HarkDatagram

@Suite("Datagram keys and rotation")
struct DatagramKeyTests {
    @Test("the sender announces its key once per key; the announcement installs it")
    func announcement() throws {
        var s = DatagramSender(nowMs: 0)
        let taken = s.takeAnnouncement(udpPort: 5353)
        let a = try #require(taken)
        #expect(a.key.count == 32 && a.keyID == s.keyID && a.udpPort == 5353)
        let again = s.takeAnnouncement(udpPort: 5353)
        #expect(again == nil)
        #expect(s.announcement(udpPort: 1).keyID == s.keyID)
        var r = DatagramReceiver()
        try r.install(a, nowMs: 0)
        #expect(r.currentKeyID == a.keyID)
        try r.install(a, nowMs: 5)   // re-announcement (e.g. a new channel): no change
        #expect(r.previousKeyID(nowMs: 5) == nil)
        var clash = a; clash.key = Data(SecureRandom.bytes(32))
        guard case .malformed? = datagramError({ try r.install(clash, nowMs: 6) }) else {
            Issue.record("a key_id reused with another key must be refused"); return
        }
        var short = a; short.keyID &+= 1; short.key = Data(count: 31)
        guard case .malformed? = datagramError({ try r.install(short, nowMs: 6) }) else {
            Issue.record("a 31-byte key must be refused"); return
        }
        var port = a; port.keyID &+= 1; port.udpPort = 65536
        guard case .malformed? = datagramError({ try r.install(port, nowMs: 6) }) else {
            Issue.record("port 65536 must be refused"); return
        }
    }

    @Test("the sender rotates after 10 minutes: new key_id, counter 0, announcement pending")
    func rotatesAfterTime() throws {
        var s = DatagramSender(nowMs: 1_000)
        _ = s.takeAnnouncement(udpPort: 1)
        let first = s.keyID
        _ = try s.seal(typing(), nowMs: 1_000 + 599_999)
        #expect(s.keyID == first && s.nextCounter == 1)
        let none = s.takeAnnouncement(udpPort: 1)
        #expect(none == nil)
        let p = try s.seal(typing(), nowMs: 1_000 + 600_000)
        #expect(s.keyID != first)
        #expect(DatagramHeader.keyID(of: p) == s.keyID)
        #expect(try DatagramHeader(parsing: p).counter == 0)
        let pending = s.takeAnnouncement(udpPort: 1)
        #expect(pending?.keyID == s.keyID)
        let early = s.rotateIfDue(nowMs: 1_000 + 600_001)
        let due = s.rotateIfDue(nowMs: 1_000 + 1_200_000)
        #expect(!early && due)
    }

    @Test("extreme clock values neither trap nor keep an expired key")
    func extremeTimes() throws {
        var s = DatagramSender(nowMs: .min)
        var r = DatagramReceiver()
        try r.install(s.takeAnnouncement(udpPort: 1)!, nowMs: .min)
        let first = s.keyID
        let p = try s.seal(typing(), nowMs: .max)   // elapsed saturates: rotation due
        #expect(s.keyID != first)
        try r.install(s.takeAnnouncement(udpPort: 1)!, nowMs: .min)
        #expect(r.previousKeyID(nowMs: .max) == nil)
        #expect(try r.open(p, nowMs: .max) == typing())
    }

    @Test("the sender rotates after 2^20 packets")
    func rotatesAfterPackets() throws {
        var s = DatagramSender(key: SecureRandom.bytes(32), keyID: 1, nowMs: 0, startCounter: (1 << 20) - 1,
                               rotateAfterMs: DatagramLimits.rotateAfterMs, rotateAfterPackets: DatagramLimits.rotateAfterPackets)
        let last = try s.seal(typing(), nowMs: 0)
        #expect(try DatagramHeader(parsing: last).counter == (1 << 20) - 1)
        #expect(s.keyID == 1 && s.rotationDue(nowMs: 0))
        let next = try s.seal(typing(), nowMs: 0)
        #expect(s.keyID != 1)
        #expect(try DatagramHeader(parsing: next).counter == 0)
    }

    @Test("the sender never passes 2^64 − 2^13 and never reuses a counter")
    func counterLimit() throws {
        var s = DatagramSender(key: SecureRandom.bytes(32), keyID: 3, nowMs: 0, startCounter: DatagramLimits.counterLimit - 2,
                               rotateAfterMs: .max, rotateAfterPackets: .max)
        let a = try DatagramHeader(parsing: try s.seal(typing(), nowMs: 0)).counter
        let b = try DatagramHeader(parsing: try s.seal(typing(), nowMs: 0)).counter
        #expect(a == UInt64.max - 8193 && b == UInt64.max - 8192)
        #expect(datagramError { try s.seal(typing(), nowMs: 0) } == .counterExhausted)
        #expect(datagramError { try s.seal(typing(), nowMs: 0) } == .counterExhausted)
        #expect(DatagramLimits.counterLimit == UInt64.max - 8191)   // 2^64 − 2^13
        var fresh = DatagramSender(nowMs: 0)
        var seen = Set<UInt64>()
        for _ in 0..<1000 { seen.insert(try DatagramHeader(parsing: try fresh.seal(typing(), nowMs: 0)).counter) }
        #expect(seen == Set(0..<1000))
    }

    @Test("after rotation the previous key is accepted for 30 s, then refused")
    func gracePeriod() throws {
        var (s, r) = try pair(nowMs: 0)
        let oldID = s.keyID
        let old1 = try s.seal(presence(seq: 1), nowMs: 0)
        let old2 = try s.seal(presence(seq: 2), nowMs: 0)
        let old3 = try s.seal(presence(seq: 3), nowMs: 0)
        s.rotate(nowMs: 10_000)
        try r.install(s.takeAnnouncement(udpPort: 4242)!, nowMs: 10_000)
        #expect(r.currentKeyID == s.keyID && r.previousKeyID(nowMs: 10_000) == oldID)
        let new1 = try s.seal(presence(seq: 4), nowMs: 10_000)
        #expect(try r.open(new1, nowMs: 10_001) == presence(seq: 4))
        #expect(try r.open(old1, nowMs: 10_000) == presence(seq: 1))
        #expect(try r.open(old2, nowMs: 10_000 + 29_999) == presence(seq: 2))   // just inside the grace period
        #expect(datagramError { try r.open(old2, nowMs: 10_000 + 29_999) } == .replayed)
        #expect(datagramError { try r.open(old3, nowMs: 10_000 + 30_000) } == .unknownKey)   // grace over
        #expect(r.previousKeyID(nowMs: 10_000 + 30_000) == nil)
        #expect(try r.open(try s.seal(presence(seq: 5), nowMs: 50_000), nowMs: 50_000) == presence(seq: 5))
    }

    @Test("only one previous key is kept: a second rotation retires the first key at once")
    func onlyOnePrevious() throws {
        var (s, r) = try pair(nowMs: 0)
        let k1 = try s.seal(typing(), nowMs: 0)
        s.rotate(nowMs: 1)
        try r.install(s.takeAnnouncement(udpPort: 1)!, nowMs: 1)
        let k2 = try s.seal(typing(), nowMs: 1)
        s.rotate(nowMs: 2)
        try r.install(s.takeAnnouncement(udpPort: 1)!, nowMs: 2)
        #expect(datagramError { try r.open(k1, nowMs: 3) } == .unknownKey)
        #expect(try r.open(k2, nowMs: 3) == typing())
        #expect(try r.open(try s.seal(typing(), nowMs: 3), nowMs: 3) == typing())
    }
}
