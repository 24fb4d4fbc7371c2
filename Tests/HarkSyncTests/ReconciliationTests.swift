import HarkTesting
import Foundation
import HarkCrypto
import HarkLog
import HarkSync
import HarkWireProto
import PropertyBased
import Testing

@Suite struct ReconciliationPropertyTests {
    /// Random histories on 2–4 replicas: each step writes at a random replica or syncs a random
    /// pair (with or without stored heads). Every sync must terminate with both sides complete,
    /// nothing waiting and identical graphs; a final sweep makes all replicas identical.
    @Test func randomHistoriesConverge() async {
        await propertyCheck(count: Int(ProcessInfo.processInfo.environment["HARK_SYNC_CASES"] ?? "") ?? 40, input: Gen.int(in: 0...Int(Int32.max)), Gen.int(in: 2...4), Gen.int(in: 5...40), Gen.bool) {
            seed, count, steps, stored in
            var rng = SeededRNG(seed: UInt64(seed))
            var net = try Net(replicas: count)
            net.saltBase = UInt64(seed)
            var writes = 0
            for _ in 0..<steps {
                if Int.random(in: 0..<3, using: &rng) < 2 {
                    writes += 1
                    try net.write(at: Int.random(in: 0..<count, using: &rng), extra: Int.random(in: 0...3, using: &rng), using: &rng)
                } else {
                    let i = Int.random(in: 0..<count, using: &rng)
                    let j = (i + Int.random(in: 1..<count, using: &rng)) % count
                    let s = try net.sync(i, j, useStoredHeads: stored)
                    try checkPair(net, i, j, s, seed: seed)
                }
            }
            // Sweep 0→1→…→n−1 then back: every replica ends with the union.
            let order = Array(0..<(count - 1)) + Array((0..<(count - 1)).reversed())
            for i in order {
                let s = try net.sync(i, i + 1, useStoredHeads: stored)
                try checkPair(net, i, i + 1, s, seed: seed)
            }
            let first = ids(net.replicas[0])
            #expect(first.count == 1 + writes, "seed \(seed)")   // every event written is everywhere
            for r in net.replicas {
                #expect(ids(r) == first, "seed \(seed)")
                #expect(r.graph.heads == net.replicas[0].graph.heads)
            }
            // Once converged, another sync sends no events and completes in one round trip.
            let again = try net.sync(0, count - 1, useStoredHeads: stored)
            #expect(again.eventsSent == 0, "seed \(seed)")
            #expect(again.roundTrips == 1)
        }
    }

