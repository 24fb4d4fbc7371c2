import Foundation
import HarkTesting
import HarkWireProto
import PropertyBased
import Testing
@testable import HarkDatagram

@Suite("Datagram replay properties")
struct DatagramPropertyTests {
    /// Random interleavings with duplicates of up to 600 packets (all within the window): every
    /// unique packet is accepted exactly once, every repeat is refused as a replay.
    @Test func interleavingsWithDuplicates() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int(Int32.max)), Gen.int(in: 1...600), Gen.int(in: 0...600)) {
            seed, count, dupes in
            var rng = SeededRNG(seed: UInt64(seed))
            var (s, r) = try pair()
            var packets: [[UInt8]] = []
            for i in 0..<count { packets.append(try s.seal(presence(seq: UInt64(i)), nowMs: 0)) }
            var deliveries = Array(0..<count)
            for _ in 0..<dupes { deliveries.append(Int.random(in: 0..<count, using: &rng)) }
            deliveries.shuffle(using: &rng)
            var accepted = [Int](repeating: 0, count: count)
            for i in deliveries {
                do {
                    let d = try r.open(packets[i], nowMs: 0)
                    #expect(d.presence.seq == UInt64(i), "seed \(seed)")
                    accepted[i] += 1
                } catch {
                    #expect(error as? DatagramError == .replayed, "seed \(seed): packet \(i) refused as \(error)")
                    #expect(accepted[i] == 1, "seed \(seed): packet \(i) refused before it was accepted")
                }
            }
            #expect(accepted.allSatisfy { $0 == 1 }, "seed \(seed)")
        }
    }

    /// The window against a model, with jumps past the window: a counter is accepted iff it was
    /// never accepted and it is ahead of, or at most 8128 behind, the highest accepted counter.
    @Test func windowMatchesModel() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int(Int32.max)), Gen.int(in: 50...3000)) { seed, steps in
            var rng = SeededRNG(seed: UInt64(seed))
            var w = ReplayWindow()
            var seen = Set<UInt64>()
            var highest: UInt64 = 0
            var top: UInt64 = 0
            for _ in 0..<steps {
                let c: UInt64
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: top += UInt64.random(in: 1...20_000, using: &rng); c = top               // jump ahead
                case 1, 2: c = seen.randomElement(using: &rng) ?? 0                                // replay
                case 3: c = highest > 8128 ? highest - 8128 - UInt64.random(in: 0...1, using: &rng) : 0    // edge
                default: c = highest &- min(highest, UInt64.random(in: 0...9000, using: &rng)) &+ UInt64.random(in: 0...200, using: &rng)
                }
                top = max(top, c)
                let expected: ReplayWindow.Verdict =
                    seen.contains(c) && (c > highest || highest - c <= 8128) ? .replayed
                    : (c <= highest && highest - c > 8128) ? .tooOld : .fresh
                #expect(w.check(c) == expected, "seed \(seed): counter \(c), highest \(highest)")
                let before = w
                #expect(w.record(c) == expected, "seed \(seed)")
                if expected == .fresh {
                    seen.insert(c)
                    highest = max(highest, c)
                    #expect(w.highest == highest)
                } else {
                    #expect(w == before, "seed \(seed): a refused counter changed the window")
                }
            }
        }
    }
}
