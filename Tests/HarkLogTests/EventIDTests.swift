import HarkCrypto
import HarkLog
import Testing

@Suite struct EventIDTests {
    @Test func idIsPersonalisedBLAKE2bOfHeaderBytes() {
        // Vectors from Python: hashlib.blake2b(data, digest_size=32, person=b"hark.event.v1").
        #expect(EventID(hashingHeader: []).hex == "fd6f363226af6af75a5ccc12e06ecd90e6a4cd5be01bc8c702cfd0617bdc1698")
        #expect(EventID(hashingHeader: [8, 1]).hex == "14ee96900b4d52461323f74ed0717b92546263748156d0a0d5f59d19232ce1a9")
    }

    @Test func bodyHashIsPersonalisedBLAKE2b() {
        // hashlib.blake2b(b"hello", digest_size=32, person=b"hark.body.v1")
        #expect(Hex.encode(EventAuthor.bodyHash(Array("hello".utf8)))
                == "4b244f0cb015ca08113ba55a271106f4221d966461edff4a66c63d1f6723f51e")
    }

    @Test func hexRoundTripAndOrder() throws {
        let a = try EventID(bytes: [UInt8](repeating: 0, count: 31) + [1])
        let b = try EventID(bytes: [1] + [UInt8](repeating: 0, count: 31))
        #expect(try EventID(hex: a.hex) == a)
        #expect(try EventID(hex: b.hex.uppercased()) == b)
        #expect(a < b)
        #expect(a.description == a.hex && a.hex.count == 64 && a.shortHex == "00000000")
    }

    /// IDs held as words keep their bytes, order bytewise, and are equal (and hash alike) exactly
    /// when their bytes are.
    @Test func wordsKeepBytesOrderAndEquality() throws {
        var rng = SystemRandomNumberGenerator()
        var ids: [EventID] = []
        for i in 0..<400 {
            var bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Many share a prefix, so later words decide the order too.
            if i % 3 == 0, let first = ids.first { bytes = Array(first.bytes.prefix(i % 32)) + bytes.suffix(32 - i % 32) }
            let id = try EventID(bytes: bytes)
            #expect(id.bytes == bytes)
            ids.append(id)
        }
        for (a, b) in zip(ids, ids.shuffled(using: &rng)) {
            #expect((a < b) == a.bytes.lexicographicallyPrecedes(b.bytes))
            #expect((a == b) == (a.bytes == b.bytes))
        }
        #expect(Set(ids + ids).count == Set(ids.map(\.bytes)).count)
        #expect(ids.sorted().map(\.bytes) == ids.map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test func wrongSizesAndBadHexAreRejected() {
        #expect(throws: EventError.invalidLength(field: "event ID", expected: 32, actual: 31)) {
            try EventID(bytes: [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: EventError.invalidLength(field: "event ID", expected: 32, actual: 2)) { try EventID(hex: "abcd") }
        #expect(throws: EventError.self) { try EventID(hex: String(repeating: "zz", count: 32)) }
        #expect(throws: EventError.self) { try EventID(hex: "abc") }
    }
}
