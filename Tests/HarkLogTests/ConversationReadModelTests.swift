import Foundation
import HarkCrypto
import HarkEventProto
import HarkLog
import HarkTesting
import Testing
@testable import HarkStore

/// Replies, mentions and full-text search in the read model (docs/HISTORY.md §"Replies,
/// mentions and search"), on real SQLite files with real sealed bodies.
@Suite struct ConversationReadModelTests {
    /// A store with one group (the fixture key) and a builder that chains each author's events.
    final class Chat {
        let dir: URL
        let store: Store
        let genesis: Event
        var latest: [SigningPublicKey: Event] = [:]
        var heads: [Event] = []

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-conv-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            store = try Store(path: dir.appendingPathComponent("hark.sqlite").path)
            genesis = try Fixture.genesis()
            try store.saveGroup(Store.GroupRecord(id: genesis.id, name: "lab", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
            _ = try store.insert(genesis, receivedMs: 1)
            latest[Fixture.alice.publicKey] = genesis
            heads = [genesis]
        }
        deinit { try? FileManager.default.removeItem(at: dir) }

        @discardableResult
        func post(_ kind: Hark_V1_EventKind, _ content: Hark_V1_Content?, by key: SigningKeyPair) throws -> Event {
            let sp = latest[key.publicKey]
            let e: Event
            if let content {
                e = try Fixture.event(kind, content, by: key, group: genesis.id, selfParent: sp,
                                      parents: heads.filter { $0.author != key.publicKey })
            } else {
                e = try EventAuthor.make(kind: kind, groupID: genesis.id, author: key, seq: (sp?.seq ?? 0) + 1, selfParent: sp,
                                         parents: heads.filter { $0.author != key.publicKey }, wallMs: 2_000, body: nil)
            }
            #expect(try store.insert(e, receivedMs: 5))
            latest[key.publicKey] = e
            heads = [e]
            return e
        }

        func found(_ query: String, limit: Int = 50, before: EventID? = nil) throws -> [EventID] {
            try store.search(query, group: genesis.id, limit: limit, before: before).map(\.id)
        }
    }

    @Test func searchFindsCurrentTextOnly() throws {
        let c = try Chat()
        let m1 = try c.post(.message, Fixture.text("Deploy the widget to staging"), by: Fixture.alice)
        let m2 = try c.post(.message, Fixture.text("lunch at noon? Café du coin"), by: Fixture.bob)
        #expect(try c.found("widget") == [m1.id])
        #expect(try c.found("WIDGET deploy") == [m1.id], "words in any order, case ignored")
        #expect(try c.found("cafe") == [m2.id], "accents ignored")
        #expect(try c.found("lun*") == [m2.id], "a trailing * is a prefix")
        #expect(try c.found("widget lunch").isEmpty, "every word must appear")
        // Words that are FTS5 syntax or punctuation are plain text, never an error.
        #expect(try c.found("\"AND OR NOT ( : * -").isEmpty)
        #expect(try c.found("   ").isEmpty)

        try c.post(.edit, Fixture.edit(m1, "ship the gadget"), by: Fixture.alice)
        #expect(try c.found("widget").isEmpty, "an edit replaces the indexed text")
        #expect(try c.found("gadget") == [m1.id])
        try c.post(.delete, Fixture.delete(m1), by: Fixture.alice)
        #expect(try c.found("gadget").isEmpty, "a deleted message is not found")
        #expect(try c.store.searchIndexEntries(group: c.genesis.id) == [m2.id: "lunch at noon? Café du coin"])
    }

