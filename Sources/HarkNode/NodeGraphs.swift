import HarkEventProto
import HarkLog
import HarkStore
import Logging

extension Node {
    /// The in-memory causal graph of a group, loaded from the store on first use (by sync and
    /// intake; writing an event does not load it) and kept in step by `persist`.
    func graph(for group: EventID) throws -> CausalGraph {
        if let g = logState.graphs[group] { return g }
        var g = CausalGraph()
        for e in try store.events(group: group, limit: nil, afterLamport: nil) {
            try g.insert(e)   // total order delivers parents first
        }
        logState.graphs[group] = g
        return g
    }

    /// The membership index of a group (PROTOCOL.md §5): its rules and conversation kind from the
    /// genesis, and MEMBER contents read from the store on demand.
    func membershipIndex(for group: EventID) -> MembershipIndex {
        if let i = logState.membershipIndexes[group] { return i }
        var rules: UInt32 = 0
        var conversation = Hark_V1_ConversationKind.group
        var history = Hark_V1_HistoryVisibility.joined
        let record = try? store.group(id: group)
        if let record, let genesis = try? store.event(group), let c = try? BodyCipher.open(genesis, groupKey: record.key),
           case let .genesis(g)? = c.content {
            rules = g.rules
            conversation = g.conversation
            history = g.history
        }
        let store = self.store
        let key = record?.key ?? []
        let index = MembershipIndex(rules: rules, conversation: conversation, history: history) { id in
            guard let e = try? store.event(id), let c = try? BodyCipher.open(e, groupKey: key), case let .member(m)? = c.content else { return nil }
            return m
        }
        if record != nil { logState.membershipIndexes[group] = index }
        return index
    }

    /// The group's membership now, or nil for an open group (rules = 0: every key holder).
    /// From the graph when it is loaded, else from the store (`TipHistory`): never loads it.
    func currentMembership(of group: EventID) -> Membership? {
        let index = membershipIndex(for: group)
        guard index.hasRoles else { return nil }
        if let graph = logState.graphs[group] { return index.current(in: graph) }
        guard let tip = try? tipHistory(group: group) else { return nil }
        return index.membership(frontier: tip.membership, in: tip)
    }

    /// The group's history as seen by an event on top of all its heads, from the store. Fills in
    /// the membership ancestry a store written by an earlier release lacks first (once).
    /// - Throws: `StoreError`.
    func tipHistory(group: EventID) throws -> TipHistory {
        if let tip = try TipHistory.load(store: store, group: group) { return tip }
        try recordMembershipAncestry(group: group)
        guard let tip = try TipHistory.load(store: store, group: group) else {
            throw StoreError.corrupt("membership ancestry of \(group) is still incomplete")
        }
        return tip
    }

    /// Records, for each membership event of the group whose ancestry is not recorded, the
    /// membership events among its ancestors: from the graph when it is loaded, else by walking
    /// the store (the genesis has none; the walk stops at the oldest JOIN or MEMBER event).
    func recordMembershipAncestry(group: EventID) throws {
        let recorded = try store.membershipAncestors(group: group)
        let membership = try store.rareKindEvents(group: group).filter { CausalGraph.isMembershipKind($0.kind) }
        let missing = membership.filter { recorded[$0.id] == nil }
        guard !missing.isEmpty else { return }
        var ancestry: [EventID: [EventID]] = [:]
        let floor = membership.filter { !$0.isGenesis }.map(\.lamport).min() ?? 1
        for e in missing {
            if let graph = logState.graphs[group] {
                ancestry[e.id] = graph.membershipAncestors(of: e.id)
            } else {
                ancestry[e.id] = e.isGenesis ? [] : try store.membershipAncestorsByWalking(e.id, group: group, floor: floor)
            }
        }
        try store.saveMembershipAncestors(ancestry, group: group)
        logger.info("recorded the membership ancestry of \(missing.count) events", metadata: ["group.id": "\(group)"])
    }

