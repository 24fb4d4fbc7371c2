import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Logging

/// What follows delivery (proofs for forks, membership), and the node's window on the read
/// model (docs/HISTORY.md): the store keeps the visible state as events are stored, deletes
/// purge bodies in that same transaction, and reads go through `HistoryReader`.
extension Node {
    /// Runs after new events of `group` were stored.
    func afterDelivery(group: EventID, record: Store.GroupRecord, delivered: [Event]) throws {
        if let graph = logState.graphs[group], graph.forks.contains(where: { !logState.provenForks.contains($0) }) {
            try proveForks(group: group, record: record)
        }
        if delivered.contains(where: { CausalGraph.isMembershipKind($0.kind) }) {
            membershipChanged(group: group, changes: delivered.filter { CausalGraph.isMembershipKind($0.kind) })
            try joinIfAdded(group: group, record: record)
            checkRedeemedAdds(group: group)
        }
        shareHistoryAfterDelivery(delivered, record: record)
    }

    /// Writes an EQUIVOCATION_PROOF event for each fork this node sees first-hand and has not
    /// proven yet, unless a proof against that author is already in the group (PROTOCOL.md §4.6).
    func proveForks(group: EventID, record: Store.GroupRecord) throws {
        guard let graph = logState.graphs[group] else { return }
        for fork in graph.forks where !logState.provenForks.contains(fork) {
            logState.provenForks.insert(fork)
            if !graph.equivocationProofs(against: fork.author).isEmpty { continue }
            guard fork.author != identity.signing.publicKey,
                  let a = try store.event(fork.first), let b = try store.event(fork.second) else { continue }
            let latest = try store.latest(author: identity.signing.publicKey, group: group)
            let heads = try store.heads(group: group).filter { $0 != latest?.id }
            let proof = try EquivocationProof.makeEvent(proving: a, b, by: identity.signing, seq: (latest?.seq ?? 0) + 1,
                                                        selfParent: latest, parents: try store.events(heads),
                                                        wallMs: clock.wallMs())
            try persist(proof)
            logger.warning("wrote an equivocation proof", metadata: [
                "group.id": "\(group)", "author": "\(PeerID(fork.author))", "seq": "\(fork.seq)", "proof": "\(proof.id)",
            ])
            eventDelivered(proof, group: group, except: nil)
        }
    }

    /// The group's members for the settled watermark and receipts: the membership fold in groups
    /// with roles, else the authors of GENESIS and JOIN events (`GroupState.members(in:)`).
    func historyMembers(_ group: EventID) -> Set<SigningPublicKey> {
        if let m = currentMembership(of: group) { return m.members }
        return Set((try? store.joinedAuthors(group: group)) ?? [])
    }

    /// Reads pages of history from the read model, showing authors as this node knows them.
    func historyReader(group: EventID) -> HistoryReader {
        // Names given in GENESIS/JOIN contents, as the read model kept them.
        for (key, name) in (try? store.authorNames(group: group)) ?? [:] where trustBook.authorNames[key] == nil { trustBook.authorNames[key] = name }
        var infos: [SigningPublicKey: HistoryReader.AuthorInfo] = [:]
        for key in ((try? store.authors(group: group)) ?? []) + [identity.signing.publicKey] {
            infos[key] = authorInfo(key)
        }
        let fallback = HistoryReader.AuthorInfo(name: "unknown")
        let known = infos
        return HistoryReader(store: store, me: identity.signing.publicKey) { known[$0] ?? fallback }
    }

    func authorInfo(_ key: SigningPublicKey) -> HistoryReader.AuthorInfo {
        var v = MessageView(id: "", group: "", author: "", authorName: "", authorFingerprint: "", seq: 0, lamport: 0, wallMs: 0,
                            kind: "", text: "")
        applyTrust(&v, author: key)
        return HistoryReader.AuthorInfo(name: displayName(of: key), verified: v.authorVerified, nameConflict: v.authorNameConflict)
    }

    /// One visible message as `log` shows it, or nil.
    func historyView(of message: EventID, group: EventID) throws -> MessageView? {
        try historyReader(group: group).message(message, group: group, members: historyMembers(group))
    }

    /// The message an ID prefix (≥ 8 hex digits) names in the group, for paging anchors.
    /// - Throws: `ControlErrorBody` `.invalidArgument`, `.notFound`, `.ambiguous`.
    func resolveAnchor(_ ref: String, in g: Store.GroupRecord) throws -> EventOrder {
        let lower = ref.lowercased()
        guard lower.count >= 8, lower.allSatisfy(\.isHexDigit) else {
            throw ControlErrorBody(code: .invalidArgument, message: "message ID must be at least 8 hex digits (see `hark log`)")
        }
        let matches = try store.messages(group: g.id, idPrefix: lower, includeDeleted: true, limit: 2)
        guard matches.count == 1 else {
            throw ControlErrorBody(code: matches.isEmpty ? .notFound : .ambiguous,
                                   message: matches.isEmpty ? "no message \(ref) in \(g.name)" : "message ID prefix \(ref) is ambiguous")
        }
        return matches[0].order
    }
}
