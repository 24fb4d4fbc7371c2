import Foundation
import HarkEventProto
import HarkTesting
import HarkCrypto
import HarkLog
@testable import HarkStore
import PropertyBased
import Testing

/// The store's read model (docs/HISTORY.md) against its specification, the `GroupState` fold
/// and `Receipts.states`, over random histories (`Scenario`: messages, edits, deletes,
/// reactions with removes, inert events, a fork and its proof, READ markers, joins arriving
/// late) delivered in random causal orders, in random batches, to replicas that are real
/// SQLite files.
@Suite struct ReadModelPropertyTests {
    /// One replica's store and what it was given.
    final class StoreReplica {
        let store: Store
        var held: [EventID: Event] = [:]
        var received: [EventID: Int64] = [:]
        var reported: [SigningPublicKey: [EventID]] = [:]
        init(path: String, genesis: Event) throws {
            store = try Store(path: path)
            try store.saveGroup(Store.GroupRecord(id: genesis.id, name: "lab", key: Fixture.groupKey, createdMs: 0, joinedMs: 0))
        }
        init(store: Store) { self.store = store }
    }

    /// Compares every table of the read model with the fold of what `r` holds.
    static func check(_ r: StoreReplica, group: EventID, seed: UInt64, step: Int) throws {
        let events = Array(r.held.values)
        let inputs = events.map { e in
            GroupState.Input(event: e, content: try? BodyCipher.open(e, groupKey: Fixture.groupKey), receivedMs: r.received[e.id])
        }
        let members = GroupState.members(in: events)
        let state = GroupState(events: inputs, members: members)
        let rows = try r.store.messages(group: group, limit: Int.max, includeDeleted: true)
        let at = "seed \(seed) step \(step)"
        try #require(rows.map(\.id) == state.messages.map(\.id), "\(at): messages in total order")
        for (row, m) in zip(rows, state.messages) {
            #expect(row.text == m.text, "\(at): text of \(m.id.shortHex)")
            #expect(row.originalText == m.originalText, "\(at): original text of \(m.id.shortHex)")
            #expect(row.lastEdit == m.lastEdit, "\(at): last edit of \(m.id.shortHex)")
            #expect(row.deleted == m.deleted, "\(at): deleted \(m.id.shortHex)")
            #expect(row.reactions == m.reactions, "\(at): reactions on \(m.id.shortHex)")
            #expect(row.author == m.author && row.order == m.order && row.wallMs == m.wallMs, "\(at): header of \(m.id.shortHex)")
            #expect(row.implausibleTime == state.implausibleTime.contains(m.id), "\(at): time flag of \(m.id.shortHex)")
            #expect(row.replyTo == m.replyTo, "\(at): reply of \(m.id.shortHex)")
            #expect(row.mentions == m.mentions, "\(at): mentions of \(m.id.shortHex)")
        }
        // The search index holds exactly the shown texts of the visible messages.
        var shown: [EventID: String] = [:]
        for m in state.messages where !m.deleted { if let t = m.text, !t.isEmpty { shown[m.id] = t } }
        #expect(try r.store.searchIndexEntries(group: group) == shown, "\(at): search index")
        #expect(try r.store.equivocators(group: group) == state.equivocators, "\(at): equivocators")
        #expect(try r.store.settledWatermark(group: group, members: members) == state.settledWatermark, "\(at): watermark")
        #expect(try Set(r.store.joinedAuthors(group: group)) == members, "\(at): joined authors")
        #expect(try r.store.historyCounts(group: group) == Store.HistoryCounts(events: events.count, messages: rows.count))

        // Receipts: equal to the graph walk for every author that did not fork.
        var graph = CausalGraph()
        for e in events.sorted(by: EventOrder.precedes) { try graph.insert(e) }
        let frontiers = try r.store.receiptFrontiers(group: group, members: members)
        for row in rows where !state.equivocators.contains(row.author) {
            let expected = Receipts.states(of: row.id, in: graph, members: members, reportedHeads: r.reported)
            #expect(frontiers.states(of: row) == expected, "\(at): receipts of \(row.id.shortHex)")
        }
        // Unread counts: messages of others, not deleted, not below any READ of the reader.
        for reader in members where !state.equivocators.contains(reader) {
            let reads = events.filter { $0.author == reader && $0.kind == .read }.map(\.id)
            let covered = graph.ancestorsOrSelf(of: reads)
            let expected = state.messages.filter { $0.author != reader && !$0.deleted && !covered.contains($0.id) }.count
            if state.equivocators.isEmpty {
                #expect(try r.store.unreadCount(group: group, reader: reader) == expected, "\(at): unread of a reader")
            }
        }
    }

    @Test func readModelEqualsTheFoldAfterEveryDelivery() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-rm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        await propertyCheck(count: 12, input: Gen.int(in: 0...Int.max), Gen.int(in: 10...36)) { seedInt, steps in
            let seed = UInt64(seedInt)
            let s = try Scenario(seed: seed, steps: steps, reads: true)
            var rng = SeededRNG(seed: seed ^ 0x7E57_0F_5EED)
            var finals: [[Store.HistoryMessage]] = []
            for n in 0..<3 {
                let r = try StoreReplica(path: dir.appendingPathComponent("\(seed)-\(n).sqlite").path, genesis: s.genesis)
                var waiting = s.valid.shuffled(using: &rng)
                var step = 0
                while !waiting.isEmpty, step < 10_000 {
                    step += 1
                    // A random batch of 1 to 3 events whose parents are held or earlier in it.
                    var batch: [Event] = []
                    var ready = Set(r.held.keys)
                    for _ in 0..<Int.random(in: 1...3, using: &rng) {
                        guard let i = waiting.firstIndex(where: { $0.allParents.allSatisfy(ready.contains) }) else { break }
                        let e = waiting.remove(at: i)
                        batch.append(e)
                        ready.insert(e.id)
                    }
                    let receivedMs: Int64 = Bool.random(using: &rng) ? 0 : -1_000_000   // some arrive "from the future"
                    try r.store.insert(batch: batch, receivedMs: receivedMs)
                    for e in batch {
                        r.held[e.id] = e
                        r.received[e.id] = receivedMs
                    }
                    if Int.random(in: 0..<4, using: &rng) == 0 {   // a member reports heads, some not held here
                        let peer = Scenario.keys.randomElement(using: &rng)!.publicKey
                        let heads = (0..<Int.random(in: 0...3, using: &rng)).map { _ in s.valid.randomElement(using: &rng)!.id }
                        try r.store.saveReportedHeads(peer: peer, group: s.genesis.id, heads: heads, atMs: 0)
                        r.reported[peer] = heads
                    }
                    try Self.check(r, group: s.genesis.id, seed: seed, step: step)
                }
                finals.append(try r.store.messages(group: s.genesis.id, limit: Int.max, includeDeleted: true))
            }
            for f in finals.dropFirst() {
                #expect(f.map(\.id) == finals[0].map(\.id) && f.map(\.text) == finals[0].map(\.text)
                        && f.map(\.reactions) == finals[0].map(\.reactions) && f.map(\.deleted) == finals[0].map(\.deleted),
                        "seed \(seed): replicas agree")
            }
        }
    }
}