    /// Records the membership ancestry of newly stored membership events among `events`, from
    /// the loaded graph (which holds them already).
    func recordMembershipAncestry(of events: [Event], group: EventID) throws {
        guard let graph = logState.graphs[group] else { return }
        var ancestry: [EventID: [EventID]] = [:]
        for e in events where CausalGraph.isMembershipKind(e.kind) { ancestry[e.id] = graph.membershipAncestors(of: e.id) }
        try store.saveMembershipAncestors(ancestry, group: group)
    }

    /// Whether `peer` may receive the group's events: a current member (any key holder in an
    /// open group).
    /// While this node joins (an admin accepted its invite, and it does not see itself added yet),
    /// the admin that accepted also may: it brings the history that shows it is an admin, which
    /// a joiner holding only the genesis cannot know yet.
    func mayReceive(_ group: EventID, peer: PeerID) -> Bool {
        guard let m = currentMembership(of: group) else { return true }
        if m.isMember(peer.key) { return true }
        if let p = inviteState.pendingJoins[group], p.state == "member", p.acceptedBy == peer, !m.isMember(identity.signing.publicKey) { return true }
        return false
    }

    /// Gives the group's membership index the content of a MEMBER event as it is accepted.
    func noteMemberContent(_ event: Event, key: [UInt8]) {
        guard let c = try? BodyCipher.open(event, groupKey: key), case let .member(m)? = c.content else { return }
        membershipIndex(for: event.effectiveGroupID).record(event.id, member: m)
    }

    /// Validates an event this node wrote on top of every current head of its group (its parents
    /// include them all): against the graph when it is loaded, else from the store
    /// (`TipHistory`), without loading it. - Throws: `EventError`, the first rule broken;
    /// `StoreError`.
    func validateOwn(_ event: Event, parents: [EventID: Event], group: EventID, key: [UInt8]) throws {
        let index = membershipIndex(for: group)
        if let graph = logState.graphs[group] {
            try EventValidator.validate(event, parents: parents,
                                        context: KeyedGroupContext(graph: graph, groupKey: key, membershipIndex: index))
        } else {
            let tip = try tipHistory(group: group)
            try EventValidator.validate(event, parents: parents,
                                        context: TipContext(history: tip, groupKey: key, membershipIndex: index))
        }
    }

    /// Stores a validated event and adds it to its group's graph when that is loaded (it is not
    /// loaded for this). A membership event must be one this node wrote on top of every head,
    /// or the graph must be loaded: its membership ancestry is recorded with it.
    /// `writes` are stored in the same transaction (`Store.DeliveryWrites`), with the membership
    /// ancestry when the graph is not loaded.
    /// - Returns: false if it was already held. Reports a fork (equivocation) when one appears.
    @discardableResult
    func persist(_ event: Event, with writes: Store.DeliveryWrites = Store.DeliveryWrites()) throws -> Bool {
        let group = event.effectiveGroupID
        var writes = writes
        // Before the insert: the membership events an event on top of all heads descends from.
        if logState.graphs[group] == nil, CausalGraph.isMembershipKind(event.kind) {
            let earlier = event.isGenesis ? [] : try store.rareKindEvents(group: group).filter { CausalGraph.isMembershipKind($0.kind) }.map(\.id)
            writes.membershipAncestry = (group, [event.id: earlier])
        }
        guard try store.insert(batch: [event], receivedMs: clock.wallMs(), with: writes)[0] else { return false }
        if event.kind == .member || event.kind == .prekey { logState.prekeyViews[group] = nil }
        if logState.graphs[group] != nil {
            // Mutate in place: a copy of the graph here would cost O(n) per event.
            if let (_, fork) = try logState.graphs[group]?.insert(event), let fork { logFork(fork, group: group) }
            try recordMembershipAncestry(of: [event], group: group)
        }
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
