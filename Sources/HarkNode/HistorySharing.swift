import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkStore
import Logging

/// Shared history (PROTOCOL.md §5.8). In a group whose genesis says `history = SHARED`, every
/// member keeps the earliest chain key it holds of each sender chain (its own chains' ck_0, the
/// ck_0 of each SENDER_KEY box it opens, and the keys shared with it); an admin that adds a member
/// seals those chains to the new member's prekey in HISTORY_KEY events (`HistoryShare`, at most
/// 512 chains per event), at once when the ADD carries the prekey, else when its PREKEY arrives.
/// The new member keeps the chains and opens the messages it holds (or gets later) with them; the
/// read model shows them as their plaintexts are saved.
extension Node {
    /// Whether `group` has roles and shared history.
    func sharesHistory(_ group: EventID) -> Bool {
        let index = membershipIndex(for: group)
        return index.hasRoles && index.history == .shared
    }

    /// Keeps a chain's key at `index` as the earliest held, in a shared-history group (no-op otherwise).
    func keepHistoryChain(author: SigningPublicKey, epoch: UInt32, index: UInt32, chainKey: [UInt8], group: EventID) {
        guard sharesHistory(group) else { return }
        do {
            try store.keepHistoryChain(HistoryShare.Chain(author: author, epoch: epoch, index: index, chainKey: chainKey), group: group)
        } catch {
            logger.error("cannot keep a chain key for shared history", metadata: ["group.id": "\(group)", "error": "\(error)"])
        }
    }

    /// After events were stored: remembers each member this node just added (its own ADDs) as owed
    /// a history share, then writes the shares whose recipients' prekeys are known.
    func shareHistoryAfterDelivery(_ delivered: [Event], record: Store.GroupRecord) {
        guard delivered.contains(where: { $0.kind == .member || $0.kind == .prekey }), sharesHistory(record.id) else { return }
        let me = identity.signing.publicKey
        do {
            for e in delivered where e.author == me && e.kind == .member {
                guard let m = memberContent(e.id, group: record.id), m.action == .add, let target = try? SigningPublicKey(bytes: [UInt8](m.target)),
                      target != me else { continue }
                try store.addPendingHistoryShare(group: record.id, member: target)
            }
            try writePendingHistoryShares(record: record)
        } catch {
            logger.error("cannot share history with a new member", metadata: ["group.id": "\(record.id)", "error": "\(error)"])
        }
    }

    /// Writes the HISTORY_KEY events owed to members whose prekey is known; forgets those owed to
    /// peers that are not members (an inert ADD, or removed since).
    /// - Returns: the events written.
    /// - Throws: `StoreError`, `ControlErrorBody` (this node is no longer an admin), crypto errors.
    @discardableResult
    func writePendingHistoryShares(record: Store.GroupRecord) throws -> [Event] {
        let pending = try store.pendingHistoryShares(group: record.id)
        guard !pending.isEmpty, let membership = currentMembership(of: record.id) else { return [] }
        let pks = prekeys(group: record.id, key: record.key)
        var written: [Event] = []
        for member in pending {
            guard membership.isMember(member) else {
                try store.removePendingHistoryShare(group: record.id, member: member)
                continue
            }
            guard let pk = pks[member] else { continue }
            written += try shareHistory(with: member, prekey: pk, record: record)
            try store.removePendingHistoryShare(group: record.id, member: member)
        }
        return written
    }

    /// Seals every chain this node keeps for the group to `member`'s prekey and writes the
    /// HISTORY_KEY events (one per 512 chains; none when it keeps no chain).
    func shareHistory(with member: SigningPublicKey, prekey pk: [UInt8], record: Store.GroupRecord) throws -> [Event] {
        let chains = try store.historyChains(group: record.id)
        var written: [Event] = []
        for hk in try HistoryShare.seal(chains, recipient: member, prekey: pk) {
            var c = Hark_V1_Content()
            c.historyKey = hk
            written.append(try author(kind: .historyKey, content: c, group: record))
        }
        logger.info("shared history with a new member", metadata: [
            "group.id": "\(record.id)", "member": "\(PeerID(member))", "chains": "\(chains.count)", "events": "\(written.count)",
        ])
        return written
    }

    /// A HISTORY_KEY event by another member: if it is sealed to this device, keeps its chains and
    /// opens the held messages they unlock. Events for others, or that do not open, are ignored.
    func receiveHistoryKey(_ e: Event, record: Store.GroupRecord) {
        let me = identity.signing.publicKey
        guard sharesHistory(record.id), let c = try? BodyCipher.open(e, groupKey: record.key), case let .historyKey(hk)? = c.content,
              [UInt8](hk.recipient) == me.bytes, [UInt8](hk.prekey) == prekey.publicKey else { return }
        let chains: [HistoryShare.Chain]
        do { chains = try HistoryShare.open(hk, keyPair: prekey) } catch {
            logger.warning("a history key sealed to this node does not open", metadata: ["event.id": "\(e.id)", "error": "\(error)"])
            return
        }
        var unlocked: Set<ChainRef> = []
        for chain in chains where chain.author != me {
            keepHistoryChain(author: chain.author, epoch: chain.epoch, index: chain.index, chainKey: chain.chainKey, group: record.id)
            if (try? store.inChain(group: record.id, author: chain.author, epoch: chain.epoch)) ?? nil == nil {
                try? store.saveInChain(SenderChain(chainKey: chain.chainKey, nextIndex: chain.index), group: record.id,
                                       author: chain.author, epoch: chain.epoch)
            }
            unlocked.insert(ChainRef(author: chain.author, epoch: chain.epoch))
        }
        decryptWaiting(chains: unlocked, record: record)
        logger.info("received shared history", metadata: ["group.id": "\(record.id)", "from": "\(PeerID(e.author))", "chains": "\(chains.count)"])
    }

    /// One sender chain: its author and epoch.
    struct ChainRef: Hashable {
        let author: SigningPublicKey
        let epoch: UInt32
    }

    /// Opens the stored MESSAGE/EDIT events of the chains in `chains` that have no plaintext yet:
    /// read per author through the store's author index (O(those authors' events)), not from the
    /// group's graph, so a new member given shared history does not load it.
    func decryptWaiting(chains: Set<ChainRef>, record: Store.GroupRecord) {
        guard !chains.isEmpty else { return }
        var waiting: [Event] = []
        for author in Set(chains.map(\.author)) {
            guard let events = try? store.events(group: record.id, author: author, kinds: [.message, .edit]) else { continue }
            waiting += events.filter { e in
                guard ((try? store.plaintext(e.id)) ?? nil) == nil, let b = e.body, let (epoch, _) = SenderKeyBody.position(b) else { return false }
                return chains.contains(ChainRef(author: e.author, epoch: epoch))
            }
        }
        waiting.sort { $0.lamport < $1.lamport }
        if !waiting.isEmpty { decrypt(waiting, record: record) }
    }
}
