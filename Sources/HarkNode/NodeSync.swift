import Foundation
import HarkCrypto
import HarkLog
import HarkProto
import HarkStore
import HarkSync
import HarkWire
import Logging

/// Limits on what one peer may ask of the node in one frame (docs/PROTOCOL.md §7).
enum SyncLimits {
    /// Tags in one GroupOffer.
    static let maxOfferTags = 1024
    /// Heads in one Heads frame.
    static let maxHeads = 1024
    /// IDs in one Needs frame.
    static let maxNeeds = 1024
    /// Events waiting for their parents, per group.
    static let maxPendingPerGroup = 100_000
    /// Serialized events packed into one Events frame, bytes (the frame limit is 1 MiB).
    static let maxEventsFrameByteCount = 768 * 1024
}

/// A frame for a group the peer holds the key of but is not a member of: dropped, the channel stays.
struct IgnoredFrame: Error {}

/// A peer broke the sync protocol; its channel is dropped with this reason.
struct ProtocolViolation: Error, CustomStringConvertible {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}

extension Node {
    /// First frames on a new channel: our offer tags for every group we hold.
    func startSync(_ session: PeerSession) {
        let groups = (try? store.allGroups()) ?? []
        guard !groups.isEmpty else { return }
        offer(groups, on: session)
    }

    func offer(_ groups: [Store.GroupRecord], on session: PeerSession) {
        var offer = Hark_V1_GroupOffer()
        for g in groups {
            offer.tags.append(Data(GroupOfferTag.tag(groupKey: g.key, handshakeHash: session.hello.handshakeHash,
                                                     sender: identity.signing.publicKey)))
            offeredGroups[session.id, default: []].insert(g.id)
        }
        var frame = Hark_V1_Frame()
        frame.groupOffer = offer
        session.send(frame)
    }

    /// Handles one frame from an authenticated peer.
    /// - Throws: `ProtocolViolation` when the peer broke the protocol; the caller drops the channel.
    func handle(_ frame: Hark_V1_Frame, from session: PeerSession) throws {
        guard sessions[session.id] != nil else { return }
        do { try dispatchFrame(frame, from: session) } catch is IgnoredFrame {
            // For a group this peer holds the key of but is not a member of (PROTOCOL.md §9.3).
        }
    }

    private func dispatchFrame(_ frame: Hark_V1_Frame, from session: PeerSession) throws {
        switch frame.frame {
        case let .groupOffer(offer)?: try receiveOffer(offer, from: session)
        case let .heads(heads)?: try receiveHeads(heads, from: session)
        case let .needs(needs)?: try receiveNeeds(needs, from: session)
        case let .events(events)?: try receiveEvents(events, from: session)
        case let .ping(p)?: receivePing(p, from: session)
        case .close?: break
        case let .datagramKey(key)?: try receiveDatagramKey(key, from: session)
        case let .redeemInvite(r)?: try receiveRedeemInvite(r, from: session)
        case let .redeemAnswer(a)?: try receiveRedeemAnswer(a, from: session)
        case let .inviteOffer(o)?: receiveInviteOffer(o, from: session)
        case let .joinQuery(q)?: try receiveJoinQuery(q, from: session)
        case let .joinQueryAnswer(a)?: try receiveJoinQueryAnswer(a, from: session)
        case let .joinRequest(r)?: try receiveJoinRequest(r, from: session)
        case let .joinChallenge(c)?: try receiveJoinChallenge(c, from: session)
        case let .joinReveal(r)?: try receiveJoinReveal(r, from: session)
        case let .joinAnswer(a)?: try receiveJoinAnswer(a, from: session)
        case let .syncRequest(request)?: try receiveSyncRequest(request, from: session)
        case let .syncReply(reply)?: try receiveSyncReply(reply, from: session)
        case let .pair(pair)?: try receivePair(pair, from: session)
        case let .fileQuery(q)?: try receiveFileQuery(q, from: session)
        case let .have(h)?: try receiveHave(h, from: session)
        case let .getManifest(g)?: try receiveGetManifest(g, from: session)
        case let .manifestData(m)?: try receiveManifestData(m, from: session)
        case let .chunkRequest(r)?: try receiveChunkRequest(r, from: session)
        case let .chunkRefused(r)?: try receiveChunkRefused(r, from: session)
        case .chunkData?: break   // routed to FileTransfers by the reader
        case let .ihave(f)?: try receiveIHave(f, from: session)
        case let .graft(f)?: try receiveGraft(f, from: session)
        case let .prune(f)?: try receivePrune(f, from: session)
        case nil: throw ProtocolViolation("empty or unknown frame")
        }
    }

