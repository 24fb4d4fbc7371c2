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
    public func saveReportedHeads(peer: SigningPublicKey, group: EventID, heads: [EventID], atMs: Int64) throws(StoreError) {
        let blob = EventID.blob(heads.prefix(Self.maxReportedHeads).sorted())
        try write("save reported heads") { db in
            try db.cachedStatement(sql: """
                INSERT INTO peer_holds (peer_key, group_id, heads, updated_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT (peer_key, group_id) DO UPDATE SET heads = excluded.heads, updated_ms = excluded.updated_ms
                """).execute(arguments: [Data(peer.bytes), group.data, blob, atMs])
            try ReadModelWriter(db: db).refreshHolds(peer: peer, group: group)
        }
    }
}
