import Foundation
import HarkCrypto
import HarkLog
@testable import HarkStore
import HarkTesting
import Testing

@Suite struct StoreFileTests {
    @Test func everythingSurvivesReopening() throws {
        let dir = try TempDir()
        let d = try Build.diamond()
        let group = Store.GroupRecord(id: d.g.id, name: "lab", key: [UInt8](repeating: 7, count: 32), createdMs: 1, joinedMs: 2)
        do {
            let store = try Store(path: dir.dbPath)
            for e in [d.g, d.a2, d.b1] { try store.insert(e, receivedMs: 9) }
            try store.saveGroup(group)
            try store.upsertPeer(key: Keys.bob.publicKey, displayName: "bob", address: "10.0.0.2:7000", seenMs: 50)
        }
        let store = try Store(path: dir.dbPath)
        #expect(try store.events(group: d.g.id, limit: nil, afterLamport: nil) == [d.g, d.a2, d.b1].sorted(by: EventOrder.precedes))
        #expect(try store.heads(group: d.g.id) == [d.a2.id, d.b1.id].sorted())
        #expect(try store.group(id: d.g.id) == group)
        #expect(try store.peers().map(\.displayName) == ["bob"])
        // And it keeps working: the diamond closes.
        #expect(try store.insert(d.d, receivedMs: 10))
        #expect(try store.heads(group: d.g.id) == [d.d.id])
    }

    @Test func journalModeIsWAL() throws {
        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        #expect(try store.journalMode() == "wal")
    }

    @Test func fileModeIs0600() throws {
        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        try store.insert(try Build.genesis(), receivedMs: 0)
        for path in [dir.dbPath, dir.dbPath + "-wal"] where FileManager.default.fileExists(atPath: path) {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(path)")
        }
        // An existing file with loose permissions is tightened.
        let loose = dir.url.appendingPathComponent("loose.sqlite").path
        #expect(FileManager.default.createFile(atPath: loose, contents: nil, attributes: [.posixPermissions: 0o644]))
        _ = try Store(path: loose)
        #expect(try FileManager.default.attributesOfItem(atPath: loose)[.posixPermissions] as? Int == 0o600)
    }

    @Test func unopenablePathIsADatabaseError() {
        #expect {
            _ = try Store(path: "/nonexistent-dir-\(UUID().uuidString)/hark.sqlite")
        } throws: { error in
            guard let e = error as? StoreError, case .database = e else { return false }
            return true
        }
    }

    @Test func corruptedRowsSurfaceAsCorrupt() throws {
        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        let d = try Build.diamond()
        for e in [d.g, d.a2, d.b1] { try store.insert(e, receivedMs: 0) }
        func isCorrupt(_ body: () throws -> Void) -> Bool {
            do { try body(); return false } catch let e as StoreError {
                if case .corrupt = e { return true }
                return false
            } catch { return false }
        }
        // Garbage bytes.
        try store.executeRaw("UPDATE event SET signed = ? WHERE id = ?", blobs: [[0xde, 0xad, 0xbe, 0xef], d.a2.id.bytes])
        #expect(isCorrupt { _ = try store.event(d.a2.id) })
        #expect(isCorrupt { _ = try store.events(group: d.g.id, limit: nil, afterLamport: nil) })
        #expect(isCorrupt { _ = try store.events([d.a2.id]) })
        #expect(try store.event(d.b1.id) == d.b1)   // other rows unaffected
        // A valid event stored under the wrong ID.
        try store.executeRaw("UPDATE event SET signed = ? WHERE id = ?", blobs: [d.g.serializedBytes(), d.b1.id.bytes])
        #expect(isCorrupt { _ = try store.event(d.b1.id) })
        // Wrong SQLite types.
        try store.executeRaw("UPDATE event SET signed = 'text, not a blob' WHERE id = ?", blobs: [d.g.id.bytes])
        #expect(isCorrupt { _ = try store.event(d.g.id) })
        // (head rows cannot be damaged this way: foreign keys to event(id) refuse it.)
        #expect(throws: StoreError.self) { try store.executeRaw("UPDATE head SET event_id = x'0102' WHERE event_id = ?", blobs: [d.b1.id.bytes]) }
        try store.executeRaw("INSERT INTO peer (peer_key, display_name, last_address, last_seen_ms, first_seen_ms) VALUES (x'00', 'x', NULL, 1, 1)")
        #expect(isCorrupt { _ = try store.peers() })
        try store.executeRaw("INSERT INTO grp VALUES (?, 'g', x'00', 'not a number', 1)", blobs: [d.g.id.bytes])
        #expect(isCorrupt { _ = try store.allGroups() })
    }
}
