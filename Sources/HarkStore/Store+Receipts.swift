import Foundation
import GRDB
import HarkCrypto
import HarkLog

extension Store {
    /// Most heads kept per peer and group in `peer_holds`.
    public static let maxReportedHeads = 64

    /// The heads each peer last reported holding in `group` (Heads, SyncRequest, SyncReply frames
    /// and head hints; PROTOCOL.md §7.5), keyed by the peer's identity key.
    /// - Throws: `StoreError.corrupt` for a damaged row; `.database`.
    public func reportedHeads(group: EventID) throws(StoreError) -> [SigningPublicKey: [EventID]] {
        try read("read reported heads") { db in
            var out: [SigningPublicKey: [EventID]] = [:]
            let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT peer_key, heads FROM peer_holds WHERE group_id = ?"), arguments: [group.data])
            for row in rows {
                out[try row.signingKey("peer_key", "peer_holds")] = try row.eventIDs("heads", "peer_holds")
            }
            return out
        }
    }

    /// Replaces what `peer` reported holding in `group` (at most `maxReportedHeads` kept, the
    /// caller's order deciding which).
    /// - Throws: `StoreError.database` (nothing is written).
    public func saveReportedHeads(peer: SigningPublicKey, group: EventID, heads: [EventID], atMs: Int64) throws(StoreError) {
        try saveReportedHeads([(peer, heads)], group: group, atMs: atMs)
    }

    /// Replaces what each peer of `reports` reported holding in `group`, in one transaction (at
    /// most `maxReportedHeads` heads kept per peer, the caller's order deciding which): the
    /// vectors of heads several peers hold are read once.
    /// - Throws: `StoreError.database` (nothing is written).
    public func saveReportedHeads(_ reports: [(peer: SigningPublicKey, heads: [EventID])], group: EventID, atMs: Int64) throws(StoreError) {
        guard !reports.isEmpty else { return }
        try write("save reported heads of \(reports.count) peers") { db in
            let writer = ReadModelWriter(db: db, reportedHeads: reportedHeadsCache)
            writer.reportedHeadsChanged(group: group)
            for (peer, heads) in reports {
                try writer.replaceHolds(peer: peer, group: group, heads: Array(heads.prefix(Self.maxReportedHeads)).sorted(), atMs: atMs)
            }
        }
    }
}
