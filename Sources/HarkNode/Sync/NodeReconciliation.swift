import Foundation
import HarkCrypto
import HarkLog
import HarkStore
import HarkSync
import HarkWire
import HarkWireProto
import Logging

/// Range reconciliation of one group with one peer (Kleppmann–Howard Algorithm 2, PROTOCOL.md
/// §6.3): starting a round, answering a SyncRequest (from the store, off the actor, through
/// `SyncAnswerer`), and taking a SyncReply. The per-channel sessions live in the channel's `PeerLink.reconciliations`;
/// actor-isolated.
extension Node {
    func reconciliation(group: EventID, session: PeerSession) -> ReconciliationSession {
        peerTable.links[session.id]?.reconciliations[group] ?? ReconciliationSession(group: group)
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
            peerTable.links[session.id]?.reconciliations[group] = rs
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
            peerTable.links[session.id]?.reconciliations[group] = rs
            try answerFromStore(SyncAnswerJob(group: group, events: .scan(try store.syncScan(frontier), bloom), session: rs), on: session)
            return
        }
        let answer: ReconciliationSession.Answer
        do { answer = try rs.answer(request: request, graph: try graph(for: group)) } catch {
            throw ProtocolViolation("bad sync request: \(error)")
        }
        peerTable.links[session.id]?.reconciliations[group] = rs
        try send(answer, group: group, to: session)
    }

    /// Queues an answer computed from the store on the channel's `SyncAnswerer`.
    /// - Throws: `ProtocolViolation` when the peer has `SyncAnswerer.maxQueuedAnswers` waiting.
    func answerFromStore(_ job: SyncAnswerJob, on session: PeerSession) throws {
        let answerer: SyncAnswerer
        if let a = peerTable.links[session.id]?.syncAnswerer { answerer = a } else {
            // A channel that closed while this job was read gets no answerer (nothing would cancel it).
            guard peerTable.links[session.id] != nil else { return }
            answerer = SyncAnswerer(store: store, session: session)
            peerTable.links[session.id]?.syncAnswerer = answerer
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
        for (id, e) in logState.intakes[group]?.waiting ?? [:] {
            waiting[id] = e.allParents
            asked.append(contentsOf: e.allParents)
        }
        // What the session asks about, looked up in the store at once (not in the graph).
        let lacking = Set(try store.unknown(asked))
        let step: ReconciliationSession.Step
        do { step = try rs.receive(reply: reply, isHeld: { !lacking.contains($0) }, waiting: waiting) } catch {
            throw ProtocolViolation("bad sync reply: \(error)")
        }
        peerTable.links[session.id]?.reconciliations[group] = rs
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
            try store.saveSyncHeads(peer: session.peerID.key, group: group, heads: heads, atMs: clock.wallMs())
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
}