    // MARK: group offers (§6.1)

    func receiveOffer(_ offer: Hark_V1_GroupOffer, from session: PeerSession) throws {
        guard offer.tags.count <= SyncLimits.maxOfferTags else { throw ProtocolViolation("offer with \(offer.tags.count) tags") }
        let groups = try store.allGroups()
        var expected: [[UInt8]: Store.GroupRecord] = [:]
        for g in groups {
            expected[GroupOfferTag.tag(groupKey: g.key, handshakeHash: session.hello.handshakeHash, sender: session.peerID.key)] = g
        }
        for tag in offer.tags {
            guard tag.count == 32 else { throw ProtocolViolation("offer tag of \(tag.count) bytes") }
            let t = [UInt8](tag)
            if let g = expected[t] {
                groupBecameShared(g, on: session)
            } else {
                unmatchedTags[session.id, default: []].insert(t)
            }
        }
    }

    /// Both sides hold the group key: answer with our own tag (once) and our heads.
    func groupBecameShared(_ g: Store.GroupRecord, on session: PeerSession) {
        guard !(sharedGroups[session.id]?.contains(g.id) ?? false) else { return }
        // A group with roles is shared only with its members (PROTOCOL.md §9.3): a peer that holds
        // the key but is not (or no longer) a member gets nothing until it is added.
        guard mayReceive(g.id, peer: session.peerID) else {
            awaitingMembership[session.id, default: []].insert(g.id)
            if !(offeredGroups[session.id]?.contains(g.id) ?? false) { offer([g], on: session) }
            return
        }
        awaitingMembership[session.id]?.remove(g.id)
        sharedGroups[session.id, default: []].insert(g.id)
        broadcastPeerAdded(session, group: g.id)
        if !(offeredGroups[session.id]?.contains(g.id) ?? false) { offer([g], on: session) }
        startReconciliation(group: g.id, with: session)
        // Fetches of this group's files that run (or wait for a holder) ask the new channel too.
        for job in files.allJobs where job.group == g.id { sendFileQuery(job.manifestID, group: g.id, to: session) }
        logger.debug("group shared with peer", metadata: ["group.id": "\(g.id)", "peer.id": "\(session.peerID)"])
    }

    /// A group was created or joined here: offer it on every channel, and match tags peers sent earlier.
    func announceGroup(_ g: Store.GroupRecord) {
        for session in sessions.values {
            offer([g], on: session)
            let tag = GroupOfferTag.tag(groupKey: g.key, handshakeHash: session.hello.handshakeHash, sender: session.peerID.key)
            if unmatchedTags[session.id]?.remove(tag) != nil { groupBecameShared(g, on: session) }
        }
    }

    /// Membership of `group` changed: share it with peers that became members, stop sharing it
    /// with those that are no longer members.
    func membershipChanged(group: EventID) {
        guard let record = try? store.group(id: group) else { return }
        for session in sessions.values {
            let member = mayReceive(group, peer: session.peerID)
            if member, awaitingMembership[session.id]?.contains(group) ?? false {
                groupBecameShared(record, on: session)
            } else if !member, sharedGroups[session.id]?.contains(group) ?? false {
                sharedGroups[session.id]?.remove(group)
                broadcastPeerRemoved(session, group: group)
                reconciliations[session.id]?.removeValue(forKey: group)
                awaitingMembership[session.id, default: []].insert(group)
                logger.info("stopped sharing a group with a peer that is no longer a member",
                            metadata: ["group.id": "\(group)", "peer.id": "\(session.peerID)"])
            }
        }
    }

    func isShared(_ group: EventID, with session: PeerSession) -> Bool {
        sharedGroups[session.id]?.contains(group) ?? false
    }

    // MARK: heads and needs (Kleppmann–Howard Algorithm 1)

    func sendHeads(group: EventID, to session: PeerSession) {
        var heads = Hark_V1_Heads()
        heads.groupID = Data(group.bytes)
        heads.heads = ((try? store.heads(group: group)) ?? []).map { Data($0.bytes) }
        var frame = Hark_V1_Frame()
        frame.heads = heads
        session.send(frame)
    }

