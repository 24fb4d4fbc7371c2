import Foundation
import GRDB
import HarkCrypto
import HarkLog

extension Store {
    // MARK: rejected events

    /// Remembers that an event failed validation, so it is never requested, stored or relayed
    /// again. Idempotent (the first reason is kept). - Throws: `StoreError.database`.
    public func markRejected(_ id: EventID, group: EventID, reason: String, atMs: Int64) throws(StoreError) {
        try write("mark \(id) rejected") { db in
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO rejected (id, group_id, reason, rejected_ms) VALUES (?, ?, ?, ?)").execute(arguments: [id.data, group.data, String(reason.prefix(500)), atMs])
        }
    }

    /// Whether the event was rejected before. - Throws: `StoreError.database`.
    public func isRejected(_ id: EventID) throws(StoreError) -> Bool {
        try read("look up rejected \(id)") { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM rejected WHERE id = ?)"), arguments: [id.data]) ?? false
        }
    }

    /// Rejected events of a group with their reasons, oldest first.
    public func rejected(group: EventID) throws(StoreError) -> [(id: EventID, reason: String)] {
        try read("read rejected events of \(group)") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT id, reason FROM rejected WHERE group_id = ? ORDER BY rejected_ms, id"), arguments: [group.data]).map { row in (try row.eventID("id", "rejected"), row["reason"] as String? ?? "") }
        }
    }

    // MARK: per-peer sync heads (Kleppmann–Howard StoreHeads / LoadHeads)

    /// The group's heads as the peer had them after the last complete sync, or [] if never.
    /// - Throws: `StoreError.corrupt` for a damaged row; `.database`.
    public func syncHeads(peer: SigningPublicKey, group: EventID) throws(StoreError) -> [EventID] {
        try read("read sync heads") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT heads FROM sync_heads WHERE peer_key = ? AND group_id = ?"), arguments: [Data(peer.bytes), group.data]) else { return [] }
            return try row.eventIDs("heads", "sync_heads")
        }
    }

    /// Records the peer's heads after a complete sync (at most 1024 are kept).
    public func saveSyncHeads(peer: SigningPublicKey, group: EventID, heads: [EventID], atMs: Int64) throws(StoreError) {
        let blob = EventID.blob(heads.sorted().prefix(1024))
        try write("save sync heads") { db in
            try db.cachedStatement(sql: """
                INSERT INTO sync_heads (peer_key, group_id, heads, updated_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT (peer_key, group_id) DO UPDATE SET heads = excluded.heads, updated_ms = excluded.updated_ms
                """).execute(arguments: [Data(peer.bytes), group.data, blob, atMs])
        }
    }

    // MARK: purging bodies (after a DELETE)

    /// Drops the stored body of an event, keeping its header and signature so the graph still
    /// verifies. Idempotent. - Returns: whether a body was dropped.
    @discardableResult
    public func purgeBody(_ id: EventID) throws(StoreError) -> Bool {
        guard let e = try event(id), e.body != nil else { return false }
        var signed = e.signedEvent
        signed.body = Data()   // proto3: an empty body is an absent one
        let bytes: Data
        do { bytes = try signed.serializedData() } catch { throw .corrupt("cannot re-encode \(id): \(error)") }
        try write("purge body of \(id)") { db in
            try db.cachedStatement(sql: "UPDATE event SET signed = ? WHERE id = ?").execute(arguments: [bytes, id.data])
            let writer = ReadModelWriter(db: db, reportedHeads: reportedHeadsCache)
            try writer.contentGone(id)
            try writer.flush()
        }
        return true
    }
}

extension Store {
    /// When each of the group's events was stored here, ms since the Unix epoch (local clock).
    public func receivedTimes(group: EventID) throws(StoreError) -> [EventID: Int64] {
        try read("read receipt times of \(group)") { db in
            var out: [EventID: Int64] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT id, received_ms FROM event WHERE group_id = ?"), arguments: [group.data]) {
                out[try row.eventID("id", "event")] = row["received_ms"] as Int64? ?? 0
            }
            return out
        }
    }
}
