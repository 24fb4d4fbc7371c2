import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog

/// Sender-key state (PROTOCOL.md §5.4). Chain keys are secrets: the store file is 0600.
extension Store {
    /// This node's current sender chain in a group.
    public struct OutChain: Sendable, Equatable {
        public var epoch: UInt32
        public var chain: SenderChain
        public var createdMs: Int64
        /// Hash of the membership view (members and prekeys) the chain was sealed to.
        public var view: [UInt8]
        /// Messages sent on it.
        public var sent: Int
        /// ck_0, kept only while some member of the view had no prekey yet (so it can be sealed to
        /// it when its prekey arrives, PROTOCOL.md §5.4); nil once every member has its box.
        public var startKey: [UInt8]?
        /// Members of the view that got no box (no prekey known when the chain was made).
        public var pending: [SigningPublicKey]
        public init(epoch: UInt32, chain: SenderChain, createdMs: Int64, view: [UInt8], sent: Int,
                    startKey: [UInt8]? = nil, pending: [SigningPublicKey] = []) {
            self.epoch = epoch; self.chain = chain; self.createdMs = createdMs; self.view = view; self.sent = sent
            self.startKey = startKey; self.pending = pending
        }
    }

    public func outChain(group: EventID) throws(StoreError) -> OutChain? {
        try read("read sender chain") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM chain_out WHERE group_id = ?"), arguments: [group.data]) else { return nil }
            let ck = try row.blob("chain_key", "chain_out")
            let start = try row.optionalBlob("start_key", "chain_out")
            let pendingBlob = try row.blob("pending", "chain_out")
            guard ck.count == 32, start == nil || start!.count == 32, pendingBlob.count % 32 == 0 else {
                throw StoreError.corrupt("chain_out row of \(ck.count)/\(start?.count ?? 0)/\(pendingBlob.count) key bytes")
            }
            var pending: [SigningPublicKey] = []
            for i in stride(from: 0, to: pendingBlob.count, by: 32) {
                do { pending.append(try SigningPublicKey(bytes: Array(pendingBlob[i..<i + 32]))) } catch { throw StoreError.corrupt("chain_out.pending: \(error)") }
            }
            return OutChain(epoch: UInt32(truncatingIfNeeded: try row.int64("epoch", "chain_out")),
                            chain: SenderChain(chainKey: ck, nextIndex: UInt32(truncatingIfNeeded: try row.int64("next_index", "chain_out"))),
                            createdMs: try row.int64("created_ms", "chain_out"), view: try row.blob("view", "chain_out"),
                            sent: Int(try row.int64("sent", "chain_out")), startKey: start, pending: pending)
        }
    }

    public func saveOutChain(_ c: OutChain, group: EventID) throws(StoreError) {
        try write("save sender chain") { db in try Self.saveOutChain(db, c, group: group) }
    }

    /// `saveOutChain` inside the caller's transaction.
    static func saveOutChain(_ db: Database, _ c: OutChain, group: EventID) throws {
        try db.cachedStatement(sql: """
            INSERT INTO chain_out (group_id, epoch, chain_key, next_index, created_ms, view, sent, start_key, pending)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (group_id) DO UPDATE SET epoch = excluded.epoch, chain_key = excluded.chain_key,
                next_index = excluded.next_index, created_ms = excluded.created_ms, view = excluded.view, sent = excluded.sent,
                start_key = excluded.start_key, pending = excluded.pending
            """).execute(arguments: [group.data, Int64(c.epoch), Data(c.chain.chainKey), Int64(c.chain.nextIndex), c.createdMs,
                             Data(c.view), c.sent, c.startKey.map { Data($0) }, Data(c.pending.flatMap(\.bytes))])
    }

    /// Another member's chain for `epoch`, as far as this node used it.
    public func inChain(group: EventID, author: SigningPublicKey, epoch: UInt32) throws(StoreError) -> SenderChain? {
        try readStatement("read member chain") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM chain_in WHERE group_id = ? AND author = ? AND epoch = ?"),
                                             arguments: [group.data, Data(author.bytes), Int64(epoch)]) else { return nil }
            let ck = try row.blob("chain_key", "chain_in")
            let b = try row.blob("skipped", "chain_in")
            guard ck.count == 32, b.count % 36 == 0 else { throw StoreError.corrupt("chain_in row of \(ck.count)/\(b.count) bytes") }
            var skipped: [UInt32: [UInt8]] = [:]
            for i in stride(from: 0, to: b.count, by: 36) {
                let idx = UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
                skipped[idx] = Array(b[(i + 4)..<(i + 36)])
            }
            return SenderChain(chainKey: ck, nextIndex: UInt32(truncatingIfNeeded: try row.int64("next_index", "chain_in")), skipped: skipped)
        }
    }

    public func saveInChain(_ c: SenderChain, group: EventID, author: SigningPublicKey, epoch: UInt32) throws(StoreError) {
        try write("save member chain") { db in try Self.saveInChain(db, c, group: group, author: author, epoch: epoch) }
    }

    /// `saveInChain` inside the caller's transaction.
    static func saveInChain(_ db: Database, _ c: SenderChain, group: EventID, author: SigningPublicKey, epoch: UInt32) throws {
        var blob: [UInt8] = []
        for (idx, key) in c.skipped.sorted(by: { $0.key < $1.key }) {
            withUnsafeBytes(of: idx.littleEndian) { blob += $0 }
            blob += key
        }
        try db.cachedStatement(sql: """
            INSERT INTO chain_in (group_id, author, epoch, chain_key, next_index, skipped) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (group_id, author, epoch) DO UPDATE SET chain_key = excluded.chain_key,
                next_index = excluded.next_index, skipped = excluded.skipped
            """).execute(arguments: [group.data, Data(author.bytes), Int64(epoch), Data(c.chainKey), Int64(c.nextIndex), Data(blob)])
    }

    /// Keeps the decrypted Content (serialized) of a sender-key body.
    /// - Throws: `StoreError.database` (nothing is written).
    public func savePlaintext(_ id: EventID, content: [UInt8]) throws(StoreError) {
        try savePlaintexts([(id: id, content: content)])
    }

    /// Keeps several plaintexts in one transaction, and lets the read model see the content of
    /// those whose events are already indexed (an event stored later reads its plaintext at
    /// insert). For the node's intake and for tools that author many events at once.
    /// - Throws: `StoreError.database` (nothing is written).
    public func savePlaintexts(_ items: [(id: EventID, content: [UInt8])]) throws(StoreError) {
        try write("save \(items.count) plaintexts") { db in
            let writer = ReadModelWriter(db: db, reportedHeads: reportedHeadsCache)
            try Self.savePlaintexts(db, items, writer: writer)
            try writer.flush()
        }
    }

    /// `savePlaintexts` inside the caller's transaction, with its read-model writer (the caller flushes it).
    static func savePlaintexts(_ db: Database, _ items: [(id: EventID, content: [UInt8])], writer: ReadModelWriter) throws {
        let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO plaintext (event_id, content) VALUES (?, ?)")
        let indexed = try db.cachedStatement(sql: "SELECT id, signed FROM event WHERE id = ? AND vv IS NOT NULL")
        for item in items {
            try statement.execute(arguments: [item.id.data, Data(item.content)])
            if let row = try Row.fetchOne(indexed, arguments: [item.id.data]) {
                try writer.plaintextSaved(try row.event(), content: item.content)
            }
        }
    }

    public func plaintext(_ id: EventID) throws(StoreError) -> [UInt8]? {
        try readStatement("read plaintext") { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT content FROM plaintext WHERE event_id = ?"), arguments: [id.data]).map { [UInt8]($0) }
        }
    }

    /// Every kept plaintext of a group's events.
    public func plaintexts(group: EventID) throws(StoreError) -> [EventID: [UInt8]] {
        try read("read plaintexts") { db in
            var out: [EventID: [UInt8]] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT p.event_id, p.content FROM plaintext p JOIN event e ON e.id = p.event_id WHERE e.group_id = ?
                """), arguments: [group.data]) {
                out[try row.eventID("event_id", "plaintext")] = try row.blob("content", "plaintext")
            }
            return out
        }
    }

    /// Drops a plaintext (a deleted message is purged everywhere, its plaintext too).
    public func deletePlaintext(_ id: EventID) throws(StoreError) {
        try write("delete plaintext") { db in
            try db.cachedStatement(sql: "DELETE FROM plaintext WHERE event_id = ?").execute(arguments: [id.data])
            guard db.changesCount > 0 else { return }
            let writer = ReadModelWriter(db: db, reportedHeads: reportedHeadsCache)
            try writer.contentGone(id)
            try writer.flush()
        }
    }
}

extension Store {
    /// One page of an author's stored events of `kinds` in the group, newest first (seq
    /// descending), each with whether a plaintext is kept for it: read through the author index,
    /// O(limit · log n) whatever the size of the history.
    /// - Parameter beforeSeq: only events with a lower seq (nil: from the newest).
    /// - Throws: `StoreError.corrupt`, `.unrepresentable`, `.database`.
    public func newestEvents(group: EventID, author: SigningPublicKey, kinds: [Hark_V1_EventKind], beforeSeq: UInt64?,
                             limit: Int) throws(StoreError) -> [(event: Event, hasPlaintext: Bool)] {
        let list = kinds.map { String($0.rawValue) }.joined(separator: ",")
        let before: Int64 = try beforeSeq.map { s throws(StoreError) in try storable(s, "beforeSeq") } ?? Int64.max
        return try read("read newest events of an author in \(group)") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT e.id, e.signed, EXISTS (SELECT 1 FROM plaintext p WHERE p.event_id = e.id) AS kept
                FROM event e INDEXED BY event_by_author
                WHERE e.group_id = ? AND e.author = ? AND e.seq < ? AND e.kind IN (\(list)) ORDER BY e.seq DESC LIMIT ?
                """), arguments: [group.data, Data(author.bytes), before, max(0, limit)]).map { row in
                (try row.event(), (row["kept"] as Int64) != 0)
            }
        }
    }
}
