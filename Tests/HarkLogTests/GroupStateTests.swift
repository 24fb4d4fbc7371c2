import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

/// The visible-state fold (PROTOCOL.md §4.7) on small hand-built histories.
@Suite struct GroupStateTests {
    let w = World()
    let g: Event, bobJoin: Event, carolJoin: Event, m: Event

    /// genesis(alice) ← bob JOIN, carol JOIN ← alice "hello" (m).
    init() throws {
        g = try w.add(Fixture.genesis())
        bobJoin = try w.add(Fixture.event(.join, Fixture.join("bob"), by: Fixture.bob, group: g.id, selfParent: nil, parents: [g]))
        carolJoin = try w.add(Fixture.event(.join, Fixture.join("carol"), by: Fixture.carol, group: g.id, selfParent: nil, parents: [g]))
        m = try w.add(Fixture.message("hello", by: Fixture.alice, group: g.id, selfParent: g, parents: [bobJoin, carolJoin], wallMs: 3_000))
    }

    func add(_ kind: Hark_V1_EventKind, _ c: Hark_V1_Content, by k: SigningKeyPair, after sp: Event?, _ ps: [Event] = [],
             wallMs: Int64 = 4_000) throws -> Event {
        try w.add(Fixture.event(kind, c, by: k, group: g.id, selfParent: sp, parents: ps, wallMs: wallMs))
    }

    func state(received: [EventID: Int64] = [:], purged: Set<EventID> = []) -> GroupState {
        let inputs = w.byID.values.map { e in
            let stored = purged.contains(e.id) ? e.purged() : e
            return GroupState.Input(event: stored, content: try? BodyCipher.open(stored, groupKey: Fixture.groupKey),
                                    receivedMs: received[e.id])
        }
        return GroupState(events: inputs.shuffled(), members: GroupState.members(in: Array(w.byID.values)))
    }

    @Test func theLatestEditInTotalOrderWins() throws {
        let e1 = try add(.edit, Fixture.edit(m, "hello!"), by: Fixture.alice, after: m)
        let other = try w.add(Fixture.message("bye", by: Fixture.alice, group: g.id, selfParent: e1, parents: []))
        let e2 = try add(.edit, Fixture.edit(m, "hello!!"), by: Fixture.alice, after: other)
        let s = state()
        #expect(s.messages.map(\.id) == [m.id, other.id])
        let msg = s.messages[0]
        #expect(msg.text == "hello!!" && msg.originalText == "hello" && msg.edited && msg.lastEdit == e2.id)
        #expect(!s.messages[1].edited && s.messages[1].text == "bye")
        #expect(s.purgeable.isEmpty)
        // Same state whatever order the events are given in.
        #expect(state() == s)
    }

    @Test func inertMessagesAndEditsHaveNoEffect() throws {
        let b1 = try w.add(Fixture.message("bob", by: Fixture.bob, group: g.id, selfParent: bobJoin, parents: [m]))
        let hijack = try add(.edit, Fixture.edit(m, "hijacked"), by: Fixture.bob, after: b1)          // alice's message
        let notText = try add(.edit, Fixture.text("no edit"), by: Fixture.alice, after: m)
        let selfEdit = try add(.edit, Fixture.edit(b1, "bob!"), by: Fixture.bob, after: hijack)
        let unreadable = try w.add(Fixture.event(.message, Fixture.text("?"), by: Fixture.carol, group: g.id,
                                                 selfParent: carolJoin, parents: [m], groupKey: [UInt8](repeating: 9, count: 32)))
        let s = state()
        #expect(Set(s.messages.map(\.id)) == [m.id, b1.id, unreadable.id] && s.messages[0].id == m.id)
        let shown = Dictionary(uniqueKeysWithValues: s.messages.map { ($0.id, $0) })
        #expect(shown[m.id]?.text == "hello" && shown[m.id]?.edited == false)
        #expect(shown[b1.id]?.text == "bob!" && shown[b1.id]?.lastEdit == selfEdit.id)
        #expect(shown[unreadable.id]?.text == nil && shown[unreadable.id]?.originalText == nil && shown[unreadable.id]?.deleted == false)
        _ = notText
    }

