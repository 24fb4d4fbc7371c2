import Foundation
import HarkCrypto
import HarkLog
@testable import HarkNode
import HarkEventProto
import HarkStore
import Testing

extension Node {
    /// Forgets every loaded graph, as after a restart.
    func dropLoadedGraphs() { logState.graphs.removeAll(); logState.membershipIndexes.removeAll(); logState.prekeyViews.removeAll() }
    var loadedGraphCount: Int { logState.graphs.count }
    func hasLoadedGraph(_ group: EventID) -> Bool { logState.graphs[group] != nil }
    func storedEvents(group: EventID) throws -> [Event] { try store.events(group: group) }
    func recordedAncestry(group: EventID) throws -> [EventID: [EventID]] { try store.membershipAncestors(group: group) }
    /// Stores a group and its events as an earlier release did (no membership ancestry).
    func storeAsEarlierRelease(_ record: Store.GroupRecord, _ events: [Event]) throws {
        try store.saveGroup(record)
        try store.insert(batch: events, receivedMs: 3)
    }

    /// Where `TipHistory` and the loaded graph of `group` disagree (empty: nowhere). Drops the
    /// graph again afterwards.
    func tipDisagreements(group: EventID) throws -> [String] {
        let graph = try self.graph(for: group)
        dropLoadedGraphs()
        guard let tip = try TipHistory.load(store: store, group: group) else { return ["membership ancestry not recorded"] }
        var out: [String] = []
        if tip.membership != graph.membershipEvents(before: graph.heads) { out.append("membership events") }
        for id in tip.membership where tip.membershipAncestors(of: id) != graph.membershipAncestors(of: id) {
            out.append("membership ancestors of \(id)")
        }
        let floor = tip.membership.compactMap { id in id == group ? nil : graph.lamport(id) }.min() ?? 1
        for id in tip.membership where id != group {
            if try store.membershipAncestorsByWalking(id, group: group, floor: floor) != graph.membershipAncestors(of: id) {
                out.append("walked membership ancestors of \(id)")
            }
        }
        for e in graph.unorderedEntries {
            guard let entry = tip.entry(e.id) else { out.append("no entry \(e.id)"); continue }
            if entry.lamport != e.lamport || entry.author != e.author || entry.seq != e.seq || entry.kind != e.kind
                || Set(entry.parents) != Set(e.parents) { out.append("entry \(e.id)") }
            if !tip.isAncestorOrSelf(e.id, of: graph.heads) { out.append("ancestry of \(e.id)") }
        }
        if tip.contains(try EventID(bytes: [UInt8](repeating: 7, count: 32))) { out.append("contains an unknown ID") }
        if currentMembership(of: group)?.roles != currentMembership(in: graph, group: group).roles { out.append("current membership") }
        if !logState.graphs.isEmpty { out.append("currentMembership loaded the graph") }
        return out
    }
}

/// Writing an event validates it from the store (`TipHistory`) without loading the group's
/// graph, and answers as the graph does.
@Suite struct TipHistoryTests {
    /// A group with roles and membership changes: owner, two added members, a role change, a
    /// removal, messages between them.
    private func populatedGroup(_ n: RunningNode) async throws -> Store.GroupRecord {
        _ = try await n.node.createGroup(name: "ops")
        let bob = SigningKeyPair.generate(), carol = SigningKeyPair.generate(), dave = SigningKeyPair.generate()
        _ = try await n.node.addMember(group: "ops", key: bob.publicKey)
        _ = try await n.node.sendMessage(group: "ops", text: "one")
        _ = try await n.node.addMember(group: "ops", key: carol.publicKey, role: .admin)
        _ = try await n.node.addMember(group: "ops", key: dave.publicKey)
        _ = try await n.node.sendMessage(group: "ops", text: "two")
        _ = try await n.node.changeMember(group: "ops", peer: PeerID(bob.publicKey).description, action: .remove, role: nil)
        _ = try await n.node.sendMessage(group: "ops", text: "three")
        return try await n.node.resolveGroup("ops")
    }