    func sharedGroup(_ bytes: [UInt8], from session: PeerSession) throws -> EventID {
        let group: EventID
        do { group = try EventID(bytes: bytes) } catch { throw ProtocolViolation("group ID of \(bytes.count) bytes") }
        if awaitingMembership[session.id]?.contains(group) ?? false { throw IgnoredFrame() }
        guard isShared(group, with: session) else { throw ProtocolViolation("frame for a group not shared on this channel") }
        return group
    }

    func receiveHeads(_ heads: Hark_V1_Heads, from session: PeerSession) throws {
        let group = try sharedGroup([UInt8](heads.groupID), from: session)
        guard heads.heads.count <= SyncLimits.maxHeads else { throw ProtocolViolation("\(heads.heads.count) heads") }
        var all: [EventID] = []
        for h in heads.heads {
            guard let id = try? EventID(bytes: [UInt8](h)) else { throw ProtocolViolation("head of \(h.count) bytes") }
            all.append(id)
        }
        let wanted = try store.unknown(all).filter { pending[group]?[$0] == nil && !rejected.contains($0) }
        setHolds(peer: session.peerID.key, group: group, heads: all)
        if usesBroadcast(session), broadcasts[group]?.peers.contains(session.id) ?? false {
            // Likely on their way down the tree: asked for only if they do not come in time (§6.4).
            let missing = Set(wanted)
            broadcasts[group]?.announced(wanted, from: session.id, nowMs: Node.monoMs(), isHeld: { !missing.contains($0) })
        } else {
            requestEvents(wanted, group: group, from: session)
        }
    }

    func requestEvents(_ ids: [EventID], group: EventID, from session: PeerSession) {
        guard !ids.isEmpty else { return }
        var rs = reconciliation(group: group, session: session)
        rs.expectReplies((ids.count + SyncLimits.maxNeeds - 1) / SyncLimits.maxNeeds)
        reconciliations[session.id, default: [:]][group] = rs
        for chunkStart in stride(from: 0, to: ids.count, by: SyncLimits.maxNeeds) {
            var needs = Hark_V1_Needs()
            needs.groupID = Data(group.bytes)
            needs.ids = ids[chunkStart..<min(chunkStart + SyncLimits.maxNeeds, ids.count)].map { Data($0.bytes) }
            var frame = Hark_V1_Frame()
            frame.needs = needs
            session.send(frame)
        }
    }

    func receiveNeeds(_ needs: Hark_V1_Needs, from session: PeerSession) throws {
        let group = try sharedGroup([UInt8](needs.groupID), from: session)
        guard needs.ids.count <= SyncLimits.maxNeeds else { throw ProtocolViolation("needs for \(needs.ids.count) events") }
        var rs = reconciliation(group: group, session: session)
        let asked: (ids: [EventID], perID: Int)
        do { asked = try rs.accept(needs: needs) } catch { throw ProtocolViolation("bad needs: \(error)") }
        // From the store (the peer's known events as a version vector), without the graph.
        if let frontier = try store.syncFrontier(group: group, knownBy: rs.peerKnownIDs) {
            let lacking = Set(try store.unknown(asked.ids))
            var out: Set<EventID> = []
            for id in asked.ids where !lacking.contains(id) && out.count < ReconciliationLimits.maxEventsPerNeedsAnswer {
                out.insert(id)
                let room = min(asked.perID, ReconciliationLimits.maxEventsPerNeedsAnswer - out.count)
                out.formUnion(try store.nearestUnknownAncestors(of: [id], limit: room, frontier: frontier, skip: out))
            }
            try answerFromStore(SyncAnswerJob(group: group, events: .ids(Array(out)), session: rs), on: session)
            return
        }
        let answer: ReconciliationSession.Answer
        do { answer = try rs.answer(needs: needs, graph: try graph(for: group)) } catch {
            throw ProtocolViolation("bad needs: \(error)")
        }
        reconciliations[session.id, default: [:]][group] = rs
        try send(answer, group: group, to: session)
    }

    // MARK: reconciliation (Kleppmann–Howard Algorithm 2, PROTOCOL.md §6.3)

    func reconciliation(group: EventID, session: PeerSession) -> ReconciliationSession {
        reconciliations[session.id]?[group] ?? ReconciliationSession(group: group)
    }

