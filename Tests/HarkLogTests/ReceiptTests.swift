import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

/// Receipts derived from the graph and reported heads (PROTOCOL.md §4.8), and the READ kind.
@Suite struct ReceiptTests {
    let w = World()
    let g: Event, bobJoin: Event, carolJoin: Event, hello: Event

    /// genesis(alice) ← bob JOIN ← carol JOIN ← alice "hello".
    init() throws {
        g = try w.add(Fixture.genesis())
        bobJoin = try w.add(Fixture.event(.join, Fixture.join("bob"), by: Fixture.bob, group: g.id, selfParent: nil, parents: [g]))
        carolJoin = try w.add(Fixture.event(.join, Fixture.join("carol"), by: Fixture.carol, group: g.id, selfParent: nil, parents: [bobJoin]))
        hello = try w.add(Fixture.message("hello", by: Fixture.alice, group: g.id, selfParent: g, parents: [carolJoin]))
    }

    func read(by key: SigningKeyPair, selfParent: Event?, parents: [Event]) throws -> Event {
        try EventAuthor.make(kind: .read, groupID: g.id, author: key, seq: (selfParent?.seq ?? 0) + 1,
                             selfParent: selfParent, parents: parents, wallMs: 3_000, body: nil)
    }

    func states(reported: [SigningPublicKey: [EventID]] = [:]) -> [SigningPublicKey: ReceiptState] {
        Receipts.states(of: hello.id, in: w.graph, members: Receipts.members(in: w.graph), reportedHeads: reported)
    }

    @Test func membersAreGenesisAndJoinAuthors() {
        #expect(Receipts.members(in: w.graph) == [Fixture.alice.publicKey, Fixture.bob.publicKey, Fixture.carol.publicKey])
    }

    @Test func aFreshMessageIsPendingForEveryoneButItsAuthor() {
        #expect(states() == [Fixture.bob.publicKey: .pending, Fixture.carol.publicKey: .pending])
    }

    @Test func reportedHeadsThatDescendFromTheMessageMeanDelivered() {
        let s = states(reported: [Fixture.bob.publicKey: [hello.id], Fixture.carol.publicKey: [carolJoin.id]])
        #expect(s[Fixture.bob.publicKey] == .delivered)
        #expect(s[Fixture.carol.publicKey] == .pending, "a head older than the message proves nothing")
    }

    @Test func anEventByAMemberAfterTheMessageMeansDelivered() throws {
        _ = try w.add(Fixture.message("reply", by: Fixture.bob, group: g.id, selfParent: bobJoin, parents: [hello]))
        #expect(states()[Fixture.bob.publicKey] == .delivered)
        #expect(states()[Fixture.carol.publicKey] == .pending)
    }

    @Test func aReadMarkerAfterTheMessageMeansRead() throws {
        _ = try w.add(read(by: Fixture.carol, selfParent: carolJoin, parents: [hello]))
        #expect(states()[Fixture.carol.publicKey] == .read)
        #expect(states()[Fixture.bob.publicKey] == .pending)
    }

    @Test func aReadMarkerConcurrentWithTheMessageDoesNotCount() throws {
        _ = try w.add(read(by: Fixture.carol, selfParent: carolJoin, parents: []))
        #expect(states()[Fixture.carol.publicKey] == .pending)
    }

    @Test func readIsNotDowngradedByReportedHeads() throws {
        _ = try w.add(read(by: Fixture.bob, selfParent: bobJoin, parents: [hello]))
        #expect(states(reported: [Fixture.bob.publicKey: [hello.id]])[Fixture.bob.publicKey] == .read)
    }

    @Test func anUnknownMessageHasNoReceipts() throws {
        let other = try Fixture.message("x", by: Fixture.bob, group: g.id, selfParent: bobJoin, parents: [])
        #expect(Receipts.states(of: other.id, in: w.graph, members: Receipts.members(in: w.graph), reportedHeads: [:]).isEmpty)
    }

    @Test func aReadMarkerWithABodyIsRefused() throws {
        var c = Hark_V1_Content()
        c.text.text = "sneaky"
        let body = try BodyCipher.seal(c, groupKey: Fixture.groupKey, groupID: g.id, author: Fixture.bob.publicKey, seq: 2)
        // EventAuthor.make decodes what it signed, so the structural rule refuses it there; a
        // peer's copy takes the same path (Event(decoding:)).
        #expect(throws: EventError.readMarkerHasBody) {
            try EventAuthor.make(kind: .read, groupID: g.id, author: Fixture.bob, seq: 2, selfParent: bobJoin,
                                 parents: [hello], wallMs: 3_000, body: body)
        }
    }

    @Test func aBodilessReadMarkerIsValid() throws {
        let e = try read(by: Fixture.bob, selfParent: bobJoin, parents: [hello])
        #expect(e.body == nil)
        try w.check(e)
    }
}
