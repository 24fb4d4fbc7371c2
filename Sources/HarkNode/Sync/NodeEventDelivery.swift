import Foundation
import HarkCrypto
import HarkLog
import HarkStore
import HarkSync
import HarkWire
import HarkWireProto
import Logging

/// Events from a peer become stored events (PROTOCOL.md §4, §6): an Events frame's events are
/// admitted to the group's `EventIntake` (new ones wait there until their parents are held),
/// validated in (lamport, ID) order, stored in one transaction, then spread to other channels,
/// watchers and followers. Actor-isolated; signatures were checked before, off the actor
/// (`ConcurrentDecoding`).
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
    /// (`ConcurrentDecoding`), or the first event that failed those checks.
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

    /// Queues the new ones among `events` (decoded and signed) in the group's `EventIntake`, then
    /// delivers what is ready. One store look-up for the whole frame. A §6.4 push (`push`) that
    /// brings an event already held or waiting is a duplicate: its link leaves the broadcast tree
    /// (what is new in it is still delivered).
    /// - Throws: `ProtocolViolation` for an event of another group, one refused before, or one
    ///   beyond the bound on waiting events; the caller drops the channel.
    func admit(_ events: [Event], groupID: Data, push: Bool = false, from session: PeerSession) throws {
        let group = try sharedGroup([UInt8](groupID), from: session)
        // Taken out while it changes: a second reference would make the first insert copy every
        // waiting event.
        var intake = logState.intakes.removeValue(forKey: group) ?? EventIntake(group: group, maxWaiting: SyncLimits.maxPendingPerGroup)
        let duplicate: Bool
        do {
            defer { logState.intakes[group] = intake }   // back before delivery takes it
            // No local copy of the graph: one alive during delivery would make its inserts copy it.
            let unseen = try intake.screen(events).filter { !(logState.graphs[group]?.contains($0.id) ?? false) }
            let unknown = Set(try store.unknown(unseen.map(\.id)))
            duplicate = push && unknown.count < events.count
            if duplicate { broadcastDuplicate(group: group, from: session) }
            guard !unknown.isEmpty else { return }
            try intake.admit(unseen.lazy.filter { unknown.contains($0.id) })
        } catch let refusal as EventIntake.Refusal {
            throw ProtocolViolation(refusal.description)
        }
        intake = EventIntake(group: group)   // one reference left, for `deliverPending` to take
        try deliverPending(group: group, from: session, pushed: push && !duplicate)
    }

    /// Delivers every waiting event of `group` whose parents are all held (`deliverReady`), then
    /// spreads what was stored, acknowledges it, and asks the peer for absent parents.
    /// - Throws: `ProtocolViolation` when an event was refused (after what was valid is stored);
    ///   `StoreError` when storing failed (the accepted events wait again).
    func deliverPending(group: EventID, from session: PeerSession?, pushed: Bool = false) throws {
        guard let (record, pass, delivered) = try deliverReady(group: group) else { return }
        var violation: ProtocolViolation?
        for r in pass.rejections {
            if r.remembered { try? store.markRejected(r.event.id, group: group, reason: "\(r.error)", atMs: clock.wallMs()) }
            logger.warning("rejected event", metadata: ["event.id": "\(r.event.id)", "reason": "\(r.error)"])
            violation = ProtocolViolation("invalid event \(r.event.id): \(r.error)")
        }
        eventsDelivered(delivered, group: group, except: session, pushed: pushed, record: record)
        // Acknowledge: the sender learns what this node now holds (delivery receipts, §4.8).
        if let session, !delivered.isEmpty, peerTable[session.id] != nil { acknowledge(group: group, on: session) }
        // Ask for parents we still lack — after a push on a §6.4 link, only if they do not come
        // down the tree in time (a graft, §6.4): they are usually on their way.
        if let session {
            let missing = try store.unknown(logState.intakes[group]?.namedParents() ?? [])
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

    /// Runs `group`'s intake: its ready events judged from the store (`StoreIntakeHistory`) or
    /// against the loaded graph, the accepted ones stored in one transaction (NodeDelivery).
    /// - Returns: the group's record, the pass, and the events stored; nil when nothing waits.
    /// - Throws: `StoreError`; the accepted events then wait again, and the graph is dropped.
    private func deliverReady(group: EventID) throws -> (Store.GroupRecord, EventIntake.Pass, [Event])? {
        // Out of `intakes` until this returns: a second reference would make each removal copy
        // every waiting event.
        guard var intake = logState.intakes.removeValue(forKey: group) else { return nil }
        defer { logState.intakes[group] = intake }
        guard !intake.waiting.isEmpty, let record = try store.group(id: group) else { return nil }
        let index = membershipIndex(for: group)
        let pass: EventIntake.Pass
        var fromStore: StoreHistory?
        // Judged from the store when the graph is not loaded (a push, or a new member's first
        // sync): memory does not grow with the history.
        if let history = try storeHistory(for: Array(intake.waiting.values), group: group) {
            var h = StoreIntakeHistory(history: history, groupKey: record.key, membershipIndex: index)
            pass = deliver(&intake, into: &h)
            fromStore = h.history
        } else {
            _ = try graph(for: group)
            // The graph leaves `graphs` for the pass: it is inserted into in place, and a copy
            // alive meanwhile would make each insert copy it (O(n) per event).
            var h = GraphIntakeHistory(graph: logState.graphs.removeValue(forKey: group) ?? CausalGraph(), groupKey: record.key,
                                       membershipIndex: index)
            pass = deliver(&intake, into: &h)
            logState.graphs[group] = h.graph
            for fork in h.forks { logFork(fork, group: group) }
        }
        if pass.accepted.contains(where: { $0.kind == .member || $0.kind == .prekey }) { logState.prekeyViews[group] = nil }
        guard !pass.accepted.isEmpty else { return (record, pass, []) }
        do {
            return (record, pass, try storeDelivered(pass.accepted, record: record, history: fromStore))
        } catch {
            logState.graphs[group] = nil   // reload from the store on next use
            intake.requeue(pass.accepted)  // still waiting, with the rest
            throw error
        }
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
