import Foundation
import HarkCrypto
import HarkLog
import HarkSync
import HarkWire
import HarkWireProto

/// Limits and timers of epidemic broadcast on the node (docs/PROTOCOL.md §6.4).
enum BroadcastLimits {
    /// IDs in one IHave or Graft frame.
    static let maxIDsPerFrame = 1024
    /// A channel's Heads acknowledgement waits this long for more deliveries of the same burst (ms).
    static let ackDelayMs: Int64 = 150
    /// How often the node looks for due grafts, announcements and acknowledgements (ms).
    static let tickMs: Int64 = 25
}

/// What the node's epidemic broadcast sent since it started (logged when the node stops).
struct BroadcastCounters: CustomStringConvertible {
    var pushFrames = 0, pushedEvents = 0, announceFrames = 0, announcedIDs = 0
    var grafts = 0, prunes = 0, duplicates = 0, acks = 0
    var description: String {
        "push frames \(pushFrames) (events \(pushedEvents)), IHave \(announceFrames) (IDs \(announcedIDs)), "
            + "Graft \(grafts), Prune \(prunes), duplicate pushes received \(duplicates), Heads acknowledgements \(acks)"
    }
}

/// The node's side of epidemic broadcast (§6.4): one `EpidemicBroadcast` per group over the
/// channels whose peer speaks it, the frames it asks for, and coalesced `Heads`
/// acknowledgements. Channels to peers that do not speak it get §6.2 live push as before.
/// Runs on the node's actor.
extension Node {
    /// Whether `session` gets §6.4 (both ends speak it) rather than §6.2 flooding.
    func usesBroadcast(_ session: PeerSession) -> Bool {
        configuration.epidemicBroadcast && session.hello.speaksEpidemicBroadcast
    }

    /// The group became shared on `session`: its link starts lazy (§6.4).
    func broadcastPeerAdded(_ session: PeerSession, group: EventID) {
        guard usesBroadcast(session) else { return }
        if broadcastState.broadcasts[group] == nil {
            var c = EpidemicBroadcast<UInt64>.Configuration()
            c.newLinksEager = configuration.broadcastLinksStartEager
            c.eagerPerAuthor = !configuration.broadcastLinksStartEager
            broadcastState.broadcasts[group] = EpidemicBroadcast(configuration: c)
        }
        broadcastState.broadcasts[group]?.addPeer(session.id)
    }

    /// The group is no longer shared on `session` (or the channel closed: `group` nil).
    func broadcastPeerRemoved(_ session: PeerSession, group: EventID?) {
        if let group {
            broadcastState.broadcasts[group]?.removePeer(session.id)
            peerTable.links[session.id]?.pendingAcks.removeValue(forKey: group)
        } else {
            for g in Array(broadcastState.broadcasts.keys) { broadcastState.broadcasts[g]?.removePeer(session.id) }
            peerTable.links[session.id]?.pendingAcks = [:]
        }
    }

