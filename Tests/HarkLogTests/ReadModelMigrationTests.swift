import Foundation
import HarkCrypto
import HarkLog
import HarkProto
@testable import HarkStore
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
        let r = try ReadModelPropertyTests.StoreReplica(store: store)
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
        let r = try ReadModelPropertyTests.StoreReplica(store: store)
        for e in s.valid { r.held[e.id] = e; r.received[e.id] = 5 }
        try ReadModelPropertyTests.check(r, group: s.genesis.id, seed: 7, step: 0)
    }
}
