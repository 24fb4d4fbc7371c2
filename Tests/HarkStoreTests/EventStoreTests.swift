import Foundation
import GRDB
import HarkCrypto
import HarkEventProto
import HarkLog
@testable import HarkStore
import HarkTesting
import Testing

@Suite struct EventStoreTests {
    let dir: TempDir
    let store: Store
    init() throws {
        dir = try TempDir()
        store = try Store(path: dir.dbPath)
    }

    @Test func insertAndReadBack() throws {
        let d = try Build.diamond()
        #expect(try store.insert(d.g, receivedMs: 5))
        #expect(try store.contains(d.g.id))
        let back = try #require(try store.event(d.g.id))
        #expect(back == d.g)
        #expect(back.headerBytes == d.g.headerBytes && back.signature == d.g.signature && back.body == d.g.body)
        #expect(try store.event(d.a2.id) == nil)
        #expect(try !store.contains(d.a2.id))
        #expect(try store.eventCount(group: d.g.id) == 1)
    }

    @Test func unknownListsWhatIsNotStored() throws {
        let d = try Build.diamond()
        try store.insert(d.g, receivedMs: 0)
        try store.insert(d.b1, receivedMs: 0)
        #expect(try store.unknown([d.d.id, d.g.id, d.a2.id, d.d.id, d.b1.id]) == [d.d.id, d.a2.id])
        #expect(try store.unknown([]) == [])
        let many = (0..<1200).map { i in try! EventID(bytes: [UInt8(i % 256), UInt8(i / 256)] + [UInt8](repeating: 5, count: 30)) }
        #expect(try store.unknown(many + [d.g.id]) == many)   // more IDs than one SQL statement binds
    }

    @Test func duplicateInsertIsANoOp() throws {
        let d = try Build.diamond()
        #expect(try store.insert(d.g, receivedMs: 1))
        #expect(try store.insert(d.a2, receivedMs: 2))
        #expect(try store.insert(d.a2, receivedMs: 3) == false)
        #expect(try store.insert(d.g, receivedMs: 4) == false)
        #expect(try store.eventCount(group: d.g.id) == 2)
        #expect(try store.heads(group: d.g.id) == [d.a2.id])
    }

    @Test func missingParentThrowsAndStoresNothing() throws {
        let d = try Build.diamond()
        try store.insert(d.g, receivedMs: 1)
        #expect(throws: StoreError.missingParents([d.a2.id, d.b1.id].sorted())) { try store.insert(d.d, receivedMs: 2) }
        try store.insert(d.a2, receivedMs: 3)
        #expect(throws: StoreError.missingParents([d.b1.id])) { try store.insert(d.d, receivedMs: 4) }
        #expect(try !store.contains(d.d.id))
        #expect(try store.eventCount(group: d.g.id) == 2)
        #expect(try store.heads(group: d.g.id) == [d.a2.id])
    }

    @Test func headsFollowADiamond() throws {
        let d = try Build.diamond()
        try store.insert(d.g, receivedMs: 1)
        #expect(try store.heads(group: d.g.id) == [d.g.id])
        try store.insert(d.a2, receivedMs: 2)
        #expect(try store.heads(group: d.g.id) == [d.a2.id])
        try store.insert(d.b1, receivedMs: 3)
        #expect(try store.heads(group: d.g.id) == [d.a2.id, d.b1.id].sorted())
        try store.insert(d.d, receivedMs: 4)
        #expect(try store.heads(group: d.g.id) == [d.d.id])
        #expect(try store.heads(group: d.d.id) == [])   // not a group
    }

