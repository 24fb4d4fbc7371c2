import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import SwiftProtobuf
import Testing

/// Delivered events of one group, validated with every rule before they enter the graph.
final class World: @unchecked Sendable {
    var graph = CausalGraph()
    var byID: [EventID: Event] = [:]
    var groupKey = Fixture.groupKey

    var context: KeyedGroupContext { KeyedGroupContext(graph: graph, groupKey: groupKey) }

    func check(_ e: Event) throws(EventError) {
        try EventValidator.validate(e, parents: byID, context: context)
    }

    /// Validates and delivers `e`, returning it.
    @discardableResult
    func add(_ e: Event) throws -> Event {
        try check(e)
        try graph.insert(e)
        byID[e.id] = e
        return e
    }
}

/// One test per kind rule of `EventValidator.validate(_:parents:context:)` (PROTOCOL.md §4.3).
@Suite struct KindRuleTests {
    let w = World()
    let g: Event, bobJoin: Event, a1: Event, b1: Event, carolJoin: Event

    /// genesis(alice) ← bob JOIN ← alice "a1" ← bob "b1";  carol JOIN ← genesis only.
    init() throws {
        g = try w.add(Fixture.genesis())
        bobJoin = try w.add(Fixture.event(.join, Fixture.join("bob"), by: Fixture.bob, group: g.id, selfParent: nil, parents: [g]))
        a1 = try w.add(Fixture.message("a1", by: Fixture.alice, group: g.id, selfParent: g, parents: [bobJoin]))
        b1 = try w.add(Fixture.message("b1", by: Fixture.bob, group: g.id, selfParent: bobJoin, parents: [a1]))
        carolJoin = try w.add(Fixture.event(.join, Fixture.join("carol"), by: Fixture.carol, group: g.id, selfParent: nil, parents: [g]))
    }

