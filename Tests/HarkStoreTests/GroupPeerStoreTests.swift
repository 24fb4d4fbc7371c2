import Foundation
import HarkCrypto
import HarkLog
@testable import HarkStore
import HarkTesting
import Testing

@Suite struct GroupPeerStoreTests {
    let dir: TempDir
    let store: Store
    init() throws {
        dir = try TempDir()
        store = try Store(path: dir.dbPath)
    }

    func id(_ b: UInt8) -> EventID { try! EventID(bytes: [UInt8](repeating: b, count: 32)) }

    @Test func groupsSaveLookUpAndReplace() throws {
        let a = Store.GroupRecord(id: id(2), name: "lab", key: [UInt8](repeating: 1, count: 32), createdMs: 10, joinedMs: 20)
        let b = Store.GroupRecord(id: id(1), name: "lab", key: [UInt8](repeating: 2, count: 32), createdMs: 11, joinedMs: 21)
        let c = Store.GroupRecord(id: id(3), name: "attic", key: [UInt8](repeating: 3, count: 32), createdMs: 12, joinedMs: 22)
        for g in [a, b, c] { try store.saveGroup(g) }
        #expect(try store.group(id: id(2)) == a)
        #expect(try store.group(id: id(9)) == nil)
        #expect(try store.groups(named: "lab") == [b, a])     // same name allowed, by ID
        #expect(try store.groups(named: "none") == [])
        #expect(try store.allGroups() == [c, b, a])           // by name, then ID
        var renamed = a
        renamed.name = "zoo"
        renamed.joinedMs = 99
        try store.saveGroup(renamed)
        #expect(try store.group(id: id(2)) == renamed)
        #expect(try store.allGroups().count == 3)
    }

    @Test func peersUpsertKeepsFirstSeenAndLatestSighting() throws {
        try store.upsertPeer(key: Keys.bob.publicKey, displayName: "bob", address: "10.0.0.2:7000", seenMs: 100)
        try store.upsertPeer(key: Keys.alice.publicKey, displayName: "alice", address: nil, seenMs: 50)
        try store.upsertPeer(key: Keys.bob.publicKey, displayName: "bobby", address: nil, seenMs: 200)
        try store.upsertPeer(key: Keys.bob.publicKey, displayName: "bobby", address: "10.0.0.3:7000", seenMs: 150)
        let peers = try store.peers()
        #expect(peers.map(\.key) == [Keys.alice.publicKey, Keys.bob.publicKey].sorted())
        let bob = try #require(peers.first { $0.key == Keys.bob.publicKey })
        #expect(bob == Store.PeerRecord(key: Keys.bob.publicKey, displayName: "bobby", lastAddress: "10.0.0.3:7000",
                                        lastSeenMs: 200, firstSeenMs: 100))
        let alice = try #require(peers.first { $0.key == Keys.alice.publicKey })
        #expect(alice.lastAddress == nil && alice.firstSeenMs == 50 && alice.lastSeenMs == 50)
    }
}
