import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing

/// A group with roles (Genesis.rules = 2): events, a graph, and the membership index over them.
final class RolesWorld: @unchecked Sendable {
    var graph = CausalGraph()
    var byID: [EventID: Event] = [:]
    let key = Fixture.groupKey
    let conversation: Hark_V1_ConversationKind
    var latest: [SigningPublicKey: Event] = [:]
    private(set) var index: MembershipIndex!

    init(conversation: Hark_V1_ConversationKind = .group, history: Hark_V1_HistoryVisibility = .joined, owner: SigningKeyPair = Fixture.alice,
         genesis given: Event? = nil) throws {
        self.conversation = conversation
        index = MembershipIndex(rules: 2, conversation: conversation, history: history)
        if let given {
            try deliver(given)
            genesis = given
            return
        }
        var c = Hark_V1_Content()
        c.genesis.name = "roles"
        c.genesis.rules = 2
        c.genesis.conversation = conversation
        c.genesis.history = history
        let body = try BodyCipher.seal(c, groupKey: key, groupID: nil, author: owner.publicKey, seq: 1)
        let g = try EventAuthor.make(kind: .genesis, groupID: nil, author: owner, seq: 1, selfParent: nil, parents: [],
                                     wallMs: 1_000, body: body)
        try deliver(g)
        genesis = g
    }
    var genesis: Event!

    var context: KeyedGroupContext { KeyedGroupContext(graph: graph, groupKey: key, membershipIndex: index) }
    /// Every MEMBER content is recorded as its event is delivered, so the index needs nothing.
    var membership: Membership {
        guard case let .membership(m) = index.current(in: graph) else {
            Issue.record("the index asked for MEMBER contents that were recorded")
            return Membership.fold([])
        }
        return m
    }

    func deliver(_ e: Event) throws {
        try EventValidator.validate(e, parents: byID, context: context)
        try graph.insert(e)
        byID[e.id] = e
        if e.kind == .member, let c = try? BodyCipher.open(e, groupKey: key), case let .member(m)? = c.content { index.record(e.id, member: m) }
        if (latest[e.author]?.seq ?? 0) < e.seq { latest[e.author] = e }
    }

    /// Writes an event by `author` after its latest event and the given parents (default: heads).
    @discardableResult
    func write(_ kind: Hark_V1_EventKind, _ content: Hark_V1_Content, by author: SigningKeyPair, parents: [Event]? = nil) throws -> Event {
        let selfParent = latest[author.publicKey]
        let ps = parents ?? graph.heads.compactMap { byID[$0] }
        let e = try Fixture.event(kind, content, by: author, group: genesis.id, selfParent: selfParent, parents: ps, groupKey: key)
        try deliver(e)
        return e
    }

    func member(_ action: Hark_V1_MemberAction, _ target: SigningKeyPair, role: Hark_V1_Role = .member,
                invite: [UInt8] = [], uses: UInt32 = 0) -> Hark_V1_Content {
        var c = Hark_V1_Content()
        c.member.action = action
        c.member.target = Data(target.publicKey.bytes)
        c.member.role = role
        c.member.inviteID = Data(invite)
        c.member.inviteUses = uses
        return c
    }
}

@Suite struct MembershipTests {
    let alice = Fixture.alice, bob = Fixture.bob, carol = Fixture.carol
    static let dave = try! SigningKeyPair(seed: [UInt8](repeating: 4, count: 32))

    @Test func theGenesisAuthorIsTheOwnerAndAlone() throws {
        let w = try RolesWorld()
        #expect(w.membership.roles == [alice.publicKey: .owner])
    }

    @Test func eventsFromNonMembersAreInvalid() throws {
        let w = try RolesWorld()
        #expect(throws: EventError.notAMember) { try w.write(.message, Fixture.text("hi"), by: bob) }
        #expect(throws: EventError.notAMember) { try w.write(.join, Fixture.join("bob"), by: bob) }
        try w.write(.member, w.member(.add, bob), by: alice)
        try w.write(.join, Fixture.join("bob"), by: bob)
        try w.write(.message, Fixture.text("now I may"), by: bob)
        #expect(w.membership.role(of: bob.publicKey) == .member)
    }

