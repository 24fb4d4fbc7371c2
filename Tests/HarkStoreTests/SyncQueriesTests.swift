import Foundation
import HarkCrypto
import HarkLog
import HarkTesting
import Testing

@testable import HarkStore

/// Sync answers read from the store (`syncFrontier`, `nextSyncPage`, `nearestUnknownAncestors`)
/// select exactly what the in-memory graph selects (BEC Algorithm 2, PROTOCOL.md §6.3), on random
/// DAGs by three authors, for random known sets and Bloom negatives, in pages of random sizes.
@Suite struct SyncQueriesTests {
    @Test(arguments: 0..<12)
    func answersEqualTheGraphs(round: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let (_, g, events, _) = try RandomGraphStoreTests.randomGraph(events: 5...60, rng: &rng)
        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        try store.insert(batch: events, receivedMs: 0)   // built parents first
        var graph = CausalGraph()
        for e in events { try graph.insert(e) }

        let stranger = try Build.genesis()   // an ID the store does not hold is skipped
        let known = (0..<Int.random(in: 0...3, using: &rng)).map { _ in events.randomElement(using: &rng)!.id }
            + (Bool.random(using: &rng) ? [stranger.id] : [])
        let negatives = Set(events.map(\.id).filter { _ in Int.random(in: 0..<4, using: &rng) == 0 })
        let knownSet = graph.ancestorsOrSelf(of: known)
        let expected = graph.descendantsOrSelf(of: graph.allInOrder.filter { !knownSet.contains($0) && negatives.contains($0) })

        let frontier = try #require(try store.syncFrontier(group: g.id, knownBy: known))
        #expect(frontier.unknownCount == events.count - knownSet.count)
        var scan = try store.syncScan(frontier)
        var got: [EventID] = []
        var pages = 0
        while !scan.finished, pages < 1_000 {
            let page = try store.nextSyncPage(&scan, maxEvents: Int.random(in: 1...9, using: &rng),
                                              maxBytes: Int.random(in: 1...2_000, using: &rng), isNegative: negatives.contains)
            for e in page { #expect(try Event(decodingStored: [UInt8](e.signed)).id == e.id) }
            got += page.map(\.id)
            pages += 1
        }
        #expect(got == expected)

        // Every event the peer lacks, IDs only (a Bloom filter's input).
        var all = try store.syncScan(frontier)
        var unknown: [EventID] = []
        while !all.finished { unknown += try store.nextSyncPage(&all, withSigned: false) { _ in true }.map(\.id) }
        #expect(unknown == graph.allInOrder.filter { !knownSet.contains($0) })

        // Needs: the nearest ancestors the peer lacks, nearest (lamport, id) first, up to a limit.
        for e in events.shuffled(using: &rng).prefix(4) {
            let lacking = graph.ancestorsOrSelf(of: graph.parents(e.id)).subtracting(knownSet)
            let nearest = Array(graph.sortInOrder(Array(lacking)).reversed())
            let limit = Int.random(in: 0...12, using: &rng)
            #expect(try store.nearestUnknownAncestors(of: [e.id], limit: limit, frontier: frontier, skip: []) == Array(nearest.prefix(limit)))
        }
        #expect(try store.signedEvents(expected.shuffled(using: &rng)).map(\.id) == expected)
    }

    /// A group where an author forked has no frontier: the vectors cannot tell the branches apart.
    @Test func forkedAuthorHasNoFrontier() throws {
        let g = try Build.genesis()
        let a = try Build.message(Keys.bob, group: g, after: nil, parents: [g])
        let b = try Build.message(Keys.bob, group: g, after: nil, parents: [g])
        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        try store.insert(batch: [g, a], receivedMs: 0)
        #expect(try store.syncFrontier(group: g.id, knownBy: [a.id]) != nil)
        #expect(try store.holdsEvent(author: Keys.bob.publicKey, seq: b.seq, group: g.id))
        try store.insert(batch: [b], receivedMs: 0)
        #expect(try store.syncFrontier(group: g.id, knownBy: [a.id]) == nil)
    }

    /// `heldSeqs` finds exactly the seqs of an author that are stored, in a dense range (one
    /// index range) and in a sparse one (one seek each), and no other author's.
    @Test func heldSeqsAreTheStoredOnes() throws {
        let g = try Build.genesis()
        var chain: [Event] = []
        for _ in 0..<10 { chain.append(try Build.message(Keys.bob, group: g, after: chain.last, parents: chain.isEmpty ? [g] : [])) }
        let dir = try TempDir()
        let store = try Store(path: dir.dbPath)
        try store.insert(batch: [g] + chain.prefix(6), receivedMs: 0)
        let stored = Set(chain.prefix(6).map(\.seq))
        let dense = Set(chain.map(\.seq))
        #expect(try store.heldSeqs(author: Keys.bob.publicKey, dense, group: g.id) == stored)
        #expect(try store.heldSeqs(author: Keys.bob.publicKey, Set(chain.suffix(4).map(\.seq)), group: g.id).isEmpty)
        let sparse: Set<UInt64> = [chain[0].seq, chain[3].seq, 1_000, 5_000]
        #expect(try store.heldSeqs(author: Keys.bob.publicKey, sparse, group: g.id) == [chain[0].seq, chain[3].seq])
        #expect(try store.heldSeqs(author: g.author, dense, group: g.id) == Set([g.seq]).intersection(dense))   // the genesis only
        #expect(try store.heldSeqs(author: SigningKeyPair.generate().publicKey, dense, group: g.id).isEmpty)
        #expect(try store.heldSeqs(author: Keys.bob.publicKey, [], group: g.id).isEmpty)
    }
}
