import Foundation
import HarkCrypto
import HarkLog
@testable import HarkStore
import HarkTesting
import Testing

/// Random DAGs inserted in random causal orders: the stored heads must be exactly the events
/// without children, and reads must return the whole graph in total order.
@Suite struct RandomGraphStoreTests {
    /// A random DAG by three authors after a genesis: each event names its author's previous
    /// event and 0–3 random earlier events as parents. Returns the keys, the genesis, every event
    /// (genesis first) and each author's latest event (index into `keys`).
    static func randomGraph(events count: ClosedRange<Int>, rng: inout some RandomNumberGenerator) throws
        -> (keys: [SigningKeyPair], genesis: Event, events: [Event], latest: [Int: Event]) {
        let keys = [Keys.alice, Keys.bob, Keys.carol]
        let g = try Build.genesis()
        var events = [g]
        var latest: [Int: Event] = [0: g]
        for _ in 0..<Int.random(in: count, using: &rng) {
            let a = Int.random(in: 0..<3, using: &rng)
            var parents = (0..<Int.random(in: 0...3, using: &rng)).map { _ in events.randomElement(using: &rng)! }
            if latest[a] == nil && parents.isEmpty { parents = [g] }
            let e = try Build.message(keys[a], group: g, after: latest[a], parents: parents)
            events.append(e)
            latest[a] = e
        }
        return (keys, g, events, latest)
    }

    @Test(arguments: 0..<8)
    func headsAndOrderMatchTheGraph(round: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let (keys, g, events, latest) = try Self.randomGraph(events: 5...40, rng: &rng)

        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        // A random topological order: repeatedly insert some event whose parents are stored.
        var pending = events.shuffled(using: &rng)
        var stored: Set<EventID> = []
        while !pending.isEmpty {
            let i = pending.firstIndex { $0.allParents.allSatisfy(stored.contains) }!
            if let early = pending.first(where: { !$0.allParents.allSatisfy(stored.contains) }) {
                let missing = early.allParents.filter { !stored.contains($0) }
                #expect(throws: StoreError.missingParents(missing)) { try store.insert(early, receivedMs: 0) }
                #expect(try !store.contains(early.id))
                #expect(try store.graphRow(early.id, group: g.id) == nil, "a refused insert leaves no cached graph row")
            }
            let e = pending.remove(at: i)
            #expect(try store.insert(e, receivedMs: 0))
            stored.insert(e.id)
        }

        // Graph rows kept in memory as events were stored are the rows a fresh store reads.
        let fresh = try Store(path: dir.dbPath)
        let otherGroup = try EventID(bytes: [UInt8](repeating: 7, count: 32))
        for e in events {
            let row = try store.graphRow(e.id, group: g.id)
            let read = try fresh.graphRow(e.id, group: g.id)
            #expect(row != nil && row == read)
            #expect(try store.graphRow(e.id, group: otherGroup) == nil, "another group's row is not served")
        }

        let withChildren = Set(events.flatMap(\.allParents))
        let expectedHeads = events.map(\.id).filter { !withChildren.contains($0) }.sorted()
        #expect(try store.heads(group: g.id) == expectedHeads)
        #expect(try store.events(group: g.id, limit: nil, afterLamport: nil) == events.sorted(by: EventOrder.precedes))
        #expect(try store.eventCount(group: g.id) == events.count)
        for e in events.shuffled(using: &rng).prefix(5) { #expect(try store.insert(e, receivedMs: 1) == false) }
        #expect(try store.heads(group: g.id) == expectedHeads)
        for (a, key) in keys.enumerated() {
            #expect(try store.latest(author: key.publicKey, group: g.id) == latest[a])
        }
    }

    /// The same in random batches (`insert(batch:)` updates heads once per batch): after every
    /// batch, the heads are exactly the stored events without a stored child; an event repeated
    /// inside a batch or stored before is reported as held.
    @Test(arguments: 0..<8)
    func batchedHeadsMatchTheGraph(round: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let (_, g, events, _) = try Self.randomGraph(events: 5...60, rng: &rng)
        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        var pending = events.shuffled(using: &rng)
        var stored: Set<EventID> = []
        while !pending.isEmpty {
            // A causal batch: repeatedly take some event whose parents are stored or in the batch.
            var batch: [Event] = []
            var inBatch = stored
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                guard let i = pending.firstIndex(where: { $0.allParents.allSatisfy(inBatch.contains) }) else { break }
                let e = pending.remove(at: i)
                batch.append(e)
                inBatch.insert(e.id)
            }
            let repeated = batch.randomElement(using: &rng)!
            let old = stored.randomElement(using: &rng)
            let sent = batch + [repeated] + (old.flatMap { id in events.first { $0.id == id } }.map { [$0] } ?? [])
            let result = try store.insert(batch: sent, receivedMs: 0)
            #expect(result == batch.map { _ in true } + [false] + (old == nil ? [] : [false]))
            stored.formUnion(batch.map(\.id))
            let held = events.filter { stored.contains($0.id) }
            let withChildren = Set(held.flatMap(\.allParents))
            #expect(try store.heads(group: g.id) == held.map(\.id).filter { !withChildren.contains($0) }.sorted())
        }
        #expect(try store.events(group: g.id, limit: nil, afterLamport: nil) == events.sorted(by: EventOrder.precedes))
    }
}
