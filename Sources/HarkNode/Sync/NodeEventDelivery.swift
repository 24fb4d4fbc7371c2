import Foundation
import HarkCrypto
import HarkLog
import HarkStore
import HarkSync
import HarkWire
import HarkWireProto
import Logging

/// Events from a peer become stored events (PROTOCOL.md §4, §6): an Events frame's events are
/// admitted (new ones wait in `Node.pending` until their parents are held), validated in
/// (lamport, ID) order, stored in one transaction, then spread to other channels, watchers and
/// followers. Actor-isolated; signatures were checked before, off the actor (`EventIntake`).
extension Node {
    /// An Events frame handled on the actor (the channel reader checks signatures ahead, off the
    /// actor, and calls `receiveEvents(groupID:decoded:from:)` instead).
    func receiveEvents(_ frame: Hark_V1_Events, from session: PeerSession) throws {
        var decoded: [Event] = []
        decoded.reserveCapacity(frame.events.count)
        for signed in frame.events {
            do { decoded.append(try Event(decoding: signed)) } catch {
                throw ProtocolViolation("invalid event: \(error)")
            }
        }
        try admit(decoded, groupID: frame.groupID, push: frame.push, from: session)
    }

    /// The events of one Events frame, decoded and signature-checked off the actor
    /// (`EventIntake`), or the first event that failed those checks.
    /// - Throws: `ProtocolViolation` when the peer broke the protocol; the caller drops the channel.
    func receiveEvents(groupID: Data, push: Bool = false, decoded: Result<[Event], EventError>, from session: PeerSession) throws {
        guard peerTable[session.id] != nil else { return }
        do {
            switch decoded {
            case let .success(events): try admit(events, groupID: groupID, push: push, from: session)
            case let .failure(error):
                _ = try sharedGroup([UInt8](groupID), from: session)
                throw ProtocolViolation("invalid event: \(error)")
            }
        } catch is IgnoredFrame {
            // For a group this peer holds the key of but is not a member of (PROTOCOL.md §5.3).
        }
    }

    /// Queues the new ones among `events` (decoded and signed) for delivery, then delivers what
    /// is ready. One store look-up for the whole frame. A §6.4 push (`push`) that brings an event
    /// already held or waiting is a duplicate: its link leaves the broadcast tree (what is new in
    /// it is still delivered).
    func admit(_ events: [Event], groupID: Data, push: Bool = false, from session: PeerSession) throws {
        let group = try sharedGroup([UInt8](groupID), from: session)
        for event in events {
            guard (event.groupID ?? event.id) == group else {
                throw ProtocolViolation("event \(event.id) does not belong to group \(group)")
            }
            if logState.rejected.contains(event.id) { throw ProtocolViolation("event \(event.id) was rejected before") }
        }
        // No local copy of the graph: one alive during delivery would make its inserts copy it.
        let unseen = events.filter { logState.pending[group]?[$0.id] == nil && !(logState.graphs[group]?.contains($0.id) ?? false) }
        let unknown = Set(try store.unknown(unseen.map(\.id)))
        let duplicate = push && unknown.count < events.count
        if duplicate { broadcastDuplicate(group: group, from: session) }
        guard !unknown.isEmpty else { return }
        // Taken out of `pending` while it changes: a second reference would make the first
        // insert copy the whole dictionary (every waiting event).
        var waiting = logState.pending.removeValue(forKey: group) ?? [:]
        for e in unseen where unknown.contains(e.id) && waiting[e.id] == nil {
            guard waiting.count < SyncLimits.maxPendingPerGroup else {
                logState.pending[group] = waiting
                throw ProtocolViolation("too many events without parents")
            }
            waiting[e.id] = e
        }
        logState.pending[group] = waiting
        waiting = [:]   // one reference left, for `deliverPending` to take
        try deliverPending(group: group, from: session, pushed: push && !duplicate)
    }