    /// Sends our SyncRequest: heads, and a Bloom filter of what we added since the heads this
    /// peer had at our last complete sync.
    func startReconciliation(group: EventID, with session: PeerSession) {
        do {
            var rs = ReconciliationSession(group: group)
            let stored = try store.syncHeads(peer: session.peerID.key, group: group)
            let request: Hark_V1_SyncRequest
            let absent = Set(try store.unknown(stored))
            let since = ReconciliationSession.since(stored.filter { !absent.contains($0) })
            if let frontier = try store.syncFrontier(group: group, knownBy: since) {
                // The Bloom filter of what we added since `since`, from the store a page at a time.
                var bloom = BloomFilter(capacity: frontier.unknownCount)
                var scan = try store.syncScan(frontier)
                while !scan.finished {
                    for e in try store.nextSyncPage(&scan, maxEvents: 8192, withSigned: false, isNegative: { _ in true }) {
                        bloom.insert(e.id)
                    }
                }
                request = rs.start(heads: try store.heads(group: group), since: since, bloom: bloom)
            } else {
                request = rs.start(graph: try graph(for: group), storedHeads: stored)
            }
            reconciliations[session.id, default: [:]][group] = rs
            var frame = Hark_V1_Frame()
            frame.syncRequest = request
            session.send(frame)
        } catch {
            logger.error("cannot start reconciliation", metadata: ["group.id": "\(group)", "error": "\(error)"])
        }
    }

    func receiveSyncRequest(_ request: Hark_V1_SyncRequest, from session: PeerSession) throws {
        let group = try sharedGroup([UInt8](request.groupID), from: session)
        var rs = reconciliation(group: group, session: session)
        let bloom: BloomFilter
        do { bloom = try rs.accept(request: request) } catch { throw ProtocolViolation("bad sync request: \(error)") }
        setHolds(peer: session.peerID.key, group: group, heads: request.heads.compactMap { try? EventID(bytes: [UInt8]($0)) })
        // From the store, streamed off the actor (SyncAnswerer), without the graph.
        if let frontier = try store.syncFrontier(group: group, knownBy: rs.peerKnownIDs) {
            reconciliations[session.id, default: [:]][group] = rs
            try answerFromStore(SyncAnswerJob(group: group, events: .scan(try store.syncScan(frontier), bloom), session: rs), on: session)
            return
        }
        let answer: ReconciliationSession.Answer
        do { answer = try rs.answer(request: request, graph: try graph(for: group)) } catch {
            throw ProtocolViolation("bad sync request: \(error)")
        }
        reconciliations[session.id, default: [:]][group] = rs
        try send(answer, group: group, to: session)
    }

    /// Queues an answer computed from the store on the channel's `SyncAnswerer`.
    /// - Throws: `ProtocolViolation` when the peer has `SyncAnswerer.maxQueuedAnswers` waiting.
    func answerFromStore(_ job: SyncAnswerJob, on session: PeerSession) throws {
        let answerer: SyncAnswerer
        if let a = syncAnswerers[session.id] { answerer = a } else {
            answerer = SyncAnswerer(store: store, session: session)
            syncAnswerers[session.id] = answerer
        }
        guard answerer.submit(job) else { throw ProtocolViolation("more than \(SyncAnswerer.maxQueuedAnswers) sync answers waiting") }
    }

    /// Events first (parents before children), then the SyncReply with our heads. The events
    /// (in total order) are read and queued a slice at a time, so the channel writer and the
    /// peer start on the first frames while later ones are still being read.
    func send(_ answer: ReconciliationSession.Answer, group: EventID, to session: PeerSession) throws {
        let slice = 2048
        for start in stride(from: 0, to: answer.events.count, by: slice) {
            let ids = Array(answer.events[start..<min(start + slice, answer.events.count)])
            send(try store.events(ids), group: group, to: session)
        }
        var frame = Hark_V1_Frame()
        frame.syncReply = answer.reply
        session.send(frame)
    }

