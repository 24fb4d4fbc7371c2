import HarkLog
import HarkProto
import HarkStore
import Logging

extension Node {
    /// The in-memory causal graph of a group, loaded from the store on first use and kept in
    /// step by `persist`.
    func graph(for group: EventID) throws -> CausalGraph {
        if let g = graphs[group] { return g }
        var g = CausalGraph()
        for e in try store.events(group: group, limit: nil, afterLamport: nil) {
            try g.insert(e)   // total order delivers parents first
        }
        graphs[group] = g
        return g
    }

    /// The membership index of a group (PROTOCOL.md §9): its rules and conversation kind from the
    /// genesis, and MEMBER contents read from the store on demand.
    func membershipIndex(for group: EventID) -> MembershipIndex {
        if let i = membershipIndexes[group] { return i }
        var rules: UInt32 = 0
        var conversation = Hark_V1_ConversationKind.group
        let record = try? store.group(id: group)
        if let record, let genesis = try? store.event(group), let c = try? BodyCipher.open(genesis, groupKey: record.key),
           case let .genesis(g)? = c.content {
            rules = g.rules
            conversation = g.conversation
        }
        let store = self.store
        let key = record?.key ?? []
        let index = MembershipIndex(rules: rules, conversation: conversation) { id in
            guard let e = try? store.event(id), let c = try? BodyCipher.open(e, groupKey: key), case let .member(m)? = c.content else { return nil }
            return m
        }
        if record != nil { membershipIndexes[group] = index }
        return index
    }

    /// The group's membership now, or nil for an open group (issue-3 rules: every key holder).
    func currentMembership(of group: EventID) -> Membership? {
        let index = membershipIndex(for: group)
        guard index.hasRoles, let graph = try? graph(for: group) else { return nil }
        return index.current(in: graph)
    }

    /// Whether `peer` may receive the group's events: a current member (any key holder in an
    /// open group).
    /// While this node joins (an admin accepted its invite, and it does not see itself added yet),
    /// the admin that accepted also may: it brings the history that shows it is an admin, which
    /// a joiner holding only the genesis cannot know yet.
    func mayReceive(_ group: EventID, peer: PeerID) -> Bool {
        guard let m = currentMembership(of: group) else { return true }
        if m.isMember(peer.key) { return true }
        if let p = pendingJoins[group], p.state == "member", p.acceptedBy == peer, !m.isMember(identity.signing.publicKey) { return true }
        return false
    }

    /// Gives the group's membership index the content of a MEMBER event as it is accepted.
    func noteMemberContent(_ event: Event, key: [UInt8]) {
        guard let c = try? BodyCipher.open(event, groupKey: key), case let .member(m)? = c.content else { return }
        membershipIndex(for: event.effectiveGroupID).record(event.id, member: m)
    }

    /// A validation context for `group` with its membership index.
    func context(for group: EventID, key: [UInt8]) throws -> KeyedGroupContext {
        KeyedGroupContext(graph: try graph(for: group), groupKey: key, membershipIndex: membershipIndex(for: group))
    }

    /// Stores a validated event and adds it to its group's graph.
    /// - Returns: false if it was already held. Reports a fork (equivocation) when one appears.
    @discardableResult
    func persist(_ event: Event) throws -> Bool {
        let group = event.effectiveGroupID
        _ = try graph(for: group)
        guard try store.insert(event, receivedMs: Node.nowMs()) else { return false }
        if event.kind == .member || event.kind == .prekey { prekeyViews[group] = nil }
        // Mutate in place: a copy of the graph here would cost O(n) per event.
        guard let (_, fork) = try graphs[group]?.insert(event) else { return true }
        if let fork { logFork(fork, group: group) }
        return true
    }

    func logFork(_ fork: CausalGraph.Fork, group: EventID) {
        logger.warning("equivocation: an author signed two events with one sequence number", metadata: [
            "group.id": "\(group)", "author": "\(PeerID(fork.author))", "seq": "\(fork.seq)",
            "event.a": "\(fork.first)", "event.b": "\(fork.second)",
        ])
    }
}

import HarkCrypto
