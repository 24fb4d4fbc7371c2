import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
@testable import HarkStore
import HarkTesting
import Testing

/// A store written by the previous release (schema up to "v6-files", no read model) opens with
/// the new code, is indexed once, and its read model equals the fold.
@Suite struct ReadModelMigrationTests {
    @Test func previousSchemaOpensIndexed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-rm-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try Scenario(seed: 42, steps: 60, reads: true)
        let path = dir.appendingPathComponent("old.sqlite").path
        try Store.writePreviousSchemaForTesting(
            path: path, group: Store.GroupRecord(id: s.genesis.id, name: "lab", key: Fixture.groupKey, createdMs: 0, joinedMs: 0),
            events: s.valid.map { ($0, receivedMs: 5) }, plaintexts: [:])
        let store = try Store(path: path)
        #expect(try store.unindexedEventCount() == 0)
        let r = ReadModelPropertyTests.StoreReplica(store: store)
        for e in s.valid { r.held[e.id] = e; r.received[e.id] = 5 }
        try ReadModelPropertyTests.check(r, group: s.genesis.id, seed: 42, step: 0)
        #expect(try store.messages(group: s.genesis.id, limit: 1000, includeDeleted: true).count
                == s.valid.filter { $0.kind == .message }.count)
        // Opened again: nothing left to index; new events are indexed as they are stored.
        let again = try Store(path: path)
        #expect(try again.catchUpReadModel() == 0)
    }

    /// The catch-up goes chunk by chunk and reports its progress.
    @Test func catchUpIsChunked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-rm-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try Scenario(seed: 7, steps: 40)
        let path = dir.appendingPathComponent("old.sqlite").path
        try Store.writePreviousSchemaForTesting(
            path: path, group: Store.GroupRecord(id: s.genesis.id, name: "lab", key: Fixture.groupKey, createdMs: 0, joinedMs: 0),
            events: s.valid.map { ($0, receivedMs: 5) }, plaintexts: [:])
        // Opened without the automatic catch-up, then indexed through the API in small chunks.
        let store = try Store(path: path, catchUpReadModel: false)
        #expect(try store.unindexedEventCount() == s.valid.count)
        var reports: [(Int, Int)] = []
        #expect(try store.catchUpReadModel(chunkSize: 7) { reports.append(($0, $1)) } == s.valid.count)
        #expect(reports.count == (s.valid.count + 6) / 7)
        #expect(reports.last.map { $0.0 == $0.1 } == true)
        let r = ReadModelPropertyTests.StoreReplica(store: store)
        for e in s.valid { r.held[e.id] = e; r.received[e.id] = 5 }
        try ReadModelPropertyTests.check(r, group: s.genesis.id, seed: 7, step: 0)
    }

    /// A store whose `event` and `rm_message` tables are keyed by the event ID (up to migration
    /// "peer-local") is rewritten into rowid tables in arrival order: every event, message row
    /// and index survives, and the read model still equals the fold.
    @Test func idKeyedLayoutIsRewrittenInArrivalOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-rm-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Without replies and mentions: a store of that schema predates them (messages that
        // carried them anyway keep no reply_to or mentions after the upgrade; docs/HISTORY.md).
        let s = try Scenario(seed: 11, steps: 60, reads: true, replies: false)
        let path = dir.appendingPathComponent("keyed.sqlite").path
        func tableSQL(_ store: Store, _ name: String) throws -> String {
            try store.read("schema") { db in try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [name]) ?? "" }
        }
        // The rows come from a store with today's schema (today's writer fills columns the old
        // schema lacks), copied column by column into the schema as it stood at "peer-local".
        let currentPath = dir.appendingPathComponent("current.sqlite").path
        do {
            let current = try Store(path: currentPath)
            try current.saveGroup(Store.GroupRecord(id: s.genesis.id, name: "lab", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
            try current.insert(batch: s.valid, receivedMs: 5)
        }
        do {
            let old = try Store(path: path, catchUpReadModel: true, migratingUpTo: "peer-local")
            let tables = try old.read("tables") { db in
                try String.fetchAll(db, sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                    AND name != 'grdb_migrations' AND sql NOT LIKE '%VIRTUAL%'
                    """)
            }
            var copy = "ATTACH DATABASE '\(currentPath)' AS current;\n"
            for table in tables {
                let columns = try old.read("columns") { db in try db.columns(in: table).map(\.name) }
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                copy += "INSERT INTO main.\"\(table)\" (\(list)) SELECT \(list) FROM current.\"\(table)\";\n"
            }
            try old.executeRaw(copy)
            #expect(try tableSQL(old, "event").contains("WITHOUT ROWID"))
            #expect(try tableSQL(old, "rm_message").contains("WITHOUT ROWID"))
        }
        let store = try Store(path: path)
        #expect(try !tableSQL(store, "event").contains("WITHOUT ROWID"))
        #expect(try !tableSQL(store, "rm_message").contains("WITHOUT ROWID"))
        for index in ["event_by_order", "event_by_author", "event_unindexed", "event_by_rare_kind",
                      "rm_message_by_order", "rm_message_by_author", "rm_message_deleted"] {
            #expect(try !tableSQL(store, index).isEmpty, "index \(index) after the rewrite")
        }
        #expect(try store.unindexedEventCount() == 0)
        for e in s.valid { #expect(try store.event(e.id)?.id == e.id) }
        #expect(try store.eventCount(group: s.genesis.id) == s.valid.count)
        let r = ReadModelPropertyTests.StoreReplica(store: store)
        for e in s.valid { r.held[e.id] = e; r.received[e.id] = 5 }
        try ReadModelPropertyTests.check(r, group: s.genesis.id, seed: 11, step: 0)
        // An event stored twice is still refused by the unique ID index.
        #expect(try store.insert(s.valid[0], receivedMs: 6) == false)
        #expect(throws: (any Error).self) { try store.executeRaw("INSERT INTO event SELECT * FROM event LIMIT 1") }
    }
}
