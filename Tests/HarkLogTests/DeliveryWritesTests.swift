import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing
@testable import HarkStore

/// `Store.insert(batch:receivedMs:with:)`: a delivery's events, their sender-key plaintexts and
/// the chains that opened them in one transaction leave the same read model as storing the
/// events and then the plaintexts (two transactions, as before), and a failed insert writes none
/// of it.
@Suite struct DeliveryWritesTests {
    let alice = Fixture.alice, bob = Fixture.bob

    /// A group with roles: alice adds bob; bob writes a message mentioning alice, edits it, writes
    /// a second one and deletes it, and a third one; alice reacts to the first. MESSAGE and EDIT
    /// contents reach the read model only through plaintexts (sender keys).
    struct History {
        let world: RolesWorld
        let events: [Event]
        let plaintexts: [EventID: [UInt8]]
        let first: Event, deletedMessage: Event, edit: Event
    }

    func history() throws -> History {
        let w = try RolesWorld()
        var events: [Event] = [w.genesis]
        var plain: [EventID: [UInt8]] = [:]
        events.append(try w.write(.member, w.member(.add, bob), by: alice))
        events.append(try w.write(.join, Fixture.join("bob"), by: bob))
        func sealed(_ kind: Hark_V1_EventKind, _ c: Hark_V1_Content, by key: SigningKeyPair) throws -> Event {
            let e = try w.write(kind, c, by: key)
            plain[e.id] = try c.serializedBytes()
            events.append(e)
            return e
        }
        let first = try sealed(.message, Fixture.text("hi @alice", replyTo: Data(), mentions: [Data(alice.publicKey.bytes)]), by: bob)
        let edit = try sealed(.edit, Fixture.edit(first, "hi again @alice"), by: bob)
        let second = try sealed(.message, Fixture.text("oops"), by: bob)
        events.append(try w.write(.delete, Fixture.delete(second), by: bob))
        _ = try sealed(.message, Fixture.text("third"), by: bob)
        events.append(try w.write(.reaction, Fixture.reaction(first, "👍"), by: alice))
        return History(world: w, events: events, plaintexts: plain, first: first, deletedMessage: second, edit: edit)
    }

    /// A fresh directory for the test's store files; removed by `defer` in each test.
    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-dw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func store(_ dir: URL, _ name: String, genesis: Event) throws -> Store {
        let s = try Store(path: dir.appendingPathComponent("\(name).sqlite").path)
        try s.saveGroup(Store.GroupRecord(id: genesis.id, name: "roles", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
        return s
    }

    @Test func oneTransactionEqualsEventsThenPlaintexts() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = try history()
        let group = h.world.genesis.id
        let together = try store(dir, "together", genesis: h.world.genesis)
        let apart = try store(dir, "apart", genesis: h.world.genesis)
        var writes = Store.DeliveryWrites()
        writes.plaintexts = h.plaintexts
        #expect(try together.insert(batch: h.events, receivedMs: 5, with: writes).allSatisfy { $0 })
        try apart.insert(batch: h.events, receivedMs: 5)
        try apart.savePlaintexts(h.plaintexts.map { (id: $0.key, content: $0.value) })

        let rows = try together.messages(group: group, limit: Int.max, includeDeleted: true)
        #expect(rows == (try apart.messages(group: group, limit: Int.max, includeDeleted: true)))
        #expect(rows.count == 3)
        #expect(rows.first?.text == "hi again @alice" && rows.first?.lastEdit == h.edit.id)
        #expect(rows.first?.mentions == [alice.publicKey])
        #expect(rows.first?.reactions.map(\.emoji) == ["👍"])
        #expect(rows.map(\.deleted) == [false, true, false])
        #expect(try together.searchIndexEntries(group: group) == (try apart.searchIndexEntries(group: group)))
        #expect(try together.unreadCount(group: group, reader: alice.publicKey) == (try apart.unreadCount(group: group, reader: alice.publicKey)))
        // A deleted message keeps no plaintext, whether the delete came in the same batch or before the plaintext.
        #expect(try together.plaintext(h.deletedMessage.id) == nil)
        #expect(try apart.plaintext(h.deletedMessage.id) == nil)
        #expect(try together.plaintext(h.first.id) == h.plaintexts[h.first.id])
    }

    @Test func plaintextsOfEventsHeldBeforeAreShown() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = try history()
        let s = try store(dir, "held", genesis: h.world.genesis)
        try s.insert(batch: h.events, receivedMs: 5)
        #expect(try s.messages(group: h.world.genesis.id, limit: 1).first?.text == nil)
        var writes = Store.DeliveryWrites()
        writes.plaintexts = h.plaintexts
        #expect(try s.insert(batch: h.events, receivedMs: 6, with: writes).allSatisfy { !$0 })
        #expect(try s.messages(group: h.world.genesis.id, limit: 1).first?.text == "third")
    }

    @Test func chainsAndPlaintextsAreWrittenWithTheEventsOrNotAtAll() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = try history()
        let group = h.world.genesis.id
        let s = try store(dir, "atomic", genesis: h.world.genesis)
        var writes = Store.DeliveryWrites()
        writes.plaintexts = h.plaintexts
        let inChain = SenderChain(chainKey: [UInt8](repeating: 9, count: 32), nextIndex: 3)
        writes.inChains = [Store.DeliveryWrites.InChain(group: group, author: bob.publicKey, epoch: 2, chain: inChain)]
        let out = Store.OutChain(epoch: 4, chain: SenderChain(chainKey: [UInt8](repeating: 8, count: 32), nextIndex: 7), createdMs: 1,
                                 view: [1, 2], sent: 7)
        writes.outChain = (group, out)
        writes.membershipAncestry = (group, [h.events[1].id: [group]])
        // Without the genesis the batch lacks a parent: nothing of it is written.
        #expect(throws: StoreError.self) { try s.insert(batch: Array(h.events.dropFirst()), receivedMs: 5, with: writes) }
        #expect(try s.inChain(group: group, author: bob.publicKey, epoch: 2) == nil)
        #expect(try s.outChain(group: group) == nil)
        #expect(try s.plaintext(h.first.id) == nil)
        #expect(try s.membershipAncestors(group: group).isEmpty)
        try s.insert(batch: h.events, receivedMs: 5, with: writes)
        #expect(try s.inChain(group: group, author: bob.publicKey, epoch: 2) == inChain)
        #expect(try s.outChain(group: group) == out)
        #expect(try s.plaintext(h.first.id) == h.plaintexts[h.first.id])
        #expect(try s.membershipAncestors(group: group)[h.events[1].id] == [group])
    }
}