    /// Two replicas share each author key, so the same (author, seq) is used twice: forks. The
    /// hash graph still converges (BEC holds regardless of equivocation) and the forks are seen.
    @Test func equivocatingAuthorsStillConverge() async {
        await propertyCheck(count: Int(ProcessInfo.processInfo.environment["HARK_SYNC_CASES"] ?? "") ?? 15,
                            input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var rng = SeededRNG(seed: UInt64(seed))
            var net = try Net(replicas: 4, authorOf: { $0 % 2 })
            net.saltBase = UInt64(seed)
            try net.write(at: 0, using: &rng)                   // author 0, seq 2, at two replicas:
            try net.write(at: 2, using: &rng)                   // a certain fork
            for _ in 0..<25 {
                if Int.random(in: 0..<4, using: &rng) < 3 {
                    try net.write(at: Int.random(in: 0..<4, using: &rng), using: &rng)
                } else {
                    let i = Int.random(in: 0..<4, using: &rng)
                    _ = try net.sync(i, (i + Int.random(in: 1..<4, using: &rng)) % 4)
                }
            }
            for (i, j) in [(0, 1), (1, 2), (2, 3), (2, 1), (1, 0)] {
                let s = try net.sync(i, j)
                try checkPair(net, i, j, s, seed: seed)
            }
            let first = ids(net.replicas[0])
            for r in net.replicas { #expect(ids(r) == first, "seed \(seed)") }
            #expect(net.replicas[0].graph.forks.count >= 1)
            #expect(net.replicas.allSatisfy { $0.graph.forks.count == net.replicas[0].graph.forks.count })
        }
    }

    func checkPair(_ net: Net, _ i: Int, _ j: Int, _ s: LoopbackStats, seed: Int) throws {
        #expect(!s.hitFrameCap, "seed \(seed)")
        #expect(isComplete(s.outcomeA) && isComplete(s.outcomeB), "seed \(seed): \(String(describing: s.outcomeA)) \(String(describing: s.outcomeB))")
        #expect(net.replicas[i].waiting.isEmpty && net.replicas[j].waiting.isEmpty, "seed \(seed)")
        #expect(ids(net.replicas[i]) == ids(net.replicas[j]), "seed \(seed)")
        #expect(s.roundTrips <= 4, "seed \(seed): \(s.roundTrips) round trips")
        // Stored heads are heads both sides hold.
        for h in net.replicas[i].storedHeads[net.replicas[j].name] ?? [] { #expect(net.replicas[i].graph.contains(h)) }
    }

    /// The BEC scenario: a shared prefix, then n concurrent events on each side.
    @Test func becScenario() async {
        await propertyCheck(count: Int(ProcessInfo.processInfo.environment["HARK_SYNC_CASES"] ?? "") ?? 10,
                            input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var rng = SeededRNG(seed: UInt64(seed))
            var net = try Net(replicas: 2)
            net.saltBase = UInt64(seed)
            for _ in 0..<30 { try net.write(at: Int.random(in: 0...1, using: &rng), using: &rng) }
            _ = try net.sync(0, 1)
            for _ in 0..<30 { try net.write(at: 0, extra: 1, using: &rng); try net.write(at: 1, extra: 1, using: &rng) }
            let s = try net.sync(0, 1)
            #expect(isComplete(s.outcomeA) && isComplete(s.outcomeB))
            #expect(ids(net.replicas[0]) == ids(net.replicas[1]))
            #expect(ids(net.replicas[0]).count == 1 + 30 + 60)
            #expect(s.eventsSent >= 60)                 // each side's 30 new events, at least
            #expect(s.eventsSent <= 60 + 8)             // only Needs answers may repeat a few
            #expect(s.overheadBytes < 1500, "overhead \(s.overheadBytes)")
        }
    }
}

@Suite struct ReconciliationAdversaryTests {
    static func diverged(seed: UInt64 = 1) throws -> Net {
        var rng = SeededRNG(seed: seed)
        var net = try Net(replicas: 2)
        for _ in 0..<20 { try net.write(at: Int.random(in: 0...1, using: &rng), using: &rng) }
        return net
    }

    static func allBits(_ value: UInt8) -> Hark_V1_BloomFilter {
        var p = Hark_V1_BloomFilter()
        p.salt = Data(repeating: 3, count: 16)
        p.bitCount = 1024
        p.hashCount = 7
        p.bits = Data(repeating: value, count: 128)
        return p
    }

    /// All ones: "I have everything". We send nothing from the filter; the liar still gets
    /// everything through Needs (it only delayed itself), and our side is unaffected.
    @Test func allOnesBloom() throws {
        var net = try Self.diverged()
        let before0 = ids(net.replicas[0])
        let s = try net.sync(0, 1, behaviourB: .bloom(Self.allBits(0xFF)))
        #expect(isComplete(s.outcomeA))
        #expect(ids(net.replicas[0]).isSuperset(of: before0))
        #expect(isComplete(s.outcomeB))                       // recovered via Needs, in more rounds
        #expect(s.roundsB >= 2)
        #expect(ids(net.replicas[0]) == ids(net.replicas[1]))
    }

    /// All zeros: "I have nothing since `since`". We send every candidate: more, never wrong.
    @Test func allZerosBloom() throws {
        var net = try Self.diverged()
        let s = try net.sync(0, 1, behaviourB: .bloom(Self.allBits(0)))
        #expect(isComplete(s.outcomeA) && isComplete(s.outcomeB))
        #expect(ids(net.replicas[0]) == ids(net.replicas[1]))
        #expect(s.roundsB == 1)
    }

    /// Any valid filter a peer sends (random bits, random size and probe count) only changes what
    /// we send it; with Needs it still ends up with everything, and we are never harmed.
    @Test func randomValidFiltersStillConverge() async {
        await propertyCheck(count: 30, input: Gen.int(in: 0...Int(Int32.max)), Gen.int(in: 1...2048), Gen.int(in: 1...16)) {
            seed, bitCount, hashCount in
            var rng = SeededRNG(seed: UInt64(seed))
            var net = try Self.diverged(seed: UInt64(seed))
            var p = Hark_V1_BloomFilter()
            p.salt = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
            p.bitCount = UInt32(bitCount)
            p.hashCount = UInt32(hashCount)
            var bits = (0..<(bitCount + 7) / 8).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if bitCount % 8 != 0 { bits[bits.count - 1] &= UInt8((1 << (bitCount % 8)) - 1) }
            p.bits = Data(bits)
            let before0 = ids(net.replicas[0])
            let s = try net.sync(0, 1, behaviourB: .bloom(p))
            #expect(!s.hitFrameCap)
            #expect(isComplete(s.outcomeA) && isComplete(s.outcomeB), "seed \(seed)")
            #expect(ids(net.replicas[0]).isSuperset(of: before0))
            #expect(ids(net.replicas[0]) == ids(net.replicas[1]), "seed \(seed)")
        }
    }

    /// A false positive at the root of the responder's new events: the rest arrive but wait; the
    /// requester finds the gap through them and fetches it with one Needs round.
    @Test func falsePositiveCostsOneExtraRoundTrip() throws {
        var rng = SeededRNG(seed: 9)
        var net = try Net(replicas: 2)
        for _ in 0..<5 { try net.write(at: 0, using: &rng) }
        _ = try net.sync(0, 1)
        let root = try net.write(at: 1, extra: 1, using: &rng)
        for _ in 0..<5 { try net.write(at: 1, extra: 1, using: &rng) }
        let a = net.replicas[0]
        var bloom = BloomFilter(a.graph.events(notReachableFrom: a.storedHeads["r1"] ?? []))
        bloom.insert(root.id)                                   // as if `root` tested positive
        let s = try net.sync(0, 1, behaviourA: .bloom(bloom.proto))
        #expect(isComplete(s.outcomeA) && isComplete(s.outcomeB))
        #expect(s.roundsA == 2)
        #expect(s.roundsB == 1)
        #expect(net.replicas[0].graph.contains(root.id))
        #expect(ids(net.replicas[0]) == ids(net.replicas[1]))
        #expect(s.eventsSent == 6)                              // 5 descendants, then root via Needs
    }

    @Test func malformedRequestsAreProtocolErrors() throws {
        let net = try Self.diverged()
        let graph = net.replicas[0].graph
        var peer = ReconciliationSession(group: net.group)
        let good = peer.start(graph: net.replicas[1].graph, storedHeads: [])
        func error(_ change: (inout Hark_V1_SyncRequest) -> Void) -> SyncError? {
            var r = good
            change(&r)
            var s = ReconciliationSession(group: net.group)
            do { _ = try s.answer(request: r, graph: graph); return nil } catch { return error }
        }
        #expect(error { _ in } == nil)
        #expect(error { $0.bloom.bits.removeLast() } == .badBloomFilter("\(good.bloom.bits.count - 1) bytes of bits for bit_count \(good.bloom.bitCount) (want \(good.bloom.bits.count))"))
        #expect(error { $0.bloom.bitCount = 0 } != nil)
        #expect(error { $0.bloom.hashCount = 99 } != nil)
        #expect(error { $0.clearBloom() } == .missingBloomFilter)
        #expect(error { $0.groupID = Data(repeating: 1, count: 32) } == .wrongGroup)
        #expect(error { $0.heads.append(Data(count: 31)) } == .badID(field: "heads", byteCount: 31))
        #expect(error { $0.since = Array(repeating: Data(count: 32), count: 1025) } == .tooMany(field: "since", count: 1025, limit: 1024))
        var needs = Hark_V1_Needs()
        needs.groupID = Data(net.group.bytes)
        needs.ids = Array(repeating: Data(count: 32), count: 1025)
        var s = ReconciliationSession(group: net.group)
        #expect(throws: SyncError.self) { _ = try s.answer(needs: needs, graph: graph) }
        var reply = Hark_V1_SyncReply()
        reply.groupID = Data(net.group.bytes)
        #expect(throws: SyncError.unexpectedReply) { _ = try s.receive(reply: reply, graph: graph) }
    }

    /// A peer that never answers: our sync just waits (the caller times out); nothing changes.
    @Test func silentPeer() throws {
        var net = try Self.diverged()
        let before1 = ids(net.replicas[1])
        let s = try net.sync(0, 1, behaviourB: .silent)
        #expect(s.outcomeA == nil)                             // still waiting, not complete
        #expect(net.replicas[0].storedHeads.isEmpty)
        #expect(isComplete(s.outcomeB))                        // we still answered the silent peer
        #expect(ids(net.replicas[1]).isSuperset(of: before1))
        #expect(!s.hitFrameCap)
    }

    /// A peer that claims heads it never supplies: our sync fails after asking once; nothing is
    /// stored, nothing loops.
    @Test func unresolvableHeads() throws {
        let net = try Self.diverged()
        let graph = net.replicas[0].graph
        var s = ReconciliationSession(group: net.group)
        _ = s.start(graph: graph, storedHeads: [])
        var reply = Hark_V1_SyncReply()
        reply.groupID = Data(net.group.bytes)
        reply.heads = [Data(repeating: 0xEE, count: 32), Data(graph.heads[0].bytes)]
        guard case let .needs(frames) = try s.receive(reply: reply, graph: graph) else { Issue.record("no needs"); return }
        #expect(frames.count == 1)
        #expect(frames[0].ids == [Data(repeating: 0xEE, count: 32)])
        #expect(frames[0].maxAncestors == ReconciliationLimits.initialMaxAncestors)
        // The peer answers with no events but the same claim.
        guard case .failed = try s.receive(reply: reply, graph: graph) else { Issue.record("did not fail"); return }
        #expect(s.phase != .complete)
        #expect(throws: SyncError.unexpectedReply) { _ = try s.receive(reply: reply, graph: graph) }
    }

    /// A peer that keeps inventing new heads: bounded by maxNeedsRounds.
    @Test func endlessNewHeadsAreBounded() throws {
        let net = try Self.diverged()
        let graph = net.replicas[0].graph
        var s = ReconciliationSession(group: net.group)
        _ = s.start(graph: graph, storedHeads: [])
        var rounds = 0
        var ended = false
        for i in 0..<1000 {
            var reply = Hark_V1_SyncReply()
            reply.groupID = Data(net.group.bytes)
            reply.heads = [Data(repeating: UInt8(i % 256), count: 31) + Data([UInt8(i / 256)])]
            switch try s.receive(reply: reply, graph: graph) {
            case .needs: rounds += 1
            case .failed: ended = true
            default: Issue.record("unexpected step")
            }
            if ended { break }
        }
        #expect(ended)
        #expect(rounds == ReconciliationLimits.maxNeedsRounds)
    }

    /// Lies in `since`: claiming to know our heads gets nothing (hurts only the liar); unknown
    /// `since` IDs are ignored (same answer as empty `since`).
    @Test func liesInSince() throws {
        let net = try Self.diverged()
        let ours = net.replicas[0].graph
        var peer = ReconciliationSession(group: net.group)
        var request = peer.start(graph: CausalGraph(), storedHeads: [])
        var s = ReconciliationSession(group: net.group)
        let honest = try s.answer(request: request, graph: ours).events
        #expect(honest == ours.allInOrder)                      // empty peer: everything
        request.since = ours.heads.map { Data($0.bytes) }
        #expect(try s.answer(request: request, graph: ours).events.isEmpty)
        request.since = [Data(repeating: 0x55, count: 32)]
        #expect(try s.answer(request: request, graph: ours).events == honest)
    }

    /// Needs: asked events plus up to max_ancestors nearest ancestors the asker lacks, in order.
    @Test func needsWithAncestors() throws {
        var rng = SeededRNG(seed: 5)
        var net = try Net(replicas: 1)
        var chain: [Event] = [net.genesis]
        for _ in 0..<50 { chain.append(try net.write(at: 0, extra: 0, using: &rng)) }   // linear
        let graph = net.replicas[0].graph
        var s = ReconciliationSession(group: net.group)
        var peer = ReconciliationSession(group: net.group)
        var peerGraph = CausalGraph()
        for e in chain.prefix(11) { try peerGraph.insert(e) }         // peer holds genesis…m10
        _ = try s.answer(request: peer.start(graph: peerGraph, storedHeads: []), graph: graph)
        var needs = Hark_V1_Needs()
        needs.groupID = Data(net.group.bytes)
        needs.ids = [Data(chain[50].id.bytes)]
        needs.maxAncestors = 5
        #expect(try s.answer(needs: needs, graph: graph).events == chain[45...50].map(\.id))
        needs.maxAncestors = 1000                                      // stops at what the peer holds
        #expect(try s.answer(needs: needs, graph: graph).events == chain[11...50].map(\.id))
        needs.ids.append(Data(repeating: 0x42, count: 32))            // unknown: ignored
        #expect(try s.answer(needs: needs, graph: graph).events.count == 40)
    }
}
