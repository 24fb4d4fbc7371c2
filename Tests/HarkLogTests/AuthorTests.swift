import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

@Suite struct AuthorTests {
    @Test func parentsAreDedupedSortedAndExcludeTheSelfParent() throws {
        let s = try Fixture.small()
        let e = try Fixture.message("x", by: Fixture.alice, group: s.genesis.id, selfParent: s.alice2,
                                    parents: [s.bob1, s.alice2, s.genesis, s.bob1])
        #expect(e.selfParent == s.alice2.id)
        #expect(e.parents == [s.bob1.id, s.genesis.id].sorted())
        #expect(e.lamport == 4 && e.seq == 3)
        try EventValidator.validate(e, parents: s.all)
    }

    @Test func moreThanSixteenParentsKeepsTheLatestInTotalOrder() throws {
        let g = try Fixture.genesis()
        // 20 first events by 20 authors: all lamport 2, so the 16 highest IDs are kept.
        var firsts: [Event] = []
        for i in 0..<20 {
            let key = try SigningKeyPair(seed: [UInt8](repeating: UInt8(100 + i), count: 32))
            firsts.append(try Fixture.message("a\(i)", by: key, group: g.id, selfParent: nil, parents: [g]))
        }
        // One deeper event must survive the cap and sets the lamport.
        let deep = try Fixture.message("deep", by: Fixture.bob, group: g.id, selfParent: nil, parents: [firsts[0]])
        let e = try Fixture.message("merge", by: Fixture.carol, group: g.id, selfParent: nil, parents: firsts + [deep, g])
        #expect(e.parents.count == 16)
        #expect(e.parents.contains(deep.id))
        let expectedOthers = (firsts + [g]).sorted(by: EventOrder.precedes).suffix(15).map(\.id)
        #expect(e.parents == (expectedOthers + [deep.id]).sorted())
        #expect(e.lamport == deep.lamport + 1)
    }

    @Test func inconsistentArgumentsAreRefused() throws {
        let s = try Fixture.small()
        let g = s.genesis.id
        #expect(throws: EventError.invalidArguments("self-parent has another author")) {
            try EventAuthor.make(kind: .message, groupID: g, author: Fixture.bob, seq: 2, selfParent: s.alice2,
                                 parents: [], wallMs: 0, body: nil)
        }
        #expect(throws: EventError.self) {
            try EventAuthor.make(kind: .message, groupID: g, author: Fixture.alice, seq: 5, selfParent: s.alice2,
                                 parents: [], wallMs: 0, body: nil)
        }
        #expect(throws: EventError.self) {
            try EventAuthor.make(kind: .message, groupID: g, author: Fixture.carol, seq: 2, selfParent: nil,
                                 parents: [s.genesis], wallMs: 0, body: nil)
        }
        #expect(throws: EventError.invalidArguments("body must be nil or non-empty")) {
            try EventAuthor.make(kind: .message, groupID: g, author: Fixture.carol, seq: 1, selfParent: nil,
                                 parents: [s.genesis], wallMs: 0, body: [])
        }
        #expect(throws: EventError.bodyTooLarge(65537)) {
            try EventAuthor.make(kind: .message, groupID: g, author: Fixture.carol, seq: 1, selfParent: nil,
                                 parents: [s.genesis], wallMs: 0, body: [UInt8](repeating: 1, count: 65537))
        }
        // A non-genesis event with no parents, and a message without a group, are refused too.
        #expect(throws: EventError.noParents) {
            try EventAuthor.make(kind: .message, groupID: g, author: Fixture.carol, seq: 1, selfParent: nil,
                                 parents: [], wallMs: 0, body: nil)
        }
        #expect(throws: EventError.genesisMismatch(kind: 2, hasGroupID: false)) {
            try EventAuthor.make(kind: .message, groupID: nil, author: Fixture.carol, seq: 1, selfParent: nil,
                                 parents: [], wallMs: 0, body: nil)
        }
        // Parents from another group are caught by the validator run inside make.
        let other = try Fixture.genesis(by: Fixture.carol)
        #expect(throws: EventError.foreignParent(other.id)) {
            try EventAuthor.make(kind: .message, groupID: g, author: Fixture.carol, seq: 1, selfParent: nil,
                                 parents: [other], wallMs: 0, body: nil)
        }
    }

    @Test func bodilessEventsCommitToNoBody() throws {
        let s = try Fixture.small()
        let e = try EventAuthor.make(kind: .join, groupID: s.genesis.id, author: Fixture.carol, seq: 1, selfParent: nil,
                                     parents: [s.alice2], wallMs: -5, body: nil)
        #expect(e.body == nil && e.header.bodyHash.isEmpty && e.header.bodyLen == 0 && e.wallMs == -5)
        #expect(try Event(decodingBytes: e.serializedBytes()) == e)
    }
}