    @Test func sendingDoesNotLoadTheGraph() async throws {
        let n = try await RunningNode.start("tip-send")
        try await withNodes([n]) {
            let g = try await populatedGroup(n)
            await n.node.dropLoadedGraphs()
            for i in 0..<5 { _ = try await n.node.sendMessage(group: "ops", text: "after restart \(i)") }
            #expect(await n.node.loadedGraphCount == 0, "a send loaded the whole graph")
            let events = try await n.node.storedEvents(group: g.id)
            #expect(events.filter { $0.kind == .message }.count == 8)
            // What was written from the store is valid against the full graph, event by event.
            var members: [EventID: Hark_V1_Member] = [:]
            for e in events {
                if let c = try? BodyCipher.open(e, groupKey: g.key), case let .member(m)? = c.content { members[e.id] = m }
            }
            let contents = members
            var graph = CausalGraph()
            var byID: [EventID: Event] = [:]
            let index = MembershipIndex(rules: 2, conversation: .group)
            for (id, m) in contents { index.record(id, member: m) }
            for e in events {
                try EventValidator.validate(e, parents: byID, context: KeyedGroupContext(graph: graph, groupKey: g.key, membershipIndex: index))
                try graph.insert(e)
                byID[e.id] = e
            }
        }
    }

    @Test func theStoreAnswersAsTheGraphDoes() async throws {
        let n = try await RunningNode.start("tip-equal")
        try await withNodes([n]) {
            let g = try await populatedGroup(n)
            await n.node.dropLoadedGraphs()
            #expect(try await n.node.tipDisagreements(group: g.id) == [])
            let fromStore = await n.node.currentMembership(of: g.id)
            #expect(fromStore?.roles.count == 3, "owner, carol, dave (bob was removed)")
        }
    }

    @Test func aStoreWithoutRecordedAncestryIsFilledOnce() async throws {
        let n = try await RunningNode.start("tip-upgrade")
        try await withNodes([n]) {
            // A group as an earlier release stored it: events, but no membership ancestry.
            let me = n.node.identity.signing
            let key = SecureRandom.bytes(32)
            var gc = Hark_V1_Content()
            gc.genesis.name = "old"
            gc.genesis.rules = 2
            let genesis = try EventAuthor.make(kind: .genesis, groupID: nil, author: me, seq: 1, selfParent: nil, parents: [], wallMs: 1,
                                               body: try BodyCipher.seal(gc, groupKey: key, groupID: nil, author: me.publicKey, seq: 1))
            var mc = Hark_V1_Content()
            mc.member.action = .add
            mc.member.target = Data(SigningKeyPair.generate().publicKey.bytes)
            mc.member.role = .member
            let add = try EventAuthor.make(kind: .member, groupID: genesis.id, author: me, seq: 2, selfParent: genesis, parents: [], wallMs: 2,
                                           body: try BodyCipher.seal(mc, groupKey: key, groupID: genesis.id, author: me.publicKey, seq: 2))
            var text = Hark_V1_Content()
            text.text.text = "between"
            let message = try EventAuthor.make(kind: .message, groupID: genesis.id, author: me, seq: 3, selfParent: add, parents: [], wallMs: 3,
                                               body: try BodyCipher.seal(text, groupKey: key, groupID: genesis.id, author: me.publicKey, seq: 3))
            mc.member.target = Data(SigningKeyPair.generate().publicKey.bytes)
            let add2 = try EventAuthor.make(kind: .member, groupID: genesis.id, author: me, seq: 4, selfParent: message, parents: [], wallMs: 4,
                                            body: try BodyCipher.seal(mc, groupKey: key, groupID: genesis.id, author: me.publicKey, seq: 4))
            try await n.node.storeAsEarlierRelease(Store.GroupRecord(id: genesis.id, name: "old", key: key, createdMs: 1, joinedMs: 1),
                                                   [genesis, add, message, add2])
            #expect(try await n.node.recordedAncestry(group: genesis.id).isEmpty)

            _ = try await n.node.sendMessage(group: "old", text: "after the upgrade")
            #expect(await n.node.loadedGraphCount == 0, "the ancestry is filled in from the store, without the graph")
            let recorded = try await n.node.recordedAncestry(group: genesis.id)
            let prekeys = try await n.node.storedEvents(group: genesis.id).filter { $0.kind == .prekey }
            #expect(prekeys.count == 1, "the node published its prekey before its first message")
            #expect(recorded == [genesis.id: [], add.id: [genesis.id], add2.id: [genesis.id, add.id].sorted()])
            await n.node.dropLoadedGraphs()
            _ = try await n.node.sendMessage(group: "old", text: "and after a restart")
            #expect(await n.node.loadedGraphCount == 0, "the ancestry was filled in, so no load is needed again")
        }
    }
}
