import Foundation
import HarkCrypto
import HarkLog
import HarkStore
import HarkSync
import HarkWire
import HarkWireProto
import Logging

/// Limits on what one peer may ask of the node in one frame (docs/PROTOCOL.md Appendix A).
enum SyncLimits {
    /// Tags in one GroupOffer.
    static let maxOfferTags = 1024
    /// Heads in one Heads frame.
    static let maxHeads = 1024
    /// IDs in one Needs frame.
    static let maxNeeds = 1024
    /// Events waiting for their parents, per group.
    static let maxPendingPerGroup = 100_000
    /// Events waiting in a group's intake above which a push is delivered at once rather than
    /// with the pushes that arrive before its delivery runs (`Node.deliverQueued`).
    static let maxCoalescedWaiting = 4_096
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
            peerTable.links[session.id]?.offeredGroups.insert(g.id)
        }
        var frame = Hark_V1_Frame()
        frame.groupOffer = offer
        session.send(frame)
    }

    /// Handles one frame from an authenticated peer.
    /// - Throws: `ProtocolViolation` when the peer broke the protocol; the caller drops the channel.
    func handle(_ frame: Hark_V1_Frame, from session: PeerSession) throws {
        guard peerTable[session.id] != nil else { return }
        do { try dispatchFrame(frame, from: session) } catch is IgnoredFrame {
            // For a group this peer holds the key of but is not a member of (PROTOCOL.md §5.3).
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
                peerTable.links[session.id]?.unmatchedTags.insert(t)
            }
        }
    }

    /// Both sides hold the group key: answer with our own tag (once) and our heads.
    func groupBecameShared(_ g: Store.GroupRecord, on session: PeerSession) {
        guard !(peerTable.links[session.id]?.sharedGroups.contains(g.id) ?? false) else { return }
        // A group with roles is shared only with its members (PROTOCOL.md §5.3): a peer that holds
        // the key but is not (or no longer) a member gets nothing until it is added.
        guard mayReceive(g.id, peer: session.peerID) else {
            peerTable.links[session.id]?.awaitingMembership.insert(g.id)
            if !(peerTable.links[session.id]?.offeredGroups.contains(g.id) ?? false) { offer([g], on: session) }
            return
        }
        peerTable.links[session.id]?.awaitingMembership.remove(g.id)
        peerTable.links[session.id]?.sharedGroups.insert(g.id)
        broadcastPeerAdded(session, group: g.id)
        if !(peerTable.links[session.id]?.offeredGroups.contains(g.id) ?? false) { offer([g], on: session) }
        startReconciliation(group: g.id, with: session)
        // Fetches of this group's files that run (or wait for a holder) ask the new channel too.
        for job in files.allJobs where job.group == g.id { sendFileQuery(job.manifestID, group: g.id, to: session) }
        logger.debug("group shared with peer", metadata: ["group.id": "\(g.id)", "peer.id": "\(session.peerID)"])
    }

    /// A group was created or joined here: offer it on every channel, and match tags peers sent earlier.
    func announceGroup(_ g: Store.GroupRecord) {
        for session in peerTable.sessions {
            offer([g], on: session)
            let tag = GroupOfferTag.tag(groupKey: g.key, handshakeHash: session.hello.handshakeHash, sender: session.peerID.key)
            if peerTable.links[session.id]?.unmatchedTags.remove(tag) != nil { groupBecameShared(g, on: session) }
        }
    }

    /// Membership of `group` changed: share it with peers that became members, stop sharing it
    /// with those that are no longer members. `changes` (the membership events just delivered)
    /// go to each of those first (PROTOCOL.md §5.3), so that its own fold shows why: a removal, or
    /// another admin's ADD that won an invite's last use. Links start lazy (§6.4), so without
    /// this it might hear of them only through an announcement it can no longer follow.
    func membershipChanged(group: EventID, changes: [Event] = []) {
        guard let record = try? store.group(id: group) else { return }
        for session in peerTable.sessions {
            let member = mayReceive(group, peer: session.peerID)
            if member, peerTable.links[session.id]?.awaitingMembership.contains(group) ?? false {
                groupBecameShared(record, on: session)
            } else if !member, peerTable.links[session.id]?.sharedGroups.contains(group) ?? false {
                if !changes.isEmpty { send(changes, group: group, to: session) }
                peerTable.links[session.id]?.sharedGroups.remove(group)
                broadcastPeerRemoved(session, group: group)
                peerTable.links[session.id]?.reconciliations.removeValue(forKey: group)
                peerTable.links[session.id]?.awaitingMembership.insert(group)
                logger.info("stopped sharing a group with a peer that is no longer a member",
                            metadata: ["group.id": "\(group)", "peer.id": "\(session.peerID)"])
            }
        }
    }

    func isShared(_ group: EventID, with session: PeerSession) -> Bool {
        peerTable.links[session.id]?.sharedGroups.contains(group) ?? false
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
        if peerTable.links[session.id]?.awaitingMembership.contains(group) ?? false { throw IgnoredFrame() }
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
        let wanted = try store.unknown(all).filter { !logState.isWaiting($0, group: group) && !logState.isRejected($0, group: group) }
        setHolds(peer: session.peerID.key, group: group, heads: all)
        if usesBroadcast(session), broadcastState.broadcasts[group]?.peers.contains(session.id) ?? false {
            // Likely on their way down the tree: asked for only if they do not come in time (§6.4).
            let missing = Set(wanted)
            broadcastState.broadcasts[group]?.announced(wanted, from: session.id, nowMs: clock.monotonicMs(), isHeld: { !missing.contains($0) })
        } else {
            requestEvents(wanted, group: group, from: session)
        }
    }

    func requestEvents(_ ids: [EventID], group: EventID, from session: PeerSession) {
        guard !ids.isEmpty else { return }
        var rs = reconciliation(group: group, session: session)
        rs.expectReplies((ids.count + SyncLimits.maxNeeds - 1) / SyncLimits.maxNeeds)
        peerTable.links[session.id]?.reconciliations[group] = rs
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
        peerTable.links[session.id]?.reconciliations[group] = rs
        try send(answer, group: group, to: session)
    }
}
