import HarkCrypto
import HarkLog
import Testing
@testable import HarkNode

@Suite struct HoldsWriteBehindTests {
    static func key(_ i: UInt8) -> SigningPublicKey { try! SigningPublicKey(bytes: [UInt8](repeating: i, count: 32)) }
    static func group(_ i: UInt8) -> EventID { try! EventID(bytes: [UInt8](repeating: i, count: 32)) }

    @Test func manyReportsOfOnePeerAreWrittenOnceAfterTheDelay() {
        var w = HoldsWriteBehind()
        let (a, g) = (Self.key(1), Self.group(9))
        // One IHave after another: the first change sets the time, later ones ride along.
        for t in stride(from: Int64(0), to: 240, by: 20) { w.changed(peer: a, group: g, nowMs: t) }
        #expect(w.due(nowMs: HoldsWriteBehind.delayMs - 1).isEmpty)
        #expect(w.due(nowMs: HoldsWriteBehind.delayMs) == [g: [a]])
        #expect(w.due(nowMs: HoldsWriteBehind.delayMs).isEmpty)   // written: not again
        #expect(w.isEmpty)
    }

    @Test func theGroupsOtherChangedPeersRideAlongWithTheFirstDue() {
        var w = HoldsWriteBehind()
        let (a, b, c, g, h) = (Self.key(1), Self.key(2), Self.key(3), Self.group(9), Self.group(8))
        w.changed(peer: a, group: g, nowMs: 0)
        w.changed(peer: b, group: g, nowMs: 200)
        w.changed(peer: c, group: h, nowMs: 100)   // another group waits for its own time
        let first = w.due(nowMs: HoldsWriteBehind.delayMs)
        #expect(first.keys.sorted() == [g] && Set(first[g] ?? []) == [a, b])
        #expect(!w.isEmpty)
        #expect(w.due(nowMs: 100 + HoldsWriteBehind.delayMs - 1).isEmpty)
        #expect(w.due(nowMs: 100 + HoldsWriteBehind.delayMs) == [h: [c]])
        #expect(w.isEmpty)
    }

    @Test func aFlushWritesEverythingAtOnce() {
        var w = HoldsWriteBehind()
        w.changed(peer: Self.key(1), group: Self.group(1), nowMs: 0)
        w.changed(peer: Self.key(2), group: Self.group(2), nowMs: 10)
        let all = w.due(nowMs: nil)
        #expect(all.count == 2 && all.values.allSatisfy { $0.count == 1 })
        #expect(w.isEmpty)
    }
}