    /// Delivers every pending event whose parents are all held, in (lamport, ID) order; a valid
    /// event's parents have smaller Lamport timestamps, so one pass in that order suffices.
    func deliverPending(group: EventID, from session: PeerSession?, pushed: Bool = false) throws {
        // Taken out of `pending` until the accepted events are stored (put back on every way
        // out before that): a second reference would make each removal below copy the whole
        // dictionary.
        guard var waiting = logState.pending.removeValue(forKey: group) else { return }
        var putBack = false
        defer { if !putBack { logState.pending[group] = waiting } }
        guard !waiting.isEmpty, let record = try store.group(id: group) else { return }
        // Validated from the store when the graph is not loaded (a push, or a new member's
        // first sync): memory does not grow with the history.
        var fromStore = try storeHistory(for: Array(waiting.values), group: group)
        if fromStore == nil { _ = try graph(for: group) }
        var accepted: [Event] = []          // validated and in the graph; stored below in one transaction
        var violation: ProtocolViolation?
        for event in waiting.values.inTotalOrder() {
            // No local copy of the graph may outlive this check: the insert below mutates the
            // graph in place, and a live copy would make it copy every dictionary (O(n) per event).
            let ready = fromStore.map { h in event.allParents.allSatisfy { h.contains($0) } }
                ?? logState.graphs[group].map { g in event.allParents.allSatisfy { g.contains($0) } } ?? false
            guard ready else { continue }
            // What the rules read of each parent comes from the graph: no parent is read back.
            var parents: [EventID: EventValidator.ParentFacts] = [:]
            for p in event.allParents {
                if let e = fromStore?.entry(p) ?? logState.graphs[group]?.entry(p) {
                    parents[p] = EventValidator.ParentFacts(author: e.author, seq: e.seq, lamport: e.lamport, group: group)
                }
            }
            do {
                if let h = fromStore {
                    try EventValidator.validate(event, parentFacts: parents,
                                                context: StoreContext(history: h, groupKey: record.key, membershipIndex: membershipIndex(for: group)))
                } else {
                    try validateInGroup(event, parents: parents, group: group, key: record.key)
                }
            } catch {
                waiting.removeValue(forKey: event.id)
                // A missing body can be a stripped copy of a valid event (anyone can strip one):
                // refuse this copy but do not remember the ID.
                if error != .missingBody {
                    logState.rejected.insert(event.id)
                    try? store.markRejected(event.id, group: group, reason: "\(error)", atMs: clock.wallMs())
                }
                logger.warning("rejected event", metadata: ["event.id": "\(event.id)", "reason": "\(error)"])
                violation = ProtocolViolation("invalid event \(event.id): \(error)")
                continue
            }
            // The next events of this batch may be judged on this MEMBER event before it is stored.
            if event.kind == .member { noteMemberContent(event, key: record.key) }
            if event.kind == .member || event.kind == .prekey { logState.prekeyViews[group] = nil }
            // In place: a copy of the graph here would cost O(n) per event.
            if fromStore != nil {
                fromStore?.add(event)
            } else if let (_, fork) = try logState.graphs[group]?.insert(event), let fork { logFork(fork, group: group) }
            accepted.append(event)
            waiting.removeValue(forKey: event.id)
        }
        var delivered: [Event] = []
        if !accepted.isEmpty {
            // One transaction: events, plaintexts, chains, membership ancestry (NodeDelivery).
            do { delivered = try storeDelivered(accepted, record: record, history: fromStore) } catch {
                logState.graphs[group] = nil   // reload from the store on next use
                for e in accepted { waiting[e.id] = e }   // still waiting: put back with the rest
                throw error
            }
        }
        logState.pending[group] = waiting
        putBack = true
        eventsDelivered(delivered, group: group, except: session, pushed: pushed, record: record)
        // Acknowledge: the sender learns what this node now holds (delivery receipts, §4.8).
        if let session, !delivered.isEmpty, peerTable[session.id] != nil { acknowledge(group: group, on: session) }
        // Ask for parents we still lack — after a push on a §6.4 link, only if they do not come
        // down the tree in time (a graft, §6.4): they are usually on their way.
        if let session {
            var absent: [EventID] = []
            for e in waiting.values {
                for p in e.allParents where waiting[p] == nil && !logState.rejected.contains(p) { absent.append(p) }
            }
            let missing = try store.unknown(absent)
            if pushed, usesBroadcast(session), broadcastState.broadcasts[group]?.peers.contains(session.id) ?? false {
                let set = Set(missing)
                broadcastState.broadcasts[group]?.announced(missing, from: session.id, nowMs: clock.monotonicMs(), isHeld: { !set.contains($0) })
            } else {
                requestEvents(missing, group: group, from: session)
            }
        }
        if !delivered.isEmpty { try afterDelivery(group: group, record: record, delivered: delivered) }
        if let violation { throw violation }
    }