    /// New events of `group` were stored (in total order): push them on the tree, announce them
    /// to lazy peers (the authors' channels among them), flood them to peers that only speak
    /// §6.2 and hint them there (§7.5).
    func broadcastDelivered(_ events: [Event], group: EventID, except: PeerSession?, pushed: Bool) {
        var legacy: [PeerSession] = []
        for s in peerTable.sessions where s.id != except?.id && isShared(group, with: s) && !usesBroadcast(s) {
            legacy.append(s)
        }
        for s in legacy { send(events, group: group, to: s) }
        if !legacy.isEmpty {
            for e in events where events.count == 1 || (logState.graphs[group].map { $0.children(e.id).isEmpty } ?? true) {
                hintHead(e, group: group, only: legacy.map(\.id))
            }
        }
        guard broadcastState.broadcasts[group] != nil else { return }
        let authors = Set(events.map(\.author))
        let authorChannels = Set(peerTable.sessions.filter { authors.contains($0.peerID.key) }.map(\.id))
        let linked = broadcastState.broadcasts[group]?.peers ?? []
        let authorsArePeers = Set(peerTable.sessions.filter { linked.contains($0.id) && authors.contains($0.peerID.key) }.map(\.peerID.key)) == authors
        // In place (optional chaining on the subscript), so the state is not copied per event.
        let authoredBySource = except.map { s in events.allSatisfy { $0.author == s.peerID.key } } ?? false
        // Picks the lazy peers the events are announced to (a local: `broadcastState` is being modified).
        var rng = SystemRandomNumberGenerator()
        let actions = broadcastState.broadcasts[group]?.delivered(events.map(\.id), from: except?.id, pushed: pushed,
                                                   authoredBySource: authoredBySource, authorsArePeers: authorsArePeers,
                                                   alsoAnnounceTo: authorChannels,
                                                   authorOf: Dictionary(events.map { ($0.id, $0.author.bytes) }, uniquingKeysWith: { a, _ in a }),
                                                   nowMs: clock.monotonicMs(), rng: &rng) ?? []
        perform(actions, group: group, events: events)
    }

    /// A §6.4 push from `session` brought nothing new: that link leaves the tree.
    func broadcastDuplicate(group: EventID, from session: PeerSession) {
        guard usesBroadcast(session), let actions = broadcastState.broadcasts[group]?.duplicate(from: session.id, nowMs: clock.monotonicMs()) else { return }
        broadcastState.counters.duplicates += 1
        perform(actions, group: group, events: [])
    }

    /// After delivering events that arrived on `session`: acknowledge with our heads — once per
    /// burst to a peer that speaks §6.2 only, at once if this node does (`HARK_TEST_PROTOCOL=flood`);
    /// not at all on a §6.4 link, where the `IHave` to the events' authors does it (§6.4).
    func acknowledge(group: EventID, on session: PeerSession) {
        guard configuration.epidemicBroadcast else { sendHeads(group: group, to: session); return }
        guard !usesBroadcast(session) else { return }
        if peerTable.links[session.id]?.pendingAcks[group] == nil { peerTable.links[session.id]?.pendingAcks[group] = clock.monotonicMs() }
    }

    // MARK: frames

    func receiveIHave(_ frame: Hark_V1_IHave, from session: PeerSession) throws {
        guard usesBroadcast(session) else { throw ProtocolViolation("IHave from a peer that did not offer epidemic broadcast") }
        let group = try sharedGroup([UInt8](frame.groupID), from: session)
        let ids = try broadcastIDs(frame.ids, what: "IHave")
        guard !ids.isEmpty else { return }
        // The peer's node says it holds these: a direct report, as a head hint (§4.8).
        noteHolds(peer: session.peerID.key, group: group, adding: ids)
        let graph = logState.graphs[group]
        let unknown = Set((try? store.unknown(ids.filter { !logState.isWaiting($0, group: group) && !(graph?.contains($0) ?? false) })) ?? [])
        broadcastState.broadcasts[group]?.announced(ids, from: session.id, nowMs: clock.monotonicMs(),
                                     isHeld: { !unknown.contains($0) || self.logState.isRejected($0, group: group) })
    }

    func receiveGraft(_ frame: Hark_V1_Graft, from session: PeerSession) throws {
        guard usesBroadcast(session) else { throw ProtocolViolation("Graft from a peer that did not offer epidemic broadcast") }
        let group = try sharedGroup([UInt8](frame.groupID), from: session)
        let ids = try broadcastIDs(frame.ids, what: "Graft")
        // Read once: their authors are the trees the link joins, and `perform` pushes them.
        let held = (try? store.events(ids)) ?? []
        guard let actions = broadcastState.broadcasts[group]?.grafted(ids, from: session.id, authors: Set(held.map(\.author.bytes))) else { return }
        perform(actions, group: group, events: held)
    }

