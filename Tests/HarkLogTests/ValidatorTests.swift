import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

@Suite struct ValidatorTests {
    let s: Fixture.Small
    init() throws { s = try Fixture.small() }

    @Test func validEventsPass() throws {
        try EventValidator.validate(s.genesis, parents: [:])
        try EventValidator.validate(s.bob1, parents: s.all)
        try EventValidator.validate(s.alice2, parents: [s.genesis.id: s.genesis, s.bob1.id: s.bob1])
    }

    @Test func missingParentsAreAllListedSelfParentFirst() {
        #expect(throws: EventError.missingParents([s.genesis.id, s.bob1.id])) {
            try EventValidator.validate(s.alice2, parents: [:])
        }
        #expect(throws: EventError.missingParents([s.bob1.id])) {
            try EventValidator.validate(s.alice2, parents: [s.genesis.id: s.genesis])
        }
    }

    @Test func lamportMustBeExactlyOneAboveTheMax() throws {
        let e = try Fixture.resigned(s.alice2, key: Fixture.alice) { $0.lamport = 4 }
        #expect(throws: EventError.wrongLamport(expected: 3, actual: 4)) { try EventValidator.validate(e, parents: s.all) }
        let b = try Fixture.resigned(s.bob1, key: Fixture.bob) { $0.lamport = 7 }
        #expect(throws: EventError.wrongLamport(expected: 2, actual: 7)) { try EventValidator.validate(b, parents: s.all) }
    }

    @Test func selfParentMustBeSameAuthorAndPreviousSeq() throws {
        // Bob claims alice's genesis as his self-parent (signed by bob, header says bob).
        let forged = try Fixture.resigned(s.alice2, key: Fixture.bob) { $0.author = Data(Fixture.bob.publicKey.bytes) }
        #expect(throws: EventError.selfParentAuthorMismatch) { try EventValidator.validate(forged, parents: s.all) }
        let skipped = try Fixture.resigned(s.alice2, key: Fixture.alice) { $0.seq = 3 }
        #expect(throws: EventError.selfParentSeqMismatch(expected: 2, actual: 1)) {
            try EventValidator.validate(skipped, parents: s.all)
        }
    }

    @Test func parentsMustBeInTheSameGroup() throws {
        let other = try Fixture.genesis(by: Fixture.carol, name: "elsewhere")
        let e = try Fixture.resigned(s.bob1, key: Fixture.bob) { $0.parents = [Data(other.id.bytes)] }
        #expect(throws: EventError.foreignParent(other.id)) {
            try EventValidator.validate(e, parents: [other.id: other])
        }
        // An event of the other group, not just its genesis.
        let c1 = try Fixture.message("x", by: Fixture.carol, group: other.id, selfParent: other, parents: [])
        let e2 = try Fixture.resigned(s.bob1, key: Fixture.bob) {
            $0.parents = [Data(s.genesis.id.bytes), Data(c1.id.bytes)].sorted { $0.lexicographicallyPrecedes($1) }
            $0.lamport = 3
        }
        #expect(throws: EventError.foreignParent(c1.id)) {
            try EventValidator.validate(e2, parents: [c1.id: c1, s.genesis.id: s.genesis])
        }
    }
}
