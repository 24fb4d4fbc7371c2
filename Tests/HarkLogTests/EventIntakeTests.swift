import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

/// The event intake as a pure state machine: events in any order come out in total order once
/// their parents are held, with the bound on waiting events, refusals and MEMBER-content needs
/// returned as actions.
@Suite struct EventIntakeTests {
    /// genesis ← bob 1 ← alice 2 ← bob 2 ← alice 3: a chain of five.
    static func chain() throws -> [Event] {
        let s = try Fixture.small()
        let b2 = try Fixture.message("b2", by: Fixture.bob, group: s.genesis.id, selfParent: s.bob1, parents: [s.alice2])
        let a3 = try Fixture.message("a3", by: Fixture.alice, group: s.genesis.id, selfParent: s.alice2, parents: [b2])
        return [s.genesis, s.bob1, s.alice2, b2, a3]
    }

    static func history(holding events: [Event] = []) throws -> GraphIntakeHistory {
        var graph = CausalGraph()
        for e in events { try graph.insert(e) }
        return GraphIntakeHistory(graph: graph, groupKey: Fixture.groupKey, membershipIndex: nil)
    }

    @Test func eventsInReverseOrderAreDeliveredInTotalOrderOnceTheirParentsAreHeld() throws {
        let events = try Self.chain()
        var intake = EventIntake(group: events[0].id)
        var history = try Self.history(holding: [events[0]])
        // Without bob 1, nothing after it is ready. Of the parents they name outside the intake
        // (bob 1 and the genesis), the caller holds the genesis: bob 1 is what it asks for.
        try intake.admit(intake.screen(Array(events[2...].reversed())))
        var pass = intake.deliver(into: &history)
        #expect(pass.accepted.isEmpty && pass.rejections.isEmpty && pass.needs.isEmpty)
        #expect(intake.waiting.count == 3)
        #expect(intake.namedParents().filter { !history.holds($0) } == [events[1].id])
        try intake.admit(intake.screen([events[1]]))
        pass = intake.deliver(into: &history)
        #expect(pass.accepted.map(\.id) == events[1...].map(\.id))
        #expect(intake.waiting.isEmpty && intake.namedParents().isEmpty)
        #expect(events.allSatisfy { history.graph.contains($0.id) })
    }

    @Test func screeningRefusesEventsOfAnotherGroupAndSkipsThoseWaiting() throws {
        let events = try Self.chain()
        let other = try Fixture.genesis(by: Fixture.carol, name: "other")
        var intake = EventIntake(group: events[0].id)
        #expect(throws: EventIntake.Refusal.foreignEvent(other.id)) { try intake.screen([events[1], other]) }
        try intake.admit(intake.screen([events[3]]))
        #expect(try intake.screen([events[3], events[4]]).map(\.id) == [events[4].id])
    }

    @Test func theBoundOnWaitingEventsKeepsWhatWasQueuedBeforeIt() throws {
        let events = try Self.chain()
        var intake = EventIntake(group: events[0].id, maxWaiting: 2)
        #expect(throws: EventIntake.Refusal.tooManyWaiting(2)) { try intake.admit(events[2...]) }
        #expect(intake.waiting.count == 2)
        #expect(intake.isWaiting(events[2].id) && intake.isWaiting(events[3].id) && !intake.isWaiting(events[4].id))
    }

    @Test func aRefusedEventIsRememberedAndItsChildrenKeepWaiting() throws {
        let events = try Self.chain()
        // bob 2 forged with a Lamport timestamp one too high: a structural rule refuses it.
        let forged = try Fixture.resigned(events[3], key: Fixture.bob) { $0.lamport += 1 }
        let child = try Fixture.message("after", by: Fixture.carol, group: events[0].id, selfParent: nil, parents: [forged])
        var intake = EventIntake(group: events[0].id)
        var history = try Self.history(holding: Array(events[..<3]))
        try intake.admit([forged, child])
        let pass = intake.deliver(into: &history)
        #expect(pass.accepted.isEmpty)
        #expect(pass.rejections.map(\.event.id) == [forged.id] && pass.rejections.allSatisfy(\.remembered))
        #expect(intake.isRejected(forged.id) && intake.isWaiting(child.id))
        #expect(intake.namedParents().isEmpty, "a refused parent is not asked for again")
        #expect(throws: EventIntake.Refusal.rejectedBefore(forged.id)) { try intake.screen([forged]) }
    }