    /// A `StoreHistory` to validate `events` with, or nil when the graph must be used: it is
    /// loaded already, an author of the group equivocated, or one of `events` would fork its
    /// author's chain (the graph reports forks, and the node proves them). The fork check is one
    /// index range per author of `events` (`Store.heldSeqs`).
    func storeHistory(for events: [Event], group: EventID) throws -> StoreHistory? {
        guard logState.graphs[group] == nil else { return nil }
        var seqs: [SigningPublicKey: Set<UInt64>] = [:]
        for e in events {
            guard seqs[e.author, default: []].insert(e.seq).inserted else { return nil }
        }
        for (author, s) in seqs {
            if !(try store.heldSeqs(author: author, s, group: group)).isEmpty { return nil }
        }
        return try StoreHistory.load(store: store, group: group, bases: &logState.historyBases)
    }

    /// Validates against the group's current graph; the context (and its copy of the graph) ends
    /// with this call.
    func validateInGroup(_ event: Event, parents: [EventID: EventValidator.ParentFacts], group: EventID, key: [UInt8]) throws(EventError) {
        guard let graph = logState.graphs[group] else { throw .missingParents(event.allParents) }
        try EventValidator.validate(event, parentFacts: parents,
                                    context: KeyedGroupContext(graph: graph, groupKey: key, membershipIndex: membershipIndex(for: group)))
    }

    /// A new event is stored: push it to every other channel sharing the group, and to followers.
    func eventDelivered(_ event: Event, group: EventID, except: PeerSession?) {
        eventsDelivered([event], group: group, except: except)
    }

    /// New events of `group` are stored (in total order), from `except` (`pushed`: by a §6.4
    /// push): spread them — by epidemic broadcast (§6.4), or else pushed to every other channel
    /// sharing the group, packed into frames, with the ones that are heads now hinted (§6.2,
    /// §7.5) — and tell watchers and followers.
    /// `record`: the group's record when the caller has it (saves a store read).
    func eventsDelivered(_ events: [Event], group: EventID, except: PeerSession?, pushed: Bool = false,
                         record known: Store.GroupRecord? = nil) {
        guard !events.isEmpty else { return }
        if configuration.epidemicBroadcast {
            broadcastDelivered(events, group: group, except: except, pushed: pushed)
        } else {
            for s in peerTable.sessions where s.id != except?.id && isShared(group, with: s) {
                send(events, group: group, to: s)
            }
            // A hint per event would be one datagram per event and peer; the new heads suffice
            // (without the graph: the events no other of `events` names as a parent).
            let named: Set<EventID> = events.count > 1 && logState.graphs[group] == nil ? Set(events.lazy.flatMap(\.allParents)) : []
            for e in events where events.count == 1 || (logState.graphs[group].map { $0.children(e.id).isEmpty } ?? !named.contains(e.id)) {
                hintHead(e, group: group, except: except)
            }
        }
        wakeReceiptWaiters(group: group)
        let watched = !subscriberState.watchers.isEmpty
        let followed = !subscriberState.followers.isEmpty
        let offers = except != nil && events.contains { $0.kind == .fileOffer }
        guard watched || followed || offers, let record = known ?? (try? store.group(id: group)) else { return }
        for event in events {
            if watched { emitWatchEvents(for: event, record: record) }
            if event.kind == .fileOffer, except != nil { maybeAutoFetch(event, group: record) }
            if followed, event.kind == .message || event.kind == .join, let view = messageView(event, group: record) {
                for (_, f) in subscriberState.followers where f.group == group { f.continuation.yield(view) }
            }
        }
        if watched { receiptsMayHaveChanged(group: group) }
    }
}