    @Test func searchPagesNewestFirstLikeLog() throws {
        let c = try Chat()
        var ids: [EventID] = []
        for i in 0..<30 {
            ids.append(try c.post(.message, Fixture.text("note \(i)"), by: i % 2 == 0 ? Fixture.alice : Fixture.bob).id)
            if i % 5 == 0 { try c.post(.message, Fixture.text("other"), by: Fixture.carol) }
        }
        let last = try c.found("note", limit: 10)
        #expect(last == Array(ids.suffix(10)), "the newest 10, oldest first")
        let previous = try c.found("note", limit: 10, before: last.first)
        #expect(previous == Array(ids[10..<20]))
        #expect(try c.found("note", limit: 100, before: ids[0]).isEmpty)
        // Another group's messages are not found when searching this one, and are with no group.
        let g2 = try Fixture.genesis(by: Fixture.bob, name: "other")
        try c.store.saveGroup(Store.GroupRecord(id: g2.id, name: "other", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
        _ = try c.store.insert(g2, receivedMs: 1)
        let elsewhere = try Fixture.event(.message, Fixture.text("note elsewhere"), by: Fixture.bob, group: g2.id, selfParent: g2, parents: [])
        _ = try c.store.insert(elsewhere, receivedMs: 1)
        #expect(try c.found("elsewhere").isEmpty)
        #expect(try c.store.search("elsewhere", group: nil, limit: 5).map(\.id) == [elsewhere.id])
    }

    /// Concurrent messages share a lamport: each gets its own search slot, whether they are
    /// stored in one batch or in separate transactions, and in any order.
    @Test func messagesSharingALamportAreAllSearchable() throws {
        let c = try Chat()
        let twin = { (key: SigningKeyPair, text: String) in
            try Fixture.event(.message, Fixture.text(text), by: key, group: c.genesis.id, selfParent: nil, parents: [c.genesis])
        }
        let a = try twin(Fixture.bob, "kettle one"), b = try twin(Fixture.carol, "kettle two")
        let dave = try SigningKeyPair(seed: [UInt8](repeating: 4, count: 32))
        let erin = try SigningKeyPair(seed: [UInt8](repeating: 5, count: 32))
        let d = try twin(dave, "kettle three")
        #expect(a.lamport == b.lamport && b.lamport == d.lamport)
        #expect(try c.store.insert(batch: [b, a], receivedMs: 5) == [true, true])
        #expect(try c.store.insert(d, receivedMs: 6))
        // A later lamport first, then one more at the shared lamport in its own transaction.
        c.heads = [a, b, d]
        let later = try c.post(.message, Fixture.text("kettle later"), by: Fixture.alice)
        #expect(later.lamport > a.lamport)
        let e = try twin(erin, "kettle four")
        #expect(try c.store.insert(e, receivedMs: 7))
        #expect(Set(try c.found("kettle")) == Set([a.id, b.id, d.id, e.id, later.id]))
        #expect(try c.store.searchIndexEntries(group: c.genesis.id).count == 5)
    }

    /// The history generation changes with everything validation from the store loads of a
    /// group (membership events, membership ancestry, equivocation flags, purged bodies) and with
    /// nothing else, so a node may keep what it loaded while it holds.
    @Test func historyGenerationFollowsWhatValidationLoads() throws {
        let c = try Chat()
        let g = c.genesis.id
        var last = c.store.historyGeneration(group: g)
        func changed() -> Bool {
            let now = c.store.historyGeneration(group: g)
            defer { last = now }
            return now != last
        }
        let one = try c.post(.message, Fixture.text("one"), by: Fixture.bob)
        let two = try c.post(.message, Fixture.text("two"), by: Fixture.alice)
        #expect(!changed(), "messages leave it")
        // A second event at bob's first seq: bob equivocated.
        let twin = try Fixture.event(.message, Fixture.text("uno"), by: Fixture.bob, group: g, selfParent: nil, parents: [c.genesis])
        #expect(twin.seq == one.seq && twin.id != one.id)
        #expect(try c.store.insert(twin, receivedMs: 6))
        #expect(changed(), "an equivocation changes it")
        try c.post(.delete, Fixture.delete(two), by: Fixture.alice)
        #expect(changed(), "a purged body changes it")
        try c.store.saveMembershipAncestors([one.id: []], group: g)
        #expect(changed(), "recorded membership ancestry changes it")
        // A GENESIS (a membership event) of another group changes that group's, not this one's.
        let other = try Fixture.genesis(by: Fixture.bob, name: "other")
        let before = c.store.historyGeneration(group: other.id)
        try c.store.saveGroup(Store.GroupRecord(id: other.id, name: "other", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
        #expect(try c.store.insert(other, receivedMs: 7))
        #expect(c.store.historyGeneration(group: other.id) != before)
        #expect(!changed())
    }

    @Test func repliesAndMentionsAreKeptAndCounted() throws {
        let c = try Chat()
        let question = try c.post(.message, Fixture.text("who deploys?"), by: Fixture.alice)
        let alice = Data(Fixture.alice.publicKey.bytes)
        let answer = try c.post(.message, Fixture.text("@alice I do", replyTo: Data(question.id.bytes), mentions: [alice, alice]), by: Fixture.bob)
        let second = try c.post(.message, Fixture.text("ping @alice", replyTo: Data(), mentions: [alice]), by: Fixture.carol)
        let row = try #require(try c.store.historyMessage(answer.id))
        #expect(row.replyTo == question.id)
        #expect(row.mentions == [Fixture.alice.publicKey], "one key once")
        #expect(try c.store.historyMessage(second.id)?.replyTo == nil)
        #expect(try c.store.unreadMentionCount(group: c.genesis.id, member: Fixture.alice.publicKey) == 2)
        #expect(try c.store.unreadMentionCount(group: c.genesis.id, member: Fixture.bob.publicKey) == 0)
        // A deleted mention no longer counts, nor keeps its fields.
        try c.post(.delete, Fixture.delete(second), by: Fixture.carol)
        #expect(try c.store.unreadMentionCount(group: c.genesis.id, member: Fixture.alice.publicKey) == 1)
        #expect(try c.store.historyMessage(second.id, )?.mentions == [])
        // Alice's READ marker covers the rest.
        try c.post(.read, nil, by: Fixture.alice)
        #expect(try c.store.unreadMentionCount(group: c.genesis.id, member: Fixture.alice.publicKey) == 0)
        // Her own mention of herself never counts.
        try c.post(.message, Fixture.text("note to @alice", replyTo: Data(), mentions: [alice]), by: Fixture.alice)
        #expect(try c.store.unreadMentionCount(group: c.genesis.id, member: Fixture.alice.publicKey) == 0)
    }

    /// A store whose read model was built before search existed gets the index from its rows.
    @Test func migrationIndexesExistingMessages() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-conv-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("hark.sqlite").path
        let s = try Scenario(seed: 11, steps: 80)
        do {
            let store = try Store(path: path)
            try store.saveGroup(Store.GroupRecord(id: s.genesis.id, name: "lab", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
            _ = try store.insert(batch: s.valid, receivedMs: 5)
        }
        try Store.dropConversationSchemaForTesting(path: path)
        let store = try Store(path: path)
        var shown: [EventID: String] = [:]
        for m in try store.messages(group: s.genesis.id, limit: 10_000) { if let t = m.text, !t.isEmpty { shown[m.id] = t } }
        #expect(!shown.isEmpty)
        #expect(try store.searchIndexEntries(group: s.genesis.id) == shown)
        let newest = try #require(shown.keys.compactMap { try? store.historyMessage($0) }.max { $0.order < $1.order })
        #expect(try store.search(newest.text!, group: s.genesis.id, limit: 100).map(\.id).contains(newest.id))
    }
}

/// File offers between two positions of a group's order (what `log` merges into a page).
@Suite struct FileOfferQueryTests {
    @Test func offersInARange() throws {
        let c = try ConversationReadModelTests.Chat()
        var offer = Hark_V1_Content()
        offer.fileOffer.manifestID = Data(repeating: 3, count: 32)
        offer.fileOffer.manifestLength = 100
        offer.fileOffer.totalSize = 5
        offer.fileOffer.entryCount = 1
        offer.fileOffer.names = ["a.txt"]
        let m1 = try c.post(.message, Fixture.text("before"), by: Fixture.alice)
        let f = try c.post(.fileOffer, offer, by: Fixture.bob)
        let m2 = try c.post(.message, Fixture.text("after"), by: Fixture.alice)
        #expect(try c.store.fileOfferEvents(group: c.genesis.id, after: nil, before: nil).map(\.id) == [f.id])
        #expect(try c.store.fileOfferEvents(group: c.genesis.id, after: m1.order, before: m2.order).map(\.id) == [f.id])
        #expect(try c.store.fileOfferEvents(group: c.genesis.id, after: m2.order, before: nil).isEmpty)
        #expect(try c.store.fileOfferEvents(group: c.genesis.id, after: nil, before: m1.order).isEmpty)
        #expect(try c.store.fileOfferEvents(group: c.genesis.id, after: nil, before: nil, limit: 0).isEmpty)
    }
}