    @Test func aStrippedBodyRefusesTheCopyButNotTheEvent() throws {
        let s = try Fixture.small()
        let target = s.bob1
        let delete = try Fixture.event(.delete, Fixture.delete(target), by: Fixture.bob, group: s.genesis.id, selfParent: target,
                                       parents: [], groupKey: Fixture.groupKey)
        let stripped = delete.purged()
        var intake = EventIntake(group: s.genesis.id)
        var history = try Self.history(holding: [s.genesis, s.bob1])
        try intake.admit([stripped])
        let pass = intake.deliver(into: &history)
        #expect(pass.rejections.map(\.error) == [.missingBody] && !pass.rejections[0].remembered)
        #expect(!intake.isRejected(delete.id))
        // The whole event, offered later, is delivered.
        try intake.admit(intake.screen([delete]))
        #expect(intake.deliver(into: &history).accepted.map(\.id) == [delete.id])
    }

    /// A group with roles where alice adds bob (a MEMBER event) and bob then writes.
    static func bobAddedAndWriting() throws -> (world: RolesWorld, add: Event, hello: Event) {
        let w = try RolesWorld()
        let add = try w.write(.member, w.member(.add, Fixture.bob), by: Fixture.alice)
        let hello = try w.write(.message, Fixture.text("hello"), by: Fixture.bob)
        return (w, add, hello)
    }

    /// A second replica of `w`'s group holding `events`, judged with `index` (fresh: nothing recorded).
    static func history(of w: RolesWorld, holding events: [Event], index: MembershipIndex) throws -> GraphIntakeHistory {
        var graph = CausalGraph()
        for e in events { try graph.insert(e) }
        return GraphIntakeHistory(graph: graph, groupKey: w.key, membershipIndex: index)
    }

    @Test func aMemberContentTheIndexLacksIsAskedForThenTheDeliveryGoesOn() throws {
        // A group with roles: alice adds bob (MEMBER), bob writes. A second replica's index has
        // not recorded the ADD's content: the pass stops before bob's event and asks for it.
        let (w, add, hello) = try Self.bobAddedAndWriting()
        let index = MembershipIndex(rules: 2, conversation: .group)
        var history = try Self.history(of: w, holding: [w.genesis, add], index: index)
        var intake = EventIntake(group: w.genesis.id)
        try intake.admit([hello])
        var pass = intake.deliver(into: &history)
        #expect(pass.needs == [add.id] && pass.accepted.isEmpty && pass.rejections.isEmpty)
        #expect(intake.isWaiting(hello.id))
        index.record(add.id, member: GraphIntakeHistory.memberContent(of: add, groupKey: w.key))
        pass = intake.deliver(into: &history)
        #expect(pass.accepted.map(\.id) == [hello.id] && pass.needs.isEmpty)
    }

    @Test func anAcceptedMemberEventIsRecordedSoTheNextInTheBatchNeedsNothing() throws {
        let (w, add, hello) = try Self.bobAddedAndWriting()
        let index = MembershipIndex(rules: 2, conversation: .group)
        var history = try Self.history(of: w, holding: [w.genesis], index: index)
        var intake = EventIntake(group: w.genesis.id)
        try intake.admit([hello, add])
        let pass = intake.deliver(into: &history)
        #expect(pass.accepted.map(\.id) == [add.id, hello.id] && pass.needs.isEmpty)
        #expect(index.member(add.id)?.action == .add)
    }

    @Test func requeuedEventsWaitAgainBeyondTheBound() throws {
        let events = try Self.chain()
        var intake = EventIntake(group: events[0].id, maxWaiting: 1)
        var history = try Self.history(holding: [events[0]])
        try intake.admit([events[1]])
        let pass = intake.deliver(into: &history)
        #expect(pass.accepted.count == 1 && intake.waiting.isEmpty)
        intake.requeue(pass.accepted + [events[2]])
        #expect(intake.waiting.count == 2)
    }
}
