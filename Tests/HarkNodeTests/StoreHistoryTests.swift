import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Testing

@testable import HarkNode

extension Node {
    /// Where `StoreHistory` (stored events plus `accepted`, not stored) and the graph of the
    /// group with `accepted` added disagree (empty: nowhere). Leaves no graph loaded.
    func storeHistoryDisagreements(group: EventID, accepted: [Event]) throws -> [String] {
        var graph = try self.graph(for: group)
        logState.graphs.removeAll()
        guard var history = try StoreHistory.load(store: store, group: group) else { return ["no StoreHistory"] }
        for e in accepted {
            try graph.insert(e)
            history.add(e)
        }
        var out: [String] = []
        let all = graph.allInOrder
        for id in all {
            guard let a = history.entry(id), let b = graph.entry(id) else { out.append("no entry \(id)"); continue }
            if a.lamport != b.lamport || a.author != b.author || a.seq != b.seq || a.kind != b.kind || Set(a.parents) != Set(b.parents) {
                out.append("entry \(id)")
            }
            if history.membershipEvents(before: [id]) != graph.membershipEvents(before: [id]) { out.append("membership before \(id)") }
            if history.membershipAncestors(of: id) != graph.membershipAncestors(of: id) { out.append("membership ancestors of \(id)") }
            for other in all where history.isAncestorOrSelf(other, of: [id]) != graph.isAncestorOrSelf(other, of: [id]) {
                out.append("is \(other) an ancestor of \(id)")
            }
        }
        if history.contains(try EventID(bytes: [UInt8](repeating: 7, count: 32))) { out.append("contains an unknown ID") }
        return out
    }

    /// Where a second `StoreHistory` of the same bases, told by the first that `accepted` are
    /// stored (`rememberStored`), answers the membership before them otherwise than the graph
    /// (empty: nowhere). `accepted` are not in the store: only the remembered answers can agree.
    func rememberedMembershipDisagreements(group: EventID, accepted: [Event]) throws -> [String] {
        var graph = try self.graph(for: group)
        logState.graphs.removeAll()
        var bases: StoreHistory.Bases = [:]
        guard var history = try StoreHistory.load(store: store, group: group, bases: &bases) else { return ["no StoreHistory"] }
        for e in accepted {
            try graph.insert(e)
            history.add(e)
        }
        history.rememberStored(accepted)
        guard let next = try StoreHistory.load(store: store, group: group, bases: &bases) else { return ["no second StoreHistory"] }
        return accepted.compactMap { e in
            next.membershipEvents(before: [e.id]) == graph.membershipEvents(before: [e.id]) ? nil : "membership before \(e.id)"
        }
    }

    func ownEvent(_ kind: Hark_V1_EventKind, group: Store.GroupRecord, after: Event, text: String) throws -> Event {
        var c = Hark_V1_Content()
        c.text.text = text
        return try EventAuthor.make(kind: kind, groupID: group.id, author: identity.signing, seq: after.seq + 1, selfParent: after,
                                    parents: [], wallMs: after.wallMs + 1,
                                    body: try BodyCipher.seal(c, groupKey: group.key, groupID: group.id, author: identity.signing.publicKey,
                                                              seq: after.seq + 1))
    }
}

/// A few pushed events are validated from the store (`StoreHistory`) when the group's graph is
/// not loaded: it must answer every question the rules ask as the graph does, for stored events
/// and for those accepted earlier in the same delivery.
@Suite struct StoreHistoryTests {
    @Test func theStoreAndTheDeliveryAnswerAsTheGraphDoes() async throws {
        let n = try await RunningNode.start("store-history")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let bob = SigningKeyPair.generate(), carol = SigningKeyPair.generate()
            _ = try await n.node.addMember(group: "ops", key: bob.publicKey)
            _ = try await n.node.sendMessage(group: "ops", text: "one")
            _ = try await n.node.addMember(group: "ops", key: carol.publicKey, role: .admin)
            _ = try await n.node.changeMember(group: "ops", peer: PeerID(bob.publicKey).description, action: .remove, role: nil)
            _ = try await n.node.sendMessage(group: "ops", text: "two")
            let g = try await n.node.resolveGroup("ops")
            await n.node.dropLoadedGraphs()
            let events = try await n.node.storedEvents(group: g.id)
            let mine = n.node.identity.signing.publicKey
            let latest = try #require(events.filter { $0.author == mine }.max { $0.seq < $1.seq })
            // Two events of a delivery that are not stored yet, the second on the first.
            let first = try await n.node.ownEvent(.message, group: g, after: latest, text: "three")
            let second = try await n.node.ownEvent(.message, group: g, after: first, text: "four")
            #expect(try await n.node.storeHistoryDisagreements(group: g.id, accepted: [first, second]) == [])
            // What one delivery remembers of its events answers the next one as the graph does.
            #expect(try await n.node.rememberedMembershipDisagreements(group: g.id, accepted: [first, second]) == [])
            #expect(await n.node.loadedGraphCount == 0)
        }
    }
}
