import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing
@testable import HarkStore

/// The cost of storing one event must not grow with the history (docs/HISTORY.md §"Write
/// cost"): every statement the write path runs (the event, its heads, the read model, the
/// search index, plaintexts) is answered through an index, never by a scan of a table that
/// grows with events. Checked with SQLite's own query plans for the statements the store runs
/// while random histories (messages, edits, deletes, reactions with removes, READ markers, a
/// fork and its proof) are stored one event at a time.
@Suite struct WritePathPlanTests {
    /// Tables whose size does not grow with history: one row per group, author, peer and group,
    /// or sender chain, or the schema's own bookkeeping.
    static let small: Set<String> = ["grp", "rm_group", "rm_author", "peer_holds", "sync_heads", "chain_out", "chain_in",
                                     "chain_history", "sqlite_master", "sqlite_schema", "rm_search_config"]

    /// Statements `store` runs while `body` runs, deduplicated, in first-run order.
    static func statements(_ store: Store, _ body: () throws -> Void) throws -> [String] {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var sql: [String] = []
        }
        let box = Box()
        store.pool.writeWithoutTransaction { db in
            db.trace(options: .statement) { event in
                guard case let .statement(s) = event else { return }
                box.lock.lock()
                box.sql.append(s.sql)
                box.lock.unlock()
            }
        }
        defer { store.pool.writeWithoutTransaction { db in db.trace(options: []) } }
        try body()
        var seen: Set<String> = []
        return box.sql.filter { seen.insert($0).inserted }
    }

    /// The tables a statement's plan scans (a `SCAN` line without an index), other than `small`.
    static func scans(_ sql: String, in store: Store) throws -> [String] {
        let skip = ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "--"]
        if skip.contains(where: { sql.uppercased().hasPrefix($0) }) { return [] }
        // On the writer's connection: it sees the schema as the write path does.
        return try store.pool.writeWithoutTransaction { db in
            // The plan does not depend on the values: parameters stay unbound (NULL).
            let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + sql)
            statement.setUncheckedArguments(StatementArguments())
            let plan = try Row.fetchAll(statement)
            return plan.compactMap { row -> String? in
                let detail: String = row["detail"]
                // `SCAN CONSTANT ROW`: a SELECT without FROM (`SELECT EXISTS (…)`), no table.
                guard detail.hasPrefix("SCAN "), !detail.contains("USING"), !detail.contains("VIRTUAL TABLE"),
                      detail != "SCAN CONSTANT ROW" else { return nil }
                let table = detail.dropFirst(5).split(separator: " ").first.map(String.init) ?? detail
                return Self.small.contains(table.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))) ? nil : detail
            }
        }
    }

    @Test func noWritePathStatementScansAGrowingTable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var checked = 0
        for seed in [UInt64(3), 17, 2024] {
            let s = try Scenario(seed: seed, steps: 40, reads: true)
            let store = try Store(path: dir.appendingPathComponent("\(seed).sqlite").path)
            try store.saveGroup(Store.GroupRecord(id: s.genesis.id, name: "lab", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
            let sql = try Self.statements(store) {
                for e in s.valid { try store.insert(batch: [e], receivedMs: 5) }
                try store.saveReportedHeads(peer: Fixture.bob.publicKey, group: s.genesis.id, heads: [s.valid.last!.id], atMs: 1)
                // A plaintext of a stored message, and its removal (sender-key groups; here the
                // content is the group-key body's).
                if let m = s.valid.first(where: { $0.kind == .message }),
                   let c = try? BodyCipher.open(m, groupKey: Fixture.groupKey) {
                    try store.savePlaintext(m.id, content: try c.serializedBytes())
                    try store.deletePlaintext(m.id)
                }
            }
            #expect(sql.contains { $0.hasPrefix("INSERT OR IGNORE INTO event ") }, "seed \(seed): the trace saw the inserts")
            for statement in sql {
                let found = try Self.scans(statement, in: store)
                #expect(found.isEmpty, "seed \(seed): \(statement) scans \(found)")
                checked += 1
            }
        }
        #expect(checked > 20)
    }

    /// The check sees a scan where an index is missing: without `rm_mention_by_message`, replacing
    /// a message's mention rows scans `rm_mention` (as every stored message did before that index).
    @Test func theCheckSeesAMissingIndex() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(path: dir.appendingPathComponent("s.sqlite").path)
        let delete = "DELETE FROM rm_mention WHERE message = ?"
        #expect(try Self.scans(delete, in: store).isEmpty)
        try store.pool.write { db in try db.execute(sql: "DROP INDEX rm_mention_by_message") }
        #expect(try Self.scans(delete, in: store) == ["SCAN rm_mention"])
    }
}