    func receiveSyncReply(_ reply: Hark_V1_SyncReply, from session: PeerSession) throws {
        let group = try sharedGroup([UInt8](reply.groupID), from: session)
        var rs = reconciliation(group: group, session: session)
        var waiting: [EventID: [EventID]] = [:]
        var asked: [EventID] = reply.heads.compactMap { try? EventID(bytes: [UInt8]($0)) }
        for (id, e) in pending[group] ?? [:] {
            waiting[id] = e.allParents
            asked.append(contentsOf: e.allParents)
        }
        // What the session asks about, looked up in the store at once (not in the graph).
        let lacking = Set(try store.unknown(asked))
        let step: ReconciliationSession.Step
        do { step = try rs.receive(reply: reply, isHeld: { !lacking.contains($0) }, waiting: waiting) } catch {
            throw ProtocolViolation("bad sync reply: \(error)")
        }
        reconciliations[session.id, default: [:]][group] = rs
        setHolds(peer: session.peerID.key, group: group, heads: reply.heads.compactMap { try? EventID(bytes: [UInt8]($0)) })
        switch step {
        case .wait: break
        case let .needs(frames):
            for needs in frames {
                var frame = Hark_V1_Frame()
                frame.needs = needs
                session.send(frame)
            }
        case let .complete(heads):
            try store.saveSyncHeads(peer: session.peerID.key, group: group, heads: heads, atMs: Node.nowMs())
            logger.debug("reconciled", metadata: ["group.id": "\(group)", "peer.id": "\(session.peerID)", "rounds": "\(rs.rounds)"])
        case let .failed(why):
            logger.info("reconciliation gave up", metadata: ["group.id": "\(group)", "peer.id": "\(session.peerID)", "reason": "\(why)"])
        }
    }

    /// Sends events parents-first, packed into frames under the size limit; `push` marks an
    /// eager push of newly delivered events (§6.4).
    func send(_ events: [Event], group: EventID, to session: PeerSession, push: Bool = false) {
        var batch = Hark_V1_Events()
        batch.groupID = Data(group.bytes)
        batch.push = push
        var size = 0
        func flush() {
            guard !batch.events.isEmpty else { return }
            var frame = Hark_V1_Frame()
            frame.events = batch
            session.send(frame)
            batch.events.removeAll()
            size = 0
        }
        for e in events.inTotalOrder() {
            let signed = e.signedEvent
            let n = e.headerBytes.count + e.signature.count + (e.body?.count ?? 0) + 16
            if size + n > SyncLimits.maxEventsFrameByteCount { flush() }
            batch.events.append(signed)
            size += n
        }
        flush()
    }

