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
        let unknown: Set<EventID>
        do {
            defer { logState.intakes[group] = intake }   // back before delivery takes it
            // No local copy of the graph: one alive during delivery would make its inserts copy it.
            let unseen = try intake.screen(events).filter { !(logState.graphs[group]?.contains($0.id) ?? false) }
            unknown = Set(try store.unknown(unseen.map(\.id)))
            duplicate = push && unknown.count < events.count
            if duplicate { broadcastDuplicate(group: group, from: session) }
            guard !unknown.isEmpty else { return }
            try intake.admit(unseen.lazy.filter { unknown.contains($0.id) })
        } catch let refusal as EventIntake.Refusal {
            throw ProtocolViolation(refusal.description)
        }
        let waiting = intake.waiting.count
        intake = EventIntake(group: group)   // one reference left, for delivery to take
        let contribution = DeliveryContribution(session: session, pushed: push && !duplicate, ids: unknown)
        logState.pendingDeliveries[group, default: []].append(contribution)
        if push, waiting < SyncLimits.maxCoalescedWaiting {
            scheduleDelivery(group: group)
        } else {
            try deliverQueued(group: group, caller: session)
        }
    }

    /// Delivers `group`'s queued contributions on the actor after the work already queued on
    /// it (other channels' frames): the pushes that arrived meanwhile, from any channel, are
    /// stored in one transaction (`deliverQueued`). At most one such task waits per group.
    private func scheduleDelivery(group: EventID) {
        guard logState.deliveryScheduled.insert(group).inserted else { return }
        Task {
            await self.runScheduledDelivery(group: group)
        }
    }

    private func runScheduledDelivery(group: EventID) {
        logState.deliveryScheduled.remove(group)
        guard logState.pendingDeliveries[group] != nil else { return }
        do {
            try deliverQueued(group: group, caller: nil)
        } catch {
            // Storing failed (the accepted events wait again): the channels that brought them
            // are dropped, as a failed delivery on the reader's path drops its channel, and the
            // reconciliation after the redial (§6.3) brings them again.
            logger.warning("delivering events failed", metadata: ["group.id": "\(group)", "reason": "\(error)"])
        }
    }

    /// Delivers every waiting event of `group` whose parents are all held, as brought by
    /// `session` (nil: none, as for an audit), with whatever other channels brought meanwhile
    /// (`deliverQueued`).
    /// - Throws: `ProtocolViolation` when an event `session` sent was refused (after what was valid
    ///   is stored); `StoreError` when storing failed (the accepted events wait again).
    func deliverPending(group: EventID, from session: PeerSession?, pushed: Bool = false) throws {
        logState.pendingDeliveries[group, default: []].append(DeliveryContribution(session: session, pushed: pushed, ids: []))
        try deliverQueued(group: group, caller: session)
    }

    /// Delivers every waiting event of `group` whose parents are all held (`deliverReady`, one
    /// store transaction), then, per channel that contributed since the last delivery
    /// (`LogState.pendingDeliveries`, in arrival order): spreads the events it brought,
    /// acknowledges them, and asks it for absent parents. An event released by a parent that
    /// another channel brought goes with the last contribution. Followers and watchers hear of
    /// all events once, in order.
    /// - Parameter caller: the channel whose frame is being handled (nil on a scheduled run):
    ///   its refused events are thrown; another channel that sent a refused event is dropped here.
    /// - Throws: `ProtocolViolation` (see `caller`); `StoreError` when storing failed (the
    ///   accepted events wait again; the other contributing channels are dropped).
    func deliverQueued(group: EventID, caller: PeerSession?) throws {
        let contributions = logState.pendingDeliveries.removeValue(forKey: group) ?? []
        let ready: (Store.GroupRecord, EventIntake.Pass, [Event])?
        do {
            ready = try deliverReady(group: group)
        } catch {
            var closed: Set<UInt64> = []
            for c in contributions {
                if let s = c.session, s.id != caller?.id, closed.insert(s.id).inserted { s.close() }
            }
            throw error
        }
        guard let (record, pass, delivered) = ready else { return }
        if !delivered.isEmpty {
            logState.deliveryCounts.deliveries += 1
            logState.deliveryCounts.events += delivered.count
        }
        let source = DeliveryContribution.sources(contributions)
        var violation: ProtocolViolation?
        var dropped: Set<UInt64> = []
        for r in pass.rejections {
            if r.remembered { try? store.markRejected(r.event.id, group: group, reason: "\(r.error)", atMs: clock.wallMs()) }
            logger.warning("rejected event", metadata: ["event.id": "\(r.event.id)", "reason": "\(r.error)"])
            let refused = ProtocolViolation("invalid event \(r.event.id): \(r.error)")
            let sender = source[r.event.id].flatMap { contributions[$0].session }
            if let sender, sender.id != caller?.id {
                if dropped.insert(sender.id).inserted {
                    logger.warning("dropping peer connection", metadata: ["peer.id": "\(sender.peerID)", "reason": "\(refused)"])
                    sender.close()
                }
            } else if caller != nil {
                violation = refused
            }
        }
        // Spread per contribution (the relay tree depends on where events came from), then
        // acknowledge and ask each contributing channel once.
        let parts = DeliveryContribution.split(delivered, among: contributions, source: source)
        var brought: Set<UInt64> = []   // channels some of whose events were delivered
        for (c, events) in zip(contributions, parts) where !events.isEmpty {
            // What a dropped channel brought that was valid is stored, and spread like the rest.
            if let s = c.session, !dropped.contains(s.id) { brought.insert(s.id) }
            spreadDelivered(events, group: group, except: c.session, pushed: c.pushed)
        }
        if !delivered.isEmpty {
            tellSubscribers(delivered, group: group, fromPeer: contributions.contains { $0.session != nil }, record: record)
        }
        var asked: Set<UInt64> = []
        var missing: [EventID]?
        for c in contributions {
            guard let session = c.session, !dropped.contains(session.id), asked.insert(session.id).inserted,
                  peerTable[session.id] != nil else { continue }
            // Acknowledge: the sender learns what this node now holds (delivery receipts, §4.8).
            if brought.contains(session.id) { acknowledge(group: group, on: session) }
            // Ask for parents we still lack — after a push on a §6.4 link, only if they do not
            // come down the tree in time (a graft, §6.4): they are usually on their way.
            let absent = try missing ?? store.unknown(logState.intakes[group]?.namedParents() ?? [])
            missing = absent
            let pushedHere = contributions.contains { $0.session?.id == session.id && $0.pushed }
            if pushedHere, usesBroadcast(session), broadcastState.broadcasts[group]?.peers.contains(session.id) ?? false {
                let set = Set(absent)
                broadcastState.broadcasts[group]?.announced(absent, from: session.id, nowMs: clock.monotonicMs(), isHeld: { !set.contains($0) })
            } else {
                requestEvents(absent, group: group, from: session)
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
            let stored = try storeDelivered(pass.accepted, record: record, history: fromStore)
            fromStore?.rememberStored(stored)
            return (record, pass, stored)
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
    /// push): spread them (`spreadDelivered`) and tell watchers and followers (`tellSubscribers`).
    /// `record`: the group's record when the caller has it (saves a store read).
    func eventsDelivered(_ events: [Event], group: EventID, except: PeerSession?, pushed: Bool = false,
                         record known: Store.GroupRecord? = nil) {
        guard !events.isEmpty else { return }
        spreadDelivered(events, group: group, except: except, pushed: pushed)
        tellSubscribers(events, group: group, fromPeer: except != nil, record: known)
    }

    /// Spreads new events of `group` that came from `except` (nil: written here): by epidemic
    /// broadcast (§6.4), or else pushed to every other channel sharing the group, packed into
    /// frames, with the ones that are heads now hinted (§6.2, §7.5).
    func spreadDelivered(_ events: [Event], group: EventID, except: PeerSession?, pushed: Bool) {
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
    }

    /// Wakes receipt waiters and tells watchers and followers of new events of `group`, in
    /// order (`fromPeer`: some came from a peer, whose file offers may be fetched at once).
    func tellSubscribers(_ events: [Event], group: EventID, fromPeer: Bool, record known: Store.GroupRecord?) {
        wakeReceiptWaiters(group: group)
        let watched = !subscriberState.watchers.isEmpty
        let followed = !subscriberState.followers.isEmpty
        let offers = fromPeer && events.contains { $0.kind == .fileOffer }
        guard watched || followed || offers, let record = known ?? (try? store.group(id: group)) else { return }
        for event in events {
            if watched { emitWatchEvents(for: event, record: record) }
            if event.kind == .fileOffer, fromPeer { maybeAutoFetch(event, group: record) }
            if followed, event.kind == .message || event.kind == .join, let view = messageView(event, group: record) {
                for (_, f) in subscriberState.followers where f.group == group { f.continuation.yield(view) }
            }
        }
        if watched { receiptsMayHaveChanged(group: group) }
    }
}

/// What one Events frame (or merged run of frames) of one channel brought to a group's intake,
/// waiting to be delivered with the others that arrive before the delivery runs
/// (`Node.deliverQueued`). Value type.
struct DeliveryContribution: Sendable {
    /// The channel (nil: none, as for an audit).
    let session: PeerSession?
    /// Brought by a §6.4 push that was not a duplicate.
    let pushed: Bool
    /// The new events it brought.
    let ids: Set<EventID>

    /// Event → index of the first contribution that brought it. Pure.
    static func sources(_ contributions: [DeliveryContribution]) -> [EventID: Int] {
        var out: [EventID: Int] = [:]
        for (i, c) in contributions.enumerated() {
            for id in c.ids where out[id] == nil { out[id] = i }
        }
        return out
    }

    /// `delivered` (in total order) cut per contribution, each part in total order; an event
    /// no contribution brought (released by a parent that arrived) goes with the last one.
    /// One part per contribution (none when there are none). Pure.
    static func split(_ delivered: [Event], among contributions: [DeliveryContribution], source: [EventID: Int]) -> [[Event]] {
        guard !contributions.isEmpty else { return [] }
        var parts = [[Event]](repeating: [], count: contributions.count)
        for e in delivered { parts[source[e.id] ?? contributions.count - 1].append(e) }
        return parts
    }
}