    func receivePrune(_ frame: Hark_V1_Prune, from session: PeerSession) throws {
        guard usesBroadcast(session) else { throw ProtocolViolation("Prune from a peer that did not offer epidemic broadcast") }
        let group = try sharedGroup([UInt8](frame.groupID), from: session)
        broadcastState.broadcasts[group]?.pruned(by: session.id)
    }

    private func broadcastIDs(_ raw: [Data], what: String) throws -> [EventID] {
        guard raw.count <= BroadcastLimits.maxIDsPerFrame else { throw ProtocolViolation("\(what) with \(raw.count) IDs") }
        return try raw.map { (d: Data) throws -> EventID in
            guard let id = try? EventID(bytes: [UInt8](d)) else { throw ProtocolViolation("\(what) ID of \(d.count) bytes") }
            return id
        }
    }

    // MARK: timers

    /// Runs until cancelled: due grafts, batched announcements, coalesced acknowledgements and
    /// reported heads written behind (`HoldsWriteBehind`).
    nonisolated func runBroadcastTimers() async {
        while !Task.isCancelled {
            try? await clock.sleep(ms: BroadcastLimits.tickMs)
            if Task.isCancelled { break }
            await broadcastTick()
        }
    }

    func broadcastTick() {
        let now = clock.monotonicMs()
        flushHolds(nowMs: now)
        for group in Array(broadcastState.broadcasts.keys) {
            guard let due = broadcastState.broadcasts[group]?.nextDeadlineMs, due <= now else { continue }
            let actions = broadcastState.broadcasts[group]?.tick(nowMs: now) ?? []
            perform(actions, group: group, events: [])
        }
        // IDs first: a loop over `links` itself would copy the table at each change inside it.
        let acking = peerTable.links.compactMap { id, link in link.pendingAcks.isEmpty ? nil : id }
        for sessionID in acking {
            guard let link = peerTable.links[sessionID] else { continue }
            for (group, since) in link.pendingAcks where since + BroadcastLimits.ackDelayMs <= now {
                peerTable.links[sessionID]?.pendingAcks.removeValue(forKey: group)
                if isShared(group, with: link.session) {
                    sendHeads(group: group, to: link.session)
                    broadcastState.counters.acks += 1
                }
            }
        }
    }

    /// Sends what the state machine asked for. `events` holds the events at hand; others are read
    /// from the store (a graft may ask for any held event).
    private func perform(_ actions: [EpidemicBroadcast<UInt64>.Action], group: EventID, events: [Event]) {
        guard !actions.isEmpty else { return }
        let groupID = Data(group.bytes)
        // Once per call, not per eager peer.
        let atHand = Dictionary(events.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for action in actions {
            switch action {
            case let .push(ids, to):
                guard let s = peerTable[to], isShared(group, with: s) else { continue }
                var out = ids.compactMap { atHand[$0] }
                if out.count < ids.count {
                    // Read from the store (it skips IDs not held), whether the graph is loaded or not.
                    let missing = ids.filter { atHand[$0] == nil }
                    out += (try? store.events(missing)) ?? []
                }
                send(out, group: group, to: s, push: true)
                broadcastState.counters.pushFrames += 1
                broadcastState.counters.pushedEvents += out.count
            case let .announce(ids, to):
                guard let s = peerTable[to], isShared(group, with: s) else { continue }
                s.send(.with { $0.ihave = .with { $0.groupID = groupID; $0.ids = ids.map { Data($0.bytes) } } })
                broadcastState.counters.announceFrames += 1
                broadcastState.counters.announcedIDs += ids.count
            case let .graft(ids, to):
                guard let s = peerTable[to], isShared(group, with: s) else { continue }
                s.send(.with { $0.graft = .with { $0.groupID = groupID; $0.ids = ids.map { Data($0.bytes) } } })
                broadcastState.counters.grafts += 1
            case let .prune(to):
                guard let s = peerTable[to], isShared(group, with: s) else { continue }
                s.send(.with { $0.prune = .with { $0.groupID = groupID } })
                broadcastState.counters.prunes += 1
            }
        }
    }
}
