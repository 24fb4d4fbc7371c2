import Foundation
import GRDB
import HarkCrypto
import HarkLog

/// Building the read model for events stored before it existed (docs/HISTORY.md §"Upgrade").
extension Store {
    /// How many stored events are not in the read model yet (0 once caught up). O(unindexed):
    /// it reads the partial index `event_unindexed`, empty in steady state.
    /// - Throws: `StoreError.database`.
    public func unindexedEventCount() throws(StoreError) -> Int {
        try read("count unindexed events") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event INDEXED BY event_unindexed WHERE vv IS NULL") ?? 0
        }
    }

    /// Indexes every stored event that is not in the read model yet, in chunks of `chunkSize`
    /// events (one write transaction each, so a crash keeps what was done), each group's events
    /// in total order (parents first). Called by `init(path:)`; cheap when nothing is left.
    ///
    /// Cost: one indexed range read per chunk (events joined with their plaintexts), then per
    /// event the same writes as `insert(batch:)`, with parents' vectors served from memory.
    /// - Parameter progress: called after each chunk with (indexed so far, total to index).
    /// - Returns: how many events were indexed.
    /// - Throws: `StoreError.corrupt` for a row that does not decode; `.database`.
    @discardableResult
    public func catchUpReadModel(chunkSize: Int = 5_000, progress: ((Int, Int) -> Void)? = nil) throws(StoreError) -> Int {
        let total = try unindexedEventCount()
        guard total > 0 else { return 0 }
        defer { historyGenerations.bumpAll() }
        var done = 0
        var writerState: ReadModelWriter?
        while true {
            let n: Int = try write("index stored events") { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT e.id, e.signed, e.received_ms, p.content FROM event e INDEXED BY event_unindexed
                    LEFT JOIN plaintext p ON p.event_id = e.id
                    WHERE e.vv IS NULL ORDER BY e.group_id, e.lamport, e.id LIMIT ?
                    """, arguments: [max(1, chunkSize)])
                // One writer across chunks keeps the vector cache; its database handle is this
                // transaction's (GRDB hands the same connection to every write).
                let writer = ReadModelWriter(db: db, carrying: writerState, reportedHeads: reportedHeadsCache)
                let setVV = try db.cachedStatement(sql: "UPDATE event SET vv = ?, wall_max = ? WHERE id = ?")
                for row in rows {
                    let e = try row.event()
                    let (vv, parentWall) = try writer.vector(for: e)
                    let receivedMs: Int64 = row["received_ms"]
                    let wallMax = ReadModelWriter.plausibility(wallMs: e.wallMs, ancestorWall: parentWall, receivedMs: receivedMs).wallMax
                    try setVV.execute(arguments: [Data(vv.encoded), wallMax, e.id.data])
                    let plain: Data? = row["content"]
                    try writer.index(e, vv: vv, parentWall: parentWall, receivedMs: row["received_ms"], plaintext: plain.map { [UInt8]($0) })
                }
                try writer.flush()
                writerState = writer
                return rows.count
            }
            done += n
            progress?(min(done, total), total)
            if n == 0 || done >= total { break }
        }
        return done
    }
}

extension ReadModelWriter {
    /// A writer for a new transaction keeping `previous`'s vector cache (catch-up chunks).
    convenience init(db: Database, carrying previous: ReadModelWriter?, reportedHeads: ReportedHeadsCache?) {
        self.init(db: db, reportedHeads: reportedHeads)
        if let previous { adoptCache(from: previous) }
    }
}

extension Store {
    /// Test hook (internal; `@testable` only): writes a store file with the schema as it was
    /// before the read model (migrations up to "v6-files"), holding `events` (parents first),
    /// `plaintexts` and one group, the way the previous release left it.
    static func writePreviousSchemaForTesting(path: String, group: GroupRecord, events: [(Event, receivedMs: Int64)],
                                              plaintexts: [EventID: [UInt8]]) throws {
        let pool = try DatabasePool(path: path)
        try StoreSchema.migrator.migrate(pool, upTo: "v6-files")
        try pool.write { db in
            try db.execute(sql: "INSERT INTO grp (id, name, group_key, created_ms, joined_ms) VALUES (?, ?, ?, ?, ?)",
                           arguments: [group.id.data, group.name, Data(group.key), group.createdMs, group.joinedMs])
            for (e, received) in events {
                try db.execute(sql: """
                    INSERT INTO event (id, group_id, author, seq, lamport, wall_ms, kind, signed, received_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [e.id.data, e.effectiveGroupID.data, Data(e.author.bytes), Int64(e.seq), Int64(e.lamport),
                                     e.wallMs, e.kind.rawValue, Data(e.serializedBytes()), received])
                for p in e.allParents {
                    try db.execute(sql: "INSERT INTO event_parent (event_id, parent_id) VALUES (?, ?)", arguments: [e.id.data, p.data])
                }
            }
            for (id, content) in plaintexts {
                try db.execute(sql: "INSERT INTO plaintext (event_id, content) VALUES (?, ?)", arguments: [id.data, Data(content)])
            }
        }
    }
}
