import Foundation
import HarkCrypto
import HarkLog
import HarkSync
import HarkWireProto
import Testing

@Suite struct BloomFilterTests {
    static func id(_ i: Int, tag: UInt8 = 0) -> EventID {
        var b = [UInt8](repeating: tag, count: 32)
        withUnsafeBytes(of: UInt64(i).littleEndian) { for (k, x) in $0.enumerated() { b[k] = x } }
        return try! EventID(bytes: b)
    }

    static let salt = [UInt8](0..<16)

    @Test func sizing() {
        #expect(BloomFilter(capacity: 0).bitCount == 64)
        #expect(BloomFilter(capacity: 5).bitCount == 64)
        #expect(BloomFilter(capacity: 1000).bitCount == 10_000)
        #expect(BloomFilter(capacity: 1000).bits.count == 1250)
        #expect(BloomFilter(capacity: 10_000_000).bitCount == BloomFilter.maxBuiltBitCount)
        // The largest filter we build fits a SyncRequest with 2 × 1024 IDs into one 1 MiB frame.
        let big: [UInt8] = try! BloomFilter(capacity: 10_000_000).proto.serializedBytes()
        #expect(big.count + 2 * 1024 * 34 + 64 < 1 << 20)
        #expect(BloomFilter(capacity: 1).hashCount == 7)
        #expect(BloomFilter(capacity: 1).salt.count == 16)
        #expect(BloomFilter(capacity: 1).salt != BloomFilter(capacity: 1).salt)   // fresh random salt
    }

    /// The byte-exact construction of docs/PROTOCOL.md §6.3.2, recomputed independently.
    @Test func positionsAreKeyedBLAKE2bWords() {
        let f = BloomFilter(capacity: 100, salt: Self.salt)
        let x = Self.id(42)
        let h = BLAKE2b.hash(x.bytes, byteCount: 28, key: Self.salt, personal: "hark.bloom.v1")
        var want: [Int] = []
        for i in 0..<7 {
            var w: UInt32 = 0
            for k in (0..<4).reversed() { w = w << 8 | UInt32(h[4 * i + k]) }
            want.append(Int(w % 1000))
        }
        #expect(f.positions(x) == want)
        var g = f
        g.insert(x)
        for p in want { #expect(g.bits[p / 8] >> (p % 8) & 1 == 1) }
        #expect(g.bits.reduce(0) { $0 + $1.nonzeroBitCount } == Set(want).count)
        // Another salt moves the probes.
        #expect(BloomFilter(capacity: 100, salt: [UInt8](repeating: 9, count: 16)).positions(x) != want)
    }

    @Test func noFalseNegativesAndRoundTrip() throws {
        let members = (0..<2000).map { Self.id($0) }
        let f = BloomFilter(members)
        #expect(members.allSatisfy(f.mightContain))
        let wire = try Hark_V1_BloomFilter(serializedBytes: try f.proto.serializedBytes() as [UInt8])
        let back = try BloomFilter(validating: wire)
        #expect(back == f)
        #expect(members.allSatisfy(back.mightContain))
    }

    @Test func falsePositiveRateNearPointEightTwoPercent() {
        let n = 10_000
        let f = BloomFilter((0..<n).map { Self.id($0) })
        let trials = 100_000
        let fp = (0..<trials).filter { f.mightContain(Self.id($0, tag: 0xAB)) }.count
        let rate = Double(fp) / Double(trials)
        print("bloom n=\(n) m=\(f.bitCount) k=\(f.hashCount): false positives \(fp)/\(trials) = \(rate * 100) % (theory \(f.expectedFalsePositiveRate(entries: n) * 100) %)")
        #expect(abs(f.expectedFalsePositiveRate(entries: n) - 0.0082) < 0.0002)
        #expect(rate > 0.0060 && rate < 0.0105)   // 0.82 % ± ~8σ
    }

    @Test func peerFiltersAreValidated() {
        let good = BloomFilter(capacity: 6, salt: Self.salt).proto   // m = 64 (the minimum)
        func rejects(_ change: (inout Hark_V1_BloomFilter) -> Void) -> Bool {
            var p = good
            change(&p)
            do { _ = try BloomFilter(validating: p); return false } catch { return true }
        }
        #expect(!rejects { _ in })
        #expect(rejects { $0.salt = Data(repeating: 1, count: 15) })
        #expect(rejects { $0.salt = Data() })
        #expect(rejects { $0.bitCount = 0 })
        #expect(rejects { $0.bitCount = UInt32(BloomFilter.maxBitCount + 1); $0.bits = Data(count: BloomFilter.maxBitCount / 8 + 1) })
        #expect(rejects { $0.hashCount = 0 })
        #expect(rejects { $0.hashCount = 17 })
        #expect(rejects { $0.bits = Data(count: 7) })        // 64 bits want 8 bytes
        #expect(rejects { $0.bits = Data(count: 9) })
        #expect(!rejects { $0.bitCount = 60 })                // 60 bits: 8 bytes, high 4 bits of the last 0
        #expect(!rejects { $0.bitCount = 60; $0.bits = Data(repeating: 0x0F, count: 8) })
        #expect(rejects { $0.bitCount = 60; $0.bits = Data(repeating: 0xFF, count: 8) })
        #expect(!rejects { $0.hashCount = 16 })               // up to 16 probes accepted…
        var sixteen = good
        sixteen.hashCount = 16
        let f = try? BloomFilter(validating: sixteen)
        #expect(f?.positions(Self.id(1)).count == 16)         // …and usable (64-byte BLAKE2b output)
    }
}
