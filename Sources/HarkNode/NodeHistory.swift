import HarkControl
import HarkCrypto
import HarkLog
import HarkProto
import HarkStore
import Logging

/// What follows delivery: proofs for forks, purging deleted bodies, and the visible state
/// (edits, deletes, reactions) that `log` shows.
extension Node {
    /// Runs after new events of `group` were stored.
    func afterDelivery(group: EventID, record: Store.GroupRecord, delivered: [Event]) throws {
        if let graph = graphs[group], graph.forks.contains(where: { !provenForks.contains($0) }) {
            try proveForks(group: group, record: record)
        }
        if delivered.contains(where: { $0.kind == .delete }) { try purgeDeleted(group: group, record: record) }
        if delivered.contains(where: { CausalGraph.isMembershipKind($0.kind) }) {
            membershipChanged(group: group)
            try joinIfAdded(group: group, record: record)
            checkRedeemedAdds(group: group)
        }
    }

    /// Writes an EQUIVOCATION_PROOF event for each fork this node sees first-hand and has not
    /// proven yet, unless a proof against that author is already in the group (PROTOCOL.md §4.6).
    func proveForks(group: EventID, record: Store.GroupRecord) throws {
        guard let graph = graphs[group] else { return }
        for fork in graph.forks where !provenForks.contains(fork) {
            provenForks.insert(fork)
            if !graph.equivocationProofs(against: fork.author).isEmpty { continue }
            guard fork.author != identity.signing.publicKey,
                  let a = try store.event(fork.first), let b = try store.event(fork.second) else { continue }
            let latest = try store.latest(author: identity.signing.publicKey, group: group)
            let heads = try store.heads(group: group).filter { $0 != latest?.id }
            let proof = try EquivocationProof.makeEvent(proving: a, b, by: identity.signing, seq: (latest?.seq ?? 0) + 1,
                                                        selfParent: latest, parents: try store.events(heads),
                                                        wallMs: Node.nowMs())
            try persist(proof)
            logger.warning("wrote an equivocation proof", metadata: [
                "group.id": "\(group)", "author": "\(PeerID(fork.author))", "seq": "\(fork.seq)", "proof": "\(proof.id)",
            ])
            eventDelivered(proof, group: group, except: nil)
        }
    }

    /// Drops the stored bodies of deleted messages (and of their edits); headers stay, so the
    /// graph still verifies.
    func purgeDeleted(group: EventID, record: Store.GroupRecord) throws {
        let state = try groupState(group: group, record: record)
        for id in state.purgeable {
            try store.deletePlaintext(id)
            if try store.purgeBody(id) {
                logger.debug("purged a deleted body", metadata: ["event.id": "\(id)"])
            }
        }
    }

    /// The visible state of a group, folded from all its events in total order.
    func groupState(group: EventID, record: Store.GroupRecord) throws -> GroupState {
        let events = try store.events(group: group, limit: nil, afterLamport: nil)
        let received = try store.receivedTimes(group: group)
        var inputs: [GroupState.Input] = []
        inputs.reserveCapacity(events.count)
        let roles = membershipIndex(for: group).hasRoles
        let plain = roles ? try store.plaintexts(group: group) : [:]
        for e in events {
            var content: Hark_V1_Content?
            if roles, e.kind == .message || e.kind == .edit {
                content = plain[e.id].flatMap { try? Hark_V1_Content(serializedBytes: $0) }
            } else if e.body != nil, e.kind != .equivocationProof {
                content = try? BodyCipher.open(e, groupKey: record.key)
            }
            if case let .join(j)? = content?.content, authorNames[e.author] == nil { authorNames[e.author] = j.displayName }
            if case let .genesis(g)? = content?.content, authorNames[e.author] == nil { authorNames[e.author] = g.creatorDisplayName }
            inputs.append(GroupState.Input(event: e, content: content, receivedMs: received[e.id]))
        }
        let members = currentMembership(of: group)?.members ?? GroupState.members(in: events)
        return GroupState(events: inputs, members: members)
    }

    /// Messages as `log` shows them: latest edit, deletes hidden, flags.
    func messageViews(group: EventID, record: Store.GroupRecord) throws -> [MessageView] {
        let state = try groupState(group: group, record: record)
        let received = try store.receivedTimes(group: group)
        return state.messages.compactMap { m -> MessageView? in
            guard !m.deleted else { return nil }
            let text = m.text ?? ""
            let author = PeerID(m.author)
            guard let e = try? store.event(m.id) else { return nil }
            var v = MessageView(id: m.id.hex, group: group.hex, author: author.description, authorName: displayName(of: m.author),
                                authorFingerprint: author.shortFingerprint, seq: e.seq, lamport: m.order.lamport, wallMs: m.wallMs,
                                kind: "message", text: text)
            v.settled = state.isSettled(m.order)
            v.unreadable = m.text == nil
            if m.author != identity.signing.publicKey { v.receivedMs = received[m.id] }
            v.implausibleTime = state.implausibleTime.contains(m.id)
            v.authorEquivocated = state.equivocators.contains(m.author)
            v.edited = m.edited
            applyTrust(&v, author: m.author)
            if m.author == identity.signing.publicKey { v.receipts = receiptSummary(of: m.id, group: group) }
            v.reactions = Dictionary(grouping: m.reactions, by: \.emoji).map { ReactionView(emoji: $0.key, count: $0.value.count) }
                .sorted { $0.emoji < $1.emoji }
            return v
        }
    }
}