    @Test func onlyAdminsAddAndOnlyTheOwnerMakesAdmins() throws {
        let w = try RolesWorld()
        try w.write(.member, w.member(.add, bob), by: alice)
        #expect(throws: EventError.self) { try w.write(.member, w.member(.add, carol), by: bob) }
        try w.write(.member, w.member(.role, bob, role: .admin), by: alice)
        try w.write(.member, w.member(.add, carol), by: bob)
        #expect(throws: EventError.self) { try w.write(.member, w.member(.add, Self.dave, role: .admin), by: bob) }
        #expect(throws: EventError.self) { try w.write(.member, w.member(.role, carol, role: .admin), by: bob) }
        #expect(w.membership.roles == [alice.publicKey: .owner, bob.publicKey: .admin, carol.publicKey: .member])
    }

    @Test func anAdminCannotRemoveTheOwnerOrAnotherAdmin() throws {
        let w = try RolesWorld()
        try w.write(.member, w.member(.add, bob, role: .admin), by: alice)
        try w.write(.member, w.member(.add, carol, role: .admin), by: alice)
        #expect(throws: EventError.self) { try w.write(.member, w.member(.remove, alice), by: bob) }
        #expect(throws: EventError.self) { try w.write(.member, w.member(.remove, carol), by: bob) }
        #expect(throws: EventError.self) { try w.write(.member, w.member(.leave, alice), by: alice) }
        try w.write(.member, w.member(.remove, carol), by: alice)
        #expect(!w.membership.isMember(carol.publicKey))
    }

    @Test func aRemovedMembersLaterEventsAreInvalidButConcurrentOnesStay() throws {
        let w = try RolesWorld()
        try w.write(.member, w.member(.add, bob), by: alice)
        let joined = try w.write(.join, Fixture.join("bob"), by: bob)
        // bob writes concurrently with his removal (his message does not see it)
        let remove = try w.write(.member, w.member(.remove, bob), by: alice, parents: [joined])
        let concurrent = try w.write(.message, Fixture.text("concurrent"), by: bob, parents: [joined])
        #expect(w.graph.contains(concurrent.id))
        // after seeing the removal, nothing of bob's is valid
        #expect(throws: EventError.notAMember) { try w.write(.message, Fixture.text("after"), by: bob, parents: [remove, concurrent]) }
    }

    @Test func removeWinsOverAConcurrentAdd() throws {
        let w = try RolesWorld()
        try w.write(.member, w.member(.add, bob, role: .admin), by: alice)
        let base = try w.write(.member, w.member(.add, carol), by: alice)
        // bob adds dave while alice removes dave: neither sees the other (dave was never a member)
        try w.write(.member, w.member(.add, Self.dave), by: bob, parents: [base])
        try w.write(.member, w.member(.remove, Self.dave), by: alice, parents: [base])
        #expect(!w.membership.isMember(Self.dave.publicKey))
        // a later add that sees the removal does take effect
        try w.write(.member, w.member(.add, Self.dave), by: alice)
        #expect(w.membership.isMember(Self.dave.publicKey))
    }

    @Test func aSingleUseInviteAdmitsOnlyTheFirstInTotalOrder() throws {
        let w = try RolesWorld()
        try w.write(.member, w.member(.add, bob, role: .admin), by: alice)
        let base = w.graph.heads.compactMap { w.byID[$0] }
        let invite = [UInt8](repeating: 0xAB, count: 16)
        let a = try w.write(.member, w.member(.add, carol, invite: invite, uses: 1), by: alice, parents: base)
        let b = try w.write(.member, w.member(.add, Self.dave, invite: invite, uses: 1), by: bob, parents: base)
        let first = EventOrder(a) < EventOrder(b) ? carol : Self.dave
        let second = first.publicKey == carol.publicKey ? Self.dave : carol
        #expect(w.membership.isMember(first.publicKey))
        #expect(!w.membership.isMember(second.publicKey))
        #expect(w.membership.inviteUses[invite] == 1)
    }

    @Test func onlyAdminsPostInAChannel() throws {
        let w = try RolesWorld(conversation: .channel)
        try w.write(.member, w.member(.add, bob), by: alice)
        try w.write(.message, Fixture.text("announcement"), by: alice)
        #expect(throws: EventError.notAuthorized("only admins post in a channel")) { try w.write(.message, Fixture.text("hi"), by: bob) }
        let read = try EventAuthor.make(kind: .read, groupID: w.genesis.id, author: bob, seq: (w.latest[bob.publicKey]?.seq ?? 0) + 1, selfParent: w.latest[bob.publicKey],
                                        parents: w.graph.heads.compactMap { w.byID[$0] }, wallMs: 3_000, body: nil)
        try w.deliver(read)   // members of a channel still mark what they read
    }

