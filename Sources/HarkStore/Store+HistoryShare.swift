import Foundation
import GRDB
import HarkCrypto
import HarkLog

/// Shared-history state (PROTOCOL.md §5.8): the earliest chain key this node holds of each sender
/// chain of a shared-history group, and the members it added whose share waits for a prekey.
/// Chain keys are secrets: the store file is 0600.
extension Store {
    /// Keeps `chain` as the earliest key held of its chain, unless one at the same or an earlier
    /// index is kept already. One row per (group, author, epoch): 32 B key + 8 B of numbers.
    /// - Returns: whether it was kept.
    /// - Throws: `StoreError.database` (nothing is written).
    @discardableResult
    public func keepHistoryChain(_ chain: HistoryShare.Chain, group: EventID) throws(StoreError) -> Bool {
        try write("keep history chain") { db in
            try db.cachedStatement(sql: """
                INSERT INTO chain_history (group_id, author, epoch, first_index, chain_key) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (group_id, author, epoch) DO UPDATE SET first_index = excluded.first_index, chain_key = excluded.chain_key
                WHERE excluded.first_index < chain_history.first_index
                """).execute(arguments: [group.data, Data(chain.author.bytes), Int64(chain.epoch), Int64(chain.index), Data(chain.chainKey)])
            return db.changesCount > 0
        }
    }

    /// The kept chain of `author`'s `epoch`, nil if none.
    public func historyChain(group: EventID, author: SigningPublicKey, epoch: UInt32) throws(StoreError) -> HistoryShare.Chain? {
        try read("read history chain") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT first_index, chain_key FROM chain_history WHERE group_id = ? AND author = ? AND epoch = ?
                """), arguments: [group.data, Data(author.bytes), Int64(epoch)]) else { return nil }
            let key = try row.blob("chain_key", "chain_history")
            guard key.count == 32 else { throw StoreError.corrupt("chain_history key of \(key.count) bytes") }
            return HistoryShare.Chain(author: author, epoch: epoch, index: UInt32(truncatingIfNeeded: try row.int64("first_index", "chain_history")),
                                      chainKey: key)
        }
    }

    /// Every kept chain of a group, by author bytes then epoch.
    public func historyChains(group: EventID) throws(StoreError) -> [HistoryShare.Chain] {
        try read("read history chains") { db in
            var out: [HistoryShare.Chain] = []
            for row in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT author, epoch, first_index, chain_key FROM chain_history WHERE group_id = ? ORDER BY author, epoch
                """), arguments: [group.data]) {
                let key = try row.blob("chain_key", "chain_history")
                let author: SigningPublicKey
                do { author = try SigningPublicKey(bytes: try row.blob("author", "chain_history")) } catch {
                    throw StoreError.corrupt("chain_history author: \(error)")
                }
                guard key.count == 32 else { throw StoreError.corrupt("chain_history key of \(key.count) bytes") }
                out.append(HistoryShare.Chain(author: author, epoch: UInt32(truncatingIfNeeded: try row.int64("epoch", "chain_history")),
                                              index: UInt32(truncatingIfNeeded: try row.int64("first_index", "chain_history")), chainKey: key))
            }
            return out
        }
    }

    /// Remembers that this node owes `member` a history share in `group` (it added it; its prekey is not known yet).
    public func addPendingHistoryShare(group: EventID, member: SigningPublicKey) throws(StoreError) {
        try write("add pending history share") { db in
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO history_share_pending (group_id, member) VALUES (?, ?)").execute(arguments: [group.data, Data(member.bytes)])
        }
    }

    /// The members this node still owes a history share in `group`.
    public func pendingHistoryShares(group: EventID) throws(StoreError) -> [SigningPublicKey] {
        try read("read pending history shares") { db in
            try Data.fetchAll(db.cachedStatement(sql: "SELECT member FROM history_share_pending WHERE group_id = ? ORDER BY member"), arguments: [group.data]).compactMap { try? SigningPublicKey(bytes: [UInt8]($0)) }
        }
    }

    public func removePendingHistoryShare(group: EventID, member: SigningPublicKey) throws(StoreError) {
        try write("remove pending history share") { db in
            try db.cachedStatement(sql: "DELETE FROM history_share_pending WHERE group_id = ? AND member = ?").execute(arguments: [group.data, Data(member.bytes)])
        }
    }
}
