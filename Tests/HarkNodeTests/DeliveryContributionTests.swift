import HarkCrypto
import HarkLog
import HarkTesting
import Testing
@testable import HarkNode

/// How one coalesced delivery attributes its events to the channels' contributions (pure).
@Suite struct DeliveryContributionTests {
    /// genesis ← a1 ← b1 ← a2: four events in total order.
    static func chain() throws -> [Event] {
        let g = try Fixture.genesis()
        let a1 = try Fixture.message("a1", by: Fixture.alice, group: g.id, selfParent: g, parents: [])
        let b1 = try Fixture.message("b1", by: Fixture.bob, group: g.id, selfParent: nil, parents: [a1])
        let a2 = try Fixture.message("a2", by: Fixture.alice, group: g.id, selfParent: a1, parents: [b1])
        return [g, a1, b1, a2]
    }

    static func contribution(_ ids: [Event], pushed: Bool = true) -> DeliveryContribution {
        DeliveryContribution(session: nil, pushed: pushed, ids: Set(ids.map(\.id)))
    }

    @Test func eachEventGoesWithTheFirstContributionThatBroughtIt() throws {
        let e = try Self.chain()
        let cs = [Self.contribution([e[1], e[2]]), Self.contribution([e[2], e[3]])]
        let source = DeliveryContribution.sources(cs)
        #expect(source[e[1].id] == 0 && source[e[2].id] == 0 && source[e[3].id] == 1 && source[e[0].id] == nil)
        let parts = DeliveryContribution.split(Array(e[1...3]), among: cs, source: source)
        #expect(parts.map { $0.map(\.id) } == [[e[1].id, e[2].id], [e[3].id]])
    }

    @Test func anEventNoContributionBroughtGoesWithTheLastAndOrderIsKept() throws {
        let e = try Self.chain()
        // e[1] waited for its parent and is released now; nobody brought it in this round.
        let cs = [Self.contribution([e[2]]), Self.contribution([e[3]], pushed: false)]
        let parts = DeliveryContribution.split(Array(e[1...3]), among: cs, source: DeliveryContribution.sources(cs))
        #expect(parts.map { $0.map(\.id) } == [[e[2].id], [e[1].id, e[3].id]])
    }

    @Test func noContributionsNoParts() throws {
        let e = try Self.chain()
        #expect(DeliveryContribution.split(e, among: [], source: [:]).isEmpty)
    }
}