    @Test func anEditOfAMessageNotAmongItsAncestorsIsInert() throws {
        // dave forks: x is a message, y (same seq) edits x, which is not y's ancestor.
        let dave = Scenario.dave
        let dj = try add(.join, Fixture.join("dave"), by: dave, after: nil, [m])
        let x = try add(.message, Fixture.text("x"), by: dave, after: dj)
        let y = try add(.edit, Fixture.edit(x, "x'"), by: dave, after: dj, [m])
        let z = try add(.edit, Fixture.edit(x, "x''"), by: dave, after: x)
        let s = state()
        let shown = try #require(s.messages.first { $0.id == x.id })
        #expect(shown.lastEdit == z.id && shown.text == "x''")
        _ = y
        // Whatever the order, y never wins: drop z and x keeps its own text.
        let without = GroupState(events: w.byID.values.filter { $0.id != z.id }.map {
            GroupState.Input(event: $0, content: try? BodyCipher.open($0, groupKey: Fixture.groupKey))
        }, members: [])
        #expect(without.messages.first { $0.id == x.id }?.text == "x")
    }

    @Test func aDeleteHidesTheMessageAndMakesItAndItsEditsPurgeable() throws {
        let r = try add(.reaction, Fixture.reaction(m, "👍"), by: Fixture.bob, after: bobJoin, [m])
        let e1 = try add(.edit, Fixture.edit(m, "hello?"), by: Fixture.alice, after: m, [r])
        let d = try add(.delete, Fixture.delete(m), by: Fixture.alice, after: e1)
        let late = try add(.edit, Fixture.edit(m, "too late"), by: Fixture.alice, after: d)
        let r2 = try add(.reaction, Fixture.reaction(m, "🎉"), by: Fixture.carol, after: carolJoin, [late])
        let s = state()
        let msg = try #require(s.messages.first)
        #expect(msg.deleted && msg.text == nil && msg.originalText == nil && !msg.edited && msg.reactions.isEmpty)
        #expect(s.purgeable == [m.id, e1.id, late.id])
        #expect(!s.purgeable.contains(d.id) && !s.purgeable.contains(r.id) && !s.purgeable.contains(r2.id))
        // After purging, the fold shows the same messages.
        let after = state(purged: s.purgeable)
        #expect(after.messages == s.messages)
    }