    // MARK: events

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
        guard sessions[session.id] != nil else { return }
        do {
            switch decoded {
            case let .success(events): try admit(events, groupID: groupID, push: push, from: session)
            case let .failure(error):
                _ = try sharedGroup([UInt8](groupID), from: session)
                throw ProtocolViolation("invalid event: \(error)")
            }
        } catch is IgnoredFrame {
            // For a group this peer holds the key of but is not a member of (PROTOCOL.md §9.3).
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
            if rejected.contains(event.id) { throw ProtocolViolation("event \(event.id) was rejected before") }
        }
        // No local copy of the graph: one alive during delivery would make its inserts copy it.
        let unseen = events.filter { pending[group]?[$0.id] == nil && !(graphs[group]?.contains($0.id) ?? false) }
        let unknown = Set(try store.unknown(unseen.map(\.id)))
        let duplicate = push && unknown.count < events.count
        if duplicate { broadcastDuplicate(group: group, from: session) }
        guard !unknown.isEmpty else { return }
        // Taken out of `pending` while it changes: a second reference would make the first
        // insert copy the whole dictionary (every waiting event).
        var waiting = pending.removeValue(forKey: group) ?? [:]
        for e in unseen where unknown.contains(e.id) && waiting[e.id] == nil {
            guard waiting.count < SyncLimits.maxPendingPerGroup else {
                pending[group] = waiting
                throw ProtocolViolation("too many events without parents")
            }
            waiting[e.id] = e
        }
        pending[group] = waiting
        waiting = [:]   // one reference left, for `deliverPending` to take
        try deliverPending(group: group, from: session, pushed: push && !duplicate)
    }

    /// Delivers every pending event whose parents are all held, in (lamport, ID) order; a valid
    /// event's parents have smaller Lamport timestamps, so one pass in that order suffices.
    func deliverPending(group: EventID, from session: PeerSession?, pushed: Bool = false) throws {
        // Taken out of `pending` until the accepted events are stored (put back on every way
        // out before that): a second reference would make each removal below copy the whole
        // dictionary.
        guard var waiting = pending.removeValue(forKey: group) else { return }
        var putBack = false
        defer { if !putBack { pending[group] = waiting } }
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
                ?? graphs[group].map { g in event.allParents.allSatisfy { g.contains($0) } } ?? false
            guard ready else { continue }
            // What the rules read of each parent comes from the graph: no parent is read back.
            var parents: [EventID: EventValidator.ParentFacts] = [:]
            for p in event.allParents {
                if let e = fromStore?.entry(p) ?? graphs[group]?.entry(p) {
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
                    rejected.insert(event.id)
                    try? store.markRejected(event.id, group: group, reason: "\(error)", atMs: Node.nowMs())
                }
                logger.warning("rejected event", metadata: ["event.id": "\(event.id)", "reason": "\(error)"])
                violation = ProtocolViolation("invalid event \(event.id): \(error)")
                continue
            }
            // The next events of this batch may be judged on this MEMBER event before it is stored.
            if event.kind == .member { noteMemberContent(event, key: record.key) }
            if event.kind == .member || event.kind == .prekey { prekeyViews[group] = nil }
            // In place: a copy of the graph here would cost O(n) per event.
            if fromStore != nil {
                fromStore?.add(event)
            } else if let (_, fork) = try graphs[group]?.insert(event), let fork { logFork(fork, group: group) }
            accepted.append(event)
            waiting.removeValue(forKey: event.id)
        }
        var delivered: [Event] = []
        if !accepted.isEmpty {
            // One transaction: events, plaintexts, chains, membership ancestry (NodeDelivery).
            do { delivered = try storeDelivered(accepted, record: record, history: fromStore) } catch {
                graphs[group] = nil   // reload from the store on next use
                for e in accepted { waiting[e.id] = e }   // still waiting: put back with the rest
                throw error
            }
        }
        pending[group] = waiting
        putBack = true
        eventsDelivered(delivered, group: group, except: session, pushed: pushed)
        // Acknowledge: the sender learns what this node now holds (delivery receipts, §4.8).
        if let session, !delivered.isEmpty, sessions[session.id] != nil { acknowledge(group: group, on: session) }
        // Ask for parents we still lack — after a push on a §6.4 link, only if they do not come
        // down the tree in time (a graft, §6.4): they are usually on their way.
        if let session {
            var absent: [EventID] = []
            for e in waiting.values {
                for p in e.allParents where waiting[p] == nil && !rejected.contains(p) { absent.append(p) }
            }
            let missing = try store.unknown(absent)
            if pushed, usesBroadcast(session), broadcasts[group]?.peers.contains(session.id) ?? false {
                let set = Set(missing)
                broadcasts[group]?.announced(missing, from: session.id, nowMs: Node.monoMs(), isHeld: { !set.contains($0) })
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
        guard graphs[group] == nil else { return nil }
        var seqs: [SigningPublicKey: Set<UInt64>] = [:]
        for e in events {
            guard seqs[e.author, default: []].insert(e.seq).inserted else { return nil }
        }
        for (author, s) in seqs {
            if !(try store.heldSeqs(author: author, s, group: group)).isEmpty { return nil }
        }
        return try StoreHistory.load(store: store, group: group)
    }

    /// Validates against the group's current graph; the context (and its copy of the graph) ends
    /// with this call.
    func validateInGroup(_ event: Event, parents: [EventID: EventValidator.ParentFacts], group: EventID, key: [UInt8]) throws(EventError) {
        guard let graph = graphs[group] else { throw .missingParents(event.allParents) }
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
    /// §8.5) — and tell watchers and followers.
    func eventsDelivered(_ events: [Event], group: EventID, except: PeerSession?, pushed: Bool = false) {
        guard !events.isEmpty else { return }
        if configuration.epidemicBroadcast {
            broadcastDelivered(events, group: group, except: except, pushed: pushed)
        } else {
            for s in sessions.values where s.id != except?.id && isShared(group, with: s) {
                send(events, group: group, to: s)
            }
            // A hint per event would be one datagram per event and peer; the new heads suffice
            // (without the graph: the events no other of `events` names as a parent).
            let named: Set<EventID> = events.count > 1 && graphs[group] == nil ? Set(events.lazy.flatMap(\.allParents)) : []
            for e in events where events.count == 1 || (graphs[group].map { $0.children(e.id).isEmpty } ?? !named.contains(e.id)) {
                hintHead(e, group: group, except: except)
            }
        }
        let watched = !watchers.isEmpty
        let followed = !followers.isEmpty
        let offers = except != nil && events.contains { $0.kind == .fileOffer }
        guard watched || followed || offers, let record = try? store.group(id: group) else { return }
        for event in events {
            if watched { emitWatchEvents(for: event, record: record) }
            if event.kind == .fileOffer, except != nil { maybeAutoFetch(event, group: record) }
            if followed, event.kind == .message || event.kind == .join, let view = messageView(event, group: record) {
                for (_, f) in followers where f.group == group { f.continuation.yield(view) }
            }
        }
        if watched { receiptsMayHaveChanged(group: group) }
    }
}
