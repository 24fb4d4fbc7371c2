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
    /// genesis. MEMBER contents it lacks are read from the store by the callers below.
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
        let index = MembershipIndex(rules: rules, conversation: conversation, history: history)
        if record != nil { logState.membershipIndexes[group] = index }
        return index
    }

    /// Records in the group's membership index the contents of the MEMBER events `ids` that it
    /// lacks, read from the store (nil for one that is not stored or does not open).
    func recordMemberContents(_ ids: [EventID], group: EventID) {
        let index = membershipIndex(for: group)
        let missing = ids.filter { !index.hasRecorded($0) }
        guard !missing.isEmpty else { return }
        let key = (try? store.group(id: group))?.key ?? []
        for id in missing {
            index.record(id, member: (try? store.event(id)).flatMap { GraphIntakeHistory.memberContent(of: $0, groupKey: key) })
        }
    }

    /// The content of a MEMBER event of `group`, nil if it is not stored or does not open.
    func memberContent(_ id: EventID, group: EventID) -> Hark_V1_Member? {
        recordMemberContents([id], group: group)
        return membershipIndex(for: group).member(id)
    }

    /// The membership folded from `frontier` in `history`, with the MEMBER contents the index
    /// lacks read from the store first.
    func membership(frontier: [EventID], in history: some CausalHistory, group: EventID) -> Membership {
        let index = membershipIndex(for: group)
        // Once every needed content is recorded (unreadable ones as such), a fold needs nothing:
        // the second answer is a membership.
        for _ in 0..<2 {
            switch index.membership(frontier: frontier, in: history) {
            case let .membership(m): return m
            case let .needs(ids): recordMemberContents(ids, group: group)
            }
        }
        if case let .membership(m) = index.membership(frontier: frontier, in: history) { return m }
        return Membership.fold([])
    }

    /// The current membership of the whole graph of `group`.
    func currentMembership(in graph: CausalGraph, group: EventID) -> Membership {
        membership(frontier: graph.membershipEvents(before: graph.heads), in: graph, group: group)
    }

    /// Runs `validation` until it gives a verdict: MEMBER contents it reports needed are read
    /// from the store and recorded first.
    /// - Throws: the `EventError` of the verdict.
    func withMemberContents(group: EventID, _ validation: () throws(EventError) -> Void) throws(EventError) {
        for _ in 0..<2 {
            do { return try validation() } catch .memberContentsNeeded(let ids) { recordMemberContents(ids, group: group) }
        }
        try validation()
    }

    /// Delivers what `intake` holds ready into `history`, recording the MEMBER contents a pass
    /// asks for and passing again until none is asked for. Each round records every content it
    /// asked for, so no round asks for the same one twice.
    func deliver(_ intake: inout EventIntake, into history: inout some IntakeHistory) -> EventIntake.Pass {
        var total = EventIntake.Pass()
        var asked: Set<EventID> = []
        while true {
            let pass = intake.deliver(into: &history)
            total.accepted += pass.accepted
            total.rejections += pass.rejections
            guard !pass.needs.isEmpty, asked.isDisjoint(with: pass.needs) else { return total }
            asked.formUnion(pass.needs)
            recordMemberContents(pass.needs, group: intake.group)
        }
    }

    /// The group's membership now, or nil for an open group (rules = 0: every key holder).
    /// From the graph when it is loaded, else from the store (`TipHistory`): never loads it.
    func currentMembership(of group: EventID) -> Membership? {
        let index = membershipIndex(for: group)
        guard index.hasRoles else { return nil }
        if let graph = logState.graphs[group] { return currentMembership(in: graph, group: group) }
        guard let tip = try? tipHistory(group: group) else { return nil }
        return membership(frontier: tip.membership, in: tip, group: group)
    }

    /// The group's history as seen by an event on top of all its heads, from the store. Fills in
    /// the membership ancestry a store written by an earlier release lacks first (once). Kept
    /// while the group's history generation holds (`LogState.tipHistories`): a message written
    /// reads no rare-kind events. The generation is read before loading, so a write meanwhile
    /// shows as a newer generation on the next call.
    /// - Throws: `StoreError`.
    func tipHistory(group: EventID) throws -> TipHistory {
        let generation = store.historyGeneration(group: group)
        if let kept = logState.tipHistories[group], kept.generation == generation { return kept.tip }
        let tip: TipHistory
        if let loaded = try TipHistory.load(store: store, group: group) {
            tip = loaded
        } else {
            try recordMembershipAncestry(group: group)
            guard let loaded = try TipHistory.load(store: store, group: group) else {
                throw StoreError.corrupt("membership ancestry of \(group) is still incomplete")
            }
            tip = loaded
        }
        // A generation read after recording the ancestry is newer: the next call loads again.
        logState.tipHistories[group] = (generation, tip)
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
        guard event.kind == .member else { return }
        membershipIndex(for: event.effectiveGroupID).record(event.id, member: GraphIntakeHistory.memberContent(of: event, groupKey: key))
    }

    /// Validates an event this node wrote on top of every current head of its group (its parents
    /// include them all): against the graph when it is loaded, else from the store
    /// (`TipHistory`), without loading it. - Throws: `EventError`, the first rule broken;
    /// `StoreError`.
    func validateOwn(_ event: Event, parents: [EventID: Event], group: EventID, key: [UInt8]) throws {
        let index = membershipIndex(for: group)
        if let graph = logState.graphs[group] {
            try withMemberContents(group: group) { () throws(EventError) in
                try EventValidator.validate(event, parents: parents,
                                            context: KeyedGroupContext(graph: graph, groupKey: key, membershipIndex: index))
            }
        } else {
            let tip = try tipHistory(group: group)
            try withMemberContents(group: group) { () throws(EventError) in
                try EventValidator.validate(event, parents: parents,
                                            context: TipContext(history: tip, groupKey: key, membershipIndex: index))
            }
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
