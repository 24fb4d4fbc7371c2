import Foundation
import GRDB
import HarkCrypto
import HarkLog

extension Store {
    /// Most heads kept per peer and group in `peer_holds`.
    public static let maxReportedHeads = 64

    /// The heads each peer last reported holding in `group` (Heads, SyncRequest, SyncReply frames
    /// and head hints; PROTOCOL.md §8.5), keyed by the peer's identity key.
    /// - Throws: `StoreError.corrupt` for a damaged row; `.database`.
    public func reportedHeads(group: EventID) throws(StoreError) -> [SigningPublicKey: [EventID]] {
        try read("read reported heads") { db in
            var out: [SigningPublicKey: [EventID]] = [:]
            let rows = try Row.fetchAll(db, sql: "SELECT peer_key, heads FROM peer_holds WHERE group_id = ?", arguments: [group.data])
            for row in rows {
                let key: Data = row["peer_key"]
                let blob: Data = row["heads"]
                let bytes = [UInt8](blob)
                guard bytes.count % EventID.byteCount == 0, let peer = try? SigningPublicKey(bytes: [UInt8](key)) else {
                    throw StoreError.corrupt("peer_holds row of \(key.count) + \(bytes.count) bytes")
                }
                out[peer] = try stride(from: 0, to: bytes.count, by: EventID.byteCount).map { i in
                    try EventID(bytes: Array(bytes[i..<i + EventID.byteCount]))
                }
            }
            return out
        }
    }

    /// Replaces what `peer` reported holding in `group` (at most `maxReportedHeads` kept, the
    /// caller's order deciding which).
    public func saveReportedHeads(peer: SigningPublicKey, group: EventID, heads: [EventID], atMs: Int64) throws(StoreError) {
        let blob = Data(heads.prefix(Self.maxReportedHeads).sorted().flatMap(\.bytes))
        try write("save reported heads") { db in
            try db.execute(sql: """
                INSERT INTO peer_holds (peer_key, group_id, heads, updated_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT (peer_key, group_id) DO UPDATE SET heads = excluded.heads, updated_ms = excluded.updated_ms
                """, arguments: [Data(peer.bytes), group.data, blob, atMs])
        }
    }
}
