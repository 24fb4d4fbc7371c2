import HarkControl
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Logging

/// Delivery and read receipts (PROTOCOL.md §4.8), from the graph and the heads peers report.
extension Node {
    /// What each peer reported holding in `group` (cached from the store).
    func holds(group: EventID) -> [SigningPublicKey: [EventID]] {
        if let cached = receiptTracking.reportedHeads[group] { return cached }
        let loaded = (try? store.reportedHeads(group: group)) ?? [:]
        receiptTracking.reportedHeads[group] = loaded
        return loaded
    }

    /// The peer reported these heads (a Heads, SyncRequest or SyncReply frame): they replace
    /// what it reported before.
    func setHolds(peer: SigningPublicKey, group: EventID, heads: [EventID]) {
        var all = holds(group: group)
        let kept = Array(heads.prefix(Store.maxReportedHeads))
        guard all[peer].map(Set.init) != Set(kept) else { return }
        all[peer] = kept
        receiptTracking.reportedHeads[group] = all
        // Written within `HoldsWriteBehind.delayMs`, batched with the peer's next reports.
        receiptTracking.holdsWriteBehind.changed(peer: peer, group: group, nowMs: clock.monotonicMs())
        // A waiter reads receipts at once (which writes the holds first).
        wakeReceiptWaiters(group: group)
    }

    /// Writes the reports that changed (those waiting `HoldsWriteBehind.delayMs` at `nowMs`, or
    /// all when nil) to the store, then tells watchers of receipts that may have changed.
    func flushHolds(nowMs: Int64?) {
        guard !receiptTracking.holdsWriteBehind.isEmpty else { return }
        for (group, peers) in receiptTracking.holdsWriteBehind.due(nowMs: nowMs) {
            guard let all = receiptTracking.reportedHeads[group] else { continue }
            // One transaction for every peer due in the group.
            let reports = peers.compactMap { peer in all[peer].map { (peer: peer, heads: $0) } }
            try? store.saveReportedHeads(reports, group: group, atMs: clock.wallMs())
            receiptsMayHaveChanged(group: group)
        }
    }

    /// The peer holds `head` (a head hint): added to what it reported.
    func noteHolds(peer: SigningPublicKey, group: EventID, adding head: EventID) {
        noteHolds(peer: peer, group: group, adding: [head])
    }

    /// The peer holds `ids` (an IHave, §6.4): added to what it reported, newest first, in one
    /// store write.
    func noteHolds(peer: SigningPublicKey, group: EventID, adding ids: [EventID]) {
        var current = holds(group: group)[peer] ?? []
        let new = ids.filter { !current.contains($0) }
        guard !new.isEmpty else { return }
        current.insert(contentsOf: new.reversed(), at: 0)
        setHolds(peer: peer, group: group, heads: current)
    }

    /// Receipt states of one message for every member but its author, from the members'
    /// frontiers in the read model (docs/HISTORY.md §"Receipts"): O(members), no graph walk.
    func receiptStates(of message: EventID, group: EventID) throws -> [SigningPublicKey: ReceiptState] {
        flushHolds(nowMs: nil)
        guard let m = try store.historyMessage(message) else { return [:] }
        return try store.receiptFrontiers(group: group, members: historyMembers(group)).states(of: m)
    }

    /// `receipts`: per member state of one message, and whether it is settled.
    public func receipts(group ref: String, message: String) throws(ControlErrorBody) -> ReceiptsResult {
        try typedErrors("receipts") {
            let g = try resolveGroup(ref)
            let target = try resolveMessage(message, in: g)
            let states = try receiptStates(of: target.id, group: g.id)
            let watermark = try store.settledWatermark(group: g.id, members: historyMembers(g.id))
            let rows = states.map { key, state -> MemberReceipt in
                let p = PeerID(key)
                return MemberReceipt(peerId: p.description, displayName: displayName(of: key), fingerprint: p.fingerprint,
                                     state: state.name)
            }.sorted { ($0.displayName, $0.peerId) < ($1.displayName, $1.peerId) }
            return ReceiptsResult(message: target.id.hex, group: g.id.hex, settled: target.lamport <= watermark, members: rows)
        }
    }

    /// `read`: writes a READ marker over everything held, unless no message by another member
    /// (not deleted) arrived since this node's last marker. With `through` (the newest message by
    /// others a client has shown), no marker is written while a message by another member sorts
    /// after it: a marker covers every message held, and must not cover one nobody saw.
    func markRead(group ref: String, through: String? = nil) throws -> ReadResult {
        let g = try resolveGroup(ref)
        let unread = try store.unreadCount(group: g.id, reader: identity.signing.publicKey)
        guard unread > 0 else { return ReadResult(marker: nil, newlyRead: 0) }
        if let through {
            let me = peerID.description
            let later = try log(group: g.id.hex, limit: 500, after: through)
            if later.contains(where: { $0.kind == "message" && $0.author != me }) { return ReadResult(marker: nil, newlyRead: 0) }
        }
        let marker = try author(kind: .read, content: nil, group: g)
        return ReadResult(marker: marker.id.hex, newlyRead: unread)
    }

    /// Receipt summary for `log` (messages by this node only).
    func receiptSummary(of message: EventID, group: EventID) -> ReceiptSummary? {
        guard let states = try? receiptStates(of: message, group: group) else { return nil }
        return ReceiptSummary(members: states.count, delivered: states.values.filter { $0 >= .delivered }.count,
                              read: states.values.filter { $0 == .read }.count)
    }

    /// Something that receipts depend on changed in `group`: emit receipt events for this
    /// node's recent messages there (only while someone watches).
    func receiptsMayHaveChanged(group: EventID) {
        wakeReceiptWaiters(group: group)
        guard subscriberState.watchers.values.contains(where: { $0.group == nil || $0.group == group }),
              let recent = receiptTracking.recentOwnMessages[group], !recent.isEmpty else { return }
        for message in recent {
            guard let states = try? receiptStates(of: message, group: group) else { continue }
            let before = receiptTracking.receiptCache[message] ?? [:]
            for (member, state) in states where state > (before[member] ?? .pending) {
                let p = PeerID(member)
                emit(.receipt(ReceiptView(group: group.hex, message: message.hex, member: p.description,
                                          memberName: displayName(of: member), memberFingerprint: p.shortFingerprint,
                                          state: state.name)))
            }
            receiptTracking.receiptCache[message] = states
        }
    }

    /// Remembers a message this node wrote, for receipt events (the latest 32 per group).
    func rememberOwnMessage(_ id: EventID, group: EventID) {
        var list = receiptTracking.recentOwnMessages[group] ?? []
        list.append(id)
        if list.count > 32 {
            for old in list.prefix(list.count - 32) { receiptTracking.receiptCache.removeValue(forKey: old) }
            list.removeFirst(list.count - 32)
        }
        receiptTracking.recentOwnMessages[group] = list
    }
}