    func expect(_ error: EventError, _ e: Event, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: error, sourceLocation: sourceLocation) { try w.check(e) }
    }

    func ev(_ kind: Hark_V1_EventKind, _ c: Hark_V1_Content, by k: SigningKeyPair, after sp: Event?, _ ps: [Event],
            key: [UInt8] = Fixture.groupKey) throws -> Event {
        try Fixture.event(kind, c, by: k, group: g.id, selfParent: sp, parents: ps, groupKey: key)
    }

    @Test func contentMustMatchTheKindAndDecrypt() throws {
        try w.check(b1)
        expect(.wrongContent(kind: 3), try ev(.join, Fixture.text("x"), by: Fixture.carol, after: carolJoin, []))
        expect(.wrongContent(kind: 5), try ev(.delete, Fixture.edit(a1, "x"), by: Fixture.alice, after: a1, []))
        expect(.wrongContent(kind: 6), try ev(.reaction, Fixture.delete(a1), by: Fixture.carol, after: carolJoin, [a1]))
        expect(.bodyDecryptionFailed, try ev(.delete, Fixture.delete(a1), by: Fixture.alice, after: a1, [],
                                            key: [UInt8](repeating: 9, count: 32)))
        expect(.bodyDecryptionFailed, try ev(.reaction, Fixture.reaction(a1, "x"), by: Fixture.bob, after: b1, [],
                                            key: [UInt8](repeating: 9, count: 32)))
        // DELETE and REACTION need a body.
        let bare = try EventAuthor.make(kind: .delete, groupID: g.id, author: Fixture.alice, seq: 3, selfParent: a1,
                                        parents: [], wallMs: 0, body: nil)
        expect(.missingBody, bare)
    }

    /// MESSAGE and EDIT bodies may be purged, so their validity cannot depend on them: a bad body
    /// or a bad edit target makes them inert (GroupStateTests), never invalid.
    @Test func messageAndEditValidityIgnoresTheBody() throws {
        try w.check(try ev(.message, Fixture.edit(a1, "x"), by: Fixture.bob, after: b1, []))
        try w.check(try ev(.message, Fixture.text("x"), by: Fixture.bob, after: b1, [], key: [UInt8](repeating: 9, count: 32)))
        try w.check(try ev(.edit, Fixture.text("x"), by: Fixture.alice, after: a1, []))
        try w.check(try ev(.edit, Fixture.edit(a1, "a1'"), by: Fixture.alice, after: a1, []))
        try w.check(try ev(.edit, Fixture.edit(a1, "x"), by: Fixture.bob, after: b1, []))        // another's message
        try w.check(try ev(.edit, Fixture.edit(b1, "x"), by: Fixture.bob, after: bobJoin, [g]))  // not an ancestor
        try w.check(try ev(.edit, Fixture.edit(bobJoin, "x"), by: Fixture.bob, after: b1, []))   // not a message
        let bare = try EventAuthor.make(kind: .edit, groupID: g.id, author: Fixture.alice, seq: 3, selfParent: a1,
                                        parents: [], wallMs: 0, body: nil)
        try w.check(bare)
        // Rule 6 still applies to them (bothBranchesStayValidUntilAProofIsAnAncestor).
    }

    @Test func deleteNeedsOwnMessageAmongAncestors() throws {
        try w.check(try ev(.delete, Fixture.delete(b1), by: Fixture.bob, after: b1, []))
        expect(.targetAuthorMismatch(a1.id), try ev(.delete, Fixture.delete(a1), by: Fixture.bob, after: b1, []))
        expect(.targetWrongKind(g.id), try ev(.delete, Fixture.delete(g), by: Fixture.alice, after: a1, []))
        expect(.targetNotInAncestors(a1.id), try ev(.delete, Fixture.delete(a1), by: Fixture.carol, after: carolJoin, []))
        expect(.targetNotInAncestors(b1.id), try ev(.delete, Fixture.delete(b1), by: Fixture.bob, after: bobJoin, [g]))
        var junk = Fixture.delete(a1)
        junk.delete.target = Fixture.randomID()
        expect(.targetNotInAncestors(try EventID(bytes: [UInt8](junk.delete.target))), try ev(.delete, junk, by: Fixture.alice, after: a1, []))
        junk.delete.target = Data([1, 2, 3])
        expect(.invalidLength(field: "target", expected: 32, actual: 3), try ev(.delete, junk, by: Fixture.alice, after: a1, []))
    }

    @Test func reactionRules() throws {
        let r1 = try w.add(try ev(.reaction, Fixture.reaction(a1, "👍"), by: Fixture.carol, after: carolJoin, [a1]))
        try w.check(try ev(.reaction, Fixture.reaction(a1, "", removes: [r1]), by: Fixture.carol, after: r1, []))
        try w.check(try ev(.reaction, Fixture.reaction(a1, "🎉", removes: [r1]), by: Fixture.carol, after: r1, []))
        try w.check(try ev(.reaction, Fixture.reaction(a1, String(repeating: "a", count: 32)), by: Fixture.carol, after: r1, []))
        expect(.emojiTooLong(33), try ev(.reaction, Fixture.reaction(a1, String(repeating: "a", count: 33)), by: Fixture.carol, after: r1, []))
        expect(.emptyReaction, try ev(.reaction, Fixture.reaction(a1, ""), by: Fixture.carol, after: r1, []))
        expect(.targetNotInAncestors(a1.id), try ev(.reaction, Fixture.reaction(a1, "x"), by: Fixture.carol, after: carolJoin, [g]))
        expect(.targetWrongKind(carolJoin.id), try ev(.reaction, Fixture.reaction(carolJoin, "x"), by: Fixture.carol, after: r1, []))
        // Removes: only one's own REACTION events, among the ancestors.
        expect(.targetAuthorMismatch(r1.id), try ev(.reaction, Fixture.reaction(a1, "", removes: [r1]), by: Fixture.bob, after: b1, [r1]))
        expect(.targetWrongKind(a1.id), try ev(.reaction, Fixture.reaction(a1, "", removes: [a1]), by: Fixture.carol, after: r1, []))
        let r2 = try ev(.reaction, Fixture.reaction(a1, "x"), by: Fixture.bob, after: b1, [])
        expect(.targetNotInAncestors(r2.id), try ev(.reaction, Fixture.reaction(a1, "", removes: [r2]), by: Fixture.carol, after: r1, []))
    }

    @Test func purgedBodiesAreAcceptedOnlyForMessagesAndEdits() throws {
        try w.check(b1.purged())
        let edit = try ev(.edit, Fixture.edit(a1, "x"), by: Fixture.alice, after: a1, [])
        try w.check(edit.purged())
        expect(.missingBody, try ev(.delete, Fixture.delete(a1), by: Fixture.alice, after: a1, []).purged())
        expect(.missingBody, try ev(.reaction, Fixture.reaction(a1, "x"), by: Fixture.bob, after: b1, []).purged())
        expect(.missingBody, try ev(.join, Fixture.join("c"), by: Fixture.carol, after: carolJoin, []).purged())
    }

    // MARK: equivocation

    /// carol forks: two seq-2 events after her JOIN.
    func fork() throws -> (Event, Event) {
        (try Fixture.message("left", by: Fixture.carol, group: g.id, selfParent: carolJoin, parents: []),
         try Fixture.message("right", by: Fixture.carol, group: g.id, selfParent: carolJoin, parents: [a1]))
    }

    @Test func proofsVerifyStandaloneAndRejectNonForks() throws {
        let (x, y) = try fork()
        let proof = try EquivocationProof.make(x, y)
        let acc = try EquivocationProof.verify(proof)
        #expect(acc.author == Fixture.carol.publicKey && acc.seq == 2 && acc.groupID == g.id)
        #expect(acc.first == min(x.id, y.id) && acc.second == max(x.id, y.id))
        #expect(try EquivocationProof.make(y, x) == proof)   // canonical: same bytes either way

        #expect(throws: EventError.invalidProof("the same event twice")) { try EquivocationProof.make(x, x) }
        #expect(throws: EventError.invalidProof("different seqs")) { try EquivocationProof.make(x, carolJoin) }
        #expect(throws: EventError.invalidProof("different authors")) { try EquivocationProof.make(a1, b1) }
        var p = proof
        p.sigA = proof.sigB
        #expect(throws: EventError.invalidProof("sig_a does not verify")) { try EquivocationProof.verify(p) }
        p = proof
        p.headerB = proof.headerA
        p.sigB = proof.sigA
        #expect(throws: EventError.invalidProof("the same event twice")) { try EquivocationProof.verify(p) }
        p = proof
        p.headerA = Data([0xff, 0xff])
        #expect(throws: EventError.invalidProof("header_a does not parse")) { try EquivocationProof.verify(p) }
        // Two seq-2 events of carol in different groups are no equivocation.
        let other = try Fixture.genesis(by: Fixture.bob, name: "other")
        let cj = try Fixture.event(.join, Fixture.join("c"), by: Fixture.carol, group: other.id, selfParent: nil, parents: [other])
        let c2 = try Fixture.message("o", by: Fixture.carol, group: other.id, selfParent: cj, parents: [])
        #expect(throws: EventError.invalidProof("different groups")) { try EquivocationProof.make(x, c2) }
    }

    @Test func bothBranchesStayValidUntilAProofIsAnAncestor() throws {
        let (x, y) = try fork()
        try w.add(x)
        #expect(w.graph.forks.isEmpty)
        try w.add(y)   // the second branch is valid too
        #expect(w.graph.forks.map(\.author) == [Fixture.carol.publicKey])

        let proofEvent = try w.add(try EquivocationProof.makeEvent(proving: x, y, by: Fixture.bob, seq: 3,
                                                                   selfParent: b1, parents: [x, y], wallMs: 5))
        #expect(proofEvent.kind == .equivocationProof)
        #expect(try EquivocationProof.accusation(in: proofEvent).author == Fixture.carol.publicKey)
        #expect(w.graph.equivocationProofs(against: Fixture.carol.publicKey) == [proofEvent.id])
        #expect(w.graph.provenEquivocators == [Fixture.carol.publicKey])

        // carol's events that descend from the proof are invalid; concurrent ones are not.
        expect(.authorEquivocated, try Fixture.message("after", by: Fixture.carol, group: g.id, selfParent: x, parents: [proofEvent]))
        try w.check(try Fixture.message("concurrent", by: Fixture.carol, group: g.id, selfParent: y, parents: []))
        // Others are unaffected, and anyone (even carol herself, before the proof) may prove it.
        try w.check(try Fixture.message("fine", by: Fixture.alice, group: g.id, selfParent: a1, parents: [proofEvent]))
        try w.check(try EquivocationProof.makeEvent(proving: x, y, by: Fixture.carol, seq: 3, selfParent: y, parents: [], wallMs: 5))
    }

    @Test func proofEventBodiesAreCheckedCleartextProofs() throws {
        let (x, y) = try fork()
        func proofEvent(_ body: [UInt8]) throws -> Event {
            try EventAuthor.make(kind: .equivocationProof, groupID: g.id, author: Fixture.bob, seq: 3,
                                 selfParent: b1, parents: [], wallMs: 0, body: body)
        }
        var p = try EquivocationProof.make(x, y)
        p.headerB = Data(carolJoin.headerBytes)
        p.sigB = Data(carolJoin.signature)
        expect(.invalidProof("different seqs"), try proofEvent(try p.serializedBytes()))
        p = try EquivocationProof.make(x, y)
        p.sigB = Data(repeating: 0, count: 64)
        expect(.invalidProof("sig_b does not verify"), try proofEvent(try p.serializedBytes()))
        // An encrypted body is not a cleartext proof.
        let sealed = try BodyCipher.seal(Fixture.text("hi"), groupKey: Fixture.groupKey, groupID: g.id, author: Fixture.bob.publicKey, seq: 3)
        #expect(throws: (any Error).self) { try w.check(try proofEvent(sealed)) }
        // A valid proof of another group's fork.
        let other = try Fixture.genesis(by: Fixture.bob, name: "other")
        let o1 = try Fixture.message("o1", by: Fixture.alice, group: other.id, selfParent: nil, parents: [other])
        let o2 = try Fixture.message("o2", by: Fixture.alice, group: other.id, selfParent: nil, parents: [other, o1])
        expect(.invalidProof("the proof is for another group"), try proofEvent(try EquivocationProof.make(o1, o2).serializedBytes()))
        expect(.missingBody, try proofEvent(try EquivocationProof.make(x, y).serializedBytes()).purged())
    }
}

extension KindRuleTests {
    @Test func theGraphMustHoldEveryParent() throws {
        let next = try Fixture.message("n", by: Fixture.bob, group: g.id, selfParent: b1, parents: [carolJoin])
        var graph = CausalGraph()
        try graph.insert(g)
        let ctx = KeyedGroupContext(graph: graph, groupKey: Fixture.groupKey)
        #expect(throws: EventError.missingParents([b1.id, carolJoin.id])) {
            try EventValidator.validate(next, parents: w.byID, context: ctx)
        }
    }
}