    @Test func reactionsAreAnObservedRemoveSet() throws {
        let b1 = try add(.reaction, Fixture.reaction(m, "👍"), by: Fixture.bob, after: bobJoin, [m])
        let b2 = try add(.reaction, Fixture.reaction(m, "👍"), by: Fixture.bob, after: b1)          // a second add, own tag
        let c1 = try add(.reaction, Fixture.reaction(m, "👍"), by: Fixture.carol, after: carolJoin, [m])
        let c2 = try add(.reaction, Fixture.reaction(m, "❤️"), by: Fixture.carol, after: c1)
        let bob = Fixture.bob.publicKey, carol = Fixture.carol.publicKey
        var s = state()
        #expect(Set(s.messages[0].reactions) == [.init(reactor: bob, emoji: "👍"), .init(reactor: carol, emoji: "👍"),
                                                 .init(reactor: carol, emoji: "❤️")])
        #expect(s.messages[0].reactions == s.messages[0].reactions.sorted())
        // Removing b1 leaves bob's 👍: b2 was not named.
        let b3 = try add(.reaction, Fixture.reaction(m, "", removes: [b1]), by: Fixture.bob, after: b2)
        s = state()
        #expect(s.messages[0].reactions.contains(.init(reactor: bob, emoji: "👍")))
        // Naming both removes it; carol's 👍 (another key) stays; a re-add after the remove counts.
        let b4 = try add(.reaction, Fixture.reaction(m, "", removes: [b2]), by: Fixture.bob, after: b3)
        s = state()
        #expect(Set(s.messages[0].reactions) == [.init(reactor: carol, emoji: "👍"), .init(reactor: carol, emoji: "❤️")])
        _ = try add(.reaction, Fixture.reaction(m, "👍", removes: []), by: Fixture.bob, after: b4)
        let c3 = try add(.reaction, Fixture.reaction(m, "🎉", removes: [c2]), by: Fixture.carol, after: c2)   // swap ❤️ for 🎉
        s = state()
        #expect(Set(s.messages[0].reactions) == [.init(reactor: bob, emoji: "👍"), .init(reactor: carol, emoji: "👍"),
                                                 .init(reactor: carol, emoji: "🎉")])
        _ = c3
    }

    @Test func concurrentAddSurvivesARemoveThatDidNotSeeIt() throws {
        // Only an equivocating reactor can add concurrently with its own remove: dave forks.
        let dave = Scenario.dave
        let dj = try add(.join, Fixture.join("dave"), by: dave, after: nil, [m])
        let add1 = try add(.reaction, Fixture.reaction(m, "x"), by: dave, after: dj)
        let remove = try add(.reaction, Fixture.reaction(m, "", removes: [add1]), by: dave, after: add1)
        let concurrent = try add(.reaction, Fixture.reaction(m, "x"), by: dave, after: add1)   // same seq as `remove`
        #expect(w.graph.forks.count == 1)
        let s = state()
        #expect(s.messages[0].reactions == [.init(reactor: dave.publicKey, emoji: "x")])
        #expect(s.equivocators == [dave.publicKey])
        _ = (remove, concurrent)
    }

    @Test func implausibleWallClocksAreFlaggedNotDropped() throws {
        let early = try add(.edit, Fixture.edit(m, "x"), by: Fixture.alice, after: m, wallMs: 2_999)   // below m's 3000
        let ok = try add(.message, Fixture.text("y"), by: Fixture.bob, after: bobJoin, [m], wallMs: 3_000)
        let future = try add(.message, Fixture.text("z"), by: Fixture.carol, after: carolJoin, [m], wallMs: 10_000_000)
        let limit = 10_000_000 - GroupState.futureToleranceMs
        var s = state(received: [future.id: limit])
        #expect(s.implausibleTime == [early.id])           // exactly 5 min ahead is still plausible
        s = state(received: [future.id: limit - 1, ok.id: 3_000])
        #expect(s.implausibleTime == [early.id, future.id])
        #expect(s.messages.map(\.id).contains(future.id))   // flagged, still shown, same order
        #expect(s.messages.map(\.id) == state().messages.map(\.id))
    }

    @Test func implausibleTimeComparesWithAllAncestorsNotJustParents() throws {
        // carol's clock runs behind: her first event after m (3000) is flagged, and so is the
        // next one, whose only parent is her own equally wrong event.
        let k = try add(.message, Fixture.text("key"), by: Fixture.carol, after: carolJoin, [m], wallMs: 1_000)
        let c2 = try add(.message, Fixture.text("late"), by: Fixture.carol, after: k, wallMs: 1_500)
        // bob's clock runs far ahead (flagged on receipt): alice's next event is not made to look early.
        let ahead = try add(.message, Fixture.text("ahead"), by: Fixture.bob, after: bobJoin, [m], wallMs: 10_000_000)
        let a2 = try add(.message, Fixture.text("after"), by: Fixture.alice, after: m, [ahead], wallMs: 4_000)
        let s = state(received: [ahead.id: 4_000])
        #expect(s.implausibleTime == [k.id, c2.id, ahead.id])
        // Without a receipt time for it, bob's event counts, and alice's reply is flagged.
        #expect(state().implausibleTime == [k.id, c2.id, a2.id])
    }

    @Test func theWatermarkStopsBelowEventsThatCanStillArrive() throws {
        // bob and alice talk; carol (a member) wrote c1 offline and it has not arrived.
        var a = m, b = bobJoin
        for i in 0..<4 {
            b = try w.add(Fixture.message("b\(i)", by: Fixture.bob, group: g.id, selfParent: b, parents: [a]))
            a = try w.add(Fixture.message("a\(i)", by: Fixture.alice, group: g.id, selfParent: a, parents: [b]))
        }
        let c1 = try Fixture.message("offline", by: Fixture.carol, group: g.id, selfParent: carolJoin, parents: [])
        var s = state()
        #expect(s.settledWatermark == carolJoin.lamport)   // carol's latest delivered event bounds W
        #expect(c1.lamport > s.settledWatermark)            // so c1 cannot land in the settled prefix
        #expect(s.isSettled(g) && s.isSettled(carolJoin) && !s.isSettled(m))
        // Once it arrives, W moves up to the slowest member again.
        try w.add(c1)
        s = state()
        #expect(s.settledWatermark == min(c1.lamport, a.lamport, b.lamport))
        #expect(s.isSettled(c1))
        // A member with nothing delivered holds W at 0; non-members do not count.
        #expect(GroupState(events: [], members: [Fixture.alice.publicKey]).settledWatermark == 0)
        let inputs = w.byID.values.map { GroupState.Input(event: $0, content: nil) }
        #expect(GroupState(events: inputs, members: [Fixture.alice.publicKey]).settledWatermark == a.lamport)
    }
}
