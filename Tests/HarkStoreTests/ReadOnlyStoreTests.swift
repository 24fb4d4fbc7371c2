import Foundation
import HarkCrypto
import HarkLog
@testable import HarkStore
import Testing

/// `Store(readOnlyPath:)`: reads beside a writer, never writes, and refuses a schema other
/// than this binary's.
@Suite struct ReadOnlyStoreTests {
    let dir: TempDir
    init() throws { dir = try TempDir() }

    @Test func readsWhatAnOpenWriterCommitted() throws {
        let writer = try Store(path: dir.dbPath)
        let d = try Build.diamond()
        try writer.insert(batch: [d.g, d.a2], receivedMs: 1)
        let reader = try Store(readOnlyPath: dir.dbPath)
        #expect(reader.isReadOnly && !writer.isReadOnly)
        #expect(try reader.event(d.a2.id) == d.a2)
        // Committed later by the writer, still open: seen by the reader's next transaction.
        try writer.insert(d.b1, receivedMs: 2)
        #expect(try reader.contains(d.b1.id))
        #expect(try reader.eventCount(group: d.g.id) == 3)
    }

    @Test func writesFailAndChangeNothing() throws {
        let d = try Build.diamond()
        do { try Store(path: dir.dbPath).insert(d.g, receivedMs: 1) }
        let reader = try Store(readOnlyPath: dir.dbPath)
        #expect(throws: StoreError.self) { try reader.insert(d.a2, receivedMs: 2) }
        #expect(throws: StoreError.self) { try reader.savePlaintext(d.g.id, content: [1]) }
        #expect(try !Store(path: dir.dbPath).contains(d.a2.id))
    }

    @Test func missingFileIsNoStoreAndNotCreated() throws {
        let path = dir.url.appendingPathComponent("absent.sqlite").path
        #expect(throws: StoreError.noStore(path: path)) { try Store(readOnlyPath: path) }
        #expect(access(path, F_OK) != 0)
    }

    @Test func olderSchemaIsRefused() throws {
        let writer = try Store(path: dir.dbPath)
        // As if written by a binary that did not know the latest migration yet.
        try writer.executeRaw("DELETE FROM grdb_migrations WHERE identifier = '\(StoreSchema.migrator.migrations.last!)'")
        #expect(throws: StoreError.schemaMismatch(path: dir.dbPath, newer: false)) { try Store(readOnlyPath: dir.dbPath) }
    }

    @Test func newerSchemaIsRefused() throws {
        let writer = try Store(path: dir.dbPath)
        try writer.executeRaw("INSERT INTO grdb_migrations (identifier) VALUES ('v999-future')")
        #expect(throws: StoreError.schemaMismatch(path: dir.dbPath, newer: true)) { try Store(readOnlyPath: dir.dbPath) }
    }
}