    @Test func eventsComeInTotalOrder() throws {
        let d = try Build.diamond()
        for e in [d.g, d.b1, d.a2, d.d] { try store.insert(e, receivedMs: 0) }
        let expected = [d.g, d.a2, d.b1, d.d].sorted(by: EventOrder.precedes)
        #expect(expected.first == d.g && expected.last == d.d)
        #expect(try store.events(group: d.g.id, limit: nil, afterLamport: nil) == expected)
        #expect(try store.events(group: d.g.id, limit: 2, afterLamport: nil) == Array(expected.prefix(2)))
        #expect(try store.events(group: d.g.id, limit: nil, afterLamport: 1) == Array(expected.dropFirst()))
        #expect(try store.events(group: d.g.id, limit: 1, afterLamport: 2) == [d.d])
        #expect(try store.events(group: d.g.id, limit: 0, afterLamport: nil) == [])
        let unknown = try EventID(bytes: [UInt8](repeating: 0xee, count: 32))
        #expect(try store.events([d.d.id, unknown, d.g.id, d.b1.id, d.a2.id, d.g.id]) == expected)
        #expect(try store.eventCount(group: d.g.id) == 4)
    }

    @Test func latestIsTheHighestSeqOfThatAuthorInThatGroup() throws {
        let d = try Build.diamond()
        for e in [d.g, d.a2, d.b1, d.d] { try store.insert(e, receivedMs: 0) }
        let a3 = try Build.message(Keys.alice, group: d.g, after: d.a2, parents: [d.d])
        try store.insert(a3, receivedMs: 0)
        #expect(try store.latest(author: Keys.alice.publicKey, group: d.g.id) == a3)
        #expect(try store.latest(author: Keys.bob.publicKey, group: d.g.id) == d.b1)
        let other = try Build.genesis(Keys.bob)
        try store.insert(other, receivedMs: 0)
        #expect(try store.latest(author: Keys.alice.publicKey, group: other.id) == nil)
        #expect(try store.latest(author: Keys.bob.publicKey, group: other.id) == other)
        #expect(try store.eventCount(group: other.id) == 1)
        #expect(try store.heads(group: other.id) == [other.id])
    }

    @Test func concurrentWritersAndReadersAgree() async throws {
        let g = try Build.genesis()
        try store.insert(g, receivedMs: 0)
        let keys = (0..<4).map { try! SigningKeyPair(seed: [UInt8](repeating: UInt8(40 + $0), count: 32)) }
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for key in keys {
                tasks.addTask {
                    var last: Event? = nil
                    for _ in 0..<10 {
                        let e = try Build.message(key, group: g, after: last, parents: last == nil ? [g] : [])
                        #expect(try store.insert(e, receivedMs: 0))
                        _ = try store.heads(group: g.id)
                        last = e
                    }
                }
            }
            try await tasks.waitForAll()
        }
        #expect(try store.eventCount(group: g.id) == 41)
        let heads = try store.heads(group: g.id)
        #expect(heads.count == 4)
        #expect(Set(heads) == Set(try keys.map { try #require(try store.latest(author: $0.publicKey, group: g.id)).id }))
    }

    /// `fileOffers(group:)` returns exactly the group's FILE_OFFER events in total order, and
    /// reads them through the partial index, not by scanning the group's events.
    @Test func fileOffersComeFromTheirIndex() throws {
        let g = try Build.genesis()
        try store.insert(g, receivedMs: 0)
        var previous = g
        var offers: [Event] = []
        for i in 0..<30 {
            let kind: Hark_V1_EventKind = i % 7 == 3 ? .fileOffer : .message
            let e = try EventAuthor.make(kind: kind, groupID: g.id, author: Keys.alice, seq: previous.seq + 1,
                                         selfParent: previous, parents: [], wallMs: 2_000, body: SecureRandom.bytes(48))
            try store.insert(e, receivedMs: 0)
            if kind == .fileOffer { offers.append(e) }
            previous = e
        }
        let other = try Build.genesis(Keys.bob)
        try store.insert(other, receivedMs: 0)
        #expect(offers.count == 4)
        #expect(try store.fileOffers(group: g.id) == offers)
        #expect(try store.fileOffers(group: other.id).isEmpty)
        let plan = try store.read("plan") { db in
            try Row.fetchAll(db, sql: """
                EXPLAIN QUERY PLAN SELECT id, signed FROM event WHERE group_id = ? AND \(Store.fileOfferKindSQL) ORDER BY lamport, id
                """, arguments: [g.id.data]).map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("event_file_offer"), "plan: \(plan)")
    }
}