    @Test func aMemberEventWithoutABodyIsRefused() throws {
        let w = try RolesWorld()
        let e = try EventAuthor.make(kind: .member, groupID: w.genesis.id, author: alice, seq: 2, selfParent: w.genesis,
                                     parents: [], wallMs: 2_000, body: nil)
        #expect(throws: EventError.missingBody) { try w.deliver(e) }
    }
}

/// Random concurrent membership histories delivered to replicas in random orders fold to the
/// same state everywhere.
@Suite struct MembershipPropertyTests {
    static let people: [SigningKeyPair] = (1...6).map { try! SigningKeyPair(seed: [UInt8](repeating: UInt8($0), count: 32)) }

    @Test(arguments: 0..<40) func replicasAgree(seed: Int) throws {
        var rng = SeededRNG(seed: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        // Actors work on their own replicas and sync now and then, so their changes overlap.
        let owner = Self.people[0]
        let origin = try RolesWorld(owner: owner)
        var all: [Event] = [origin.genesis]
        let actors = try (0..<3).map { _ in try Self.replica(of: [origin.genesis], genesis: origin.genesis) }
        for _ in 0..<60 {
            let a = Int.random(in: 0..<actors.count, using: &rng)
            let w = actors[a]
            let m = w.membership
            let members = m.members.compactMap { k in Self.people.first { $0.publicKey == k } }
            guard let author = members.randomElement(using: &rng) else { continue }
            let target = Self.people.randomElement(using: &rng)!
            let actions: [Hark_V1_MemberAction] = [.add, .add, .add, .add, .remove, .role, .leave]
            let action = actions.randomElement(using: &rng)!
            var content = w.member(action, action == .leave ? author : target,
                                   role: Bool.random(using: &rng) ? .admin : .member)
            if action == .add, Int.random(in: 0..<4, using: &rng) == 0 {
                content.member.inviteID = Data([UInt8](repeating: UInt8(Int.random(in: 0..<3, using: &rng)), count: 16))
                content.member.inviteUses = 1
            }
            guard m.authorizes(content.member, by: author.publicKey) else { continue }
            if let e = try? w.write(.member, content, by: author) { all.append(e) }
            // Sometimes two actors sync.
            if Int.random(in: 0..<5, using: &rng) == 0 {
                let b = Int.random(in: 0..<actors.count, using: &rng)
                try Self.sync(actors[a], into: actors[b])
                try Self.sync(actors[b], into: actors[a])
            }
        }
        #expect(all.count >= 15, "the history is too small to test anything (\(all.count) events)")
        var states: [Membership] = []
        for _ in 0..<4 {
            let r = try Self.replica(of: all.shuffled(using: &rng), genesis: origin.genesis)
            #expect(r.graph.count == all.count, "every valid event is accepted on every replica")
            states.append(r.membership)
        }
        #expect(states.allSatisfy { $0.roles == states[0].roles }, "seed \(seed)")
        #expect(states[0].role(of: owner.publicKey) == .owner)
        if ProcessInfo.processInfo.environment["HARK_MEMBERSHIP_DEBUG"] != nil {
            print("seed \(seed): \(all.count) events, \(states[0].effective.count) effective, \(states[0].roles.count) members")
        }
    }

    /// A fresh replica fed `events` in the given order (waiting events retried until delivered).
    static func replica(of events: [Event], genesis: Event) throws -> RolesWorld {
        let r = try RolesWorld(genesis: genesis)
        var waiting = events.filter { $0.id != r.genesis.id }
        var progress = true
        while progress && !waiting.isEmpty {
            progress = false
            for e in waiting where e.allParents.allSatisfy(r.graph.contains) {
                try r.deliver(e)
                progress = true
            }
            waiting.removeAll { r.graph.contains($0.id) }
        }
        return r
    }

    static func sync(_ from: RolesWorld, into to: RolesWorld) throws {
        for id in from.graph.allInOrder where !to.graph.contains(id) {
            try to.deliver(from.byID[id]!)
        }
    }
}
